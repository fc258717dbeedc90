"""Infeasibility found by a solver is explained: conflict set and least relaxation."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ENGINES, write_scenario
from territory_opt.explain import explain_infeasibility
from territory_opt.presolve import find_conflicts
from territory_opt.result import Status
from territory_opt.scenario import load_scenario
from territory_opt.solve import load_problem, solve_scenario


def _accounts(potentials: dict[str, float], **columns: dict[str, object]):
    return [
        {
            "account_id": a,
            "lat": 0,
            "lon": 0,
            "potential": p,
            "workload_hours": 1,
            **{name: values[a] for name, values in columns.items() if a in values},
        }
        for a, p in potentials.items()
    ]


TWO = [{"territory_id": t, "lat": 0, "lon": 0} for t in ("T1", "T2")]


def _locks_and_band(folder: Path) -> Path:
    """Potentials 4, 3, 2, 1; ±10% around 5 = [4.5, 5.5]; A1 → T1, A4 → T2.

    T1 holds A1 (4) and may add A2 (3) or A3 (2): 4, 6, 7 or 9, never in the band.
    Each lock passes the pre-solve checks on its own.
    """
    return write_scenario(
        folder,
        _accounts({"A1": 4, "A2": 3, "A3": 2, "A4": 1}),
        TWO,
        balance={"potential": {"tolerance": 0.1}},
        constraints={
            "locks": [
                {"account": "A1", "territory": "T1"},
                {"account": "A4", "territory": "T2"},
            ]
        },
    )


def test_locks_and_band_conflict_in_plain_words(tmp_path: Path) -> None:
    """The band of T1 and the locks on A1 and A4 form the minimal conflict.

    Dropping either lock allows {A1, A4} | {A2, A3} = 5 | 5. Keeping both, the
    best split is 4 | 6 or 6 | 4: 20% off target, so the band must be ±20.0%.
    """
    problem = load_problem(load_scenario(_locks_and_band(tmp_path)))
    assert find_conflicts(problem) == []
    explanation = explain_infeasibility(problem)
    assert explanation.sentence == (
        "the ±10% potential band of T1 and the locks on A1 and A4 cannot hold together"
    )
    assert explanation.relaxations == (
        "widen the potential band to ±20.0%",
        "drop the lock of A1 to T1",
        "drop the lock of A4 to T2",
    )
    assert explanation.complete


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_infeasibility_carries_the_explanation(
    tmp_path: Path, engine: str
) -> None:
    """Every engine's infeasible result names the conflict and the relaxations."""
    scenario = load_scenario(_locks_and_band(tmp_path)).with_overrides(
        engine=engine, time_limit_s=20
    )
    result = solve_scenario(scenario).result
    assert result.status is Status.INFEASIBLE
    assert result.details["conflict"] == (
        "the ±10% potential band of T1 and the locks on A1 and A4 cannot hold together"
    )
    assert "widen the potential band to ±20.0%" in result.message
    assert result.assignment is None


def test_three_equal_accounts_need_a_third_wider_band(tmp_path: Path) -> None:
    """Potentials 5, 5, 5 at ±10% around 7.5: 10 | 5 needs ±33.4% (1/3 rounded up).

    T1 alone can hold 0, 5, 10 or 15, never within [6.75, 8.25]: its band is
    the whole conflict.
    """
    path = write_scenario(
        tmp_path,
        _accounts({"A1": 5, "A2": 5, "A3": 5}),
        TWO,
        balance={"potential": {"tolerance": 0.1}},
    )
    explanation = explain_infeasibility(load_problem(load_scenario(path)))
    assert explanation.sentence == ("the ±10% potential band of T1 cannot hold")
    assert explanation.relaxations == ("widen the potential band to ±33.4%",)


def test_capacity_conflict_gives_the_missing_hours(tmp_path: Path) -> None:
    """Workloads 2, 2, 2 h; capacities 3 and 3.5 h: T2 needs 0.5 h more.

    The pre-solve sums pass (6 ≤ 6.5 h in all, 2 ≤ 3 h each), but one
    territory must take two accounts (4 h). Raising T2 by 0.5 h is the least.
    """
    accounts = _accounts({"A1": 1, "A2": 1, "A3": 1})
    for row in accounts:
        row["workload_hours"] = 2
    territories = [
        {"territory_id": "T1", "lat": 0, "lon": 0, "capacity_hours": 3},
        {"territory_id": "T2", "lat": 0, "lon": 0, "capacity_hours": 3.5},
    ]
    path = write_scenario(tmp_path, accounts, territories)
    problem = load_problem(load_scenario(path))
    assert find_conflicts(problem) == []
    explanation = explain_infeasibility(problem)
    assert explanation.sentence == (
        "the capacities of T1 (3 hours) and T2 (3.5 hours) cannot hold together"
    )
    assert explanation.relaxations == ("raise the capacity of T2 from 3.5 to 4 hours",)


def _three_locked(folder: Path) -> Path:
    """A1, A2, A3 (1 h each) locked to T1, whose capacity is 2 h; T2 has 4 h."""
    accounts = _accounts({"A1": 1, "A2": 1, "A3": 1, "A4": 1})
    territories = [
        {"territory_id": "T1", "lat": 0, "lon": 0, "capacity_hours": 2},
        {"territory_id": "T2", "lat": 0, "lon": 0, "capacity_hours": 4},
    ]
    return write_scenario(
        folder,
        accounts,
        territories,
        constraints={
            "locks": [{"account": f"A{i}", "territory": "T1"} for i in (1, 2, 3)]
        },
        output={"folder": "out"},
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_three_locks_over_capacity_infeasible_on_every_engine(
    tmp_path: Path, engine: str
) -> None:
    """From the command line: exit 3, 'infeasible' with the locks and hours
    named, and no result folder. Asked directly, each engine proves it too and
    the explanation names the capacity and the three locks."""
    from typer.testing import CliRunner

    from territory_opt.cli import app
    from territory_opt.engines import run_engine
    from territory_opt.model import build_model
    from territory_opt.solve import interpret

    path = _three_locked(tmp_path)
    result = CliRunner().invoke(app, ["solve", str(path), "--engine", engine])
    assert result.exit_code == 3
    text = " ".join(result.output.split())
    assert text.startswith("infeasible: scenario 'tiny' cannot be satisfied")
    assert (
        "the accounts locked to territory 'T1' ('A1', 'A2', 'A3') need 3 workload "
        "hours, above its capacity of 2 hours" in text
    )
    assert not (tmp_path / "out").exists()

    scenario = load_scenario(path).with_overrides(engine=engine)
    model = build_model(load_problem(scenario))
    solved = interpret(model, scenario.solver, run_engine(model, scenario.solver))
    assert solved.status is Status.INFEASIBLE
    assert solved.assignment is None
    assert solved.details["conflict"] == (
        "the capacity of T1 (2 hours) and the locks on A1, A2 and A3 cannot hold "
        "together"
    )
    assert solved.details["relaxations"] == [
        "raise the capacity of T1 from 2 to 3 hours",
        "drop the lock of A1 to T1",
        "drop the lock of A2 to T1",
        "drop the lock of A3 to T1",
    ]


def test_command_line_prints_the_conflict_and_relaxations(tmp_path: Path) -> None:
    """The solve command shows the explanation in its summary and exits 3."""
    from typer.testing import CliRunner

    from territory_opt.cli import app

    path = _locks_and_band(tmp_path)
    result = CliRunner().invoke(app, ["solve", str(path), "--engine", "highs"])
    assert result.exit_code == 3
    text = " ".join(result.output.replace("│", " ").split())
    assert "highs proved that no alignment meets every band, capacity, lock" in text
    assert "the ±10% potential band of T1 and the locks on A1 and A4 cannot hold" in (
        text
    )
    assert "widen the potential band to ±20.0%" in text
    assert not (tmp_path / "results").exists()


def test_least_step_is_exact_only_when_every_answer_is_known() -> None:
    """Regression: answers lost to the time limit counted as 'infeasible', so a
    budget of 100 % was reported as the smallest where 35 % held."""
    from territory_opt.explain import _least_step

    assert _least_step(100, 1000, lambda p: p >= 350) == (350, True)
    assert _least_step(100, 1000, lambda p: None if p < 1000 else True) == (
        1000,
        False,
    )
    assert _least_step(100, 1000, lambda p: False) is None


class _Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def test_explanation_never_solves_past_its_budget(tmp_path: Path, monkeypatch) -> None:
    """Regression: the explanation ran past the time limit. With a 2 s budget on
    a clock we move, building a model costing 0.3 s and every CP-SAT solve using
    all the time it is given: one solve, limited to 2 - 0.3 = 1.7 s, ends at the
    deadline, and the search stops there, saying it is incomplete."""
    from ortools.sat.python import cp_model

    from territory_opt import explain

    clock = _Clock()
    solves: list[tuple[float, float]] = []
    build = explain._assignment_model

    def slow_build(*args: object):
        clock.now_s += 0.3
        return build(*args)

    class GreedySolver(cp_model.CpSolver):
        def solve(self, *args: object, **kwargs: object):
            limit_s = self.parameters.max_time_in_seconds
            solves.append((clock.now_s, limit_s))
            answer = super().solve(*args, **kwargs)
            clock.now_s += limit_s
            return answer

    monkeypatch.setattr(explain, "_assignment_model", slow_build)
    monkeypatch.setattr(explain.cp_model, "CpSolver", GreedySolver)
    problem = load_problem(load_scenario(_locks_and_band(tmp_path)))
    explanation = explain_infeasibility(problem, 2.0, clock=clock)
    assert solves == [(pytest.approx(0.3), pytest.approx(1.7))]
    assert clock.now_s == pytest.approx(2.0)
    assert not explanation.complete
    assert explanation.relaxations == ()


def test_explanation_gets_what_the_solve_left_of_the_time_limit(
    tmp_path: Path, monkeypatch
) -> None:
    """A solve that proved infeasibility in 19.75 of its 20 s leaves the
    explanation 0.25 s; one that used 21 s leaves none; a long limit caps it."""
    from dataclasses import replace

    from territory_opt import solve
    from territory_opt.solve import EXPLAIN_LIMIT_S, explain_budget_s

    assert explain_budget_s(20.0, 19.75) == 0.25
    assert explain_budget_s(20.0, 21.0) == 0.0
    assert explain_budget_s(600.0, 1.0) == EXPLAIN_LIMIT_S == 20.0

    budgets: list[float] = []
    real_engine, real_explain = solve.run_engine, solve.explain_infeasibility

    def slow_engine(*args: object, **kwargs: object):
        return replace(real_engine(*args, **kwargs), runtime_s=19.75)

    def recorded(problem: object, time_limit_s: float, **kwargs: object):
        budgets.append(time_limit_s)
        return real_explain(problem, time_limit_s, **kwargs)

    monkeypatch.setattr(solve, "run_engine", slow_engine)
    monkeypatch.setattr(solve, "explain_infeasibility", recorded)
    scenario = load_scenario(_locks_and_band(tmp_path)).with_overrides(
        engine="cpsat", time_limit_s=20
    )
    run = solve_scenario(scenario)
    assert run.result.status is Status.INFEASIBLE
    assert budgets == [0.25]
