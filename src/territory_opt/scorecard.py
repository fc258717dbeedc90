"""Scorecard of an alignment: per-territory figures, balance summary, disruption.

Everything here is computed from the problem data and an account → territory
mapping; it holds for the proposed alignment and for the current one alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from territory_opt import metrics
from territory_opt.geo import haversine_km
from territory_opt.problem import Problem

ALWAYS_SCORED = ("potential", "workload_hours", "accounts")


def account_distances_km(problem: Problem, territory_of: np.ndarray) -> np.ndarray:
    """Great-circle km from every account to the home of its territory.

    NaN where the account or the home has no coordinates (named accounts).
    """
    lat1, lon1 = problem.account_lat, problem.account_lon
    lat2 = problem.territory_lat[territory_of]
    lon2 = problem.territory_lon[territory_of]
    known = (
        np.isfinite(lat1) & np.isfinite(lon1) & np.isfinite(lat2) & np.isfinite(lon2)
    )
    km = np.full(len(territory_of), np.nan)
    if known.any():
        km[known] = np.asarray(
            haversine_km(lat1[known], lon1[known], lat2[known], lon2[known]),
            dtype=float,
        )
    return km


def _scored_metrics(problem: Problem) -> dict[str, np.ndarray]:
    values = {
        "potential": problem.potential,
        "workload_hours": problem.workload_hours,
        "accounts": np.ones(problem.n_accounts),
    }
    if problem.revenue is not None:
        values["revenue"] = problem.revenue
    for balance in problem.balances:
        values.setdefault(balance.metric, balance.values)
    return values


def territory_table(problem: Problem, territory_of: np.ndarray) -> pd.DataFrame:
    """One row per territory: loads, targets, deviations, travel, capacity use.

    Targets are FTE-weighted (total × fte / Σ fte); ``<metric>_deviation_share``
    is (load − target) / target. ``travel_km_mean`` is the workload-weighted mean
    km from account to home; ``travel_km_max`` the farthest account.
    """
    k = problem.n_territories
    share = problem.fte / problem.fte.sum()
    km = account_distances_km(problem, territory_of)
    table: dict[str, Any] = {
        "territory_id": list(problem.territory_ids),
        "rep_id": list(problem.rep_ids),
        "parent": list(problem.parent),
        "fte": problem.fte,
    }
    for name, values in _scored_metrics(problem).items():
        load = np.bincount(territory_of, weights=values, minlength=k)
        target = values.sum() * share
        table[name] = load
        table[f"{name}_target"] = target
        with np.errstate(divide="ignore", invalid="ignore"):
            table[f"{name}_deviation_share"] = np.where(
                target > 0, (load - target) / target, np.nan
            )
    work = np.bincount(territory_of, weights=problem.workload_hours, minlength=k)
    weighted_km = np.bincount(
        territory_of, weights=problem.workload_hours * km, minlength=k
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        table["travel_km_mean"] = np.where(work > 0, weighted_km / work, 0.0)
    farthest = np.full(k, np.nan)
    np.fmax.at(farthest, territory_of, km)
    table["travel_km_max"] = farthest
    table["capacity_hours"] = problem.capacity_hours
    with np.errstate(divide="ignore", invalid="ignore"):
        table["capacity_used_share"] = work / problem.capacity_hours
    return pd.DataFrame(table)


def level_table(problem: Problem, territory_of: np.ndarray) -> pd.DataFrame | None:
    """One row per unit of every hierarchy level (None without a hierarchy).

    Columns: ``level``, ``unit_id``, ``parent_id`` (the unit one level up, blank
    at the top), ``territories``, and per scored metric its load, its target (the
    sum of the unit's territories' FTE-weighted targets) and
    ``<metric>_deviation_share`` = (load − target) / target.
    """
    tree = problem.hierarchy
    if tree is None:
        return None
    territories = territory_table(problem, territory_of)
    frames = []
    for level, name in enumerate(tree.levels):
        unit_of = tree.territory_unit[level]
        size = len(tree.unit_ids[level])
        if level + 1 < len(tree.levels):
            up = np.zeros(size, dtype=np.int64)
            up[unit_of] = tree.territory_unit[level + 1]
            parents = [tree.unit_ids[level + 1][p] for p in up]
        else:
            parents = [""] * size
        table: dict[str, Any] = {
            "level": [name] * size,
            "unit_id": list(tree.unit_ids[level]),
            "parent_id": parents,
            "territories": np.bincount(unit_of, minlength=size),
        }
        for metric in _scored_metrics(problem):
            load = np.bincount(unit_of, territories[metric], minlength=size)
            target = np.bincount(
                unit_of, territories[f"{metric}_target"], minlength=size
            )
            table[metric] = load
            table[f"{metric}_target"] = target
            with np.errstate(divide="ignore", invalid="ignore"):
                table[f"{metric}_deviation_share"] = np.where(
                    target > 0, (load - target) / target, np.nan
                )
        frames.append(pd.DataFrame(table))
    return pd.concat(frames, ignore_index=True)


def level_summary(table: pd.DataFrame) -> dict[str, Any]:
    """metrics.json ``levels``: per level, its units and the largest deviations."""
    summary: dict[str, Any] = {}
    shares = [c for c in table.columns if c.endswith("_deviation_share")]
    for name, rows in table.groupby("level", sort=False):
        summary[str(name)] = {
            "units": int(len(rows)),
            "max_abs_deviation_share": {
                c.removesuffix("_deviation_share"): float(rows[c].abs().max())
                for c in shares
            },
            "by_unit": rows.drop(columns="level").to_dict("records"),
        }
    return summary


def scorecard(problem: Problem, territory_of: np.ndarray) -> dict[str, Any]:
    """Balance summary per metric, travel and disruption of one alignment.

    The balance summary is computed on loads per FTE (load / fte), so mean, CV,
    max/min and Gini compare territories as if every rep were full time; the
    within-±x% shares compare each load with its own FTE-weighted target.
    """
    table = territory_table(problem, territory_of)
    balance: dict[str, dict[str, float] | None] = {}
    fte = problem.fte
    for name in _scored_metrics(problem):
        targets = table[f"{name}_target"].to_numpy()
        if not (targets > 0).all():
            balance[name] = None  # a metric that adds up to 0 has no balance
            continue
        # Per-FTE loads, so that a half-time rep's half target is not imbalance.
        balance[name] = metrics.balance_summary(
            table[name].to_numpy() / fte, targets / fte
        )
    km = account_distances_km(problem, territory_of)
    workload_total = problem.workload_hours.sum()
    travel = {
        "workload_weighted_km_mean": float(problem.workload_hours @ km / workload_total)
        if workload_total > 0
        else 0.0,
        "km_max": float(np.max(km)),
        "workload_km_total": float(problem.workload_hours @ km),
    }
    card: dict[str, Any] = {
        "balance": balance,
        "travel": travel,
        "disruption": disruption(problem, territory_of),
    }
    if problem.adjacency is not None:
        pieces = [
            len(problem.adjacency.components(territory_of == t))
            for t in range(problem.n_territories)
        ]
        card["adjacency"] = {
            "cut_edges": problem.adjacency.cut_edges(territory_of),
            "edges": int(len(problem.adjacency.edges)),
            "territories_in_pieces": int(sum(p > 1 for p in pieces)),
            "pieces": dict(zip(problem.territory_ids, pieces, strict=True)),
        }
    return card


def disruption(problem: Problem, territory_of: np.ndarray) -> dict[str, float]:
    """Share of accounts, potential and revenue moved from the current alignment."""
    previous = [
        problem.territory_ids[c] if c >= 0 else None for c in problem.current.tolist()
    ]
    proposed = [problem.territory_ids[t] for t in territory_of.tolist()]
    weights = {"potential": problem.potential}
    if problem.revenue is not None:
        weights["revenue"] = problem.revenue
    shares = metrics.disruption_shares(previous, proposed, weights)
    return {k: float(v) for k, v in shares.items()}


def current_alignment(problem: Problem) -> np.ndarray | None:
    """The current alignment as territory indices, or None if any account lacks one."""
    if (problem.current < 0).any():
        return None
    return problem.current.copy()
