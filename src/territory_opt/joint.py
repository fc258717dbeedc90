"""Joint territory and quota design: tighten the potential band until fair.

The loop and its stopping rule are those of
:func:`territory_opt.quota.run.joint_design`; this module supplies its
``resolve`` step: the same problem with the potential band set to the asked
tolerance, solved with the scenario's engine and verified by the checker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from territory_opt.errors import InputError
from territory_opt.extras import quota_territories, territory_neighbours
from territory_opt.problem import Problem
from territory_opt.quota.run import JointDesign, joint_design
from territory_opt.result import SolveResult
from territory_opt.scenario import Scenario
from territory_opt.solve import solve_problem

logger = logging.getLogger(__name__)


def with_potential_tolerance(problem: Problem, tolerance: float) -> Problem:
    """The problem with the potential band set to ±``tolerance`` of target."""
    balances = tuple(
        replace(
            b,
            tolerance=tolerance,
            lower=(1.0 - tolerance) * b.target,
            upper=(1.0 + tolerance) * b.target,
        )
        if b.metric == "potential"
        else b
        for b in problem.balances
    )
    return replace(problem, balances=balances)


@dataclass(frozen=True)
class JointRun:
    """The chosen problem and result of the loop, and the loop's history."""

    problem: Problem
    result: SolveResult
    design: JointDesign

    def report(self) -> dict[str, Any]:
        """History for metrics.json."""
        best = self.design.best
        return {
            "stop_reason": self.design.stop_reason,
            "chosen_potential_tolerance": None
            if best is None
            else best.potential_tolerance,
            "iterations": [
                {
                    "iteration": h.iteration,
                    "potential_tolerance": h.potential_tolerance,
                    "status": h.status,
                    "p_attain_spread": h.p_attain_spread,
                    "message": h.message,
                }
                for h in self.design.history
            ],
        }


def solve_jointly(scenario: Scenario, problem: Problem) -> JointRun:
    """Run the joint loop of ``scenario.quota.joint_design`` on ``problem``.

    Raises
    ------
    InputError
        When the scenario has no joint design section or no potential band.
    """
    section = scenario.quota
    if section is None or section.joint_design is None:
        raise InputError("quota.joint_design is not set in the scenario")
    spec = section.joint_design
    potential = next((b for b in problem.balances if b.metric == "potential"), None)
    if potential is None:
        raise InputError(
            "quota.joint_design tightens the potential band: add 'potential' under "
            "balance"
        )
    solved: dict[float, tuple[Problem, SolveResult]] = {}

    def resolve(tolerance: float) -> Any:
        tightened = with_potential_tolerance(problem, tolerance)
        result = solve_problem(tightened, scenario.solver, explain=False)
        logger.info(
            "joint design: ±%.3g%% potential -> %s", 100 * tolerance, result.status
        )
        solved[tolerance] = (tightened, result)
        if not result.has_alignment or result.assignment is None:
            return None
        index = tightened.territory_index()
        territory_of = np.array([index[t] for t in result.assignment], dtype=np.int64)
        return (
            quota_territories(tightened, territory_of),
            territory_neighbours(tightened, territory_of),
        )

    design = joint_design(
        resolve,
        section,
        start_tolerance=spec.start_tolerance or potential.tolerance,
        min_tolerance=min(
            spec.min_tolerance, spec.start_tolerance or potential.tolerance
        ),
        shrink=spec.shrink,
        max_iterations=spec.max_iterations,
    )
    best = design.best
    if best is None:
        last = design.history[-1].potential_tolerance if design.history else None
        if last is None or last not in solved:
            raise InputError("the joint design loop produced no alignment")
        chosen_problem, chosen = solved[last]
    else:
        chosen_problem, chosen = solved[best.potential_tolerance]
    return JointRun(problem=chosen_problem, result=chosen, design=design)
