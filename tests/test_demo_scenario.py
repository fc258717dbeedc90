"""The built-in real scenario: reproducible data, and a verified alignment on it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territory_opt.checker import check_alignment
from territory_opt.result import Status
from territory_opt.scenario import load_scenario
from territory_opt.scorecard import level_table, territory_table
from territory_opt.solve import solve_scenario

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "scenarios" / "southeast_medtech"


def test_demo_tables_are_what_the_build_script_makes() -> None:
    """accounts.csv and territories.csv equal a fresh run of build_data.py."""
    spec = importlib.util.spec_from_file_location(
        "build_data", FOLDER / "build_data.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    accounts, territories = module.build()
    for frame, name in ((accounts, "accounts.csv"), (territories, "territories.csv")):
        fresh = frame.to_csv(index=False, lineterminator="\n")
        assert fresh == (FOLDER / name).read_text(encoding="utf-8")


def test_demo_accounts_are_the_census_counties_of_four_states() -> None:
    """367 counties of AL, GA, SC, TN whose population matches the census table."""
    census = pd.read_csv(
        ROOT / "scenarios" / "data" / "us_counties.csv", dtype={"fips": str}
    )
    census = census[census["state"].isin(["AL", "GA", "SC", "TN"])]
    accounts = pd.read_csv(FOLDER / "accounts.csv", dtype={"fips": str})
    assert len(accounts) == 367
    assert set(accounts["fips"]) == set(census["fips"])
    assert accounts["population"].sum() == census["population"].sum()
    assert (accounts["potential_usd"] == (accounts["pop_65plus"] * 180).round()).all()


@pytest.mark.parametrize("engine", ["highs", "cpsat"])
def test_demo_solves_within_every_band(engine: str) -> None:
    """A short solve of the demo gives a verified alignment inside every band."""
    scenario = load_scenario(FOLDER / "scenario.yaml").with_overrides(
        engine=engine, time_limit_s=20
    )
    run = solve_scenario(scenario)
    assert run.result.status in (Status.OPTIMAL, Status.FEASIBLE)
    index = run.problem.territory_index()
    territory_of = np.array([index[t] for t in run.result.assignment])
    assert check_alignment(run.problem, territory_of) == []
    table = territory_table(run.problem, territory_of)
    assert (table["potential_deviation_share"].abs() <= 0.05 + 1e-9).all()
    assert (table["workload_hours_deviation_share"].abs() <= 0.10 + 1e-9).all()
    assert (table["capacity_used_share"] <= 1 + 1e-9).all()
    levels = level_table(run.problem, territory_of)
    districts = levels[levels["level"] == "district"]
    assert len(districts) == 6
    assert (districts["potential_deviation_share"].abs() <= 0.03 + 1e-9).all()
    moved = np.mean(territory_of != run.problem.current)
    assert moved <= 0.35 + 1e-9
    assert run.result.best_bound is not None
    assert run.result.best_bound <= run.result.objective + 1e-9


def test_demo_writes_quotas_that_sum_to_the_street_target(tmp_path: Path) -> None:
    """The demo's quota section: quotas.csv sums to target × 1.05, comp.csv per rep."""
    from typer.testing import CliRunner

    from territory_opt.cli import app

    out = tmp_path / "demo"
    result = CliRunner().invoke(
        app,
        [
            "solve",
            str(FOLDER / "scenario.yaml"),
            "--time-limit",
            "15",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    quotas = pd.read_csv(out / "quotas.csv", dtype={"territory_id": str})
    # 150,000,000 with 5% territory over-assignment, rounded to 10,000 units.
    assert quotas["quota_full"].sum() == pytest.approx(157_500_000, abs=1e-6)
    assert len(quotas) == 24
    comp = pd.read_csv(out / "comp.csv", dtype={"rep_id": str})
    assert "TBH-T07" in set(comp["rep_id"])
    metrics = pd.read_json(out / "metrics.json", typ="series")
    assert metrics["quota"]["summary"]["street_target"] == pytest.approx(157_500_000)


def test_quota_command_on_the_current_alignment(tmp_path: Path) -> None:
    """territory-opt quota runs on last year's alignment without solving."""
    from typer.testing import CliRunner

    from territory_opt.cli import app

    out = tmp_path / "quota"
    result = CliRunner().invoke(
        app, ["quota", str(FOLDER / "scenario.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["comp.csv", "quotas.csv"]
