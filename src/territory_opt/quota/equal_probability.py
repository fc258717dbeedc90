"""Equal-probability quotas (docs/quota.md, Equal-probability quotas).

Annual sales of territory ``i`` are lognormal with mean ``μ_i`` and coefficient of
variation ``cv_i``:

- ``s_i² = ln(1 + cv_i²)`` and ``median_i = μ_i / sqrt(1 + cv_i²)``;
- ``P(S_i ≥ Q_i) = 1 − Φ((ln Q_i − ln median_i) / s_i)``;
- the quota reached with probability π is ``Q_i(π) = median_i exp(s_i Φ⁻¹(1 − π))``.

When π is not given it is solved so that ``Σ Q_i(π) = T_street``. The sum falls as
π rises, so the solve is a bisection; it runs on ``z = Φ⁻¹(1 − π)``, where the sum
is increasing and smooth, and converts back at the end. Φ is
:class:`statistics.NormalDist`.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

__all__ = [
    "EqualProbabilityQuotas",
    "attainment_probability",
    "lognormal_parameters",
    "quota_for_probability",
    "solve_equal_probability",
]

FloatArray = npt.NDArray[np.float64]

_STANDARD_NORMAL = NormalDist()
# |z| beyond this is a probability below 1e-300: the bracket of the solve.
_Z_LIMIT = 37.0
_BISECTIONS = 200


def _normal_cdf(z: FloatArray) -> FloatArray:
    """Φ of every entry (standard normal distribution function)."""
    values = [_STANDARD_NORMAL.cdf(float(v)) for v in np.ravel(z)]
    return np.asarray(values, dtype=np.float64).reshape(np.shape(z))


def lognormal_parameters(
    mean: npt.ArrayLike, cv: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Median and log-standard deviation of lognormals with the given mean and cv.

    Parameters
    ----------
    mean
        Expected sales μ per territory, in currency (at least 0).
    cv
        Coefficient of variation per territory (above 0), or one value for all.

    Returns
    -------
    tuple
        ``median_i = μ_i / sqrt(1 + cv_i²)`` in currency and
        ``s_i = sqrt(ln(1 + cv_i²))``, unitless.
    """
    mu = np.asarray(mean, dtype=np.float64)
    c = np.broadcast_to(np.asarray(cv, dtype=np.float64), mu.shape)
    spread = 1.0 + c**2
    return mu / np.sqrt(spread), np.sqrt(np.log(spread))


def attainment_probability(
    quota: npt.ArrayLike, mean: npt.ArrayLike, cv: npt.ArrayLike
) -> FloatArray:
    """``P(S_i ≥ Q_i)`` under the lognormal model.

    Parameters
    ----------
    quota
        Quota per territory, in currency.
    mean
        Expected sales μ per territory, in the same currency.
    cv
        Coefficient of variation of sales.

    Returns
    -------
    numpy.ndarray
        Probabilities between 0 and 1. A zero quota is reached for sure; zero
        expected sales never reach a positive quota.
    """
    q = np.asarray(quota, dtype=np.float64)
    median, sigma = lognormal_parameters(mean, cv)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (np.log(q) - np.log(median)) / sigma
    z = np.where(q <= 0.0, -np.inf, np.where(median <= 0.0, np.inf, z))
    # Φ(−z) rather than 1 − Φ(z): keeps small probabilities exact in the tail.
    return _normal_cdf(-z)


def quota_for_probability(
    probability: float, mean: npt.ArrayLike, cv: npt.ArrayLike
) -> FloatArray:
    """``Q_i(π) = median_i exp(s_i Φ⁻¹(1 − π))``.

    Parameters
    ----------
    probability
        π, the chance of reaching quota, strictly between 0 and 1.
    mean
        Expected sales μ per territory, in currency.
    cv
        Coefficient of variation of sales.

    Returns
    -------
    numpy.ndarray
        Quotas in currency.
    """
    if not 0.0 < probability < 1.0:
        raise ValueError(
            f"probability must lie strictly between 0 and 1; got {probability!r}"
        )
    median, sigma = lognormal_parameters(mean, cv)
    return median * np.exp(sigma * _STANDARD_NORMAL.inv_cdf(1.0 - probability))


@dataclass(frozen=True)
class EqualProbabilityQuotas:
    """Quotas that every territory reaches with the same ``probability`` π."""

    quotas: FloatArray
    probability: float


def solve_equal_probability(
    mean: npt.ArrayLike,
    cv: npt.ArrayLike,
    total: float,
    probability: float | None = None,
) -> EqualProbabilityQuotas:
    """Quotas with one common probability of attainment.

    Parameters
    ----------
    mean
        Expected sales μ per territory, in currency; at least one must be positive.
    cv
        Coefficient of variation of sales per territory, or one for all.
    total
        The street target the quotas add up to when ``probability`` is None.
    probability
        A fixed π; then the quotas are ``Q_i(π)`` and need not add up to ``total``.

    Returns
    -------
    EqualProbabilityQuotas
        The quotas and π.

    Raises
    ------
    ValueError
        If no territory has positive expected sales, or ``total`` is not positive.
    """
    median, sigma = lognormal_parameters(mean, cv)
    if not (median > 0.0).any():
        raise ValueError(
            "equal-probability quotas need positive expected sales in at least one "
            "territory; every mean is 0"
        )
    if probability is not None:
        return EqualProbabilityQuotas(
            quota_for_probability(probability, mean, cv), float(probability)
        )
    if not total > 0.0:
        raise ValueError(f"total must be positive; got {total!r}")

    log_median = np.log(np.where(median > 0.0, median, 1.0))
    positive = median > 0.0

    def quota_sum(z: float) -> float:
        return float(np.exp(log_median[positive] + sigma[positive] * z).sum())

    lo, hi = -_Z_LIMIT, _Z_LIMIT
    for _ in range(_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if quota_sum(mid) < total:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-15 * max(1.0, abs(mid)):
            break
    z = 0.5 * (lo + hi)
    quotas = np.where(positive, np.exp(log_median + sigma * z), 0.0)
    # Remove the last float residue so the quotas add up to the total exactly.
    quotas *= total / float(quotas.sum())
    return EqualProbabilityQuotas(quotas, _STANDARD_NORMAL.cdf(-z))
