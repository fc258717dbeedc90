"""Tests of territory_opt.quota.simulation: expected sales and the Monte Carlo."""

from __future__ import annotations

import math
import tracemalloc
from dataclasses import replace
from statistics import NormalDist

import numpy as np
import pytest

from territory_opt.quota.comp import MarginalCurve
from territory_opt.quota.equal_probability import attainment_probability
from territory_opt.quota.simulation import (
    RepInputs,
    chunk_draws,
    expected_sales,
    plan_groups,
    simulate,
)

LINEAR = MarginalCurve(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
DOMAIN_CURVE = MarginalCurve(
    np.array([0.0, 0.5, 0.5, 1.0, 1.5, 2.0]),
    np.array([0.0, 0.0, 0.25, 1.0, 2.0, 2.5]),
    2.5,
)


def _reps(mean, quota, cv=0.2, curve=LINEAR, planned=None) -> RepInputs:
    """Reps with TI 100 and base 50, all on one plan unless ``planned`` says not."""
    mu = np.asarray(mean, dtype=float)
    n = mu.size
    on = np.ones(n, dtype=bool) if planned is None else np.asarray(planned)
    return RepInputs(
        rep_ids=tuple(f"R{i}" for i in range(n)),
        expected_sales=mu,
        sales_cv=np.full(n, cv),
        effective_quota=np.asarray(quota, dtype=float),
        target_incentive=np.where(on, 100.0, 0.0),
        base_earned=np.where(on, 50.0, 0.0),
        payout_scale=np.where(on, 1.0, 0.0),
        plan_index=np.where(on, 0, -1).astype(np.intp),
        payouts=(curve,),
        threshold=np.where(on, curve.threshold, math.nan),
    )


# --- expected sales -----------------------------------------------------------


def test_forecast_is_pipeline_plus_runrate() -> None:
    """W = [0.8, 0.4] M, H = [1.0, 1.2] M, g = 10 %: run-rates 0.3 and 0.92 M.

    μ = [1.1, 1.32] M; rescaled to a 4.84 M forecast, twice that.
    """
    mu = expected_sales(
        "forecast",
        potential=[4, 3],
        prior_sales=[1e6, 1.2e6],
        pipeline=[0.8e6, 0.4e6],
        growth=0.10,
    )
    np.testing.assert_allclose(mu, [1.1e6, 1.32e6])
    scaled = expected_sales(
        "forecast",
        potential=[4, 3],
        prior_sales=[1e6, 1.2e6],
        pipeline=[0.8e6, 0.4e6],
        growth=0.10,
        company_forecast=4.84e6,
    )
    np.testing.assert_allclose(scaled, [2.2e6, 2.64e6])


def test_forecast_uses_a_given_runrate() -> None:
    """A run-rate of 0.5 M replaces the computed 0.3 M for the first territory."""
    mu = expected_sales(
        "forecast",
        potential=[4, 3],
        prior_sales=[1e6, 1.2e6],
        pipeline=[0.8e6, 0.4e6],
        growth=0.10,
        runrate=[0.5e6, math.nan],
    )
    np.testing.assert_allclose(mu, [1.3e6, 1.32e6])


def test_potential_penetration_and_prior_growth() -> None:
    """Penetration Σ H / Σ P = 1.5 / 5 = 0.3: μ = [1.2, 0.3]; growth: H × 1.1."""
    mu = expected_sales(
        "potential_penetration", potential=[4, 1], prior_sales=[1.0, 0.5]
    )
    np.testing.assert_allclose(mu, [1.2, 0.3])
    grown = expected_sales(
        "prior_sales_growth", potential=[4, 1], prior_sales=[1.0, 0.5], growth=0.1
    )
    np.testing.assert_allclose(grown, [1.1, 0.55])


def test_expected_sales_without_data_is_refused() -> None:
    """No prior sales and no pipeline: the forecast has nothing to stand on, and
    the message names only what that source reads (not potential)."""
    with pytest.raises(ValueError) as caught:
        expected_sales("forecast", potential=[1.0, 2.0])
    assert str(caught.value) == (
        "expected sales from forecast add up to 0; the forecast source adds "
        "weighted_pipeline to a run-rate, taken from runrate or computed as "
        "prior_sales × (1 + growth) − weighted_pipeline, and no territory has a "
        "positive weighted_pipeline, prior_sales or runrate"
    )


def test_each_expected_sales_source_names_what_it_reads() -> None:
    """prior_sales_growth names prior_sales; potential_penetration names the
    potential when it is zero, else prior_sales and company_forecast."""
    cases = [
        (
            "prior_sales_growth",
            {"potential": [1.0, 2.0], "pipeline": [5.0, 0.0]},
            "the prior_sales_growth source grows prior_sales by (1 + growth), and "
            "no territory has a positive prior_sales",
        ),
        (
            "potential_penetration",
            {"potential": [0.0, 0.0], "prior_sales": [1.0, 1.0]},
            "the potential_penetration source spreads sales in proportion to "
            "potential, and no territory has a positive potential",
        ),
        (
            "potential_penetration",
            {"potential": [1.0, 2.0], "pipeline": [5.0, 0.0]},
            "the potential_penetration source spreads prior_sales in proportion to "
            "potential, and no territory has a positive prior_sales (or set "
            "company_forecast)",
        ),
    ]
    for source, data, reason in cases:
        with pytest.raises(ValueError) as caught:
            expected_sales(source, **data)
        assert str(caught.value) == f"expected sales from {source} add up to 0; " + (
            reason
        )


# --- Monte Carlo --------------------------------------------------------------


def test_seeded_runs_are_identical() -> None:
    """Same seed, same draws, same figures; another seed differs."""
    reps = _reps([1.0, 1.2, 0.8], [1.0, 1.0, 1.0])
    first = simulate(reps, 3_000, market_correlation=0.3, seed=7)
    again = simulate(reps, 3_000, market_correlation=0.3, seed=7)
    other = simulate(reps, 3_000, market_correlation=0.3, seed=8)

    np.testing.assert_array_equal(first.total_cost, again.total_cost)
    np.testing.assert_array_equal(first.p_attain, again.p_attain)
    assert not np.array_equal(first.total_cost, other.total_cost)


def test_chunk_size_does_not_change_results() -> None:
    """Tiny chunks consume the same normals in the same order as one big chunk."""
    reps = _reps([1.0, 1.2, 0.8], [1.0, 1.0, 1.0], curve=DOMAIN_CURVE)
    whole = simulate(reps, 2_000, market_correlation=0.5, seed=3)
    pieces = simulate(
        reps, 2_000, market_correlation=0.5, seed=3, max_chunk_bytes=4_000
    )

    assert chunk_draws(3, 4_000) < 2_000
    np.testing.assert_array_equal(whole.total_cost, pieces.total_cost)
    np.testing.assert_array_equal(whole.p_attain, pieces.p_attain)
    np.testing.assert_allclose(whole.payout_var, pieces.payout_var, rtol=1e-10)


@pytest.mark.parametrize("correlation", [0.0, 0.3])
def test_p_attain_matches_closed_form_within_three_se(correlation) -> None:
    """P(S ≥ Q) of DOMAIN 6.4 for μ/Q = 1.0, 1.1, 0.9: 0.4606, 0.6489, 0.2640.

    Each rep's margin is lognormal whatever ρ, so the simulated share converges
    to the closed form; 3 standard errors of a proportion bound the gap.
    """
    draws = 20_000
    reps = _reps([1.0, 1.1, 0.9], [1.0, 1.0, 1.0])
    result = simulate(reps, draws, market_correlation=correlation, seed=11)
    exact = attainment_probability([1.0] * 3, [1.0, 1.1, 0.9], 0.2)
    se = np.sqrt(exact * (1 - exact) / draws)

    assert (np.abs(result.p_attain - exact) < 3 * se).all()


def test_mean_sales_and_linear_incentive_converge() -> None:
    """E[S] = μ and, for f(a) = a, E[incentive] = TI μ / Q, within 3 SE."""
    draws = 20_000
    reps = _reps([1.0, 2.0], [1.0, 1.6], cv=0.3)
    result = simulate(reps, draws, seed=5)

    se_sales = np.array([1.0, 2.0]) * 0.3 / math.sqrt(draws)
    assert (np.abs(result.mean_sales - [1.0, 2.0]) < 3 * se_sales).all()
    expected = 100.0 * np.array([1.0, 2.0 / 1.6])
    assert (np.abs(result.mean_incentive - expected) < 3 * result.incentive_se).all()
    np.testing.assert_allclose(result.mean_earnings, 50.0 + result.mean_incentive)


def test_summary_figures_are_consistent() -> None:
    """Reserve is P90 − P50; band shares of each rep and pooled add up to 1."""
    reps = _reps([1.0, 1.2, 0.8], [1.0, 1.0, 1.0], curve=DOMAIN_CURVE)
    result = simulate(reps, 4_000, market_correlation=0.3, seed=1)
    summary = result.summary()

    assert summary["reserve"] == pytest.approx(
        summary["total_cost_p90"] - summary["total_cost_p50"]
    )
    assert summary["total_cost_p10"] <= summary["total_cost_p50"]
    np.testing.assert_allclose(result.band_shares.sum(axis=1), 1.0)
    assert sum(summary["attainment_band_share"].values()) == pytest.approx(1.0)
    assert summary["share_at_quota_mean"] == pytest.approx(result.p_attain.mean())
    # The domain curve pays nothing below 0.5: that is exactly the lowest band.
    assert summary["share_below_threshold"] == pytest.approx(result.band_share[0])


def test_reps_without_plan_cost_nothing() -> None:
    """A rep without a plan has sales and attainment but no pay or threshold."""
    reps = _reps([1.0, 1.0], [1.0, 1.0], planned=[True, False])
    result = simulate(reps, 1_000, seed=2)

    assert result.mean_incentive[1] == 0.0 and result.mean_earnings[1] == 0.0
    assert result.p_attain[1] > 0.0
    assert result.total_cost.min() >= 50.0


def test_chunked_memory_stays_within_budget() -> None:
    """20,000 draws × 100 reps under a 4 MiB budget never hold 16 MiB at once.

    Unchunked, the normals alone would take 20,000 × 101 × 8 bytes = 16.2 MB.
    """
    reps = _reps(np.linspace(0.8, 1.2, 100), np.ones(100), curve=DOMAIN_CURVE)
    tracemalloc.start()
    try:
        simulate(reps, 20_000, seed=0, max_chunk_bytes=4 * 2**20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def test_skill_raises_expected_sales() -> None:
    """Doubling expected sales (skill 2) lifts the chance of quota."""
    base = _reps([1.0], [1.0])
    skilled = replace(base, expected_sales=np.array([2.0]))
    assert simulate(skilled, 2_000).p_attain[0] > simulate(base, 2_000).p_attain[0]


def test_plan_groups_index_plans_by_name() -> None:
    """Plans are numbered in name order; a rep without one gets -1."""
    index, names = plan_groups(["B", None, "A", "B"])
    assert names == ("A", "B")
    np.testing.assert_array_equal(index, [1, -1, 0, 1])


def test_sales_force_figures_match_the_closed_form() -> None:
    """Two identical reps fully tied to the market (ρ = 1), linear plan, TI 100,
    base 50, μ = Q = 1,000, cv 0.2: total cost = 100 + 0.2 S with S lognormal
    (median 1000 / sqrt(1.04), s = sqrt(ln 1.04)), so its P10/P50/P90 are
    100 + 0.2 median exp(s z_p); CCOS = 50 / S + 0.1 has mean 50 × 1.04 / 1000 +
    0.1 = 0.152; both reps reach quota together with chance 0.4606; each expects
    earnings 150; bands follow the lognormal CDF. Checked within 3 standard errors
    (1 % for the percentiles) on 40,000 draws."""
    normal = NormalDist()
    draws = 40_000
    result = simulate(
        _reps([1_000.0, 1_000.0], [1_000.0, 1_000.0]),
        draws,
        market_correlation=1.0,
        seed=11,
    )
    summary = result.summary()
    median, s = 1_000 / math.sqrt(1.04), math.sqrt(math.log(1.04))

    for key, p in (("p10", 0.1), ("p50", 0.5), ("p90", 0.9)):
        expected = 100 + 0.2 * median * math.exp(s * normal.inv_cdf(p))
        assert summary[f"total_cost_{key}"] == pytest.approx(expected, rel=0.01)
    ccos = (100 + 0.2 * result.total_sales / 2) / result.total_sales
    assert summary["expected_ccos"] == pytest.approx(0.152, abs=3 * ccos.std() / 200)
    p_attain = 1 - normal.cdf(0.5 * s)
    se = math.sqrt(p_attain * (1 - p_attain) / draws)
    assert summary["share_at_quota_mean"] == pytest.approx(p_attain, abs=3 * se)
    assert (summary["share_at_quota_p10"], summary["share_at_quota_p90"]) == (0, 1)
    np.testing.assert_allclose(result.mean_earnings, 150, atol=3 * 100 * 0.2 / 200)
    edges = [
        normal.cdf((math.log(e * 1_000) - math.log(median)) / s)
        for e in (0.5, 0.8, 1.0, 1.2)
    ]
    bands = np.diff([0.0, *edges, 1.0])
    np.testing.assert_allclose(result.band_share, bands, atol=3 * 0.5 / 200)
