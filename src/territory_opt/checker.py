"""Independent checker: every constraint recomputed from the alignment alone.

It reads nothing but the problem data and the account → territory mapping; it
shares no code with the model builder or the engines, so that an engine's
claim is never taken on trust. Limits are compared with a relative tolerance of
1e-9 (floating-point noise only).
"""

from __future__ import annotations

import numpy as np

from territory_opt.formatting import fmt
from territory_opt.problem import Problem

TOLERANCE = 1e-9


def _over(value: float, limit: float) -> bool:
    return value > limit + TOLERANCE * max(1.0, abs(limit))


def _under(value: float, limit: float) -> bool:
    return value < limit - TOLERANCE * max(1.0, abs(limit))


def check_alignment(problem: Problem, territory_of: np.ndarray) -> list[str]:
    """Every broken rule of an alignment, one sentence each (empty when valid).

    ``territory_of[a]`` is the territory index of account a, or -1 when the
    account is unassigned.
    """
    issues: list[str] = []
    k = problem.n_territories
    ids, tids = problem.account_ids, problem.territory_ids

    unassigned = np.nonzero((territory_of < 0) | (territory_of >= k))[0]
    for a in unassigned[:10]:
        issues.append(f"account '{ids[a]}' is not assigned to exactly one territory")
    if len(unassigned):
        return issues

    for a, t in sorted(problem.locks.items()):
        if territory_of[a] != t:
            issues.append(
                f"account '{ids[a]}' is locked to '{tids[t]}' but sits in "
                f"'{tids[territory_of[a]]}'"
            )

    for a in np.nonzero(~problem.eligible[np.arange(len(territory_of)), territory_of])[
        0
    ]:
        t = territory_of[a]
        if problem.locks.get(int(a)) != t:
            seg = problem.segment[a] if problem.segment else ""
            issues.append(
                f"account '{ids[a]}' (segment '{seg}') sits in '{tids[t]}', "
                f"which does not serve that segment"
            )

    for group in problem.families:
        places = {int(territory_of[a]) for a in group}
        if len(places) > 1:
            issues.append(
                f"the family of account '{ids[group[0]]}' is split over "
                f"{', '.join(sorted(tids[t] for t in places))}"
            )

    for balance in problem.balances:
        load = np.bincount(territory_of, weights=balance.values, minlength=k)
        for t in range(k):
            if _over(load[t], balance.upper[t]) or _under(load[t], balance.lower[t]):
                issues.append(
                    f"territory '{tids[t]}' holds {fmt(load[t])} of {balance.metric}, "
                    f"outside its band [{fmt(balance.lower[t])}, "
                    f"{fmt(balance.upper[t])}]"
                )

    issues += _hierarchy_issues(problem, territory_of)

    if problem.capacity_enforced:
        load = np.bincount(territory_of, weights=problem.workload_hours, minlength=k)
        for t in range(k):
            if _over(load[t], problem.capacity_hours[t]):
                issues.append(
                    f"territory '{tids[t]}' needs {fmt(load[t])} workload hours, "
                    f"above its capacity {fmt(problem.capacity_hours[t])}"
                )

    if problem.contiguity and problem.adjacency is not None:
        for t in range(k):
            pieces = problem.adjacency.components(territory_of == t)
            if len(pieces) > 1:
                sizes = ", ".join(str(len(p)) for p in pieces[:6])
                issues.append(
                    f"territory '{tids[t]}' is not contiguous: it falls into "
                    f"{len(pieces)} pieces of {sizes} unit(s)"
                )
        if problem.roots is not None:
            for t, root in enumerate(problem.roots.tolist()):
                if root >= 0 and territory_of[root] != t:
                    issues.append(
                        f"territory '{tids[t]}' does not hold its home unit "
                        f"'{ids[root]}'"
                    )

    has_current = problem.current >= 0
    moved = has_current & (territory_of != problem.current)
    budgets = (
        ("accounts", problem.max_moved_accounts_share, np.ones(problem.n_accounts)),
        ("potential", problem.max_moved_potential_share, problem.potential),
    )
    for label, share, weight in budgets:
        if share is None:
            continue
        base, shifted = weight[has_current].sum(), weight[moved].sum()
        if _over(shifted, share * base):
            issues.append(
                f"{fmt(shifted)} of {fmt(base)} {label} moved "
                f"({100 * shifted / base:.2f}%), above max_disruption "
                f"{label}_share {100 * share:g}%"
            )
    return issues


def _hierarchy_issues(problem: Problem, territory_of: np.ndarray) -> list[str]:
    """Keep-within units and level bands, from the units of each territory."""
    tree = problem.hierarchy
    if tree is None:
        return []
    issues = []
    ids, tids = problem.account_ids, problem.territory_ids
    for level, unit_of in tree.keep_within:
        name, units = tree.levels[level], tree.unit_ids[level]
        landed = tree.territory_unit[level][territory_of]
        for a in np.nonzero((unit_of >= 0) & (landed != unit_of))[0][:20]:
            issues.append(
                f"account '{ids[a]}' must stay within {name} '{units[unit_of[a]]}' "
                f"but sits in '{tids[territory_of[a]]}' of {name} "
                f"'{units[landed[a]]}'"
            )
    for balance in tree.balances:
        name, units = tree.levels[balance.level], tree.unit_ids[balance.level]
        per_territory = np.bincount(
            territory_of, weights=balance.values, minlength=problem.n_territories
        )
        for u, unit in enumerate(units):
            load = float(per_territory[tree.territory_unit[balance.level] == u].sum())
            if _over(load, balance.upper[u]) or _under(load, balance.lower[u]):
                issues.append(
                    f"{name} '{unit}' holds {fmt(load)} of {balance.metric}, outside "
                    f"its band [{fmt(balance.lower[u])}, {fmt(balance.upper[u])}]"
                )
    return issues


def objective_value(problem: Problem, territory_of: np.ndarray) -> float:
    """The objective of an alignment, computed from its definition (model docstring)."""
    k = problem.n_territories
    value = 0.0
    workload_total = problem.workload_hours.sum()
    if problem.travel_weight > 0 and workload_total > 0:
        km = _km(problem, territory_of)
        value += (
            problem.travel_weight * float(problem.workload_hours @ km) / workload_total
        )
    has_current = problem.current >= 0
    base = problem.disruption_values[has_current].sum()
    if problem.disruption_weight > 0 and base > 0:
        moved = has_current & (territory_of != problem.current)
        value += (
            problem.disruption_weight * problem.disruption_values[moved].sum() / base
        )
    if problem.cut_edge_weight > 0 and problem.adjacency is not None:
        value += problem.cut_edge_weight * problem.adjacency.cut_edges(territory_of)
    if problem.peak_workload_weight > 0:
        work = np.bincount(territory_of, weights=problem.workload_hours, minlength=k)
        value += problem.peak_workload_weight * float(work.max())
    for balance in problem.balances:
        if problem.balance_weight * balance.weight == 0:
            continue
        load = np.bincount(territory_of, weights=balance.values, minlength=k)
        deviation = np.abs(load - balance.target) / balance.target
        value += problem.balance_weight * balance.weight * float(deviation.mean())
    tree = problem.hierarchy
    for level_balance in tree.balances if tree is not None else ():
        assert tree is not None
        if problem.balance_weight * level_balance.weight == 0:
            continue
        level = level_balance.level
        unit_load = np.bincount(
            tree.territory_unit[level][territory_of],
            weights=level_balance.values,
            minlength=len(tree.unit_ids[level]),
        )
        gaps = np.abs(unit_load - level_balance.target) / level_balance.target
        value += problem.balance_weight * level_balance.weight * float(gaps.mean())
    return value


def _km(problem: Problem, territory_of: np.ndarray) -> np.ndarray:
    from territory_opt.geo import haversine_km

    if problem.home_km is not None:
        return np.asarray(
            problem.home_km[np.arange(len(territory_of)), territory_of], dtype=float
        )
    return np.asarray(
        haversine_km(
            problem.account_lat,
            problem.account_lon,
            problem.territory_lat[territory_of],
            problem.territory_lon[territory_of],
        ),
        dtype=float,
    )
