"""One account moves: its revenue, pipeline and history move in every metric.

Stages A < B < C with CRM default probabilities 0.2, 0.5, 0.8; as of 2026-01-05,
forecast period 2026, accuracy back-tested by quarter over 365 days. Current
alignment a1, a2 -> T1 and a3 -> T2; the proposal moves a2 to T2.

    account revenue rows (product, revenue, cost): a1 (P1, 100, 40);
    a2 (P1, 50, 10), (P2, 30, 20); a3 (P2, 200, 150)

    id  account  stage  amount  close       created     notes
    o1  a1       A      1000    2026-03-01
    o2  a2       B      2000    2026-05-01              commit; in B since
                                                        2025-06-01 (stale)
    o3  a3       C       400    2026-04-01
    w1  a2       Won     600    2026-01-03  2025-12-01  Closed in the period
    w2  a2       Won     300    2025-08-15  2025-06-20  last open stage C
    w3  a1       Won     500    2025-10-20  2025-09-01  last open stage A
    l1  a3       Lost    100    2025-11-10  2025-09-15  last open stage B

a2 carries revenue 80 and margin 50; o2 adds E = 2000 * 0.5 = 1000,
SD^2 = 2000^2 * 0.25 = 1e6, open and commit pipeline 2000; w1 adds Closed 600;
w1 and w2 are two closed deals of the win-rate history; o2 is the one stale deal.
Back-test: Q3 2025 (snapshot 2025-07-01) holds w2, actual 300 and forecast
300 * 0.8 = 240; Q4 (snapshot 2025-10-01) holds w3 (A = 500, F = 100, in T1)
and l1 (A = 0, F = 50, in T2).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from forecast_builders import build_section

from territory_opt.forecast import before_after, run_forecast
from territory_opt.forecast.schema import assign_territories, prepare_opportunities
from territory_opt.forecast.stages import estimate_stage_rates, group_win_rates

SECTION = build_section(
    probability_source="crm_default",
    backtest_period="quarter",
    hygiene={"no_activity_days": 400},
)
COLUMNS = (
    "id account_id stage amount close_date created_date stage_entered_date "
    "forecast_category last_open_stage"
).split()
BOOK = pd.DataFrame(
    [
        ("o1", "a1", "A", 1000, "2026-03-01", "", "2026-01-01", "", ""),
        ("o2", "a2", "B", 2000, "2026-05-01", "", "2025-06-01", "commit", ""),
        ("o3", "a3", "C", 400, "2026-04-01", "", "2026-01-01", "", ""),
        ("w1", "a2", "Won", 600, "2026-01-03", "2025-12-01", "", "", "C"),
        ("w2", "a2", "Won", 300, "2025-08-15", "2025-06-20", "", "", "C"),
        ("w3", "a1", "Won", 500, "2025-10-20", "2025-09-01", "", "", "A"),
        ("l1", "a3", "Lost", 100, "2025-11-10", "2025-09-15", "", "", "B"),
    ],
    columns=COLUMNS,
)
REVENUE = pd.DataFrame(
    {
        "account_id": ["a1", "a2", "a2", "a3"],
        "product": ["P1", "P1", "P2", "P2"],
        "revenue": [100, 50, 30, 200],
        "cost": [40, 10, 20, 150],
    }
)
TERRITORIES = pd.DataFrame({"territory_id": ["T1", "T2"], "rep_id": ["R1", "R2"]})
CURRENT = {"a1": "T1", "a2": "T1", "a3": "T2"}
MOVED = {"a1": "T1", "a2": "T2", "a3": "T2"}


def _run(alignment):
    return run_forecast(
        SECTION, BOOK, alignment, territories=TERRITORIES, revenue=REVENUE
    )


@pytest.fixture(scope="module")
def runs():
    """The run on the current and on the proposed alignment."""
    return _run(CURRENT), _run(MOVED)


def _by_territory(frame, columns):
    return frame.set_index("territory_id").loc[["T1", "T2"], columns]


def test_contribution_moves(runs):
    """Revenue 80, margin 50 and one account move from T1 to T2."""
    before, after = (
        _by_territory(r.contribution, ["revenue", "margin", "n_accounts"]) for r in runs
    )
    assert before.to_dict("list") == {
        "revenue": [180.0, 200.0],
        "margin": [110.0, 50.0],
        "n_accounts": [2, 1],
    }
    assert after.to_dict("list") == {
        "revenue": [100.0, 280.0],
        "margin": [60.0, 100.0],
        "n_accounts": [1, 2],
    }


def test_product_and_customer_tables_move(runs):
    """a2's products and its place among the top customers move to T2."""
    before, after = runs
    products = after.contribution_by_product.set_index(["territory_id", "product"])
    assert products["revenue"].to_dict() == {
        ("T1", "P1"): 100.0,
        ("T2", "P1"): 50.0,
        ("T2", "P2"): 230.0,
    }
    assert len(before.contribution_by_product) == 3
    top = after.top_customers[after.top_customers["territory_id"] == "T2"]
    assert top["account_id"].tolist() == ["a3", "a2"]
    assert top["revenue"].tolist() == [200.0, 80.0]
    counts = [
        _by_territory(r.customer_concentration, "n_accounts").tolist() for r in runs
    ]
    assert counts == [[2, 1], [1, 2]]


def test_pipeline_and_categories_move(runs):
    """E, SD, Closed, Commit and the open pipeline of a2 move to T2."""
    columns = ["n_open", "E", "Closed", "Commit", "OpenPipeline"]
    before, after = (_by_territory(r.forecast, columns) for r in runs)
    assert before.to_dict("list") == {
        "n_open": [2, 1],
        "E": [pytest.approx(1200.0), pytest.approx(320.0)],
        "Closed": [600.0, 0.0],
        "Commit": [2600.0, 0.0],
        "OpenPipeline": [3000.0, 400.0],
    }
    assert after.to_dict("list") == {
        "n_open": [1, 2],
        "E": [pytest.approx(200.0), pytest.approx(1320.0)],
        "Closed": [0.0, 600.0],
        "Commit": [0.0, 2600.0],
        "OpenPipeline": [1000.0, 2400.0],
    }
    sd = [_by_territory(r.forecast, "SD").tolist() for r in runs]
    assert sd[0] == pytest.approx([math.sqrt(1.16e6), 160.0])
    assert sd[1] == pytest.approx([400.0, math.sqrt(1.0256e6)])


def test_win_rate_history_moves(runs):
    """The closed deals w1 and w2 count in T2's win rate once a2 moves."""
    # Closed in the lookback: w1, w2, w3 in T1 and l1 in T2; after the move w3 stays
    # and w1, w2 join l1. n_reached_first is what the required coverage rests on.
    found = []
    for alignment in (CURRENT, MOVED):
        opps, _ = assign_territories(prepare_opportunities(BOOK, SECTION), alignment)
        rates = estimate_stage_rates(opps, SECTION)
        table = group_win_rates(opps, rates, SECTION).set_index("territory_id")
        found.append(table.loc[["T1", "T2"], ["n_reached_first", "n_won"]].values)
    assert found[0].tolist() == [[3, 3], [1, 0]]
    assert found[1].tolist() == [[1, 1], [3, 2]]


def test_funnel_integrity_moves(runs):
    """The stale deal o2 and a2's three deals move to T2."""
    columns = ["n_deals", "n_open", "stale_count", "hygiene_score"]
    before, after = (_by_territory(r.funnel_integrity, columns) for r in runs)
    assert before.to_dict("list") == {
        "n_deals": [5, 2],
        "n_open": [2, 1],
        "stale_count": [1, 0],
        "hygiene_score": [0.5, 1.0],
    }
    assert after.to_dict("list") == {
        "n_deals": [2, 5],
        "n_open": [1, 2],
        "stale_count": [0, 1],
        "hygiene_score": [1.0, 0.5],
    }


def test_backtested_accuracy_moves(runs):
    """w2's actual (300) and its snapshot forecast (240) move to T2."""
    columns = ["actual_total", "forecast_total", "n_pairs"]
    before, after = (_by_territory(r.accuracy, columns) for r in runs)
    assert before.to_dict("list") == {
        "actual_total": [800.0, 0.0],
        "forecast_total": [pytest.approx(340.0), pytest.approx(50.0)],
        "n_pairs": [2, 2],
    }
    assert after.to_dict("list") == {
        "actual_total": [500.0, 300.0],
        "forecast_total": [pytest.approx(100.0), pytest.approx(290.0)],
        "n_pairs": [2, 2],
    }


def test_before_after_shows_the_same_moves():
    """The side-by-side scorecard reports the move's changes per territory."""
    result = before_after(
        SECTION, BOOK, CURRENT, MOVED, revenue=REVENUE, territories=TERRITORIES
    )
    table = result.territories.set_index("territory_id")
    assert table.loc["T1", "revenue_change"] == -80.0
    assert table.loc["T2", "E_change"] == pytest.approx(1000.0)
    assert table.loc["T2", "Closed_change"] == 600.0
    assert table.loc["T2", "OpenPipeline_change"] == 2000.0
    assert table.loc["T2", "hygiene_score_change"] == -0.5
    assert result.summary["disruption"]["revenue_moved_share"] == pytest.approx(
        80 / 380
    )
