"""Territory measurement from account-level data joined to an alignment.

Every figure is computed from account rows mapped through the alignment given, so
moving an account moves its revenue, margin, potential and workload with it.
Accounts missing from the alignment go to the territory ``(unassigned)``, so the
totals always reconcile with the input.

Symbols (docs/forecast.md), for a territory ``t``:

- revenue ``R_t`` and margin ``M_t`` (``revenue - cost`` when no margin column
  is given), with shares ``R_t / sum R`` and ``M_t / sum M``;
- territory potential index ``TPI_t = P_t / mean(P)`` over the territories of
  the territory table;
- utilisation ``W_t / capacity_hours_t`` (workload hours over available hours);
- potential coverage ``sum of P_t over filled territories / sum P``, where a
  territory is filled when it has a rep who is not a to-be-hired placeholder
  (``TBH-...`` or ``is_tbh`` true);
- concentration: the top ``N`` customers of each territory with their share of
  its revenue, and the share of revenue held by the top 20 % of its accounts
  (``ceil(0.2 n)`` accounts, at least one).

Every function is pure: it reads frames and returns new ones.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd

from territory_opt import metrics
from territory_opt.errors import InputError
from territory_opt.forecast.schema import UNASSIGNED, AlignmentLike, as_alignment

__all__ = [
    "customer_concentration",
    "contribution_summary",
    "potential_coverage",
    "potential_index",
    "prepare_territories",
    "product_contribution",
    "territory_contribution",
    "top_customers",
]

logger = logging.getLogger(__name__)

_TBH_PREFIX = "TBH"


def prepare_territories(frame: pd.DataFrame) -> pd.DataFrame:
    """Validate a territory table: ``territory_id`` and the optional ``rep_id``
    (blank for vacant), ``is_tbh``, ``potential``, ``capacity_hours`` and
    ``workload_hours`` (or ``workload``).

    Returns
    -------
    pandas.DataFrame
        One row per territory with text ids, a ``rep_status`` column
        (``filled``, ``vacant`` or ``tbh``) and float numbers (NaN when absent).

    Raises
    ------
    InputError
        When ``territory_id`` is missing or repeated, or a number is unreadable.
    """
    if "territory_id" not in frame:
        raise InputError(
            "territories: missing column 'territory_id'; the table has "
            f"{', '.join(map(str, frame.columns))}"
        )
    out = frame.reset_index(drop=True).copy()
    out["territory_id"] = out["territory_id"].astype(str).str.strip()
    repeated = sorted(set(out.loc[out["territory_id"].duplicated(), "territory_id"]))
    if repeated:
        raise InputError(
            f"territories: territory id(s) {', '.join(repeated[:5])} appear more "
            f"than once; list each territory once"
        )
    if "workload_hours" not in out and "workload" in out:
        out["workload_hours"] = out["workload"]
    reps = out["rep_id"] if "rep_id" in out else pd.Series("", index=out.index)
    out["rep_id"] = reps.fillna("").astype(str).str.strip()
    tbh = out["rep_id"].str.upper().str.startswith(_TBH_PREFIX)
    if "is_tbh" in out:
        given = out["is_tbh"].astype(str).str.strip().str.lower()
        tbh = tbh | given.isin(("true", "1", "yes"))
    out["rep_status"] = np.where(
        out["rep_id"] == "", "vacant", np.where(tbh, "tbh", "filled")
    )
    for column in ("potential", "capacity_hours", "workload_hours"):
        if column not in out:
            out[column] = np.nan
            continue
        values = pd.to_numeric(out[column].replace("", np.nan), errors="coerce")
        bad = values.isna() & out[column].notna() & (out[column].astype(str) != "")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(
                f"territories: row {row + 1}, column '{column}': "
                f"'{out[column].iloc[row]}' is not a number"
            )
        out[column] = values.astype(float)
    return out


def _account_rows(revenue: pd.DataFrame, alignment: AlignmentLike) -> pd.DataFrame:
    """Revenue rows with the territory of their account."""
    mapping = as_alignment(alignment)
    rows = revenue.copy()
    rows["territory_id"] = [mapping.get(a) or UNASSIGNED for a in rows["account_id"]]
    orphans = sorted(set(rows.loc[rows["territory_id"] == UNASSIGNED, "account_id"]))
    if orphans:
        logger.warning(
            "%d account(s) with revenue are not in the alignment (first: %s); "
            "they are reported under %s",
            len(orphans),
            ", ".join(orphans[:5]),
            UNASSIGNED,
        )
    return rows


def _share(values: pd.Series) -> pd.Series:
    total = values.sum(min_count=1)
    if pd.isna(total) or total == 0:
        return pd.Series(np.nan, index=values.index)
    return values / total


def territory_contribution(
    revenue: pd.DataFrame,
    alignment: AlignmentLike,
    territories: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Revenue and margin contribution, potential index and utilisation per territory.

    Parameters
    ----------
    revenue
        Account-level revenue (:func:`~territory_opt.forecast.schema.
        prepare_revenue`): ``account_id``, optional ``product``, ``revenue``,
        ``cost``, ``margin``.
    alignment
        Account -> territory mapping.
    territories
        Optional territory table (:func:`prepare_territories`); it adds the rep,
        the rep status, potential, workload and capacity.
    accounts
        Optional account table with ``account_id`` and ``potential`` and/or
        ``workload_hours``; when given, those columns are summed per territory
        through the alignment and replace the territory table's.

    Returns
    -------
    pandas.DataFrame
        One row per territory (those of the table, of the alignment, and
        ``(unassigned)`` when needed), sorted by id: ``rep_id``, ``rep_status``,
        ``n_accounts``, ``revenue``, ``revenue_share``, ``cost``, ``margin``,
        ``margin_share``, ``potential``, ``tpi``, ``workload_hours``,
        ``capacity_hours`` and ``utilisation``.
    """
    rows = _account_rows(revenue, alignment)
    ids = set(as_alignment(alignment).values()) | set(rows["territory_id"])
    if territories is not None:
        ids |= set(territories["territory_id"])
    index = sorted(i for i in ids if i)
    by_territory = rows.groupby("territory_id")
    table = pd.DataFrame(index=pd.Index(index, name="territory_id"))
    table["n_accounts"] = by_territory["account_id"].nunique()
    for column in ("revenue", "cost", "margin"):
        table[column] = by_territory[column].sum(min_count=1)
    table["n_accounts"] = table["n_accounts"].fillna(0).astype(int)
    table["revenue"] = table["revenue"].fillna(0.0)
    table["revenue_share"] = _share(table["revenue"])
    table["margin_share"] = _share(table["margin"])

    info = prepare_territories(territories) if territories is not None else None
    for column in ("potential", "workload_hours", "capacity_hours"):
        values = pd.Series(np.nan, index=table.index)
        if info is not None:
            values = info.set_index("territory_id")[column].reindex(table.index)
        if accounts is not None and column in accounts and column != "capacity_hours":
            values = _sum_accounts(accounts, alignment, column).reindex(
                table.index, fill_value=0.0
            )
        table[column] = values.astype(float)
    known = table.index != UNASSIGNED
    table["tpi"] = potential_index(table.loc[known, "potential"]).reindex(table.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["utilisation"] = table["workload_hours"] / table["capacity_hours"]
    if info is not None:
        people = info.set_index("territory_id")[["rep_id", "rep_status"]]
        table = table.join(people)
    else:
        table["rep_id"], table["rep_status"] = "", ""
    table["rep_id"] = table["rep_id"].fillna("")
    table["rep_status"] = table["rep_status"].fillna("")
    columns = [
        "rep_id",
        "rep_status",
        "n_accounts",
        "revenue",
        "revenue_share",
        "cost",
        "margin",
        "margin_share",
        "potential",
        "tpi",
        "workload_hours",
        "capacity_hours",
        "utilisation",
    ]
    return table[columns].reset_index()


def _sum_accounts(
    accounts: pd.DataFrame, alignment: AlignmentLike, column: str
) -> pd.Series:
    mapping = as_alignment(alignment)
    territory = [
        mapping.get(str(a).strip()) or UNASSIGNED for a in accounts["account_id"]
    ]
    values = pd.to_numeric(accounts[column], errors="coerce").fillna(0.0)
    return values.groupby(pd.Series(territory, index=accounts.index)).sum()


def potential_index(potential: pd.Series) -> pd.Series:
    """Territory potential index ``P_t / mean(P)``; NaN when the mean is not
    positive or unknown."""
    values = potential.astype(float)
    average = values.mean()
    if pd.isna(average) or average <= 0:
        return pd.Series(np.nan, index=values.index)
    return values / average


def potential_coverage(table: pd.DataFrame) -> float:
    """Share of potential in filled territories (rep present, not TBH).

    ``table`` needs ``potential`` and ``rep_status`` (for example the output of
    :func:`territory_contribution` or :func:`prepare_territories`); NaN when the
    total potential is zero or unknown.
    """
    potential = table["potential"].astype(float).fillna(0.0)
    total = float(potential.sum())
    if total <= 0:
        return float("nan")
    return float(potential[table["rep_status"] == "filled"].sum()) / total


def product_contribution(
    revenue: pd.DataFrame, alignment: AlignmentLike
) -> pd.DataFrame:
    """Revenue and margin per product within each territory.

    Returns
    -------
    pandas.DataFrame
        One row per (territory, product), sorted: ``revenue``, ``margin``,
        ``revenue_share_in_territory`` and ``margin_share_in_territory``. Rows
        without a product are under the product ``""``.
    """
    rows = _account_rows(revenue, alignment)
    table = (
        rows.groupby(["territory_id", "product"])[["revenue", "margin"]]
        .sum(min_count=1)
        .reset_index()
        .sort_values(["territory_id", "product"])
    )
    table["revenue"] = table["revenue"].fillna(0.0)
    by_territory = table.groupby("territory_id")
    table["revenue_share_in_territory"] = table["revenue"] / by_territory[
        "revenue"
    ].transform("sum").replace(0.0, np.nan)
    table["margin_share_in_territory"] = table["margin"] / by_territory[
        "margin"
    ].transform(lambda s: s.sum(min_count=1)).replace(0.0, np.nan)
    return table.reset_index(drop=True)


def _per_account(rows: pd.DataFrame) -> pd.DataFrame:
    """Revenue per (territory, account), largest first, ties by account id."""
    sums = rows.groupby(["territory_id", "account_id"])["revenue"].sum()
    totals = sums.reset_index()
    return totals.sort_values(
        ["territory_id", "revenue", "account_id"], ascending=[True, False, True]
    )


def top_customers(
    revenue: pd.DataFrame, alignment: AlignmentLike, top_n: int = 5
) -> pd.DataFrame:
    """The ``top_n`` largest accounts of each territory (default 5).

    Returns
    -------
    pandas.DataFrame
        Columns ``territory_id``, ``rank`` (1 = largest), ``account_id``,
        ``revenue``, ``share_of_territory`` and ``cumulative_share``.
    """
    if top_n < 1:
        raise ValueError(f"top_n must be at least 1; got {top_n}")
    ranked = _per_account(_account_rows(revenue, alignment))
    ranked["rank"] = ranked.groupby("territory_id").cumcount() + 1
    territory_total = ranked.groupby("territory_id")["revenue"].transform("sum")
    ranked["share_of_territory"] = ranked["revenue"] / territory_total.replace(
        0.0, np.nan
    )
    ranked["cumulative_share"] = ranked.groupby("territory_id")[
        "share_of_territory"
    ].cumsum()
    top = ranked[ranked["rank"] <= top_n]
    columns = [
        "territory_id",
        "rank",
        "account_id",
        "revenue",
        "share_of_territory",
        "cumulative_share",
    ]
    return top[columns].reset_index(drop=True)


def _top_share(values: np.ndarray, share: float) -> tuple[int, float]:
    """Number of top accounts and the share of revenue they hold."""
    n = values.size
    if n == 0:
        return 0, float("nan")
    k = max(1, math.ceil(share * n - 1e-9))
    ordered = np.sort(values)[::-1]
    total = float(ordered.sum())
    return k, float(ordered[:k].sum()) / total if total else float("nan")


def customer_concentration(
    revenue: pd.DataFrame, alignment: AlignmentLike, top_share: float = 0.2
) -> pd.DataFrame:
    """Share of revenue held by the top ``top_share`` of accounts (default 20 %).

    Returns
    -------
    pandas.DataFrame
        One row per territory (sorted) and a last row ``(all)`` over every
        account: ``n_accounts``, ``n_top_accounts`` (``ceil(top_share n)``, at
        least 1), ``top_revenue_share``, ``largest_account_share`` and
        ``revenue_gini`` (Gini of account revenue, negative values clipped to 0).
    """
    if not 0.0 < top_share <= 1.0:
        raise ValueError(f"top_share must lie in (0, 1]; got {top_share}")
    per_account = _per_account(_account_rows(revenue, alignment))
    groups = [
        (t, g["revenue"].to_numpy()) for t, g in per_account.groupby("territory_id")
    ]
    overall = per_account.groupby("account_id")["revenue"].sum().to_numpy()
    rows = []
    for name, values in [*groups, ("(all)", overall)]:
        k, held = _top_share(values, top_share)
        total = float(values.sum()) if values.size else 0.0
        rows.append(
            {
                "territory_id": name,
                "n_accounts": int(values.size),
                "n_top_accounts": k,
                "top_revenue_share": held,
                "largest_account_share": float(values.max()) / total
                if total
                else float("nan"),
                "revenue_gini": metrics.gini(np.clip(values, 0.0, None))
                if values.size
                else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def contribution_summary(table: pd.DataFrame) -> dict[str, Any]:
    """Totals and balance of a :func:`territory_contribution` table.

    Balance figures over the assigned territories, for revenue, margin and
    potential: ``<figure>_gini`` (negative values clipped to 0), ``_cv``,
    ``_max_min_ratio`` and ``_within_10pct_share`` / ``_within_15pct_share``
    (share of territories within ±10 % / ±15 % of the mean).
    """
    assigned = table[table["territory_id"] != UNASSIGNED]
    summary: dict[str, Any] = {
        "territories": int(len(assigned)),
        "revenue_total": float(table["revenue"].sum()),
        "margin_total": float(table["margin"].sum(min_count=1)),
        "unassigned_revenue": float(
            table.loc[table["territory_id"] == UNASSIGNED, "revenue"].sum()
        ),
        "pct_potential_covered": potential_coverage(assigned)
        if assigned["potential"].notna().any()
        else float("nan"),
    }
    for column in ("revenue", "margin", "potential"):
        values = assigned[column].astype(float)
        if len(values) == 0 or values.isna().all():
            continue
        values = values.fillna(0.0)
        summary[f"{column}_gini"] = metrics.gini(values.clip(lower=0.0))
        summary[f"{column}_cv"] = metrics.cv(values)
        summary[f"{column}_max_min_ratio"] = (
            metrics.max_min_ratio(values) if (values >= 0).all() else float("nan")
        )
        for tolerance in (10, 15):
            summary[f"{column}_within_{tolerance}pct_share"] = (
                metrics.within_tolerance_share(values, tolerance / 100)
            )
    return summary
