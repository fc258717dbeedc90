"""Tests of territory_opt.quota.run.joint_design: the territory-quota loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from territory_opt.errors import InfeasibleSpecificationError, InputError
from territory_opt.quota.run import joint_design
from territory_opt.quota.spec import load_quota_section


def _resolver(calls: list[float], infeasible_below: float = 0.0):
    """Territories whose prior sales drift from potential by ±tolerance.

    Quotas follow potential (1 M each), expected sales follow prior sales, so reps
    expect 1 ± tolerance of quota: at 0.10 the chances are 0.6489 and 0.2640
    (spread 0.385); at 0.05 about 0.559 and 0.360 (spread 0.199).
    """

    def resolve(tolerance: float) -> pd.DataFrame | None:
        calls.append(tolerance)
        if tolerance < infeasible_below:
            return None
        drift = np.array([1, -1, 1, -1]) * tolerance
        return pd.DataFrame(
            {
                "territory_id": ["A", "B", "C", "D"],
                "rep_id": ["RA", "RB", "RC", "RD"],
                "potential": [1e6] * 4,
                "prior_sales": 1e6 * (1 + drift),
            }
        )

    return resolve


def _joint_section(limit: float):
    return load_quota_section(
        {
            "fiscal_year": 2026,
            "random_seed": 3,
            "plan": {"company_target": 4e6},
            "simulation": {
                "draws": 20_000,
                "expected_sales_source": "prior_sales_growth",
            },
            "fairness": {"max_p_attain_spread": limit},
        }
    )


def test_joint_design_stops_when_fair() -> None:
    """Limit 0.25: 0.10 fails (spread 0.385), 0.05 passes (about 0.199)."""
    calls: list[float] = []
    design = joint_design(_resolver(calls), _joint_section(0.25))

    assert design.stop_reason == "passed"
    assert calls == [0.10, 0.05]
    assert [h.status for h in design.history] == ["failed", "passed"]
    assert design.history[0].p_attain_spread == pytest.approx(0.385, abs=0.02)
    assert design.best is design.history[1]


def test_joint_design_uses_the_neighbours_resolve_returns() -> None:
    """Vacant B's 1 M goes to its neighbour D, as the re-solved alignment says,
    not to the whole district: quotas [1, 0, 1, 2] M and no fall-back warning."""
    table = pd.DataFrame(
        {
            "territory_id": ["A", "B", "C", "D"],
            "rep_id": ["RA", None, "RC", "RD"],
            "potential": [1e6] * 4,
            "prior_sales": [1e6] * 4,
        }
    )
    section = load_quota_section(
        {
            "fiscal_year": 2026,
            "plan": {"company_target": 4e6},
            "vacancy": {"policy": "redistribute", "redistribute_to": "neighbors"},
            "simulation": {"draws": 200, "expected_sales_source": "prior_sales_growth"},
            "fairness": {"max_p_attain_spread": 1.0},
        }
    )
    design = joint_design(lambda _: (table, {"B": ["D"]}), section)

    outcome = design.history[0].outcome
    assert outcome is not None
    assert outcome.quotas["quota_full"].tolist() == [1e6, 0.0, 1e6, 2e6]
    assert not any("no adjacency was given" in w for w in outcome.warnings)


def test_joint_design_stops_at_the_floor() -> None:
    """Limit 0.15 with floor 0.05: both bands fail and the loop stops at the floor."""
    calls: list[float] = []
    design = joint_design(_resolver(calls), _joint_section(0.15), min_tolerance=0.05)
    assert design.stop_reason == "floor_reached"
    assert calls == [0.10, 0.05]


def test_joint_design_clamps_to_the_floor() -> None:
    """Halving 0.10 → 0.05 → 0.025 is clamped to the floor 0.04."""
    calls: list[float] = []
    design = joint_design(_resolver(calls), _joint_section(0.01), min_tolerance=0.04)
    assert calls == [0.10, 0.05, 0.04]
    assert design.stop_reason == "floor_reached"


def test_joint_design_stops_when_infeasible() -> None:
    """No alignment below 0.08: the second call ends the loop; the best feasible
    iteration is the first."""
    calls: list[float] = []
    design = joint_design(_resolver(calls, infeasible_below=0.08), _joint_section(0.25))

    assert design.stop_reason == "infeasible"
    assert [h.status for h in design.history] == ["failed", "infeasible"]
    assert design.best is design.history[0]


def test_joint_design_treats_infeasible_error_as_stop() -> None:
    """An InfeasibleSpecificationError from the territory model stops the loop."""

    def resolve(tolerance: float) -> pd.DataFrame:
        raise InfeasibleSpecificationError("band too tight for account A-17")

    design = joint_design(resolve, _joint_section(0.25))
    assert design.stop_reason == "infeasible"
    assert design.history[0].message == "band too tight for account A-17"
    assert design.best is None


def test_joint_design_propagates_bugs() -> None:
    """Any other exception from resolve is a bug and is not swallowed."""

    def resolve(tolerance: float) -> pd.DataFrame:
        raise KeyError("territory_id")

    with pytest.raises(KeyError):
        joint_design(resolve, _joint_section(0.25))


def test_joint_design_iteration_limit() -> None:
    """max_iterations 1 stops after one failing call."""
    calls: list[float] = []
    design = joint_design(_resolver(calls), _joint_section(0.01), max_iterations=1)
    assert design.stop_reason == "max_iterations" and calls == [0.10]


def test_joint_design_needs_simulation() -> None:
    """Without a simulation there is no spread to check."""
    section = load_quota_section(
        {"fiscal_year": 2026, "plan": {"company_target": 1e6}, "simulation": None}
    )
    with pytest.raises(InputError, match="quota.simulation is null"):
        joint_design(_resolver([]), section)


def test_joint_design_checks_its_settings() -> None:
    """A shrink factor of 1 would never tighten the band."""
    with pytest.raises(InputError, match="0 < shrink < 1"):
        joint_design(_resolver([]), _joint_section(0.2), shrink=1.0)
