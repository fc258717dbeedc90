"""Articulation points, the restricted closer-neighbour rows, the tabu search and
what a contiguous solve returns when no contiguous alignment was found."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from territory_opt.contiguity import closer_neighbour_cuts
from territory_opt.local_search import articulation_points, improve
from territory_opt.model import build_model, pair_lookup
from territory_opt.result import EngineOutcome, Status
from territory_opt.scenario import load_scenario
from territory_opt.solve import _settle, load_problem
from test_contiguity import _map


def _neighbours(n: int, edges: list[tuple[int, int]]) -> list[np.ndarray]:
    near: list[list[int]] = [[] for _ in range(n)]
    for u, v in edges:
        near[u].append(v)
        near[v].append(u)
    return [np.array(sorted(x), dtype=np.int64) for x in near]


def test_articulation_points_of_path_cycle_star_and_two_pieces() -> None:
    """Path 0-1-2-3: 1 and 2; a 4-cycle: none; a star: its centre; two pieces
    (a path 0-1-2 and an edge 3-4): 1 only."""
    path = _neighbours(4, [(0, 1), (1, 2), (2, 3)])
    every = np.ones(4, dtype=bool)
    assert articulation_points(np.arange(4), path, every) == [1, 2]
    cycle = _neighbours(4, [(0, 1), (1, 2), (2, 3), (3, 0)])
    assert articulation_points(np.arange(4), cycle, every) == []
    star = _neighbours(5, [(0, 1), (0, 2), (0, 3), (0, 4)])
    assert articulation_points(np.arange(5), star, np.ones(5, dtype=bool)) == [0]
    pieces = _neighbours(5, [(0, 1), (1, 2), (3, 4)])
    assert articulation_points(np.arange(5), pieces, np.ones(5, dtype=bool)) == [1]


def test_articulation_points_only_count_members() -> None:
    """Path 0-1-2-3 with member mask {0, 1, 3}: 1 is no cut point of {0, 1}."""
    path = _neighbours(4, [(0, 1), (1, 2), (2, 3)])
    inside = np.array([True, True, False, True])
    assert articulation_points(np.array([0, 1, 3]), path, inside) == []


# A U-shaped map of 7 units; homes of A at u1 and of B at u4 (the bottom).
#
#   u1     u7
#   u2     u6
#   u3 u4 u5
U_CELLS = {
    "u1": (0, 0, 1),
    "u2": (1, 0, 1),
    "u3": (2, 0, 1),
    "u4": (2, 1, 1),
    "u5": (2, 2, 1),
    "u6": (1, 2, 1),
    "u7": (0, 2, 1),
}
U_EDGES = [("u1", "u2"), ("u2", "u3"), ("u3", "u4"), ("u4", "u5"), ("u5", "u6")]
U_EDGES += [("u6", "u7")]


def _u_map(folder: Path) -> Path:
    return _map(
        folder,
        U_CELLS,
        U_EDGES,
        [
            {"territory_id": "A", "lat": 0.0, "lon": 0.0, "home_unit": "u1"},
            {"territory_id": "B", "lat": -0.2, "lon": 0.1, "home_unit": "u4"},
        ],
        balance={"potential": {"tolerance": 0.5}},
    )


def test_closer_neighbour_rows_on_the_u_map(tmp_path: Path) -> None:
    """Shortest paths run along the U: (u3, A) needs u2, (u2, A) needs u1,
    (u2, B) needs u3, (u5, B) needs u4, (u7, B) needs u6. A cannot reach u5..u7
    past B's home u4, so the allowed pairs are A: u1..u3 and B: u2..u7 (9), and
    every pair but the two home units' own gets a row (7)."""
    problem = load_problem(load_scenario(_u_map(tmp_path)))
    rows = {row.name: row for row in closer_neighbour_cuts(problem)}

    def needed(name: str) -> set[str]:
        row = rows[name]
        assert row.coef.tolist() == [1.0] * (len(row.pairs) - 1) + [-1.0]
        assert row.lower == 0.0 and np.isinf(row.upper)
        return {problem.account_ids[problem.pair_account[p]] for p in row.pairs[:-1]}

    assert needed("closer[A,u3]") == {"u2"}
    assert needed("closer[A,u2]") == {"u1"}
    assert needed("closer[B,u2]") == {"u3"}
    assert needed("closer[B,u5]") == {"u4"}
    assert needed("closer[B,u7]") == {"u6"}
    assert len(problem.pair_account) == 9
    assert len(rows) == 7
    assert "closer[A,u1]" not in rows and "closer[B,u4]" not in rows


def test_tabu_search_repairs_a_broken_band(tmp_path: Path) -> None:
    """The U map is a path u1..u7 of units worth 1; homes at its two ends, bands
    ±15% around 3.5, i.e. [2.975, 4.025]. From A = {u1..u5}, B = {u6, u7} (A
    above its band, B below) the search must end with A = u1..u3 or u1..u4:
    both hold 3 or 4 and score the same deviation, 0.5 / 3.5 each."""
    path = _map(
        tmp_path,
        U_CELLS,
        U_EDGES,
        [
            {"territory_id": "A", "lat": 0.0, "lon": 0.0, "home_unit": "u1"},
            {"territory_id": "B", "lat": 0.0, "lon": 0.2, "home_unit": "u7"},
        ],
        balance={"potential": {"tolerance": 0.15}},
    )
    problem = load_problem(load_scenario(path))
    model = build_model(problem)
    index = problem.account_index()
    start = np.zeros(problem.n_accounts, dtype=np.int64)
    start[[index["u6"], index["u7"]]] = 1
    result = improve(model, start, deadline=float("inf"))
    groups = sorted(
        sorted(problem.account_ids[a] for a in np.nonzero(result == t)[0])
        for t in (0, 1)
    )
    assert groups in (
        [["u1", "u2", "u3"], ["u4", "u5", "u6", "u7"]],
        [["u1", "u2", "u3", "u4"], ["u5", "u6", "u7"]],
    )


def test_no_contiguous_alignment_is_no_solution(tmp_path: Path) -> None:
    """An engine answer in pieces with no contiguous alternative is reported as
    no_solution_found without an alignment, keeping the round's bound."""
    problem = load_problem(load_scenario(_u_map(tmp_path)))
    model = build_model(problem)
    index = problem.account_index()
    territory_of = np.zeros(problem.n_accounts, dtype=np.int64)
    territory_of[[index["u4"], index["u7"]]] = 1  # B in two pieces
    values = np.zeros(model.n_pairs)
    values[pair_lookup(problem, np.arange(problem.n_accounts), territory_of)] = 1.0
    outcome = EngineOutcome(
        engine="highs",
        solver_version="test",
        status=Status.FEASIBLE,
        objective=0.0,
        best_bound=0.0,
        runtime_s=1.0,
        pair_values=values,
    )
    settled = _settle(model, outcome, None, 0.25)
    assert settled.status is Status.NO_SOLUTION
    assert settled.pair_values is None
    assert settled.best_bound == 0.25
    assert "left 1 territory(ies) in pieces" in settled.message
    contiguous = np.array([0, 0, 0, 1, 1, 1, 1])
    fallback = (0.5, contiguous)
    chosen = _settle(model, outcome, fallback, 0.25)
    assert chosen.status is Status.FEASIBLE
    assert chosen.best_bound == 0.25
    chosen_of = np.full(problem.n_accounts, -1)
    for p in np.nonzero(chosen.pair_values > 0.5)[0]:
        chosen_of[problem.pair_account[p]] = problem.pair_territory[p]
    assert chosen_of.tolist() == contiguous.tolist()
