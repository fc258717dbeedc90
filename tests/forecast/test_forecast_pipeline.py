"""Tests of the weighted pipeline, categories and coverage (DOMAIN.md 6.6, 6.8)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from forecast_builders import build_opportunities, build_section
from hypothesis import given
from hypothesis import strategies as st

from territory_opt.forecast.pipeline import (
    Z_80,
    category_rollup,
    coverage_table,
    opportunity_categories,
    weighted_pipeline,
)

WINDOW = ("2026-01-01", "2026-12-31")


def _deals(section, amounts, probabilities, group="T1"):
    rows = [
        {
            "id": f"o{i}",
            "stage": "A",
            "amount": a,
            "close_date": "2026-06-30",
            "territory_id": group,
        }
        for i, a in enumerate(amounts)
    ]
    opps = build_opportunities(rows, section)
    return opps, pd.Series(probabilities, index=opps.index, dtype=float)


def test_domain_weighted_pipeline():
    """DOMAIN.md 6.8: E = 159,000 and SD = 104,637.47."""
    # DOMAIN.md 6.8: amounts 100k, 50k, 200k, 80k with p 0.1, 0.5, 0.3, 0.8 give E = 10k
    # + 25k + 60k + 64k = 159,000 and SD = sqrt(1e10*0.09 + 2.5e9*0.25 + 4e10*0.21 +
    # 6.4e9*0.16) = 104,637.47.
    opps, p = _deals(build_section(), [100e3, 50e3, 200e3, 80e3], [0.1, 0.5, 0.3, 0.8])
    row = weighted_pipeline(opps, p, WINDOW).iloc[0]

    assert row["E"] == pytest.approx(159_000.0, abs=1e-6)
    assert round(row["SD"], 2) == 104_637.47
    assert row["band80_low"] == pytest.approx(159_000 - Z_80 * row["SD"])
    assert row["band80_high"] == pytest.approx(159_000 + Z_80 * row["SD"])
    assert row["p10_p90_method"] == "normal"
    assert (row["n_open"], row["amount_open"]) == (4, 430_000.0)


def test_z_is_the_normal_quantile():
    """The 80 % band uses Phi^-1(0.9) = 1.2816 (to four decimals)."""
    assert round(Z_80, 4) == 1.2816


def test_window_and_status_select_the_deals():
    """Only open deals closing inside the window count; a blank amount counts 0."""
    rows = [
        {"id": "in", "stage": "A", "amount": 100, "close_date": "2026-12-31"},
        {"id": "late", "stage": "A", "amount": 1000, "close_date": "2027-01-01"},
        {"id": "won", "stage": "Won", "amount": 1000, "close_date": "2026-03-01"},
        {"id": "blank", "stage": "A", "amount": "", "close_date": "2026-03-01"},
        {"id": "nodate", "stage": "A", "amount": 1000, "close_date": ""},
    ]
    opps = build_opportunities(
        [dict(r, territory_id="T1") for r in rows], build_section()
    )
    p = pd.Series(0.5, index=opps.index)
    row = weighted_pipeline(opps, p, WINDOW).iloc[0]
    assert (row["n_open"], row["E"]) == (2, 50.0)


def test_groups_without_deals_are_reported_as_zero():
    """Asked-for groups with no deal get a zero row."""
    opps, p = _deals(build_section(), [100.0], [0.5])
    table = weighted_pipeline(opps, p, WINDOW, groups=["T0", "T2"])
    assert table["territory_id"].tolist() == ["T0", "T1", "T2"]
    assert table["E"].tolist() == [0.0, 50.0, 0.0]


def test_bernoulli_draws_of_certain_deals_are_exact():
    """With p in {0, 1} every draw wins exactly 100 + 300: P10 = P90 = 400."""
    opps, p = _deals(build_section(), [100, 200, 300], [1.0, 0.0, 1.0])
    row = weighted_pipeline(opps, p, WINDOW, draws=500, seed=3).iloc[0]
    assert (row["P10"], row["P90"], row["p10_p90_method"]) == (400, 400, "bernoulli")


def test_bernoulli_band_is_seeded_and_close_to_normal():
    """Seeded Bernoulli P10/P90 repeat and agree with the normal band."""
    # Same seed, same band; 200 deals of 1,000 at p 0.5 have E 100,000 and SD sqrt(200 *
    # 1e6 * 0.25) = 7,071.07, and the empirical P10/P90 lie within one deal of E -/+
    # 1.2816 SD.
    opps, p = _deals(build_section(), [1000.0] * 200, [0.5] * 200)
    first = weighted_pipeline(opps, p, WINDOW, draws=4000, seed=11)
    second = weighted_pipeline(opps, p, WINDOW, draws=4000, seed=11)
    pd.testing.assert_frame_equal(first, second)
    row = first.iloc[0]
    assert row["SD"] == pytest.approx(math.sqrt(200 * 1e6 * 0.25))
    assert abs(row["P10"] - row["band80_low"]) <= 1000
    assert abs(row["P90"] - row["band80_high"]) <= 1000


# One territory, worked by hand (window 2026):
#   won 100 in window -> Closed; won 1,000 in 2025 -> nothing;
#   open commit 50, best_case 30 (own category on a C deal), pipeline 20,
#   omitted 999, commit 500 closing in 2027 -> nothing; lost 70 -> nothing.
CATEGORY_DEALS = [
    {"id": "w1", "stage": "Won", "amount": 100, "close_date": "2026-02-01"},
    {"id": "w0", "stage": "Won", "amount": 1000, "close_date": "2025-12-01"},
    {"id": "c1", "stage": "C", "amount": 50, "close_date": "2026-05-01"},
    {
        "id": "b1",
        "stage": "C",
        "amount": 30,
        "close_date": "2026-05-01",
        "forecast_category": "Best Case",
    },
    {"id": "p1", "stage": "A", "amount": 20, "close_date": "2026-05-01"},
    {
        "id": "x1",
        "stage": "A",
        "amount": 999,
        "close_date": "2026-05-01",
        "forecast_category": "Omitted",
    },
    {"id": "c2", "stage": "C", "amount": 500, "close_date": "2027-02-01"},
    {"id": "l1", "stage": "Lost", "amount": 70, "close_date": "2026-03-01"},
]


def _category_setup():
    sec = build_section(category_map={"A": "pipeline", "B": "best_case", "C": "commit"})
    opps = build_opportunities(
        [dict(r, territory_id="T1") for r in CATEGORY_DEALS], sec
    )
    return sec, opps


def test_categories_follow_own_value_then_map():
    """A deal's own category wins over the stage map; closed deals are closed."""
    # The own category wins; otherwise the stage's map entry; closed deals are 'closed'.
    sec, opps = _category_setup()
    assert opportunity_categories(opps, sec).tolist() == [
        "closed",
        "closed",
        "commit",
        "best_case",
        "pipeline",
        "omitted",
        "commit",
        "closed",
    ]


def test_cumulative_rollup_with_salesforce_semantics():
    """Closed, Commit, BestCase and OpenPipeline are cumulative as in Salesforce."""
    # Closed 100; Commit 100 + 50 = 150; BestCase 150 + 30 = 180; OpenPipeline 50 + 30 +
    # 20 = 100 (omitted and out-of-window deals excluded).
    sec, opps = _category_setup()
    row = category_rollup(opps, sec, WINDOW).iloc[0]
    assert (row["Closed"], row["Commit"], row["BestCase"], row["OpenPipeline"]) == (
        100.0,
        150.0,
        180.0,
        100.0,
    )


def test_invalid_stage_without_category_is_omitted():
    """An open deal in an unknown stage has no category to fall back on."""
    sec = build_section()
    opps = build_opportunities(
        [
            {
                "id": "z",
                "stage": "Pitch",
                "amount": 10,
                "close_date": "2026-05-01",
                "territory_id": "T1",
            }
        ],
        sec,
    )
    assert opportunity_categories(opps, sec).tolist() == ["omitted"]
    assert category_rollup(opps, sec, WINDOW).iloc[0]["OpenPipeline"] == 0.0


def test_coverage_and_required_coverage():
    """Coverage of the remaining quota against 1 / win rate, with the gap flag."""
    # T1: quota 400, Closed 100 -> remaining 300, coverage 100/300; win rate 0.25 needs
    # 4x: flagged. T2: remaining 50, coverage 2 >= 1/0.6: not flagged. T3: quota met,
    # coverage infinite. T4: no quota, NaN and no flag.
    rollup = pd.DataFrame(
        {
            "territory_id": ["T1", "T2", "T3", "T4"],
            "Closed": [100.0, 100.0, 100.0, 0.0],
            "Commit": [0.0] * 4,
            "BestCase": [0.0] * 4,
            "OpenPipeline": [100.0, 100.0, 10.0, 10.0],
        }
    )
    rates = pd.DataFrame(
        {"territory_id": ["T1", "T2", "T3", "T4"], "win_rate": [0.25, 0.6, 0.5, 0.5]}
    )
    table, warnings = coverage_table(rollup, {"T1": 400, "T2": 150, "T3": 100}, rates)

    assert table["remaining_quota"].tolist()[:3] == [300.0, 50.0, 0.0]
    assert table.loc[0, "coverage"] == pytest.approx(1 / 3)
    assert table.loc[1, "coverage"] == 2.0
    assert table.loc[2, "coverage"] == math.inf
    assert math.isnan(table.loc[3, "coverage"])
    assert table["required_coverage"].tolist() == pytest.approx([4.0, 1 / 0.6, 2, 2])
    assert table["coverage_gap_flag"].tolist() == [True, False, False, False]
    assert [w.code for w in warnings] == ["coverage_gap"]
    assert "T1" in warnings[0].message


def test_zero_win_rate_needs_infinite_coverage():
    """A group that never wins needs infinite coverage and is flagged."""
    rollup = pd.DataFrame(
        {
            "territory_id": ["T1"],
            "Closed": [0.0],
            "Commit": [0.0],
            "BestCase": [0.0],
            "OpenPipeline": [500.0],
        }
    )
    rates = pd.DataFrame({"territory_id": ["T1"], "win_rate": [0.0]})
    table, _ = coverage_table(rollup, {"T1": 100.0}, rates)
    assert table.loc[0, "required_coverage"] == math.inf
    assert bool(table.loc[0, "coverage_gap_flag"]) is True


DEAL = st.tuples(
    st.sampled_from(["T1", "T2", "T3"]),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
    st.floats(min_value=0, max_value=1),
)


@given(st.lists(DEAL, min_size=1, max_size=30))
def test_weighted_pipeline_is_additive_over_groups(deals):
    """E and SD^2 of all deals pooled equal the sums over the groups."""
    frame = pd.DataFrame(
        {
            "id": [f"o{i}" for i in range(len(deals))],
            "territory_id": [d[0] for d in deals],
            "pool": "all",
            "status": "open",
            "amount": [d[1] for d in deals],
            "close_date": pd.Timestamp("2026-06-01"),
        }
    )
    p = pd.Series([d[2] for d in deals])
    groups = weighted_pipeline(frame, p, WINDOW)
    pooled = weighted_pipeline(frame, p, WINDOW, group_by="pool").iloc[0]

    assert pooled["E"] == pytest.approx(groups["E"].sum(), rel=1e-9, abs=1e-6)
    assert pooled["SD"] ** 2 == pytest.approx(
        (groups["SD"] ** 2).sum(), rel=1e-9, abs=1e-6
    )


@given(st.lists(DEAL, min_size=1, max_size=20), st.randoms(use_true_random=False))
def test_weighted_pipeline_does_not_depend_on_row_order(deals, random):
    """Shuffling the rows changes no figure, the Bernoulli P10/P90 included."""
    frame = pd.DataFrame(
        {
            "id": [f"o{i}" for i in range(len(deals))],
            "territory_id": [d[0] for d in deals],
            "stage": "A",
            "status": "open",
            "forecast_category": "",
            "amount": [d[1] for d in deals],
            "close_date": pd.Timestamp("2026-06-01"),
        }
    )
    p = pd.Series([d[2] for d in deals])
    order = list(range(len(deals)))
    random.shuffle(order)
    shuffled = frame.iloc[order].reset_index(drop=True)
    p_shuffled = p.iloc[order].reset_index(drop=True)

    first = weighted_pipeline(frame, p, WINDOW, draws=200, seed=5)
    second = weighted_pipeline(shuffled, p_shuffled, WINDOW, draws=200, seed=5)
    pd.testing.assert_frame_equal(first, second, check_exact=False, rtol=1e-12)
    assert np.isfinite(first["P90"]).all()
