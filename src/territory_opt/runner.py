"""One scenario from tables to verified alignment, quotas and forecast, timed.

The command line, ``compare`` and ``sweep`` all run a scenario through
:func:`run_scenario`, so a variant of a sweep is solved exactly as ``solve``
would solve it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from territory_opt.extras import Extras, run_extras
from territory_opt.joint import solve_jointly
from territory_opt.outputs import territory_indices
from territory_opt.problem import Problem
from territory_opt.quota.run import QuotaOutcome
from territory_opt.result import SolveResult
from territory_opt.scenario import Scenario
from territory_opt.solve import Run, load_inputs, solve_problem

SolveStep = Callable[[Problem, Scenario], SolveResult]


@dataclass(frozen=True)
class Outcome:
    """A solved run, its quota and forecast outcomes and the seconds per step."""

    run: Run
    extras: Extras | None = None
    timings_s: dict[str, float] = field(default_factory=dict)


def _plain_solve(problem: Problem, scenario: Scenario) -> SolveResult:
    return solve_problem(problem, scenario.solver)


def solve_run(
    scenario: Scenario, solve: SolveStep | None = None
) -> tuple[Run, dict[str, float], dict[str, Any] | None, QuotaOutcome | None]:
    """Load and solve ``scenario``; the joint quota loop when it asks for one.

    Returns the run, the seconds spent loading and solving, the joint-design
    report (or None) and the joint run's chosen quota outcome (or None).
    """
    started = time.perf_counter()
    problem, polygons = load_inputs(scenario)
    loaded = time.perf_counter()
    joint_report: dict[str, Any] | None = None
    chosen: QuotaOutcome | None = None
    if scenario.quota is not None and scenario.quota.joint_design is not None:
        joint = solve_jointly(scenario, problem)
        problem, result = joint.problem, joint.result
        joint_report = joint.report()
        chosen = None if joint.design.best is None else joint.design.best.outcome
    else:
        result = (solve or _plain_solve)(problem, scenario)
    timings = {"load": loaded - started, "solve": time.perf_counter() - loaded}
    run = Run(scenario=scenario, problem=problem, result=result, polygons=polygons)
    return run, timings, joint_report, chosen


def add_extras(
    run: Run,
    timings_s: dict[str, float],
    joint_report: dict[str, Any] | None = None,
    chosen: QuotaOutcome | None = None,
) -> Outcome:
    """Run the quota and forecast sections on the run's alignment, if it has one."""
    if not run.result.has_alignment:
        return Outcome(run=run, timings_s=timings_s)
    started = time.perf_counter()
    extras = run_extras(
        run.scenario,
        run.problem,
        territory_indices(run),
        quota=chosen,
        joint=joint_report,
    )
    timings = timings_s | {"extras": time.perf_counter() - started}
    return Outcome(run=run, extras=extras, timings_s=timings)


def run_scenario(scenario: Scenario, solve: SolveStep | None = None) -> Outcome:
    """Solve ``scenario`` and run its quota and forecast sections."""
    run, timings, joint_report, chosen = solve_run(scenario, solve)
    return add_extras(run, timings, joint_report, chosen)
