"""Tests of territory_opt.quota.ramp: Q5 monthly effective quotas."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from territory_opt.quota.ramp import fiscal_months, monthly_quota, ramp_profile

FLAT = [1 / 12] * 12
SCHEDULE = (0.25, 0.5, 0.75, 1.0)


def test_domain_q5_mid_march_start() -> None:
    """DOMAIN 6.3 Q5: 1.2 M flat, start 2026-03-16, daily → Q_eff = 837,903.23.

    March: 100,000 × 0.25 × 16/31 = 12,903.23; April 50,000; May 75,000; June to
    December 7 × 100,000.
    """
    profile = ramp_profile(
        2026, start_date=date(2026, 3, 16), schedule=SCHEDULE, proration="daily"
    )
    months = monthly_quota(1_200_000, FLAT, profile)

    assert round(months[2], 2) == 12_903.23
    np.testing.assert_allclose(months[:2], [0.0, 0.0])
    np.testing.assert_allclose(months[3:5], [50_000, 75_000])
    np.testing.assert_allclose(months[5:], [100_000] * 7)
    assert round(months.sum(), 2) == 837_903.23


def test_no_proration_counts_the_start_month_in_full() -> None:
    """proration none: March is 100,000 × 0.25 = 25,000, total 850,000."""
    profile = ramp_profile(
        2026, start_date=date(2026, 3, 16), schedule=SCHEDULE, proration="none"
    )
    months = monthly_quota(1_200_000, FLAT, profile)
    assert months[2] == pytest.approx(25_000)
    assert months.sum() == pytest.approx(850_000)


def test_leaver_is_prorated_to_the_end_date() -> None:
    """A tenured rep leaving 2026-06-15: 5 × 100,000 + 15/30 × 100,000 = 550,000."""
    profile = ramp_profile(2026, end_date=date(2026, 6, 15), schedule=SCHEDULE)
    months = monthly_quota(1_200_000, FLAT, profile)
    assert months.sum() == pytest.approx(550_000)
    assert profile.employed_fraction == pytest.approx(5.5 / 12)


def test_recent_hire_continues_the_ramp_into_the_year() -> None:
    """Hired 2025-11-10: January is tenure month 3 (0.75), February on is 1.0.

    75,000 + 11 × 100,000 = 1,175,000.
    """
    profile = ramp_profile(2026, start_date=date(2025, 11, 10), schedule=SCHEDULE)
    np.testing.assert_allclose(profile.ramp[:2], [0.75, 1.0])
    assert monthly_quota(1_200_000, FLAT, profile).sum() == pytest.approx(1_175_000)


def test_hire_older_than_the_window_gets_no_ramp() -> None:
    """52 days before the year with a 30-day window: no ramp, full 1.2 M."""
    profile = ramp_profile(
        2026,
        start_date=date(2025, 11, 10),
        schedule=SCHEDULE,
        applies_if_hired_within_days=30,
    )
    assert monthly_quota(1_200_000, FLAT, profile).sum() == pytest.approx(1_200_000)


def test_start_after_the_year_gives_nothing() -> None:
    """A start in 2027 leaves every month of FY 2026 at 0."""
    profile = ramp_profile(2026, start_date=date(2027, 2, 1), schedule=SCHEDULE)
    assert monthly_quota(1_200_000, FLAT, profile).sum() == 0.0
    assert profile.ramp_fte == 0.0


def test_seasonality_shapes_the_months() -> None:
    """A full-year rep gets Q × σ_m: December 13 % of 1 M is 130,000."""
    sigma = [0.07, 0.07, 0.09, 0.07, 0.08, 0.09, 0.07, 0.07, 0.09, 0.08, 0.09, 0.13]
    months = monthly_quota(1_000_000, sigma, ramp_profile(2026))
    assert months[11] == pytest.approx(130_000)
    assert months.sum() == pytest.approx(1_000_000)


def test_ramp_fte_is_the_mean_factor() -> None:
    """The mid-March hire works 16/31 × 0.25 + 0.5 + 0.75 + 7 of 12 months."""
    profile = ramp_profile(2026, start_date=date(2026, 3, 16), schedule=SCHEDULE)
    expected = (0.25 * 16 / 31 + 0.5 + 0.75 + 7) / 12
    assert profile.ramp_fte == pytest.approx(expected)


def test_fiscal_year_starting_in_april() -> None:
    """FY 2026 from April runs April 2026 to March 2027."""
    months = fiscal_months(2026, 4)
    assert months[0] == date(2026, 4, 1)
    assert months[-1] == date(2027, 3, 1)


def test_leap_february_is_prorated_over_29_days() -> None:
    """A 2028-02-15 start works 15 of 29 February days."""
    profile = ramp_profile(2028, start_date=date(2028, 2, 15))
    assert profile.employed[1] == pytest.approx(15 / 29)
