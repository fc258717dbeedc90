"""Forecast accuracy back-tested on the deals, when no snapshots were kept.

A CRM export rarely holds the forecasts made in past periods, but its deals say
when each was opened, which stage it held and when and how it closed. For every
past period ``t = [t0, t1]`` of ``backtest_period`` (month, quarter or year) that
begins inside the lookback window ``[as_of - lookback_days, as_of]``, ends on or
before ``as_of``, and does not end before the first close in that window:

- the snapshot day is ``d = t0 - snapshot_lag_days``;
- the deals open on ``d`` were opened on or before it (``created_date``, else
  their first history entry) and are open today or closed on or after ``d``;
- each holds the stage it was in on ``d``: its last open stage entered by ``d``
  in the history; without history its ``last_open_stage``, else its current
  stage when it is open, else the first stage;
- probabilities are estimated as of ``d`` (deals closed in
  ``[d - lookback_days, d]``), so no later outcome leaks into them;
- the forecast ``F`` of a territory is ``sum amount p`` over its deals open on
  ``d`` whose close date falls in ``t``; the actual ``A`` is its won amount
  closing in ``t``.

Limits: a closed deal's close date is the day it closed, not the day expected on
``d`` (exports keep no earlier value), so timing is known in hindsight; amounts
are the final ones, so a lost deal recorded at 0 adds nothing to ``F``. Deals
with neither a creation date nor a history entry cannot be placed in time and
are left out (a warning counts those that closed in the back-tested periods).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pandas as pd

from territory_opt.forecast.schema import ForecastWarning
from territory_opt.forecast.spec import ForecastSection
from territory_opt.forecast.stages import estimate_stage_rates

__all__ = ["backtest_periods", "backtest_tables", "stages_on"]

logger = logging.getLogger(__name__)

_FREQUENCIES = {"month": "M", "quarter": "Q", "year": "Y"}


def _label(period: pd.Period, length: str) -> str:
    if length == "month":
        return f"{period.year}-{period.month:02d}"
    if length == "quarter":
        return f"{period.year}-Q{period.quarter}"
    return str(period.year)


def backtest_periods(
    opportunities: pd.DataFrame, section: ForecastSection
) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """The back-tested periods as ``(label, first day, last day)``, oldest first.

    Labels are written ``2026-04``, ``2026-Q2`` or ``2026``, as the accuracy
    tables expect. Empty when ``backtest_period`` is not set or no deal closed
    in the lookback window.
    """
    length = section.backtest_period
    if length is None:
        return []
    as_of = pd.Timestamp(section.as_of)
    start = as_of - pd.Timedelta(days=section.lookback_days)
    closed = opportunities["status"].isin(("won", "lost"))
    closes = opportunities.loc[closed, "close_date"]
    closes = closes[closes.between(start, as_of)]
    if closes.empty:
        return []
    found = []
    span = pd.period_range(start, as_of, freq=_FREQUENCIES[length])
    for period in span:
        first, last = period.start_time.normalize(), period.end_time.normalize()
        if first >= start and last <= as_of and last >= closes.min():
            found.append((_label(period, length), first, last))
    return found


def _opened(opportunities: pd.DataFrame, history: pd.DataFrame | None) -> pd.Series:
    opened = opportunities["created_date"]
    if history is not None and len(history):
        first = history.groupby("id")["entered_date"].min()
        opened = opened.fillna(opportunities["id"].map(first))
    return opened


def stages_on(
    opportunities: pd.DataFrame,
    section: ForecastSection,
    day: pd.Timestamp,
    history: pd.DataFrame | None = None,
) -> pd.Series:
    """The open stage each deal held on ``day``, by the rules of the module."""
    order = section.stage_order
    fallback = opportunities["last_open_stage"].where(
        opportunities["last_open_stage"].isin(order),
        opportunities["stage"].where(opportunities["status"] == "open", order[0]),
    )
    if history is None or history.empty:
        return fallback
    entered = history[history["stage"].isin(order) & (history["entered_date"] <= day)]
    latest = entered.groupby("id")["stage"].last()
    return opportunities["id"].map(latest).fillna(fallback)


def backtest_tables(
    opportunities: pd.DataFrame,
    section: ForecastSection,
    history: pd.DataFrame | None = None,
    *,
    groups: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[ForecastWarning]]:
    """Actuals and forecast snapshots rebuilt from the deals.

    Parameters
    ----------
    opportunities
        Canonical opportunities, each already placed in its territory.
    section
        The forecast section; ``backtest_period``, ``snapshot_lag_days`` and
        ``lookback_days`` set the periods and snapshot days.
    history
        Optional canonical stage history.
    groups
        Territories to report even without deals (their actuals are 0).

    Returns
    -------
    tuple
        Actuals (``territory_id``, ``period``, ``actual``), snapshots
        (``territory_id``, ``period``, ``snapshot_date``, ``forecast``), one row
        per territory and period, and the warnings.
    """
    periods = backtest_periods(opportunities, section)
    names = sorted(set(opportunities["territory_id"]) | set(groups or ()))
    amount = opportunities["amount"].fillna(0.0).clip(lower=0.0)
    territory = opportunities["territory_id"]
    won = opportunities["status"] == "won"
    is_open = opportunities["status"] == "open"
    opened = _opened(opportunities, history)
    lag = pd.Timedelta(days=section.snapshot_lag_days)

    actual_rows, snapshot_rows = [], []
    unplaced = 0
    for label, first, last in periods:
        day = first - lag
        closing = opportunities["close_date"].between(first, last)
        alive = (opened <= day) & (is_open | (opportunities["close_date"] >= day))
        unplaced += int((closing & won & opened.isna()).sum())
        then = section.with_changes(as_of=day.date())
        rates = estimate_stage_rates(opportunities, then, history, log=False)
        frame = opportunities.assign(
            stage=stages_on(opportunities, section, day, history), status="open"
        )
        weighted = amount * rates.opportunity_probabilities(frame)
        forecast = weighted[alive & closing].groupby(territory).sum()
        actual = amount[won & closing].groupby(territory).sum()
        for name in names:
            actual_rows.append((name, label, float(actual.get(name, 0.0))))
            snapshot_rows.append((name, label, day, float(forecast.get(name, 0.0))))
    actuals = pd.DataFrame(actual_rows, columns=["territory_id", "period", "actual"])
    snapshots = pd.DataFrame(
        snapshot_rows, columns=["territory_id", "period", "snapshot_date", "forecast"]
    )
    snapshots["snapshot_date"] = pd.to_datetime(snapshots["snapshot_date"])

    warnings = []
    if not periods:
        warnings.append(
            ForecastWarning(
                "backtest_without_periods",
                f"no complete {section.backtest_period} inside the lookback window "
                f"holds a closed deal, so accuracy cannot be back-tested; lengthen "
                f"lookback_days or move as_of",
            )
        )
    if unplaced:
        warnings.append(
            ForecastWarning(
                "backtest_without_open_date",
                f"{unplaced} won deal(s) in the back-tested periods have neither a "
                f"created_date nor a history entry; they count in the actuals but "
                f"never in a forecast. Add created_date or a history file",
            )
        )
    for warning in warnings:
        logger.warning(warning.message)
    return actuals, snapshots, warnings
