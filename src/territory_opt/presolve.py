"""Pre-solve diagnostics: requirements that cannot hold, found without a solver.

Each check quotes the numbers that make the scenario infeasible, so that the user
knows what to change: "account '13121' alone holds 30.0 % of all potential (...);
the ±5 % band allows at most ... in any territory".
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict

import numpy as np

from territory_opt.errors import InfeasibleSpecificationError, preview_ids
from territory_opt.formatting import fmt
from territory_opt.problem import Problem

logger = logging.getLogger(__name__)


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def find_conflicts(problem: Problem) -> list[str]:
    """All pre-solve conflicts of ``problem``, one sentence each (empty if none)."""
    conflicts: list[str] = []
    allowed = np.zeros((problem.n_accounts, problem.n_territories), dtype=bool)
    allowed[problem.pair_account, problem.pair_territory] = True
    conflicts += _unassignable(problem, allowed)
    conflicts += _locks_ineligible(problem)
    conflicts += _too_big_for_any_band(problem, allowed)
    conflicts += _locked_load(problem)
    conflicts += _unreachable_minimum(problem, allowed)
    conflicts += _capacity(problem, allowed)
    conflicts += _forced_moves(problem, allowed)
    conflicts += _hierarchy_conflicts(problem, allowed)
    return conflicts


def check_presolve(problem: Problem) -> None:
    """Raise :class:`InfeasibleSpecificationError` when any conflict is found."""
    conflicts = find_conflicts(problem)
    if conflicts:
        lines = "\n".join(f"  - {c}" for c in conflicts)
        raise InfeasibleSpecificationError(
            f"scenario '{problem.name}' cannot be satisfied "
            f"({len(conflicts)} conflict(s) found before solving):\n{lines}",
            conflicts,
        )


def _unassignable(problem: Problem, allowed: np.ndarray) -> list[str]:
    stuck = np.nonzero(~allowed.any(axis=1))[0]
    if len(stuck) == 0:
        return []
    out: list[str] = []
    family_of = {a: g for g in problem.families for a in g}
    by_segment: dict[str, list[str]] = defaultdict(list)
    other: list[str] = []
    for a in stuck:
        account = problem.account_ids[a]
        group = family_of.get(int(a))
        locked = {problem.locks[m] for m in group or () if m in problem.locks}
        if group and len(locked) > 1:
            names = sorted(problem.territory_ids[t] for t in locked)
            out.append(
                f"account '{account}' belongs to a family whose members are locked "
                f"to different territories ({', '.join(names)}); families stay "
                f"together, so unlock all but one"
            )
        elif problem.segment is not None and not problem.eligible[a].any():
            by_segment[problem.segment[a]].append(account)
        else:
            other.append(account)
    for segment, accounts in sorted(by_segment.items()):
        out.append(
            f"segment '{segment}' has no eligible territory: {len(accounts)} "
            f"account(s) ({preview_ids(accounts)}) cannot be assigned; add "
            f"'{segment}' to the segments of at least one territory"
        )
    if other:
        out.append(
            f"{len(other)} account(s) ({preview_ids(other)}) have no allowed "
            f"territory after eligibility, candidate pruning and family rules; "
            f"widen constraints.candidates or check their segments"
        )
    return out


def _locks_ineligible(problem: Problem) -> list[str]:
    out = []
    for a, t in sorted(problem.locks.items()):
        if not problem.eligible[a, t]:
            segment = problem.segment[a] if problem.segment else ""
            out.append(
                f"account '{problem.account_ids[a]}' is locked to territory "
                f"'{problem.territory_ids[t]}', which does not serve its segment "
                f"'{segment}'"
            )
    return out


def _units(problem: Problem) -> list[tuple[str, list[int]]]:
    """Accounts that must move together: families, and every other account alone."""
    in_family = {a for g in problem.families for a in g}
    units = [
        (
            f"family of account '{problem.account_ids[g[0]]}' ({len(g)} accounts)",
            list(g),
        )
        for g in problem.families
    ]
    units += [
        (f"account '{problem.account_ids[a]}'", [a])
        for a in range(problem.n_accounts)
        if a not in in_family
    ]
    return units


def _too_big_for_any_band(problem: Problem, allowed: np.ndarray) -> list[str]:
    out = []
    for balance in problem.balances:
        total = balance.values.sum()
        for label, members in _units(problem):
            value = balance.values[members].sum()
            reachable = allowed[members[0]]
            if not reachable.any():
                continue
            limit = balance.upper[reachable].max()
            if value > limit * (1 + 1e-9):
                needed = _needed_tolerance(value, balance.target[reachable])
                # Rounded up, so that the tolerance suggested does hold it.
                shown = math.ceil(1000 * needed - 1e-9) / 10
                fix = (
                    f"Widen the tolerance to at least ±{shown:.1f}%, use fewer "
                    f"territories, or split the account"
                    if shown < 100
                    else "No band narrower than ±100% can hold it: use fewer "
                    "territories or split the account"
                )
                out.append(
                    f"{label} alone holds {_pct(value / total)} of all "
                    f"{balance.metric} ({fmt(value)} of {fmt(total)}); the "
                    f"±{100 * balance.tolerance:g}% band allows at most {fmt(limit)} "
                    f"({_pct(limit / total)}) in any territory it may join. {fix}"
                )
    return out


def _needed_tolerance(value: float, targets: np.ndarray) -> float:
    return float(value / targets.max() - 1.0)


def _locked_load(problem: Problem) -> list[str]:
    out = []
    by_territory: dict[int, list[int]] = defaultdict(list)
    for a, t in problem.locks.items():
        by_territory[t].append(a)
    for t, accounts in sorted(by_territory.items()):
        name = problem.territory_ids[t]
        ids = [problem.account_ids[a] for a in sorted(accounts)]
        for balance in problem.balances:
            load = balance.values[accounts].sum()
            if load > balance.upper[t] * (1 + 1e-9):
                out.append(
                    f"the accounts locked to territory '{name}' ({preview_ids(ids)}) "
                    f"hold {fmt(load)} of {balance.metric}, above its "
                    f"±{100 * balance.tolerance:g}% band maximum "
                    f"{fmt(balance.upper[t])}"
                )
        cap = problem.capacity_hours[t]
        load = problem.workload_hours[accounts].sum()
        if problem.capacity_enforced and load > cap * (1 + 1e-9):
            out.append(
                f"the accounts locked to territory '{name}' ({preview_ids(ids)}) need "
                f"{fmt(load)} workload hours, above its capacity of {fmt(cap)} hours"
            )
    return out


def _unreachable_minimum(problem: Problem, allowed: np.ndarray) -> list[str]:
    out = []
    for balance in problem.balances:
        reach = balance.values @ allowed
        for t in np.nonzero(reach < balance.lower * (1 - 1e-9))[0]:
            out.append(
                f"territory '{problem.territory_ids[t]}' can reach at most "
                f"{fmt(reach[t])} of {balance.metric} from the accounts it may take, "
                f"below its ±{100 * balance.tolerance:g}% band minimum "
                f"{fmt(balance.lower[t])}; widen constraints.candidates or the band"
            )
    return out


def _capacity(problem: Problem, allowed: np.ndarray) -> list[str]:
    if not problem.capacity_enforced:
        return []
    cap = problem.capacity_hours
    total_cap = cap.sum()
    total_work = problem.workload_hours.sum()
    out = []
    if total_work > total_cap * (1 + 1e-9):
        out.append(
            f"the accounts need {fmt(total_work)} workload hours in all, above the "
            f"territories' total capacity of {fmt(total_cap)} hours"
        )
    best_cap = np.where(allowed, cap[None, :], 0.0).max(axis=1)
    placeable = allowed.any(axis=1)
    too_big = np.nonzero(placeable & (problem.workload_hours > best_cap * (1 + 1e-9)))[
        0
    ]
    for a in too_big[:5]:
        out.append(
            f"account '{problem.account_ids[a]}' needs "
            f"{fmt(problem.workload_hours[a])} workload hours, more than the "
            f"capacity ({fmt(best_cap[a])} hours) of any territory it may join"
        )
    return out


def _forced_moves(problem: Problem, allowed: np.ndarray) -> list[str]:
    has_current = problem.current >= 0
    rows = np.nonzero(has_current)[0]
    forced = np.zeros(problem.n_accounts, dtype=bool)
    forced[rows] = ~allowed[rows, problem.current[rows]]
    out = []
    limits = (
        ("accounts", problem.max_moved_accounts_share, np.ones(problem.n_accounts)),
        ("potential", problem.max_moved_potential_share, problem.potential),
    )
    for label, share, weight in limits:
        if share is None:
            continue
        base = weight[has_current].sum()
        moved = weight[forced].sum()
        if base > 0 and moved > share * base * (1 + 1e-9):
            ids = [problem.account_ids[a] for a in np.nonzero(forced)[0]]
            out.append(
                f"locks and eligibility force {_pct(moved / base)} of {label} to move "
                f"({preview_ids(ids)}), above the max_disruption "
                f"{label}_share of {_pct(share)}"
            )
    return out


def _hierarchy_conflicts(problem: Problem, allowed: np.ndarray) -> list[str]:
    """Locks against keep-within units, and units whose bands cannot hold."""
    tree = problem.hierarchy
    if tree is None:
        return []
    out = []
    for level, unit_of in tree.keep_within:
        name, units = tree.levels[level], tree.unit_ids[level]
        for a, t in sorted(problem.locks.items()):
            home = tree.territory_unit[level][t]
            if unit_of[a] >= 0 and home != unit_of[a]:
                out.append(
                    f"account '{problem.account_ids[a]}' is locked to territory "
                    f"'{problem.territory_ids[t]}' in {name} '{units[home]}', but "
                    f"hierarchy.keep_within keeps it within {name} "
                    f"'{units[unit_of[a]]}'; drop the lock or correct the account"
                )
        out += _kept_load(problem, level, unit_of)
    for balance in tree.balances:
        name, units = tree.levels[balance.level], tree.unit_ids[balance.level]
        reach = balance.values @ allowed
        unit_reach = np.bincount(
            tree.territory_unit[balance.level], weights=reach, minlength=len(units)
        )
        for u in np.nonzero(unit_reach < balance.lower * (1 - 1e-9))[0]:
            out.append(
                f"{name} '{units[u]}' can reach at most {fmt(unit_reach[u])} of "
                f"{balance.metric} from the accounts its territories may take, below "
                f"its ±{100 * balance.tolerance:g}% band minimum "
                f"{fmt(balance.lower[u])}"
            )
    return out


def _kept_load(problem: Problem, level: int, unit_of: np.ndarray) -> list[str]:
    """Accounts kept within a unit against the bands and capacity of that unit."""
    tree = problem.hierarchy
    assert tree is not None
    name, units = tree.levels[level], tree.unit_ids[level]
    out = []
    for u, unit in enumerate(units):
        kept = unit_of == u
        if not kept.any():
            continue
        inside = tree.territory_unit[level] == u
        size = int(inside.sum())
        limits = [
            (
                b.metric,
                b.values,
                float(b.upper[inside].sum()),
                b.tolerance,
                f"its {size} territories' band",
            )
            for b in problem.balances
        ]
        for b in tree.balances:
            if b.level >= level:
                above = tree.territory_unit[b.level][inside][0]
                where = tree.levels[b.level]
                limits.append(
                    (
                        b.metric,
                        b.values,
                        float(b.upper[above]),
                        b.tolerance,
                        f"the {where} band of '{tree.unit_ids[b.level][above]}'",
                    )
                )
        for metric, values, upper, tolerance, what in limits:
            load = float(values[kept].sum())
            total = float(values.sum())
            if load > upper * (1 + 1e-9):
                out.append(
                    f"{name} {unit} holds {_pct(load / total)} of {metric} "
                    f"({fmt(load)}) in accounts kept within it, but {what} "
                    f"(±{100 * tolerance:g}%) allows at most {_pct(upper / total)} "
                    f"({fmt(upper)})"
                )
        if problem.capacity_enforced:
            work = float(problem.workload_hours[kept].sum())
            cap = float(problem.capacity_hours[inside].sum())
            if work > cap * (1 + 1e-9):
                out.append(
                    f"{name} {unit} holds {fmt(work)} workload hours in accounts "
                    f"kept within it, above the {fmt(cap)} hours of capacity of its "
                    f"{size} territories"
                )
    return out
