"""Weighted pipeline, forecast categories and coverage per group (docs/forecast.md).

For a period window ``[t0, t1]`` and a group ``g`` (territory, district, region):

- ``E_g = sum_j amount_j p_j`` over open deals ``j`` of ``g`` closing in the window;
- ``SD_g = sqrt(sum_j amount_j^2 p_j (1 - p_j))``, the deals being independent
  Bernoulli events; the 80 % band is ``E_g -/+ z SD_g`` with ``z = 1.2816``, the
  0.90 quantile of the standard normal;
- optionally, P10 and P90 from seeded Bernoulli draws of every deal.

Categories are cumulative (Salesforce semantics): ``Closed`` is the won amount
closing in the window; ``Commit = Closed + open commit``; ``BestCase = Commit +
open best_case``; ``OpenPipeline`` is the open amount in ``pipeline``,
``best_case`` and ``commit``. ``omitted`` deals count nowhere.

Coverage: ``remaining_g = quota_g - Closed_g``; ``coverage_g = OpenPipeline_g /
remaining_g`` (infinite when nothing remains); ``required_g = 1 / win_rate_g``;
the gap flag is ``coverage_g < required_g``.

Missing amounts count as 0. Every total is independent of row order: deals are
sorted by id inside a group before the draws, and each group draws from its own
random stream seeded by ``(seed, crc32(group))``.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections.abc import Iterable, Mapping
from datetime import date
from statistics import NormalDist

import numpy as np
import pandas as pd

from territory_opt.forecast.schema import ForecastWarning
from territory_opt.forecast.spec import ForecastSection, PeriodWindow

__all__ = [
    "Z_80",
    "category_rollup",
    "coverage_table",
    "opportunity_categories",
    "open_in_window",
    "weighted_pipeline",
]

logger = logging.getLogger(__name__)

# Half-width of the central 80 % band of a standard normal: Phi^-1(0.90).
Z_80 = NormalDist().inv_cdf(0.90)

# Bernoulli draws are made in blocks of at most this many cells.
_BLOCK_CELLS = 2_000_000

Window = PeriodWindow | tuple[date, date]


def _bounds(window: Window) -> tuple[pd.Timestamp, pd.Timestamp]:
    if isinstance(window, PeriodWindow):
        return pd.Timestamp(window.start), pd.Timestamp(window.end)
    return pd.Timestamp(window[0]), pd.Timestamp(window[1])


def open_in_window(opportunities: pd.DataFrame, window: Window) -> pd.Series:
    """True for open deals whose close date lies in the window (both ends in)."""
    start, end = _bounds(window)
    closing = opportunities["close_date"].between(start, end)
    return (opportunities["status"] == "open") & closing


def _groups(
    opportunities: pd.DataFrame, group_by: str, groups: Iterable[str] | None
) -> list[str]:
    found = set(opportunities[group_by])
    return sorted(found | set(groups or ()))


def weighted_pipeline(
    opportunities: pd.DataFrame,
    probabilities: pd.Series,
    window: Window,
    *,
    group_by: str = "territory_id",
    groups: Iterable[str] | None = None,
    draws: int = 0,
    seed: int = 0,
) -> pd.DataFrame:
    """Expected value and spread of the open pipeline closing in the window.

    Parameters
    ----------
    opportunities
        Canonical opportunities with ``status``, ``amount``, ``close_date``,
        ``id`` and the ``group_by`` column.
    probabilities
        Win probability per opportunity, aligned with the frame's index.
    window
        The period ``[start, end]``, both days included.
    group_by
        Column that names the group (default ``territory_id``).
    groups
        Groups to report even when they have no deal (default: those found).
    draws
        Bernoulli draws for the empirical P10/P90 (default 0: the normal band
        is reported as P10/P90 instead).
    seed
        Seed of the draws (default 0).

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted by group: ``n_open``, ``amount_open``, ``E``,
        ``SD``, ``band80_low``, ``band80_high``, ``P10``, ``P90`` and
        ``p10_p90_method`` (``bernoulli`` or ``normal``), amounts in the
        currency of ``amount``.
    """
    chosen = open_in_window(opportunities, window)
    deals = pd.DataFrame(
        {
            "group": opportunities.loc[chosen, group_by].astype(str),
            "id": opportunities.loc[chosen, "id"],
            "amount": opportunities.loc[chosen, "amount"].fillna(0.0).astype(float),
            "p": probabilities[chosen].astype(float).clip(0.0, 1.0),
        }
    ).sort_values(["group", "id"], kind="stable")
    by_group = {str(name): part for name, part in deals.groupby("group", sort=False)}
    empty = deals.iloc[0:0]
    rows = []
    for group in _groups(opportunities, group_by, groups):
        mine = by_group.get(str(group), empty)
        amount, p = mine["amount"].to_numpy(), mine["p"].to_numpy()
        expected = float(amount @ p)
        sd = math.sqrt(float((amount**2) @ (p * (1.0 - p))))
        low, high = expected - Z_80 * sd, expected + Z_80 * sd
        if draws > 0:
            p10, p90 = _bernoulli_band(amount, p, draws, seed, group)
        else:
            p10, p90 = low, high
        rows.append(
            {
                group_by: group,
                "n_open": len(mine),
                "amount_open": float(amount.sum()),
                "E": expected,
                "SD": sd,
                "band80_low": low,
                "band80_high": high,
                "P10": p10,
                "P90": p90,
                "p10_p90_method": "bernoulli" if draws > 0 else "normal",
            }
        )
    return pd.DataFrame(rows, columns=_pipeline_columns(group_by))


def _pipeline_columns(group_by: str) -> list[str]:
    return [
        group_by,
        "n_open",
        "amount_open",
        "E",
        "SD",
        "band80_low",
        "band80_high",
        "P10",
        "P90",
        "p10_p90_method",
    ]


def _bernoulli_band(
    amount: np.ndarray, p: np.ndarray, draws: int, seed: int, group: str
) -> tuple[float, float]:
    """Empirical P10 and P90 of the won amount over seeded Bernoulli draws."""
    if amount.size == 0:
        return 0.0, 0.0
    rng = np.random.default_rng([seed, zlib.crc32(group.encode("utf-8"))])
    totals = np.empty(draws)
    block = max(1, _BLOCK_CELLS // amount.size)
    for start in range(0, draws, block):
        size = min(block, draws - start)
        won = rng.random((size, amount.size)) < p
        totals[start : start + size] = won @ amount
    p10, p90 = np.percentile(totals, [10.0, 90.0])
    return float(p10), float(p90)


def opportunity_categories(
    opportunities: pd.DataFrame, section: ForecastSection
) -> pd.Series:
    """Forecast category of every opportunity.

    A deal's own ``forecast_category`` wins; otherwise an open stage takes its
    ``category_map`` entry (``pipeline`` when unmapped) and a label outside the
    known stages is ``omitted``. Won and lost deals are ``closed``.
    """
    known = set(section.stage_order)
    values = []
    for own, stage, status in zip(
        opportunities["forecast_category"],
        opportunities["stage"],
        opportunities["status"],
        strict=True,
    ):
        if status != "open":
            values.append("closed")
        elif own:
            values.append(own)
        elif stage in known:
            values.append(section.category_of(stage))
        else:
            values.append("omitted")
    return pd.Series(values, index=opportunities.index, dtype=object)


def category_rollup(
    opportunities: pd.DataFrame,
    section: ForecastSection,
    window: Window,
    *,
    group_by: str = "territory_id",
    groups: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Cumulative forecast categories per group for the window.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted: ``Closed``, ``Commit``, ``BestCase`` and
        ``OpenPipeline`` (currency), as defined in the module docstring.
    """
    start, end = _bounds(window)
    amount = opportunities["amount"].fillna(0.0).astype(float)
    category = opportunity_categories(opportunities, section)
    in_window = opportunities["close_date"].between(start, end)
    is_open = open_in_window(opportunities, window)
    won = (opportunities["status"] == "won") & in_window

    def total(mask: pd.Series) -> pd.Series:
        return amount[mask].groupby(opportunities.loc[mask, group_by]).sum()

    index = _groups(opportunities, group_by, groups)
    closed = total(won).reindex(index, fill_value=0.0)
    commit = total(is_open & (category == "commit")).reindex(index, fill_value=0.0)
    best = total(is_open & (category == "best_case")).reindex(index, fill_value=0.0)
    counted = is_open & category.isin(("pipeline", "best_case", "commit"))
    pipeline = total(counted).reindex(index, fill_value=0.0)
    return pd.DataFrame(
        {
            group_by: index,
            "Closed": closed.to_numpy(dtype=float),
            "Commit": (closed + commit).to_numpy(dtype=float),
            "BestCase": (closed + commit + best).to_numpy(dtype=float),
            "OpenPipeline": pipeline.to_numpy(dtype=float),
        }
    )


def coverage_table(
    rollup: pd.DataFrame,
    quotas: Mapping[str, float] | pd.Series | None,
    win_rates: pd.DataFrame | None,
    *,
    group_by: str = "territory_id",
) -> tuple[pd.DataFrame, list[ForecastWarning]]:
    """Pipeline coverage of the remaining quota and the coverage it needs.

    Parameters
    ----------
    rollup
        Output of :func:`category_rollup`.
    quotas
        Quota of each group for the period (currency); groups without one get
        NaN coverage and no flag.
    win_rates
        Output of :func:`~territory_opt.forecast.stages.group_win_rates`; groups
        without a rate get NaN required coverage.

    Returns
    -------
    tuple
        ``rollup`` with ``quota``, ``remaining_quota``, ``coverage``,
        ``win_rate``, ``required_coverage`` and ``coverage_gap_flag`` added, and a
        ``coverage_gap`` warning naming the groups below their required coverage.
    """
    out = rollup.copy()
    quota_map = {str(k): float(v) for k, v in dict(quotas or {}).items()}
    out["quota"] = out[group_by].map(quota_map).astype(float)
    out["remaining_quota"] = out["quota"] - out["Closed"]
    remaining = out["remaining_quota"].to_numpy()
    pipeline = out["OpenPipeline"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(remaining > 0, pipeline / remaining, math.inf)
    out["coverage"] = np.where(np.isnan(remaining), np.nan, coverage)
    rates = (
        {}
        if win_rates is None
        else dict(zip(win_rates[group_by], win_rates["win_rate"], strict=True))
    )
    out["win_rate"] = out[group_by].map(rates).astype(float)
    with np.errstate(divide="ignore"):
        required = np.where(out["win_rate"] > 0, 1.0 / out["win_rate"], math.inf)
    out["required_coverage"] = np.where(out["win_rate"].isna(), np.nan, required)
    flag = out["coverage"] < out["required_coverage"]
    out["coverage_gap_flag"] = flag.fillna(False).astype(bool)

    warnings = []
    short = out.loc[out["coverage_gap_flag"], group_by].tolist()
    if short:
        message = (
            f"{len(short)} group(s) have less pipeline coverage than their win rate "
            f"requires: {', '.join(map(str, short[:10]))}"
            f"{' and more' if len(short) > 10 else ''}"
        )
        logger.warning(message)
        warnings.append(ForecastWarning("coverage_gap", message))
    return out, warnings
