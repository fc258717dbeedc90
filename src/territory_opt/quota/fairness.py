"""Fairness of quotas and pay, and the warnings about them (docs/quota.md).

Over staffed territories ``i`` with quota ``Q_i``, potential ``P_i``, prior sales
``H_i`` and expected sales ``μ_i``:

- ``cv(Q/P)`` and ``max/min(Q/P)``: is quota proportional to opportunity;
- expected attainment ``a_exp,i = μ_i / Q_i`` and its cv;
- ``p_attain_i``, the simulated chance of reaching quota, its spread (max − min) and
  standard deviation;
- Pearson and Spearman correlations of ``a_exp`` with ``P`` and with ``H``, and the
  ``size_slope``, the least-squares slope of ``a_exp`` on ``ln P``: a fair plan
  shows no pattern (``|corr| ≤ 0.2`` by default);
- cv of expected incentive, Gini of expected incentive and earnings;
- territory-luck share by the law of total variance on ``X = incentive / TI``
  simulated with every skill at 1: ``V_between = var_i(mean_k X)``,
  ``V_within = mean_i var_k X``, ``territory_share = V_between / (V_between +
  V_within)``; and ``skill_share`` when skills differ.

Balance statistics come from :mod:`territory_opt.metrics`. Undefined figures (a
correlation of constant values, a ratio over zero) are NaN here and ``None`` after
:func:`json_ready`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from territory_opt import metrics
from territory_opt.formatting import json_ready
from territory_opt.quota.spec import FairnessSpec

__all__ = [
    "fairness_warnings",
    "json_ready",
    "luck_decomposition",
    "ols_slope",
    "pay_fairness",
    "pearson",
    "quota_fairness",
    "skill_share",
    "spearman",
]

FloatArray = npt.NDArray[np.float64]


def pearson(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Pearson correlation of two equally long sequences (NaN if either is constant
    or there are fewer than two values)."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.size < 2:
        return math.nan
    da, db = a - a.mean(), b - b.mean()
    scale = math.sqrt(float((da * da).sum()) * float((db * db).sum()))
    return float((da * db).sum()) / scale if scale > 0 else math.nan


def spearman(x: npt.ArrayLike, y: npt.ArrayLike) -> float:
    """Spearman rank correlation: Pearson on ranks, ties sharing their mean rank."""
    ranks_x = pd.Series(np.asarray(x, dtype=np.float64)).rank(method="average")
    ranks_y = pd.Series(np.asarray(y, dtype=np.float64)).rank(method="average")
    return pearson(ranks_x.to_numpy(), ranks_y.to_numpy())


def ols_slope(y: npt.ArrayLike, x: npt.ArrayLike) -> float:
    """Least-squares slope of ``y`` on ``x`` (NaN if ``x`` is constant)."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    if a.size < 2:
        return math.nan
    da = a - a.mean()
    spread = float((da * da).sum())
    return float((da * (b - b.mean())).sum()) / spread if spread > 0 else math.nan


def _cv_or_nan(values: FloatArray) -> float:
    return metrics.cv(values) if values.size else math.nan


def quota_fairness(
    quota: npt.ArrayLike,
    potential: npt.ArrayLike,
    expected_sales: npt.ArrayLike | None,
    prior_sales: npt.ArrayLike | None = None,
    p_attain: npt.ArrayLike | None = None,
) -> dict[str, float]:
    """Quota fairness over staffed territories.

    Parameters
    ----------
    quota
        Full quota per territory, in currency; all positive.
    potential
        Potential per territory; territories with zero potential are left out of
        the ratios to potential.
    expected_sales
        μ per territory, in the currency of ``quota``; None (no simulation) leaves
        every figure of expected attainment NaN.
    prior_sales
        H per territory; NaN entries are left out of the correlations with H.
    p_attain
        Simulated probability of reaching quota per territory's rep.

    Returns
    -------
    dict
        ``quota_to_potential_cv``, ``quota_to_potential_max_min``,
        ``expected_attainment_cv``, ``p_attain_min``, ``p_attain_max``,
        ``p_attain_spread``, ``p_attain_std``, ``corr_pearson_potential``,
        ``corr_spearman_potential``, ``corr_pearson_prior_sales``,
        ``corr_spearman_prior_sales`` and ``size_slope``; NaN where undefined.
    """
    q = np.asarray(quota, dtype=np.float64)
    p = np.asarray(potential, dtype=np.float64)
    has_potential = p > 0
    ratio = q[has_potential] / p[has_potential]
    result = {
        "quota_to_potential_cv": _cv_or_nan(ratio),
        "quota_to_potential_max_min": metrics.max_min_ratio(ratio)
        if ratio.size
        else math.nan,
        **dict.fromkeys(
            (
                "expected_attainment_cv",
                "p_attain_min",
                "p_attain_max",
                "p_attain_spread",
                "p_attain_std",
                "corr_pearson_potential",
                "corr_spearman_potential",
                "corr_pearson_prior_sales",
                "corr_spearman_prior_sales",
                "size_slope",
            ),
            math.nan,
        ),
    }
    if p_attain is not None:
        chance = np.asarray(p_attain, dtype=np.float64)
        result.update(
            p_attain_min=float(chance.min()),
            p_attain_max=float(chance.max()),
            p_attain_spread=float(chance.max() - chance.min()),
            p_attain_std=metrics.std(chance),
        )
    if expected_sales is None:
        return result

    attainment = np.asarray(expected_sales, dtype=np.float64) / q
    result.update(
        expected_attainment_cv=_cv_or_nan(attainment),
        corr_pearson_potential=pearson(attainment[has_potential], p[has_potential]),
        corr_spearman_potential=spearman(attainment[has_potential], p[has_potential]),
        size_slope=ols_slope(attainment[has_potential], np.log(p[has_potential])),
    )
    if prior_sales is not None:
        h = np.asarray(prior_sales, dtype=np.float64)
        known = np.isfinite(h)
        result.update(
            corr_pearson_prior_sales=pearson(attainment[known], h[known]),
            corr_spearman_prior_sales=spearman(attainment[known], h[known]),
        )
    return result


def pay_fairness(
    expected_incentive: npt.ArrayLike, expected_earnings: npt.ArrayLike
) -> dict[str, float]:
    """Inequality of expected pay across reps with a comp plan.

    Returns
    -------
    dict
        ``expected_incentive_cv``, ``expected_incentive_gini`` and
        ``expected_earnings_gini``; NaN without reps.
    """
    incentive = np.asarray(expected_incentive, dtype=np.float64)
    pay = np.asarray(expected_earnings, dtype=np.float64)
    if incentive.size == 0:
        return dict.fromkeys(
            (
                "expected_incentive_cv",
                "expected_incentive_gini",
                "expected_earnings_gini",
            ),
            math.nan,
        )
    return {
        "expected_incentive_cv": metrics.cv(incentive),
        "expected_incentive_gini": metrics.gini(incentive),
        "expected_earnings_gini": metrics.gini(pay),
    }


def luck_decomposition(
    payout_mean: npt.ArrayLike, payout_var: npt.ArrayLike
) -> dict[str, float]:
    """Split the variance of TI-normalised incentive into territory and luck.

    Parameters
    ----------
    payout_mean
        ``m_i``: mean over draws of ``incentive / TI`` per rep.
    payout_var
        Variance over draws (ddof 0) of the same, per rep.

    Returns
    -------
    dict
        ``v_between = var_i(m_i)``, ``v_within = mean_i var_i`` and
        ``territory_share = v_between / (v_between + v_within)`` (NaN when both
        are 0).
    """
    m = np.asarray(payout_mean, dtype=np.float64)
    v = np.asarray(payout_var, dtype=np.float64)
    between = float(np.var(m))
    within = float(np.mean(v))
    total = between + within
    return {
        "v_between": between,
        "v_within": within,
        "territory_share": between / total if total > 0 else math.nan,
    }


def skill_share(
    with_skill: Mapping[str, float], equal_skill: Mapping[str, float]
) -> float:
    """``(V_between^skill − V_between^{skill=1}) / V_total^skill``.

    Both arguments are results of :func:`luck_decomposition`, from simulations
    with the reps' skills and with every skill at 1.
    """
    total = with_skill["v_between"] + with_skill["v_within"]
    if not total > 0:
        return math.nan
    return (with_skill["v_between"] - equal_skill["v_between"]) / total


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def fairness_warnings(
    fairness: Mapping[str, float],
    simulation: Mapping[str, Any] | None,
    limits: FairnessSpec,
) -> list[str]:
    """Plain-language warnings about fairness and pay outcomes.

    Parameters
    ----------
    fairness
        Figures from :func:`quota_fairness` (other keys are ignored).
    simulation
        ``SimulationResult.summary()``, or None without a simulation.
    limits
        The scenario's fairness limits.

    Returns
    -------
    list of str
        One sentence per breached limit, quoting the figures.
    """
    warnings = []
    limit = limits.max_abs_correlation
    for against, label in (("potential", "potential"), ("prior_sales", "prior sales")):
        r = fairness.get(f"corr_pearson_{against}", math.nan)
        rho = fairness.get(f"corr_spearman_{against}", math.nan)
        worst = max((abs(c) for c in (r, rho) if c == c), default=0.0)
        if worst > limit:
            easier = "larger" if (r if r == r else rho) > 0 else "smaller"
            warnings.append(
                f"expected attainment correlates with {label} (Pearson {r:.3f}, "
                f"Spearman {rho:.3f}; limit ±{limit:g}): territories with {easier} "
                f"{label} get relatively easier quotas"
            )

    spread = fairness.get("p_attain_spread", math.nan)
    if spread == spread and spread > limits.max_p_attain_spread:
        warnings.append(
            f"the chance of reaching quota ranges from "
            f"{_percent(fairness['p_attain_min'])} to "
            f"{_percent(fairness['p_attain_max'])} across reps (spread {spread:.3f}, "
            f"limit {limits.max_p_attain_spread:g})"
        )
    if simulation is None:
        return warnings

    low, high = limits.share_at_quota_range
    at_quota = float(simulation["share_at_quota_mean"])
    if not low <= at_quota <= high:
        warnings.append(
            f"on average {_percent(at_quota)} of reps reach quota in a simulated "
            f"year; the benchmark range is {_percent(low)} to {_percent(high)}"
        )
    below = simulation.get("share_below_threshold")
    if below is not None and below > limits.max_share_below_threshold:
        warnings.append(
            f"{_percent(below)} of rep-years end below the plan threshold; the "
            f"benchmark is at most {_percent(limits.max_share_below_threshold)}"
        )
    low, high = limits.share_above_excellence_range
    excellent = float(simulation["share_above_excellence"])
    if not low <= excellent <= high:
        warnings.append(
            f"{_percent(excellent)} of rep-years reach excellence "
            f"({limits.excellence_attainment:g} × quota); the benchmark range is "
            f"{_percent(low)} to {_percent(high)}"
        )
    return warnings
