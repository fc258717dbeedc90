"""Tests of stage probabilities: reached-stage rates, segments, Markov, durations.

Unless a test says otherwise the section has open stages A < B < C, won ``Won``,
lost ``Lost``, alpha = 2, defaults A 0.2, B 0.5, C 0.8, as of 2026-01-05 with a
365-day lookback.
"""

from __future__ import annotations

import pandas as pd
import pytest
from forecast_builders import build_opportunities, build_section

from territory_opt.forecast.schema import prepare_history
from territory_opt.forecast.stages import (
    age_adjusted_probabilities,
    estimate_stage_rates,
    group_win_rates,
    markov_probabilities,
    median_days_in_stage,
    reached_matrix,
)

# Five closed deals in the window and one closed too long ago:
#   W1, W2 won (no history: reached A, B, C); L1 lost after B; L2 lost after A;
#   L3 lost with no known last stage (counted at A only); W0 won two years ago.
CLOSED = [
    {"id": "W1", "stage": "Won", "close_date": "2025-10-01", "segment": "x"},
    {"id": "W2", "stage": "Won", "close_date": "2025-11-01", "segment": "x"},
    {
        "id": "L1",
        "stage": "Lost",
        "close_date": "2025-09-01",
        "segment": "x",
        "last_open_stage": "B",
    },
    {
        "id": "L2",
        "stage": "Lost",
        "close_date": "2025-08-01",
        "segment": "y",
        "last_open_stage": "A",
    },
    {"id": "L3", "stage": "Lost", "close_date": "2025-07-01", "segment": "y"},
    {"id": "W0", "stage": "Won", "close_date": "2024-01-01", "segment": "x"},
]


def _closed(section):
    return build_opportunities(
        [dict(row, territory_id="T1") for row in CLOSED], section
    )


def _table(rates):
    overall = rates.table[rates.table["segment"] == "(all)"]
    return overall.set_index("stage")


def test_reached_without_history():
    """Won deals reach every stage; lost ones up to their last open stage."""
    sec = build_section()
    closed, reached, unknown = reached_matrix(_closed(sec), sec)

    assert list(closed["id"]) == ["W1", "W2", "L1", "L2", "L3"]
    assert reached.tolist() == [
        [True, True, True],
        [True, True, True],
        [True, True, False],
        [True, False, False],
        [True, False, False],
    ]
    assert unknown == 1


def test_smoothed_rates_without_history():
    """Reached-stage rates without history, smoothed toward the defaults."""
    # N = (5, 3, 2), Wn = (2, 2, 2): p_A = (2 + 2*0.2)/(5 + 2) = 2.4/7, p_B = (2 +
    # 2*0.5)/(3 + 2) = 0.6, p_C = (2 + 2*0.8)/(2 + 2) = 0.9.
    sec = build_section()
    rates = estimate_stage_rates(_closed(sec), sec)
    table = _table(rates)

    assert table["n_reached"].tolist() == [5, 3, 2]
    assert table["n_won"].tolist() == [2, 2, 2]
    assert table.loc["A", "probability"] == pytest.approx(2.4 / 7, abs=1e-12)
    assert table.loc["B", "probability"] == pytest.approx(0.6, abs=1e-12)
    assert table.loc["C", "probability"] == pytest.approx(0.9, abs=1e-12)
    assert table.loc["A", "win_rate_raw"] == pytest.approx(0.4)
    assert [w.code for w in rates.warnings] == ["lost_without_stage"]


def test_sparse_history_warning_names_the_stage():
    """With alpha = 3, stage C (N = 2) is sparse: p_C = (2 + 2.4)/5 = 0.88."""
    sec = build_section(smoothing_alpha=3)
    rates = estimate_stage_rates(_closed(sec), sec)

    assert _table(rates).loc["C", "probability"] == pytest.approx(0.88, abs=1e-12)
    sparse = [w for w in rates.warnings if w.code == "sparse_history"]
    assert len(sparse) == 1
    assert "C (2)" in sparse[0].message and "A (" not in sparse[0].message


def test_history_decides_what_was_reached():
    """History decides the stages reached; a falling rate is warned about."""
    # L1's history holds A and C only, so it reached C but not B: N = (5, 2, 3), Wn =
    # (2, 2, 2); p_B = 3/4 = 0.75 > p_C = 3.6/5 = 0.72, which is reported as non-
    # monotone.
    sec = build_section()
    history = prepare_history(
        pd.DataFrame(
            {
                "id": ["L1", "L1", "L1"],
                "stage": ["A", "C", "Lost"],
                "entered_date": ["2025-06-01", "2025-07-01", "2025-09-01"],
            }
        )
    )
    rates = estimate_stage_rates(_closed(sec), sec, history)
    table = _table(rates)

    assert table["n_reached"].tolist() == [5, 2, 3]
    assert table.loc["B", "probability"] == pytest.approx(0.75, abs=1e-12)
    assert table.loc["C", "probability"] == pytest.approx(0.72, abs=1e-12)
    codes = [w.code for w in rates.warnings]
    assert "non_monotone_probabilities" in codes
    message = next(w.message for w in rates.warnings if w.code.startswith("non_mono"))
    assert "B 0.750 > C 0.720" in message


def test_segments_fall_back_when_thin():
    """Segment rates, with the unsegmented rate where N_s < alpha."""
    # Segment x (W1, W2, L1): p_A = 2.4/5 = 0.48, p_B = 3/5, p_C = 3.6/4. Segment y (L2,
    # L3): N_A = 2 gives p_A = 0.4/4 = 0.1; B and C have N = 0 < 2 and use the
    # unsegmented 0.6 and 0.9.
    sec = build_section(segment_by=["segment"])
    rates = estimate_stage_rates(_closed(sec), sec)
    table = rates.table.set_index(["segment", "stage"])

    assert table.loc[("x", "A"), "probability"] == pytest.approx(0.48)
    assert table.loc[("x", "B"), "probability"] == pytest.approx(0.6)
    assert table.loc[("x", "C"), "probability"] == pytest.approx(0.9)
    assert table.loc[("y", "A"), "probability"] == pytest.approx(0.1)
    assert bool(table.loc[("y", "B"), "fallback"]) is True
    assert table.loc[("y", "B"), "probability"] == pytest.approx(0.6)
    assert table.loc[("y", "C"), "probability"] == pytest.approx(0.9)
    assert "segment_fallback" in [w.code for w in rates.warnings]


def test_open_deals_take_their_segment_probability():
    """Open deals take their segment's rate, else the unsegmented or 0."""
    # An open deal in B of segment y uses y's (fallback) rate; an unknown segment uses
    # the unsegmented rate; an invalid stage gets 0.
    sec = build_section(segment_by=["segment"])
    rows = [dict(row, territory_id="T1") for row in CLOSED] + [
        {"id": "O1", "stage": "A", "segment": "y", "territory_id": "T1"},
        {"id": "O2", "stage": "A", "segment": "z", "territory_id": "T1"},
        {"id": "O3", "stage": "Pitch", "segment": "x", "territory_id": "T1"},
    ]
    opps = build_opportunities(rows, sec)
    rates = estimate_stage_rates(opps, sec)
    p = rates.opportunity_probabilities(opps)

    assert p.iloc[6] == pytest.approx(0.1)
    assert p.iloc[7] == pytest.approx(2.4 / 7)
    assert p.iloc[8] == 0.0
    assert p.iloc[0] == 1.0 and p.iloc[2] == 0.0


def test_crm_default_uses_the_defaults():
    """probability_source crm_default ignores the counts."""
    sec = build_section(probability_source="crm_default")
    rates = estimate_stage_rates(_closed(sec), sec)
    assert _table(rates)["probability"].tolist() == [0.2, 0.5, 0.8]


# Stage history for the Markov and duration tests (stages A < B):
#   d1: A 06-01, B 06-11, Won 07-01          A 10 days, B 20 days
#   d2: A 06-01, B 06-21, lost on 07-21      A 20 days, B 30 days (close ends it)
#   d3: A 06-01, Lost 06-05                  A 4 days
#   d4: A 06-01, B 06-15, Won 06-25          A 14 days, B 10 days
MARKOV_HISTORY = pd.DataFrame(
    [
        ("d1", "A", "2025-06-01"),
        ("d1", "B", "2025-06-11"),
        ("d1", "Won", "2025-07-01"),
        ("d2", "A", "2025-06-01"),
        ("d2", "B", "2025-06-21"),
        ("d3", "A", "2025-06-01"),
        ("d3", "Lost", "2025-06-05"),
        ("d4", "A", "2025-06-01"),
        ("d4", "B", "2025-06-15"),
        ("d4", "Won", "2025-06-25"),
    ],
    columns=["id", "stage", "entered_date"],
)
MARKOV_DEALS = [
    {"id": "d1", "stage": "Won", "close_date": "2025-07-01"},
    {"id": "d2", "stage": "Lost", "close_date": "2025-07-21"},
    {"id": "d3", "stage": "Lost", "close_date": "2025-06-05"},
    {"id": "d4", "stage": "Won", "close_date": "2025-06-25"},
]


def _markov_setup(**changes):
    sec = build_section(
        stage_order=["A", "B"],
        default_probabilities={"A": 0.2, "B": 0.5},
        probability_source="markov",
        **changes,
    )
    opps = build_opportunities([dict(r, territory_id="T1") for r in MARKOV_DEALS], sec)
    return sec, opps, prepare_history(MARKOV_HISTORY)


def test_markov_absorption_by_hand():
    """Markov absorption probabilities of a four-deal history, by hand."""
    # Counts A->B 3, A->Lost 1, B->Won 2, B->Lost 1 give B[B, Won] = 2/3 and B[A, Won] =
    # 0.75 * 2/3 = 0.5.
    sec, opps, history = _markov_setup()
    probabilities, transitions, warnings = markov_probabilities(opps, sec, history)

    assert probabilities == pytest.approx({"A": 0.5, "B": 2 / 3}, abs=1e-12)
    assert transitions == {"A": 4, "B": 3}
    assert warnings == []
    rates = estimate_stage_rates(opps, sec, history)
    assert rates.source == "markov"
    assert _table(rates)["transitions_out"].tolist() == [4, 3]


def test_markov_cycle_falls_back_to_historical():
    """Stages that only cycle (A->B->A) make I - Q singular: warn and fall back."""
    sec = build_section(
        stage_order=["A", "B"],
        default_probabilities={"A": 0.2, "B": 0.5},
        probability_source="markov",
    )
    opps = build_opportunities([{"id": "c", "stage": "A", "territory_id": "T1"}], sec)
    history = prepare_history(
        pd.DataFrame(
            {
                "id": ["c", "c", "c"],
                "stage": ["A", "B", "A"],
                "entered_date": ["2025-06-01", "2025-06-05", "2025-06-09"],
            }
        )
    )
    rates = estimate_stage_rates(opps, sec, history)
    assert rates.source == "historical"
    assert "markov_singular" in [w.code for w in rates.warnings]


def test_markov_without_history_warns():
    """Markov needs a history; without one the historical rates are used."""
    sec, opps, _ = _markov_setup()
    rates = estimate_stage_rates(opps, sec, None)
    assert rates.source == "historical"
    assert "markov_without_history" in [w.code for w in rates.warnings]


def test_median_days_in_stage():
    """A visits 10, 20, 4, 14 days (median 12); B 20, 30, 10 (median 20)."""
    sec, opps, history = _markov_setup()
    assert median_days_in_stage(opps, sec, history) == {"A": 12.0, "B": 20.0}


def test_median_days_without_history_is_nan():
    """Without history no stage has a median."""
    sec, opps, _ = _markov_setup()
    medians = median_days_in_stage(opps, sec, None)
    assert all(pd.isna(v) for v in medians.values())


def test_age_decay_scales_stale_deals_only():
    """Age decay scales p by median / days for stale deals only."""
    # Median 12 days, factor 2: 30 days in A gives 0.5 * 12/30 = 0.2; 24 days (not above
    # 24) keeps 0.5; a stage without median keeps its p.
    sec = build_section(
        stage_order=["A", "B"], default_probabilities={"A": 0.5, "B": 0.5}
    )
    opps = build_opportunities(
        [
            {"id": "o1", "stage": "A", "stage_entered_date": "2025-12-06"},
            {"id": "o2", "stage": "A", "stage_entered_date": "2025-12-12"},
            {"id": "o3", "stage": "B", "stage_entered_date": "2025-01-01"},
        ],
        sec,
    )
    p = pd.Series([0.5, 0.5, 0.5], index=opps.index)
    adjusted = age_adjusted_probabilities(opps, p, {"A": 12.0, "B": float("nan")}, sec)
    assert adjusted.tolist() == pytest.approx([0.2, 0.5, 0.5])


def test_group_win_rates_use_own_rate_or_overall():
    """Group win rates use their own rate when N >= alpha, else the overall."""
    # T1 has 3 closed deals (2 won) >= alpha 2: 2/3. T2 has 1 deal < 2 and T3 none: both
    # use the overall first-stage probability.
    sec = build_section()
    rows = [
        {"id": "a", "stage": "Won", "close_date": "2025-10-01", "territory_id": "T1"},
        {"id": "b", "stage": "Won", "close_date": "2025-10-01", "territory_id": "T1"},
        {"id": "c", "stage": "Lost", "close_date": "2025-10-01", "territory_id": "T1"},
        {"id": "d", "stage": "Won", "close_date": "2025-10-01", "territory_id": "T2"},
    ]
    opps = build_opportunities(rows, sec)
    rates = estimate_stage_rates(opps, sec)
    overall = rates.probability_of("A")
    table = group_win_rates(opps, rates, sec, groups=["T3"]).set_index("territory_id")

    assert overall == pytest.approx((3 + 0.4) / 6)
    assert table.loc["T1", "win_rate"] == pytest.approx(2 / 3)
    assert table.loc["T2", "win_rate"] == pytest.approx(overall)
    assert table.loc["T3", "win_rate"] == pytest.approx(overall)
    assert table["fallback"].tolist() == [False, True, True]
