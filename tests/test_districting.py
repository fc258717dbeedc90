"""Minimum cut-edge districting instances (Validi & Buchanan 2022) as scenarios."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from territory_opt.bench.districting import (
    band,
    graph_path,
    read_graph,
    read_references,
    write_scenario,
)
from territory_opt.checker import check_alignment
from territory_opt.result import Status
from territory_opt.scenario import load_scenario
from territory_opt.solve import solve_scenario

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "districting_cut_edges"
needs_data = pytest.mark.skipif(
    not (DATA / "reference_optimal_cut_edges.csv").exists(),
    reason="the shared districting data is not beside the repository",
)


def test_band_reproduces_the_published_limits() -> None:
    """Maine (P = 1,328,361, k = 2): L = 660,860 and U = 667,501."""
    assert band(1_328_361, 2) == (660_860, 667_501)
    assert band(2_059_179, 3) == (682_962, 689_824)


def test_a_triangle_graph_becomes_a_scenario(tmp_path: Path) -> None:
    """Three units in a triangle plus a pendant: ids, populations, edges once."""
    graph = {
        "nodes": [
            {"GEOID10": "001", "TOTPOP": 10, "C_X": -70.0, "C_Y": 44.0, "id": 0},
            {"GEOID10": "002", "TOTPOP": 10, "C_X": -70.1, "C_Y": 44.0, "id": 1},
            {"GEOID10": "003", "TOTPOP": 10, "C_X": -70.0, "C_Y": 44.1, "id": 2},
            {"GEOID10": "004", "TOTPOP": 10, "C_X": -69.9, "C_Y": 44.1, "id": 3},
        ],
        "adjacency": [
            [{"id": 1}, {"id": 2}],
            [{"id": 0}, {"id": 2}],
            [{"id": 0}, {"id": 1}, {"id": 3}],
            [{"id": 2}],
        ],
    }
    path = write_scenario(graph, 2, tmp_path, "tiny", time_limit_s=30, threads=1)
    edges = (tmp_path / "adjacency.csv").read_text().splitlines()
    assert edges == ["from,to", "001,002", "001,003", "002,003", "003,004"]
    run = solve_scenario(load_scenario(path))
    # Two districts of 20: {001, 002} | {003, 004} cuts 2 edges, the fewest.
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(2.0)
    groups = sorted(
        sorted(a for a, t in run.result.alignment().items() if t == d)
        for d in ("D01", "D02")
    )
    assert groups == [["001", "002"], ["003", "004"]]


@needs_data
def test_maine_counties_reach_the_proven_optimum() -> None:
    """ME, 16 counties, k = 2: 16 cut edges, proven, both districts connected."""
    reference = next(
        r
        for r in read_references(DATA / "reference_optimal_cut_edges.csv")
        if r.state == "ME" and r.level == "county"
    )
    graph = read_graph(graph_path(DATA, reference))
    with tempfile.TemporaryDirectory() as folder:
        path = write_scenario(graph, reference.k, Path(folder), "me", time_limit_s=120)
        run = solve_scenario(load_scenario(path))
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(reference.best_cut_edges) == 16
    index = run.problem.territory_index()
    territory_of = np.array([index[t] for t in run.result.assignment])
    assert check_alignment(run.problem, territory_of) == []
    assert run.problem.contiguity
