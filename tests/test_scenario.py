"""Scenario YAML: strict keys, resolved paths, JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from territory_opt.errors import InputError
from territory_opt.scenario import load_scenario, scenario_json_schema


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def test_unknown_key_lists_valid_keys(tmp_path: Path) -> None:
    """A misspelt key is named with every valid key of its section."""
    path = _write(
        tmp_path,
        "name: x\naccounts: {path: a.csv}\nterritories: {path: t.csv}\n"
        "solver: {engin: cpsat}\n",
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert (
        "solver: unknown key(s) engin; valid keys are: cross_check, engine, "
        "relative_gap, seed, threads, time_limit_s" in str(caught.value)
    )


def test_missing_required_section(tmp_path: Path) -> None:
    """A scenario without territories names the missing key."""
    path = _write(tmp_path, "name: x\naccounts: {path: a.csv}\n")
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert "territories: this key is required" in str(caught.value)


def test_tolerance_out_of_range(tmp_path: Path) -> None:
    """A tolerance of 5 (meant as 5%) is refused with its key path."""
    path = _write(
        tmp_path,
        "name: x\naccounts: {path: a.csv}\nterritories: {path: t.csv}\n"
        "balance: {potential: {tolerance: 5}}\n",
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert "balance.potential.tolerance: Input should be less than 1" in str(
        caught.value
    )


def test_paths_resolve_against_the_yaml_folder(tmp_path: Path) -> None:
    """Relative table paths and the output folder are relative to the YAML file."""
    sub = tmp_path / "deep"
    sub.mkdir()
    path = sub / "s.yaml"
    path.write_text(
        "name: x\naccounts: {path: data/a.csv}\nterritories: {path: t.csv}\n"
        "output: {folder: out}\n"
    )
    scenario = load_scenario(path)
    assert scenario.accounts.path == (sub / "data" / "a.csv").resolve()
    assert scenario.output_folder() == (sub / "out").resolve()


def test_numeric_lock_ids_must_be_quoted(tmp_path: Path) -> None:
    """A lock written as a bare number would lose leading zeros: it is refused."""
    path = _write(
        tmp_path,
        "name: x\naccounts: {path: a.csv}\nterritories: {path: t.csv}\n"
        "constraints: {locks: [{account: 2142, territory: T1}]}\n",
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert "id 2142 was read as a number; quote it in the YAML" in str(caught.value)


SKELETON = "name: x\naccounts: {path: a.csv}\nterritories: {path: t.csv}\n"


def test_octal_looking_lock_id_names_field_and_value_as_read(tmp_path: Path) -> None:
    """Unquoted 01234 is octal 668 to YAML: the hint quotes both and the fix."""
    path = _write(
        tmp_path,
        SKELETON + "constraints: {locks: [{account: 01234, territory: T1}]}\n",
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert str(caught.value) == (
        f"{path}: the scenario is not valid (1 problem(s))\n"
        "  - constraints.locks.0.account: 01234 was read by YAML as the octal number "
        "668 (an unquoted number with a leading zero), not as the id '01234'; "
        "quote it in the YAML: '01234'"
    )


def test_octal_looking_postal_rule_codes_name_field_and_value(tmp_path: Path) -> None:
    """from_code 02000 (octal 1024) and territory 07 (octal 7) are each named;
    the bare to_code 19999 has no leading zero and is taken as written."""
    path = _write(
        tmp_path,
        SKELETON + "constraints:\n  postal_rules:\n"
        "    - {from_code: 02000, to_code: 19999, territory: 07}\n",
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert str(caught.value) == (
        f"{path}: the scenario is not valid (2 problem(s))\n"
        "  - constraints.postal_rules.0.from_code: 02000 was read by YAML as the "
        "octal number 1024 (an unquoted number with a leading zero), not as the id "
        "'02000'; quote it in the YAML: '02000'\n"
        "  - constraints.postal_rules.0.territory: 07 was read by YAML as the octal "
        "number 7 (an unquoted number with a leading zero), not as the id '07'; "
        "quote it in the YAML: '07'"
    )


def test_quoted_leading_zero_ids_are_kept(tmp_path: Path) -> None:
    """Quoted, '01234' and '02000' stay text with their zeros."""
    path = _write(
        tmp_path,
        SKELETON + "constraints:\n  locks: [{account: '01234', territory: T1}]\n"
        "  postal_rules: [{from_code: '02000', to_code: '02999', territory: '07'}]\n",
    )
    constraints = load_scenario(path).constraints
    assert constraints.locks[0].account == "01234"
    rule = constraints.postal_rules[0]
    assert (rule.from_code, rule.to_code, rule.territory) == ("02000", "02999", "07")


def test_octal_looking_number_elsewhere_keeps_its_value(tmp_path: Path) -> None:
    """A leading-zero number outside an id field (seed 010) is YAML's 8, as before."""
    path = _write(tmp_path, SKELETON + "solver: {seed: 010}\n")
    assert load_scenario(path).solver.seed == 8


def test_json_schema_describes_every_section() -> None:
    """The exported schema is JSON and lists the top-level sections."""
    schema = json.loads(scenario_json_schema())
    assert set(schema["properties"]) == {
        "name",
        "description",
        "accounts",
        "territories",
        "balance",
        "objective",
        "constraints",
        "geography",
        "hierarchy",
        "quota",
        "forecast",
        "solver",
        "output",
    }
    assert schema["$defs"]["SolverSpec"]["additionalProperties"] is False


def test_balance_metric_with_two_tolerances_is_refused(tmp_path: Path) -> None:
    """A metric listed twice under balance, ±5% and ±10%, names both and lines."""
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: twice\n"
        "accounts: {path: accounts.csv}\n"
        "territories: {path: territories.csv}\n"
        "balance:\n"
        "  potential: {tolerance: 0.05}\n"
        "  potential: {tolerance: 0.10}\n"
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert str(caught.value).endswith(
        "1 key(s) given more than once; YAML would keep only the last, so keep the "
        "one you mean:\n"
        "  - balance.potential is given 2 times (lines 5 and 6), with tolerance "
        "0.05 and tolerance 0.10"
    )


def test_tolerance_given_twice_in_one_metric_is_refused(tmp_path: Path) -> None:
    """Two tolerance keys inside one metric are named with their path."""
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: twice\n"
        "accounts: {path: accounts.csv}\n"
        "territories: {path: territories.csv}\n"
        "balance:\n"
        "  workload_hours:\n"
        "    tolerance: 0.03\n"
        "    tolerance: 0.04\n"
    )
    with pytest.raises(
        InputError,
        match=r"balance\.workload_hours\.tolerance is "
        r"given 2 times \(lines 6 and 7\), with 0\.03 and 0\.04",
    ):
        load_scenario(path)
