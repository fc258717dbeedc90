"""Tests of territory_opt.quota.bounds: Q3 bounds with λ and Q4 rounding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from territory_opt.quota.bounds import (
    apply_bounds,
    clamp_bounds,
    quota_bounds,
    round_quotas,
)

RAW = np.array([1_379_400.0, 1_125_300.0, 762_300.0, 363_000.0])
PRIOR_QUOTA = np.array([1.1e6, 1.1e6, 0.6e6, 0.4e6])
IDS = ["T01", "T02", "T03", "T04"]


def test_domain_bounds_from_prior_quota() -> None:
    """yoy [-10 %, +25 %] on [1.1, 1.1, 0.6, 0.4] M."""
    lower, upper = quota_bounds(PRIOR_QUOTA, -0.10, 0.25, None, None)
    np.testing.assert_allclose(lower, [990_000, 990_000, 540_000, 360_000])
    np.testing.assert_allclose(upper, [1_375_000, 1_375_000, 750_000, 500_000])


def test_domain_q3_lambda_and_quotas() -> None:
    """DOMAIN 6.3 Q3: λ* ≈ 1.011221, Q = [1,375,000; 1,137,927; 750,000; 367,073].

    T01 and T03 sit at their caps (1,375,000 + 750,000); the rest share
    3,630,000 − 2,125,000 = 1,505,000 over raw 1,488,300, so λ = 1.0112208...
    """
    lower, upper = quota_bounds(PRIOR_QUOTA, -0.10, 0.25, None, None)
    result = apply_bounds(RAW, lower, upper, 3_630_000)

    assert result.scale == pytest.approx(1_505_000 / 1_488_300, rel=1e-12)
    assert round(result.scale, 6) == 1.011221
    np.testing.assert_allclose(
        np.round(result.quotas), [1_375_000, 1_137_927, 750_000, 367_073]
    )
    assert result.quotas.sum() == pytest.approx(3_630_000, abs=1e-6)
    assert result.bound_hit == ("cap", "none", "cap", "none")
    assert result.status == "ok"
    assert abs(result.residual) < 1e-6


def test_missing_basis_gets_only_absolute_bounds() -> None:
    """A new territory (no prior quota) keeps the absolute floor only."""
    lower, upper = quota_bounds([1.1e6, math.nan], -0.10, 0.25, 250_000, None)
    np.testing.assert_allclose(lower, [990_000, 250_000])
    assert upper[0] == 1_375_000 and math.isinf(upper[1])


def test_floors_above_target_are_over_floor() -> None:
    """Floors 80 + 80 exceed the target 150: both at their floor, residual −10."""
    result = apply_bounds([100.0, 100.0], [80.0, 80.0], [120.0, 120.0], 150.0)
    np.testing.assert_allclose(result.quotas, [80, 80])
    assert result.status == "over_floor"
    assert result.residual == pytest.approx(-10.0)
    assert result.bound_hit == ("floor", "floor")


def test_caps_below_target_are_under_cap() -> None:
    """Caps 120 + 120 cannot reach 300: both at their cap, residual 60."""
    result = apply_bounds([100.0, 100.0], [80.0, 80.0], [120.0, 120.0], 300.0)
    np.testing.assert_allclose(result.quotas, [120, 120])
    assert result.status == "under_cap"
    assert result.residual == pytest.approx(60.0)
    assert result.bound_hit == ("cap", "cap")


def test_floor_binds_and_others_scale_down() -> None:
    """Raw [10, 90] to 50 with floor 20 on the first: [20, 30]."""
    result = apply_bounds([10.0, 90.0], [20.0, 0.0], [math.inf, math.inf], 50.0)
    np.testing.assert_allclose(result.quotas, [20.0, 30.0])
    assert result.bound_hit == ("floor", "none")
    assert result.scale == pytest.approx(30 / 90)


def test_clamp_bounds_does_not_rescale() -> None:
    """Bottom-up quotas are clamped only; the residual is the gap to the target."""
    result = clamp_bounds([50.0, 200.0], [60.0, 0.0], [150.0, 150.0], 400.0)
    np.testing.assert_allclose(result.quotas, [60.0, 150.0])
    assert result.bound_hit == ("floor", "cap")
    assert result.residual == pytest.approx(190.0)


@given(
    raw=st.lists(st.floats(min_value=1.0, max_value=1e7), min_size=1, max_size=15),
    widths=st.lists(st.floats(min_value=0.0, max_value=0.6), min_size=15, max_size=15),
    target_share=st.floats(min_value=0.0, max_value=1.0),
)
def test_bounded_quotas_sum_to_target_when_bounds_allow(raw, widths, target_share):
    """Σ Q = T whenever Σ L ≤ T ≤ Σ U, and every quota stays in its bounds."""
    q = np.array(raw)
    w = np.array(widths[: q.size])
    lower, upper = q * (1 - w), q * (1 + w)
    target = lower.sum() + target_share * (upper.sum() - lower.sum())
    assume(target > 0)
    result = apply_bounds(q * 0.7, lower, upper, target)

    assert result.status == "ok"
    assert result.quotas.sum() == pytest.approx(target, rel=1e-9)
    assert (result.quotas >= lower * (1 - 1e-12)).all()
    assert (result.quotas <= upper * (1 + 1e-12)).all()


def _clamp_by_breakpoints(raw, lower, upper, target):
    """Independent Q3: Σ clamp(λ raw, L, U) is piecewise linear in λ with kinks at
    L_i / raw_i and U_i / raw_i; find the piece holding the target and interpolate."""
    kinks = np.unique(np.concatenate([[0.0], lower / raw, upper / raw]))

    def total(scale):
        return np.clip(scale * raw, lower, upper).sum()

    sums = np.array([total(k) for k in kinks])
    j = int(np.searchsorted(sums, target))
    if j == 0:
        return np.clip(0.0 * raw, lower, upper)
    lo, hi = kinks[j - 1], kinks[j]
    scale = lo + (target - sums[j - 1]) * (hi - lo) / (sums[j] - sums[j - 1])
    return np.clip(scale * raw, lower, upper)


@given(
    raw=st.lists(st.floats(min_value=1.0, max_value=1e6), min_size=1, max_size=10),
    floors=st.lists(st.floats(min_value=0.0, max_value=1.5), min_size=10, max_size=10),
    widths=st.lists(st.floats(min_value=0.0, max_value=1.5), min_size=10, max_size=10),
    target_share=st.floats(min_value=0.01, max_value=0.99),
)
def test_bounded_quotas_are_one_scale_then_clamp(raw, floors, widths, target_share):
    """The bisection gives the same quotas as solving the piecewise-linear total
    exactly at its kinks: one λ for all, then each quota clamped."""
    q = np.array(raw)
    lower = q * np.array(floors[: q.size])
    upper = lower + q * np.array(widths[: q.size])
    assume(upper.sum() > lower.sum() * (1 + 1e-6))
    target = lower.sum() + target_share * (upper.sum() - lower.sum())
    result = apply_bounds(q, lower, upper, target)

    expected = _clamp_by_breakpoints(q, lower, upper, target)
    np.testing.assert_allclose(result.quotas, expected, rtol=1e-9, atol=1e-6)


@given(
    raw=st.lists(st.floats(min_value=1.0, max_value=1e6), min_size=2, max_size=8),
    k=st.integers(min_value=0, max_value=7),
    bump=st.floats(min_value=0.01, max_value=2.0),
)
def test_quota_is_monotone_in_its_share(raw, k, bump):
    """Raising one territory's raw quota never lowers its bounded quota."""
    q = np.array(raw)
    k = k % q.size
    lower, upper = q * 0.8, q * 1.3
    target = q.sum()
    before = apply_bounds(q, lower, upper, target).quotas[k]
    q2 = q.copy()
    q2[k] *= 1 + bump
    after = apply_bounds(q2, lower, upper, target).quotas[k]
    assert after >= before * (1 - 1e-12)


# --- Q4 rounding --------------------------------------------------------------


def test_domain_q4_largest_remainder() -> None:
    """DOMAIN 6.3 Q4: [1,370,000; 1,140,000; 750,000; 370,000].

    Units of 10,000: 137.5, 113.79, 75.0, 36.71 → floors sum to 361 of 363; the two
    largest remainders (T02 0.79, T04 0.71) get one unit each.
    """
    quotas = np.array(
        [
            1_375_000.0,
            1_505_000 / 1_488_300 * 1_125_300,
            750_000.0,
            1_505_000 / 1_488_300 * 363_000,
        ]
    )
    lower, upper = quota_bounds(PRIOR_QUOTA, -0.10, 0.25, None, None)
    result = round_quotas(quotas, IDS, 10_000, lower=lower, upper=upper)

    np.testing.assert_array_equal(
        result.quotas, [1_370_000, 1_140_000, 750_000, 370_000]
    )
    assert result.quotas.sum() == 3_630_000
    assert result.violations == ()
    assert abs(result.residual) < 1e-6


def test_rounding_ties_go_to_the_lower_id() -> None:
    """Two remainders of 0.5 and one unit to give: territory 'A' wins over 'B'."""
    result = round_quotas([15.0, 15.0], ["B", "A"], 10.0)
    np.testing.assert_array_equal(result.quotas, [10.0, 20.0])


def test_rounding_without_total_preservation() -> None:
    """Each quota to its nearest unit, halves up: [1,000; 2,000; 3,000]."""
    result = round_quotas(
        [1_499.0, 1_500.0, 2_501.0], IDS[:3], 1_000, preserve_total=False
    )
    np.testing.assert_array_equal(result.quotas, [1_000, 2_000, 3_000])
    assert result.residual == pytest.approx(500.0)


def test_rounding_flags_bound_breaches_beyond_one_unit() -> None:
    """A quota 2,000 above its cap breaks it by more than the 1,000 unit."""
    result = round_quotas(
        [5_000.0, 5_000.0], ["A", "B"], 1_000, upper=[3_000, math.inf]
    )
    assert result.violations == (
        "territory A: quota 5,000 breaks its cap 3,000 by more than the rounding unit "
        "1,000",
    )


@given(
    quotas=st.lists(st.floats(min_value=0.0, max_value=1e7), min_size=1, max_size=20),
    unit=st.sampled_from([1.0, 100.0, 1_000.0, 10_000.0]),
)
def test_rounding_keeps_the_rounded_total(quotas, unit):
    """Σ rounded = round(Σ Q / u) u and each quota moves by less than one unit."""
    q = np.array(quotas)
    result = round_quotas(q, [f"T{i:02d}" for i in range(q.size)], unit)

    assert result.quotas.sum() == pytest.approx(
        math.floor(q.sum() / unit + 0.5) * unit, abs=1e-6 * unit
    )
    assert (np.abs(result.quotas - q) < unit * (1 + 1e-9)).all()


def test_bounds_equal_to_the_target_up_to_float_noise_are_feasible() -> None:
    """Regression: floors = caps = [0.1, 0.2, 0.3] add up to 0.6000000000000001, not
    0.6; that is a fixed point of the target, not infeasible floors."""
    result = apply_bounds([1.0, 1.0, 1.0], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3], 0.6)
    assert result.status == "ok"
    np.testing.assert_allclose(result.quotas, [0.1, 0.2, 0.3])


def test_caps_that_exactly_make_the_target_put_every_quota_at_its_cap() -> None:
    """Caps 60 + 80 = 140 and a target of 140: both at their cap, status ok."""
    result = apply_bounds([100.0, 100.0], [0.0, 0.0], [60.0, 80.0], 140.0)
    assert result.status == "ok"
    np.testing.assert_allclose(result.quotas, [60, 80])
    assert result.bound_hit == ("cap", "cap")
