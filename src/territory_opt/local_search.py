"""Balance-aware local search that keeps every territory contiguous.

Used to turn an alignment with stray pieces (or the current alignment) into a
contiguous one inside its bands, and to improve it. Two phases:

1. *Make contiguous*: each territory keeps the piece that holds its home unit
   (or its largest piece); every other unit is handed, one at a time, to the
   adjacent territory that is furthest below its potential target.
2. *Improve*: move one boundary unit to a neighbouring territory when the
   donor stays connected (and keeps its home unit) and the move lowers the score
   ``1000 × band and capacity excess + objective``. Moves are tried in a fixed
   order (unit, then territory index) and the best one of each pass is made,
   so the search is deterministic. It stops when no move improves, after
   ``max_passes`` passes, or at the deadline.

Band excess is measured as Σ_m max(0, load − upper, lower − load) / τ, so one
unit of score is one target's worth of imbalance.
"""

from __future__ import annotations

import logging
import time
from collections import deque

import numpy as np

from territory_opt.model import TerritoryModel

logger = logging.getLogger(__name__)

PENALTY = 1000.0


def _connected_without(
    members: set[int], removed: int, neighbours: list[np.ndarray]
) -> bool:
    rest = members - {removed}
    if not rest:
        return True
    first = next(iter(rest))
    seen = {first}
    queue = deque([first])
    while queue:
        a = queue.popleft()
        for b in neighbours[a].tolist():
            if b in rest and b not in seen:
                seen.add(b)
                queue.append(b)
    return len(seen) == len(rest)


class _State:
    """Loads and score pieces of an alignment, updated move by move."""

    def __init__(self, model: TerritoryModel, territory_of: np.ndarray) -> None:
        problem = model.problem
        self.model = model
        self.problem = problem
        self.k = problem.n_territories
        self.values = [b.values for b in problem.balances]
        self.lower = [b.lower for b in problem.balances]
        self.upper = [b.upper for b in problem.balances]
        self.target = [b.target for b in problem.balances]
        self.dev_weight = [
            problem.balance_weight * b.weight / self.k for b in problem.balances
        ]
        self.territory_of = territory_of.copy()
        self.loads = [
            np.bincount(territory_of, weights=v, minlength=self.k) for v in self.values
        ]
        self.work = np.bincount(
            territory_of, weights=problem.workload_hours, minlength=self.k
        )
        cost = np.full((problem.n_accounts, self.k), np.inf)
        cost[problem.pair_account, problem.pair_territory] = model.pair_cost
        self.cost = cost

    def territory_score(self, t: int, loads: list[float], work: float) -> float:
        problem = self.problem
        score = 0.0
        for m in range(len(self.values)):
            tau = self.target[m][t]
            excess = max(0.0, loads[m] - self.upper[m][t], self.lower[m][t] - loads[m])
            score += PENALTY * excess / tau
            score += self.dev_weight[m] * abs(loads[m] - tau) / tau
        if problem.capacity_enforced and np.isfinite(problem.capacity_hours[t]):
            over = max(0.0, work - problem.capacity_hours[t])
            score += PENALTY * over / problem.capacity_hours[t]
        return score

    def move_delta(self, a: int, source: int, dest: int) -> float:
        before = self.territory_score(
            source, [ld[source] for ld in self.loads], self.work[source]
        ) + self.territory_score(dest, [ld[dest] for ld in self.loads], self.work[dest])
        h = self.problem.workload_hours[a]
        after = self.territory_score(
            source,
            [ld[source] - v[a] for ld, v in zip(self.loads, self.values, strict=True)],
            self.work[source] - h,
        ) + self.territory_score(
            dest,
            [ld[dest] + v[a] for ld, v in zip(self.loads, self.values, strict=True)],
            self.work[dest] + h,
        )
        delta = after - before + self.cost[a, dest] - self.cost[a, source]
        adjacency = self.problem.adjacency
        if self.model.cut_edge_weight > 0 and adjacency is not None:
            delta += self.model.cut_edge_weight * self._cut_delta(a, source, dest)
        return float(delta)

    def _cut_delta(self, a: int, source: int, dest: int) -> int:
        near = self.neighbours[a]
        labels = self.territory_of[near]
        return int(
            np.count_nonzero(labels == source) - np.count_nonzero(labels == dest)
        )

    def apply(self, a: int, source: int, dest: int) -> None:
        for ld, v in zip(self.loads, self.values, strict=True):
            ld[source] -= v[a]
            ld[dest] += v[a]
        h = self.problem.workload_hours[a]
        self.work[source] -= h
        self.work[dest] += h
        self.territory_of[a] = dest

    neighbours: list[np.ndarray]


def make_contiguous(model: TerritoryModel, territory_of: np.ndarray) -> np.ndarray:
    """Keep each territory's main piece; hand stray units to adjacent territories."""
    problem = model.problem
    assert problem.adjacency is not None
    neighbours = problem.adjacency.neighbours()
    allowed = np.zeros((problem.n_accounts, problem.n_territories), dtype=bool)
    allowed[problem.pair_account, problem.pair_territory] = True
    result = territory_of.copy()
    for t in range(problem.n_territories):
        pieces = problem.adjacency.components(result == t)
        root = -1 if problem.roots is None else int(problem.roots[t])
        keep = 0
        for i, piece in enumerate(pieces):
            if root in set(piece.tolist()):
                keep = i
        for i, piece in enumerate(pieces):
            if i != keep:
                result[piece] = -1
    potential = problem.balances[0] if problem.balances else None
    pending = deque(np.nonzero(result < 0)[0].tolist())
    stalls = 0
    while pending and stalls <= len(pending):
        a = pending.popleft()
        options = sorted(
            {int(result[b]) for b in neighbours[a].tolist() if result[b] >= 0}
            & set(np.nonzero(allowed[a])[0].tolist())
        )
        if not options:
            pending.append(a)
            stalls += 1
            continue
        stalls = 0
        if potential is not None:
            load = np.bincount(
                result[result >= 0],
                weights=potential.values[result >= 0],
                minlength=problem.n_territories,
            )
            options.sort(key=lambda t: load[t] / potential.target[t])
        result[a] = options[0]
    if pending:
        # Units no assigned neighbour can take go back where they were.
        rest = list(pending)
        result[rest] = territory_of[rest]
    return result


def improve(
    model: TerritoryModel,
    territory_of: np.ndarray,
    deadline: float,
    max_passes: int = 5000,
) -> np.ndarray:
    """Best-improvement boundary moves that keep territories contiguous."""
    problem = model.problem
    assert problem.adjacency is not None
    state = _State(model, territory_of)
    state.neighbours = problem.adjacency.neighbours()
    roots = set() if problem.roots is None else set(problem.roots.tolist())
    locked = set(problem.locks)
    members = [set(np.nonzero(territory_of == t)[0].tolist()) for t in range(state.k)]
    for _ in range(max_passes):
        if time.perf_counter() > deadline:
            break
        best: tuple[float, int, int, int] | None = None
        for a in range(problem.n_accounts):
            if a in roots or a in locked:
                continue
            source = int(state.territory_of[a])
            dests = {
                int(state.territory_of[b]) for b in state.neighbours[a].tolist()
            } - {source}
            for dest in sorted(dests):
                if not np.isfinite(state.cost[a, dest]):
                    continue
                delta = state.move_delta(a, source, dest)
                if delta < -1e-12 and (best is None or delta < best[0]):
                    if _connected_without(members[source], a, state.neighbours):
                        best = (delta, a, source, dest)
        if best is None:
            break
        _, a, source, dest = best
        state.apply(a, source, dest)
        members[source].discard(a)
        members[dest].add(a)
    return state.territory_of


def _seeds(model: TerritoryModel, allowed: np.ndarray) -> list[int]:
    """One unit per territory: home unit, else a locked account, else spread out.

    Spread seeds are chosen in turn as the allowed unit farthest, in edges,
    from the seeds chosen so far (from unit 0 for the first); ties go to the
    smallest index.
    """
    from scipy.sparse.csgraph import shortest_path

    problem = model.problem
    assert problem.adjacency is not None
    k = problem.n_territories
    seeds = [-1] * k
    if problem.roots is not None:
        seeds = [int(r) for r in problem.roots.tolist()]
    for a, t in sorted(problem.locks.items()):
        if seeds[t] < 0:
            seeds[t] = a
    matrix = problem.adjacency.matrix()
    taken = [s for s in seeds if s >= 0]
    far = shortest_path(matrix, unweighted=True, indices=taken or [0])
    nearest = np.atleast_2d(far).min(axis=0)
    for t in range(k):
        if seeds[t] >= 0:
            continue
        score = np.where(np.isinf(nearest), problem.n_accounts + 1.0, nearest)
        score = np.where(allowed[:, t], score, -1.0)
        score[taken] = -1.0
        choice = int(np.argmax(score))
        seeds[t] = choice
        taken.append(choice)
        reach = shortest_path(matrix, unweighted=True, indices=[choice])[0]
        nearest = np.minimum(nearest, reach)
    return seeds


def construct(model: TerritoryModel) -> np.ndarray:
    """A contiguous starting alignment grown from one seed per territory.

    Locked accounts start in their territory. The territory furthest below its
    target (first balanced metric, else the number of accounts) takes next the
    adjacent free unit it may hold with the fewest free neighbours (ties: the
    smallest index), so territories grow along the edge of the free area and
    leave it in one piece where they can. Units no territory reaches go to
    the allowed territory with the least load. Identical territories (symmetry
    broken in the problem) are numbered by their smallest account afterwards.
    Deterministic.
    """
    problem = model.problem
    assert problem.adjacency is not None
    n, k = problem.n_accounts, problem.n_territories
    allowed = np.zeros((n, k), dtype=bool)
    allowed[problem.pair_account, problem.pair_territory] = True
    if problem.symmetry_broken:
        # Identical territories: grow freely, then relabel by smallest account.
        allowed[:] = allowed.any(axis=1, keepdims=True)
    if problem.balances:
        size, target = problem.balances[0].values, problem.balances[0].target
    else:
        size, target = np.ones(n), np.full(k, n / k)
    target = np.where(target > 0, target, 1.0)
    neighbours = problem.adjacency.neighbours()
    result = np.full(n, -1, dtype=np.int64)
    load = np.zeros(k)
    for a, t in problem.locks.items():
        result[a] = t
        load[t] += size[a]
    for t, seed in enumerate(_seeds(model, allowed)):
        if result[seed] < 0 and allowed[seed, t]:
            result[seed] = t
            load[t] += size[seed]

    free_neighbours = np.array(
        [int(np.count_nonzero(result[near] < 0)) for near in neighbours]
    )
    while True:
        best: tuple[float, int, int, int] | None = None
        for t in np.argsort(load / target, kind="stable").tolist():
            members = np.nonzero(result == t)[0]
            frontier = {
                b
                for a in members.tolist()
                for b in neighbours[a].tolist()
                if result[b] < 0 and allowed[b, t]
            }
            if frontier:
                unit = min(frontier, key=lambda b: (free_neighbours[b], b))
                best = (0.0, t, unit, 0)
                break
        if best is None:
            break
        _, t, unit, _ = best
        result[unit] = t
        load[t] += size[unit]
        free_neighbours[neighbours[unit]] -= 1
    for a in np.nonzero(result < 0)[0].tolist():
        options = np.nonzero(allowed[a])[0]
        t = int(options[np.argmin(load[options] / target[options])])
        result[a] = t
        load[t] += size[a]
    if problem.symmetry_broken:
        first = [
            int(np.nonzero(result == t)[0].min()) if (result == t).any() else n + t
            for t in range(k)
        ]
        label = np.empty(k, dtype=np.int64)
        label[np.argsort(first, kind="stable")] = np.arange(k)
        result = label[result]
    return result


def local_search(
    model: TerritoryModel, territory_of: np.ndarray, deadline: float
) -> np.ndarray:
    """Make ``territory_of`` contiguous, then improve it until ``deadline``."""
    started = time.perf_counter()
    result = improve(model, make_contiguous(model, territory_of), deadline)
    logger.info("local search: %.2f s", time.perf_counter() - started)
    return result
