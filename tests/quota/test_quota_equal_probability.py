"""Tests of territory_opt.quota.equal_probability: lognormal quotas of DOMAIN 6.4."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from territory_opt.quota.equal_probability import (
    attainment_probability,
    lognormal_parameters,
    quota_for_probability,
    solve_equal_probability,
)


def test_lognormal_parameters_of_cv_20_percent() -> None:
    """cv 0.2: s² = ln 1.04, median = μ / sqrt(1.04)."""
    median, sigma = lognormal_parameters([1_000_000.0], 0.2)
    assert median[0] == pytest.approx(1_000_000 / math.sqrt(1.04))
    assert sigma[0] == pytest.approx(math.sqrt(math.log(1.04)))


@pytest.mark.parametrize(
    ("mean_over_quota", "expected"),
    [(1.0, 0.4606), (1.1, 0.6489), (0.9, 0.2640)],
)
def test_domain_attainment_probabilities(mean_over_quota, expected) -> None:
    """DOMAIN 6.4 with cv 0.2: μ = Q → 0.4606, 1.1 Q → 0.6489, 0.9 Q → 0.2640.

    For μ = Q: z = (0.5 ln 1.04) / sqrt(ln 1.04) = 0.0990, 1 − Φ(0.0990) = 0.4606;
    below one half because the lognormal's mean sits above its median.
    """
    quota = 1_000_000.0
    probability = attainment_probability([quota], [mean_over_quota * quota], 0.2)
    assert round(float(probability[0]), 4) == expected


def test_quota_for_probability_inverts_the_probability() -> None:
    """Q(π) for π = P(S ≥ Q) gives back Q."""
    p = float(attainment_probability([800.0], [1000.0], 0.3)[0])
    assert quota_for_probability(p, [1000.0], 0.3)[0] == pytest.approx(800.0)


def test_zero_quota_and_zero_mean() -> None:
    """A zero quota is always reached; zero expected sales never reach a quota."""
    probability = attainment_probability([0.0, 10.0], [5.0, 0.0], 0.2)
    np.testing.assert_allclose(probability, [1.0, 0.0])


def test_solve_with_equal_cv_is_proportional() -> None:
    """μ = [1.1, 2.2, 3.3] M and total 6.6 M / 1.1: Q = [1, 2, 3] M, π = 0.6489."""
    result = solve_equal_probability([1.1e6, 2.2e6, 3.3e6], 0.2, 6.0e6)
    np.testing.assert_allclose(result.quotas, [1e6, 2e6, 3e6], rtol=1e-10)
    assert round(result.probability, 4) == 0.6489


def test_solve_with_different_cv_equalises_probability() -> None:
    """With cv 0.1 and 0.4 the quotas differ from μ but share one π."""
    mean, cv = [1e6, 1e6], [0.1, 0.4]
    result = solve_equal_probability(mean, cv, 1.9e6)
    chances = attainment_probability(result.quotas, mean, cv)

    assert result.quotas.sum() == pytest.approx(1.9e6)
    np.testing.assert_allclose(chances, [result.probability] * 2, atol=1e-9)


def test_fixed_probability_is_used_as_given() -> None:
    """target_probability 0.5 sets each quota to the median."""
    result = solve_equal_probability([1.04**0.5], 0.2, 123.0, probability=0.5)
    assert result.quotas[0] == pytest.approx(1.0)
    assert result.probability == 0.5


def test_no_positive_mean_is_refused() -> None:
    """Without any expected sales there is nothing to equalise."""
    with pytest.raises(ValueError, match="every mean is 0"):
        solve_equal_probability([0.0, 0.0], 0.2, 10.0)


@given(
    mean=st.lists(st.floats(min_value=1e3, max_value=1e7), min_size=1, max_size=10),
    cv=st.floats(min_value=0.05, max_value=1.0),
    ratio=st.floats(min_value=0.5, max_value=1.5),
)
def test_solved_quotas_add_up(mean, cv, ratio):
    """Σ Q(π) hits any positive total and π is a probability."""
    total = ratio * sum(mean)
    result = solve_equal_probability(mean, cv, total)
    assert result.quotas.sum() == pytest.approx(total, rel=1e-9)
    assert 0.0 <= result.probability <= 1.0
