"""Postal-code range rules: ZIP text, ZIP+4, lost zeros and foreign codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_scenario
from territory_opt.errors import InputError
from territory_opt.postal import in_zip_range, zip5
from territory_opt.scenario import load_scenario
from territory_opt.solve import load_problem

CODES = ["9", "1500", "10001", "19999-1234", "2000", "K1A 0B1"]


def test_range_matches_exactly_the_two_codes_inside() -> None:
    """10000-19999 over 9, 1500, 10001, 19999-1234, 2000, K1A 0B1: 10001 and
    19999-1234 only (9, 1500 and 2000 are 00009, 01500 and 02000)."""
    assert in_zip_range(CODES, "10000", "19999").tolist() == [
        False,
        False,
        True,
        True,
        False,
        False,
    ]
    assert [zip5(c) for c in CODES] == [
        "00009",
        "01500",
        "10001",
        "19999",
        "02000",
        None,
    ]


def _scenario(folder: Path, rules: list[dict[str, object]]) -> Path:
    accounts = [
        {
            "account_id": f"A{i}",
            "postal_code": code,
            "lat": 40,
            "lon": -75,
            "potential": 1,
            "workload_hours": 1,
        }
        for i, code in enumerate(CODES)
    ]
    territories = [{"territory_id": t, "lat": 40, "lon": -75} for t in ("T1", "T2")]
    return write_scenario(
        folder, accounts, territories, constraints={"postal_rules": rules}
    )


def test_postal_rule_locks_the_matching_accounts(tmp_path: Path) -> None:
    """The rule sends the accounts with 10001 and 19999-1234 (A2, A3) to T2."""
    path = _scenario(
        tmp_path, [{"from_code": 10000, "to_code": "19999", "territory": "T2"}]
    )
    problem = load_problem(load_scenario(path))
    locked = {
        problem.account_ids[a]: problem.territory_ids[t]
        for a, t in problem.locks.items()
    }
    assert locked == {"A2": "T2", "A3": "T2"}


def test_postal_rule_with_a_bad_bound_is_refused(tmp_path: Path) -> None:
    """A bound that is not a five-digit ZIP is named in the scenario error."""
    path = _scenario(
        tmp_path, [{"from_code": "1OOOO", "to_code": "19999", "territory": "T2"}]
    )
    with pytest.raises(InputError, match="'1OOOO' is not a five-digit ZIP code"):
        load_scenario(path)


def test_overlapping_postal_rules_are_refused(tmp_path: Path) -> None:
    """Two rules that send 10001 to different territories name the account."""
    path = _scenario(
        tmp_path,
        [
            {"from_code": "10000", "to_code": "19999", "territory": "T2"},
            {"from_code": "10001", "to_code": "10001", "territory": "T1"},
        ],
    )
    with pytest.raises(InputError) as caught:
        load_problem(load_scenario(path))
    assert str(caught.value) == (
        "constraints.postal_rules (10001-10001): account 'A2' (postal code "
        "'10001') is also locked to another territory; remove one of the two rules"
    )
