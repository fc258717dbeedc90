"""Adjacency of accounts (geographic units) and connectivity tests.

The graph is undirected and simple: ``edges`` holds each pair of account indices
once, smaller index first. Components are found with SciPy's sparse graph
routines, so a territory's connectivity costs O(units + edges).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class Adjacency:
    """Undirected graph over ``n`` accounts with ``edges`` as an (m, 2) array."""

    n: int
    edges: np.ndarray

    @staticmethod
    def from_pairs(n: int, pairs: np.ndarray) -> Adjacency:
        """Build from index pairs: self-loops and repeats dropped, order normalised."""
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        pairs = np.sort(pairs, axis=1)
        pairs = np.unique(pairs, axis=0) if len(pairs) else pairs
        return Adjacency(n=n, edges=pairs)

    def matrix(self) -> csr_matrix:
        """Symmetric 0/1 adjacency matrix."""
        u, v = self.edges[:, 0], self.edges[:, 1]
        data = np.ones(2 * len(u))
        rows = np.concatenate([u, v])
        cols = np.concatenate([v, u])
        return coo_matrix((data, (rows, cols)), shape=(self.n, self.n)).tocsr()

    def neighbours(self) -> list[np.ndarray]:
        """Neighbour indices of every account."""
        matrix = self.matrix()
        return [
            matrix.indices[matrix.indptr[i] : matrix.indptr[i + 1]]
            for i in range(self.n)
        ]

    def degree(self) -> np.ndarray:
        """Number of neighbours of every account."""
        return np.bincount(self.edges.ravel(), minlength=self.n)

    def components(self, members: np.ndarray | None = None) -> list[np.ndarray]:
        """Connected components of the subgraph induced by ``members``.

        ``members`` is a boolean mask over accounts (all accounts when None).
        Components are returned largest first, ties by smallest account index.
        """
        if members is None:
            members = np.ones(self.n, dtype=bool)
        index = np.nonzero(members)[0]
        if len(index) == 0:
            return []
        matrix = self.matrix()[index][:, index]
        count, labels = connected_components(matrix, directed=False)
        groups = [index[labels == c] for c in range(count)]
        groups.sort(key=lambda g: (-len(g), int(g[0])))
        return groups

    def cut_edges(self, territory_of: np.ndarray) -> int:
        """Number of edges whose two accounts lie in different territories."""
        u, v = self.edges[:, 0], self.edges[:, 1]
        return int(np.count_nonzero(territory_of[u] != territory_of[v]))

    def attach(self, extra: np.ndarray) -> Adjacency:
        """A copy with ``extra`` index pairs added as edges."""
        return Adjacency.from_pairs(self.n, np.vstack([self.edges, extra]))


def separator(
    adjacency: Adjacency,
    neighbours: list[np.ndarray],
    piece: np.ndarray,
    target: np.ndarray,
) -> np.ndarray:
    """A minimal-leaning vertex set separating ``piece`` from ``target``.

    Starts from the neighbours of ``piece`` (which separate it from every vertex
    outside it and its boundary) and keeps only those adjacent to the component
    of ``target`` in the graph without that boundary: the others cannot lie on a
    path between the two. ``piece`` and ``target`` are index arrays, disjoint and
    not adjacent.
    """
    in_piece = np.zeros(adjacency.n, dtype=bool)
    in_piece[piece] = True
    boundary = np.zeros(adjacency.n, dtype=bool)
    for a in piece:
        boundary[neighbours[a]] = True
    boundary &= ~in_piece
    # Component(s) of the target side in G minus (piece ∪ boundary).
    rest = ~(in_piece | boundary)
    reach = np.zeros(adjacency.n, dtype=bool)
    for comp in adjacency.components(rest):
        if np.isin(target, comp).any():
            reach[comp] = True
    keep = [s for s in np.nonzero(boundary)[0] if reach[neighbours[s]].any()]
    if not keep:
        return np.nonzero(boundary)[0]
    return np.array(keep, dtype=np.int64)
