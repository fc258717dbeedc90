"""Balance-aware tabu search that keeps every territory contiguous.

Used to turn an alignment with stray pieces (or the current alignment) into a
contiguous one inside its bands, and to improve it. Two phases:

1. *Make contiguous*: each territory keeps the piece that holds its home unit
   (or its largest piece); every other unit is handed, one at a time, to the
   adjacent territory that is furthest below its potential target.
2. *Tabu search*: every iteration makes the best move of one boundary unit to a
   neighbouring territory, even a move that makes the score worse, so that the
   search can leave local optima where no single move helps (a territory above
   its potential band whose neighbours sit on theirs). A moved unit may not
   move again for ``tenure`` iterations unless the move beats the best score
   seen (aspiration). A move is allowed only when the unit is not an
   articulation point of its territory (the rest stays connected), is not a
   home unit or locked, and the destination is an allowed pair.

The score of an alignment is

    PENALTY × (band, capacity and disruption-budget excess) + objective,

with band excess Σ_m max(0, load − upper, lower − load) / τ, so one unit of
score is one target's worth of imbalance; the objective is the model's own
(travel, disruption, weighted deviation, cut edges). Scores of all candidate
moves are computed at once with numpy; ties go to the first candidate in
(unit, territory) order, so the search is deterministic. It returns the best
alignment seen, and stops at the deadline, after ``patience`` iterations
without a new best, or when no move is allowed.
"""

from __future__ import annotations

import logging
import time
from collections import deque

import numpy as np

from territory_opt.model import TerritoryModel

logger = logging.getLogger(__name__)

PENALTY = 1000.0


def articulation_points(
    members: np.ndarray, neighbours: list[np.ndarray], inside: np.ndarray
) -> list[int]:
    """Units of ``members`` whose removal disconnects the rest of them.

    ``inside`` is a boolean mask over all units that is True exactly on
    ``members``. Iterative depth-first search (Hopcroft and Tarjan), so deep
    territories do not hit Python's recursion limit. A territory already in
    pieces is handled piece by piece.
    """
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    points: set[int] = set()
    counter = 0
    for start in members.tolist():
        if start in order:
            continue
        order[start] = low[start] = counter
        counter += 1
        root_children = 0
        stack = [(start, -1, iter(neighbours[start].tolist()))]
        while stack:
            node, parent, children = stack[-1]
            advanced = False
            for child in children:
                if not inside[child]:
                    continue
                if child not in order:
                    order[child] = low[child] = counter
                    counter += 1
                    stack.append((child, node, iter(neighbours[child].tolist())))
                    advanced = True
                    break
                if child != parent:
                    low[node] = min(low[node], order[child])
            if advanced:
                continue
            stack.pop()
            if parent < 0:
                continue
            low[parent] = min(low[parent], low[node])
            if parent == start:
                root_children += 1
            elif low[node] >= order[parent]:
                points.add(parent)
        if root_children > 1:
            points.add(start)
    return sorted(points)


class _Search:
    """An alignment with its loads, neighbour counts and move scores."""

    def __init__(self, model: TerritoryModel, territory_of: np.ndarray) -> None:
        problem = model.problem
        assert problem.adjacency is not None
        self.model = model
        self.problem = problem
        n, k = problem.n_accounts, problem.n_territories
        self.n, self.k = n, k
        self.neighbours = problem.adjacency.neighbours()
        self.territory_of = territory_of.astype(np.int64).copy()

        # Metric values, bands and deviation weights, one row per metric.
        balances = problem.balances
        self.values = np.array([b.values for b in balances]).reshape(-1, n)
        self.lower = np.array([b.lower for b in balances]).reshape(-1, k)
        self.upper = np.array([b.upper for b in balances]).reshape(-1, k)
        self.target = np.array([b.target for b in balances]).reshape(-1, k)
        self.dev_weight = np.array(
            [problem.balance_weight * b.weight / k for b in balances]
        ).reshape(-1, 1)
        self.loads = np.array(
            [
                np.bincount(self.territory_of, weights=v, minlength=k)
                for v in self.values
            ]
        ).reshape(-1, k)

        # Capacity as one more metric with only an upper limit.
        self.capacity = np.where(
            problem.capacity_enforced, problem.capacity_hours, np.inf
        ).astype(float)
        self.work = np.bincount(
            self.territory_of, weights=problem.workload_hours, minlength=k
        )

        # Disruption budgets: moved weight against its limit.
        has_current = problem.current >= 0
        self.current = problem.current
        self.budgets: list[tuple[np.ndarray, float]] = []
        for share, weight in (
            (problem.max_moved_accounts_share, np.ones(n)),
            (problem.max_moved_potential_share, problem.potential),
        ):
            if share is not None:
                limit = float(share * weight[has_current].sum())
                self.budgets.append((weight * has_current, max(limit, 1e-12)))
        moved = has_current & (self.territory_of != self.current)
        self.moved = [float(w[moved].sum()) for w, _ in self.budgets]

        cost = np.full((n, k), np.inf)
        cost[problem.pair_account, problem.pair_territory] = model.pair_cost
        self.cost = cost

        # counts[a, t]: neighbours of a in territory t.
        self.counts = np.zeros((n, k), dtype=np.int32)
        for a in range(n):
            np.add.at(self.counts[a], self.territory_of[self.neighbours[a]], 1)
        self.size = np.bincount(self.territory_of, minlength=k)
        self.fixed = np.zeros(n, dtype=bool)
        self.fixed[list(problem.locks)] = True
        if problem.roots is not None:
            self.fixed[problem.roots[problem.roots >= 0]] = True
        self.is_cut = np.zeros(n, dtype=bool)
        for t in range(k):
            self._refresh_cut_points(t)

    def _refresh_cut_points(self, t: int) -> None:
        inside = self.territory_of == t
        members = np.nonzero(inside)[0]
        self.is_cut[members] = False
        self.is_cut[articulation_points(members, self.neighbours, inside)] = True

    def _band_score(self, loads: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Penalty plus weighted deviation of territories ``t`` at ``loads``."""
        tau = self.target[:, t]
        excess = np.maximum(
            0.0, np.maximum(loads - self.upper[:, t], self.lower[:, t] - loads)
        )
        score = PENALTY * excess / tau + self.dev_weight * np.abs(loads - tau) / tau
        return score.sum(axis=0)

    def _capacity_score(self, work: np.ndarray, t: np.ndarray) -> np.ndarray:
        cap = self.capacity[t]
        with np.errstate(invalid="ignore", divide="ignore"):
            over = np.where(np.isfinite(cap), np.maximum(0.0, work - cap) / cap, 0.0)
        return PENALTY * over

    def _budget_score(self, moved: list[float]) -> float:
        return sum(
            PENALTY * max(0.0, m - limit) / limit
            for m, (_, limit) in zip(moved, self.budgets, strict=True)
        )

    def over_band(self) -> np.ndarray:
        """Per territory: True when a band or its capacity does not hold."""
        outside = (self.loads > self.upper * (1 + 1e-12)) | (
            self.loads < self.lower * (1 - 1e-12)
        )
        return np.asarray(outside.any(axis=0) | (self.work > self.capacity))

    def score(self) -> float:
        """PENALTY × excess + objective of the current alignment."""
        every = np.arange(self.k)
        value = float(self._band_score(self.loads, every).sum())
        value += float(self._capacity_score(self.work, every).sum())
        value += self._budget_score(self.moved)
        value += float(self.cost[np.arange(self.n), self.territory_of].sum())
        adjacency = self.problem.adjacency
        if self.model.cut_edge_weight > 0 and adjacency is not None:
            value += self.model.cut_edge_weight * adjacency.cut_edges(self.territory_of)
        return value

    def candidates(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every allowed boundary move (unit, source, destination) and its delta."""
        movable = ~self.fixed & ~self.is_cut & (self.size[self.territory_of] > 1)
        units, dests = np.nonzero(self.counts[movable] > 0)
        units = np.nonzero(movable)[0][units]
        sources = self.territory_of[units]
        keep = (dests != sources) & np.isfinite(self.cost[units, dests])
        units, sources, dests = units[keep], sources[keep], dests[keep]
        if len(units) == 0:
            return units, sources, dests, np.zeros(0)

        v = self.values[:, units]
        delta = (
            self._band_score(self.loads[:, sources] - v, sources)
            - self._band_score(self.loads[:, sources], sources)
            + self._band_score(self.loads[:, dests] + v, dests)
            - self._band_score(self.loads[:, dests], dests)
        )
        h = self.problem.workload_hours[units]
        delta += (
            self._capacity_score(self.work[sources] - h, sources)
            - self._capacity_score(self.work[sources], sources)
            + self._capacity_score(self.work[dests] + h, dests)
            - self._capacity_score(self.work[dests], dests)
        )
        current = self.current[units]
        change = (dests == current).astype(float) * -1.0 + (sources == current).astype(
            float
        )
        for (weight, limit), moved in zip(self.budgets, self.moved, strict=True):
            after = moved + change * weight[units]
            delta += (
                PENALTY
                * (np.maximum(0.0, after - limit) - max(0.0, moved - limit))
                / limit
            )
        delta += self.cost[units, dests] - self.cost[units, sources]
        if self.model.cut_edge_weight > 0:
            delta += self.model.cut_edge_weight * (
                self.counts[units, sources] - self.counts[units, dests]
            )
        return units, sources, dests, delta

    def apply(self, a: int, source: int, dest: int) -> None:
        """Move unit ``a`` from ``source`` to ``dest`` and update every figure."""
        self.loads[:, source] -= self.values[:, a]
        self.loads[:, dest] += self.values[:, a]
        h = self.problem.workload_hours[a]
        self.work[source] -= h
        self.work[dest] += h
        current = self.current[a]
        change = float(current == source) - float(current == dest)
        self.moved = [
            m + change * w[a]
            for m, (w, _) in zip(self.moved, self.budgets, strict=True)
        ]
        near = self.neighbours[a]
        np.add.at(self.counts[:, source], near, -1)
        np.add.at(self.counts[:, dest], near, 1)
        self.size[source] -= 1
        self.size[dest] += 1
        self.territory_of[a] = dest
        self._refresh_cut_points(source)
        self._refresh_cut_points(dest)


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
    max_iterations: int = 200_000,
) -> np.ndarray:
    """Tabu search over contiguity-keeping boundary moves; the best alignment seen.

    ``territory_of`` must be contiguous where the result is to be contiguous:
    moves never break a territory that is whole, and never mend one that is not.
    """
    search = _Search(model, territory_of)
    n = search.n
    tenure = int(min(50, 7 + n // 50))
    patience = max(1_000, 4 * n)
    tabu_until = np.zeros(n, dtype=np.int64)
    score = search.score()
    best_score, best = score, search.territory_of.copy()
    since_best = 0
    for iteration in range(1, max_iterations + 1):
        if since_best >= patience or time.perf_counter() > deadline:
            break
        units, sources, dests, delta = search.candidates()
        over = search.over_band()
        if over.any():
            # While bands or capacities break, only moves that touch a
            # territory outside its limits: the search repairs first.
            focus = over[sources] | over[dests]
            units, sources, dests = units[focus], sources[focus], dests[focus]
            delta = delta[focus]
        if len(units) == 0:
            break
        allowed = (tabu_until[units] < iteration) | (score + delta < best_score - 1e-9)
        if not allowed.any():
            break
        delta = np.where(allowed, delta, np.inf)
        i = int(np.argmin(delta))
        a, source, dest = int(units[i]), int(sources[i]), int(dests[i])
        search.apply(a, source, dest)
        score += float(delta[i])
        tabu_until[a] = iteration + tenure
        if score < best_score - 1e-9:
            # Re-anchor the running score to its definition now and then.
            score = search.score()
            best_score, best = score, search.territory_of.copy()
            since_best = 0
        else:
            since_best += 1
    logger.debug("tabu search: %d iterations, best score %.6g", iteration, best_score)
    return best


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
