"""Contiguity by separator cuts added in rounds, and repair by local moves.

A territory is contiguous when its accounts induce a connected subgraph of the
adjacency graph (and hold its home unit, if it has one). Rather than one flow
variable per edge and territory, which does not scale, the model starts without
contiguity; after each solve, every territory that fell into pieces yields
separator cuts (Validi, Buchanan & Lykhovyd 2022): for a piece C that does not
hold the home unit r and a vertex set S separating C from r,

    Σ_{s ∈ S} x[s, t] ≥ x[a, t]                  for every a in C,

and, for a territory without a home unit, with b in its largest piece,

    Σ_{s ∈ S} x[s, t] ≥ x[a, t] + x[b, t] − 1.

Every connected alignment satisfies these, so the rounds never cut off a
feasible answer, and an optimum that is connected is optimal for the
contiguous problem. When time runs out with pieces left, :func:`repair` moves
each stray piece to a neighbouring territory whose bands and capacity still
hold, cheapest first.
"""

from __future__ import annotations

import logging

import numpy as np

from territory_opt.adjacency import separator
from territory_opt.model import Row, TerritoryModel, pair_lookup
from territory_opt.problem import Problem

logger = logging.getLogger(__name__)


def pieces_of(
    problem: Problem, territory_of: np.ndarray
) -> dict[int, list[np.ndarray]]:
    """For every territory in more than one piece, its pieces (largest first)."""
    assert problem.adjacency is not None
    broken = {}
    for t in range(problem.n_territories):
        pieces = problem.adjacency.components(territory_of == t)
        if len(pieces) > 1:
            broken[t] = pieces
    return broken


def _anchor(problem: Problem, t: int, pieces: list[np.ndarray]) -> tuple[int, int]:
    """Index of the main piece (the one with the home unit, else the largest)
    and the home unit (-1 when the territory has none)."""
    root = -1 if problem.roots is None else int(problem.roots[t])
    if root >= 0:
        for i, piece in enumerate(pieces):
            if root in set(piece.tolist()):
                return i, root
    return 0, -1


def separator_cuts(problem: Problem, territory_of: np.ndarray) -> list[Row]:
    """Cuts that the alignment ``territory_of`` breaks, one per stray unit."""
    assert problem.adjacency is not None
    neighbours = problem.adjacency.neighbours()
    rows: list[Row] = []
    for t, pieces in pieces_of(problem, territory_of).items():
        main, root = _anchor(problem, t, pieces)
        target = pieces[main]
        anchor = root if root >= 0 else int(target[0])
        for i, piece in enumerate(pieces):
            if i == main:
                continue
            cut = separator(problem.adjacency, neighbours, piece, target)
            cut_pairs = pair_lookup(problem, cut, np.full(len(cut), t))
            cut_pairs = cut_pairs[cut_pairs >= 0]
            anchor_pair = int(
                pair_lookup(problem, np.array([anchor]), np.array([t]))[0]
            )
            for a in piece:
                a_pair = int(pair_lookup(problem, np.array([a]), np.array([t]))[0])
                pairs = [*cut_pairs.tolist(), a_pair]
                coef = [1.0] * len(cut_pairs) + [-1.0]
                lower = 0.0
                if root < 0:
                    pairs.append(anchor_pair)
                    coef.append(-1.0)
                    lower = -1.0
                rows.append(
                    Row(
                        kind="cut",
                        name=f"contiguity[{problem.territory_ids[t]},"
                        f"{problem.account_ids[a]}]",
                        pairs=np.array(pairs, dtype=np.int64),
                        coef=np.array(coef),
                        lower=lower,
                        upper=np.inf,
                        territory=t,
                    )
                )
    return rows


def _fits(problem: Problem, territory_of: np.ndarray, touched: tuple[int, int]) -> bool:
    k = problem.n_territories
    for balance in problem.balances:
        load = np.bincount(territory_of, weights=balance.values, minlength=k)
        for t in touched:
            if not balance.lower[t] - 1e-9 <= load[t] <= balance.upper[t] + 1e-9:
                return False
    if problem.capacity_enforced:
        load = np.bincount(territory_of, weights=problem.workload_hours, minlength=k)
        if any(load[t] > problem.capacity_hours[t] + 1e-9 for t in touched):
            return False
    return True


def repair(
    model: TerritoryModel, territory_of: np.ndarray, max_moves: int = 10_000
) -> np.ndarray:
    """Move stray pieces to a neighbouring territory while bands and capacity hold.

    Each stray piece (not the main one) goes whole to the adjacent territory,
    allowed for all its accounts, whose move costs least in the exact objective.
    Returns the improved alignment; pieces that no move can fix stay where they
    are, and the checker then reports them.
    """
    problem = model.problem
    assert problem.adjacency is not None
    neighbours = problem.adjacency.neighbours()
    allowed = np.zeros((problem.n_accounts, problem.n_territories), dtype=bool)
    allowed[problem.pair_account, problem.pair_territory] = True
    locked = set(problem.locks)
    current = territory_of.copy()
    for _ in range(max_moves):
        broken = pieces_of(problem, current)
        moved = False
        for t, pieces in broken.items():
            main, _root = _anchor(problem, t, pieces)
            for i, piece in enumerate(pieces):
                if i == main or locked & set(piece.tolist()):
                    continue
                options = {int(current[s]) for a in piece for s in neighbours[a]} - {t}
                best = None
                for u in sorted(options):
                    if not allowed[piece, u].all():
                        continue
                    trial = current.copy()
                    trial[piece] = u
                    if _fits(problem, trial, (t, u)):
                        cost = _objective(model, trial)
                        if best is None or cost < best[0]:
                            best = (cost, trial)
                if best is not None:
                    current = best[1]
                    moved = True
                    break
            if moved:
                break
        if not moved:
            break
    return current


def _objective(model: TerritoryModel, territory_of: np.ndarray) -> float:
    problem = model.problem
    chosen = pair_lookup(problem, np.arange(problem.n_accounts), territory_of)
    values = np.zeros(model.n_pairs)
    values[chosen[chosen >= 0]] = 1.0
    return model.objective_of(values)
