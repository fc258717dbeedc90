"""Named-account scenarios from CRM exports, end to end through solve."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from territory_opt.cli import app
from territory_opt.crm.generator import generate_crm

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT.parent / "shared" / "data" / "crm_sample"
runner = CliRunner()


def _import_and_solve(export: Path, tmp_path: Path, *extra: str) -> Path:
    scenario = tmp_path / "scenario"
    imported = runner.invoke(
        app, ["import-crm", str(export), "--out", str(scenario), *extra]
    )
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "result"
    solved = runner.invoke(
        app, ["solve", str(scenario / "scenario.yaml"), "--out", str(out), "-q"]
    )
    assert solved.exit_code == 0, solved.output
    return out


def _forecast(tmp_path: Path) -> Path:
    """Run ``territory-opt forecast`` on the imported scenario (current alignment)."""
    out = tmp_path / "forecast"
    done = runner.invoke(
        app,
        ["forecast", str(tmp_path / "scenario" / "scenario.yaml"), "--out", str(out)],
    )
    assert done.exit_code == 0, done.output
    return out


def _integrity(out: Path) -> tuple[pd.DataFrame, dict]:
    table = pd.read_csv(out / "funnel_integrity.csv")
    metrics = json.loads((out / "metrics.json").read_text())
    return table, metrics


def test_generated_crm_runs_end_to_end(tmp_path: Path) -> None:
    """Generated export: import, align, forecast, integrity, accuracy; every planted
    fault is flagged by the funnel-integrity report."""
    crm = generate_crm(5)
    export = crm.write(tmp_path / "export")
    out = _import_and_solve(export, tmp_path, "--as-of", "2026-01-05")
    for name in (
        "alignment.csv",
        "forecast.csv",
        "funnel_integrity.csv",
        "contribution.csv",
        "opportunity_flags.csv",
    ):
        assert (out / name).exists(), name
    quality = json.loads((tmp_path / "scenario" / "data_quality.json").read_text())
    planted = crm.fault_counts()
    assert quality["product_spelling"]["count"] == planted["product_misspelt"]
    assert quality["open_without_account"]["count"] == planted["blank_account_open"]
    assert quality["agent_without_deals"]["count"] == planted["agents_without_deals"]
    flags = pd.read_csv(out / "opportunity_flags.csv")
    assert int(flags["invalid_stage"].sum()) == planted["invalid_stage"]
    assert int(flags["pushed"].sum()) == planted["pushed"]

    forecast = _forecast(tmp_path)
    table, metrics = _integrity(forecast)
    assert table["product_spelling_count"].sum() == planted["product_misspelt"]
    assert table["missing_account_count"].sum() == planted["blank_account_open"]
    assert table["lost_zero_value_count"].sum() == planted["lost_zero_value"]
    idle = table.loc[table["no_deals"], "territory_id"].tolist()
    assert idle == sorted(crm.agents_without_deals)
    for flag, count in crm.faults.hygiene_counts().items():
        assert table[f"{flag}_count"].sum() == count, flag
    assert set(metrics) == {"forecast", "before_after"}
    assert metrics["forecast"]["accuracy"]["source"] == "backtest"
    accuracy = pd.read_csv(forecast / "accuracy.csv").set_index("territory_id")
    assert accuracy.loc["(all)", "n_pairs"] == 18 * 4


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"CRM sample not found at {SAMPLE}")
def test_crm_sample_runs_end_to_end(tmp_path: Path) -> None:
    """The public sample (read in place): import, align 85 accounts, forecast; the
    funnel-integrity report flags its faults and accuracy is back-tested."""
    out = _import_and_solve(SAMPLE, tmp_path)
    quality = json.loads((tmp_path / "scenario" / "data_quality.json").read_text())
    assert quality["product_spelling"]["count"] == 1480
    assert quality["open_without_account"]["count"] == 1425
    assert quality["agent_without_deals"]["count"] == 5
    alignment = pd.read_csv(out / "alignment.csv")
    assert len(alignment) == 85
    territories = pd.read_csv(out / "territories.csv")
    assert territories["accounts"].between(2, 3).all()  # ±50 % of 85/35
    forecast = _forecast(tmp_path)
    table, metrics = _integrity(forecast)
    assert table["product_spelling_count"].sum() == 1480
    assert table["missing_account_count"].sum() == 1425
    assert table.loc[table["no_deals"], "territory_id"].tolist() == [
        "Carl Lin",
        "Carol Thompson",
        "Elizabeth Anderson",
        "Mei-Mei Johns",
        "Natalya Ivanova",
    ]
    accuracy = metrics["forecast"]["accuracy"]
    assert (accuracy["source"], accuracy["actual_total"]) == ("backtest", 10_005_534)
    for name in ("forecast.csv", "contribution.csv", "accuracy.csv"):
        assert (forecast / name).exists(), name


def test_shipped_crm_scenario_is_what_the_build_script_makes(tmp_path: Path) -> None:
    """scenarios/crm_named_accounts equals a fresh run of its build script."""
    import importlib.util

    folder = ROOT / "scenarios" / "crm_named_accounts"
    spec = importlib.util.spec_from_file_location("crm_build", folder / "build_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.build(tmp_path)
    for name in (
        "accounts.csv",
        "territories.csv",
        "opportunities.csv",
        "revenue.csv",
        "scenario.yaml",
        "data_quality.json",
    ):
        assert (tmp_path / name).read_text() == (folder / name).read_text(), name
