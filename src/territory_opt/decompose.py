r"""Top-down solving of a hierarchy: regions first, then districts, then territories.

With levels ℓ = 0 .. L−1 (bottom-up) the solve runs L + 1 stages, from the top.
Stage s places accounts into the units of level c = L − 1 − s (the territories
when c = −1), one sub-problem per unit p of the level above (one sub-problem for
the whole map at the first stage):

    accounts  A(p): those the previous stage put into p (all accounts at first)
    children  the units of level c under p, each acting as one territory g with
              fte[g] = Σ_{t ∈ T(g)} fte[t]; cap[g] = Σ cap[t];
              τ[g, m] = Σ τ[t, m]; band [Σ (1 − ε) τ[t, m], Σ (1 + ε) τ[t, m]];
              segments the union; (a, g) allowed when some (a, t), t ∈ T(g), is;
              d[a, g] = min_{t ∈ T(g)} d[a, t], the km to its nearest home;
              locks and home units locked into the unit above them.
    bands     level bands of level c and above keep their own unit targets.

Every target is taken from the full problem, so the last stage's sub-problems
carry exactly the scenario's territory bands, and a merged alignment whose parts
are feasible meets every band: a territory's band is in its own sub-problem, a
unit's band in the sub-problem that created it. The unit bands Σ (1 ∓ ε) τ are
necessary for its territories' bands, so the upper stages cut off no alignment
that the lower stages could complete; they do not guarantee that a unit's
accounts split into its territories' bands (a lower stage can then prove its
part infeasible, which is reported as such, naming the unit).

Each sub-problem is an ordinary :class:`Problem` solved by
:func:`territory_opt.solve.solve_problem` (pre-solve checks, model, engine,
checker). Sub-problems of one stage run in parallel on local processes; a stage
may use its share of the remaining time limit (remaining / stages left), split
over the waves of workers. With contiguity a sub-problem keeps the adjacency
induced by its accounts: a territory connected inside its unit is connected in
the whole map. The merged alignment is re-verified by the checker on the full
problem, and its objective recomputed there. No bound is reported: the
decomposition fixes the upper stages' choices, so the parts' bounds do not bound
the full problem. ``constraints.max_disruption`` is a budget over the whole map
and does not split into parts: each part applies the share to the accounts whose
current territory lies in it, and the full check decides.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np

from territory_opt.adjacency import Adjacency
from territory_opt.checker import check_alignment, objective_value
from territory_opt.errors import InfeasibleSpecificationError
from territory_opt.hierarchy import Hierarchy, LevelBalance
from territory_opt.problem import Balance, Problem
from territory_opt.result import SolveResult, Status
from territory_opt.scenario import SolverSpec

logger = logging.getLogger(__name__)

# From best to worst: the merged status is the worst of the parts.
SEVERITY = (
    Status.OPTIMAL,
    Status.FEASIBLE,
    Status.NO_SOLUTION,
    Status.INFEASIBLE,
    Status.INVALID,
    Status.ERROR,
)
MIN_PART_TIME_S = 0.5


@dataclass(frozen=True)
class Part:
    """One sub-problem: the accounts and territories under one unit."""

    label: str
    accounts: np.ndarray
    territories: np.ndarray


def _group_sum(group: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(group, weights=values, minlength=size)


def _sub_hierarchy(
    tree: Hierarchy, accounts: np.ndarray, first: np.ndarray, start: int
) -> Hierarchy:
    """The hierarchy of a sub-problem whose territories are units of ``start``.

    ``first[g]`` is a territory under group g (full index); levels below
    ``start`` are dropped (the allowed pairs already enforce their keep-within).
    """
    levels = range(start, len(tree.levels))
    unit_ids, territory_unit, renumber = [], [], []
    for level in levels:
        full = tree.territory_unit[level][first]
        present = np.unique(full)
        index = np.full(len(tree.unit_ids[level]), -1, dtype=np.int64)
        index[present] = np.arange(len(present))
        unit_ids.append(tuple(tree.unit_ids[level][u] for u in present))
        territory_unit.append(index[full])
        renumber.append((present, index))
    keep = []
    for level, unit_of in tree.keep_within:
        if level >= start:
            index = renumber[level - start][1]
            local = unit_of[accounts]
            keep.append((level - start, np.where(local >= 0, index[local], -1)))
    balances = []
    for balance in tree.balances:
        if balance.level >= start:
            present = renumber[balance.level - start][0]
            balances.append(
                LevelBalance(
                    level=balance.level - start,
                    metric=balance.metric,
                    tolerance=balance.tolerance,
                    weight=balance.weight,
                    values=balance.values[accounts],
                    target=balance.target[present],
                    lower=balance.lower[present],
                    upper=balance.upper[present],
                )
            )
    return Hierarchy(
        levels=tree.levels[start:],
        unit_ids=tuple(unit_ids),
        territory_unit=np.array(territory_unit, dtype=np.int64).reshape(
            len(unit_ids), len(first)
        ),
        keep_within=tuple(keep),
        balances=tuple(balances),
    )


def project(
    problem: Problem,
    part: Part,
    group: np.ndarray,
    group_ids: tuple[str, ...],
    child_level: int,
) -> Problem:
    """The sub-problem of ``part`` whose territories are the groups of its
    territories (``group[i]`` for ``part.territories[i]``); ``child_level`` is the
    level of the groups, -1 when they are the territories themselves.
    """
    acc, terr = part.accounts, part.territories
    size, n = len(group_ids), len(acc)
    local_account = np.full(problem.n_accounts, -1, dtype=np.int64)
    local_account[acc] = np.arange(n)
    group_of = np.full(problem.n_territories, -1, dtype=np.int64)
    group_of[terr] = group
    first = np.array([terr[np.argmax(group == g)] for g in range(size)])
    single = child_level < 0

    # Allowed pairs: (a, g) when some allowed (a, t) has t in g; km to the nearest.
    keep = (local_account[problem.pair_account] >= 0) & (
        group_of[problem.pair_territory] >= 0
    )
    pa = local_account[problem.pair_account[keep]]
    pg = group_of[problem.pair_territory[keep]]
    key = pa * size + pg
    order = np.lexsort((problem.pair_km[keep], key))
    key, km = key[order], problem.pair_km[keep][order]
    unique_key, start = np.unique(key, return_index=True)
    pair_account, pair_territory = unique_key // size, unique_key % size
    pair_km = km[start]

    balances = tuple(
        Balance(
            metric=b.metric,
            tolerance=b.tolerance,
            weight=b.weight,
            values=b.values[acc],
            target=_group_sum(group, b.target[terr], size),
            lower=_group_sum(group, b.lower[terr], size),
            upper=_group_sum(group, b.upper[terr], size),
        )
        for b in problem.balances
    )
    eligible = np.stack(
        [
            problem.eligible[np.ix_(acc, terr[group == g])].any(axis=1)
            for g in range(size)
        ],
        axis=1,
    )
    segments = []
    for g in range(size):
        served = [problem.territory_segments[t] for t in terr[group == g]]
        segments.append(
            None if any(s is None for s in served) else frozenset().union(*served)
        )

    # Locks and home units go to the group of their territory.
    locks = {
        int(local_account[a]): int(group_of[t])
        for a, t in problem.locks.items()
        if local_account[a] >= 0 and group_of[t] >= 0
    }
    roots = None
    if problem.roots is not None:
        roots = np.full(size, -1, dtype=np.int64)
        for t in terr:
            root = int(problem.roots[t])
            if root >= 0 and local_account[root] >= 0:
                locks[int(local_account[root])] = int(group_of[t])
                if roots[group_of[t]] < 0:
                    roots[group_of[t]] = local_account[root]
    families = tuple(
        f
        for f in (
            tuple(int(local_account[a]) for a in members if local_account[a] >= 0)
            for members in problem.families
        )
        if len(f) > 1
    )
    adjacency = None
    if problem.adjacency is not None:
        ends = local_account[problem.adjacency.edges]
        inside = (ends >= 0).all(axis=1)
        adjacency = Adjacency.from_pairs(n, ends[inside])
    home_km = None
    if not single:
        home_km = np.zeros((n, size))
        home_km[pair_account, pair_territory] = pair_km
    current = problem.current[acc]
    current = np.where(current >= 0, group_of[np.maximum(current, 0)], -1)
    tree = problem.hierarchy
    assert tree is not None
    nan = np.full(size, np.nan)
    return replace(
        problem,
        name=f"{problem.name}[{part.label}]",
        account_ids=tuple(problem.account_ids[a] for a in acc),
        territory_ids=group_ids,
        rep_ids=tuple(problem.rep_ids[t] if single else "" for t in first),
        account_lat=problem.account_lat[acc],
        account_lon=problem.account_lon[acc],
        territory_lat=problem.territory_lat[first] if single else nan,
        territory_lon=problem.territory_lon[first] if single else nan,
        potential=problem.potential[acc],
        workload_hours=problem.workload_hours[acc],
        revenue=None if problem.revenue is None else problem.revenue[acc],
        segment=None
        if problem.segment is None
        else tuple(problem.segment[a] for a in acc),
        territory_segments=tuple(segments),
        parent=tuple(problem.parent[t] if single else "" for t in first),
        fte=_group_sum(group, problem.fte[terr], size),
        capacity_hours=_group_sum(group, problem.capacity_hours[terr], size),
        current=current.astype(np.int64),
        families=families,
        locks=locks,
        balances=balances,
        eligible=eligible,
        pair_account=pair_account.astype(np.int64),
        pair_territory=pair_territory.astype(np.int64),
        pair_km=pair_km,
        disruption_values=problem.disruption_values[acc],
        adjacency=adjacency,
        roots=roots,
        symmetry_broken=False,
        hierarchy=_sub_hierarchy(tree, acc, first, max(child_level, 0)),
        home_km=home_km,
        extra={},
    )


def _solve_part(problem: Problem, spec: SolverSpec) -> SolveResult | str:
    """Solve one sub-problem; a pre-solve conflict comes back as its message."""
    from territory_opt.solve import solve_problem

    try:
        return solve_problem(problem, spec)
    except InfeasibleSpecificationError as exc:
        return str(exc)


def _run_stage(
    problems: list[Problem], spec: SolverSpec, workers: int, budget_s: float
) -> list[SolveResult | str]:
    """Solve the sub-problems of one stage, in parallel when there are several."""
    used = max(1, min(workers, len(problems)))
    waves = math.ceil(len(problems) / used)
    limit = max(budget_s / waves, MIN_PART_TIME_S)
    threads = spec.threads if used == 1 else max(1, spec.threads // used)
    part_spec = spec.model_copy(update={"time_limit_s": limit, "threads": threads})
    if used == 1:
        return [_solve_part(p, part_spec) for p in problems]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=used, mp_context=context) as pool:
        futures = [pool.submit(_solve_part, p, part_spec) for p in problems]
        return [f.result() for f in futures]


def _groups(
    problem: Problem, part: Part, child_level: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Group index of each territory of ``part`` and the groups' ids, in id order."""
    if child_level < 0:
        return np.arange(len(part.territories)), tuple(
            problem.territory_ids[t] for t in part.territories
        )
    tree = problem.hierarchy
    assert tree is not None
    units = tree.territory_unit[child_level][part.territories]
    present, group = np.unique(units, return_inverse=True)
    return group.astype(np.int64), tuple(tree.unit_ids[child_level][u] for u in present)


def solve_top_down(problem: Problem, spec: SolverSpec) -> SolveResult:
    """Solve ``problem`` level by level from the top of its hierarchy.

    Returns one :class:`SolveResult` for the full problem: the status is the
    worst of the parts', and at best ``feasible`` since optimal parts do not prove
    the whole optimal (``invalid`` when the merged alignment breaks a rule),
    the objective is recomputed on the full problem, and no bound is given.
    """
    tree = problem.hierarchy
    assert tree is not None
    started = time.perf_counter()
    deadline = started + spec.time_limit_s
    workers = tree.workers or os.cpu_count() or 1
    territory_of = np.full(problem.n_accounts, -1, dtype=np.int64)
    parts = [
        Part("all", np.arange(problem.n_accounts), np.arange(problem.n_territories))
    ]
    report: list[dict[str, object]] = []
    results: list[SolveResult] = []
    for child_level in range(len(tree.levels) - 1, -2, -1):
        stages_left = child_level + 2
        budget = max(deadline - time.perf_counter(), 0.0) / stages_left
        grouped = [_groups(problem, part, child_level) for part in parts]
        problems = [
            project(problem, part, group, ids, child_level)
            for part, (group, ids) in zip(parts, grouped, strict=True)
        ]
        outcomes = _run_stage(problems, spec, workers, budget)
        used = max(1, min(workers, len(problems)))
        level = "territory" if child_level < 0 else tree.levels[child_level]
        logger.info("top-down: %d part(s) into %s units", len(parts), level)
        next_parts = []
        for part, (group, ids), outcome in zip(parts, grouped, outcomes, strict=True):
            if isinstance(outcome, str):
                raise InfeasibleSpecificationError(
                    f"top-down, placing the accounts of {part.label} into {level} "
                    f"units: {outcome}",
                    [outcome],
                )
            results.append(outcome)
            report.append(
                {
                    "part": part.label,
                    "into": level,
                    "accounts": int(len(part.accounts)),
                    "children": len(ids),
                    "status": str(outcome.status),
                    "objective": outcome.objective,
                    "runtime_s": round(outcome.runtime_s, 3),
                    "workers": used,
                }
            )
            if not outcome.has_alignment:
                return _unfinished(problem, spec, outcome, part, level, report)
            local = {g: i for i, g in enumerate(ids)}
            chosen = np.array([local[g] for g in outcome.assignment or ()])
            if child_level < 0:
                territory_of[part.accounts] = part.territories[chosen]
                continue
            for g, unit in enumerate(ids):
                next_parts.append(
                    Part(
                        f"{level} '{unit}'",
                        part.accounts[chosen == g],
                        part.territories[group == g],
                    )
                )
        parts = next_parts
    return _merged(problem, spec, territory_of, results, report, started)


def _unfinished(
    problem: Problem,
    spec: SolverSpec,
    outcome: SolveResult,
    part: Part,
    level: str,
    report: list[dict[str, object]],
) -> SolveResult:
    """The result when a part has no alignment: its status, no alignment."""
    note = (
        "; a part proved infeasible does not prove the whole scenario infeasible "
        "(try hierarchy.solve: monolithic)"
        if outcome.status is Status.INFEASIBLE
        else ""
    )
    return replace(
        outcome,
        account_ids=problem.account_ids,
        assignment=None,
        objective=None,
        best_bound=None,
        relative_gap=None,
        time_limit_s=spec.time_limit_s,
        message=f"top-down stopped at {part.label} (placing its accounts into "
        f"{level} units): {outcome.status}: {outcome.message}{note}",
        details={"top_down": report},
    )


def _merged(
    problem: Problem,
    spec: SolverSpec,
    territory_of: np.ndarray,
    results: list[SolveResult],
    report: list[dict[str, object]],
    started: float,
) -> SolveResult:
    """One verified result for the merged alignment of every part."""
    # Optimal parts do not make an optimal whole: the upper stages fixed choices.
    status = max((Status.FEASIBLE, *(r.status for r in results)), key=SEVERITY.index)
    violations = check_alignment(problem, territory_of)
    message = (
        f"top-down in {len(results)} part(s); no bound is reported, as a bound "
        f"holds only for a monolithic solve"
    )
    if violations:
        status = Status.INVALID
        message = (
            f"the merged top-down alignment breaks {len(violations)} constraint(s) "
            f"of the full problem; it is not used"
        )
    return SolveResult(
        status=status,
        engine=results[0].engine,
        solver_version=results[0].solver_version,
        seed=spec.seed,
        threads=spec.threads,
        time_limit_s=spec.time_limit_s,
        runtime_s=time.perf_counter() - started,
        objective=objective_value(problem, territory_of),
        solver_objective=None,
        best_bound=None,
        relative_gap=None,
        account_ids=problem.account_ids,
        assignment=tuple(problem.territory_ids[t] for t in territory_of),
        solver_status="top_down",
        message=message,
        violations=tuple(violations),
        details={"top_down": report},
    )
