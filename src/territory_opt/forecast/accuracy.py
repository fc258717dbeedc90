"""Forecast accuracy at a fixed snapshot lag (docs/forecast.md).

Pairs ``(unit u, period t)`` match an actual ``A`` with the forecast ``F`` of the
latest snapshot taken at least ``lag`` days before the start of ``t``. With
``e = F - A``:

- ``MAPE = mean over A > 0 of |A - F| / A``; pairs with ``A = 0`` are left out
  and counted (``n_zero_actual``);
- ``WAPE = sum |A - F| / sum A``;
- ``bias = sum (F - A) / sum A`` (positive means over-forecast);
- ``forecast_attainment = sum A / sum F``;
- ``MAE = mean |e|``;
- ``tracking_signal = sum (A - F) / MAE``.

A ratio whose denominator is zero is NaN. Several actual rows of one unit and
period are added up; among snapshots of the same day the later row wins.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from territory_opt.forecast.schema import ForecastWarning, period_start

__all__ = ["ALL_UNITS", "accuracy_metrics", "accuracy_table", "match_snapshots"]

logger = logging.getLogger(__name__)

# Label of the row that pools every unit.
ALL_UNITS = "(all)"


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator != 0 else float("nan")


def accuracy_metrics(actual: npt.ArrayLike, forecast: npt.ArrayLike) -> dict[str, Any]:
    """Accuracy figures of matched actual/forecast pairs.

    Parameters
    ----------
    actual
        Actual value per pair (currency, at least 0).
    forecast
        Forecast per pair, in the same order and unit.

    Returns
    -------
    dict
        ``n_pairs``, ``n_zero_actual``, ``actual_total``, ``forecast_total``,
        ``MAPE``, ``WAPE``, ``bias``, ``forecast_attainment``, ``MAE`` and
        ``tracking_signal``, as defined in the module docstring.

    Raises
    ------
    ValueError
        If the lengths differ or a value is NaN or infinite.
    """
    a = np.asarray(actual, dtype=float).ravel()
    f = np.asarray(forecast, dtype=float).ravel()
    if a.shape != f.shape:
        raise ValueError(
            f"actual and forecast need one value per pair; got {a.size} and {f.size}"
        )
    if not (np.isfinite(a).all() and np.isfinite(f).all()):
        raise ValueError("actual and forecast must be finite numbers; found NaN or inf")
    error = f - a
    positive = a > 0
    total_actual, total_forecast = float(a.sum()), float(f.sum())
    mae = float(np.abs(error).mean()) if a.size else float("nan")
    mape = (
        float((np.abs(error[positive]) / a[positive]).mean())
        if positive.any()
        else float("nan")
    )
    return {
        "n_pairs": int(a.size),
        "n_zero_actual": int((~positive).sum()),
        "actual_total": total_actual,
        "forecast_total": total_forecast,
        "MAPE": mape,
        "WAPE": _ratio(float(np.abs(error).sum()), total_actual),
        "bias": _ratio(float(error.sum()), total_actual),
        "forecast_attainment": _ratio(total_actual, total_forecast),
        "MAE": mae,
        "tracking_signal": _ratio(float(-error.sum()), mae) if a.size else np.nan,
    }


def match_snapshots(
    actuals: pd.DataFrame,
    snapshots: pd.DataFrame,
    lag_days: int,
    *,
    unit: str = "territory_id",
) -> pd.DataFrame:
    """Pair each actual with the forecast made ``lag_days`` before its period.

    Parameters
    ----------
    actuals
        Canonical actuals: ``unit``, ``period``, ``actual``.
    snapshots
        Canonical snapshots: ``unit``, ``period``, ``snapshot_date``,
        ``forecast``.
    lag_days
        The snapshot must be taken on or before ``period start - lag_days``.

    Returns
    -------
    pandas.DataFrame
        One row per (unit, period) of the actuals, sorted: ``period_start``,
        ``actual``, ``snapshot_date`` and ``forecast`` (NaT and NaN when no
        snapshot is old enough).
    """
    pairs = actuals.groupby([unit, "period"], as_index=False, sort=True)["actual"].sum()
    pairs["period_start"] = pd.to_datetime(
        [period_start(label) for label in pairs["period"]]
    )
    pairs["cutoff"] = pairs["period_start"] - pd.Timedelta(days=lag_days)
    shots = snapshots.copy()
    shots["_row"] = np.arange(len(shots))
    shots = shots.sort_values(["snapshot_date", "_row"], kind="stable")
    merged = pairs.merge(
        shots[[unit, "period", "snapshot_date", "forecast"]],
        on=[unit, "period"],
        how="left",
    )
    usable = merged[merged["snapshot_date"] <= merged["cutoff"]]
    latest = usable.groupby([unit, "period"], sort=False).tail(1)
    out = pairs.merge(
        latest[[unit, "period", "snapshot_date", "forecast"]],
        on=[unit, "period"],
        how="left",
    )
    return (
        out.drop(columns="cutoff").sort_values([unit, "period"]).reset_index(drop=True)
    )


def accuracy_table(
    actuals: pd.DataFrame,
    snapshots: pd.DataFrame,
    lag_days: int,
    *,
    unit: str = "territory_id",
) -> tuple[pd.DataFrame, list[ForecastWarning]]:
    """Accuracy per unit and over all units at one snapshot lag.

    Returns
    -------
    tuple
        A frame with one row per unit (sorted) and a last row ``(all)`` pooling
        every matched pair, with ``lag_days``, ``n_unmatched`` (actuals without a
        snapshot old enough) and the figures of :func:`accuracy_metrics`; and the
        warnings (zero actuals left out of MAPE, unmatched actuals).
    """
    pairs = match_snapshots(actuals, snapshots, lag_days, unit=unit)
    matched = pairs[pairs["forecast"].notna()]
    rows = []
    for name, mine in matched.groupby(unit, sort=True):
        rows.append({unit: name, **accuracy_metrics(mine["actual"], mine["forecast"])})
    overall = accuracy_metrics(matched["actual"], matched["forecast"])
    rows.append({unit: ALL_UNITS, **overall})
    table = pd.DataFrame(rows)
    unmatched = pairs[pairs["forecast"].isna()].groupby(unit).size()
    table["n_unmatched"] = table[unit].map(unmatched).fillna(0).astype(int)
    table.loc[table[unit] == ALL_UNITS, "n_unmatched"] = int(unmatched.sum())
    table.insert(1, "lag_days", lag_days)

    warnings = []
    if overall["n_zero_actual"]:
        warnings.append(
            ForecastWarning(
                "mape_zero_actuals",
                f"{overall['n_zero_actual']} matched pair(s) have an actual of 0 and "
                f"are left out of MAPE; read WAPE for these units",
            )
        )
    if int(unmatched.sum()):
        warnings.append(
            ForecastWarning(
                "unmatched_actuals",
                f"{int(unmatched.sum())} actual(s) have no forecast snapshot taken "
                f"{lag_days} or more days before their period; they are left out",
            )
        )
    for warning in warnings:
        logger.warning(warning.message)
    return table, warnings
