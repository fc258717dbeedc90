"""Tests of the CRM generator: seeded, sample-shaped, every planted fault caught.

Each test writes the generated tables to a temporary folder and reads them back
with the adapter, so the faults are caught the way real files would be.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from territory_opt.crm import (
    FaultPlan,
    crm_forecast_section,
    generate_crm,
    read_crm_folder,
)
from territory_opt.forecast import run_forecast
from territory_opt.forecast.hygiene import FLAGS, hygiene_flags
from territory_opt.forecast.stages import estimate_stage_rates

SAMPLE_COLUMNS = {
    "accounts": [
        "account",
        "sector",
        "year_established",
        "revenue",
        "employees",
        "office_location",
        "subsidiary_of",
    ],
    "products": ["product", "series", "sales_price"],
    "sales_teams": ["sales_agent", "manager", "regional_office"],
}
PIPELINE_COLUMNS = [
    "opportunity_id",
    "sales_agent",
    "product",
    "account",
    "deal_stage",
    "engage_date",
    "close_date",
    "close_value",
]


def _round_trip(tmp_path: Path, crm):
    return read_crm_folder(crm.write(tmp_path / f"crm_{crm.seed}"))


def test_same_seed_same_tables_other_seed_other_tables():
    """Equal seeds give equal tables; another seed gives another pipeline."""
    first, again, other = generate_crm(5), generate_crm(5), generate_crm(6)
    pd.testing.assert_frame_equal(first.sales_pipeline, again.sales_pipeline)
    pd.testing.assert_frame_equal(first.accounts, again.accounts)
    assert not first.sales_pipeline.equals(other.sales_pipeline)


def test_tables_have_the_sample_shape():
    """The four tables carry the sample's columns (the pipeline adds extras)."""
    crm = generate_crm(0)
    for name, columns in SAMPLE_COLUMNS.items():
        assert list(getattr(crm, name).columns) == columns
    assert list(crm.sales_pipeline.columns[: len(PIPELINE_COLUMNS)]) == (
        PIPELINE_COLUMNS
    )
    assert set(crm.sales_pipeline["deal_stage"]) >= {
        "Won",
        "Lost",
        "Engaging",
        "Prospecting",
    }
    assert crm.sales_teams["regional_office"].nunique() == 3


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_hygiene_flags_catch_each_planted_fault_exactly(tmp_path: Path, seed: int):
    """Every hygiene flag fires on exactly as many open deals as were planted."""
    crm = generate_crm(seed)
    data = _round_trip(tmp_path, crm)
    section = crm_forecast_section(crm.as_of.isoformat())
    rates = estimate_stage_rates(data.opportunities, section, data.history)
    flags = hygiene_flags(data.opportunities, section, rates.median_days())

    found = {name: int(flags[name].sum()) for name in FLAGS}
    assert found == crm.faults.hygiene_counts()
    assert int(flags["any_flag"].sum()) == sum(crm.faults.hygiene_counts().values())


@pytest.mark.parametrize("seed", [0, 3])
def test_funnel_integrity_report_flags_each_planted_fault(tmp_path: Path, seed: int):
    """The forecast run's funnel-integrity report finds every planted fault."""
    # Run on the current alignment: each hygiene flag and the blank accounts on their
    # open deals, the misspelt product and the lost deals at zero over all deals, and
    # the idle agents as the territories without deals.
    crm = generate_crm(seed)
    data = _round_trip(tmp_path, crm)
    section = crm_forecast_section(crm.as_of.isoformat(), draws=0)
    outcome = run_forecast(
        section,
        data.opportunities,
        data.alignment,
        territories=data.territories,
        history=data.history,
    )
    report = outcome.metrics["funnel_integrity"]
    plan = crm.faults

    for flag, planted in plan.hygiene_counts().items():
        assert report[f"{flag}_count"] == planted, flag
    assert report["missing_account_count"] == plan.blank_account_open
    assert report["product_spelling_count"] == plan.product_misspelt
    assert report["product_spellings"] == [
        {"written": "AtlasPro", "product": "Atlas Pro", "deals": plan.product_misspelt}
    ]
    assert report["lost_zero_value_count"] == plan.lost_zero_value
    assert report["no_deals"] == sorted(crm.agents_without_deals)
    table = outcome.funnel_integrity.set_index("territory_id")
    assert table["no_deals"].sum() == plan.agents_without_deals
    assert table["product_spelling_count"].sum() == plan.product_misspelt
    assert outcome.accuracy_source == "backtest"
    # Back-tested quarters are those of 2025: their actuals are the won value of 2025.
    pipeline = crm.sales_pipeline
    won_2025 = (pipeline["deal_stage"] == "Won") & pipeline[
        "close_date"
    ].str.startswith("2025")
    expected = pd.to_numeric(pipeline.loc[won_2025, "close_value"]).sum()
    assert outcome.metrics["accuracy"]["actual_total"] == expected


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_data_quality_report_counts_each_planted_fault(tmp_path: Path, seed: int):
    """The data-quality report counts each planted non-hygiene fault exactly."""
    # Misspelt products, open deals without account, lost deals at zero and agents
    # without deals are counted exactly, and the idle agents are named.
    crm = generate_crm(seed)
    quality = _round_trip(tmp_path, crm).quality

    assert quality.count("product_spelling") == crm.faults.product_misspelt
    assert quality.count("open_without_account") == crm.faults.blank_account_open
    assert quality.count("lost_zero_value") == crm.faults.lost_zero_value
    assert quality.count("agent_without_deals") == crm.faults.agents_without_deals
    assert quality.agents_without_deals == tuple(sorted(crm.agents_without_deals))
    assert quality.count("unknown_product") == 0


def test_custom_plan_with_other_counts(tmp_path: Path):
    """A plan with other counts (and none of some faults) is honoured."""
    plan = FaultPlan(
        blank_account_open=3,
        product_misspelt=0,
        lost_zero_value=5,
        agents_without_deals=1,
        past_due=4,
        missing_amount=0,
        missing_close_date=2,
        stale=6,
        no_activity=1,
        pushed=2,
        invalid_stage=3,
    )
    crm = generate_crm(11, n_opportunities=600, faults=plan)
    data = _round_trip(tmp_path, crm)
    section = crm_forecast_section(crm.as_of.isoformat())
    rates = estimate_stage_rates(data.opportunities, section, data.history)
    flags = hygiene_flags(data.opportunities, section, rates.median_days())

    assert {name: int(flags[name].sum()) for name in FLAGS} == plan.hygiene_counts()
    assert data.quality.count("product_spelling") == 0
    assert data.quality.count("open_without_account") == 3


def test_plan_larger_than_the_pipeline_is_refused():
    """More hygiene faults than open deals cannot be planted."""
    with pytest.raises(ValueError, match="only .* deals are open"):
        generate_crm(0, n_opportunities=50)


def test_won_value_and_history_are_consistent(tmp_path: Path):
    """Won amounts reach the revenue table, and medians come from the history."""
    crm = generate_crm(2)
    data = _round_trip(tmp_path, crm)
    pipeline = crm.sales_pipeline
    won = pd.to_numeric(pipeline.loc[pipeline["deal_stage"] == "Won", "close_value"])
    assert data.revenue["revenue"].sum() == won.sum()
    section = crm_forecast_section(crm.as_of.isoformat())
    medians = estimate_stage_rates(data.opportunities, section, data.history)
    assert all(10 <= days <= 40 for days in medians.median_days().values())
