"""Comparison of runs: directions, deltas, best marks, and values equal to metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from publish_cases import grid_scenario
from territory_opt.cli import app
from territory_opt.compare import Compared, comparison_frame, direction
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


def test_compare_two_scenarios_equals_their_metrics(tmp_path: Path) -> None:
    """One command solves two variants; the table's numbers are their metrics.json
    figures, and the current column is the current alignment's scorecard."""
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
