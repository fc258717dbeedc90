"""Command line: exit codes scripts can rely on, result folders, messages."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from conftest import write_scenario
from territory_opt.cli import app
from test_presolve import _big_account

runner = CliRunner()


def _small(folder: Path) -> Path:
    accounts = [
        {
            "account_id": f"0{i}",
            "lat": 40.0,
            "lon": -75.0 + i,
            "potential": i + 1,
            "workload_hours": 1,
            "current_territory": "T1" if i < 3 else "T2",
        }
        for i in range(6)
    ]
    territories = [
        {"territory_id": "T1", "rep_id": "R1", "lat": 40.0, "lon": -75.0},
        {"territory_id": "T2", "rep_id": "", "lat": 40.0, "lon": -70.0},
    ]
    return write_scenario(
        folder,
        accounts,
        territories,
        balance={"potential": {"tolerance": 0.1}},
        objective={"travel": 0.01, "disruption": 1.0},
        output={"folder": "out"},
    )


def test_solve_writes_the_result_folder(tmp_path: Path) -> None:
    """Exit 0; alignment.csv keeps '0'-prefixed ids; metrics.json has the report."""
    result = runner.invoke(app, ["solve", str(_small(tmp_path)), "--engine", "cpsat"])
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out"
    alignment = pd.read_csv(folder / "alignment.csv", dtype=str)
    assert list(alignment.columns) == [
        "account_id",
        "territory_id",
        "rep_id",
        "previous_territory",
        "moved",
        "distance_km",
    ]
    assert list(alignment["account_id"]) == ["00", "01", "02", "03", "04", "05"]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["solve"]["status"] == "optimal"
    assert metrics["solve"]["engine"] == "cpsat"
    assert len(metrics["scenario"]["sha256"]) == 64
    assert set(metrics["scorecard"]) == {"balance", "travel", "disruption"}
    assert {p.name for p in tmp_path.iterdir() if p.name.startswith(".")} == set()


def test_existing_folder_is_not_overwritten(tmp_path: Path) -> None:
    """A second run stops with exit 2 unless --force is given."""
    path = str(_small(tmp_path))
    assert runner.invoke(app, ["solve", path]).exit_code == 0
    second = runner.invoke(app, ["solve", path])
    assert second.exit_code == 2
    assert "the result folder exists already; pass --force" in second.output
    assert runner.invoke(app, ["solve", path, "--force"]).exit_code == 0


def test_presolve_conflict_exits_3_without_solver(tmp_path: Path) -> None:
    """The 30% account: exit 3, the account and numbers named, nothing written."""
    result = runner.invoke(app, ["solve", str(_big_account(tmp_path))])
    assert result.exit_code == 3
    assert (
        "account 'A00' alone holds 30.0% of all potential (300 of 1,000)"
        in " ".join(result.output.split())
    )
    assert not (tmp_path / "results").exists()


def test_solver_infeasible_exits_3(tmp_path: Path) -> None:
    """Potentials 5, 5, 5 cannot fit two ±10% bands: exit 3, no folder."""
    accounts = [
        {"account_id": f"A{i}", "lat": 0, "lon": 0, "potential": 5, "workload_hours": 1}
        for i in range(3)
    ]
    territories = [{"territory_id": t, "lat": 0, "lon": 0} for t in ("T1", "T2")]
    path = write_scenario(
        tmp_path, accounts, territories, balance={"potential": {"tolerance": 0.1}}
    )
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 3
    assert not (tmp_path / "results").exists()


def test_bad_input_exits_2(tmp_path: Path) -> None:
    """A bad cell gives exit 2 and names the line."""
    path = _small(tmp_path)
    table = pd.read_csv(tmp_path / "accounts.csv", dtype=str)
    table.loc[2, "lat"] = "north"
    table.to_csv(tmp_path / "accounts.csv", index=False)
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 2
    assert "line 4, column 'lat' (lat): 'north' is not a number" in result.output


def test_unknown_engine_option_exits_2(tmp_path: Path) -> None:
    """--engine gurobi is refused with the engines that exist."""
    result = runner.invoke(app, ["solve", str(_small(tmp_path)), "--engine", "gurobi"])
    assert result.exit_code == 2
    assert "use cpsat, highs, cbc or auto" in result.output


def test_validate_reports_sizes(tmp_path: Path) -> None:
    """validate checks tables and pre-solve rules without solving."""
    result = runner.invoke(app, ["validate", str(_small(tmp_path))])
    assert result.exit_code == 0
    assert "valid: 6 accounts, 2 territories, 12 allowed pairs" in result.output


def test_schema_prints_json() -> None:
    """schema prints the JSON Schema."""
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output)["title"] == "Scenario"


@pytest.mark.parametrize("missing", ["nowhere.yaml"])
def test_missing_scenario_file(tmp_path: Path, missing: str) -> None:
    """A missing scenario file is exit 2 with the path."""
    result = runner.invoke(app, ["solve", str(tmp_path / missing)])
    assert result.exit_code == 2
    assert "cannot read the scenario file" in result.output


def test_out_of_range_option_exits_2(tmp_path: Path) -> None:
    """--time-limit 0 is refused with the field, not a traceback."""
    result = runner.invoke(app, ["solve", str(_small(tmp_path)), "--time-limit", "0"])
    assert result.exit_code == 2
    assert "solver option out of range: time_limit_s = 0.0" in result.output


def test_metric_adding_up_to_zero_is_reported_not_crashed(tmp_path: Path) -> None:
    """Regression: revenue all zero (not balanced) crashed the scorecard."""
    path = _small(tmp_path)
    table = pd.read_csv(tmp_path / "accounts.csv", dtype=str)
    table["revenue"] = "0"
    table.to_csv(tmp_path / "accounts.csv", index=False)
    result = runner.invoke(app, ["solve", str(path)])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["scorecard"]["balance"]["revenue"] is None


def _even_quota_scenario(folder: Path) -> Path:
    """The small scenario, both territories staffed, even quotas of a 2,100 plan."""
    path = _small(folder)
    document = yaml.safe_load(path.read_text())
    frame = pd.read_csv(folder / "territories.csv", dtype=str)
    frame["rep_id"] = ["R1", "R2"]
    frame.to_csv(folder / "territories.csv", index=False)
    document["quota"] = {
        "fiscal_year": 2026,
        "plan": {"company_target": 2100},
        "method": "even",
        "simulation": None,
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_quota_command_on_a_given_alignment(tmp_path: Path) -> None:
    """With account 02 moved to T2, potentials are 1 + 2 = 3 and 3 + 4 + 5 + 6 = 18:
    quota/potential 1,050 / 3 = 350 and 1,050 / 18 = 58.33."""
    path = _even_quota_scenario(tmp_path)
    alignment = tmp_path / "alignment.csv"
    alignment.write_text(
        "account_id,territory_id\n00,T1\n01,T1\n02,T2\n03,T2\n04,T2\n05,T2\n"
    )
    out = tmp_path / "quota"

    result = runner.invoke(
        app, ["quota", str(path), "--alignment", str(alignment), "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    quotas = pd.read_csv(out / "quotas.csv", dtype={"territory_id": str})
    np.testing.assert_allclose(quotas["quota_to_potential"], [350, 1050 / 18])


def test_quota_command_rejects_an_incomplete_alignment(tmp_path: Path) -> None:
    """An alignment.csv without account 05 exits 2 and names the account (and no
    empty list of unknown territories)."""
    path = _even_quota_scenario(tmp_path)
    alignment = tmp_path / "alignment.csv"
    alignment.write_text("account_id,territory_id\n00,T1\n01,T1\n02,T1\n03,T2\n04,T2\n")

    result = runner.invoke(app, ["quota", str(path), "--alignment", str(alignment)])

    assert result.exit_code == 2
    assert result.output.endswith(
        "alignment.csv: 1 account(s) missing ('05'); give every account a row\n"
    )


def test_quota_command_without_simulation(tmp_path: Path) -> None:
    """Even quotas of 1,050 on potentials 6 and 15: quota/potential 175 and 70, cv
    52.5 / 122.5 = 0.428571, max/min 2.5; no comp.csv, a summary table."""
    path = _even_quota_scenario(tmp_path)
    out = tmp_path / "quota"

    result = runner.invoke(app, ["quota", str(path), "--out", str(out)])

    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "quotas.csv"]
    quotas = pd.read_csv(out / "quotas.csv", dtype={"territory_id": str})
    assert quotas["quota_full"].tolist() == [1050.0, 1050.0]
    fairness = json.loads((out / "metrics.json").read_text())["quota"]["fairness"]
    assert round(fairness["quota_to_potential_cv"], 6) == 0.428571
    assert fairness["quota_to_potential_max_min"] == pytest.approx(2.5)
    assert fairness["p_attain_spread"] is None
    assert "quotas and comp" in result.output
    assert "2,100 company, 2,100 street" in result.output
