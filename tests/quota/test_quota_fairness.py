"""Tests of territory_opt.quota.fairness on a three-rep example worked by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from territory_opt.quota.fairness import (
    fairness_warnings,
    json_ready,
    luck_decomposition,
    ols_slope,
    pay_fairness,
    pearson,
    quota_fairness,
    skill_share,
    spearman,
)
from territory_opt.quota.spec import FairnessSpec

# Three reps: quota Q, potential P, expected sales μ, prior sales H, p_attain.
Q = [100.0, 200.0, 300.0]
P = [100.0, 250.0, 300.0]
MU = [110.0, 200.0, 270.0]  # expected attainment μ/Q = [1.1, 1.0, 0.9]
H = [90.0, 210.0, 280.0]
P_ATTAIN = [0.6, 0.5, 0.4]


def test_three_rep_quota_fairness() -> None:
    """Worked by hand.

    Q/P = [1.0, 0.8, 1.0]: mean 0.9333, std sqrt(0.02667 / 3) = 0.094281,
    cv 0.101015, max/min 1.25. μ/Q = [1.1, 1.0, 0.9]: cv sqrt(0.02/3) = 0.081650.
    p_attain spread 0.2, std 0.081650. Against P (mean 216.67): Σ da dP = −20,
    Σ da² = 0.02, Σ dP² = 21,666.67 → r = −20 / sqrt(433.33) = −0.960769; ranks are
    reversed → Spearman −1. Against H (mean 193.33): Σ da dH = −19,
    Σ dH² = 18,466.67 → r = −19 / 19.218 = −0.988654. size_slope (x = ln P):
    Σ dx da = −0.1 ln 3 = −0.109861 over Σ dx² = 0.693257 → −0.158471.
    """
    result = quota_fairness(Q, P, MU, H, P_ATTAIN)

    assert round(result["quota_to_potential_cv"], 6) == 0.101015
    assert result["quota_to_potential_max_min"] == pytest.approx(1.25)
    assert round(result["expected_attainment_cv"], 6) == 0.081650
    assert result["p_attain_spread"] == pytest.approx(0.2)
    assert round(result["p_attain_std"], 6) == 0.081650
    assert round(result["corr_pearson_potential"], 6) == -0.960769
    assert result["corr_spearman_potential"] == pytest.approx(-1.0)
    assert round(result["corr_pearson_prior_sales"], 6) == -0.988654
    assert result["corr_spearman_prior_sales"] == pytest.approx(-1.0)
    assert round(result["size_slope"], 6) == -0.158471


def test_missing_prior_sales_are_left_out() -> None:
    """With H missing for one rep the correlation runs on the other two."""
    result = quota_fairness(Q, P, MU, [90.0, math.nan, 280.0])
    assert result["corr_pearson_prior_sales"] == pytest.approx(-1.0)
    assert math.isnan(result["p_attain_spread"])


def test_pay_fairness_of_domain_vectors() -> None:
    """Incentive [50, 100, 150, 200]: Gini 0.25 (DOMAIN 6.7), cv 55.9017 / 125;
    equal earnings: Gini 0."""
    result = pay_fairness([50, 100, 150, 200], [200, 200, 200, 200])
    assert result["expected_incentive_gini"] == pytest.approx(0.25)
    assert result["expected_incentive_cv"] == pytest.approx(math.sqrt(3125) / 125)
    assert result["expected_earnings_gini"] == 0.0


def test_territory_luck_share() -> None:
    """m = [0.9, 1.0, 1.1], var = [0.04, 0.09, 0.16]: V_between = 0.02/3,
    V_within = 0.29/3, territory share = 0.02 / 0.31 = 2/31."""
    luck = luck_decomposition([0.9, 1.0, 1.1], [0.04, 0.09, 0.16])
    assert luck["v_between"] == pytest.approx(0.02 / 3)
    assert luck["v_within"] == pytest.approx(0.29 / 3)
    assert luck["territory_share"] == pytest.approx(2 / 31)


def test_skill_share() -> None:
    """With skill m = [0.8, 1.0, 1.2]: V_between 0.08/3, total 0.37/3;
    skill share (0.08 − 0.02) / 0.37 = 6/37."""
    equal = luck_decomposition([0.9, 1.0, 1.1], [0.04, 0.09, 0.16])
    own = luck_decomposition([0.8, 1.0, 1.2], [0.04, 0.09, 0.16])
    assert skill_share(own, equal) == pytest.approx(6 / 37)


def test_correlation_helpers_on_edge_cases() -> None:
    """Constant input has no correlation; ties share ranks; slope of a line."""
    assert math.isnan(pearson([1, 1, 1], [1, 2, 3]))
    assert spearman([1, 2, 2, 3], [1, 2, 2, 3]) == pytest.approx(1.0)
    assert ols_slope([1, 3, 5], [0, 1, 2]) == pytest.approx(2.0)
    assert math.isnan(ols_slope([1], [2]))


def test_fairness_warnings_quote_the_figures() -> None:
    """Both correlations break ±0.2; share at quota and threshold miss their
    benchmarks; a spread of exactly 0.2 and 10 % excellence pass."""
    fairness = quota_fairness(Q, P, MU, H, P_ATTAIN)
    simulation = {
        "share_at_quota_mean": 0.45,
        "share_below_threshold": 0.12,
        "share_above_excellence": 0.10,
    }
    warnings = fairness_warnings(fairness, simulation, FairnessSpec())

    assert warnings == [
        "expected attainment correlates with potential (Pearson -0.961, Spearman "
        "-1.000; limit ±0.2): territories with smaller potential get relatively "
        "easier quotas",
        "expected attainment correlates with prior sales (Pearson -0.989, Spearman "
        "-1.000; limit ±0.2): territories with smaller prior sales get relatively "
        "easier quotas",
        "on average 45.0% of reps reach quota in a simulated year; the benchmark "
        "range is 50.0% to 70.0%",
        "12.0% of rep-years end below the plan threshold; the benchmark is at most "
        "10.0%",
    ]


def test_spread_warning() -> None:
    """A spread above the limit names the lowest and highest chance."""
    fairness = quota_fairness(Q, P, MU, H, [0.7, 0.5, 0.3])
    warnings = fairness_warnings(fairness, None, FairnessSpec(max_abs_correlation=1))
    assert warnings == [
        "the chance of reaching quota ranges from 30.0% to 70.0% across reps "
        "(spread 0.400, limit 0.2)"
    ]


def test_json_ready_replaces_nan_and_numpy() -> None:
    """NaN and infinity become None; numpy numbers become Python numbers."""
    ready = json_ready({"a": np.float64(1.5), "b": math.nan, "c": [np.inf, 2]})
    assert ready == {"a": 1.5, "b": None, "c": [None, 2]}
    json.dumps(ready, allow_nan=False)


@given(
    scale=st.floats(min_value=1e-3, max_value=1e6),
    values=st.lists(st.floats(min_value=1.0, max_value=1e4), min_size=3, max_size=10),
)
def test_fairness_does_not_change_with_money_scale(scale, values):
    """Scaling Q, P, μ and H by one constant leaves every figure unchanged."""
    v = np.array(values)
    # Near-constant inputs make correlations a matter of rounding noise.
    assume(v.max() > 1.5 * v.min())
    q, p, mu, h = v, v[::-1] + 1, np.sqrt(v) * 10, v * 0.5 + 3
    base = quota_fairness(q, p, mu, h)
    scaled = quota_fairness(q * scale, p * scale, mu * scale, h * scale)
    for key, value in base.items():
        if math.isnan(value):
            assert math.isnan(scaled[key])
        else:
            assert scaled[key] == pytest.approx(value, rel=1e-7, abs=1e-9)
