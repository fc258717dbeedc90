"""Hand-checked optima: every engine must reach them and the checker must agree."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from conftest import ENGINES, write_scenario
from territory_opt.checker import check_alignment
from territory_opt.geo import EARTH_RADIUS_KM
from territory_opt.result import Status
from territory_opt.scenario import load_scenario
from territory_opt.solve import solve_scenario

KM_PER_DEGREE = EARTH_RADIUS_KM * np.pi / 180.0


def _solve(path: Path, engine: str):
    scenario = load_scenario(path).with_overrides(engine=engine, time_limit_s=60)
    return solve_scenario(scenario)


def _verified(run) -> None:
    index = run.problem.territory_index()
    territory_of = np.array([index[t] for t in run.result.assignment])
    assert check_alignment(run.problem, territory_of) == []
    assert run.result.violations == ()


def _ten_potentials(folder: Path) -> Path:
    accounts = [
        {
            "account_id": f"A{i:02d}",
            "lat": 0.0,
            "lon": 0.0,
            "potential": i,
            "workload_hours": 1,
        }
        for i in range(1, 11)
    ]
    territories = [{"territory_id": t, "lat": 0.0, "lon": 0.0} for t in ("T1", "T2")]
    return write_scenario(
        folder,
        accounts,
        territories,
        balance={"potential": {"tolerance": 0.05, "weight": 1.0}},
        objective={"balance": 1.0},
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_ten_potentials_split_27_28(tmp_path: Path, engine: str) -> None:
    """Potentials 1..10 in two territories: best split is 27/28, objective 1/55.

    Total 55, target 27.5 each, band ±5% = [26.125, 28.875]. No subset sums to
    27.5, so the best is 27 and 28, each 0.5 off: mean relative deviation
    (0.5/27.5 + 0.5/27.5) / 2 = 1/55.
    """
    run = _solve(_ten_potentials(tmp_path), engine)
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(1 / 55, rel=1e-9)
    loads = {}
    for account, territory in run.result.alignment().items():
        loads[territory] = loads.get(territory, 0) + int(account[1:])
    assert sorted(loads.values()) == [27, 28]
    _verified(run)


def _capacity_trio(folder: Path) -> Path:
    accounts = [
        {
            "account_id": "A1",
            "lat": 0,
            "lon": 0,
            "potential": 0.5,
            "workload_hours": 1.5,
        },
        {
            "account_id": "A2",
            "lat": 0,
            "lon": 0,
            "potential": 0.25,
            "workload_hours": 2.25,
        },
        {
            "account_id": "A3",
            "lat": 0,
            "lon": 0,
            "potential": 0.125,
            "workload_hours": 0.75,
        },
    ]
    territories = [
        {"territory_id": t, "lat": 0, "lon": 0, "capacity_hours": 3.0}
        for t in ("T1", "T2")
    ]
    return write_scenario(
        folder,
        accounts,
        territories,
        balance={"potential": {"tolerance": 0.99, "weight": 1.0}},
        objective={"balance": 1.0},
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_capacity_exactly_three_hours(tmp_path: Path, engine: str) -> None:
    """Workloads 1.5, 2.25, 0.75 h under 3.0 h capacity: {A1} | {A2, A3}, objective 1/7.

    Splits within capacity: {A1}|{A2,A3} (1.5 h | 3.0 h, the limit exactly) and
    {A2}|{A1,A3} (2.25 | 2.25). Potentials 0.5 | 0.375 deviate 0.0625 from the
    target 0.4375, a relative 1/7; the other split deviates 3/7.
    """
    run = _solve(_capacity_trio(tmp_path), engine)
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(1 / 7, rel=1e-9)
    alignment = run.result.alignment()
    assert alignment["A2"] == alignment["A3"] != alignment["A1"]
    _verified(run)


def _family_lock_segment(folder: Path) -> Path:
    potentials = {"A1": 4, "A2": 3, "A3": 3, "A4": 2, "A5": 2, "A6": 2}
    accounts = [
        {
            "account_id": a,
            "lat": 0,
            "lon": 0,
            "potential": p,
            "workload_hours": 1,
            "current_territory": "T2" if a == "A6" else "T1",
            "segment": "metro" if a == "A4" else "community",
            "family_id": "F1" if a in ("A2", "A3") else "",
        }
        for a, p in potentials.items()
    ]
    territories = [
        {"territory_id": "T1", "lat": 0, "lon": 0, "segments": "metro;community"},
        {"territory_id": "T2", "lat": 0, "lon": 0, "segments": "community"},
    ]
    return write_scenario(
        folder,
        accounts,
        territories,
        balance={"potential": {"tolerance": 0.3, "weight": 0.0}},
        objective={"disruption": 1.0, "balance": 0.0},
        constraints={"locks": [{"account": "A1", "territory": "T1"}]},
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_family_moves_together_around_lock_and_segment(
    tmp_path: Path, engine: str
) -> None:
    """Fewest moves that bring T2 into its band: the family {A2, A3}, objective 2/6.

        account  A1  A2  A3  A4  A5  A6      target 8 each, band ±30% = [5.6, 10.4]
        potential 4   3   3   2   2   2      now T1 = 14, T2 = 2 (A6 only)
        rule     lock  family   metro        T2 serves community only

    T2 needs 3.6 more. A1 is locked, A4 is metro, A5 alone gives 2: the family
    (6) is the only two-account move; it leaves 8 | 8. Moved share 2/6.
    """
    run = _solve(_family_lock_segment(tmp_path), engine)
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(2 / 6, rel=1e-9)
    alignment = run.result.alignment()
    assert alignment == {
        "A1": "T1",
        "A2": "T2",
        "A3": "T2",
        "A4": "T1",
        "A5": "T1",
        "A6": "T2",
    }
    _verified(run)


def _line_budget(folder: Path, budget: float | None) -> Path:
    accounts = [
        {
            "account_id": f"A{i + 1}",
            "lat": 0.0,
            "lon": float(i),
            "potential": 1,
            "workload_hours": 1,
            "current_territory": "T1",
        }
        for i in range(4)
    ]
    territories = [
        {"territory_id": "T1", "lat": 0.0, "lon": 0.0},
        {"territory_id": "T2", "lat": 0.0, "lon": 3.0},
    ]
    constraints = {}
    if budget is not None:
        constraints = {"max_disruption": {"accounts_share": budget}}
    return write_scenario(
        folder,
        accounts,
        territories,
        balance={"accounts": {"tolerance": 0.5, "weight": 0.0}},
        objective={"travel": 1.0, "balance": 0.0},
        constraints=constraints,
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("budget", "expected_degrees", "moved"),
    [(0.25, 3.0, {"A4"}), (None, 2.0, {"A3", "A4"})],
)
def test_travel_on_a_line_with_disruption_budget(
    tmp_path: Path,
    engine: str,
    budget: float | None,
    expected_degrees: float,
    moved: set[str],
) -> None:
    """Four accounts on the equator at lon 0..3, homes at lon 0 (T1) and 3 (T2).

        lon     0    1    2    3
        now     T1   T1   T1   T1        band: 1 to 3 accounts each
        home    T1             T2

    With a budget of one move (25%) only A4 moves: km = 0 + 1° + 2° + 0 over 4
    accounts. Without it A3 moves too: 0 + 1° + 1° + 0. One degree of longitude
    on the equator is R·π/180 km.
    """
    run = _solve(_line_budget(tmp_path, budget), engine)
    assert run.result.status is Status.OPTIMAL
    expected = expected_degrees * KM_PER_DEGREE / 4
    assert run.result.objective == pytest.approx(expected, rel=1e-7)
    changed = {a for a, t in run.result.alignment().items() if t == "T2"}
    assert changed == moved
    _verified(run)


def _grid(folder: Path) -> Path:
    accounts = [
        {
            "account_id": f"r{r}c{c}",
            "lat": 0.1 * (1 - r),
            "lon": 0.1 * c,
            "potential": 1 + c,
            "workload_hours": 1,
        }
        for r, c in itertools.product(range(3), range(4))
    ]
    territories = [
        {"territory_id": "T1", "lat": 0.0, "lon": 0.0},
        {"territory_id": "T2", "lat": 0.0, "lon": 0.15},
        {"territory_id": "T3", "lat": 0.0, "lon": 0.3},
    ]
    return write_scenario(
        folder,
        accounts,
        territories,
        balance={
            "accounts": {"tolerance": 0.01, "weight": 1.0},
            "potential": {"tolerance": 0.2, "weight": 1.0},
        },
        objective={"travel": 0.01, "balance": 1.0},
    )


def _brute_force_grid(run) -> float:
    """Best objective over all 3^12 alignments, from the documented formula."""
    problem = run.problem
    n, k = problem.n_accounts, problem.n_territories
    lat, lon = np.radians(problem.account_lat), np.radians(problem.account_lon)
    tlat, tlon = np.radians(problem.territory_lat), np.radians(problem.territory_lon)
    hav = (
        np.sin((tlat[None] - lat[:, None]) / 2) ** 2
        + np.cos(lat[:, None])
        * np.cos(tlat[None])
        * np.sin((tlon[None] - lon[:, None]) / 2) ** 2
    )
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(hav))
    codes = np.array(list(itertools.product(range(k), repeat=n)))
    potential = problem.potential
    best = np.inf
    for chunk in np.array_split(codes, 20):
        counts = np.stack([(chunk == t).sum(1) for t in range(k)], 1)
        pots = np.stack([((chunk == t) * potential).sum(1) for t in range(k)], 1)
        ok = (counts == 4).all(1)
        ok &= (np.abs(pots - 10) <= 2 + 1e-9).all(1)
        travel = km[np.arange(n), chunk].sum(1) / n
        balance = np.abs(pots - 10).mean(1) / 10
        value = np.where(ok, 0.01 * travel + balance, np.inf)
        best = min(best, value.min())
    return float(best)


@pytest.mark.parametrize("engine", ENGINES)
def test_grid_three_by_four_matches_brute_force(tmp_path: Path, engine: str) -> None:
    """3x4 grid, 3 territories of exactly 4 accounts: optimum equals brute force.

        lon   0.0  0.1  0.2  0.3       potential = 1 + column: 1 2 3 4 per row
        lat 0.1  .    .    .    .      total 30, target 10 each, band ±20%
        lat 0.0  T1   .  T2 .   T3     homes at lon 0, 0.15, 0.3 on lat 0
        lat-0.1  .    .    .    .

    The objective, 0.01 × mean km + mean relative potential deviation, is
    minimised over all 531,441 alignments by enumeration in the test.
    """
    run = _solve(_grid(tmp_path), engine)
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(_brute_force_grid(run), rel=1e-7)
    _verified(run)


@pytest.mark.parametrize("engine", ENGINES)
def test_solver_proves_infeasible_bands(tmp_path: Path, engine: str) -> None:
    """Potentials 5, 5, 5 in two ±10% bands around 7.5: no subset fits [6.75, 8.25]."""
    accounts = [
        {"account_id": f"A{i}", "lat": 0, "lon": 0, "potential": 5, "workload_hours": 1}
        for i in range(3)
    ]
    territories = [{"territory_id": t, "lat": 0, "lon": 0} for t in ("T1", "T2")]
    path = write_scenario(
        tmp_path,
        accounts,
        territories,
        balance={"potential": {"tolerance": 0.1}},
    )
    run = _solve(path, engine)
    assert run.result.status is Status.INFEASIBLE
    assert run.result.assignment is None


@pytest.mark.parametrize("engine", ENGINES)
def test_fifty_identical_reps_peak_workload_nine(tmp_path: Path, engine: str) -> None:
    """50 identical reps, workloads 9, 7, 5, 3, 1 h: the least peak is 9 h.

    The biggest account alone sets the floor of 9; one account per territory
    reaches it. Identical territories are labelled by their smallest account,
    so account a may join only territories 0..a: 1 + 2 + 3 + 4 + 5 = 15 pairs
    instead of 250, and the proof is immediate.
    """
    accounts = [
        {"account_id": f"A{i}", "lat": 0, "lon": 0, "potential": 1, "workload_hours": h}
        for i, h in enumerate((9, 7, 5, 3, 1))
    ]
    territories = [{"territory_id": f"T{t:02d}", "lat": 0, "lon": 0} for t in range(50)]
    path = write_scenario(
        tmp_path,
        accounts,
        territories,
        objective={"balance": 0.0, "peak_workload": 1.0},
    )
    run = _solve(path, engine)
    assert run.problem.symmetry_broken
    assert len(run.problem.pair_account) == 15
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(9.0, rel=1e-9)
    assert run.result.best_bound == pytest.approx(9.0, rel=1e-6)
    _verified(run)


def test_capacity_trio_on_cpsat_keeps_three_hours_exact(tmp_path: Path) -> None:
    """CP-SAT: potential difference 0.125 with {A2, A3} together, at exactly 3.0 h.

    Workloads 1.5, 2.25, 0.75 become 150, 225, 75 at scale 100, so the 3.0 h
    capacity is the integer 300 with no rounding: A2 + A3 = 300 fits exactly.
    """
    run = _solve(_capacity_trio(tmp_path), "cpsat")
    assert run.result.status is Status.OPTIMAL
    alignment = run.result.alignment()
    assert alignment["A2"] == alignment["A3"] != alignment["A1"]
    potential = {"A1": 0.5, "A2": 0.25, "A3": 0.125}
    hours = {"A1": 1.5, "A2": 2.25, "A3": 0.75}
    pair = alignment["A2"]
    together = sum(v for a, v in potential.items() if alignment[a] == pair)
    assert abs(potential["A1"] - together) == 0.125
    assert sum(v for a, v in hours.items() if alignment[a] == pair) == 3.0
    details = run.result.details
    assert details["value_scales"]["capacity:workload_hours"] == 100.0
    assert details["value_rounding_error"]["capacity:workload_hours"] == 0.0
