"""Tests of territory_opt.quota.spec: the quota section and its error messages."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from territory_opt.errors import InputError
from territory_opt.quota.spec import FLAT_SEASONALITY, QuotaSection, load_quota_section

DOCS = Path(__file__).resolve().parents[2] / "docs" / "quota.md"


def _documented_block() -> dict[str, Any]:
    """The first YAML block of docs/quota.md, under its ``quota:`` key."""
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    return yaml.safe_load(block)["quota"]


def _minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"fiscal_year": 2026, "plan": {"company_target": 1e6}}
    data.update(changes)
    return data


def _message(data: dict[str, Any]) -> str:
    with pytest.raises(InputError) as caught:
        load_quota_section(data)
    return str(caught.value)


def test_documented_example_validates() -> None:
    """The example block of docs/quota.md loads with its values."""
    section = load_quota_section(_documented_block())

    assert section.method == "blended"
    assert section.plan.over_assignment.factors() == (1.05, 1.0, 1.05)
    assert section.vacancy.expected_fill_date == date(2026, 4, 1)
    assert section.rep("TBH-T07") is not None and section.rep("TBH-T07").is_tbh
    assert section.comp_plan("AE_steps").curve.semantics == "retroactive"
    assert section.capacity is not None
    assert section.capacity.full_rep_capacity() == pytest.approx(561_000.0)


def test_defaults_of_a_minimal_section() -> None:
    """Only fiscal_year and the plan target are required; the rest defaults."""
    section = load_quota_section(_minimal())

    assert section.method == "potential"
    assert section.plan.seasonality == FLAT_SEASONALITY
    assert section.ramp.schedule == (1.0,)
    assert section.vacancy.policy == "tbh_with_ramp"
    assert section.simulation is not None and section.simulation.draws == 10_000
    assert section.fairness.max_abs_correlation == 0.2
    assert section.random_seed == 0


def test_simulation_can_be_switched_off() -> None:
    """simulation: null leaves the Monte Carlo out."""
    assert load_quota_section(_minimal(simulation=None)).simulation is None


def test_section_is_frozen() -> None:
    """A loaded section cannot be changed in place."""
    section = load_quota_section(_minimal())
    with pytest.raises(ValueError):
        section.method = "even"  # type: ignore[misc]


def test_json_schema_is_exported() -> None:
    """The section has a JSON Schema for editors, naming the method choices."""
    schema = json.dumps(QuotaSection.model_json_schema())
    assert "equal_probability" in schema and "blend_weights" in schema


def test_unknown_key_lists_valid_keys() -> None:
    """A misspelt key is reported with its path and every valid key."""
    message = _message(_minimal(yoy_change={"bais": "prior_sales"}))
    assert (
        "quota.yoy_change: unknown key(s) bais; valid keys are: basis, max, min"
        in message
    )


def test_missing_target_is_named() -> None:
    """A plan without company_target names the key path."""
    message = _message({"fiscal_year": 2026, "plan": {}})
    assert "quota.plan.company_target: this key is required" in message


@pytest.mark.parametrize(
    ("seasonality", "expected"),
    [
        (
            [1 / 11] * 11,
            "seasonality needs 12 monthly shares, one per fiscal month; got 11",
        ),
        (
            [0.08] * 12,
            "seasonality must sum to 1 within 1e-9; got 0.96. Divide each "
            "value by their sum",
        ),
        (
            [-0.1, 0.2] + [0.09] * 10,
            "seasonality shares must be 0 or more; month 1 is -0.1",
        ),
    ],
    ids=["eleven", "sum", "negative"],
)
def test_bad_seasonality(seasonality: list[float], expected: str) -> None:
    """Seasonality needs twelve shares of 0 or more summing to 1."""
    plan = {"company_target": 1e6, "seasonality": seasonality}
    assert expected in _message(_minimal(plan=plan))


def test_seasonality_within_tolerance_passes() -> None:
    """A sum off by less than 1e-9 is accepted."""
    shares = [1 / 12] * 11 + [1 / 12 + 5e-10]
    plan = {"company_target": 1e6, "seasonality": shares}
    assert load_quota_section(_minimal(plan=plan)).plan.seasonality[-1] > 1 / 12


def test_decreasing_curve_x_is_rejected() -> None:
    """Curve points out of attainment order name the point and the fix."""
    curve = {"points": [[0, 0], [0.5, 0.25], [0.4, 0.3], [1, 1]]}
    message = _message(_minimal(comp_plans=[{"id": "AE", "curve": curve}]))
    assert (
        "curve x values must not decrease; point 3 has x = 0.4 after x = 0.5. List "
        "the points in increasing order of attainment" in message
    )
    assert "quota.comp_plans.0.curve" in message


def test_falling_payout_is_rejected() -> None:
    """A curve whose payout falls as attainment rises is not a valid plan."""
    curve = {"points": [[0, 0], [1, 1], [1.5, 0.9]]}
    message = _message(_minimal(comp_plans=[{"id": "AE", "curve": curve}]))
    assert "curve payout must not fall as attainment rises; point 3" in message


def test_tiers_must_increase() -> None:
    """Retroactive tier minimums must rise strictly."""
    curve = {"semantics": "retroactive", "tiers": [[0, 0], [1, 1], [1, 1.2]]}
    message = _message(_minimal(comp_plans=[{"id": "X", "curve": curve}]))
    assert "tier minimums must increase; tier 3 starts at 1 after 1" in message


def test_marginal_curve_rejects_tiers() -> None:
    """Tiers on a marginal curve point to the semantics key."""
    curve = {"points": [[0, 0], [1, 1]], "tiers": [[0, 1]]}
    message = _message(_minimal(comp_plans=[{"id": "X", "curve": curve}]))
    assert "tiers belong to a retroactive curve" in message


def test_blend_weights_all_zero() -> None:
    """A blended method needs one positive weight."""
    message = _message(_minimal(method="blended"))
    assert (
        "blend_weights are all zero; give at least one of potential, historical, "
        "pipeline, even, capacity a positive weight" in message
    )


def test_yoy_min_above_max() -> None:
    """yoy_change min above max says which is which."""
    message = _message(_minimal(yoy_change={"min": 0.3, "max": 0.25}))
    assert (
        "quota.yoy_change: yoy_change min (0.3) is above max (0.25); swap them or "
        "widen the range" in message
    )


def test_absolute_bounds_order() -> None:
    """absolute_bounds min above max is rejected."""
    message = _message(_minimal(absolute_bounds={"min": 5e5, "max": 1e5}))
    assert "absolute_bounds min (500000) is above max (100000)" in message


def test_numeric_rep_id_is_rejected() -> None:
    """A rep id read as a number would lose its leading zeros."""
    message = _message(_minimal(reps=[{"id": 17}]))
    assert "id 17 was read as a number; quote it in the YAML" in message


def test_unknown_comp_plan_reference() -> None:
    """A rep pointing at an undeclared plan names both and the known plans."""
    reps = [{"id": "R01", "ote": 1e5, "base": 5e4, "comp_plan": "AE2"}]
    plans = [{"id": "AE", "curve": {"points": [[0, 0], [1, 1]]}}]
    message = _message(_minimal(reps=reps, comp_plans=plans))
    assert (
        "reps refer to comp plans that do not exist (R01 -> AE2); known comp plans: "
        "AE" in message
    )


def test_repeated_rep_ids() -> None:
    """Rep ids must be unique."""
    message = _message(_minimal(reps=[{"id": "R1"}, {"id": "R1"}]))
    assert "reps ids must be unique; repeated: R1" in message


def test_base_above_ote() -> None:
    """A base above OTE would make the target incentive negative."""
    message = _message(_minimal(reps=[{"id": "R1", "ote": 1e5, "base": 2e5}]))
    assert "rep R1: base 200000 is above ote 100000" in message


def test_end_before_start() -> None:
    """A rep cannot leave before joining."""
    rep = {"id": "R1", "start_date": "2026-05-01", "end_date": "2026-04-01"}
    assert "end_date 2026-04-01 is before start_date 2026-05-01" in _message(
        _minimal(reps=[rep])
    )


def test_quarter_weights_must_sum_to_one() -> None:
    """Quarter weights are shares of TI."""
    plan = {
        "id": "Q",
        "period": "quarterly",
        "quarter_weights": [0.3, 0.3, 0.3, 0.3],
        "curve": {"points": [[0, 0], [1, 1]]},
    }
    assert "four values of 0 or more summing to 1" in _message(
        _minimal(comp_plans=[plan])
    )


def test_deal_level_model_explains_itself() -> None:
    """The deal-level model is refused with the reason and the alternative."""
    message = _message(_minimal(simulation={"model": "deal_level"}))
    assert "model deal_level needs opportunity-level data" in message
    assert "use model: lognormal" in message


def test_unknown_method_lists_choices() -> None:
    """A method outside the list is reported by pydantic with the choices."""
    message = _message(_minimal(method="quota_by_vibes"))
    assert "quota.method" in message and "equal_probability" in message


def test_octal_looking_rep_id_names_the_value_as_read(tmp_path: Path) -> None:
    """A rep id 0042 unquoted is octal 34: the scenario error quotes both."""
    from territory_opt.scenario import load_scenario

    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: x\naccounts: {path: a.csv}\nterritories: {path: t.csv}\n"
        "quota:\n  fiscal_year: 2026\n  plan: {company_target: 1000000}\n"
        "  reps: [{id: 0042}]\n"
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert (
        "quota.reps.0.id: 0042 was read by YAML as the octal number 34 (an unquoted "
        "number with a leading zero), not as the id '0042'; quote it in the YAML: "
        "'0042'" in str(caught.value)
    )
