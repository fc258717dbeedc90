"""Tests of territory measurement on a tiny data set worked by hand.

Five accounts, four territories:

    account  territory  product  revenue  cost  margin
    a1       T1         P1       100      60    40
    a1       T1         P2        50      20    30
    a2       T1         P1        30      10    20
    a3       T2         P2       200     150    50
    a4       T2         P1        20       5    15
    a5       T3         P1       100      50    50

    territory  rep      potential  capacity_h  workload_h
    T1         R1       400        1000        800
    T2         (vacant) 300        1000        500
    T3         TBH-T3   200         500        600
    T4         R4       100         400        100     (no accounts)

Revenue 180 / 220 / 100 / 0 of 500; margin 90 / 65 / 50 / NaN of 205.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from territory_opt.forecast.contribution import (
    contribution_summary,
    customer_concentration,
    potential_coverage,
    prepare_territories,
    product_contribution,
    territory_contribution,
    top_customers,
)
from territory_opt.forecast.schema import prepare_revenue

REVENUE = prepare_revenue(
    pd.DataFrame(
        {
            "account_id": ["a1", "a1", "a2", "a3", "a4", "a5"],
            "product": ["P1", "P2", "P1", "P2", "P1", "P1"],
            "revenue": [100, 50, 30, 200, 20, 100],
            "cost": [60, 20, 10, 150, 5, 50],
        }
    )
)
ALIGNMENT = {"a1": "T1", "a2": "T1", "a3": "T2", "a4": "T2", "a5": "T3"}
TERRITORIES = pd.DataFrame(
    {
        "territory_id": ["T1", "T2", "T3", "T4"],
        "rep_id": ["R1", "", "TBH-T3", "R4"],
        "potential": [400, 300, 200, 100],
        "capacity_hours": [1000, 1000, 500, 400],
        "workload": [800, 500, 600, 100],
    }
)


@pytest.fixture
def table():
    """The territory contribution of the tiny data set, indexed by territory."""
    frame = territory_contribution(REVENUE, ALIGNMENT, TERRITORIES)
    return frame.set_index("territory_id")


def test_revenue_and_margin_with_shares(table):
    """Shares 180/500, 220/500, 100/500 and 90/205, 65/205, 50/205."""
    assert table["revenue"].tolist() == [180.0, 220.0, 100.0, 0.0]
    assert table["revenue_share"].tolist() == pytest.approx([0.36, 0.44, 0.20, 0.0])
    assert table["margin"].tolist()[:3] == [90.0, 65.0, 50.0]
    assert math.isnan(table.loc["T4", "margin"])
    assert table["margin_share"].tolist()[:3] == pytest.approx(
        [90 / 205, 65 / 205, 50 / 205]
    )
    assert table["n_accounts"].tolist() == [2, 2, 1, 0]


def test_potential_index_and_utilisation(table):
    """TPI is P / mean(P) and utilisation is workload over capacity."""
    # Mean potential 250: TPI 1.6, 1.2, 0.8, 0.4; utilisation 800/1000 = 0.8, 0.5,
    # 600/500 = 1.2, 0.25.
    assert table["tpi"].tolist() == pytest.approx([1.6, 1.2, 0.8, 0.4])
    assert table["utilisation"].tolist() == pytest.approx([0.8, 0.5, 1.2, 0.25])
    assert table["rep_status"].tolist() == ["filled", "vacant", "tbh", "filled"]


def test_potential_coverage_counts_filled_territories_only(table):
    """T1 and T4 are filled: (400 + 100) / 1000 = 0.5."""
    assert potential_coverage(table.reset_index()) == 0.5
    assert potential_coverage(prepare_territories(TERRITORIES)) == 0.5


def test_margin_from_margin_column_and_cost_is_derived():
    """Given margin only, cost = revenue - margin."""
    rows = prepare_revenue(
        pd.DataFrame({"account_id": ["a"], "revenue": [100], "margin": [30]})
    )
    assert (rows.loc[0, "cost"], rows.loc[0, "margin"]) == (70.0, 30.0)


def test_product_contribution_within_territory():
    """T1: P1 = 100 + 30 = 130 of 180 (0.722222), P2 = 50; margin P1 = 60 of 90."""
    table = product_contribution(REVENUE, ALIGNMENT)
    t1 = table[table["territory_id"] == "T1"].set_index("product")
    assert t1["revenue"].tolist() == [130.0, 50.0]
    assert round(t1.loc["P1", "revenue_share_in_territory"], 6) == 0.722222
    assert t1.loc["P1", "margin_share_in_territory"] == pytest.approx(60 / 90)


def test_top_customers_with_shares():
    """T1's largest account is a1 (150 of 180, 0.833333), then a2 (30)."""
    table = top_customers(REVENUE, ALIGNMENT, top_n=1)
    assert table["account_id"].tolist() == ["a1", "a3", "a5"]
    t1 = top_customers(REVENUE, ALIGNMENT)[lambda f: f["territory_id"] == "T1"]
    assert t1["rank"].tolist() == [1, 2]
    assert t1["share_of_territory"].tolist() == pytest.approx([150 / 180, 30 / 180])
    assert t1["cumulative_share"].iloc[-1] == pytest.approx(1.0)


def test_top_20_percent_share():
    """The top 20 % of accounts (at least one) and their revenue share."""
    # Over five accounts the top ceil(0.2 * 5) = 1 (a3, 200) holds 200/500 = 0.4; in T1
    # the top 1 of 2 holds 150/180.
    table = customer_concentration(REVENUE, ALIGNMENT).set_index("territory_id")
    assert table.loc["(all)", "n_top_accounts"] == 1
    assert table.loc["(all)", "top_revenue_share"] == pytest.approx(0.4)
    assert table.loc["T1", "top_revenue_share"] == pytest.approx(150 / 180)
    assert table.loc["(all)", "largest_account_share"] == pytest.approx(0.4)


def test_unaligned_account_is_reported_not_dropped():
    """An account missing from the alignment lands in (unassigned); totals hold."""
    alignment = {k: v for k, v in ALIGNMENT.items() if k != "a5"}
    table = territory_contribution(REVENUE, alignment).set_index("territory_id")
    assert table.loc["(unassigned)", "revenue"] == 100.0
    assert table["revenue"].sum() == 500.0


def test_account_potential_follows_the_alignment():
    """With account potentials, P_t is their sum through the alignment."""
    accounts = pd.DataFrame(
        {"account_id": ["a1", "a2", "a3", "a4", "a5"], "potential": [1, 2, 3, 4, 5]}
    )
    table = territory_contribution(REVENUE, ALIGNMENT, TERRITORIES, accounts)
    assert table["potential"].tolist() == [3.0, 7.0, 5.0, 0.0]


def test_one_moved_account_moves_its_revenue():
    """Moving a3 (200) from T2 to T1 moves exactly 200 of revenue and 50 margin."""
    moved = dict(ALIGNMENT, a3="T1")
    before = territory_contribution(REVENUE, ALIGNMENT).set_index("territory_id")
    after = territory_contribution(REVENUE, moved).set_index("territory_id")
    change = after["revenue"] - before["revenue"]
    assert change.to_dict() == {"T1": 200.0, "T2": -200.0, "T3": 0.0}
    assert after.loc["T1", "margin"] - before.loc["T1", "margin"] == 50.0


def _summary_of(revenue_by_territory):
    rows = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(len(revenue_by_territory))],
            "revenue": revenue_by_territory,
        }
    )
    alignment = {f"a{i}": f"T{i}" for i in range(len(revenue_by_territory))}
    table = territory_contribution(prepare_revenue(rows), alignment)
    return contribution_summary(table)


def test_summary_gini_of_domain_example():
    """DOMAIN.md 6.7: Gini of [50, 100, 150, 200] is 0.25; of equal values 0."""
    assert _summary_of([50, 100, 150, 200])["revenue_gini"] == pytest.approx(0.25)
    assert _summary_of([100, 100, 100, 100])["revenue_gini"] == 0.0


def test_summary_balance_of_domain_example():
    """DOMAIN.md 6.7 balance example: cv, max/min and within-tolerance shares."""
    # DOMAIN.md 6.7: [90, 100, 110, 130] has cv 0.137583, max/min 1.4444 and half of the
    # territories within 10 % and within 15 % of the mean.
    summary = _summary_of([90, 100, 110, 130])
    assert round(summary["revenue_cv"], 6) == 0.137583
    assert round(summary["revenue_max_min_ratio"], 4) == 1.4444
    assert summary["revenue_within_10pct_share"] == 0.5
    assert summary["revenue_within_15pct_share"] == 0.5
    assert summary["revenue_total"] == 430.0
