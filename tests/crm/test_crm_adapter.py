"""Tests of the CRM adapter: the public sample read where it lies, and errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from territory_opt.crm import crm_forecast_section, read_crm_folder
from territory_opt.errors import InputError
from territory_opt.forecast import run_forecast
from territory_opt.forecast.backtest import backtest_tables
from territory_opt.forecast.schema import assign_territories, prepare_opportunities

# The sample lives beside the repository (../shared/data/crm_sample); it is never
# copied into the repository because its licence is not verified.
SAMPLE = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "crm_sample"

needs_sample = pytest.mark.skipif(
    not (SAMPLE / "sales_pipeline.csv").exists(),
    reason=f"CRM sample not found at {SAMPLE}",
)


@pytest.fixture(scope="module")
def sample():
    """The sample, read once for the module."""
    return read_crm_folder(SAMPLE)


@needs_sample
def test_sample_data_quality_counts(sample):
    """The sample's known quirks are counted exactly (SOURCES-us-crm.md 3)."""
    # SOURCES-us-crm.md section 3: 1,480 'GTXPro' deals, 1,425 open deals without an
    # account (1,088 Engaging, 337 Prospecting) and five agents without deals.
    quality = sample.quality
    assert quality.count("product_spelling") == 1480
    assert quality.count("open_without_account") == 1425
    assert quality.count("agent_without_deals") == 5
    assert quality.agents_without_deals == (
        "Carl Lin",
        "Carol Thompson",
        "Elizabeth Anderson",
        "Mei-Mei Johns",
        "Natalya Ivanova",
    )
    detail = quality.findings.set_index("check").loc["open_without_account", "detail"]
    assert detail == "Engaging 1088, Prospecting 337"
    assert quality.count("lost_zero_value") == 2473
    assert quality.count("sector_spelling") == 12


@needs_sample
def test_sample_totals_and_mapping(sample):
    """Won value, agent/manager/office mapping and alignment of the sample."""
    # Won close_value sums to 10,005,534; 35 agents become territories under six
    # managers (districts) in three regional offices; 85 accounts are aligned.
    opportunities = sample.opportunities
    won = opportunities.loc[opportunities["status"] == "won", "amount"]
    assert won.sum() == 10_005_534
    assert sample.revenue["revenue"].sum() == 10_005_534
    assert len(opportunities) == 8800
    assert opportunities["status"].value_counts().to_dict() == {
        "won": 4238,
        "lost": 2473,
        "open": 2089,
    }
    assert "GTXPro" not in set(opportunities["product"])
    territories = sample.territories
    assert len(territories) == 35
    assert territories["district"].nunique() == 6
    assert territories.groupby("region").size().to_dict() == {
        "Central": 11,
        "East": 12,
        "West": 12,
    }
    assert len(sample.alignment) == 85
    assert sample.history is None


@needs_sample
def test_sample_runs_through_the_forecast(sample):
    """The sample runs through run_forecast; missing close dates are flagged."""
    # The sample feeds run_forecast: 2017 won value is Closed, and every open deal lacks
    # a close date (the sample has none), which hygiene reports.
    section = crm_forecast_section("2017-12-31", draws=0)
    outcome = run_forecast(
        section,
        sample.opportunities,
        None,
        territories=sample.territories,
    )
    assert outcome.forecast["Closed"].sum() == 10_005_534
    assert outcome.forecast["E"].sum() == 0.0
    integrity = outcome.metrics["funnel_integrity"]
    assert integrity["missing_close_date_count"] == 2089
    assert integrity["n_open"] == 2089


@needs_sample
def test_sample_funnel_integrity_flags_each_planted_fault(sample):
    """On the sample's own alignment the report flags every fault, counted exactly."""
    # Counted from the raw CSV files with pandas: 1,480 deals spell 'GTXPro' (open or
    # closed), 1,425 open deals have a blank account, the five agents of sales_teams.csv
    # absent from sales_pipeline.csv own no deal, and 2,473 lost deals carry value 0.
    section = crm_forecast_section("2017-12-31", draws=0)
    outcome = run_forecast(
        section, sample.opportunities, sample.alignment, territories=sample.territories
    )
    report = outcome.metrics["funnel_integrity"]

    assert report["product_spelling_count"] == 1480
    assert report["product_spellings"] == [
        {"written": "GTXPro", "product": "GTX Pro", "deals": 1480}
    ]
    assert report["missing_account_count"] == 1425
    assert report["no_deals"] == [
        "Carl Lin",
        "Carol Thompson",
        "Elizabeth Anderson",
        "Mei-Mei Johns",
        "Natalya Ivanova",
    ]
    assert report["lost_zero_value_count"] == 2473
    assert (report["n_deals"], report["n_open"]) == (8800, 2089)
    flags = outcome.opportunity_flags
    assert flags.loc[flags["missing_account"], "stage"].value_counts().to_dict() == {
        "Engaging": 1088,
        "Prospecting": 337,
    }
    table = outcome.funnel_integrity
    assert table["product_spelling_count"].sum() == 1480
    assert table["missing_account_count"].sum() == 1425


@needs_sample
def test_sample_accuracy_is_back_tested_by_quarter(sample):
    """The sample's won value per 2017 quarter is the actual of the back-test."""
    # Counted from the raw pipeline with pandas: won close_value by close quarter is
    # 1,134,672, 3,086,111, 2,982,255 and 2,802,496 (10,005,534 in all); 2016 holds no
    # close, so its quarters are not back-tested.
    section = crm_forecast_section("2017-12-31", draws=0)
    outcome = run_forecast(
        section, sample.opportunities, sample.alignment, territories=sample.territories
    )
    assert outcome.accuracy_source == "backtest"
    pooled = outcome.accuracy.set_index("territory_id").loc["(all)"]
    assert pooled["actual_total"] == 10_005_534
    assert pooled["n_pairs"] == 35 * 4
    opps, _ = assign_territories(
        prepare_opportunities(sample.opportunities, section), sample.alignment
    )
    actuals, snapshots, _ = backtest_tables(opps, section)
    by_quarter = actuals.groupby("period")["actual"].sum().to_dict()
    assert by_quarter == {
        "2017-Q1": 1_134_672,
        "2017-Q2": 3_086_111,
        "2017-Q3": 2_982_255,
        "2017-Q4": 2_802_496,
    }
    assert (snapshots["forecast"] > 0).any()


def _write(folder: Path, **frames: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


TINY = {
    "accounts": pd.DataFrame(
        {
            "account": ["Acme"],
            "sector": ["retail"],
            "year_established": [2000],
            "revenue": [1.5],
            "employees": [10],
            "office_location": ["United States"],
            "subsidiary_of": [""],
        }
    ),
    "products": pd.DataFrame(
        {"product": ["Box One"], "series": ["Box"], "sales_price": [100]}
    ),
    "sales_teams": pd.DataFrame(
        {
            "sales_agent": ["Ann", "Bob"],
            "manager": ["Meg", "Meg"],
            "regional_office": ["East", "East"],
        }
    ),
    "sales_pipeline": pd.DataFrame(
        {
            "opportunity_id": ["X1", "X2", "X3"],
            "sales_agent": ["Ann", "Ann", "Ann"],
            "product": ["box one", "Box One", "BoxOne"],
            "account": ["Acme", "", "Acme"],
            "deal_stage": ["Won", "Prospecting", "Engaging"],
            "engage_date": ["2017-01-01", "", "2017-02-01"],
            "close_date": ["2017-03-01", "", ""],
            "close_value": [120, "", ""],
        }
    ),
}


def test_tiny_folder_by_hand(tmp_path: Path):
    """A hand-made folder: spellings mapped, list prices, idle agent, owner."""
    # Two spellings map to 'Box One' (one finding each); the open deals are valued at
    # the list price 100; Bob has no deals; Acme belongs to Ann.
    data = read_crm_folder(_write(tmp_path, **TINY))
    findings = data.quality.findings
    spelling = findings[findings["check"] == "product_spelling"]
    assert spelling["count"].tolist() == [1, 1]
    assert set(data.opportunities["product"]) == {"Box One"}
    assert data.opportunities["amount"].tolist() == [120.0, 100.0, 100.0]
    assert data.quality.agents_without_deals == ("Bob",)
    assert data.alignment == {"Acme": "Ann"}
    engaging = data.opportunities.set_index("id").loc["X3"]
    assert engaging["stage_entered_date"] == pd.Timestamp("2017-02-01")


def test_missing_folder_is_named(tmp_path: Path):
    """A folder that does not exist is reported with the files expected."""
    with pytest.raises(InputError, match="not a folder.*sales_pipeline.csv"):
        read_crm_folder(tmp_path / "nowhere")


def test_missing_column_names_file_and_column(tmp_path: Path):
    """A pipeline without deal_stage is rejected naming file and column."""
    frames = dict(
        TINY, sales_pipeline=TINY["sales_pipeline"].drop(columns="deal_stage")
    )
    folder = _write(tmp_path, **frames)
    with pytest.raises(
        InputError, match="sales_pipeline.csv: missing column.*deal_stage"
    ):
        read_crm_folder(folder)


def test_bad_close_value_names_line(tmp_path: Path):
    """A non-numeric close value is reported with its line and column."""
    pipeline = TINY["sales_pipeline"].copy()
    pipeline.loc[0, "close_value"] = "1.2k"
    folder = _write(tmp_path, **dict(TINY, sales_pipeline=pipeline))
    with pytest.raises(InputError, match="line 2, column 'close_value': '1.2k'"):
        read_crm_folder(folder)


def test_agent_listed_twice_is_refused(tmp_path: Path):
    """An agent under two managers cannot be placed in one district."""
    teams = pd.concat([TINY["sales_teams"], TINY["sales_teams"].iloc[[0]]])
    folder = _write(tmp_path, **dict(TINY, sales_teams=teams))
    with pytest.raises(InputError, match="agent.*Ann listed more than once"):
        read_crm_folder(folder)
