"""Tests of accuracy back-tested on the deals (forecast/backtest.py), by hand.

Stages A < B < C with CRM default probabilities 0.2, 0.5, 0.8; as of 2025-12-31
with a 365-day lookback, by quarter. Accounts a1 -> T1 and a2 -> T2:

    id  account  stage  amount  created     close       last open stage
    w1  a1       Won    1000    2025-02-01  2025-05-10  C
    l1  a1       Lost    500    2025-03-01  2025-04-20  B
    w2  a2       Won     400    2025-04-20  2025-06-15  C
    o1  a2       B       200    2025-03-15  2025-06-30  (open)
    w3  a1       Won     300    2025-07-01  2025-09-30  A

The first close is on 2025-04-20, so 2025-Q1 is not back-tested. With lag 0:

    Q2, snapshot 2025-04-01: open then w1, l1, o1 (w2 not yet opened)
        T1: F = 1000 * 0.8 + 500 * 0.5 = 1050, A = 1000
        T2: F = 200 * 0.5 = 100,               A = 400
    Q3, snapshot 2025-07-01: w3 (opened that day)
        T1: F = 300 * 0.2 = 60,                A = 300
        T2: F = 0,                             A = 0
    Q4: nothing closes; F = A = 0 in both.
"""

from __future__ import annotations

import pandas as pd
import pytest
from forecast_builders import build_opportunities, build_section

from territory_opt.forecast import run_forecast
from territory_opt.forecast.backtest import backtest_periods, backtest_tables, stages_on
from territory_opt.forecast.schema import assign_territories, prepare_history

COLUMNS = "id account_id stage amount created_date close_date last_open_stage".split()
ROWS = [
    ("w1", "a1", "Won", 1000, "2025-02-01", "2025-05-10", "C"),
    ("l1", "a1", "Lost", 500, "2025-03-01", "2025-04-20", "B"),
    ("w2", "a2", "Won", 400, "2025-04-20", "2025-06-15", "C"),
    ("o1", "a2", "B", 200, "2025-03-15", "2025-06-30", ""),
    ("w3", "a1", "Won", 300, "2025-07-01", "2025-09-30", "A"),
]
ALIGNMENT = {"a1": "T1", "a2": "T2"}


def _section(**changes):
    base = {
        "as_of": "2025-12-31",
        "period": {"start": "2026-01-01", "end": "2026-12-31"},
        "probability_source": "crm_default",
        "backtest_period": "quarter",
    }
    return build_section(**(base | changes))


def _book(section, alignment=ALIGNMENT):
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]
    opps, _ = assign_territories(build_opportunities(rows, section), alignment)
    return opps


def _pairs(section, alignment=ALIGNMENT):
    actuals, snapshots, _ = backtest_tables(_book(section, alignment), section)
    merged = actuals.merge(snapshots, on=["territory_id", "period"])
    return {
        (t, p): (a, f)
        for t, p, a, f in merged[
            ["territory_id", "period", "actual", "forecast"]
        ].itertuples(index=False, name=None)
    }


def test_periods_start_with_the_first_close():
    """Quarters inside the lookback window, from the one of the first close."""
    section = _section()
    periods = backtest_periods(_book(section), section)
    assert [label for label, _, _ in periods] == ["2025-Q2", "2025-Q3", "2025-Q4"]
    assert periods[0][1:] == (pd.Timestamp("2025-04-01"), pd.Timestamp("2025-06-30"))


def test_backtest_by_hand_at_lag_zero():
    """Actuals and snapshot forecasts per territory and quarter (docstring)."""
    assert _pairs(_section()) == {
        ("T1", "2025-Q2"): (1000.0, pytest.approx(1050.0)),
        ("T1", "2025-Q3"): (300.0, pytest.approx(60.0)),
        ("T1", "2025-Q4"): (0.0, 0.0),
        ("T2", "2025-Q2"): (400.0, pytest.approx(100.0)),
        ("T2", "2025-Q3"): (0.0, 0.0),
        ("T2", "2025-Q4"): (0.0, 0.0),
    }


def test_lag_moves_the_snapshot_day_back():
    """At lag 30 the Q2 snapshot is 2025-03-02: o1 (opened 03-15) is not in it."""
    # T1 keeps w1 and l1 (1050); T2 has nothing yet; the Q3 snapshot of 2025-06-01
    # comes before w3 was opened.
    pairs = _pairs(_section(snapshot_lag_days=30))
    assert pairs[("T1", "2025-Q2")] == (1000.0, pytest.approx(1050.0))
    assert pairs[("T2", "2025-Q2")] == (400.0, 0.0)
    assert pairs[("T1", "2025-Q3")] == (300.0, 0.0)


def test_backtest_accuracy_through_run_forecast():
    """run_forecast pools the back-tested pairs into the accuracy figures."""
    # A > 0 pairs: |1000-1050|/1000 = 0.05, |300-60|/300 = 0.8, |400-100|/400 = 0.75,
    # MAPE 1.6/3; three zero actuals. sum A = 1700, sum F = 1210: WAPE 590/1700, bias
    # -490/1700, attainment 1700/1210.
    section = _section()
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]
    outcome = run_forecast(section, pd.DataFrame(rows), ALIGNMENT)
    pooled = outcome.metrics["accuracy"]
    assert pooled["source"] == "backtest"
    assert (pooled["n_pairs"], pooled["n_zero_actual"]) == (6, 3)
    assert pooled["MAPE"] == pytest.approx(1.6 / 3)
    assert pooled["WAPE"] == pytest.approx(590 / 1700)
    assert pooled["bias"] == pytest.approx(-490 / 1700)
    assert pooled["forecast_attainment"] == pytest.approx(1700 / 1210)
    t1 = outcome.accuracy.set_index("territory_id").loc["T1"]
    assert (t1["actual_total"], t1["forecast_total"]) == (1300.0, pytest.approx(1110))


def test_rates_are_estimated_as_of_the_snapshot_day():
    """Historical rates at the Q3 snapshot use only the deals closed before it."""
    # With alpha 0, nothing has closed by 2025-04-01, so Q2 uses the defaults; by
    # 2025-07-01 w1, w2 (won, every stage) and l1 (lost, reached A and B) closed:
    # p_A = 2/3, so w3 (in A) is forecast at 300 * 2/3 = 200.
    pairs = _pairs(_section(probability_source="historical", smoothing_alpha=0))
    assert pairs[("T1", "2025-Q2")] == (1000.0, pytest.approx(1050.0))
    assert pairs[("T1", "2025-Q3")] == (300.0, pytest.approx(200.0))


def test_stage_on_a_day_comes_from_the_history():
    """With history, the stage held on a day is the last open stage entered by it."""
    section = _section()
    book = _book(section)
    history = prepare_history(
        pd.DataFrame(
            {
                "id": ["w1", "w1", "w1"],
                "stage": ["A", "B", "Won"],
                "entered_date": ["2025-02-01", "2025-03-10", "2025-05-10"],
            }
        )
    )
    early = stages_on(book, section, pd.Timestamp("2025-03-01"), history)
    late = stages_on(book, section, pd.Timestamp("2025-04-01"), history)
    assert early.tolist() == ["A", "B", "C", "B", "A"]
    assert late.tolist() == ["B", "B", "C", "B", "A"]


def test_no_closed_deal_means_no_backtest():
    """Without a close in the lookback window there is nothing to back-test."""
    section = _section(as_of="2025-04-10")
    actuals, snapshots, warnings = backtest_tables(_book(section), section)
    assert actuals.empty and snapshots.empty
    assert [w.code for w in warnings] == ["backtest_without_periods"]
