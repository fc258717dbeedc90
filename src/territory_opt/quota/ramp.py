"""Q5: monthly effective quota with seasonality, ramp and proration.

For fiscal month ``m = 1..12`` and a full annual quota ``Q_i``:
``Q_{i,m} = Q_i × σ_m × ramp_i(m) × e_i(m)``, where

- ``σ_m`` is the seasonality share of month m (twelve shares summing to 1);
- ``ramp_i(m) = schedule[k − 1]`` with ``k`` the tenure month (the start month is
  ``k = 1``), capped at the length of the schedule so the last factor persists; a
  rep who started more than ``applies_if_hired_within_days`` before the fiscal year
  gets 1 throughout;
- ``e_i(m)`` is the share of the month's days the rep is employed, counting the
  start and end dates inclusively (``daily`` proration), or 1 for any month with an
  employed day (``none``).

The effective quota ``Q_i^eff = Σ_m Q_{i,m}`` is what attainment is measured
against. Everything here is pure and works on dates and small arrays.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

__all__ = [
    "RampProfile",
    "fiscal_months",
    "monthly_quota",
    "ramp_profile",
]

FloatArray = npt.NDArray[np.float64]


def fiscal_months(fiscal_year: int, start_month: int = 1) -> tuple[date, ...]:
    """First day of each of the twelve fiscal months.

    Parameters
    ----------
    fiscal_year
        Calendar year in which the fiscal year starts.
    start_month
        Calendar month of fiscal month 1 (default 1, January).

    Returns
    -------
    tuple of datetime.date
        Twelve dates, fiscal month 1 first.
    """
    months = []
    for offset in range(12):
        index = start_month - 1 + offset
        months.append(date(fiscal_year + index // 12, index % 12 + 1, 1))
    return tuple(months)


@dataclass(frozen=True)
class RampProfile:
    """Ramp factor and employed share of each fiscal month for one rep.

    ``ramp`` is 0 for months before the start; ``employed`` is ``e(m)``.
    """

    ramp: FloatArray
    employed: FloatArray

    @property
    def factor(self) -> FloatArray:
        """``ramp(m) × e(m)`` per month."""
        return self.ramp * self.employed

    @property
    def ramp_fte(self) -> float:
        """Mean of ``ramp(m) × e(m)`` over the twelve months (1.0 for a full year)."""
        return float(self.factor.mean())

    @property
    def employed_fraction(self) -> float:
        """Mean of ``e(m)`` over the twelve months (1.0 for a full year)."""
        return float(self.employed.mean())


def ramp_profile(
    fiscal_year: int,
    *,
    start_date: date | None = None,
    end_date: date | None = None,
    schedule: Sequence[float] = (1.0,),
    proration: str = "daily",
    applies_if_hired_within_days: int = 365,
    start_month: int = 1,
) -> RampProfile:
    """Ramp factors and employed shares of a rep over the fiscal year.

    Parameters
    ----------
    fiscal_year
        Calendar year in which the fiscal year starts.
    start_date
        First day employed; None means employed since before the fiscal year.
    end_date
        Last day employed; None means staying past the fiscal year.
    schedule
        Ramp factor for tenure month 1, 2, ...; the last one persists. Default no
        ramp.
    proration
        ``daily`` (default) or ``none``.
    applies_if_hired_within_days
        Reps who started longer ago than this before the fiscal year get no ramp;
        default 365 days.
    start_month
        Calendar month of fiscal month 1; default 1.

    Returns
    -------
    RampProfile
        Twelve ramp factors and twelve employed shares.
    """
    months = fiscal_months(fiscal_year, start_month)
    fiscal_start = months[0]
    ramp = np.ones(12)
    employed = np.ones(12)
    if start_date is None and end_date is None:
        return RampProfile(ramp, employed)

    ramps = start_date is not None and (
        (fiscal_start - start_date).days <= applies_if_hired_within_days
    )
    for m, first in enumerate(months):
        days = calendar.monthrange(first.year, first.month)[1]
        last = first + timedelta(days=days - 1)
        begin = max(first, start_date) if start_date else first
        finish = min(last, end_date) if end_date else last
        worked = max((finish - begin).days + 1, 0)
        if proration == "daily":
            employed[m] = worked / days
        else:
            employed[m] = 1.0 if worked > 0 else 0.0

        if start_date is not None and ramps:
            tenure = (first.year - start_date.year) * 12 + first.month
            tenure -= start_date.month - 1
            if tenure < 1:
                ramp[m] = 0.0
            else:
                ramp[m] = schedule[min(tenure, len(schedule)) - 1]
    return RampProfile(ramp, employed)


def monthly_quota(
    full_quota: float, seasonality: Sequence[float], profile: RampProfile
) -> FloatArray:
    """``Q_{i,m} = Q_i σ_m ramp_i(m) e_i(m)`` for the twelve fiscal months.

    Parameters
    ----------
    full_quota
        The full annual quota, in currency.
    seasonality
        Twelve monthly shares summing to 1.
    profile
        The rep's ramp profile.

    Returns
    -------
    numpy.ndarray
        Twelve monthly quotas in currency; their sum is the effective quota.
    """
    sigma = np.asarray(seasonality, dtype=np.float64)
    return full_quota * sigma * profile.factor
