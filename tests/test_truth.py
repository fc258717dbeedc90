"""Solver truth: a solver's word never overrides the checker or the measured gap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import write_scenario
from territory_opt.engines.mip import parse_cbc_log
from territory_opt.model import build_model
from territory_opt.result import EngineOutcome, Status
from territory_opt.scenario import load_scenario
from territory_opt.solve import interpret, load_problem
from test_engines import _ten_potentials


def _model(tmp_path: Path):
    scenario = load_scenario(_ten_potentials(tmp_path))
    return build_model(load_problem(scenario)), scenario.solver


def _pairs_for(model, territory_of: list[int]) -> np.ndarray:
    problem = model.problem
    chosen = problem.pair_territory == np.array(territory_of)[problem.pair_account]
    return chosen.astype(float)


def test_claimed_optimal_but_broken_band_is_invalid(tmp_path: Path) -> None:
    """All ten accounts in T1 breaks both bands: 'invalid', with the violations."""
    model, spec = _model(tmp_path)
    outcome = EngineOutcome(
        status=Status.OPTIMAL,
        engine="fake",
        solver_version="0",
        runtime_s=0.0,
        pair_values=_pairs_for(model, [0] * 10),
        objective=0.0,
        best_bound=0.0,
    )
    result = interpret(model, spec, outcome)
    assert result.status is Status.INVALID
    assert result.violations == (
        "territory 'T1' holds 55 of potential, outside its band [26.12, 28.88]",
        "territory 'T2' holds 0 of potential, outside its band [26.12, 28.88]",
    )


def test_claimed_optimal_with_open_gap_is_feasible(tmp_path: Path) -> None:
    """A valid 27/28 split reported with bound 0: the gap is 100%, so 'feasible'."""
    model, spec = _model(tmp_path)
    # accounts 1..10 (ids A01..A10 sorted): T1 gets 1, 2, 4, 10, 3, 7 = 27
    split = [0, 0, 0, 0, 1, 1, 0, 1, 1, 0]
    outcome = EngineOutcome(
        status=Status.OPTIMAL,
        engine="fake",
        solver_version="0",
        runtime_s=0.0,
        pair_values=_pairs_for(model, split),
        objective=1 / 55,
        best_bound=0.0,
    )
    result = interpret(model, spec, outcome)
    assert result.status is Status.FEASIBLE
    assert result.objective == 1 / 55
    assert result.relative_gap == 1.0


def test_two_territories_for_one_account_is_invalid(tmp_path: Path) -> None:
    """An account set in both territories is not 'exactly one': invalid.

    Symmetry breaking leaves A01 only T1 (identical territories), so A02 is the
    first account with two pairs.
    """
    model, spec = _model(tmp_path)
    values = np.ones(model.n_pairs)
    outcome = EngineOutcome(
        status=Status.FEASIBLE,
        engine="fake",
        solver_version="0",
        runtime_s=0.0,
        pair_values=values,
        objective=0.0,
        best_bound=0.0,
    )
    result = interpret(model, spec, outcome)
    assert result.status is Status.INVALID
    assert result.assignment is None
    assert (
        result.violations[0] == "account 'A02' is not assigned to exactly one territory"
    )


def test_engine_exception_becomes_error_status(tmp_path: Path, monkeypatch) -> None:
    """An exception inside a backend is an 'error' result with its message."""
    from territory_opt import solve as solve_module

    def explode(model, spec):
        raise RuntimeError("backend crashed")

    monkeypatch.setattr(solve_module, "run_engine", explode)
    model, spec = _model(tmp_path)
    result = solve_module.solve_problem(model.problem, spec)
    assert result.status is Status.ERROR
    assert result.message == "RuntimeError: backend crashed"


CBC_TIME_LIMIT_LOG = """Welcome to the CBC MILP Solver
Version: 2.10.3
Result - Stopped on time limit

Objective value:                12.50000000
Lower bound:                    11.000
Gap:                            0.14
Enumerated nodes:               120
"""


def test_cbc_time_limit_log_is_read_as_stopped() -> None:
    """CBC's own result line, objective and lower bound are read from its log."""
    assert parse_cbc_log(CBC_TIME_LIMIT_LOG) == (
        "Stopped on time limit",
        12.5,
        11.0,
        "cbc 2.10.3",
    )


def test_time_limited_highs_is_not_called_optimal(tmp_path: Path) -> None:
    """HiGHS stopped by a tiny time limit is 'feasible' or 'no_solution_found'."""
    rng = np.random.default_rng(0)
    accounts = [
        {
            "account_id": f"A{i:03d}",
            "lat": 30 + rng.random() * 5,
            "lon": -90 + rng.random() * 5,
            "potential": int(rng.integers(1, 1000)),
            "workload_hours": int(rng.integers(1, 50)),
        }
        for i in range(300)
    ]
    territories = [
        {
            "territory_id": f"T{t:02d}",
            "lat": 30 + rng.random() * 5,
            "lon": -90 + rng.random() * 5,
        }
        for t in range(20)
    ]
    path = write_scenario(
        tmp_path,
        accounts,
        territories,
        balance={
            "potential": {"tolerance": 0.01},
            "workload_hours": {"tolerance": 0.01},
        },
        objective={"travel": 1.0},
    )
    scenario = load_scenario(path).with_overrides(engine="highs", time_limit_s=0.5)
    from territory_opt.solve import solve_problem

    result = solve_problem(load_problem(scenario), scenario.solver)
    if result.solver_status == "Time limit reached":
        assert result.status in (Status.FEASIBLE, Status.NO_SOLUTION)
    else:  # a machine fast enough to finish must also close the gap
        assert result.status is Status.OPTIMAL
    if result.status is not Status.NO_SOLUTION:
        assert result.violations == ()
        assert result.best_bound is not None


def test_highs_solves_again_with_another_thread_count(tmp_path: Path) -> None:
    """Regression: a second HiGHS solve with more threads in one process found no
    solution ('Not Set') because HiGHS's thread pool kept its first size."""
    from territory_opt.solve import solve_problem

    scenario = load_scenario(_ten_potentials(tmp_path))
    problem = load_problem(scenario)
    for threads in (1, 2, 1):
        spec = scenario.solver.model_copy(
            update={"engine": "highs", "threads": threads}
        )
        assert solve_problem(problem, spec).status is Status.OPTIMAL


def test_highs_agrees_when_values_are_large(tmp_path: Path) -> None:
    """Regression: with potentials near 1e6 HiGHS proved a worse alignment
    'optimal' (tiny deviation weights against huge row values); rows are now
    scaled by their targets, and every engine finds the same optimum as on
    the same data divided by 10,000."""
    import pandas as pd

    from territory_opt.solve import solve_problem
    from test_reproducible import _instance

    small = _instance(tmp_path / "small")
    large = _instance(tmp_path / "large")
    table = pd.read_csv(large.parent / "accounts.csv", dtype=str)
    table["potential"] = (table["potential"].astype(int) * 10_000).astype(str)
    table.to_csv(large.parent / "accounts.csv", index=False)
    reference = solve_problem(
        load_problem(load_scenario(small)),
        load_scenario(small).solver.model_copy(update={"engine": "cbc"}),
    ).objective
    for engine in ("highs", "cpsat", "cbc"):
        scenario = load_scenario(large)
        spec = scenario.solver.model_copy(update={"engine": engine})
        result = solve_problem(load_problem(scenario), spec)
        assert result.status is Status.OPTIMAL
        assert result.objective == pytest.approx(reference, rel=1e-6)


def _magnitudes(folder: Path, potentials: list[float], tolerance: float) -> Path:
    accounts = [
        {"account_id": f"A{i}", "lat": 0, "lon": 0, "potential": p}
        | {"workload_hours": 1}
        for i, p in enumerate(potentials)
    ]
    territories = [{"territory_id": t, "lat": 0, "lon": 0} for t in ("T1", "T2")]
    return write_scenario(
        folder,
        accounts,
        territories,
        balance={"potential": {"tolerance": tolerance}},
    )


def test_huge_potentials_are_rescaled_with_the_rounding_error(tmp_path: Path) -> None:
    """Potentials 1e13, 3, 7, 1e13 (total above 1e12) are scaled by 1e-2 for
    CP-SAT: 3 and 7 round to 0, an error of at most 7 per account, reported;
    the alignment is still verified by the checker."""
    from territory_opt.solve import solve_problem

    path = _magnitudes(tmp_path, [1e13, 3.0, 7.0, 1e13], 0.1)
    scenario = load_scenario(path).with_overrides(engine="cpsat")
    result = solve_problem(load_problem(scenario), scenario.solver)
    assert result.status is Status.OPTIMAL
    assert result.violations == ()
    assert result.details["integer_scaling"] == [
        "metric 'potential' (band rows) rounded to multiples of 100 for CP-SAT: at "
        "most 7 per account"
    ]


def test_potentials_beyond_the_safe_range_are_rejected_by_name(
    tmp_path: Path,
) -> None:
    """Potentials 5e13, 5e13, 1, 2 at ±1e-12 (room 50 around 5e13 + 1.5).

    The band rows' coefficients (4 accounts on T1, 3 on T2) add up to 1.5e14,
    so CP-SAT scales by 1e-3: 1 and 2 round to 0, up to 2 per account, 8 over
    T1's four accounts, more than 0.5 (1% of 50): 'potential' is refused.
    """
    from territory_opt.errors import InputError
    from territory_opt.solve import solve_problem

    path = _magnitudes(tmp_path, [5e13, 5e13, 1.0, 2.0], 1e-12)
    scenario = load_scenario(path).with_overrides(engine="cpsat")
    with pytest.raises(InputError) as caught:
        solve_problem(load_problem(scenario), scenario.solver)
    assert str(caught.value) == (
        "metric 'potential': CP-SAT holds sums exactly only up to 1e+12, so its "
        "values would be rounded to multiples of 1e+03, which can move the sum of "
        "band[T1,potential] by 8, more than 1% of its room of 50. "
        "Rescale the column (for example to thousands) or use solver.engine: highs"
    )


def test_ctrl_c_during_cpsat_is_an_interrupt_not_a_result() -> None:
    """Regression: CP-SAT caught SIGINT itself and returned its incumbent as if
    the time limit had ended the search, so the run was saved with exit 0."""
    import os
    import signal
    import threading

    from territory_opt.engines.cpsat import solve_cpsat

    folder = Path(__file__).resolve().parents[1] / "scenarios" / "southeast_medtech"
    scenario = load_scenario(folder / "scenario.yaml").with_overrides(
        engine="cpsat", time_limit_s=60, threads=1
    )
    scenario = scenario.model_copy(update={"geography": None, "hierarchy": None})
    model = build_model(load_problem(scenario))
    timer = threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            solve_cpsat(model, scenario.solver)
    finally:
        timer.cancel()
