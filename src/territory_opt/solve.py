"""Solve a problem: pre-solve checks, model, engine, independent check, result."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from territory_opt.checker import check_alignment, objective_value
from territory_opt.contiguity import (
    closer_neighbour_cuts,
    neighbour_cuts,
    pieces_of,
    separator_cuts,
)
from territory_opt.coordinates import flag_swapped_against_homes
from territory_opt.engines import resolve_engine, run_engine
from territory_opt.engines.cpsat import check_integer_range
from territory_opt.errors import InputError
from territory_opt.explain import Explanation, explain_infeasibility
from territory_opt.geography import polygon_pairs, read_edge_list, read_polygons
from territory_opt.hierarchy import level_metrics, load_hierarchy_input
from territory_opt.local_search import construct, local_search
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
    if scenario.accounts.region is None:
        flag_swapped_against_homes(accounts, territories)
    geography = scenario.geography
    polygons = None
    pairs = None
    if geography is not None:
        order = sorted(
            range(len(accounts.account_id)), key=accounts.account_id.__getitem__
        )
        ids = tuple(accounts.account_id[i] for i in order)
        if geography.polygons is not None:
            polygons = read_polygons(
                geography.polygons, ids, accounts.lat[order], accounts.lon[order]
            )
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
RESTRICTED_SHARE = 0.5
ROUND_MIN_S = 2.0
LOCAL_SEARCH_SHARE = 0.15


def _solve_contiguous(
    model: TerritoryModel, spec: SolverSpec, explain: bool = True
) -> SolveResult:
    """Solve in rounds, adding separator cuts for territories left in pieces.

    The rounds share the time limit: each may use 30 % of what is left (at
    least 2 s), so that several rounds fit. Before the first round (from the
    current alignment, when every account has one) and after every round, a
    contiguity-keeping local search (at most 15 % of the time left) repairs the
    alignment (before the first round, one grown by :func:`construct` when
    some account has no current territory); the best one that the checker
    accepts is kept as a fallback and as the next round's starting point
    (CP-SAT hint). The rounds stop when an
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

    # The current alignment is usually close: search from it first; without
    # one, from a contiguous alignment grown from seeds.
    ls_deadline = start + LOCAL_SEARCH_SHARE * spec.time_limit_s
    if (problem.current >= 0).all():
        consider(local_search(model, problem.current, ls_deadline))
    else:
        consider(local_search(model, construct(model), ls_deadline))
    if fallback is not None:
        hint = _values_of(model, fallback[1])
    if problem.roots is not None and (problem.roots >= 0).any():
        # A restricted model whose every answer is contiguous finds a good
        # contiguous alignment fast; the exact rounds then start from it.
        restricted = replace(
            model, rows=model.rows + tuple(closer_neighbour_cuts(problem))
        )
        budget = RESTRICTED_SHARE * (deadline - time.perf_counter())
        try:
            first = run_engine(
                restricted, spec.model_copy(update={"time_limit_s": budget}), hint
            )
        except Exception as exc:  # any engine fault becomes an error status
            return interpret(model, spec, _engine_failure(spec, exc, start), explain)
        logger.info("contiguity: restricted model %s", first.status.value)
        if first.pair_values is not None:
            found = _decode(model, first.pair_values)
            if (found >= 0).all():
                consider(found)
                remaining = deadline - time.perf_counter()
                ls_deadline = time.perf_counter() + LOCAL_SEARCH_SHARE * remaining
                consider(local_search(model, found, ls_deadline))
        if fallback is not None:
            hint = _values_of(model, fallback[1])
    rounds = cuts = 0
    bound: float | None = None
    while True:
        remaining = deadline - time.perf_counter()
        budget = max(remaining * ROUND_SHARE, min(remaining, ROUND_MIN_S), 0.1)
        round_spec = spec.model_copy(update={"time_limit_s": budget})
        try:
            outcome = run_engine(model, round_spec, hint)
        except Exception as exc:  # any engine fault becomes an error status
            return interpret(model, spec, _engine_failure(spec, exc, start), explain)
        rounds += 1
        if outcome.best_bound is not None:
            # Every round solves a relaxation of the contiguous problem.
            bound = (
                max(bound, outcome.best_bound)
                if bound is not None
                else (outcome.best_bound)
            )
        out_of_time = time.perf_counter() >= deadline - 0.1
        if outcome.pair_values is None:
            if outcome.status is Status.NO_SOLUTION and not out_of_time:
                continue  # the round's share of time was too short: try again
            break
        territory_of = _decode(model, outcome.pair_values)
        if (territory_of < 0).any():
            break
        new_cuts = separator_cuts(problem, territory_of)
        logger.info("contiguity round %d: %d new cuts", rounds, len(new_cuts))
        if not new_cuts:
            consider(territory_of)
            break
        # Repair for at most as long as the round took (at least 1 s), so that
        # fast rounds are not starved by the search between them.
        remaining = deadline - time.perf_counter()
        search_s = min(LOCAL_SEARCH_SHARE * remaining, max(1.0, outcome.runtime_s))
        consider(local_search(model, territory_of, time.perf_counter() + search_s))
        cuts += len(new_cuts)
        model = replace(model, rows=model.rows + tuple(new_cuts))
        hint = _values_of(model, fallback[1]) if fallback else outcome.pair_values
        if time.perf_counter() >= deadline - 0.1:
            break
    outcome = _settle(model, outcome, fallback, bound)
    details = dict(outcome.details) | {"contiguity_rounds": rounds, "cuts": cuts}
    outcome = replace(outcome, runtime_s=time.perf_counter() - start, details=details)
    return interpret(model, spec, outcome, explain)


def _settle(
    model: TerritoryModel,
    outcome: EngineOutcome,
    fallback: tuple[float, np.ndarray] | None,
    bound: float | None,
) -> EngineOutcome:
    """The last round's outcome, or the best contiguous alignment seen instead.

    The last round's own alignment stands when it is contiguous and no worse
    than the best one from the restricted model and local search; a proof of
    infeasibility stands as it is. Without any contiguous alignment the run
    found none: a broken one is never passed on as the answer.
    """
    problem = model.problem
    if outcome.status is Status.INFEASIBLE:
        return outcome
    own: float | None = None
    if outcome.pair_values is not None:
        territory_of = _decode(model, outcome.pair_values)
        if (territory_of >= 0).all() and not check_alignment(problem, territory_of):
            own = objective_value(problem, territory_of)
    if own is not None and (fallback is None or own <= fallback[0] + 1e-12):
        return replace(outcome, best_bound=bound)
    if fallback is not None:
        return replace(_from_fallback(model, outcome, fallback[1]), best_bound=bound)
    broken = ""
    if outcome.pair_values is not None:
        pieces = pieces_of(problem, _decode(model, outcome.pair_values))
        broken = f"; the last alignment left {len(pieces)} territory(ies) in pieces"
    return replace(
        outcome,
        status=Status.NO_SOLUTION,
        pair_values=None,
        best_bound=bound,
        message=f"no contiguous alignment inside every band found in time{broken}; "
        f"raise solver.time_limit_s or widen the bands",
    )


def solve_problem(
    problem: Problem, spec: SolverSpec, *, explain: bool = True
) -> SolveResult:
    """Run pre-solve checks, build and solve the model, verify the answer.

    With ``spec.cross_check`` and several threads the problem is solved again
    with one thread and the two answers compared (:func:`compare_runs`). With
    ``explain`` (the default) a proven infeasibility comes with its conflict
    set and relaxations (:mod:`territory_opt.explain`).

    Raises
    ------
    InfeasibleSpecificationError
        When a pre-solve check proves the scenario infeasible; no engine runs.
    """
    check_presolve(problem)
    if problem.hierarchy is not None and problem.hierarchy.solve == "top_down":
        from territory_opt.decompose import solve_top_down

        return solve_top_down(problem, spec)
    result = _solve_once(problem, spec, explain)
    if spec.cross_check and spec.threads > 1:
        single = _solve_once(problem, spec.model_copy(update={"threads": 1}), explain)
        result = compare_runs(result, single)
    return result


def compare_runs(several: SolveResult, single: SolveResult) -> SolveResult:
    """``several`` (many threads) with the comparison against ``single`` added.

    The runs disagree when one proves infeasibility and the other returns a
    verified alignment, or when both prove optimality with objectives more
    than 1e-6 (relative) apart. A disagreement is a solver inconsistency: it is
    logged, named in the message and in ``details["cross_check"]``, and a
    verified alignment is kept but no longer called optimal.
    """
    found = {Status.OPTIMAL, Status.FEASIBLE}
    problem = ""
    if {several.status, single.status} & {Status.INFEASIBLE} and (
        several.status in found or single.status in found
    ):
        problem = (
            f"with {several.threads} threads the status is '{several.status}', "
            f"with 1 thread '{single.status}'"
        )
    elif (
        several.status is Status.OPTIMAL
        and single.status is Status.OPTIMAL
        and several.objective is not None
        and single.objective is not None
        and abs(several.objective - single.objective)
        > 1e-6 * max(1.0, abs(single.objective))
    ):
        problem = (
            f"both runs claim optimality but the objective is {several.objective!r} "
            f"with {several.threads} threads and {single.objective!r} with 1"
        )
    report = {
        "threads": [several.threads, 1],
        "statuses": [str(several.status), str(single.status)],
        "objectives": [several.objective, single.objective],
        "agree": not problem,
    }
    details = several.details | {"cross_check": report}
    if not problem:
        return replace(several, details=details)
    logger.warning("solver inconsistency: %s", problem)
    base = several if several.status in found else single
    status = Status.FEASIBLE if base.status is Status.OPTIMAL else base.status
    message = f"solver inconsistency: {problem}; the verified alignment is kept"
    if base.status not in found:
        message = f"solver inconsistency: {problem}"
    return replace(base, status=status, message=message, details=details)


def _solve_once(problem: Problem, spec: SolverSpec, explain: bool) -> SolveResult:
    """One solve with ``spec``; CP-SAT's integer range is checked first."""
    model = build_model(problem)
    notes = []
    if resolve_engine(spec.engine) == "cpsat":
        notes = check_integer_range(model)
        for note in notes:
            logger.info("%s", note)
    if problem.contiguity:
        result = _solve_contiguous(model, spec, explain)
    else:
        started = time.perf_counter()
        try:
            outcome = run_engine(model, spec)
        except Exception as exc:  # any engine fault becomes an error status
            outcome = _engine_failure(spec, exc, started)
        result = interpret(model, spec, outcome, explain)
    if notes:
        result = replace(result, details=result.details | {"integer_scaling": notes})
    return result


EXPLAIN_LIMIT_S = 20.0


def explain_budget_s(time_limit_s: float, used_s: float) -> float:
    """Seconds the explanation may take: what the solve left of its time limit,
    and at most ``EXPLAIN_LIMIT_S``; 0 when nothing is left."""
    return max(0.0, min(time_limit_s - used_s, EXPLAIN_LIMIT_S))


def _explain(problem: Problem, spec: SolverSpec, used_s: float) -> Explanation | None:
    """The conflict behind a proven infeasibility, or None if the search fails.

    The search gets what is left of the time limit after ``used_s`` seconds.
    """
    try:
        budget_s = explain_budget_s(spec.time_limit_s, used_s)
        return explain_infeasibility(problem, budget_s)
    except Exception as exc:  # an explanation must never hide the status
        logger.warning("could not explain the infeasibility: %s", exc)
        return None


def interpret(
    model: TerritoryModel,
    spec: SolverSpec,
    outcome: EngineOutcome,
    explain: bool = True,
) -> SolveResult:
    """Turn an engine outcome into a verified :class:`SolveResult`.

    The alignment is decoded and re-verified by the checker; the objective is
    recomputed from it. ``optimal`` needs both the engine's proof and a measured
    gap of at most 1e-4; a broken alignment makes the status ``invalid``. With
    ``explain``, a proven infeasibility is explained in the message and in
    ``details``, within what the solve left of the time limit (at most 20 s).
    """
    problem = model.problem
    status = outcome.status
    objective = bound = gap = None
    assignment = None
    violations: list[str] = []
    message = outcome.message
    details = dict(outcome.details)
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
    elif status is Status.INFEASIBLE and not message:
        message = (
            f"{outcome.engine} proved that no alignment meets every band, capacity, "
            f"lock, budget and family rule together"
        )
        explanation = _explain(problem, spec, outcome.runtime_s) if explain else None
        if explanation is not None:
            message += ": " + explanation.message()
            details = details | {
                "conflict": explanation.sentence,
                "relaxations": list(explanation.relaxations),
                "conflict_complete": explanation.complete,
            }
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
        details=details,
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
