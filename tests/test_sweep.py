"""Sweeps: settings, the grid, the frontier and a run on a local Dask cluster."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from publish_cases import grid_scenario
from territory_opt.compare import document_scores
from territory_opt.errors import InputError
from territory_opt.sweep import (
    Setting,
    non_dominated,
    parse_setting,
    run_sweep,
    set_dotted,
    solve_variant,
    variant_grid,
    variant_label,
    write_sweep,
)


def test_parse_setting_reads_yaml_scalars() -> None:
    """Numbers, booleans and words are read as YAML; a missing '=' is explained."""
    assert parse_setting("objective.disruption=0,1.5,10") == Setting(
        "objective.disruption", (0, 1.5, 10)
    )
    assert parse_setting("solver.engine=cpsat,highs").values == ("cpsat", "highs")
    assert parse_setting("geography.contiguity=true,false").values == (True, False)
    with pytest.raises(InputError, match="write KEY=V1,V2"):
        parse_setting("objective.disruption")
    with pytest.raises(InputError, match="an empty value between commas"):
        parse_setting("solver.seed=1,,2")


def test_set_dotted_copies_and_creates_sections() -> None:
    """The original mapping is untouched; missing sections are created."""
    data = {"objective": {"travel": 1.0}, "name": "x"}
    changed = set_dotted(data, "constraints.max_disruption.accounts_share", 0.2)
    assert changed["constraints"] == {"max_disruption": {"accounts_share": 0.2}}
    assert "constraints" not in data
    with pytest.raises(InputError, match="'name' is 'x', not a section"):
        set_dotted(data, "name.first", 1)


def test_variant_labels_show_the_varied_keys() -> None:
    """Keys set to one value for every variant are left out of the labels."""
    changes = {"objective.disruption": 1, "solver.threads": 1}
    assert variant_label(changes, ["objective.disruption"]) == "disruption=1"
    assert variant_label(changes) == "disruption=1 threads=1"


def test_variant_grid_is_the_product() -> None:
    """Two keys of 2 and 3 values give 6 variants, last key fastest."""
    grid = variant_grid([Setting("a", (1, 2)), Setting("b.c", ("x", "y", "z"))])
    assert len(grid) == 6
    assert grid[0] == {"a": 1, "b.c": "x"} and grid[5] == {"a": 2, "b.c": "z"}


def test_frontier_worked_by_hand() -> None:
    """(balance, disruption) points; dominated ones and a NaN are not marked.

    A (0.10, 0.30)  kept
    B (0.20, 0.10)  kept
    C (0.15, 0.35)  dominated by A (worse on both)
    D (0.30, 0.10)  dominated by B (same disruption, worse balance)
    E (0.05, 0.50)  kept: best balance
    F (0.20, 0.10)  kept: equal to B, and equal points do not dominate each other
    G (NaN,  0.00)  not marked: no balance figure
    """
    points = [
        [0.10, 0.30],
        [0.20, 0.10],
        [0.15, 0.35],
        [0.30, 0.10],
        [0.05, 0.50],
        [0.20, 0.10],
        [math.nan, 0.0],
    ]
    assert non_dominated(points).tolist() == [
        True,
        True,
        False,
        False,
        True,
        True,
        False,
    ]


def _brute_force_front(rows: np.ndarray) -> list[bool]:
    keep = []
    for i, p in enumerate(rows):
        beaten = any(
            all(q[k] <= p[k] for k in range(len(p)))
            and any(q[k] < p[k] for k in range(len(p)))
            for j, q in enumerate(rows)
            if j != i
        )
        keep.append(not beaten)
    return keep


def test_sweep_of_six_variants_on_a_local_dask_cluster(tmp_path: Path) -> None:
    """2 × 3 variants run on a LocalCluster; each equals a direct solve of the same
    variant, and the frontier flags match a brute-force dominance check."""
    path = grid_scenario(tmp_path / "s", quota=False)
    settings = [
        parse_setting("objective.disruption=0,10"),
        parse_setting("balance.potential.tolerance=0.2,0.3,0.5"),
    ]
    result = run_sweep(path, settings, workers=2, processes=False)
    variants = result.variants
    assert len(variants) == 6
    assert set(variants["status"]) == {"optimal"}
    assert list(variants["label"])[:2] == [
        "disruption=0 tolerance=0.2",
        "disruption=0 tolerance=0.3",
    ]
    assert [c.label for c in result.columns][0] == "current"
    assert len(result.columns) == 7

    data = yaml.safe_load(path.read_text())
    direct = set_dotted(
        set_dotted(data, "objective.disruption", 10), "balance.potential.tolerance", 0.5
    )
    alone = solve_variant(direct, str(path), "alone")
    expected = document_scores(alone["document"])
    swept = next(c for c in result.columns if c.label == "disruption=10 tolerance=0.5")
    assert swept.scores == expected

    figures = variants[["balance_cv", "disruption_share"]].to_numpy(dtype=float)
    assert variants["frontier_disruption"].tolist() == _brute_force_front(figures)
    three = variants[["balance_cv", "disruption_share", "travel_km"]].to_numpy(
        dtype=float
    )
    assert variants["non_dominated"].tolist() == _brute_force_front(three)
    assert variants["frontier_disruption"].any()

    write_sweep(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "alignments.csv",
        "comparison.csv",
        "sweep.html",
        "tradeoff.png",
        "variants.csv",
    ]


def test_sweep_refuses_an_unknown_key_before_running(tmp_path: Path) -> None:
    """A typo in a key fails validation, naming the key, before any worker starts."""
    path = grid_scenario(tmp_path, quota=False)
    with pytest.raises(
        InputError, match="(?s)sweep variant disruptoin=0: .*unknown key.s. disruptoin"
    ):
        run_sweep(path, [parse_setting("objective.disruptoin=0,1")], processes=False)


def test_sweep_on_an_existing_cluster_by_address(tmp_path: Path) -> None:
    """Given a scheduler address, the variants run on that cluster's workers."""
    from dask.distributed import LocalCluster

    path = grid_scenario(tmp_path, quota=False)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        result = run_sweep(
            path,
            [parse_setting("objective.disruption=0,10")],
            scheduler=cluster.scheduler_address,
        )
        assert list(cluster.scheduler.task_prefixes) == ["solve_variant"]
    assert list(result.variants["label"]) == ["disruption=0", "disruption=10"]
    assert list(result.variants["status"]) == ["optimal", "optimal"]
