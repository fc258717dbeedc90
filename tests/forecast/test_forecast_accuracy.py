"""Tests of forecast accuracy (DOMAIN.md 6.6) and snapshot matching at a lag."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from territory_opt.errors import InputError
from territory_opt.forecast.accuracy import (
    accuracy_metrics,
    accuracy_table,
    match_snapshots,
)
from territory_opt.forecast.schema import (
    period_start,
    prepare_actuals,
    prepare_snapshots,
)


def test_domain_accuracy_example():
    """DOMAIN.md 6.6: MAPE 0.15, WAPE 0.142857, bias 0.028571, attainment 0.972222."""
    # A = [100, 200, 50], F = [90, 230, 40]: |e| = 10, 30, 10. MAPE = (0.1 + 0.15 +
    # 0.2)/3 = 0.15; WAPE = 50/350 = 0.142857; bias = 10/350 = +0.028571; attainment =
    # 350/360 = 0.972222; MAE = 50/3; tracking signal = (10 - 30 + 10) / (50/3) = -0.6.
    result = accuracy_metrics([100, 200, 50], [90, 230, 40])

    assert result["MAPE"] == pytest.approx(0.15, abs=1e-12)
    assert round(result["WAPE"], 6) == 0.142857
    assert round(result["bias"], 6) == 0.028571
    assert round(result["forecast_attainment"], 6) == 0.972222
    assert result["MAE"] == pytest.approx(50 / 3)
    assert result["tracking_signal"] == pytest.approx(-0.6)
    assert (result["n_pairs"], result["n_zero_actual"]) == (3, 0)


def test_zero_actuals_are_left_out_of_mape_and_counted():
    """Zero actuals are left out of MAPE and counted."""
    # A = [0, 100], F = [10, 90]: MAPE over the second pair only = 0.1; WAPE = 20/100;
    # bias = 0/100.
    result = accuracy_metrics([0, 100], [10, 90])
    assert result["MAPE"] == pytest.approx(0.1)
    assert result["n_zero_actual"] == 1
    assert result["WAPE"] == pytest.approx(0.2)
    assert result["bias"] == 0.0


def test_all_zero_actuals_give_nan_ratios():
    """Nothing to divide by: MAPE, WAPE and bias are NaN."""
    result = accuracy_metrics([0, 0], [5, 5])
    assert all(math.isnan(result[k]) for k in ("MAPE", "WAPE", "bias"))
    assert result["forecast_attainment"] == 0.0


def test_length_mismatch_is_an_error():
    """Pairs must line up."""
    with pytest.raises(ValueError, match="one value per pair; got 2 and 1"):
        accuracy_metrics([1, 2], [1])


@pytest.mark.parametrize(
    ("label", "start"),
    [
        ("2026", date(2026, 1, 1)),
        ("2026-Q3", date(2026, 7, 1)),
        ("2026-04", date(2026, 4, 1)),
        ("2026-04-15", date(2026, 4, 15)),
    ],
)
def test_period_labels(label, start):
    """Years, quarters, months and start days are understood."""
    assert period_start(label) == start


@pytest.mark.parametrize("label", ["Q3-2026", "2026-13", "2026-Q5", "26"])
def test_bad_period_labels(label):
    """Other labels are rejected with the accepted forms."""
    with pytest.raises(ValueError, match="2026-Q2"):
        period_start(label)


# Snapshots of T1 for 2026-02 (starts Feb 1) on Jan 1 (80), Jan 15 (90), Jan 25 (95).
SNAPSHOTS = pd.DataFrame(
    {
        "territory_id": ["T1", "T1", "T1"],
        "period": ["2026-02"] * 3,
        "snapshot_date": ["2026-01-25", "2026-01-01", "2026-01-15"],
        "forecast": [95, 80, 90],
    }
)
ACTUALS = pd.DataFrame({"territory_id": ["T1"], "period": ["2026-02"], "actual": [100]})


@pytest.mark.parametrize(("lag", "forecast"), [(0, 95.0), (10, 90.0), (31, 80.0)])
def test_latest_snapshot_old_enough_is_used(lag, forecast):
    """The latest snapshot taken at least lag days before the period is used."""
    # Lag 0 takes Jan 25; lag 10 (cut-off Jan 22) takes Jan 15; lag 31 (cut-off Jan 1)
    # takes Jan 1.
    pairs = match_snapshots(prepare_actuals(ACTUALS), prepare_snapshots(SNAPSHOTS), lag)
    assert pairs["forecast"].tolist() == [forecast]


def test_actual_without_old_enough_snapshot_is_unmatched():
    """Lag 40 (cut-off Dec 23) finds no snapshot: counted and warned."""
    table, warnings = accuracy_table(
        prepare_actuals(ACTUALS), prepare_snapshots(SNAPSHOTS), 40
    )
    assert table.iloc[-1]["n_unmatched"] == 1
    assert table.iloc[-1]["n_pairs"] == 0
    assert "unmatched_actuals" in [w.code for w in warnings]


def test_accuracy_table_per_territory_and_overall():
    """Accuracy per territory and pooled; a zero actual is warned about."""
    # T1 pairs (100, 90) and (200, 230), T2 (50, 40); the pooled row reproduces the
    # DOMAIN example and T2 alone has MAPE 0.2. A zero actual is warned about.
    actuals = pd.DataFrame(
        {
            "territory_id": ["T1", "T1", "T2", "T2"],
            "period": ["2026-01", "2026-02", "2026-01", "2026-02"],
            "actual": [100, 200, 50, 0],
        }
    )
    snapshots = pd.DataFrame(
        {
            "territory_id": ["T1", "T1", "T2", "T2"],
            "period": ["2026-01", "2026-02", "2026-01", "2026-02"],
            "snapshot_date": ["2025-12-01", "2026-01-01", "2025-12-01", "2026-01-01"],
            "forecast": [90, 230, 40, 0],
        }
    )
    table, warnings = accuracy_table(
        prepare_actuals(actuals), prepare_snapshots(snapshots), 0
    )
    rows = table.set_index("territory_id")

    assert rows.loc["T2", "MAPE"] == pytest.approx(0.2)
    assert rows.loc["(all)", "MAPE"] == pytest.approx(0.15)
    assert round(rows.loc["(all)", "WAPE"], 6) == 0.142857
    assert rows.loc["(all)", "n_zero_actual"] == 1
    assert rows.loc["(all)", "lag_days"] == 0
    assert [w.code for w in warnings] == ["mape_zero_actuals"]


def test_bad_snapshot_cells_are_named():
    """A bad date and a negative forecast are reported with their row and column."""
    bad = SNAPSHOTS.copy()
    bad.loc[1, "snapshot_date"] = "01/01/2026"
    bad.loc[2, "forecast"] = -5
    with pytest.raises(InputError) as caught:
        prepare_snapshots(bad, source="forecasts.csv")
    message = str(caught.value)
    assert message.startswith("forecasts.csv: 2 problem(s)")
    assert "row 2, column 'snapshot_date': '01/01/2026' is not a date" in message
    assert "row 3, column 'forecast': -5 is below the minimum 0" in message
