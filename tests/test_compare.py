"""Comparison of runs: directions, deltas, best marks, and values equal to metrics."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from publish_cases import grid_scenario
from territory_opt.cli import app
from territory_opt.compare import Compared, comparison_frame, direction
from territory_opt.compare_terminal import comparison_tables
from territory_opt.errors import InputError

runner = CliRunner()


def test_direction_of_figures() -> None:
    """Spread and moves are better low, shares within the band high, means neutral."""
    assert direction("balance.potential.cv") == "lower"
    assert direction("balance.potential.within_5pct_share") == "higher"
    assert direction("balance.potential.mean") == ""
    assert direction("disruption.accounts_moved_share") == "lower"
    assert direction("disruption.accounts_compared") == ""
    assert direction("travel.km_max") == "lower"
    assert direction("compactness.polsby_popper_mean") == "higher"
    assert direction("fairness.p_attain_spread") == "lower"
    assert direction("fairness.corr_pearson_potential") == ""


def test_comparison_frame_worked_by_hand() -> None:
    """Deltas against current; a tie marks both columns; all-equal rows no one."""
    columns = [
        Compared(
            "current",
            {
                "balance.p.cv": 0.30,
                "disruption.accounts_moved_share": 0.0,
                "balance.p.mean": 5.0,
            },
            "",
        ),
        Compared(
            "A",
            {
                "balance.p.cv": 0.10,
                "disruption.accounts_moved_share": 0.2,
                "balance.p.mean": 5.0,
            },
            "",
        ),
        Compared(
            "B",
            {
                "balance.p.cv": 0.10,
                "disruption.accounts_moved_share": 0.5,
                "balance.p.mean": 5.0,
            },
            "",
        ),
    ]
    frame = comparison_frame(columns).set_index("metric")
    assert list(frame.columns) == [
        "better",
        "current",
        "A",
        "B",
        "delta A",
        "delta B",
        "best",
    ]
    assert frame.loc["balance.p.cv", "delta A"] == pytest.approx(-0.20)
    assert frame.loc["balance.p.cv", "delta B"] == pytest.approx(-0.20)
    assert frame.loc["balance.p.cv", "best"] == "A; B"
    assert frame.loc["disruption.accounts_moved_share", "best"] == "current"
    assert frame.loc["disruption.accounts_moved_share", "delta B"] == pytest.approx(0.5)
    assert frame.loc["balance.p.mean", "best"] == ""
    against_a = comparison_frame(columns, baseline="A").set_index("metric")
    assert against_a.loc["disruption.accounts_moved_share", "delta B"] == pytest.approx(
        0.3
    )
    with pytest.raises(
        InputError, match="'Z' is not a column; the columns are current, A, B"
    ):
        comparison_frame(columns, baseline="Z")


def test_compare_two_scenarios_equals_their_metrics(
    tmp_path: Path, monkeypatch
) -> None:
    """One command solves two variants; the table's numbers are their metrics.json
    figures, and the current column is the current alignment's scorecard; the
    terminal table of an 80-column console stays within 80 columns."""
    from territory_opt import cli

    screen = Console(width=80, record=True, color_system=None, file=io.StringIO())
    monkeypatch.setattr(cli, "out", screen)
    steady = grid_scenario(tmp_path / "a", quota=False, name="steady")
    free = grid_scenario(
        tmp_path / "b",
        quota=False,
        name="free",
        objective={"travel": 0.05, "disruption": 0.0, "balance": 5.0},
    )
    table = tmp_path / "compare.csv"
    result = runner.invoke(
        app,
        [
            "compare",
            str(steady),
            str(free),
            "--runs",
            str(tmp_path / "runs"),
            "--csv",
            str(table),
            "--html",
            str(tmp_path / "compare.html"),
        ],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(table).set_index("metric")
    assert list(frame.columns[:4]) == ["better", "current", "steady", "free"]
    for label in ("steady", "free"):
        folder = tmp_path / "runs" / label
        metrics = json.loads((folder / "metrics.json").read_text())
        card, current = metrics["scorecard"], metrics["current_scorecard"]
        for metric, summary in card["balance"].items():
            for stat, value in summary.items():
                assert frame.loc[f"balance.{metric}.{stat}", label] == pytest.approx(
                    value, abs=1e-12
                )
                expected = current["balance"][metric][stat]
                assert frame.loc[
                    f"balance.{metric}.{stat}", "current"
                ] == pytest.approx(expected, abs=1e-12)
        for key, value in card["travel"].items():
            assert frame.loc[f"travel.{key}", label] == pytest.approx(value)
        moved = pd.read_csv(folder / "alignment.csv")["moved"].mean()
        assert frame.loc["disruption.accounts_moved_share", label] == pytest.approx(
            moved
        )
        assert frame.loc["disruption.accounts_moved_share", "current"] == 0.0
        pp = metrics["compactness"]["summary"]["polsby_popper_mean"]
        assert frame.loc["compactness.polsby_popper_mean", label] == pytest.approx(pp)
    cv = frame.loc["balance.potential.cv"]
    assert cv["delta free"] == pytest.approx(cv["free"] - cv["current"])
    assert "report-table" in (tmp_path / "compare.html").read_text()
    printed = screen.export_text().splitlines()
    assert max(len(line) for line in printed) <= 80
    assert any(line.split()[-2:] == ["current", "steady"] for line in printed if line)


def test_compare_refuses_a_folder_without_metrics(tmp_path: Path) -> None:
    """A folder that is no result is named with what to give instead."""
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["compare", str(tmp_path / "empty")])
    assert result.exit_code == 2
    assert "no metrics.json; give result folders" in result.output


def test_demo_variants_are_valid_scenarios() -> None:
    """The two shipped variants of the demo read the demo's own tables."""
    from territory_opt.scenario import load_scenario

    folder = Path(__file__).parents[1] / "scenarios" / "southeast_medtech"
    for name in ("minimal_change", "full_rebalance"):
        scenario = load_scenario(folder / "variants" / f"{name}.yaml")
        assert scenario.name == f"southeast_medtech_{name}"
        assert scenario.accounts.path == (folder / "accounts.csv").resolve()
        assert scenario.quota is None


def test_repeated_labels_are_numbered() -> None:
    """Two results named alike, or a result named 'current', get -2, -3 ..."""
    from territory_opt.compare import unique_labels

    assert unique_labels(["current", "current", "a", "a", "a"]) == [
        "current",
        "current-2",
        "a",
        "a-2",
        "a-3",
    ]


def _four_columns() -> pd.DataFrame:
    """The current alignment and three runs with long names, over four figures."""
    figures = [
        "balance.potential.cv",
        "balance.potential.within_5pct_share",
        "travel.km_mean",
        "disruption.accounts_moved_share",
    ]
    values = {
        "current": [0.30, 0.25, 1234.5, 0.0],
        "minimal_change": [0.10, 0.50, 1100.25, 0.05],
        "full_rebalance": [0.02, 1.00, 1500.0, 0.40],
        "southeast_medtech": [0.05, 0.90, 1300.0, 0.20],
    }
    columns = [
        Compared(label, dict(zip(figures, row, strict=True)), "")
        for label, row in values.items()
    ]
    return comparison_frame(columns)


def _render(frame: pd.DataFrame, width: int) -> list[list[str]]:
    """Each table of the comparison at ``width``, as its printed lines."""
    tables = []
    for table in comparison_tables(frame, width, "comparison"):
        screen = Console(
            width=width, record=True, color_system=None, file=io.StringIO()
        )
        screen.print(table)
        tables.append(screen.export_text().splitlines())
    return tables


def test_comparison_fits_an_80_column_terminal() -> None:
    """At 80 columns the four columns split into three tables of current plus one
    run, none wider than 80, each row on one line with value and change."""
    tables = _render(_four_columns(), 80)
    assert len(tables) == 3
    assert all(len(line) <= 80 for lines in tables for line in lines)
    words = [[" ".join(line.split()) for line in lines] for lines in tables]
    assert words[0][0] == "comparison, part 1 of 3"
    assert "figure current minimal_change" in words[0]
    assert "figure current full_rebalance" in words[1]
    assert "figure current southeast_medtech" in words[2]
    assert "potential.cv ↓ 0.3 0.1 (-0.2)" in words[0]
    assert "potential.cv ↓ 0.3 0.02 (-0.28) *" in words[1]
    assert "potential.within_5pct_share ↑ 25.00% 100.00% (+75.00%) *" in words[1]
    assert "km_mean ↓ 1,234 1,100 (-134.2) *" in words[0]
    assert "accounts_moved_share ↓ 0.00% * 40.00% (+40.00%)" in words[1]
    assert ["balance", "travel", "disruption"] == [
        w for w in words[2] if w in ("balance", "travel", "disruption")
    ]


def test_comparison_in_a_wide_terminal_is_one_table() -> None:
    """At 160 columns every run fits beside the current alignment in one table."""
    tables = _render(_four_columns(), 160)
    assert len(tables) == 1
    header = [" ".join(line.split()) for line in tables[0]][2]
    assert header == "figure current minimal_change full_rebalance southeast_medtech"
