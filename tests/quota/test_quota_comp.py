"""Tests of territory_opt.quota.comp: TI, curves, tiers, cliffs, earnings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from territory_opt.quota.comp import (
    MarginalCurve,
    RetroactiveTiers,
    base_commission_rate,
    curve_warnings,
    earnings,
    pay_mix,
    payout_from_spec,
    quarterly_incentive,
    target_incentive,
)
from territory_opt.quota.spec import CompPlanSpec

DOMAIN_POINTS = [
    [0.0, 0.0],
    [0.5, 0.0],
    [0.5, 0.25],
    [1.0, 1.0],
    [1.5, 2.0],
    [2.0, 2.5],
]
DOMAIN_TIERS = [[0.0, 0.0], [0.8, 0.8], [1.0, 1.0], [1.2, 1.25], [1.21, 1.5]]


def _plan(curve: dict, **extra) -> CompPlanSpec:
    return CompPlanSpec.model_validate({"id": "AE", "curve": curve, **extra})


AE = _plan({"points": DOMAIN_POINTS, "cap": 2.5})
AE_STEPS = _plan({"semantics": "retroactive", "tiers": DOMAIN_TIERS})


def test_target_incentive_from_base_or_mix() -> None:
    """OTE 200k, base 100k → TI 100k; OTE 200k at 40 % base → TI 120k."""
    assert target_incentive(200_000, base=100_000) == 100_000
    assert target_incentive(200_000, pay_mix_base=0.4) == pytest.approx(120_000)
    with pytest.raises(ValueError, match="needs a base or a pay_mix_base"):
        target_incentive(200_000)


def test_bcr_and_pay_mix() -> None:
    """TI 100k on Q_eff 1.25 M: BCR 0.08; base 100k of OTE 200k: mix 0.5."""
    assert base_commission_rate(100_000, 1_250_000) == pytest.approx(0.08)
    assert math.isnan(base_commission_rate(100_000, 0.0))
    assert pay_mix(100_000, 200_000) == 0.5


def test_domain_curve_values() -> None:
    """DOMAIN 6.5: f at 0.4 … 2.2 is 0, 0.25, 0.70, 1.0, 1.4, 2.0, 2.3, 2.5 (capped).

    f(0.8) = 0.25 + 0.3 × 1.5; f(1.2) = 1 + 0.2 × 2; f(1.8) = 2 + 0.3 × 1;
    f(2.2) = 2.5 + 0.2 × 1 = 2.7, capped at 2.5.
    """
    f = payout_from_spec(AE.curve)
    a = [0.4, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8, 2.2]
    np.testing.assert_allclose(
        f(a), [0.0, 0.25, 0.70, 1.0, 1.4, 2.0, 2.3, 2.5], atol=1e-12
    )


def test_curve_jump_is_right_continuous() -> None:
    """Just below 0.5 the curve pays 0; at 0.5 the later point (0.25) applies."""
    f = payout_from_spec(AE.curve)
    assert f(0.5 - 1e-12) == pytest.approx(0.0)
    assert f(0.5) == 0.25


def test_curve_below_first_point_uses_first_payout() -> None:
    """Attainment below the first x pays the first y."""
    f = MarginalCurve(np.array([0.5, 1.0]), np.array([0.2, 1.0]))
    assert f(0.1) == pytest.approx(0.2)


def test_uncapped_curve_extends_last_slope() -> None:
    """Without a cap f(2.2) = 2.5 + 0.2 × 1 = 2.7."""
    f = payout_from_spec(_plan({"points": DOMAIN_POINTS}).curve)
    assert f(2.2) == pytest.approx(2.7)


def test_curve_ending_in_a_jump_extends_the_last_real_slope() -> None:
    """Points [0,0], [1,1], [1,1.5]: beyond 1 the slope of [0, 1] (1) extends."""
    f = MarginalCurve(np.array([0.0, 1.0, 1.0]), np.array([0.0, 1.0, 1.5]))
    assert f(1.2) == pytest.approx(1.7)


def test_domain_curve_segments() -> None:
    """Slopes 0 (decelerator), a jump of 0.25 at 0.5, 1.5 and 2 (accelerators), 1
    (neutral), then flat from 2.0 where the cap of 2.5 binds."""
    kinds = [(s.start, s.end, s.kind) for s in payout_from_spec(AE.curve).segments()]
    assert kinds == [
        (0.0, 0.5, "decelerator"),
        (0.5, 0.5, "jump"),
        (0.5, 1.0, "accelerator"),
        (1.0, 1.5, "accelerator"),
        (1.5, 2.0, "neutral"),
        (2.0, math.inf, "capped"),
    ]


def test_thresholds() -> None:
    """The domain curve pays from 0.5, the tiers from 0.8, a ramp from 0 above 0."""
    assert payout_from_spec(AE.curve).threshold == 0.5
    assert payout_from_spec(AE_STEPS.curve).threshold == 0.8
    assert MarginalCurve(np.array([0.0, 1.0]), np.array([0.0, 1.0])).threshold == 0.0


def test_retroactive_tiers() -> None:
    """mult at [0.79, 0.8, 1.0, 1.2, 1.21, 1.5] is [0, 0.8, 1, 1.25, 1.5, 1.5].

    Incentive = BCR × S × mult: TI 100k on Q 1 M (BCR 0.1) at S = 1.2 M pays
    0.1 × 1.2 M × 1.25 = 150,000 = TI × 1.2 × 1.25.
    """
    tiers = payout_from_spec(AE_STEPS.curve)
    assert isinstance(tiers, RetroactiveTiers)
    a = np.array([0.79, 0.8, 1.0, 1.2, 1.21, 1.5])
    np.testing.assert_allclose(tiers.multiplier(a), [0, 0.8, 1.0, 1.25, 1.5, 1.5])
    np.testing.assert_allclose(tiers(a), a * [0, 0.8, 1.0, 1.25, 1.5, 1.5])
    assert 100_000 * tiers(1.2) == pytest.approx(0.1 * 1_200_000 * 1.25)


def test_tier_cliffs_are_reported() -> None:
    """Jumps of a × Δmult: 0.64 at 0.8, 0.2 at 1.0, 0.3 at 1.2, 0.3025 at 1.21."""
    warnings = curve_warnings(AE_STEPS)
    assert len(warnings) == 4
    assert warnings[0] == (
        "comp plan AE: payout jumps by 0.64 × TI at attainment 0.8, above the cliff "
        "limit of 0.05 × TI; a rep just below it gains that much from one more deal"
    )
    assert "0.3025 × TI at attainment 1.21" in warnings[3]


def test_cliff_limit_is_configurable() -> None:
    """With cliff_warn 0.25 only the jumps of 0.64, 0.3 and 0.3025 remain."""
    plan = _plan({"semantics": "retroactive", "tiers": DOMAIN_TIERS}, cliff_warn=0.25)
    assert len(curve_warnings(plan)) == 3


def test_marginal_threshold_jump_is_a_cliff() -> None:
    """The domain curve's 0.25 jump at 50 % exceeds 0.05 × TI; at 0.3 it does not."""
    assert curve_warnings(AE) == [
        "comp plan AE: payout jumps by 0.25 × TI at attainment 0.5, above the cliff "
        "limit of 0.05 × TI; a rep just below it gains that much from one more deal"
    ]
    assert curve_warnings(_plan({"points": DOMAIN_POINTS}, cliff_warn=0.3)) == []


def test_curve_not_paying_ti_at_quota_is_reported() -> None:
    """f(1) = 0.9 is flagged."""
    plan = _plan({"points": [[0, 0], [1, 0.9], [2, 2]]})
    assert curve_warnings(plan) == [
        "comp plan AE: the curve pays 0.9 × TI at 100 % attainment; a standard plan "
        "pays exactly 1 × TI at quota"
    ]


def test_quarterly_incentive() -> None:
    """TI 100k, quarterly quota 250k, sales [250k, 375k, 125k, 0]:
    f = [1, 2, 0.25, 0] → 25,000 × 3.25 = 81,250."""
    f = payout_from_spec(AE.curve)
    paid = quarterly_incentive(
        [100_000], [[250_000, 375_000, 125_000, 0]], [[250_000] * 4], f
    )
    assert paid[0] == pytest.approx(81_250)


def test_quarter_without_quota_pays_nothing() -> None:
    """A rep not yet employed in Q1 earns nothing for it: 3 × 25,000."""
    f = payout_from_spec(AE.curve)
    paid = quarterly_incentive(
        [100_000],
        [[10_000, 250_000, 250_000, 250_000]],
        [[0, 250_000, 250_000, 250_000]],
        f,
    )
    assert paid[0] == pytest.approx(75_000)


def test_earnings_prorate_base() -> None:
    """Base 100k for half a year plus 30k incentive: 80k."""
    assert earnings([100_000], [0.5], [30_000])[0] == pytest.approx(80_000)


@given(
    steps=st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=0.5),
            st.floats(min_value=0.0, max_value=1.0),
        ),
        min_size=1,
        max_size=8,
    ),
    cap=st.one_of(st.none(), st.floats(min_value=0.0, max_value=5.0)),
    a=st.lists(st.floats(min_value=0.0, max_value=4.0), min_size=2, max_size=30),
)
def test_marginal_curve_is_non_decreasing(steps, cap, a):
    """Any valid curve (x and payout never falling) gives a non-decreasing f."""
    x = np.cumsum([0.0] + [dx for dx, _ in steps])
    y = np.cumsum([0.0] + [dy for _, dy in steps])
    curve = _plan({"points": np.column_stack([x, y]).tolist(), "cap": cap}).curve
    f = payout_from_spec(curve)
    attainment = np.sort(np.array(a))
    values = f(attainment)
    assert (np.diff(values) >= -1e-12).all()
