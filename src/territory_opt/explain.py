"""Why no alignment exists: a conflict set in plain words and the least relaxation.

Used after an engine proves a scenario infeasible although every pre-solve check
passed. A CP-SAT model of the same rules gives each requirement an enforcement
literal: the band of each territory and metric, the capacity of each territory,
each lock, each disruption budget (families, eligibility and candidate pruning
stay hard). Solving under the assumption that all of them hold returns a subset
that already cannot hold (CP-SAT's sufficient assumptions for infeasibility),
which is shrunk to a minimal one by dropping its members one at a time.

Then each kind of requirement in that set is relaxed alone, everything else kept:

* a band: its metric's tolerance is widened, found by bisection on a grid of
  0.1 percentage points, to the smallest value that admits an alignment;
* capacities: the least extra hours, per territory of the set, by minimising
  their total;
* locks: each lock of the set dropped on its own, then all of them together;
* a disruption budget: its share raised, by bisection on 0.1 points.

Locked accounts may join any eligible territory once their lock is dropped; the
candidate pruning of the scenario is not known for them. Contiguity is not part
of this model: when the rules above can hold together, the explanation says so.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from territory_opt.engines.cpsat import value_scale
from territory_opt.formatting import fmt
from territory_opt.problem import Problem

logger = logging.getLogger(__name__)

GRID = 1000  # tolerance and share grid: thousandths, shown as 0.1 %


@dataclass(frozen=True)
class Requirement:
    """One requirement that can be switched off: a band, capacity, lock, budget."""

    kind: str
    territory: int = -1
    metric: str = ""
    account: int = -1


@dataclass(frozen=True)
class Explanation:
    """A minimal set of requirements that cannot hold together, and fixes.

    ``sentence`` says it in plain words; ``relaxations`` lists the smallest
    change of each kind that makes the scenario feasible on its own; ``complete``
    is false when a time limit cut the search short.
    """

    conflict: tuple[Requirement, ...]
    sentence: str
    relaxations: tuple[str, ...]
    complete: bool = True

    def message(self) -> str:
        """The sentence and the relaxations as one paragraph."""
        text = self.sentence
        if self.relaxations:
            text += "; smallest relaxations that make it feasible: " + "; ".join(
                self.relaxations
            )
        return text


class _Checker:
    """Builds the relaxable CP-SAT model and answers feasibility questions."""

    def __init__(
        self,
        problem: Problem,
        deadline: float,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.problem = problem
        self.deadline = deadline
        self.clock = clock
        self.complete = True
        n, k = problem.n_accounts, problem.n_territories
        allowed = np.zeros((n, k), dtype=bool)
        allowed[problem.pair_account, problem.pair_territory] = True
        family_of = {a: g for g in problem.families for a in g}
        for a in problem.locks:
            for member in family_of.get(a, (a,)):
                allowed[member] = problem.eligible[member]
        for group in problem.families:
            allowed[list(group)] = np.logical_and.reduce(allowed[list(group)], axis=0)
        self.allowed = allowed
        self.requirements = self._requirements()

    def _requirements(self) -> list[Requirement]:
        problem = self.problem
        found = [
            Requirement("band", territory=t, metric=b.metric)
            for b in problem.balances
            for t in range(problem.n_territories)
        ]
        if problem.capacity_enforced:
            found += [
                Requirement("capacity", territory=t)
                for t in range(problem.n_territories)
                if np.isfinite(problem.capacity_hours[t])
            ]
        found += [Requirement("lock", account=a) for a in sorted(problem.locks)]
        for label, share in self._budgets():
            if share is not None:
                found.append(Requirement("budget", metric=label))
        return found

    def _budgets(self) -> list[tuple[str, float | None]]:
        problem = self.problem
        return [
            ("accounts", problem.max_moved_accounts_share),
            ("potential", problem.max_moved_potential_share),
        ]

    def feasible(
        self,
        active: list[Requirement],
        tolerance: dict[str, float] | None = None,
        share: dict[str, float] | None = None,
        core: bool = False,
    ) -> tuple[bool | None, list[Requirement]]:
        """Whether ``active`` requirements can hold (None: time ran out).

        ``tolerance`` and ``share`` override band tolerances and budget shares.
        With ``core``, an infeasible answer comes with the requirements that
        CP-SAT found sufficient for it.
        """
        if self.remaining_s() <= 0:
            self.complete = False
            return None, []
        problem = self.problem
        cp, x = _assignment_model(problem, self.allowed)
        literal = {req: cp.new_bool_var(f"r{i}") for i, req in enumerate(active)}
        for req, lit in literal.items():
            self._state(cp, x, req, lit, tolerance or {}, share or {})
        cp.add_assumptions(list(literal.values()))
        # Building the model took time too: the solve gets only what is left.
        remaining = self.remaining_s()
        if remaining <= 0:
            self.complete = False
            return None, []
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = remaining
        solver.parameters.num_workers = 1
        code = solver.solve(cp)
        if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return True, []
        if code != cp_model.INFEASIBLE:
            self.complete = False
            return None, []
        if not core:
            return False, []
        index = {lit.index: req for req, lit in literal.items()}
        found = solver.sufficient_assumptions_for_infeasibility()
        return False, [index[i] for i in found if i in index]

    def remaining_s(self) -> float:
        """Seconds left before the deadline, on the checker's clock."""
        return self.deadline - self.clock()

    def _state(
        self,
        cp: cp_model.CpModel,
        x: dict[tuple[int, int], cp_model.IntVar],
        req: Requirement,
        lit: cp_model.IntVar,
        tolerance: dict[str, float],
        share: dict[str, float],
    ) -> None:
        """Add the constraints of one requirement, enforced by ``lit``."""
        problem = self.problem
        if req.kind == "lock":
            cp.add(x[req.account, problem.locks[req.account]] == 1).only_enforce_if(lit)
            return
        if req.kind == "band":
            balance = next(b for b in problem.balances if b.metric == req.metric)
            eps = tolerance.get(req.metric, balance.tolerance)
            t = req.territory
            target = float(balance.target[t])
            accounts = [a for a in range(problem.n_accounts) if (a, t) in x]
            _linear(
                cp,
                [x[a, t] for a in accounts],
                balance.values[accounts],
                (1 - eps) * target,
                (1 + eps) * target,
                balance.values,
                lit,
            )
            return
        if req.kind == "capacity":
            t = req.territory
            accounts = [a for a in range(problem.n_accounts) if (a, t) in x]
            _linear(
                cp,
                [x[a, t] for a in accounts],
                problem.workload_hours[accounts],
                -math.inf,
                float(problem.capacity_hours[t]),
                problem.workload_hours,
                lit,
            )
            return
        weight = (
            np.ones(problem.n_accounts)
            if req.metric == "accounts"
            else problem.potential
        )
        limit = share.get(req.metric, dict(self._budgets())[req.metric] or 0.0)
        has_current = problem.current >= 0
        moved = [(a, t) for (a, t) in x if has_current[a] and problem.current[a] != t]
        _linear(
            cp,
            [x[p] for p in moved],
            weight[[a for a, _ in moved]],
            -math.inf,
            limit * float(weight[has_current].sum()),
            weight,
            lit,
        )


def _linear(
    cp: cp_model.CpModel,
    variables: list[cp_model.IntVar],
    coef: np.ndarray,
    lower: float,
    upper: float,
    every: np.ndarray,
    lit: cp_model.IntVar,
) -> None:
    """lower ≤ Σ coef × variables ≤ upper, scaled to integers and rounded outward."""
    scale = value_scale(every)[0]
    ints = np.round(np.asarray(coef, dtype=float) * scale).astype(np.int64)
    slack = float(np.abs(ints - coef * scale).sum()) + 1e-9 * max(
        1.0, float(np.abs(ints).sum())
    )
    low = -(2**62) if not math.isfinite(lower) else math.ceil(lower * scale - slack)
    high = 2**62 if not math.isfinite(upper) else math.floor(upper * scale + slack)
    expr = cp_model.LinearExpr.weighted_sum(variables, [int(c) for c in ints])
    cp.add_linear_constraint(expr, low, high).only_enforce_if(lit)


def explain_infeasibility(
    problem: Problem,
    time_limit_s: float = 10.0,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> Explanation:
    """Find a minimal conflict set of ``problem`` and the relaxations that fix it.

    ``time_limit_s`` bounds the whole search (default 10 s): no CP-SAT solve
    starts after it has passed, and each one is limited to what is left of it.
    When it runs out the conflict found so far is returned with ``complete``
    false. ``clock`` gives the time in seconds (default
    :func:`time.perf_counter`).
    """
    checker = _Checker(problem, clock() + time_limit_s, clock)
    everything = checker.requirements
    answer, core = checker.feasible(everything, core=True)
    if answer is None:
        return Explanation((), "no conflict set found within the time limit", (), False)
    if answer:
        what = (
            "contiguity (geography.contiguity) is part of the conflict"
            if problem.contiguity
            else "the engine's claim of infeasibility is not confirmed"
        )
        return Explanation(
            (),
            "bands, capacities, locks and budgets can hold together; " + what,
            (),
        )

    # Shrink the core: drop each member that is not needed for infeasibility.
    conflict = list(core or everything)
    for req in list(conflict):
        trial = [r for r in conflict if r != req]
        result, _ = checker.feasible(trial)
        if result is False:
            conflict = trial
    conflict.sort(key=lambda r: (r.kind, r.metric, r.territory, r.account))
    relaxations = _relaxations(checker, everything, conflict)
    return Explanation(
        tuple(conflict),
        describe(problem, conflict)
        + (" cannot hold together" if len(conflict) > 1 else " cannot hold"),
        tuple(relaxations),
        checker.complete,
    )


def _relaxations(
    checker: _Checker, everything: list[Requirement], conflict: list[Requirement]
) -> list[str]:
    problem = checker.problem
    out: list[str] = []
    for metric in sorted({r.metric for r in conflict if r.kind == "band"}):
        balance = next(b for b in problem.balances if b.metric == metric)

        def widened(p: int, m: str = metric) -> bool | None:
            return checker.feasible(everything, tolerance={m: p / GRID})[0]

        start = math.floor(balance.tolerance * GRID + 1e-9)
        found = _least_step(start, GRID - 1, widened)
        if found is not None:
            step, exact = found
            out.append(
                f"widen the {metric} band to ±{100 * step / GRID:.1f}%"
                + _untested(exact)
            )
    for metric in sorted({r.metric for r in conflict if r.kind == "budget"}):

        def raised(p: int, m: str = metric) -> bool | None:
            return checker.feasible(everything, share={m: p / GRID})[0]

        current = dict(checker._budgets())[metric] or 0.0
        found = _least_step(math.floor(current * GRID + 1e-9), GRID, raised)
        if found is not None:
            step, exact = found
            out.append(
                f"raise max_disruption {metric}_share to {100 * step / GRID:.1f}%"
                + _untested(exact)
            )
    capacities = [r for r in conflict if r.kind == "capacity"]
    if capacities:
        out += _capacity_raise(checker, everything, capacities)
    locks = [r for r in conflict if r.kind == "lock"]
    for lock in locks:
        rest = [r for r in everything if r != lock]
        if checker.feasible(rest)[0]:
            out.append(f"drop the lock {_lock_words(problem, lock)}")
    if len(locks) > 1 and not any(o.startswith("drop the lock ") for o in out):
        rest = [r for r in everything if r not in locks]
        if checker.feasible(rest)[0]:
            out.append(
                "drop the locks " + _and([_lock_words(problem, lock) for lock in locks])
            )
    return out


def _least_step(
    low: int, high: int, feasible: Callable[[int], bool | None]
) -> tuple[int, bool] | None:
    """Smallest p in (low, high] with ``feasible(p)``, by bisection; None if none.

    ``feasible`` answers None when time ran out, which counts as not feasible;
    the second value says whether every answer was known, that is whether p is
    proven the smallest on the grid.
    """
    if feasible(high) is not True:
        return None
    exact = True
    while high - low > 1:
        middle = (low + high) // 2
        answer = feasible(middle)
        if answer is None:
            exact = False
        if answer is True:
            high = middle
        else:
            low = middle
    return high, exact


def _untested(exact: bool) -> str:
    return "" if exact else " (smaller values were not all tested in time)"


def _capacity_raise(
    checker: _Checker, everything: list[Requirement], capacities: list[Requirement]
) -> list[str]:
    """Least extra hours on the conflict's capacities, all else kept."""
    problem = checker.problem
    others = [r for r in everything if r not in capacities]
    limits = problem.capacity_hours[[r.territory for r in capacities]]
    scale = value_scale(np.concatenate([problem.workload_hours, limits]))[0]
    if checker.remaining_s() <= 0:
        checker.complete = False
        return []
    cp, x = _assignment_model(problem, checker.allowed)
    for req in others:
        lit = cp.new_bool_var("on")
        cp.add(lit == 1)
        checker._state(cp, x, req, lit, {}, {})
    extra = {}
    total_hours = int(round(float(problem.workload_hours.sum()) * scale)) + 1
    for req in capacities:
        t = req.territory
        accounts = [a for a in range(problem.n_accounts) if (a, t) in x]
        ints = np.round(problem.workload_hours[accounts] * scale).astype(np.int64)
        extra[t] = cp.new_int_var(0, total_hours, f"extra{t}")
        load = cp_model.LinearExpr.weighted_sum(
            [x[a, t] for a in accounts], [int(c) for c in ints]
        )
        limit = math.floor(float(problem.capacity_hours[t]) * scale + 1e-9)
        cp.add(load <= limit + extra[t])
    cp.minimize(sum(extra.values()))
    remaining = checker.remaining_s()
    if remaining <= 0:
        checker.complete = False
        return []
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = remaining
    solver.parameters.num_workers = 1
    if solver.solve(cp) != cp_model.OPTIMAL:
        return []
    out: list[str] = []
    for t, var in extra.items():
        hours = solver.value(var) / scale
        if hours > 0:
            cap = float(problem.capacity_hours[t])
            out.append(
                f"raise the capacity of {problem.territory_ids[t]} from {fmt(cap)} to "
                f"{fmt(cap + hours)} hours"
            )
    return out


def _and(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _lock_words(problem: Problem, lock: Requirement) -> str:
    territory = problem.territory_ids[problem.locks[lock.account]]
    return f"of {problem.account_ids[lock.account]} to {territory}"


def describe(problem: Problem, conflict: list[Requirement]) -> str:
    """Plain words for a set of requirements, grouped by kind."""
    parts: list[str] = []
    tids, aids = problem.territory_ids, problem.account_ids
    for balance in problem.balances:
        names = [
            tids[r.territory]
            for r in conflict
            if r.kind == "band" and r.metric == balance.metric
        ]
        if names:
            parts.append(
                f"the ±{100 * balance.tolerance:g}% {balance.metric} band of "
                f"{_and(names)}"
            )
    capacity = [r for r in conflict if r.kind == "capacity"]
    if capacity:
        word = "capacity" if len(capacity) == 1 else "capacities"
        listed = [
            f"{tids[r.territory]} ({fmt(problem.capacity_hours[r.territory])} hours)"
            for r in capacity
        ]
        parts.append(f"the {word} of {_and(listed)}")
    locks = [aids[r.account] for r in conflict if r.kind == "lock"]
    if locks:
        parts.append(f"the lock{'s' if len(locks) > 1 else ''} on {_and(locks)}")
    for r in conflict:
        if r.kind == "budget":
            share = (
                problem.max_moved_accounts_share
                if r.metric == "accounts"
                else problem.max_moved_potential_share
            ) or 0.0
            parts.append(f"the max_disruption {r.metric}_share of {100 * share:g}%")
    return _and(parts) if parts else "the rules"


def _assignment_model(
    problem: Problem, allowed: np.ndarray
) -> tuple[cp_model.CpModel, dict[tuple[int, int], cp_model.IntVar]]:
    """A CP-SAT model with x[a, t] for the allowed pairs, every account in one
    territory and families together: the part every check shares."""
    cp = cp_model.CpModel()
    n, k = problem.n_accounts, problem.n_territories
    x = {
        (a, t): cp.new_bool_var(f"x{a}_{t}")
        for a in range(n)
        for t in range(k)
        if allowed[a, t]
    }
    for a in range(n):
        cp.add_exactly_one(x[a, t] for t in range(k) if (a, t) in x)
    for group in problem.families:
        for member in group[1:]:
            for t in range(k):
                if (group[0], t) in x:
                    cp.add(x[group[0], t] == x[member, t])
    return cp, x
