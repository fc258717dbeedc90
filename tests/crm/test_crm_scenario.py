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


def test_generated_crm_runs_end_to_end(tmp_path: Path) -> None:
    """Generated export: import, align, forecast; planted faults are counted."""
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


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"CRM sample not found at {SAMPLE}")
def test_crm_sample_runs_end_to_end(tmp_path: Path) -> None:
    """The public sample (read in place): import, align 85 accounts, forecast."""
    out = _import_and_solve(SAMPLE, tmp_path)
    quality = json.loads((tmp_path / "scenario" / "data_quality.json").read_text())
    assert quality["product_spelling"]["count"] == 1480
    assert quality["open_without_account"]["count"] == 1425
    assert quality["agent_without_deals"]["count"] == 5
    alignment = pd.read_csv(out / "alignment.csv")
    assert len(alignment) == 85
    territories = pd.read_csv(out / "territories.csv")
    assert territories["accounts"].between(2, 3).all()  # ±50 % of 85/35


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
