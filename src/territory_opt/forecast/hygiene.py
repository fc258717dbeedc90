"""Pipeline hygiene: flags on open opportunities and the funnel integrity score.

Every open opportunity is checked as of ``as_of`` (docs/forecast.md):

- ``past_due``: the close date is before ``as_of``;
- ``missing_amount``: the amount is blank, zero or negative;
- ``missing_close_date``: the close date is blank;
- ``stale``: days in the current stage exceed ``stale_factor`` times the median
  days of that stage, or ``stale_fallback_days`` when the stage has no median;
- ``no_activity``: more than ``no_activity_days`` since the last activity (a blank
  last activity falls back to the stage entry date, then the creation date; with
  none of them the flag is not raised);
- ``pushed``: the close date changed at least ``pushes_threshold`` times;
- ``invalid_stage``: the stage is neither an open, a won nor a lost stage;
- ``missing_account``: the account is blank while other deals of the table name
  theirs (a table without accounts raises no such flag).

Rates per group: ``count_rate = #flagged / #open`` and ``amount_rate = flagged
amount / open amount``, where blank and non-positive amounts count as 0. The
funnel integrity (hygiene) score is ``1 - #open deals with any flag / #open``; it
is NaN for a group without open deals.

Checks over every deal, open or closed (:func:`deal_checks`), count what spoils
the history rather than the open pipeline:

- ``product_spelling``: the product is written in another spelling than its
  catalogue name. The catalogue name is the ``product`` column when the table
  also has ``product_as_written`` (the CRM adapter keeps the raw spelling there);
  otherwise names that differ only by case or spaces are one product, spelt as
  its most frequent form (ties: the first in sort order);
- ``lost_zero_value``: a lost deal with a blank, zero or negative amount;
- per territory, ``no_deals``: no deal at all, open or closed: none is placed
  in it by the alignment and none names it as its own territory (a rep with
  deals whose accounts all went elsewhere is not flagged).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from territory_opt.forecast.spec import ForecastSection
from territory_opt.forecast.stages import days_in_stage

__all__ = [
    "DEAL_CHECKS",
    "FLAGS",
    "deal_check_counts",
    "deal_check_summary",
    "deal_checks",
    "hygiene_flags",
    "hygiene_rates",
    "hygiene_summary",
]

FLAGS = (
    "past_due",
    "missing_amount",
    "missing_close_date",
    "stale",
    "no_activity",
    "pushed",
    "invalid_stage",
    "missing_account",
)

# Checks over every deal, open or closed.
DEAL_CHECKS = ("product_spelling", "lost_zero_value")


def hygiene_flags(
    opportunities: pd.DataFrame,
    section: ForecastSection,
    median_days: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The hygiene flags of every open opportunity.

    Parameters
    ----------
    opportunities
        Canonical opportunities; only open ones are checked.
    section
        The forecast section: ``as_of``, the stages and the hygiene thresholds.
    median_days
        Median days per stage (for example from
        :meth:`~territory_opt.forecast.stages.StageRates.median_days`); stages
        without one use ``stale_fallback_days``.

    Returns
    -------
    pandas.DataFrame
        One row per open deal, in input order: ``id``, ``territory_id``,
        ``account_id``, ``stage``, ``amount``, ``close_date``, ``days_in_stage``,
        ``stale_threshold_days``, ``days_since_activity``, one boolean column per
        flag in :data:`FLAGS`, and ``any_flag``.
    """
    rules = section.hygiene
    as_of = pd.Timestamp(section.as_of)
    deals = opportunities[opportunities["status"] == "open"]
    amount = deals["amount"].astype(float)
    days = days_in_stage(deals, section.as_of)
    medians = {s: float(v) for s, v in dict(median_days or {}).items()}
    median = deals["stage"].map(medians).astype(float)
    threshold = (rules.stale_factor * median).where(
        median.notna(), rules.stale_fallback_days
    )
    touched = (
        deals["last_activity_date"]
        .fillna(deals["stage_entered_date"])
        .fillna(deals["created_date"])
    )
    since_activity = (as_of - touched).dt.days.astype(float)
    known = set(section.stage_order) | set(section.closed_stages)
    accounts = opportunities["account_id"].astype(str).str.strip()
    uses_accounts = bool((accounts != "").any())

    flags = pd.DataFrame(
        {
            "id": deals["id"],
            "territory_id": deals["territory_id"],
            "account_id": accounts[deals.index],
            "stage": deals["stage"],
            "amount": amount,
            "close_date": deals["close_date"],
            "days_in_stage": days,
            "stale_threshold_days": threshold,
            "days_since_activity": since_activity,
        }
    )
    flags["past_due"] = (deals["close_date"] < as_of).fillna(False)
    flags["missing_amount"] = amount.isna() | (amount <= 0)
    flags["missing_close_date"] = deals["close_date"].isna()
    flags["stale"] = (days > threshold).fillna(False)
    flags["no_activity"] = (since_activity > rules.no_activity_days).fillna(False)
    flags["pushed"] = deals["close_date_changes"] >= rules.pushes_threshold
    flags["invalid_stage"] = ~deals["stage"].isin(known)
    flags["missing_account"] = uses_accounts & (accounts[deals.index] == "")
    for name in FLAGS:
        flags[name] = flags[name].astype(bool)
    flags["any_flag"] = flags[list(FLAGS)].any(axis=1)
    return flags.reset_index(drop=True)


def _rates(flags: pd.DataFrame) -> dict[str, Any]:
    """Counts, rates and score of one set of flagged open deals."""
    n_open = len(flags)
    weight = flags["amount"].fillna(0.0).clip(lower=0.0)
    amount_open = float(weight.sum())
    row: dict[str, Any] = {"n_open": n_open, "amount_open": amount_open}
    for name in (*FLAGS, "any_flag"):
        hit = flags[name].to_numpy(dtype=bool)
        count = int(hit.sum())
        row[f"{name}_count"] = count
        row[f"{name}_count_rate"] = count / n_open if n_open else np.nan
        flagged = float(weight[hit].sum())
        row[f"{name}_amount_rate"] = flagged / amount_open if amount_open else np.nan
    any_count = row["any_flag_count"]
    row["hygiene_score"] = 1.0 - any_count / n_open if n_open else np.nan
    return row


def hygiene_rates(
    flags: pd.DataFrame,
    *,
    group_by: str = "territory_id",
    groups: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Flag rates by count and by amount, and the hygiene score, per group.

    Parameters
    ----------
    flags
        Output of :func:`hygiene_flags`.
    group_by
        Column that names the group (default ``territory_id``).
    groups
        Groups to report even without open deals (their rates are NaN).

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted: ``n_open``, ``amount_open``, and for each flag
        and ``any_flag`` the ``_count``, ``_count_rate`` and ``_amount_rate``;
        then ``hygiene_score``.
    """
    names = sorted(set(flags[group_by]) | set(groups or ()))
    parts = {str(name): part for name, part in flags.groupby(group_by, sort=False)}
    empty = flags.iloc[0:0]
    rows = [{group_by: name, **_rates(parts.get(str(name), empty))} for name in names]
    columns = [group_by, *_rates(empty).keys()]
    return pd.DataFrame(rows, columns=columns)


def hygiene_summary(flags: pd.DataFrame) -> dict[str, Any]:
    """The same figures as :func:`hygiene_rates` over all open deals together."""
    return _rates(flags)


def _text(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.strip()


def _spelling_key(name: str) -> str:
    return "".join(name.split()).casefold()


def _catalogue_names(written: pd.Series) -> pd.Series:
    """The most frequent spelling of each product key (ties: first in order)."""
    named = written[written != ""]
    keys = named.map(_spelling_key)
    counts = (
        pd.DataFrame({"key": keys, "name": named})
        .value_counts()
        .rename("n")
        .reset_index()
        .sort_values(["key", "n", "name"], ascending=[True, False, True])
        .drop_duplicates("key")
    )
    best = dict(zip(counts["key"], counts["name"], strict=True))
    return written.map(lambda name: best.get(_spelling_key(name), name))


def deal_checks(
    opportunities: pd.DataFrame, owners: pd.Series | None = None
) -> pd.DataFrame:
    """The checks of :data:`DEAL_CHECKS` on every deal, open or closed.

    Parameters
    ----------
    opportunities
        Canonical opportunities placed in their territories; ``product`` and
        ``product_as_written`` are optional (without ``product`` no spelling is
        flagged).
    owners
        The territory each deal names as its own, before the alignment placed
        it (aligned with the frame's index; default: ``territory_id``).

    Returns
    -------
    pandas.DataFrame
        One row per deal, in input order: ``id``, ``territory_id``,
        ``owner_territory_id``, ``status``, ``product_as_written``, ``product``
        (the catalogue name), and one boolean column per check.
    """
    if "product" in opportunities:
        product = _text(opportunities["product"])
        if "product_as_written" in opportunities:
            written = _text(opportunities["product_as_written"])
            written = written.where(written != "", product)
        else:
            written, product = product, _catalogue_names(product)
    else:
        written = product = pd.Series("", index=opportunities.index)
    amount = opportunities["amount"].astype(float)
    checks = pd.DataFrame(
        {
            "id": opportunities["id"],
            "territory_id": opportunities["territory_id"],
            "owner_territory_id": opportunities["territory_id"]
            if owners is None
            else _text(owners),
            "status": opportunities["status"],
            "product_as_written": written,
            "product": product,
        }
    )
    checks["product_spelling"] = (written != "") & (written != product)
    lost = opportunities["status"] == "lost"
    checks["lost_zero_value"] = lost & (amount.isna() | (amount <= 0))
    return checks.reset_index(drop=True)


def deal_check_counts(
    checks: pd.DataFrame,
    *,
    group_by: str = "territory_id",
    groups: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Deals, deal-check counts and the ``no_deals`` flag per group.

    Returns
    -------
    pandas.DataFrame
        One row per group, sorted: ``n_deals`` (placed in the group),
        ``n_owned_deals`` (naming it as their own territory; counted for
        ``territory_id`` groups only), ``no_deals`` (both zero) and one
        ``<check>_count`` per check of :data:`DEAL_CHECKS`.
    """
    names = sorted(set(checks[group_by]) | set(groups or ()))
    grouped = checks.groupby(group_by)
    table = pd.DataFrame({group_by: names})
    deals = grouped.size()
    table["n_deals"] = table[group_by].map(deals).fillna(0).astype(int)
    owned = (
        checks.groupby("owner_territory_id").size()
        if group_by == "territory_id"
        else pd.Series(dtype=int)
    )
    table["n_owned_deals"] = table[group_by].map(owned).fillna(0).astype(int)
    table["no_deals"] = (table["n_deals"] == 0) & (table["n_owned_deals"] == 0)
    for name in DEAL_CHECKS:
        counts = grouped[name].sum()
        table[f"{name}_count"] = table[group_by].map(counts).fillna(0).astype(int)
    return table


def deal_check_summary(
    checks: pd.DataFrame, counts: pd.DataFrame, *, group_by: str = "territory_id"
) -> dict[str, Any]:
    """Totals of the deal checks: counts, the spellings found, and the groups
    without deals (``counts`` is the output of :func:`deal_check_counts`)."""
    respelt = checks[checks["product_spelling"]]
    spellings = (
        respelt.groupby(["product_as_written", "product"])
        .size()
        .reset_index(name="deals")
    )
    idle = counts.loc[counts["no_deals"], group_by].tolist()
    summary: dict[str, Any] = {"n_deals": int(len(checks))}
    for name in DEAL_CHECKS:
        summary[f"{name}_count"] = int(checks[name].sum())
    summary["product_spellings"] = [
        {"written": str(w), "product": str(p), "deals": int(n)}
        for w, p, n in spellings.itertuples(index=False, name=None)
    ]
    summary["no_deals_count"] = len(idle)
    summary["no_deals"] = [str(name) for name in idle]
    return summary
