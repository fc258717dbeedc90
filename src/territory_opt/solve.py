"""Solve a problem: pre-solve checks, model, engine, independent check, result."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from territory_opt.checker import check_alignment, objective_value
from territory_opt.contiguity import neighbour_cuts, separator_cuts
from territory_opt.engines import resolve_engine, run_engine
from territory_opt.errors import InputError
from territory_opt.geography import polygon_pairs, read_edge_list, read_polygons
from territory_opt.hierarchy import level_metrics, load_hierarchy_input
from territory_opt.local_search import local_search
from territory_opt.model import TerritoryModel, build_model, pair_lookup
from territory_opt.presolve import check_presolve
from territory_opt.problem import Problem, build_problem
from territory_opt.result import (
    OPTIMALITY_GAP,
    EngineOutcome,
    SolveResult,
    Status,
    relative_gap,
)
from territory_opt.scenario import Scenario, SolverSpec
from territory_opt.tables import load_accounts, load_territories

logger = logging.getLogger(__name__)


def load_inputs(scenario: Scenario) -> tuple[Problem, Any]:
    """Read the scenario's tables (and polygons) and build the validated problem.

    Returns the problem and the accounts' polygons as a GeoDataFrame in account
    order, or None when the scenario has none.
    """
    metrics = [*scenario.balance.keys(), *level_metrics(scenario)]
    accounts = load_accounts(scenario.accounts, list(dict.fromkeys(metrics)))
    territories = load_territories(scenario.territories)
    geography = scenario.geography
    polygons = None
    pairs = None
    if geography is not None:
        ids = tuple(sorted(accounts.account_id))
        if geography.polygons is not None:
            polygons = read_polygons(geography.polygons, ids)
        if geography.adjacency is not None:
            pairs = read_edge_list(geography.adjacency)
        elif polygons is not None:
            pairs = polygon_pairs(polygons, geography.adjacency_method)
        elif geography.contiguity:
            raise InputError(
                "geography.contiguity needs adjacency: give geography.adjacency "
                "(an edge list) or geography.polygons"
            )
    hierarchy = load_hierarchy_input(scenario)
    problem = build_problem(scenario, accounts, territories, pairs, hierarchy)
    return problem, polygons


def load_problem(scenario: Scenario) -> Problem:
    """Read the scenario's tables and build the validated problem."""
    return load_inputs(scenario)[0]


def _decode(model: TerritoryModel, values: np.ndarray) -> np.ndarray:
    """Territory index per account from 0/1 pair values (-1: not exactly one)."""
    problem = model.problem
    chosen = values > 0.5
    territory_of = np.full(problem.n_accounts, -1, dtype=np.int64)
    counts = np.bincount(problem.pair_account[chosen], minlength=problem.n_accounts)
    single = counts == 1
    territory_of[problem.pair_account[chosen]] = problem.pair_territory[chosen]
    territory_of[~single] = -1
    return territory_of


def _engine_failure(spec: SolverSpec, exc: Exception, started: float) -> EngineOutcome:
    logger.error("engine %s failed: %s: %s", spec.engine, type(exc).__name__, exc)
    logger.debug("engine failure", exc_info=exc)
    return EngineOutcome(
        status=Status.ERROR,
        engine=resolve_engine(spec.engine),
        solver_version="",
        runtime_s=time.perf_counter() - started,
        message=f"{type(exc).__name__}: {exc}",
        solver_status="exception",
    )


def _values_of(model: TerritoryModel, territory_of: np.ndarray) -> np.ndarray:
    """0/1 pair vector of an alignment."""
    problem = model.problem
    chosen = pair_lookup(problem, np.arange(problem.n_accounts), territory_of)
    values = np.zeros(model.n_pairs)
    values[chosen[chosen >= 0]] = 1.0
    return values


def _from_fallback(
    model: TerritoryModel, outcome: EngineOutcome, alignment: np.ndarray
) -> EngineOutcome:
    """The engine's outcome with the local-search alignment in place of its own."""
    return replace(
        outcome,
        pair_values=_values_of(model, alignment),
        status=Status.FEASIBLE,
        message="time limit reached; best contiguous alignment from local search",
    )


ROUND_SHARE = 0.3
ROUND_MIN_S = 2.0
LOCAL_SEARCH_SHARE = 0.15


def _solve_contiguous(model: TerritoryModel, spec: SolverSpec) -> SolveResult:
    """Solve in rounds, adding separator cuts for territories left in pieces.

    The rounds share the time limit: each may use 30 % of what is left (at
    least 2 s), so that several rounds fit. Before the first round (from the
    current alignment, when every account has one) and after every round, a
    contiguity-keeping local search (at most 15 % of the time left) repairs the
    alignment; the best one that the checker accepts is kept as a fallback and
    as the next round's starting point (CP-SAT hint). The rounds stop when an
    alignment comes back contiguous, when the engine proves that no alignment
    exists, or when time is up; then the fallback is returned with the last
    round's bound, which stays a valid bound because every cut is.
    """
    problem = model.problem
    start = time.perf_counter()
    deadline = start + spec.time_limit_s
    if problem.roots is not None and (problem.roots >= 0).any():
        model = replace(model, rows=model.rows + tuple(neighbour_cuts(problem)))
    hint: np.ndarray | None = None
    fallback: tuple[float, np.ndarray] | None = None

    def consider(alignment: np.ndarray) -> None:
        nonlocal fallback
        if not check_alignment(problem, alignment):
            value = objective_value(problem, alignment)
            if fallback is None or value < fallback[0]:
                fallback = (value, alignment)

    if (problem.current >= 0).all():
        # The current alignment is usually close: search from it first.
        ls_deadline = start + LOCAL_SEARCH_SHARE * spec.time_limit_s
        consider(local_search(model, problem.current, ls_deadline))
        if fallback is not None:
            hint = _values_of(model, fallback[1])
    rounds = cuts = 0
    while True:
        remaining = deadline - time.perf_counter()
        budget = max(remaining * ROUND_SHARE, min(remaining, ROUND_MIN_S), 0.1)
        round_spec = spec.model_copy(update={"time_limit_s": budget})
        try:
            outcome = run_engine(model, round_spec, hint)
        except Exception as exc:  # any engine fault becomes an error status
            return interpret(model, spec, _engine_failure(spec, exc, start))
        rounds += 1
        out_of_time = time.perf_counter() >= deadline - 0.1
        if outcome.pair_values is None:
            if outcome.status is Status.NO_SOLUTION and not out_of_time:
                continue  # the round's share of time was too short: try again
            if fallback is not None and outcome.status is Status.NO_SOLUTION:
                outcome = _from_fallback(model, outcome, fallback[1])
            break
        territory_of = _decode(model, outcome.pair_values)
        if (territory_of < 0).any():
            break
        new_cuts = separator_cuts(problem, territory_of)
        logger.info("contiguity round %d: %d new cuts", rounds, len(new_cuts))
        if not new_cuts:
            break
        remaining = deadline - time.perf_counter()
        ls_deadline = time.perf_counter() + LOCAL_SEARCH_SHARE * remaining
        consider(local_search(model, territory_of, ls_deadline))
        cuts += len(new_cuts)
        model = replace(model, rows=model.rows + tuple(new_cuts))
        hint = _values_of(model, fallback[1]) if fallback else outcome.pair_values
        if time.perf_counter() >= deadline - 0.1:
            if fallback is not None:
                outcome = _from_fallback(model, outcome, fallback[1])
            break
    details = dict(outcome.details) | {"contiguity_rounds": rounds, "cuts": cuts}
    outcome = replace(outcome, runtime_s=time.perf_counter() - start, details=details)
    return interpret(model, spec, outcome)


def solve_problem(problem: Problem, spec: SolverSpec) -> SolveResult:
    """Run pre-solve checks, build and solve the model, verify the answer.

    Raises
    ------
    InfeasibleSpecificationError
        When a pre-solve check proves the scenario infeasible; no engine runs.
    """
    check_presolve(problem)
    if problem.hierarchy is not None and problem.hierarchy.solve == "top_down":
        from territory_opt.decompose import solve_top_down

        return solve_top_down(problem, spec)
    model = build_model(problem)
    if problem.contiguity:
        return _solve_contiguous(model, spec)
    started = time.perf_counter()
    try:
        outcome = run_engine(model, spec)
    except Exception as exc:  # any engine fault becomes an error status
        outcome = _engine_failure(spec, exc, started)
    return interpret(model, spec, outcome)


def interpret(
    model: TerritoryModel, spec: SolverSpec, outcome: EngineOutcome
) -> SolveResult:
    """Turn an engine outcome into a verified :class:`SolveResult`.

    The alignment is decoded and re-verified by the checker; the objective is
    recomputed from it. ``optimal`` needs both the engine's proof and a measured
    gap of at most 1e-4; a broken alignment makes the status ``invalid``.
    """
    problem = model.problem
    status = outcome.status
    objective = bound = gap = None
    assignment = None
    violations: list[str] = []
    message = outcome.message
    if outcome.pair_values is not None and status in (Status.OPTIMAL, Status.FEASIBLE):
        territory_of = _decode(model, outcome.pair_values)
        violations = check_alignment(problem, territory_of)
        if (territory_of >= 0).all():
            assignment = tuple(problem.territory_ids[t] for t in territory_of)
            objective = objective_value(problem, territory_of)
        bound = outcome.best_bound
        if bound is not None and objective is not None:
            bound = min(bound, objective)
        gap = relative_gap(objective, bound)
        if violations:
            message = (
                f"the {outcome.engine} alignment breaks {len(violations)} "
                f"constraint(s); it is not used"
            )
            status = Status.INVALID
        elif status is Status.OPTIMAL and (gap is None or gap > OPTIMALITY_GAP):
            status = Status.FEASIBLE
            message = f"stopped with a relative gap of {gap}" if gap else message
        elif status is Status.FEASIBLE and gap is not None and gap <= OPTIMALITY_GAP:
            message = message or "time limit reached; the gap is within 1e-4"
    elif status is Status.INFEASIBLE:
        message = message or (
            f"{outcome.engine} proved that no alignment meets every band, capacity, "
            f"budget and family rule together"
        )
    elif status is Status.NO_SOLUTION:
        message = message or (
            f"no alignment found within the time limit of {spec.time_limit_s:g} s; "
            f"raise solver.time_limit_s or relax the bands"
        )
    return SolveResult(
        status=status,
        engine=outcome.engine,
        solver_version=outcome.solver_version,
        seed=spec.seed,
        threads=spec.threads,
        time_limit_s=spec.time_limit_s,
        runtime_s=outcome.runtime_s,
        objective=objective,
        solver_objective=outcome.objective,
        best_bound=bound,
        relative_gap=gap,
        account_ids=problem.account_ids,
        assignment=assignment,
        solver_status=outcome.solver_status,
        message=message,
        violations=tuple(violations),
        details=outcome.details,
    )


@dataclass(frozen=True)
class Run:
    """A scenario, its problem and the verified result of solving it.

    ``polygons`` holds the accounts' polygons (a GeoDataFrame in account order)
    when the scenario has them.
    """

    scenario: Scenario
    problem: Problem
    result: SolveResult
    polygons: Any = None


def solve_scenario(scenario: Scenario) -> Run:
    """Load, check and solve a scenario with its own solver settings."""
    problem, polygons = load_inputs(scenario)
    result = solve_problem(problem, scenario.solver)
    return Run(scenario=scenario, problem=problem, result=result, polygons=polygons)
