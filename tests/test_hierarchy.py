"""Hierarchy: keep-within units, level bands, levels.csv and the top-down solve."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ENGINES, write_scenario
from territory_opt.checker import check_alignment
from territory_opt.errors import InfeasibleSpecificationError, InputError
from territory_opt.outputs import write_results
from territory_opt.result import Status
from territory_opt.scenario import load_scenario
from territory_opt.solve import load_problem, solve_scenario

KM_PER_DEGREE = 6371.0088 * math.pi / 180  # along the equator


def _accounts(cells: dict[str, tuple[float, float]], **columns: dict[str, str]):
    """Accounts at (lat, lon) with potential 1 and workload 1 hour each."""
    rows = []
    for account, (lat, lon) in cells.items():
        row = {
            "account_id": account,
            "lat": lat,
            "lon": lon,
            "potential": 1,
            "workload_hours": 1,
        }
        for column, values in columns.items():
            row[column] = values.get(account, "")
        rows.append(row)
    return rows


def _groups(run) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for account, territory in sorted(run.result.alignment().items()):
        found.setdefault(territory, []).append(account)
    return found


# --- keep_within ----------------------------------------------------------------

LINE = {"a1": (0, 0.0), "a2": (0, 0.1), "a3": (0, 0.2), "a4": (0, 0.3)}
EAST_WEST = [
    {"territory_id": "A", "lat": 0, "lon": 0.0, "region": "East"},
    {"territory_id": "B", "lat": 0, "lon": 0.3, "region": "West"},
]


def _line(folder: Path, keep: bool, **extra: object) -> Path:
    hierarchy: dict[str, object] = {
        "levels": ["region"],
        "columns": {"region": "region"},
    }
    if keep:
        hierarchy["keep_within"] = {"region": "home_region"}
    return write_scenario(
        folder,
        _accounts(LINE, home_region={"a2": "West"}),
        EAST_WEST,
        balance={"potential": {"tolerance": 0.5, "weight": 0.0}},
        objective={"travel": 1.0, "balance": 0.0},
        hierarchy=hierarchy,
        **extra,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_keep_within_moves_the_optimum(tmp_path: Path, engine: str) -> None:
    """a2 kept within West: A = {a1}, B = {a2, a3, a4} instead of a 2 | 2 split.

    A home              B home
    a1 ---- a2 ---- a3 ---- a4      0.1 degree apart on the equator
    East    (West)          West    band: 1 to 3 accounts per territory
    """
    free = solve_scenario(
        load_scenario(_line(tmp_path / "free", False)).with_overrides(engine=engine)
    )
    assert free.result.status is Status.OPTIMAL
    assert _groups(free) == {"A": ["a1", "a2"], "B": ["a3", "a4"]}
    assert free.result.objective == pytest.approx(0.2 * KM_PER_DEGREE / 4, rel=1e-6)

    kept = solve_scenario(
        load_scenario(_line(tmp_path / "kept", True)).with_overrides(engine=engine)
    )
    assert kept.result.status is Status.OPTIMAL
    assert _groups(kept) == {"A": ["a1"], "B": ["a2", "a3", "a4"]}
    assert kept.result.objective == pytest.approx(0.3 * KM_PER_DEGREE / 4, rel=1e-6)


def test_checker_reports_an_account_outside_its_region(tmp_path: Path) -> None:
    """The checker names an account kept within West that sits in East."""
    problem = load_problem(load_scenario(_line(tmp_path, True)))
    issues = check_alignment(problem, np.array([0, 0, 1, 1]))
    assert issues == [
        "account 'a2' must stay within region 'West' but sits in 'A' of region 'East'"
    ]


def test_lock_against_keep_within_is_reported_before_solving(tmp_path: Path) -> None:
    """A lock of a2 (kept within West) to A (East) is a pre-solve conflict."""
    path = _line(
        tmp_path, True, constraints={"locks": [{"account": "a2", "territory": "A"}]}
    )
    with pytest.raises(InfeasibleSpecificationError) as caught:
        solve_scenario(load_scenario(path))
    assert caught.value.conflicts == [
        "account 'a2' is locked to territory 'A' in region 'East', but "
        "hierarchy.keep_within keeps it within region 'West'; drop the lock or "
        "correct the account"
    ]


def test_keep_within_that_cannot_fit_quotes_numbers(tmp_path: Path) -> None:
    """Three accounts kept within West (1 territory, band max 2.5) cannot fit."""
    path = write_scenario(
        tmp_path,
        _accounts(LINE, home_region={"a2": "West", "a3": "West", "a4": "West"}),
        EAST_WEST,
        balance={"potential": {"tolerance": 0.25}},
        hierarchy={
            "levels": ["region"],
            "columns": {"region": "region"},
            "keep_within": {"region": "home_region"},
        },
    )
    with pytest.raises(InfeasibleSpecificationError) as caught:
        solve_scenario(load_scenario(path))
    assert (
        "region West holds 75.0% of potential (3) in accounts kept within it, but "
        "its 1 territories' band (±25%) allows at most 62.5% (2.5)"
    ) in caught.value.conflicts


def test_keep_within_unknown_unit_lists_rows(tmp_path: Path) -> None:
    """A keep-within value that names no region is an error with its rows."""
    path = write_scenario(
        tmp_path,
        _accounts(LINE, home_region={"a2": "Atlantis", "a4": "Atlantis"}),
        EAST_WEST,
        hierarchy={
            "levels": ["region"],
            "columns": {"region": "region"},
            "keep_within": {"region": "home_region"},
        },
    )
    with pytest.raises(InputError) as caught:
        load_problem(load_scenario(path))
    assert str(caught.value) == (
        f"{tmp_path / 'accounts.csv'}, column 'home_region' "
        f"(hierarchy.keep_within.region): 2 account row(s) name a region that no "
        f"territory is in: 'Atlantis'; rows line 3 (account 'a2'), line 5 "
        f"(account 'a4'). Known regions: 'East', 'West'"
    )


def test_level_not_in_levels_is_rejected(tmp_path: Path) -> None:
    """keep_within and balance may only name a level listed in levels."""
    path = write_scenario(
        tmp_path,
        _accounts(LINE),
        EAST_WEST,
        hierarchy={
            "levels": ["region"],
            "balance": {"district": {"potential": {"tolerance": 0.1}}},
        },
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert (
        "hierarchy: balance names level(s) ['district'] that are not in levels "
        "['region']; add them to levels or correct the name"
    ) in str(caught.value)


# --- level bands -----------------------------------------------------------------

SPREAD = {
    "a0": (0, 0.0),
    "a6": (0, 0.2),
    "a1": (0, 1.0),
    "a2": (0, 1.4),
    "a3": (0, 2.0),
    "a4": (0, 3.0),
}
FOUR = [
    {"territory_id": "A", "lat": 0, "lon": 0.0, "district": "D1"},
    {"territory_id": "B", "lat": 0, "lon": 1.0, "district": "D1"},
    {"territory_id": "C", "lat": 0, "lon": 2.0, "district": "D2"},
    {"territory_id": "D", "lat": 0, "lon": 3.0, "district": "D2"},
]


def _spread(
    folder: Path, district_band: bool, tolerance: float = 0.1, weight: float = 1.0
) -> Path:
    """Districts from the territories' parent column, the region from a table."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"unit": ["D1", "D2"], "parent": ["South", "South"]}).to_csv(
        folder / "hierarchy.csv", index=False
    )
    hierarchy: dict[str, object] = {
        "levels": ["district", "region"],
        "table": {"path": "hierarchy.csv"},
    }
    if district_band:
        hierarchy["balance"] = {
            "district": {"potential": {"tolerance": tolerance, "weight": weight}}
        }
    return write_scenario(
        folder,
        _accounts(SPREAD),
        FOUR,
        territories={"columns": {"parent": "district"}},
        balance={"potential": {"tolerance": 0.9, "weight": 0.0}},
        objective={"travel": 1.0, "balance": 1.0},
        hierarchy=hierarchy,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_district_band_binds(tmp_path: Path, engine: str) -> None:
    """District band 3 ± 0.3 accounts moves a2 from B to C.

    A       B           C       D        homes at lon 0, 1, 2, 3
    a0 a6   a1   a2     a3      a4       a6 at 0.2, a2 at 1.4
    '-- D1 --'          '-- D2 --'       nearest homes give D1 4, D2 2
    """
    free = solve_scenario(
        load_scenario(_spread(tmp_path / "free", False)).with_overrides(engine=engine)
    )
    assert free.result.status is Status.OPTIMAL
    assert _groups(free) == {
        "A": ["a0", "a6"],
        "B": ["a1", "a2"],
        "C": ["a3"],
        "D": ["a4"],
    }
    assert free.result.objective == pytest.approx(0.6 * KM_PER_DEGREE / 6, rel=1e-6)

    banded = solve_scenario(
        load_scenario(_spread(tmp_path / "band", True)).with_overrides(engine=engine)
    )
    assert banded.result.status is Status.OPTIMAL
    assert _groups(banded) == {
        "A": ["a0", "a6"],
        "B": ["a1"],
        "C": ["a2", "a3"],
        "D": ["a4"],
    }
    assert banded.result.objective == pytest.approx(0.8 * KM_PER_DEGREE / 6, rel=1e-6)


@pytest.mark.parametrize("engine", ENGINES)
def test_district_deviation_weight_in_the_objective(
    tmp_path: Path, engine: str
) -> None:
    """A wide district band (±50 %) with weight 1: D1 4 and D2 2 of target 3 cost
    mean |dev| 1/3, less than the 0.2 degree (3.7 km / 6) of moving a2 to C."""
    path = _spread(tmp_path, True, tolerance=0.5, weight=1.0)
    run = solve_scenario(load_scenario(path).with_overrides(engine=engine))
    assert run.result.status is Status.OPTIMAL
    assert _groups(run)["B"] == ["a1", "a2"]
    expected = 0.6 * KM_PER_DEGREE / 6 + 1 / 3
    assert run.result.objective == pytest.approx(expected, rel=1e-6)


def test_checker_reports_a_district_outside_its_band(tmp_path: Path) -> None:
    """The nearest-home alignment puts 4 accounts in D1, above its band [2.7, 3.3]."""
    problem = load_problem(load_scenario(_spread(tmp_path, True)))
    nearest = np.array([0, 1, 1, 2, 3, 0])  # a0 a1 a2 a3 a4 a6 in id order
    assert check_alignment(problem, nearest) == [
        "district 'D1' holds 4 of potential, outside its band [2.7, 3.3]",
        "district 'D2' holds 2 of potential, outside its band [2.7, 3.3]",
    ]


def test_levels_csv_by_hand(tmp_path: Path) -> None:
    """levels.csv and metrics.json levels of the banded optimum, worked by hand."""
    run = solve_scenario(load_scenario(_spread(tmp_path, True)))
    folder = write_results(run, tmp_path / "out")
    levels = pd.read_csv(folder / "levels.csv", keep_default_na=False)
    expected = pd.DataFrame(
        {
            "level": ["district", "district", "region"],
            "unit_id": ["D1", "D2", "South"],
            "parent_id": ["South", "South", ""],
            "territories": [2, 2, 4],
            "accounts": [3.0, 3.0, 6.0],
            "accounts_target": [3.0, 3.0, 6.0],
            "potential": [3.0, 3.0, 6.0],
            "workload_hours": [3.0, 3.0, 6.0],
            "potential_deviation_share": [0.0, 0.0, 0.0],
        }
    )
    for column in expected:
        assert levels[column].tolist() == expected[column].tolist(), column
    document = json.loads((folder / "metrics.json").read_text())
    assert document["levels"]["district"]["units"] == 2
    assert document["levels"]["region"]["max_abs_deviation_share"]["potential"] == 0


def test_levels_csv_deviation_of_the_nearest_alignment(tmp_path: Path) -> None:
    """Without the district band D1 holds 4 of target 3 (+1/3), D2 2 (−1/3)."""
    run = solve_scenario(load_scenario(_spread(tmp_path, False)))
    folder = write_results(run, tmp_path / "out")
    levels = pd.read_csv(folder / "levels.csv", keep_default_na=False)
    assert levels["potential"].tolist() == [4.0, 2.0, 6.0]
    assert levels["potential_deviation_share"].tolist() == pytest.approx(
        [1 / 3, -1 / 3, 0.0], abs=1e-6
    )


# --- errors in the tree ----------------------------------------------------------


def test_unit_with_two_parents_errors(tmp_path: Path) -> None:
    """District D-GA-N under two regions is an error naming both and their rows."""
    territories = [
        {"territory_id": "T1", "lat": 0, "lon": 0, "d": "D-GA-N", "r": "Southeast"},
        {"territory_id": "T2", "lat": 0, "lon": 1, "d": "D-GA-N", "r": "South"},
        {"territory_id": "T3", "lat": 0, "lon": 2, "d": "D-AL", "r": "South"},
    ]
    path = write_scenario(
        tmp_path,
        _accounts(LINE),
        territories,
        hierarchy={
            "levels": ["district", "region"],
            "columns": {"district": "d", "region": "r"},
        },
    )
    with pytest.raises(InputError) as caught:
        load_problem(load_scenario(path))
    assert str(caught.value) == (
        "district 'D-GA-N' lies under 2 regions: 'South' (territories 'T2'), "
        "'Southeast' (territories 'T1'); a district has one region: correct the "
        "territories' region"
    )


def test_unit_with_two_parents_in_the_table_errors(tmp_path: Path) -> None:
    """The hierarchy table giving D1 two parents is an error naming its lines."""
    path = _spread(tmp_path, False)
    pd.DataFrame(
        {"unit": ["D1", "D2", "D1"], "parent": ["South", "South", "North"]}
    ).to_csv(tmp_path / "hierarchy.csv", index=False)
    with pytest.raises(InputError) as caught:
        load_problem(load_scenario(path))
    assert str(caught.value) == (
        f"{tmp_path / 'hierarchy.csv'}: unit 'D1' has two parents, 'South' (line 2) "
        f"and 'North' (line 4); a unit has one parent: keep one of the rows"
    )


def test_territory_without_a_unit_errors(tmp_path: Path) -> None:
    """A blank district cell names the territory."""
    territories = [dict(t) for t in FOUR]
    territories[2]["district"] = ""
    path = write_scenario(
        tmp_path,
        _accounts(SPREAD),
        territories,
        hierarchy={"levels": ["district"], "columns": {"district": "district"}},
    )
    with pytest.raises(InputError) as caught:
        load_problem(load_scenario(path))
    assert str(caught.value) == (
        f"{tmp_path / 'territories.csv'}: territory 'C' has no district (column "
        f"'district' is blank); every territory needs one"
    )


def test_unit_missing_from_the_table_errors(tmp_path: Path) -> None:
    """A district the hierarchy table does not list has no region."""
    path = _spread(tmp_path, False)
    pd.DataFrame({"unit": ["D1"], "parent": ["South"]}).to_csv(
        tmp_path / "hierarchy.csv", index=False
    )
    with pytest.raises(InputError) as caught:
        load_problem(load_scenario(path))
    assert str(caught.value) == (
        f"district 'D2' has no region: {tmp_path / 'hierarchy.csv'} gives no parent "
        f"for it; add a row with the district and its region"
    )


# --- top-down --------------------------------------------------------------------

GRID = {f"r{r}c{c}": (-0.1 * r, 0.1 * c) for r in range(2) for c in range(4)}
GRID_TERRITORIES = [
    {"territory_id": "W-top", "lat": 0.0, "lon": 0.05, "region": "W"},
    {"territory_id": "W-bottom", "lat": -0.1, "lon": 0.05, "region": "W"},
    {"territory_id": "E-top", "lat": 0.0, "lon": 0.25, "region": "E"},
    {"territory_id": "E-bottom", "lat": -0.1, "lon": 0.25, "region": "E"},
]


def _grid(
    folder: Path, workers: int | None = 1, solve: str = "top_down", **extra: object
) -> Path:
    return write_scenario(
        folder,
        _accounts(GRID),
        GRID_TERRITORIES,
        balance={"potential": {"tolerance": 0.3, "weight": 0.0}},
        objective={"travel": 1.0, "balance": 0.0},
        hierarchy={
            "levels": ["region"],
            "columns": {"region": "region"},
            "solve": solve,
            "workers": workers,
        },
        solver={"threads": 1},
        **extra,
    )


GRID_ALIGNMENT = {
    "E-bottom": ["r1c2", "r1c3"],
    "E-top": ["r0c2", "r0c3"],
    "W-bottom": ["r1c0", "r1c1"],
    "W-top": ["r0c0", "r0c1"],
}


@pytest.mark.parametrize("engine", ENGINES)
def test_top_down_grid(tmp_path: Path, engine: str) -> None:
    """Regions first (columns 0-1 to W, 2-3 to E), then rows inside each.

    lon  0     0.1   0.2   0.3       homes: W at lon 0.05, E at 0.25,
    r0   W-top W-top E-top E-top            top row lat 0, bottom −0.1
    r1   W-bot W-bot E-bot E-bot     band: exactly 2 accounts per territory
    """
    run = solve_scenario(load_scenario(_grid(tmp_path)).with_overrides(engine=engine))
    result = run.result
    assert result.status is Status.FEASIBLE
    assert _groups(run) == GRID_ALIGNMENT
    assert result.violations == ()
    index = run.problem.territory_index()
    territory_of = np.array([index[t] for t in result.assignment or ()])
    assert check_alignment(run.problem, territory_of) == []
    assert result.best_bound is None and result.relative_gap is None
    assert "no bound" in result.message
    assert result.objective == pytest.approx(0.05 * KM_PER_DEGREE, rel=1e-4)
    parts = result.details["top_down"]
    assert [(p["part"], p["into"], p["accounts"]) for p in parts] == [
        ("all", "region", 8),
        ("region 'E'", "territory", 4),
        ("region 'W'", "territory", 4),
    ]
    monolithic = solve_scenario(
        load_scenario(_grid(tmp_path / "mono", solve="monolithic")).with_overrides(
            engine=engine
        )
    )
    assert monolithic.result.objective == pytest.approx(result.objective, rel=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_top_down_parallel_equals_sequential(tmp_path: Path, engine: str) -> None:
    """Two worker processes give the same alignment as one."""
    sequential = solve_scenario(
        load_scenario(_grid(tmp_path / "one", workers=1)).with_overrides(engine=engine)
    )
    parallel = solve_scenario(
        load_scenario(_grid(tmp_path / "two", workers=2)).with_overrides(engine=engine)
    )
    assert parallel.result.assignment == sequential.result.assignment
    assert _groups(parallel) == GRID_ALIGNMENT
    workers = [p["workers"] for p in parallel.result.details["top_down"]]
    assert workers == [1, 2, 2]
    assert [p["workers"] for p in sequential.result.details["top_down"]] == [1, 1, 1]


@pytest.mark.parametrize("engine", ENGINES)
def test_top_down_three_stages_with_a_district_band(
    tmp_path: Path, engine: str
) -> None:
    """Region, then districts (band 3 ± 0.3), then territories: a2 goes to D2, C.

    Stage 2 puts a0, a6, a1 into D1 and a2, a3, a4 into D2 (a2 is the cheapest
    account to move: 0.6 instead of 0.4 degree); stage 3 splits by nearest home.
    """
    path = _spread(tmp_path, True)
    scenario = load_scenario(path)
    hierarchy = scenario.hierarchy.model_copy(
        update={"solve": "top_down", "workers": 1}
    )
    scenario = scenario.model_copy(update={"hierarchy": hierarchy})
    run = solve_scenario(scenario.with_overrides(engine=engine))
    assert run.result.status is Status.FEASIBLE
    assert _groups(run) == {
        "A": ["a0", "a6"],
        "B": ["a1"],
        "C": ["a2", "a3"],
        "D": ["a4"],
    }
    assert run.result.objective == pytest.approx(0.8 * KM_PER_DEGREE / 6, rel=1e-6)
    parts = run.result.details["top_down"]
    assert [(p["part"], p["into"], p["accounts"]) for p in parts] == [
        ("all", "region", 6),
        ("region 'South'", "district", 6),
        ("district 'D1'", "territory", 3),
        ("district 'D2'", "territory", 3),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_top_down_with_contiguity(tmp_path: Path, engine: str) -> None:
    """On the rook-adjacent grid, top-down with contiguity keeps the grid answer
    and the checker finds every territory connected in the whole map."""
    edges = [(f"r{r}c{c}", f"r{r}c{c + 1}") for r in range(2) for c in range(3)] + [
        (f"r0c{c}", f"r1c{c}") for c in range(4)
    ]
    pd.DataFrame(edges, columns=["from", "to"]).to_csv(
        tmp_path / "edges.csv", index=False
    )
    geography = {
        "adjacency": {"path": "edges.csv"},
        "contiguity": True,
        "home_units": "nearest",
    }
    scenario = load_scenario(_grid(tmp_path, geography=geography))
    run = solve_scenario(scenario.with_overrides(engine=engine))
    assert run.result.status is Status.FEASIBLE
    assert run.result.violations == ()
    assert _groups(run) == GRID_ALIGNMENT
    assert run.problem.contiguity
    roots = [run.problem.account_ids[r] for r in run.problem.roots]
    assert [run.result.alignment()[a] for a in roots] == list(run.problem.territory_ids)


def test_cli_prints_one_line_per_level(tmp_path: Path) -> None:
    """The solve summary has a line per level with its largest deviations."""
    from typer.testing import CliRunner

    from territory_opt.cli import app

    path = _spread(tmp_path, False)
    result = CliRunner().invoke(app, ["solve", str(path), "--engine", "highs"])
    assert result.exit_code == 0, result.output
    assert "district (2 units): max deviation potential 33.33%" in result.output
    assert "region (1 units): max deviation potential 0.00%" in result.output


def _grid_kept(folder: Path, tolerance: float) -> Path:
    """The grid with r0c1 kept within region E, solved top-down."""
    return write_scenario(
        folder,
        _accounts(GRID, home_region={"r0c1": "E"}),
        GRID_TERRITORIES,
        balance={"potential": {"tolerance": tolerance, "weight": 0.0}},
        objective={"travel": 1.0, "balance": 0.0},
        hierarchy={
            "levels": ["region"],
            "columns": {"region": "region"},
            "keep_within": {"region": "home_region"},
            "solve": "top_down",
            "workers": 1,
        },
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_top_down_keeps_accounts_within_their_region(
    tmp_path: Path, engine: str
) -> None:
    """r0c1 kept within E: W = {r0c0 | r1c0, r1c1}, E = {r0c1..r0c3 | r1c2, r1c3}.

    Bands of 1 to 3 accounts per territory; r0c1 is 0.15 degree from E-top's
    home and about 0.18 from E-bottom's, so it joins E-top.
    """
    run = solve_scenario(
        load_scenario(_grid_kept(tmp_path, 0.5)).with_overrides(engine=engine)
    )
    assert run.result.status is Status.FEASIBLE
    assert _groups(run) == {
        "E-bottom": ["r1c2", "r1c3"],
        "E-top": ["r0c1", "r0c2", "r0c3"],
        "W-bottom": ["r1c0", "r1c1"],
        "W-top": ["r0c0"],
    }


@pytest.mark.parametrize("engine", ENGINES)
def test_top_down_part_infeasible_is_reported(tmp_path: Path, engine: str) -> None:
    """With exactly 2 accounts per territory the region stage leaves E with 5
    accounts (its band allows 3 to 5), which its 2 territories cannot split; the
    monolithic solve finds an alignment."""
    scenario = load_scenario(_grid_kept(tmp_path, 0.3)).with_overrides(engine=engine)
    top_down = solve_scenario(scenario)
    assert top_down.result.status is Status.INFEASIBLE
    assert top_down.result.assignment is None
    assert top_down.result.message.startswith(
        "top-down stopped at region 'E' (placing its accounts into territory units)"
    )
    assert "does not prove the whole scenario infeasible" in top_down.result.message
    hierarchy = scenario.hierarchy.model_copy(update={"solve": "monolithic"})
    whole = solve_scenario(scenario.model_copy(update={"hierarchy": hierarchy}))
    assert whole.result.status is Status.OPTIMAL


def test_unknown_hierarchy_key_is_rejected(tmp_path: Path) -> None:
    """A misspelt key is named with the valid ones; an unknown mode is refused."""
    path = write_scenario(
        tmp_path,
        _accounts(LINE),
        EAST_WEST,
        hierarchy={"levels": ["region"], "keep_inside": {}},
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert (
        "hierarchy: unknown key(s) keep_inside; valid keys are: balance, columns, "
        "keep_within, levels, solve, table, workers"
    ) in str(caught.value)
    path = write_scenario(
        tmp_path,
        _accounts(LINE),
        EAST_WEST,
        hierarchy={"levels": ["region"], "solve": "sideways"},
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert "hierarchy.solve: Input should be 'monolithic' or 'top_down'" in str(
        caught.value
    )


@settings(max_examples=12)
@given(
    potentials=st.lists(st.integers(1, 5), min_size=6, max_size=9),
    columns=st.lists(st.integers(0, 9), min_size=9, max_size=9),
)
def test_top_down_is_verified_and_never_beats_the_monolithic_optimum(
    potentials: list[int], columns: list[int]
) -> None:
    """Random accounts on a line, 4 territories in 2 districts: a top-down
    alignment passes the full checker and costs at least the monolithic optimum."""
    cells = {f"a{i}": (0.0, 0.1 * columns[i]) for i in range(len(potentials))}
    accounts = _accounts(cells)
    for row, potential in zip(accounts, potentials, strict=False):
        row["potential"] = potential
    with tempfile.TemporaryDirectory() as folder:
        path = write_scenario(
            Path(folder),
            accounts,
            [dict(t, lon=0.3 * i) for i, t in enumerate(FOUR)],
            balance={"potential": {"tolerance": 0.6, "weight": 0.5}},
            objective={"travel": 1.0, "balance": 1.0},
            hierarchy={
                "levels": ["district"],
                "columns": {"district": "district"},
                "balance": {"district": {"potential": {"tolerance": 0.3}}},
                "solve": "top_down",
                "workers": 1,
            },
            solver={"engine": "highs", "threads": 1},
        )
        scenario = load_scenario(path)
        try:
            top_down = solve_scenario(scenario)
        except InfeasibleSpecificationError:
            return
        hierarchy = scenario.hierarchy.model_copy(update={"solve": "monolithic"})
        whole = solve_scenario(scenario.model_copy(update={"hierarchy": hierarchy}))
    if not top_down.result.has_alignment:
        return
    index = top_down.problem.territory_index()
    territory_of = np.array([index[t] for t in top_down.result.assignment or ()])
    assert check_alignment(top_down.problem, territory_of) == []
    assert whole.result.status is Status.OPTIMAL
    assert top_down.result.objective >= whole.result.objective - 1e-6
