"""Monte Carlo of sales, attainment and pay under the lognormal model.

The formulas are stated in docs/quota.md, Monte Carlo of sales and pay.

For draw ``k`` and rep ``i``, with a market shock ``z_k⁰`` shared by all reps and an
idiosyncratic shock ``z_{i,k}``, both standard normal:

``ln S_{i,k} = ln median_i + s_i (sqrt(ρ) z_k⁰ + sqrt(1 − ρ) z_{i,k})``,

where ``median_i`` and ``s_i`` come from the rep's expected sales and cv (see
:mod:`territory_opt.quota.equal_probability`). Then ``a_{i,k} = S_{i,k} / Q_i^eff``,
``incentive_{i,k} = TI_i × scale_i × f_i(a_{i,k})`` and
``earnings_{i,k} = base_i e_i + incentive_{i,k}``.

The draws are processed in chunks sized from a memory budget (default 32 MiB), so
100,000 draws of 100 reps never hold more than a few tens of MB at once. Per rep
the running mean and variance of ``X = incentive / TI`` are merged chunk by chunk
(Chan's parallel update), which keeps them exact without storing the draws; only
three numbers per draw (total cost, sales and share at quota) are kept for the
percentiles. Each draw consumes ``n + 1`` normals from one
:class:`numpy.random.Generator` (market first, then reps in order), so the result
does not depend on the chunk size.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from territory_opt.quota.comp import Payout
from territory_opt.quota.equal_probability import lognormal_parameters

__all__ = [
    "ATTAINMENT_BANDS",
    "chunk_draws",
    "plan_groups",
    "RepInputs",
    "SimulationResult",
    "expected_sales",
    "simulate",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

# Attainment bands of docs/quota.md: <0.5, 0.5-0.8, 0.8-1.0, 1.0-1.2, >=1.2.
BAND_EDGES = np.array([0.5, 0.8, 1.0, 1.2])
ATTAINMENT_BANDS = ("lt_50", "50_80", "80_100", "100_120", "ge_120")
DEFAULT_CHUNK_BYTES = 32 * 2**20
# Bytes a chunk holds per (draw, rep) cell: the normals, attainment, payout, the
# boolean masks and the temporaries of the payout rules, with room to spare.
_BYTES_PER_CELL = 96


def expected_sales(
    source: str,
    *,
    potential: npt.ArrayLike,
    prior_sales: npt.ArrayLike | None = None,
    pipeline: npt.ArrayLike | None = None,
    growth: npt.ArrayLike | float = 0.0,
    runrate: npt.ArrayLike | None = None,
    company_forecast: float | None = None,
) -> FloatArray:
    """Expected sales μ per territory, rescaled to the company forecast.

    - ``forecast``: ``μ_i = W_i + runrate_i`` with
      ``runrate_i = max(0, H_i (1 + g_i) − W_i)`` unless given;
    - ``potential_penetration``: ``μ_i = P_i Σ H / Σ P``;
    - ``prior_sales_growth``: ``μ_i = H_i (1 + g_i)``.

    Parameters
    ----------
    source
        One of the three names above.
    potential
        Potential per territory.
    prior_sales
        Prior sales H per territory in currency; NaN counts as 0.
    pipeline
        Weighted pipeline W per territory in currency; NaN counts as 0.
    growth
        Growth g per territory (or one value), as a fraction.
    runrate
        Run-rate per territory in currency; NaN entries are computed.
    company_forecast
        When given, all μ are scaled so that they add up to it.

    Returns
    -------
    numpy.ndarray
        μ per territory, in currency.

    Raises
    ------
    ValueError
        If the source's data add up to zero, so no expected sales can be formed.
    """
    p = np.asarray(potential, dtype=np.float64)
    h = _zero_missing(prior_sales, p.size)
    w = _zero_missing(pipeline, p.size)
    g = np.broadcast_to(np.asarray(growth, dtype=np.float64), p.shape)
    if source == "forecast":
        rate = np.maximum(0.0, h * (1.0 + g) - w)
        if runrate is not None:
            given = np.asarray(runrate, dtype=np.float64)
            rate = np.where(np.isfinite(given), given, rate)
        mu = w + rate
    elif source == "potential_penetration":
        penetration = h.sum() / p.sum() if p.sum() > 0 else 0.0
        if penetration == 0.0 and company_forecast is not None:
            penetration = 1.0  # the rescale below sets the level
        mu = p * penetration
    elif source == "prior_sales_growth":
        mu = h * (1.0 + g)
    else:
        raise ValueError(f"unknown expected_sales_source {source!r}")

    total = float(mu.sum())
    if not total > 0.0:
        raise ValueError(
            f"expected sales from {source} add up to {total:g}; "
            f"{_missing_data(source, p, h, company_forecast)}"
        )
    if company_forecast is not None:
        mu = mu * (company_forecast / total)
    return mu


def _missing_data(
    source: str,
    potential: FloatArray,
    prior_sales: FloatArray,
    company_forecast: float | None,
) -> str:
    """What the expected-sales ``source`` reads, and which of it is lacking."""
    if source == "forecast":
        return (
            "the forecast source adds weighted_pipeline to a run-rate, taken from "
            "runrate or computed as prior_sales × (1 + growth) − weighted_pipeline, "
            "and no territory has a positive weighted_pipeline, prior_sales or "
            "runrate"
        )
    if source == "prior_sales_growth":
        return (
            "the prior_sales_growth source grows prior_sales by (1 + growth), and "
            "no territory has a positive prior_sales"
        )
    if not potential.sum() > 0.0:
        return (
            "the potential_penetration source spreads sales in proportion to "
            "potential, and no territory has a positive potential"
        )
    hint = "" if company_forecast is not None else " (or set company_forecast)"
    return (
        "the potential_penetration source spreads prior_sales in proportion to "
        f"potential, and no territory has a positive prior_sales{hint}"
    )


def _zero_missing(values: npt.ArrayLike | None, size: int) -> FloatArray:
    if values is None:
        return np.zeros(size)
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(array), array, 0.0)


@dataclass(frozen=True)
class RepInputs:
    """Per-rep inputs of the simulation, one entry per rep in a fixed order.

        ``expected_sales`` μ and ``effective_quota`` are in currency; ``sales_cv`` is
        unitless. ``target_incentive`` TI, ``base_earned`` (base × employed fraction)
        and ``payout_scale`` (1 for annual plans, the summed weights of employed
        quarters for quarterly ones) are 0 for reps without a comp plan, whose
        ``plan_index`` is -1; otherwise it points into ``payouts``. ``threshold`` is
        the attainment below which the rep's plan pays nothing (NaN leaves the rep out
    of ``share_below_threshold``).
    """

    rep_ids: tuple[str, ...]
    expected_sales: FloatArray
    sales_cv: FloatArray
    effective_quota: FloatArray
    target_incentive: FloatArray
    base_earned: FloatArray
    payout_scale: FloatArray
    plan_index: IntArray
    payouts: tuple[Payout, ...]
    threshold: FloatArray

    @property
    def size(self) -> int:
        """Number of reps."""
        return len(self.rep_ids)


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of :func:`simulate`.

    Per rep: ``p_attain`` (share of draws at or above quota), ``mean_sales``,
    ``mean_incentive`` and its standard error ``incentive_se``,
    ``mean_earnings``, ``band_shares`` (reps × 5, bands of ``ATTAINMENT_BANDS``),
    and the mean and variance over draws of the TI-normalised incentive
    ``payout_mean`` and ``payout_var`` (ddof 0). Per draw (reps with a comp plan
    only): ``total_cost``, ``total_sales`` and ``share_at_quota`` (all reps).
    Pooled over reps and draws: ``band_share``, ``share_above_excellence`` and
    ``share_below_threshold``.
    """

    draws: int
    seed: int
    p_attain: FloatArray
    mean_sales: FloatArray
    mean_incentive: FloatArray
    incentive_se: FloatArray
    mean_earnings: FloatArray
    band_shares: FloatArray
    payout_mean: FloatArray
    payout_var: FloatArray
    total_cost: FloatArray
    total_sales: FloatArray
    share_at_quota: FloatArray
    band_share: FloatArray
    share_above_excellence: float
    share_below_threshold: float

    def summary(self) -> dict[str, float | int | dict[str, float]]:
        """Sales-force figures: cost percentiles, reserve, CCOS, share at quota.

        ``reserve = P90 − P50`` of total cost; ``expected_ccos`` is the mean over
        draws of total cost over total sales of the reps with a comp plan.
        """
        cost = np.percentile(self.total_cost, [10, 50, 90])
        at_quota = np.percentile(self.share_at_quota, [10, 90])
        with np.errstate(divide="ignore", invalid="ignore"):
            ccos = np.where(
                self.total_sales > 0, self.total_cost / self.total_sales, np.nan
            )
        return {
            "draws": self.draws,
            "seed": self.seed,
            "total_cost_p10": float(cost[0]),
            "total_cost_p50": float(cost[1]),
            "total_cost_p90": float(cost[2]),
            "reserve": float(cost[2] - cost[1]),
            "expected_total_cost": float(self.total_cost.mean()),
            "expected_ccos": _finite_mean(ccos),
            "share_at_quota_mean": float(self.share_at_quota.mean()),
            "share_at_quota_p10": float(at_quota[0]),
            "share_at_quota_p90": float(at_quota[1]),
            "attainment_band_share": dict(
                zip(ATTAINMENT_BANDS, map(float, self.band_share), strict=True)
            ),
            "share_above_excellence": self.share_above_excellence,
            "share_below_threshold": self.share_below_threshold,
        }


def _pooled_share(counts: FloatArray, threshold: FloatArray, draws: int) -> float:
    """Share of rep-draws counted, over the reps that have a threshold."""
    judged = np.isfinite(threshold)
    if not judged.any():
        return math.nan
    return float(counts[judged].sum() / (judged.sum() * draws))


def _finite_mean(values: FloatArray) -> float:
    """Mean of the finite entries, NaN when there are none."""
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else math.nan


def chunk_draws(reps: int, max_chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> int:
    """Draws per chunk that keep one chunk within ``max_chunk_bytes``."""
    return max(1, max_chunk_bytes // (_BYTES_PER_CELL * max(reps + 1, 1)))


def simulate(
    reps: RepInputs,
    draws: int,
    *,
    market_correlation: float = 0.0,
    seed: int = 0,
    excellence: float = 1.5,
    max_chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> SimulationResult:
    """Simulate ``draws`` years of sales and pay for every rep.

    Parameters
    ----------
    reps
        The per-rep inputs; every effective quota must be positive.
    draws
        Number of simulated years.
    market_correlation
        ρ, the share of log-variance common to all reps; default 0.
    seed
        Seed of the :class:`numpy.random.Generator`; default 0.
    excellence
        Attainment counted as excellence; default 1.5.
    max_chunk_bytes
        Memory budget of one chunk of draws; default 32 MiB.

    Returns
    -------
    SimulationResult
        Per-rep means, per-draw totals and pooled shares.
    """
    n = reps.size
    if n == 0 or draws < 1:
        raise ValueError(f"simulate needs reps and draws; got {n} reps, {draws} draws")
    quota = reps.effective_quota
    if not (quota > 0).all():
        unset = [r for r, q in zip(reps.rep_ids, quota, strict=True) if not q > 0]
        raise ValueError(
            f"every simulated rep needs a positive effective quota; {unset[:5]} "
            "have none. Leave reps without a quota out of the simulation"
        )
    median, sigma = lognormal_parameters(reps.expected_sales, reps.sales_cv)
    with np.errstate(divide="ignore"):
        log_median = np.log(median)
    idio_scale = sigma * math.sqrt(1.0 - market_correlation)
    market_scale = sigma * math.sqrt(market_correlation)
    has_plan = reps.plan_index >= 0
    groups = [np.flatnonzero(reps.plan_index == p) for p in range(len(reps.payouts))]
    base_total = float(reps.base_earned.sum())

    rng = np.random.default_rng(seed)
    size = chunk_draws(n, max_chunk_bytes)
    logger.debug("simulating %d draws of %d reps in chunks of %d", draws, n, size)
    total_cost = np.empty(draws)
    total_sales = np.empty(draws)
    share_at_quota = np.empty(draws)
    at_quota = np.zeros(n)
    at_or_above = np.zeros((n, BAND_EDGES.size))
    above, below = np.zeros(n), np.zeros(n)
    sales_sum = np.zeros(n)
    done, payout_mean, payout_m2 = 0, np.zeros(n), np.zeros(n)

    for start in range(0, draws, size):
        count = min(size, draws - start)
        rows = slice(start, start + count)
        normals = rng.standard_normal((count, n + 1))
        attain = normals[:, 1:] * idio_scale
        attain += normals[:, :1] * market_scale
        del normals
        attain += log_median
        np.exp(attain, out=attain)
        sales_sum += attain.sum(axis=0)
        total_sales[rows] = attain[:, has_plan].sum(axis=1)
        attain /= quota

        # Payout in TI multiples, per plan.
        payout = np.zeros_like(attain)
        for p, members in enumerate(groups):
            if members.size == n:
                payout = reps.payouts[p](attain)
            elif members.size:
                payout[:, members] = reps.payouts[p](attain[:, members])
        payout *= reps.payout_scale
        total_cost[rows] = payout @ reps.target_incentive + base_total

        # Counts of attainment events; band b holds draws at or above edge b - 1
        # and below edge b, so the bands follow from counts at or above each edge.
        reached = attain >= 1.0
        share_at_quota[rows] = reached.mean(axis=1)
        at_quota += reached.sum(axis=0)
        del reached
        for e, edge in enumerate(BAND_EDGES):
            at_or_above[:, e] += (attain >= edge).sum(axis=0)
        above += (attain >= excellence).sum(axis=0)
        below += (attain < reps.threshold).sum(axis=0)

        # Chan's update of the running mean and variance of the payout.
        chunk_mean = payout.mean(axis=0)
        chunk_m2 = ((payout - chunk_mean) ** 2).sum(axis=0)
        delta = chunk_mean - payout_mean
        merged = done + count
        payout_mean += delta * (count / merged)
        payout_m2 += chunk_m2 + delta**2 * (done * count / merged)
        done = merged

    payout_var = payout_m2 / draws
    reached_edge = np.column_stack([np.full(n, draws), at_or_above, np.zeros(n)])
    bands = reached_edge[:, :-1] - reached_edge[:, 1:]
    mean_incentive = payout_mean * reps.target_incentive
    incentive_se = np.sqrt(payout_var / draws) * reps.target_incentive
    pooled = bands.sum(axis=0) / (n * draws)
    return SimulationResult(
        draws=draws,
        seed=seed,
        p_attain=at_quota / draws,
        mean_sales=sales_sum / draws,
        mean_incentive=mean_incentive,
        incentive_se=incentive_se,
        mean_earnings=reps.base_earned + mean_incentive,
        band_shares=bands / draws,
        payout_mean=payout_mean,
        payout_var=payout_var,
        total_cost=total_cost,
        total_sales=total_sales,
        share_at_quota=share_at_quota,
        band_share=pooled,
        share_above_excellence=float(above.sum() / (n * draws)),
        share_below_threshold=_pooled_share(below, reps.threshold, draws),
    )


def plan_groups(plan_ids: Sequence[str | None]) -> tuple[IntArray, tuple[str, ...]]:
    """Index of each rep's plan among the distinct plan ids (-1 for none)."""
    names = tuple(sorted({p for p in plan_ids if p}))
    index = np.array([names.index(p) if p else -1 for p in plan_ids], dtype=np.intp)
    return index, names
