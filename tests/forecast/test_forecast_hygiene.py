"""Tests of the hygiene flags and the funnel integrity score on hand-built deals.

As of 2026-01-05 with the default thresholds (stale factor 2, fallback 90 days,
no activity 30 days, pushes 2) and median days A = 10 (stale above 20 days), B
unknown (stale above 90 days):

    id  terr stage   amount close       entered    activity   push flags
    o1  T1   A       100    2026-03-01 2025-12-16 2026-01-02 0    none (20 days)
    o2  T1   A       200    2026-01-04 2026-01-01 2026-01-02 0    past_due
    o3  T1   A       blank  2026-03-01 2026-01-01 2026-01-02 0    missing_amount
    o4  T1   A       50     blank      2026-01-01 2026-01-02 0    missing_close_date
    o5  T1   A       150    2026-03-01 2025-12-10 2026-01-02 0    stale (26 days)
    o6  T2   A       100    2026-03-01 2026-01-01 2025-12-05 0    no_activity (31)
    o7  T2   A       100    2026-03-01 2026-01-01 2026-01-02 2    pushed
    o8  T2   Negot.  100    2026-03-01 2026-01-01 blank      0    invalid_stage
    o9  T2   B       200    2026-03-01 2025-10-01 2026-01-02 3    stale (96), pushed
    w1  T2   Won     999    2025-12-01                            (closed: skipped)

(``Negot.`` is the label ``Negotiating``, which is no stage of the section.)
"""

from __future__ import annotations

import math

import pytest
from forecast_builders import build_opportunities, build_section

from territory_opt.forecast.hygiene import (
    FLAGS,
    deal_check_counts,
    deal_check_summary,
    deal_checks,
    hygiene_flags,
    hygiene_rates,
    hygiene_summary,
)

ROWS = [
    ("o1", "T1", "A", 100, "2026-03-01", "2025-12-16", "2026-01-02", 0),
    ("o2", "T1", "A", 200, "2026-01-04", "2026-01-01", "2026-01-02", 0),
    ("o3", "T1", "A", "", "2026-03-01", "2026-01-01", "2026-01-02", 0),
    ("o4", "T1", "A", 50, "", "2026-01-01", "2026-01-02", 0),
    ("o5", "T1", "A", 150, "2026-03-01", "2025-12-10", "2026-01-02", 0),
    ("o6", "T2", "A", 100, "2026-03-01", "2026-01-01", "2025-12-05", 0),
    ("o7", "T2", "A", 100, "2026-03-01", "2026-01-01", "2026-01-02", 2),
    ("o8", "T2", "Negotiating", 100, "2026-03-01", "2026-01-01", "", 0),
    ("o9", "T2", "B", 200, "2026-03-01", "2025-10-01", "2026-01-02", 3),
    ("w1", "T2", "Won", 999, "2025-12-01", "", "", 0),
]
COLUMNS = (
    "id territory_id stage amount close_date stage_entered_date last_activity_date "
    "close_date_changes"
).split()
MEDIANS = {"A": 10.0, "B": float("nan"), "C": float("nan")}


@pytest.fixture
def flags():
    """The flags of the table in the module docstring."""
    sec = build_section()
    opps = build_opportunities(
        [dict(zip(COLUMNS, row, strict=True)) for row in ROWS], sec
    )
    return hygiene_flags(opps, sec, MEDIANS)


def test_each_flag_hits_its_deals(flags):
    """Every flag fires on exactly the deals of the table; o1 is clean."""
    hits = {name: flags.loc[flags[name], "id"].tolist() for name in FLAGS}
    assert hits == {
        "past_due": ["o2"],
        "missing_amount": ["o3"],
        "missing_close_date": ["o4"],
        "stale": ["o5", "o9"],
        "no_activity": ["o6"],
        "pushed": ["o7", "o9"],
        "invalid_stage": ["o8"],
        "missing_account": [],
    }
    assert flags["id"].tolist() == [f"o{i}" for i in range(1, 10)]
    assert flags.loc[flags["id"] == "o1", "any_flag"].item() is False


def test_stale_thresholds_and_days(flags):
    """Stale compares days in stage with twice the median or the fallback."""
    # o1 has 20 days against a threshold of 2 * 10 = 20 (not above); o9 has 96 days
    # against the 90-day fallback.
    by_id = flags.set_index("id")
    assert by_id.loc["o1", "days_in_stage"] == 20
    assert by_id.loc["o1", "stale_threshold_days"] == 20
    assert by_id.loc["o9", "days_in_stage"] == 96
    assert by_id.loc["o9", "stale_threshold_days"] == 90


def test_blank_activity_falls_back_to_stage_entry(flags):
    """o8 has no activity date; its stage entry (4 days ago) stands in."""
    assert flags.set_index("id").loc["o8", "days_since_activity"] == 4


def test_overall_rates_by_count_and_amount(flags):
    """Flag rates by count and by amount, and the score, over all open deals."""
    # 9 open deals worth 1,000 (o3's blank amount counts 0): stale 2/9 and (150 +
    # 200)/1000 = 0.35; pushed 2/9 and 0.30; any flag 8/9 and 900/1000; hygiene score 1
    # - 8/9 = 1/9.
    summary = hygiene_summary(flags)
    assert (summary["n_open"], summary["amount_open"]) == (9, 1000.0)
    assert summary["stale_count"] == 2
    assert summary["stale_count_rate"] == pytest.approx(2 / 9)
    assert summary["stale_amount_rate"] == pytest.approx(0.35)
    assert summary["pushed_amount_rate"] == pytest.approx(0.30)
    assert summary["past_due_amount_rate"] == pytest.approx(0.20)
    assert summary["missing_amount_amount_rate"] == 0.0
    assert summary["any_flag_count"] == 8
    assert summary["any_flag_amount_rate"] == pytest.approx(0.9)
    assert summary["hygiene_score"] == pytest.approx(1 / 9)


def test_rates_per_territory_and_empty_groups(flags):
    """Rates and score per territory; a territory without deals is NaN."""
    # T1: 5 open, 4 flagged -> score 0.2; T2: 4 open, all flagged -> 0; T3 has no open
    # deal and NaN rates.
    table = hygiene_rates(flags, groups=["T3"]).set_index("territory_id")
    assert table.loc["T1", "n_open"] == 5
    assert table.loc["T1", "hygiene_score"] == pytest.approx(0.2)
    assert table.loc["T2", "hygiene_score"] == 0.0
    assert table.loc["T2", "stale_amount_rate"] == pytest.approx(200 / 500)
    assert table.loc["T3", "n_open"] == 0
    assert math.isnan(table.loc["T3", "hygiene_score"])


def test_thresholds_come_from_the_section():
    """pushes_threshold 3 clears o7 (2 pushes) but not o9 (3)."""
    sec = build_section(hygiene={"pushes_threshold": 3})
    opps = build_opportunities(
        [dict(zip(COLUMNS, row, strict=True)) for row in ROWS], sec
    )
    flags = hygiene_flags(opps, sec, MEDIANS)
    assert flags.loc[flags["pushed"], "id"].tolist() == ["o9"]


def test_missing_account_only_when_the_table_names_accounts():
    """Open deals without an account are flagged once other deals name theirs."""
    # With accounts on o1..o8 and w1, only o9 (open, blank) is flagged; the table of
    # the module docstring names no account at all and flags none (see above).
    sec = build_section()
    rows = [dict(zip(COLUMNS, row, strict=True)) for row in ROWS]
    for row in rows:
        row["account_id"] = "" if row["id"] == "o9" else f"acc-{row['id']}"
    flags = hygiene_flags(build_opportunities(rows, sec), sec, MEDIANS)
    assert flags.loc[flags["missing_account"], "id"].tolist() == ["o9"]
    assert hygiene_summary(flags)["missing_account_amount_rate"] == 0.2


DEALS = [
    ("d1", "T1", "A", 100, "Gizmo Pro"),
    ("d2", "T1", "Won", 300, "GizmoPro"),
    ("d3", "T1", "Lost", 0, "Gizmo Pro"),
    ("d4", "T2", "Lost", "", "gizmo pro"),
    ("d5", "T2", "Lost", 80, "Widget"),
]


def _deals(with_catalogue: bool):
    frame = [
        {
            "id": i,
            "territory_id": t,
            "stage": s,
            "amount": a,
            "close_date": "2025-12-01",
            "product": "Gizmo Pro" if with_catalogue and p != "Widget" else p,
            **({"product_as_written": p} if with_catalogue else {}),
        }
        for i, t, s, a, p in DEALS
    ]
    return build_opportunities(frame)


@pytest.mark.parametrize("with_catalogue", [False, True])
def test_product_spelling_and_lost_zero_value_on_every_deal(with_catalogue):
    """Respelt products (open or closed) and lost deals at 0 or blank are flagged."""
    # 'Gizmo Pro' is written three ways: the most frequent form (2 of 4 deals) is the
    # product's name, so d2 'GizmoPro' and d4 'gizmo pro' are respelt; the catalogue
    # column gives the same answer. d3 (0) and d4 (blank) are lost at zero value.
    checks = deal_checks(_deals(with_catalogue))
    assert checks.loc[checks["product_spelling"], "id"].tolist() == ["d2", "d4"]
    assert checks.loc[checks["lost_zero_value"], "id"].tolist() == ["d3", "d4"]
    assert set(checks["product"]) == {"Gizmo Pro", "Widget"}


def test_deal_counts_per_territory_flag_territories_without_deals():
    """Counts per territory; T3 has no deal at all and is flagged no_deals."""
    checks = deal_checks(_deals(False))
    counts = deal_check_counts(checks, groups=["T3"]).set_index("territory_id")
    assert counts["n_deals"].to_dict() == {"T1": 3, "T2": 2, "T3": 0}
    assert counts["no_deals"].to_dict() == {"T1": False, "T2": False, "T3": True}
    assert counts["product_spelling_count"].to_dict() == {"T1": 1, "T2": 1, "T3": 0}
    assert counts["lost_zero_value_count"].to_dict() == {"T1": 1, "T2": 1, "T3": 0}
    summary = deal_check_summary(checks, counts.reset_index())
    assert summary["no_deals"] == ["T3"]
    assert summary["product_spellings"] == [
        {"written": "GizmoPro", "product": "Gizmo Pro", "deals": 1},
        {"written": "gizmo pro", "product": "Gizmo Pro", "deals": 1},
    ]
    assert (summary["n_deals"], summary["product_spelling_count"]) == (5, 2)


def test_a_rep_whose_deals_went_elsewhere_is_not_without_deals():
    """T3 names d5 as its own deal, placed in T2 by the alignment: not flagged."""
    opps = _deals(False)
    owners = opps["territory_id"].where(opps["id"] != "d5", "T3")
    counts = deal_check_counts(deal_checks(opps, owners), groups=["T3", "T4"])
    table = counts.set_index("territory_id")
    assert table.loc["T3", ["n_deals", "n_owned_deals"]].tolist() == [0, 1]
    assert table["no_deals"].to_dict() == {
        "T1": False,
        "T2": False,
        "T3": False,
        "T4": True,
    }
