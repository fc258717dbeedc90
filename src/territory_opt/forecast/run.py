"""One forecast run: pipeline, categories, coverage, hygiene, contribution, accuracy.

:func:`run_forecast` joins every account-level table to the alignment it is
given, then computes the per-territory frames that become ``forecast.csv``,
``funnel_integrity.csv``, ``contribution.csv``, ``stages.csv`` and
``accuracy.csv``, plus a JSON-ready dictionary of sections for ``metrics.json``.
:func:`before_after` runs it for the current and the proposed alignment and puts
the two scorecards side by side with the disruption between them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_opt import metrics
from territory_opt.forecast.accuracy import accuracy_table
from territory_opt.forecast.backtest import backtest_tables
from territory_opt.forecast.contribution import (
    contribution_summary,
    customer_concentration,
    prepare_territories,
    product_contribution,
    territory_contribution,
    top_customers,
)
from territory_opt.forecast.hygiene import (
    deal_check_counts,
    deal_check_summary,
    deal_checks,
    hygiene_flags,
    hygiene_rates,
    hygiene_summary,
)
from territory_opt.forecast.pipeline import (
    category_rollup,
    coverage_table,
    weighted_pipeline,
)
from territory_opt.forecast.schema import (
    UNASSIGNED,
    AlignmentLike,
    ForecastWarning,
    as_alignment,
    assign_territories,
    prepare_actuals,
    prepare_history,
    prepare_opportunities,
    prepare_revenue,
    prepare_snapshots,
)
from territory_opt.forecast.spec import ForecastSection
from territory_opt.forecast.stages import (
    age_adjusted_probabilities,
    estimate_stage_rates,
    group_win_rates,
)
from territory_opt.formatting import json_ready

__all__ = [
    "BeforeAfter",
    "ForecastOutcome",
    "before_after",
    "json_ready",
    "run_forecast",
    "write_forecast_files",
]

logger = logging.getLogger(__name__)

# Label of the pooled row in JSON totals.
_ALL = "(all)"

# Per-territory figures compared by before_after, in this order.
_SCORED = (
    "n_accounts",
    "revenue",
    "revenue_share",
    "margin",
    "potential",
    "tpi",
    "E",
    "SD",
    "Closed",
    "OpenPipeline",
    "coverage",
    "hygiene_score",
)


@dataclass(frozen=True)
class ForecastOutcome:
    """Everything one forecast run produces.

    ``forecast``, ``funnel_integrity``, ``contribution``, ``stages`` and
    ``accuracy`` are the frames of the CSV files of the same names;
    ``opportunity_flags`` lists the hygiene flags of every open deal;
    ``deal_checks`` lists the checks of every deal, open or closed;
    ``contribution_by_product``, ``top_customers`` and ``customer_concentration``
    break contribution down (empty without revenue); ``accuracy_source`` says
    where the accuracy pairs came from (``files``, ``backtest`` or ``none``);
    ``metrics`` is a JSON-ready dictionary of sections; ``warnings`` the
    non-fatal findings.
    """

    forecast: pd.DataFrame
    funnel_integrity: pd.DataFrame
    contribution: pd.DataFrame
    stages: pd.DataFrame
    accuracy: pd.DataFrame
    opportunity_flags: pd.DataFrame
    deal_checks: pd.DataFrame
    contribution_by_product: pd.DataFrame
    top_customers: pd.DataFrame
    customer_concentration: pd.DataFrame
    metrics: dict[str, Any]
    warnings: tuple[ForecastWarning, ...]
    accuracy_source: str = "none"


def _territory_ids(
    opportunities: pd.DataFrame,
    alignment: AlignmentLike | None,
    territories: pd.DataFrame | None,
) -> list[str]:
    ids = set(opportunities["territory_id"])
    if alignment is not None:
        ids |= {t for t in as_alignment(alignment).values() if t}
    if territories is not None:
        ids |= set(territories["territory_id"])
    return sorted(ids)


def run_forecast(
    section: ForecastSection,
    opportunities: pd.DataFrame,
    alignment: AlignmentLike | None,
    quotas: Mapping[str, float] | pd.Series | None = None,
    *,
    territories: pd.DataFrame | None = None,
    revenue: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    actuals: pd.DataFrame | None = None,
    snapshots: pd.DataFrame | None = None,
) -> ForecastOutcome:
    """Forecast the period for every territory of an alignment.

    Parameters
    ----------
    section
        The forecast section.
    opportunities
        Opportunity table (raw or prepared; see the schema module).
    alignment
        Account -> territory mapping; a deal with an account takes that account's
        territory. None keeps each deal's own ``territory_id``.
    quotas
        Quota of each territory for the period (currency); without one the
        coverage is NaN.
    territories
        Optional territory table (``territory_id``, ``rep_id`` blank when vacant,
        ``potential``, ``capacity_hours``, ``workload_hours``).
    revenue
        Optional account-level revenue for ``contribution.csv`` (needs
        ``alignment``).
    accounts
        Optional accounts with ``potential``/``workload_hours`` per account.
    history
        Optional stage history (``id``, ``stage``, ``entered_date``).
    actuals, snapshots
        Optional actuals and forecast snapshots for the accuracy table; without
        them, ``section.backtest_period`` rebuilds both from the deals (see
        :mod:`territory_opt.forecast.backtest`).

    Returns
    -------
    ForecastOutcome
        The frames, the metrics dictionary and the warnings.

    Raises
    ------
    InputError
        When a table is malformed (the message names the row and column).
    """
    opps = prepare_opportunities(opportunities, section)
    stage_history = prepare_history(history) if history is not None else None
    owners = opps["territory_id"]
    opps, warnings = assign_territories(opps, alignment)
    ids = _territory_ids(opps, alignment, territories)
    info = prepare_territories(territories) if territories is not None else None

    rates = estimate_stage_rates(opps, section, stage_history)
    warnings += list(rates.warnings)
    probabilities = rates.opportunity_probabilities(opps)
    pipeline = weighted_pipeline(
        opps,
        probabilities,
        section.period,
        groups=ids,
        draws=section.draws,
        seed=section.random_seed,
    )
    if section.age_decay:
        adjusted = age_adjusted_probabilities(
            opps, probabilities, rates.median_days(), section
        )
        aged = weighted_pipeline(opps, adjusted, section.period, groups=ids)
        pipeline["E_age_adjusted"] = aged["E"].to_numpy()
        pipeline["SD_age_adjusted"] = aged["SD"].to_numpy()

    rollup = category_rollup(opps, section, section.period, groups=ids)
    win_rates = group_win_rates(opps, rates, section, stage_history, groups=ids)
    coverage, coverage_warnings = coverage_table(rollup, quotas, win_rates)
    warnings += coverage_warnings
    forecast = pipeline.merge(coverage, on="territory_id", how="left")
    forecast["flags"] = _territory_flags(forecast, info)

    flags = hygiene_flags(opps, section, rates.median_days())
    checks = deal_checks(opps, owners)
    integrity = deal_check_counts(checks, groups=ids).merge(
        hygiene_rates(flags, groups=ids), on="territory_id", how="left"
    )

    contribution = products = customers = concentration = pd.DataFrame()
    if revenue is not None and alignment is not None:
        account_revenue = prepare_revenue(revenue)
        contribution = territory_contribution(
            account_revenue, alignment, territories, accounts
        )
        products = product_contribution(account_revenue, alignment)
        customers = top_customers(account_revenue, alignment)
        concentration = customer_concentration(account_revenue, alignment)
    elif revenue is not None:
        warnings.append(
            ForecastWarning(
                "contribution_without_alignment",
                "revenue was given without an alignment, so contribution.csv is "
                "empty; pass the account -> territory alignment",
            )
        )

    accuracy, accuracy_source = pd.DataFrame(), "none"
    pairs = None
    if actuals is not None and snapshots is not None:
        pairs = (prepare_actuals(actuals), prepare_snapshots(snapshots))
        accuracy_source = "files"
    elif section.backtest_period is not None:
        found, shots, backtest_warnings = backtest_tables(
            opps, section, stage_history, groups=ids
        )
        warnings += backtest_warnings
        if len(found):
            pairs, accuracy_source = (found, shots), "backtest"
    if pairs is not None:
        accuracy, accuracy_warnings = accuracy_table(*pairs, section.snapshot_lag_days)
        warnings += accuracy_warnings

    pooled = weighted_pipeline(
        opps.assign(_pool=_ALL),
        probabilities,
        section.period,
        group_by="_pool",
        draws=section.draws,
        seed=section.random_seed,
    )
    outcome = ForecastOutcome(
        forecast=forecast,
        funnel_integrity=integrity,
        contribution=contribution,
        stages=rates.table,
        accuracy=accuracy,
        opportunity_flags=flags,
        deal_checks=checks,
        contribution_by_product=products,
        top_customers=customers,
        customer_concentration=concentration,
        metrics={},
        warnings=tuple(warnings),
        accuracy_source=accuracy_source,
    )
    document = _metrics_document(section, rates.source, pooled, outcome)
    return dataclasses.replace(outcome, metrics=document)


def _territory_flags(forecast: pd.DataFrame, info: pd.DataFrame | None) -> list[str]:
    status = (
        {}
        if info is None
        else dict(zip(info["territory_id"], info["rep_status"], strict=True))
    )
    flags = []
    for territory, gap in zip(
        forecast["territory_id"], forecast["coverage_gap_flag"], strict=True
    ):
        found = ["coverage_gap"] if gap else []
        if status.get(territory) in ("vacant", "tbh"):
            found.append(status[territory])
        if territory == UNASSIGNED:
            found.append("unassigned")
        flags.append(";".join(found))
    return flags


def _metrics_document(
    section: ForecastSection,
    source: str,
    pooled: pd.DataFrame,
    outcome: ForecastOutcome,
) -> dict[str, Any]:
    """The metrics.json sections; ``pooled`` is the pipeline of every deal."""
    forecast = outcome.forecast
    totals = pooled.drop(columns="_pool").iloc[0].to_dict() if len(pooled) else {}
    for column in ("Closed", "Commit", "BestCase", "OpenPipeline"):
        totals[column] = float(forecast[column].sum())
    totals["coverage_gap_territories"] = int(forecast["coverage_gap_flag"].sum())
    document: dict[str, Any] = {
        "forecast": {
            "as_of": section.as_of.isoformat(),
            "period": {
                "start": section.period.start.isoformat(),
                "end": section.period.end.isoformat(),
            },
            "probability_source": source,
            "draws": section.draws,
            "random_seed": section.random_seed,
            "totals": totals,
        },
        "stages": outcome.stages.to_dict(orient="records"),
        "funnel_integrity": hygiene_summary(outcome.opportunity_flags)
        | deal_check_summary(outcome.deal_checks, outcome.funnel_integrity),
        "warnings": [w.as_dict() for w in outcome.warnings],
    }
    if not outcome.contribution.empty:
        summary = contribution_summary(outcome.contribution)
        pooled_row = outcome.customer_concentration.iloc[-1]
        summary["top_20pct_accounts_revenue_share"] = pooled_row["top_revenue_share"]
        document["contribution"] = summary
    if not outcome.accuracy.empty:
        document["accuracy"] = outcome.accuracy.iloc[-1].to_dict() | {
            "source": outcome.accuracy_source
        }
    return json_ready(document)


def write_forecast_files(outcome: ForecastOutcome, folder: Path) -> list[Path]:
    """Write the outcome's CSV files and ``forecast_metrics.json`` into ``folder``.

    The folder is created if needed; files of the same names are replaced.
    Numbers are rounded to 6 decimals in the CSV files; empty frames (no revenue,
    no actuals) are written with a header only.

    Returns
    -------
    list
        The paths written, in a fixed order.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frames = {
        "forecast": outcome.forecast,
        "funnel_integrity": outcome.funnel_integrity,
        "contribution": outcome.contribution,
        "stages": outcome.stages,
        "accuracy": outcome.accuracy,
        "opportunity_flags": outcome.opportunity_flags,
        "deal_checks": outcome.deal_checks,
        "contribution_by_product": outcome.contribution_by_product,
        "top_customers": outcome.top_customers,
        "customer_concentration": outcome.customer_concentration,
    }
    written = []
    for name, frame in frames.items():
        path = folder / f"{name}.csv"
        _rounded(frame).to_csv(path, index=False)
        written.append(path)
    path = folder / "forecast_metrics.json"
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(outcome.metrics, handle, indent=2, allow_nan=False)
        handle.write("\n")
    written.append(path)
    logger.info("forecast files written to %s", folder)
    return written


def _rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with float columns rounded to 6 decimals (dates left alone)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(6)
    return out


@dataclass(frozen=True)
class BeforeAfter:
    """Scorecards of the current and the proposed alignment side by side.

    ``territories`` has one row per territory with ``<figure>_current``,
    ``<figure>_proposed`` and ``<figure>_change`` for each figure, and
    ``continuity`` (the largest share of the proposed territory's revenue that
    comes from one current territory). ``summary`` holds the balance of each
    alignment and the disruption between them.
    """

    territories: pd.DataFrame
    summary: dict[str, Any]


def before_after(
    section: ForecastSection,
    opportunities: pd.DataFrame,
    current: AlignmentLike,
    proposed: AlignmentLike,
    *,
    revenue: pd.DataFrame | None = None,
    territories: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
    history: pd.DataFrame | None = None,
    quotas: Mapping[str, float] | pd.Series | None = None,
) -> BeforeAfter:
    """Contribution and pipeline of two alignments, side by side.

    Both runs use the same inputs and section (without Bernoulli draws, which
    the scorecard does not show). Disruption is measured over the accounts
    present in both alignments: the share of accounts and of revenue that move,
    the share of in-window open pipeline that moves, and, when ``territories``
    names the reps, the share of accounts that keep their rep.
    """
    quiet = section.with_changes(draws=0)
    runs = {}
    for name, alignment in (("current", current), ("proposed", proposed)):
        runs[name] = run_forecast(
            quiet,
            opportunities,
            alignment,
            quotas,
            territories=territories,
            revenue=revenue,
            accounts=accounts,
            history=history,
        )
    frames = {name: _scorecard(outcome) for name, outcome in runs.items()}
    table = (
        frames["current"]
        .add_suffix("_current")
        .join(frames["proposed"].add_suffix("_proposed"), how="outer")
    )
    for figure in _SCORED:
        if f"{figure}_current" in table:
            table[f"{figure}_change"] = (
                table[f"{figure}_proposed"] - table[f"{figure}_current"]
            )
    old, new = as_alignment(current), as_alignment(proposed)
    account_revenue = _account_revenue(revenue)
    table["continuity"] = _continuity(old, new, account_revenue).reindex(table.index)
    summary = {
        "current": _balance(runs["current"].forecast, frames["current"]),
        "proposed": _balance(runs["proposed"].forecast, frames["proposed"]),
        "disruption": _disruption(
            old, new, account_revenue, opportunities, section, territories
        ),
    }
    return BeforeAfter(table.reset_index(), json_ready(summary))


def _scorecard(outcome: ForecastOutcome) -> pd.DataFrame:
    frame = outcome.forecast.set_index("territory_id")[
        ["E", "SD", "Closed", "OpenPipeline", "coverage"]
    ]
    frame = frame.join(
        outcome.funnel_integrity.set_index("territory_id")[["hygiene_score"]]
    )
    if not outcome.contribution.empty:
        frame = frame.join(
            outcome.contribution.set_index("territory_id")[
                ["n_accounts", "revenue", "revenue_share", "margin", "potential", "tpi"]
            ],
            how="outer",
        )
    ordered = [c for c in _SCORED if c in frame]
    return frame[ordered]


def _account_revenue(revenue: pd.DataFrame | None) -> dict[str, float]:
    if revenue is None:
        return {}
    rows = prepare_revenue(revenue)
    totals = rows.groupby("account_id")["revenue"].sum()
    return {str(k): float(v) for k, v in totals.items()}


def _continuity(
    old: dict[str, str], new: dict[str, str], revenue: dict[str, float]
) -> pd.Series:
    shared = [a for a in new if a in old]
    frame = pd.DataFrame(
        {
            "new": [new[a] for a in shared],
            "old": [old[a] for a in shared],
            "revenue": [revenue.get(a, 0.0) for a in shared],
        }
    )
    overlap = frame.groupby(["new", "old"])["revenue"].sum()
    total = frame.groupby("new")["revenue"].sum()
    largest = overlap.groupby(level="new").max()
    return (largest / total.replace(0.0, np.nan)).astype(float)


def _balance(forecast: pd.DataFrame, card: pd.DataFrame) -> dict[str, Any]:
    assigned = card[card.index != UNASSIGNED]
    found: dict[str, Any] = {"E_total": float(forecast["E"].sum())}
    for figure in ("revenue", "E", "OpenPipeline"):
        if figure in assigned and len(assigned):
            values = assigned[figure].fillna(0.0).clip(lower=0.0)
            found[f"{figure}_gini"] = metrics.gini(values)
            found[f"{figure}_cv"] = metrics.cv(values)
    return found


def _disruption(
    old: dict[str, str],
    new: dict[str, str],
    revenue: dict[str, float],
    opportunities: pd.DataFrame,
    section: ForecastSection,
    territories: pd.DataFrame | None,
) -> dict[str, Any]:
    shared = sorted(a for a in new if a in old)
    if not shared:
        return {"accounts_compared": 0}
    shares: dict[str, Any] = dict(
        metrics.disruption_shares(
            [old[a] for a in shared],
            [new[a] for a in shared],
            {"revenue": [max(revenue.get(a, 0.0), 0.0) for a in shared]},
        )
    )
    opps = prepare_opportunities(opportunities, section)
    start, end = pd.Timestamp(section.period.start), pd.Timestamp(section.period.end)
    live = (opps["status"] == "open") & opps["close_date"].between(start, end)
    live &= opps["account_id"].isin(set(shared))
    amount = opps.loc[live, "amount"].fillna(0.0).clip(lower=0.0)
    moved = [old[a] != new[a] for a in opps.loc[live, "account_id"]]
    total = float(amount.sum())
    shares["pipeline_moved_share"] = (
        float(amount[np.array(moved, dtype=bool)].sum()) / total if total else 0.0
    )
    if territories is not None:
        info = prepare_territories(territories)
        rep = dict(zip(info["territory_id"], info["rep_id"], strict=True))
        before = [rep.get(old[a], "") for a in shared]
        after = [rep.get(new[a], "") for a in shared]
        kept = [b != "" and b == a for b, a in zip(before, after, strict=True)]
        shares["relationships_kept_share"] = sum(kept) / len(shared)
    return shares
