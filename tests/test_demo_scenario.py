"""The built-in real scenario: reproducible data, and a verified alignment on it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from territory_opt.checker import check_alignment
from territory_opt.result import Status
from territory_opt.scenario import Scenario, load_scenario
from territory_opt.scorecard import level_table, territory_table
from territory_opt.solve import Run, solve_scenario

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


def _check_demo_run(scenario: Scenario, workload_band: float) -> Run:
    """Solve and assert a verified alignment inside every band of the demo."""
    run = solve_scenario(scenario)
    assert run.result.status in (Status.OPTIMAL, Status.FEASIBLE)
    index = run.problem.territory_index()
    territory_of = np.array([index[t] for t in run.result.assignment])
    assert check_alignment(run.problem, territory_of) == []
    table = territory_table(run.problem, territory_of)
    assert (table["potential_deviation_share"].abs() <= 0.05 + 1e-9).all()
    assert (table["workload_hours_deviation_share"].abs() <= workload_band + 1e-9).all()
    assert (table["capacity_used_share"] <= 1 + 1e-9).all()
    levels = level_table(run.problem, territory_of)
    districts = levels[levels["level"] == "district"]
    assert len(districts) == 6
    assert (districts["potential_deviation_share"].abs() <= 0.03 + 1e-9).all()
    moved = np.mean(territory_of != run.problem.current)
    assert moved <= 0.35 + 1e-9
    assert run.result.best_bound is not None
    assert run.result.best_bound <= run.result.objective + 1e-9
    return run


def test_demo_is_contiguous_within_every_band() -> None:
    """The demo as shipped: every territory one connected piece with its home."""
    run = _check_demo_run(load_scenario(FOLDER / "scenario.yaml"), 0.20)
    assert run.problem.contiguity
    assert run.problem.roots is not None and (run.problem.roots >= 0).all()
    index = run.problem.territory_index()
    territory_of = np.array([index[t] for t in run.result.assignment])
    adjacency = run.problem.adjacency
    assert adjacency is not None
    for t in range(run.problem.n_territories):
        assert len(adjacency.components(territory_of == t)) == 1
        assert territory_of[run.problem.roots[t]] == t


@pytest.mark.parametrize("engine", ["highs", "cpsat"])
def test_demo_without_contiguity_keeps_a_tight_workload_band(engine: str) -> None:
    """Without contiguity a 30 s solve holds ±5 % potential and ±10 % workload."""
    scenario = load_scenario(FOLDER / "scenario.yaml")
    scenario = scenario.model_copy(
        update={
            "geography": None,
            "balance": {
                "potential": scenario.balance["potential"],
                "workload_hours": scenario.balance["workload_hours"].model_copy(
                    update={"tolerance": 0.10}
                ),
            },
        }
    ).with_overrides(engine=engine, time_limit_s=30)
    _check_demo_run(scenario, 0.10)


@pytest.fixture(scope="module")
def demo_result(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's result folder after a 15 s solve through the command line."""
    from typer.testing import CliRunner

    from territory_opt.cli import app

    out = tmp_path_factory.mktemp("demo") / "demo"
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
    return out


def test_demo_writes_quotas_that_sum_to_the_street_target(demo_result: Path) -> None:
    """The demo's quota section: quotas.csv sums to target × 1.05, comp.csv per rep."""
    out = demo_result
    quotas = pd.read_csv(out / "quotas.csv", dtype={"territory_id": str})
    # 150,000,000 with 5% territory over-assignment, rounded to 10,000 units.
    assert quotas["quota_full"].sum() == pytest.approx(157_500_000, abs=1e-6)
    assert len(quotas) == 24
    comp = pd.read_csv(out / "comp.csv", dtype={"rep_id": str})
    assert "TBH-T07" in set(comp["rep_id"])
    metrics = pd.read_json(out / "metrics.json", typ="series")
    assert metrics["quota"]["summary"]["street_target"] == pytest.approx(157_500_000)


def test_demo_report_renders_in_headless_chromium(demo_result: Path) -> None:
    """The demo's report in headless Chromium: six charts, 24 territory shapes on
    the map, four tables with a row per territory and per move, no console error."""
    _check_demo_report(demo_result / "report.html")


def _check_demo_report(report: Path) -> None:
    from selenium.webdriver.common.by import By

    from browser import open_browser, rendered_figures

    moved = pd.read_csv(report.parent / "alignment.csv")["moved"].sum()
    driver = open_browser()
    try:
        driver.get(report.as_uri())
        assert rendered_figures(driver, 6) == [
            "map",
            "balance-potential",
            "balance-workload_hours",
            "disruption",
            "quota",
            "fairness",
        ]

        def count(selector: str) -> int:
            return len(driver.find_elements(By.CSS_SELECTOR, selector))

        assert count("#figure-map .scatterlayer path.js-fill") == 24
        assert count("#figure-balance-potential .barlayer .point") == 48
        tables = driver.find_elements(By.CSS_SELECTOR, "table.report-table")
        assert [t.get_attribute("data-table") for t in tables] == [
            "comparison",
            "disruption",
            "moves",
            "territories",
        ]
        assert count("table[data-table=territories] tbody tr") == 24
        assert count("table[data-table=moves] tbody tr") == min(moved, 200)
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert errors == []


def test_quota_command_on_the_current_alignment(tmp_path: Path) -> None:
    """territory-opt quota runs on last year's alignment without solving."""
    from typer.testing import CliRunner

    from territory_opt.cli import app

    out = tmp_path / "quota"
    result = CliRunner().invoke(
        app, ["quota", str(FOLDER / "scenario.yaml"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "comp.csv",
        "metrics.json",
        "quotas.csv",
    ]
    quota = pd.read_json(out / "metrics.json", typ="series")["quota"]
    assert quota["summary"]["simulation"]["draws"] == 20_000
    assert 0.0 <= quota["fairness"]["p_attain_spread"] <= 1.0
    assert "total comp cost" in result.output
