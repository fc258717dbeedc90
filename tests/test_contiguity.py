"""Contiguity: hand-drawn maps where the contiguous optimum differs, islands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ENGINES, write_scenario
from territory_opt.errors import InfeasibleSpecificationError
from territory_opt.result import Status
from territory_opt.scenario import load_scenario
from territory_opt.solve import load_problem, solve_scenario


def _map(
    folder: Path,
    cells: dict[str, tuple[float, float, float]],
    edges: list[tuple[str, str]],
    territories: list[dict[str, object]],
    contiguity: bool = True,
    **sections: object,
) -> Path:
    """Units at (row, col) on a 0.1-degree grid with a potential each."""
    accounts = [
        {
            "account_id": a,
            "lat": -0.1 * r,
            "lon": 0.1 * c,
            "potential": p,
            "workload_hours": 1,
        }
        for a, (r, c, p) in cells.items()
    ]
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(edges, columns=["from", "to"]).to_csv(
        folder / "edges.csv", index=False
    )
    geography = {
        "adjacency": {"path": "edges.csv"},
        "contiguity": contiguity,
        "home_units": "column" if "home_unit" in territories[0] else "none",
    }
    geography.update(sections.pop("geography", {}))  # type: ignore[arg-type]
    return write_scenario(
        folder, accounts, territories, geography=geography, **sections
    )


CHAIN = {"u1": (0, 0, 1), "u2": (0, 1, 3), "u3": (0, 2, 1), "u4": (0, 3, 1)}
CHAIN_EDGES = [("u1", "u2"), ("u2", "u3"), ("u3", "u4")]
TWO = [{"territory_id": t, "lat": "", "lon": ""} for t in ("A", "B")]


def _chain(folder: Path, contiguity: bool, territories=TWO) -> Path:
    return _map(
        folder,
        CHAIN,
        CHAIN_EDGES,
        territories,
        contiguity,
        balance={"potential": {"tolerance": 0.5}},
        objective={"balance": 1.0},
    )


def _groups(run) -> list[list[str]]:
    found: dict[str, list[str]] = {}
    for account, territory in sorted(run.result.alignment().items()):
        found.setdefault(territory, []).append(account)
    return sorted(found.values())


@pytest.mark.parametrize("engine", ENGINES)
def test_chain_contiguous_optimum_differs(tmp_path: Path, engine: str) -> None:
    """A chain whose perfect split is in pieces; contiguity gives 4 | 2.

        u1 — u2 — u3 — u4       potential 1, 3, 1, 1: target 3 each, band [1.5, 4.5]

    Without contiguity {u2} | {u1, u3, u4} is perfect (objective 0). The
    contiguous splits of a chain are prefixes: 1|5 and 5|1 break the band, so
    {u1, u2} | {u3, u4} = 4 | 2, deviation 1/3 each: objective 1/3.
    """
    free = solve_scenario(
        load_scenario(_chain(tmp_path / "free", False)).with_overrides(engine=engine)
    )
    assert free.result.status is Status.OPTIMAL
    assert free.result.objective == pytest.approx(0.0, abs=1e-9)
    assert _groups(free) == [["u1", "u3", "u4"], ["u2"]]

    tied = solve_scenario(
        load_scenario(_chain(tmp_path / "tied", True)).with_overrides(engine=engine)
    )
    assert tied.result.status is Status.OPTIMAL
    assert tied.result.objective == pytest.approx(1 / 3, rel=1e-9)
    assert _groups(tied) == [["u1", "u2"], ["u3", "u4"]]
    assert tied.result.details["contiguity_rounds"] >= 2


@pytest.mark.parametrize("engine", ENGINES)
def test_chain_with_home_units(tmp_path: Path, engine: str) -> None:
    """Homes at u1 (A) and u4 (B): A = {u1, u2}, B = {u3, u4}, objective 1/3."""
    homes = [
        {"territory_id": "A", "lat": "", "lon": "", "home_unit": "u1"},
        {"territory_id": "B", "lat": "", "lon": "", "home_unit": "u4"},
    ]
    run = solve_scenario(
        load_scenario(_chain(tmp_path, True, homes)).with_overrides(engine=engine)
    )
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(1 / 3, rel=1e-9)
    assert run.result.alignment() == {"u1": "A", "u2": "A", "u3": "B", "u4": "B"}


def _grid_edges(rows: int, cols: int) -> list[tuple[str, str]]:
    edges = []
    for r in range(rows):
        for c in range(cols):
            if c + 1 < cols:
                edges.append((f"r{r}c{c}", f"r{r}c{c + 1}"))
            if r + 1 < rows:
                edges.append((f"r{r}c{c}", f"r{r + 1}c{c}"))
    return edges


@pytest.mark.parametrize("engine", ENGINES)
def test_two_by_four_with_heavy_corner(tmp_path: Path, engine: str) -> None:
    """2x4 grid, 5 per cell but 25 in a corner, 2 territories ±10%: 30 and 30.

    25  5  5  5        total 60, target 30, band [27, 33]; contiguous halves
     5  5  5  5        of exactly 30: the corner plus one neighbour.
    """
    cells = {
        f"r{r}c{c}": (r, c, 25 if (r, c) == (0, 0) else 5)
        for r in range(2)
        for c in range(4)
    }
    path = _map(
        tmp_path,
        cells,
        _grid_edges(2, 4),
        TWO,
        balance={"potential": {"tolerance": 0.1}},
        objective={"balance": 1.0},
    )
    run = solve_scenario(load_scenario(path).with_overrides(engine=engine))
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(0.0, abs=1e-9)
    loads: dict[str, float] = {}
    for account, territory in run.result.alignment().items():
        loads[territory] = loads.get(territory, 0) + cells[account][2]
    assert sorted(loads.values()) == [30, 30]
    assert run.result.violations == ()


@pytest.mark.parametrize("engine", ENGINES)
def test_three_by_four_equal_units_in_four(tmp_path: Path, engine: str) -> None:
    """3x4 grid of equal units into 4 contiguous territories of exactly 3 units."""
    cells = {f"r{r}c{c}": (r, c, 1) for r in range(3) for c in range(4)}
    territories = [{"territory_id": f"T{i}", "lat": "", "lon": ""} for i in range(4)]
    path = _map(
        tmp_path,
        cells,
        _grid_edges(3, 4),
        territories,
        balance={"accounts": {"tolerance": 0.01, "weight": 0.0}},
        objective={"balance": 0.0, "cut_edges": 1.0},
    )
    run = solve_scenario(load_scenario(path).with_overrides(engine=engine))
    assert run.result.status is Status.OPTIMAL
    sizes = sorted(len(g) for g in _groups(run))
    assert sizes == [3, 3, 3, 3]
    # Fewest cut edges for 4 trominoes on a 3x4 grid: 4 columns of 3 cut 9 edges
    # (3 between each pair of neighbouring columns); L-shapes do no better.
    assert run.result.objective == pytest.approx(9.0)


ISLAND_CELLS = {
    "c1": (0, 0, 5),
    "c2": (0, 1, 5),
    "c3": (0, 2, 5),
    "c4": (0, 3, 5),
    "c5": (0, 4, 5),
    "isle": (3, 1, 2),
}
ISLAND_EDGES = [("c1", "c2"), ("c2", "c3"), ("c3", "c4"), ("c4", "c5")]


def _island(folder: Path, policy: str, homes: tuple[str, str]) -> Path:
    territories = [
        {"territory_id": "A", "lat": "", "lon": "", "home_unit": homes[0]},
        {"territory_id": "B", "lat": "", "lon": "", "home_unit": homes[1]},
    ]
    return _map(
        folder,
        ISLAND_CELLS,
        ISLAND_EDGES,
        territories,
        balance={"potential": {"tolerance": 0.3}},
        objective={"balance": 1.0},
        geography={"islands": policy},
    )


def test_island_policy_fail_names_the_island(tmp_path: Path) -> None:
    """islands: fail stops before solving and names the island."""
    with pytest.raises(InfeasibleSpecificationError) as caught:
        load_problem(load_scenario(_island(tmp_path, "fail", ("c1", "c5"))))
    assert caught.value.conflicts == [
        "unit 'isle' is an island: it has no neighbours; it holds 2 of potential, "
        "below the band minimum 9.45 of any territory, so it cannot be a territory "
        "alone"
    ]


def test_disconnected_component_is_not_called_an_island(tmp_path: Path) -> None:
    """Two detached units are a 'disconnected component' with members and size.

    c1 — c2 — c3 — c4 — c5        isle — isle2 (potential 2 + 2 = 4)
    """
    cells = dict(ISLAND_CELLS, isle2=(3, 2, 2))
    territories = [
        {"territory_id": t, "lat": "", "lon": "", "home_unit": h}
        for t, h in (("A", "c1"), ("B", "c5"))
    ]
    path = _map(
        tmp_path,
        cells,
        [*ISLAND_EDGES, ("isle", "isle2")],
        territories,
        balance={"potential": {"tolerance": 0.3}},
        geography={"islands": "fail"},
    )
    with pytest.raises(InfeasibleSpecificationError) as caught:
        load_problem(load_scenario(path))
    assert caught.value.conflicts == [
        "disconnected component of 2 units ('isle', 'isle2'); it holds 4 of "
        "potential, below the band minimum 10.15 of any territory, so it cannot be "
        "a territory alone"
    ]
    assert "island" not in caught.value.conflicts[0].replace("'isle", "")


@pytest.mark.parametrize("engine", ENGINES)
def test_island_attach_nearest_gives_balanced_contiguous_split(
    tmp_path: Path, engine: str
) -> None:
    """attach_nearest links the island to c2 (nearest); best split 12 | 15.

    Total 27, target 13.5, band [9.45, 17.55]. With the island hanging on c2,
    contiguous A-from-c1 parts: {c1,c2,isle} = 12 | 15 or {c1,c2,c3,isle} = 17 | 10;
    the first deviates 1.5 each: objective 1.5/13.5 = 1/9.
    """
    run = solve_scenario(
        load_scenario(_island(tmp_path, "attach_nearest", ("c1", "c5"))).with_overrides(
            engine=engine
        )
    )
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(1 / 9, rel=1e-9)
    assert run.result.alignment()["isle"] == "A"


def test_island_own_territory_too_small(tmp_path: Path) -> None:
    """own_territory with a home on the island: its potential is below the band."""
    with pytest.raises(InfeasibleSpecificationError) as caught:
        load_problem(load_scenario(_island(tmp_path, "own_territory", ("c1", "isle"))))
    assert (
        "unit 'isle' is an island: it has no neighbours holds 2 of potential; with "
        "islands: own_territory it is all that territory 'B' may take, but the band "
        "minimum is 9.45" in str(caught.value)
    )


def test_island_own_territory_without_home_there(tmp_path: Path) -> None:
    """own_territory with no territory based on the island: listed as orphan."""
    with pytest.raises(InfeasibleSpecificationError) as caught:
        load_problem(load_scenario(_island(tmp_path, "own_territory", ("c1", "c5"))))
    assert "these have none: unit 'isle' is an island" in str(caught.value)


def test_checker_reports_pieces(tmp_path: Path) -> None:
    """The checker names a territory that falls into pieces."""
    from territory_opt.checker import check_alignment

    problem = load_problem(load_scenario(_chain(tmp_path, True)))
    territory_of = np.array([1, 0, 1, 1])
    assert check_alignment(problem, territory_of) == [
        "territory 'B' is not contiguous: it falls into 2 pieces of 2, 1 unit(s)"
    ]


def test_three_by_four_by_construction_and_local_search(tmp_path: Path) -> None:
    """Construction grows 4 contiguous territories; local search evens them to 3.

    Seeds spread by graph distance, then the lightest territory takes the free
    neighbour with the fewest free neighbours; T1 is boxed in at 2 units::

        T0 T0 T1 T1
        T2 T0 T3 T3        sizes 3, 2, 3, 4
        T2 T2 T3 T3

    The local search moves r1c2 from T3 to T1 (both stay connected), which
    leaves every territory with 3 units::

        T0 T0 T1 T1
        T2 T0 T1 T3
        T2 T2 T3 T3
    """
    import time

    from territory_opt.checker import check_alignment
    from territory_opt.local_search import construct, local_search
    from territory_opt.model import build_model

    cells = {f"r{r}c{c}": (r, c, 1) for r in range(3) for c in range(4)}
    territories = [{"territory_id": f"T{i}", "lat": "", "lon": ""} for i in range(4)]
    path = _map(
        tmp_path,
        cells,
        _grid_edges(3, 4),
        territories,
        balance={"accounts": {"tolerance": 0.01, "weight": 0.0}},
        objective={"balance": 0.0, "cut_edges": 1.0},
    )
    problem = load_problem(load_scenario(path))
    model = build_model(problem)
    grown = construct(model)
    assert not [v for v in check_alignment(problem, grown) if "contiguous" in v]
    assert grown.tolist() == [0, 0, 1, 1, 2, 0, 3, 3, 2, 2, 3, 3]
    final = local_search(model, grown, time.perf_counter() + 30)
    assert final.tolist() == [0, 0, 1, 1, 2, 0, 1, 3, 2, 2, 3, 3]
    assert check_alignment(problem, final) == []


def _square_chain(folder: Path, policy: str) -> Path:
    """Five 0.1° squares in a row and an offshore square below the second::

    [c1][c2][c3][c4][c5]        potential 5 each
                                rook adjacency from the polygons
        [isle]                  potential 2, touching nothing
    """
    import geopandas as gpd
    from shapely.geometry import box

    units = {f"c{i + 1}": (0.1 * i, 0.0) for i in range(5)} | {"isle": (0.1, -0.3)}
    shapes = [box(x, y, x + 0.1, y + 0.1) for x, y in units.values()]
    gpd.GeoDataFrame(
        {"unit": list(units), "geometry": shapes}, crs="EPSG:4326"
    ).to_file(folder / "units.geojson")
    accounts = [
        {
            "account_id": name,
            "lat": y + 0.05,
            "lon": x + 0.05,
            "potential": 2 if name == "isle" else 5,
            "workload_hours": 1,
        }
        for name, (x, y) in units.items()
    ]
    territories = [
        {"territory_id": t, "lat": "", "lon": "", "home_unit": h}
        for t, h in (("A", "c1"), ("B", "c5"))
    ]
    return write_scenario(
        folder,
        accounts,
        territories,
        balance={"potential": {"tolerance": 0.3}},
        objective={"balance": 1.0},
        geography={
            "polygons": {"path": "units.geojson", "id_column": "unit"},
            "contiguity": True,
            "home_units": "column",
            "islands": policy,
            "map_png": False,
        },
    )


def test_square_chain_island_fails_before_solving_with_numbers(
    tmp_path: Path,
) -> None:
    """Polygons: the offshore square is named an island with its potential 2
    against the band minimum 9.45 (27 / 2 × 0.7), before any solver runs."""
    with pytest.raises(InfeasibleSpecificationError) as caught:
        load_problem(load_scenario(_square_chain(tmp_path, "fail")))
    assert caught.value.conflicts == [
        "unit 'isle' is an island: it has no neighbours; it holds 2 of potential, "
        "below the band minimum 9.45 of any territory, so it cannot be a territory "
        "alone"
    ]


def test_square_chain_island_attached_gives_the_balanced_split(
    tmp_path: Path,
) -> None:
    """attach_nearest hangs the island on c2: {c1, c2, isle} = 12 | 15, 1/9."""
    scenario = load_scenario(_square_chain(tmp_path, "attach_nearest"))
    run = solve_scenario(scenario.with_overrides(engine="cpsat"))
    assert run.result.status is Status.OPTIMAL
    assert run.result.objective == pytest.approx(1 / 9, rel=1e-9)
    assert _groups(run) == [["c1", "c2", "isle"], ["c3", "c4", "c5"]]
