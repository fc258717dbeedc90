"""Pre-solve diagnostics quote the numbers, and no solver runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import write_scenario
from territory_opt.errors import InfeasibleSpecificationError
from territory_opt.presolve import check_presolve, find_conflicts
from territory_opt.scenario import load_scenario
from territory_opt.solve import load_problem


def _big_account(folder: Path) -> Path:
    """Ten territories at ±5%; account A00 holds 30% of all potential.

    Potentials: A00 = 300, A01..A70 = 10 each: total 1,000, target 100 per
    territory, band [95, 105]. A00 alone is 300 > 105.
    """
    accounts = [
        {"account_id": "A00", "lat": 0, "lon": 0, "potential": 300, "workload_hours": 1}
    ]
    accounts += [
        {
            "account_id": f"A{i:02d}",
            "lat": 0,
            "lon": 0,
            "potential": 10,
            "workload_hours": 1,
        }
        for i in range(1, 71)
    ]
    territories = [{"territory_id": f"T{t:02d}", "lat": 0, "lon": 0} for t in range(10)]
    return write_scenario(
        folder, accounts, territories, balance={"potential": {"tolerance": 0.05}}
    )


def test_account_too_big_for_any_band(tmp_path: Path) -> None:
    """The message names the account, its share, the band maximum and the fix."""
    problem = load_problem(load_scenario(_big_account(tmp_path)))
    assert find_conflicts(problem) == [
        "account 'A00' alone holds 30.0% of all potential (300 of 1,000); the ±5% "
        "band allows at most 105 (10.5%) in any territory it may join. No band "
        "narrower than ±100% can hold it: use fewer territories or split the account"
    ]
    with pytest.raises(InfeasibleSpecificationError):
        check_presolve(problem)


def test_locked_accounts_over_capacity(tmp_path: Path) -> None:
    """Three accounts locked to a territory with room for two: named with hours."""
    accounts = [
        {"account_id": f"A{i}", "lat": 0, "lon": 0, "potential": 1, "workload_hours": 1}
        for i in range(1, 5)
    ]
    territories = [
        {"territory_id": "T1", "lat": 0, "lon": 0, "capacity_hours": 2},
        {"territory_id": "T2", "lat": 0, "lon": 0, "capacity_hours": 4},
    ]
    path = write_scenario(
        tmp_path,
        accounts,
        territories,
        constraints={
            "locks": [{"account": f"A{i}", "territory": "T1"} for i in (1, 2, 3)]
        },
    )
    conflicts = find_conflicts(load_problem(load_scenario(path)))
    assert conflicts == [
        "the accounts locked to territory 'T1' ('A1', 'A2', 'A3') need 3 workload "
        "hours, above its capacity of 2 hours"
    ]


def test_segment_without_territory(tmp_path: Path) -> None:
    """A segment no territory serves is named with its accounts."""
    accounts = [
        {
            "account_id": "A1",
            "lat": 0,
            "lon": 0,
            "potential": 1,
            "workload_hours": 1,
            "segment": "hospital",
        },
        {
            "account_id": "A2",
            "lat": 0,
            "lon": 0,
            "potential": 1,
            "workload_hours": 1,
            "segment": "clinic",
        },
    ]
    territories = [{"territory_id": "T1", "lat": 0, "lon": 0, "segments": "clinic"}]
    path = write_scenario(tmp_path, accounts, territories)
    assert find_conflicts(load_problem(load_scenario(path))) == [
        "segment 'hospital' has no eligible territory: 1 account(s) ('A1') cannot be "
        "assigned; add 'hospital' to the segments of at least one territory"
    ]


def test_total_workload_above_capacity(tmp_path: Path) -> None:
    """Workload 10 h against 6 h of capacity in all is reported with both sums."""
    accounts = [
        {"account_id": f"A{i}", "lat": 0, "lon": 0, "potential": 1, "workload_hours": 2}
        for i in range(5)
    ]
    territories = [
        {"territory_id": t, "lat": 0, "lon": 0, "capacity_hours": 3}
        for t in ("T1", "T2")
    ]
    path = write_scenario(tmp_path, accounts, territories)
    assert find_conflicts(load_problem(load_scenario(path))) == [
        "the accounts need 10 workload hours in all, above the territories' total "
        "capacity of 6 hours"
    ]


def test_locks_force_more_moves_than_the_budget(tmp_path: Path) -> None:
    """Two locks away from the current territory break a 25% move budget."""
    accounts = [
        {
            "account_id": f"A{i}",
            "lat": 0,
            "lon": 0,
            "potential": 1,
            "workload_hours": 1,
            "current_territory": "T1",
        }
        for i in range(4)
    ]
    territories = [{"territory_id": t, "lat": 0, "lon": 0} for t in ("T1", "T2")]
    path = write_scenario(
        tmp_path,
        accounts,
        territories,
        constraints={
            "locks": [
                {"account": "A0", "territory": "T2"},
                {"account": "A1", "territory": "T2"},
            ],
            "max_disruption": {"accounts_share": 0.25},
        },
    )
    assert find_conflicts(load_problem(load_scenario(path))) == [
        "locks and eligibility force 50.0% of accounts to move ('A0', 'A1'), above the "
        "max_disruption accounts_share of 25.0%"
    ]
