"""The benchmark framework: instances solved, checked, tabled; suites selectable."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from territory_opt.bench.districting import write_scenario
from territory_opt.bench.suite import (
    BenchOptions,
    Instance,
    Suite,
    gap_to,
    run_suite,
    select,
    write_results,
)
from territory_opt.cli import app
from territory_opt.errors import InputError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# A path a - b - c - d with equal populations: two contiguous halves of 2 cut
# one edge ({a, b} | {c, d}); {a, c} | {b, d} would cut three and be in pieces.
PATH_GRAPH = {
    "nodes": [
        {"GEOID10": g, "TOTPOP": 100, "C_X": -90.0 + 0.1 * i, "C_Y": 35.0, "id": i}
        for i, g in enumerate(["a", "b", "c", "d"])
    ],
    "adjacency": [
        [{"id": 1}],
        [{"id": 0}, {"id": 2}],
        [{"id": 1}, {"id": 3}],
        [{"id": 2}],
    ],
}


def _write_path(folder: Path, options: BenchOptions) -> Path:
    return write_scenario(
        PATH_GRAPH, 2, folder, "path4", time_limit_s=30, threads=1, engine="highs"
    )


def _write_impossible(folder: Path, options: BenchOptions) -> Path:
    # Three districts of 400/3 people each cannot be made of units of 100.
    return write_scenario(PATH_GRAPH, 3, folder, "path4x3", time_limit_s=30, threads=1)


TINY = Suite(
    name="tiny",
    description="Two hand-made path graphs.",
    instances=lambda data, options: [
        Instance("tiny", "path4", _write_path, best_known=1.0),
        Instance("tiny", "path4x3", _write_impossible, best_known=None),
    ],
    missing=lambda data: None,
)


def test_gap_to_best_known() -> None:
    """(objective − best) / |best|; 0 best only matches 0; None when unknown."""
    assert gap_to(41.0, 40.0) == pytest.approx(0.025)
    assert gap_to(40.0, 40.0) == 0.0
    assert gap_to(0.0, 0.0) == 0.0
    assert gap_to(1.0, 0.0) == math.inf
    assert gap_to(None, 40.0) is None
    assert gap_to(40.0, None) is None


def test_select_names_unknown_instances() -> None:
    """Asking for an instance the suite does not have lists the valid names."""
    with pytest.raises(InputError, match=r"unknown instance\(s\) nope.*path4, path4x3"):
        select(TINY, Path("."), BenchOptions(), ["nope"])
    chosen = select(TINY, Path("."), BenchOptions(), ["path4x3"])
    assert [i.name for i in chosen] == ["path4x3"]


def test_rows_carry_the_solve_the_check_and_the_figures(tmp_path: Path) -> None:
    """The path graph: 1 cut edge against best 1, halves exact, contiguous,
    checker valid; the impossible split has no alignment and no gap."""
    rows = list(run_suite(TINY, tmp_path, BenchOptions(), fresh_process=False))
    first, second = rows
    assert (first.units, first.territories) == (4, 2)
    assert first.status == "optimal"
    assert first.objective == pytest.approx(1.0)
    assert first.bound == pytest.approx(1.0)
    assert first.gap_to_best_known == pytest.approx(0.0)
    assert first.max_balance_deviation == pytest.approx(0.0)
    assert first.contiguity == "all"
    assert first.checker == "valid"
    assert first.peak_rss_mb > 0
    assert second.status == "infeasible"
    assert second.objective is None
    assert second.checker == "no alignment"
    assert second.gap_to_best_known is None

    md, csv = write_results(TINY, rows, tmp_path / "out", "territory-opt bench tiny")
    table = pd.read_csv(csv)
    assert list(table["instance"]) == ["path4", "path4x3"]
    assert list(table.columns[:4]) == ["suite", "instance", "units", "territories"]
    text = md.read_text()
    assert "Command: `territory-opt bench tiny`" in text
    assert "| tiny | path4 | 4 | 2 |" in text
    assert not list((tmp_path / "out").glob(".*"))


def test_cli_lists_suites_and_refuses_unknown_ones(tmp_path: Path) -> None:
    """`bench` alone lists the suites; an unknown suite exits 2 naming the valid."""
    runner = CliRunner()
    listed = runner.invoke(app, ["bench", "--data", str(tmp_path)])
    assert listed.exit_code == 0
    assert "districting" in listed.output
    assert "not found" in listed.output
    wrong = runner.invoke(app, ["bench", "nosuch", "--data", str(tmp_path)])
    assert wrong.exit_code == 2
    assert "no suite named nosuch" in wrong.output


def test_cli_skips_a_suite_whose_data_is_missing(tmp_path: Path) -> None:
    """A suite without its files is skipped with the reason and writes nothing."""
    result = CliRunner().invoke(
        app, ["bench", "districting", "--data", str(tmp_path), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0
    assert "districting: skipped" in result.output
    assert not (tmp_path / "districting.md").exists()


@pytest.mark.skipif(
    not (DATA / "districting_cut_edges").exists(),
    reason="the shared districting data is not beside the repository",
)
def test_cli_runs_an_instance_in_a_fresh_process(tmp_path: Path) -> None:
    """NM counties (k = 3) through the CLI: proven optimum 17, table written."""
    result = CliRunner().invoke(
        app,
        [
            "bench",
            "districting",
            "NM-county",
            "--data",
            str(DATA),
            "--out",
            str(tmp_path),
            "--threads",
            "1",
            "--time-limit",
            "120",
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "districting.csv")
    row = table.iloc[0]
    assert row["instance"] == "NM-county"
    assert row["objective"] == 17
    assert row["best_known"] == 17
    assert row["contiguity"] == "all"
    assert row["checker"] == "valid"
