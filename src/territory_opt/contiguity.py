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
contiguous problem. Between rounds, :mod:`territory_opt.local_search` turns
each alignment into a contiguous one where it can.
"""

from __future__ import annotations

import logging

import numpy as np

from territory_opt.adjacency import separator
from territory_opt.model import Row, covering_row, pair_lookup
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


def neighbour_cuts(problem: Problem) -> list[Row]:
    """x[a, t] ≤ Σ_{b ∈ N(a)} x[b, t] for every allowed pair but a home unit.

    The separator cut with S = N(a): a unit other than the home unit needs a
    neighbour in its territory. Added before the first round, these remove all
    single-unit strays at once. Only for territories with a home unit.
    """
    assert problem.adjacency is not None and problem.roots is not None
    neighbours = problem.adjacency.neighbours()
    rows = []
    for p, (a, t) in enumerate(
        zip(problem.pair_account.tolist(), problem.pair_territory.tolist(), strict=True)
    ):
        if problem.roots[t] < 0 or problem.roots[t] == a:
            continue
        rows.append(_needs_one_of(problem, "neighbour", p, a, t, neighbours[a]))
    return rows


def _needs_one_of(
    problem: Problem, label: str, p: int, a: int, t: int, near: np.ndarray
) -> Row:
    """The row x[a, t] ≤ Σ_{b ∈ near} x[b, t] for pair p = (a, t)."""
    near_pairs = pair_lookup(problem, near, np.full(len(near), t))
    name = f"{label}[{problem.territory_ids[t]},{problem.account_ids[a]}]"
    return covering_row(name, p, near_pairs[near_pairs >= 0], t)


def closer_neighbour_cuts(problem: Problem) -> list[Row]:
    """x[a, t] ≤ Σ_{b ∈ N(a), δ_t(b) < δ_t(a)} x[b, t] for every allowed pair.

    δ_t(a) is the length of the shortest path from the home unit of t to a in
    the adjacency graph, each edge weighted by the great-circle km between its
    two units' points (by hops where units have no coordinates). Every unit of
    a territory then has a neighbour in it that lies closer to the home unit,
    so following closer neighbours always ends at the home unit: any alignment
    that meets these rows is contiguous. The rows are a restriction, not a
    relaxation: they may exclude contiguous alignments that wind around, so
    they serve to find a contiguous alignment fast, never to bound the optimum.
    Only for territories with a home unit.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra

    from territory_opt.geo import haversine_km

    assert problem.adjacency is not None and problem.roots is not None
    edges = problem.adjacency.edges
    u, v = edges[:, 0], edges[:, 1]
    if np.isnan(problem.account_lat).any() or np.isnan(problem.account_lon).any():
        length = np.ones(len(u))
    else:
        length = np.asarray(
            haversine_km(
                problem.account_lat[u],
                problem.account_lon[u],
                problem.account_lat[v],
                problem.account_lon[v],
            ),
            dtype=float,
        )
        # A tiny step per hop keeps units at the same point strictly ordered.
        length = length + 1e-6
    n = problem.n_accounts
    graph = coo_matrix(
        (
            np.concatenate([length, length]),
            (np.concatenate([u, v]), np.concatenate([v, u])),
        ),
        shape=(n, n),
    ).tocsr()
    rooted = [t for t in range(problem.n_territories) if problem.roots[t] >= 0]
    if not rooted:
        return []
    distance = dijkstra(graph, directed=False, indices=problem.roots[rooted])
    row_of = {t: i for i, t in enumerate(rooted)}
    neighbours = problem.adjacency.neighbours()
    rows = []
    for p, (a, t) in enumerate(
        zip(problem.pair_account.tolist(), problem.pair_territory.tolist(), strict=True)
    ):
        if t not in row_of or problem.roots[t] == a:
            continue
        to_root = distance[row_of[t]]
        near = neighbours[a]
        near = near[to_root[near] < to_root[a]]
        rows.append(_needs_one_of(problem, "closer", p, a, t, near))
    return rows
