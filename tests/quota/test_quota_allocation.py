"""Tests of territory_opt.quota.allocation: Q1 street target, Q2 shares, Q6, Q7."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from territory_opt.errors import InputError
from territory_opt.quota.allocation import (
    ShareRule,
    apply_bounds,
    apply_bounds_by_level,
    fair_share_amounts,
    historical_base,
    proportional_shares,
    realised_over_assignment,
    reconcile,
    redistribute,
    settle_vacancies,
    street_target,
    top_down,
)

P = np.array([4.0, 3.0, 2.0, 1.0]) * 1e6
H = np.array([1.0, 1.2, 0.5, 0.3]) * 1e6
W = np.array([0.8, 0.4, 0.6, 0.2]) * 1e6


def _one_district(rule: ShareRule, target: float, territory_oa: float) -> np.ndarray:
    """Q1 over four territories in one district and one region."""
    top = top_down(
        ["D"] * 4, ["R"] * 4, target, (1.0, 1.0, 1 + territory_oa), rule.split
    )
    return top.territory


def test_street_target_compounds_levels() -> None:
    """T = 50 M with 5 %, 0 %, 5 %: 50 × 1.05 × 1.0 × 1.05 = 55.125 M."""
    assert street_target(50e6, (1.05, 1.0, 1.05)) == pytest.approx(55_125_000.0)


def test_domain_blended_shares_and_raw_quotas() -> None:
    """DOMAIN 6.8: shares [0.38, 0.31, 0.21, 0.10] and Q_raw of 3.63 M.

    Potential shares [0.4, 0.3, 0.2, 0.1]; historical (growth 10 % on all) H / 3.0 =
    [1/3, 0.4, 1/6, 0.1]; pipeline W / 2.0 = [0.4, 0.2, 0.3, 0.1]. Blend 0.5/0.3/0.2:
    T01 = 0.2 + 0.1 + 0.08 = 0.38, T02 = 0.15 + 0.12 + 0.04 = 0.31,
    T03 = 0.1 + 0.05 + 0.06 = 0.21, T04 = 0.05 + 0.03 + 0.02 = 0.10.
    """
    rule = ShareRule(
        "blended",
        potential=P,
        historical=historical_base(H, 0.10),
        pipeline=W,
        weights={"potential": 0.5, "historical": 0.3, "pipeline": 0.2},
    )
    raw = _one_district(rule, 3_300_000, 0.10)

    np.testing.assert_allclose(raw / raw.sum(), [0.38, 0.31, 0.21, 0.10], rtol=1e-12)
    np.testing.assert_allclose(
        raw, [1_379_400, 1_125_300, 762_300, 363_000], rtol=1e-12
    )


@pytest.mark.parametrize(
    ("method", "values", "expected"),
    [
        ("even", None, [0.25, 0.25, 0.25, 0.25]),
        ("potential", None, [0.4, 0.3, 0.2, 0.1]),
        ("pipeline", W, [0.4, 0.2, 0.3, 0.1]),
        ("capacity", np.array([3.0, 3.0, 2.0, 2.0]), [0.3, 0.3, 0.2, 0.2]),
    ],
)
def test_single_component_shares(method, values, expected) -> None:
    """Each share method divides by its own total (even: 1/n)."""
    rule = ShareRule(method, potential=P, pipeline=W, capacity=values)
    raw = _one_district(rule, 1000.0, 0.0)
    np.testing.assert_allclose(raw, np.array(expected) * 1000.0, rtol=1e-12)


def test_degenerate_component_falls_back_to_even_with_note() -> None:
    """A pipeline of zeros everywhere shares the pool evenly and says so."""
    rule = ShareRule("pipeline", potential=P, pipeline=np.zeros(4))
    top = top_down(["D"] * 4, ["R"] * 4, 1000.0, (1.0, 1.0, 1.0), rule.split)

    np.testing.assert_allclose(top.territory, [250.0] * 4)
    assert top.notes == (
        "pipeline is zero for every child of D; the pipeline share fell back to even "
        "there",
    )


def test_missing_component_data_is_an_input_error() -> None:
    """A share rule without the data of its component refuses to guess."""
    rule = ShareRule("pipeline", potential=P)
    with pytest.raises(InputError, match="the pipeline share needs data"):
        _one_district(rule, 1000.0, 0.0)


def test_hierarchy_even_with_over_assignment() -> None:
    """Even shares by territory count through two regions and three districts.

    T = 1,000,000; region oa 5 %, territory oa 5 %. R1 holds A, B (D1) and C (D2);
    R2 holds D (D3). Company pool 1,050,000 → R1 3/4 = 787,500, R2 262,500;
    districts D1 525,000, D2 262,500, D3 262,500; territory pools × 1.05 give every
    territory 275,625 = 1,102,500 / 4.
    """
    rule = ShareRule("even", potential=np.ones(4))
    top = top_down(
        ["D1", "D1", "D2", "D3"],
        ["R1", "R1", "R1", "R2"],
        1_000_000,
        (1.05, 1.0, 1.05),
        rule.split,
    )

    assert top.region == pytest.approx({"R1": 787_500.0, "R2": 262_500.0})
    assert top.district == pytest.approx(
        {"D1": 525_000.0, "D2": 262_500.0, "D3": 262_500.0}
    )
    np.testing.assert_allclose(top.territory, [275_625.0] * 4)
    realised = realised_over_assignment(
        1_000_000, top.region, top.district, top.territory
    )
    assert realised == pytest.approx(
        {"region": 0.05, "district": 0.0, "territory": 0.05, "total": 0.1025}
    )


def test_district_in_two_regions_is_rejected() -> None:
    """A district must roll up into one region."""
    rule = ShareRule("even", potential=np.ones(2))
    with pytest.raises(InputError, match="district 'D1' sits under two regions"):
        top_down(["D1", "D1"], ["R1", "R2"], 1.0, (1, 1, 1), rule.split)


@given(
    potential=st.lists(
        st.floats(min_value=0.1, max_value=1e6), min_size=2, max_size=12
    ),
    districts=st.lists(st.integers(min_value=0, max_value=3), min_size=12, max_size=12),
)
def test_proportional_method_is_flat_through_any_hierarchy(potential, districts):
    """Potential shares through districts equal T_street × P_i / Σ P."""
    n = len(potential)
    p = np.array(potential)
    district = [f"D{d}" for d in districts[:n]]
    region = [f"R{d % 2}" for d in districts[:n]]
    rule = ShareRule("potential", potential=p)
    top = top_down(district, region, 1e6, (1.02, 1.03, 1.04), rule.split)

    expected = 1e6 * 1.02 * 1.03 * 1.04 * p / p.sum()
    np.testing.assert_allclose(top.territory, expected, rtol=1e-9)


# --- Q3 level by level ------------------------------------------------------------

INF = math.inf


def test_bounds_by_level_keep_the_district_totals() -> None:
    """Raw 100 each, districts D1 = {A, B} and D2 = {C, D}, A capped at 60.

    One λ over all: A = 60 and the other three share 340 (113.33 each), so D1
    drops to 173.33. Level by level: D1 keeps 200 (A 60, B 140) and D2 keeps 200.
    """
    raw, low, high = [100.0] * 4, [0.0] * 4, [60.0, INF, INF, INF]
    street = apply_bounds(raw, low, high, 400.0)
    levels = apply_bounds_by_level(
        raw, ["D1", "D1", "D2", "D2"], ["R"] * 4, low, high, 400.0
    )

    np.testing.assert_allclose(street.quotas, [60, 340 / 3, 340 / 3, 340 / 3])
    np.testing.assert_allclose(levels.quotas, [60, 140, 100, 100])
    assert levels.bound_hit == ("cap", "none", "none", "none")
    assert levels.status == "ok" and abs(levels.residual) < 1e-9


def test_bounds_by_level_pass_a_squeezed_node_on_to_its_siblings() -> None:
    """Region R1 = {A, B} can carry at most 60 + 80 = 140 of its 200; R2's two
    districts take the other 260. C has a floor of 150: 150 + 100 λ = 260 gives
    λ = 1.1 and D = 110."""
    levels = apply_bounds_by_level(
        [100.0] * 4,
        ["D1", "D1", "D2", "D3"],
        ["R1", "R1", "R2", "R2"],
        [0.0, 0.0, 150.0, 0.0],
        [60.0, 80.0, INF, INF],
        400.0,
    )
    np.testing.assert_allclose(levels.quotas, [60, 80, 150, 110])
    assert levels.bound_hit == ("cap", "cap", "floor", "none")


def test_bounds_by_level_report_infeasible_floors() -> None:
    """Floors 150 + 150 + 0 exceed the target 250: over_floor, residual −50."""
    levels = apply_bounds_by_level(
        [100.0] * 3,
        ["D1", "D2", "D2"],
        ["R"] * 3,
        [150.0, 150.0, 0.0],
        [INF] * 3,
        250.0,
    )
    np.testing.assert_allclose(levels.quotas, [150, 150, 0])
    assert levels.status == "over_floor"
    assert levels.residual == pytest.approx(-50.0)


@given(
    raw=st.lists(st.floats(min_value=1.0, max_value=1e6), min_size=9, max_size=9),
    floor_share=st.lists(
        st.floats(min_value=0.0, max_value=1.2), min_size=9, max_size=9
    ),
    cap_share=st.lists(st.floats(min_value=0.0, max_value=2.0), min_size=9, max_size=9),
    districts=st.lists(st.integers(min_value=0, max_value=3), min_size=9, max_size=9),
    target_share=st.floats(min_value=0.0, max_value=1.0),
)
def test_bounds_by_level_sum_to_target_within_bounds(
    raw, floor_share, cap_share, districts, target_share
):
    """Σ Q = T whenever Σ L ≤ T ≤ Σ U, every quota in its bounds, and every
    district keeps its pool when no district or region pool breaks its bounds."""
    q = np.array(raw)
    low = q * np.array(floor_share)
    high = low + q * np.array(cap_share)
    target = low.sum() + target_share * (high.sum() - low.sum())
    district = [f"D{d}" for d in districts]
    region = [f"R{d % 2}" for d in districts]
    result = apply_bounds_by_level(
        q * target / q.sum(), district, region, low, high, target
    )

    assert result.status == "ok"
    assert result.quotas.sum() == pytest.approx(target, rel=1e-9)
    assert (result.quotas >= low * (1 - 1e-9) - 1e-9).all()
    assert (result.quotas <= high * (1 + 1e-9) + 1e-9).all()
    pools = {}
    for d, r, amount, lo, hi in zip(
        district, region, q * target / q.sum(), low, high, strict=True
    ):
        pool = pools.setdefault((r, d), [0.0, 0.0, 0.0])
        pool[0] += amount
        pool[1] += lo
        pool[2] += hi

    def free(amount: float, lo: float, hi: float) -> bool:
        return lo * (1 + 1e-9) <= amount <= hi * (1 - 1e-9)

    regions = {r for r, _ in pools}
    totals = {
        r: np.sum([v for k, v in pools.items() if k[0] == r], axis=0) for r in regions
    }
    if all(free(*v) for v in pools.values()) and all(free(*v) for v in totals.values()):
        for (_, d), (amount, _, _) in pools.items():
            members = [k for k, name in enumerate(district) if name == d]
            assert result.quotas[members].sum() == pytest.approx(amount, rel=1e-9)


def test_historical_base_clamps_growth_and_subtracts_relief() -> None:
    """1.0 M × (1 + min(0.30, 0.25) − 0.02) = 1.23 M; 1.2 M × (1 + 0.05 − 0.02)."""
    base = historical_base([1e6, 1.2e6], [0.30, 0.0], relief=0.02, bounds=(0.05, 0.25))
    np.testing.assert_allclose(base, [1_230_000.0, 1_236_000.0])


def test_fair_share_without_clamp() -> None:
    """H = [100, 200, 300], P = [1, 1, 2], pool 800: 200 more split 1:1:2."""
    amounts, degenerate = fair_share_amounts([100, 200, 300], [1, 1, 2], 800)
    np.testing.assert_allclose(amounts, [150, 250, 400])
    assert not degenerate


def test_fair_share_negative_is_clamped_and_renormalised() -> None:
    """H = [100, 0, 500], P = [1, 1, 2], pool 400.

    First pass: increment −200 gives [50, −50, 400]; T2 is set to 0. Second pass
    over T1, T3: increment 400 − 600 = −200 split 1:2 → [100 − 66.67, 500 − 133.33]
    = [33.33, 366.67].
    """
    amounts, _ = fair_share_amounts([100, 0, 500], [1, 1, 2], 400)
    np.testing.assert_allclose(amounts, [100 - 200 / 3, 0.0, 500 - 400 / 3])
    assert amounts.sum() == pytest.approx(400)


def test_fair_share_without_potential_is_even() -> None:
    """No potential anywhere: the even fall-back."""
    amounts, degenerate = fair_share_amounts([1, 2], [0, 0], 10)
    np.testing.assert_allclose(amounts, [5, 5])
    assert degenerate


def test_proportional_shares_even_fallback_uses_counts() -> None:
    """Zero totals fall back to shares by territory count."""
    shares, degenerate = proportional_shares([0, 0], counts=[1, 3])
    np.testing.assert_allclose(shares, [0.25, 0.75])
    assert degenerate


# --- Q6 vacancies -------------------------------------------------------------


def test_hold_at_manager_keeps_quota_with_parent() -> None:
    """A vacant territory's quota goes to 0 and is held at its parent."""
    result = settle_vacancies(
        [100.0, 200.0, 300.0],
        ["A", "B", "C"],
        [False, True, False],
        "hold_at_manager",
        {},
        [1.0, 1.0, 1.0],
    )
    np.testing.assert_allclose(result.quotas, [100, 0, 300])
    np.testing.assert_allclose(result.held, [0, 200, 0])


def test_redistribute_in_proportion_to_potential() -> None:
    """B's 200 goes to A and C by potential 1 : 3 → 50 and 150."""
    result = settle_vacancies(
        [100.0, 200.0, 300.0],
        ["A", "B", "C"],
        [False, True, False],
        "redistribute",
        {"B": [0, 2]},
        [1.0, 5.0, 3.0],
    )
    np.testing.assert_allclose(result.quotas, [150, 0, 450])
    np.testing.assert_allclose(result.received, [50, 0, 150])
    assert result.held.sum() == 0


def test_redistribute_water_fills_capacity_headroom() -> None:
    """Headroom 20 (A: 120 − 100) and 700 (C): A fills at 20, C takes 180."""
    result = settle_vacancies(
        [100.0, 200.0, 300.0],
        ["A", "B", "C"],
        [False, True, False],
        "redistribute",
        {"B": [0, 2]},
        [1.0, 5.0, 3.0],
        capacity=[120, 0, 1000],
    )
    np.testing.assert_allclose(result.quotas, [120, 0, 480])


def test_redistribute_remainder_is_held() -> None:
    """Headroom 10 + 50 = 60 of 200 fits; 140 is held at the manager."""
    result = settle_vacancies(
        [100.0, 200.0, 300.0],
        ["A", "B", "C"],
        [False, True, False],
        "redistribute",
        {"B": [0, 2]},
        [1.0, 5.0, 3.0],
        capacity=[110, 0, 350],
    )
    np.testing.assert_allclose(result.quotas, [110, 0, 350])
    np.testing.assert_allclose(result.held, [0, 140, 0])
    assert result.notes == (
        "vacant territory B: 140 of its quota 200 did not fit in the capacity "
        "headroom of its receivers and is held at the manager",
    )


def test_redistribute_without_receivers_holds() -> None:
    """A vacancy with no staffed receiver is held and reported."""
    result = settle_vacancies(
        [100.0, 200.0],
        ["A", "B"],
        [True, True],
        "redistribute",
        {"A": [1], "B": [0]},
        [1.0, 1.0],
    )
    np.testing.assert_allclose(result.held, [100, 200])
    assert "vacant territory A has no staffed territory" in result.notes[0]


def test_redistribute_unknown_capacity_is_unlimited() -> None:
    """NaN capacity means no headroom limit for that receiver."""
    added, rest = redistribute(90.0, [1.0, 2.0], [math.inf, 10.0])
    np.testing.assert_allclose(added, [80.0, 10.0])
    assert rest == 0.0


# --- Q7 reconciliation --------------------------------------------------------


def test_reconcile_with_capacity_shortfall() -> None:
    """T_street 3.63 M on capacity 2.5 M: stretch 1.452, ceil(1.13 / 0.8333) = 2."""
    report = reconcile(3_630_000, 3_300_000, [1e6, 1e6, 0.5e6])

    assert report["gap_td_bu"] == pytest.approx(330_000)
    assert report["capacity_total"] == 2_500_000
    assert report["stretch_vs_capacity"] == pytest.approx(1.452)
    assert report["implied_extra_reps"] == 2


def test_reconcile_without_capacity() -> None:
    """Unknown capacity leaves the capacity figures empty."""
    report = reconcile(100.0, None, None)
    assert report["capacity_total"] is None and report["gap_td_bu"] is None
    assert report["top_down_total"] == 100.0


def test_reconcile_within_capacity_needs_no_reps() -> None:
    """A target below capacity implies no extra reps."""
    assert reconcile(90.0, 80.0, [50.0, 50.0])["implied_extra_reps"] == 0
