"""Accounts that change territory, each with the reasons read from the data.

A move is explained by the facts that favour it, in this order: the account's
current territory is not eligible for it; its family moves with it; the losing
territory was over and the gaining one under their targets of the first
balanced metric in the current alignment; the new home is nearer. When none of
these holds the move serves the balance of the alignment as a whole.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from territory_opt.problem import Problem
from territory_opt.scorecard import account_distances_km, territory_table

NEARER_KM = 1.0  # a new home must be at least this much nearer to count as a reason


def primary_metric(problem: Problem) -> str:
    """The first balanced metric of the scenario, or ``potential``."""
    return problem.balances[0].metric if problem.balances else "potential"


def moves_frame(problem: Problem, territory_of: np.ndarray) -> pd.DataFrame:
    """One row per account whose territory differs from its current one.

    Columns: ``account_id``, ``from_territory``, ``to_territory``, ``from_rep``,
    ``to_rep``, ``potential``, ``workload_hours``, ``km_before`` and
    ``km_after`` (great-circle km to the old and new home), ``locked`` and
    ``why``. Accounts without a current territory are not moves.
    """
    current = problem.current
    moved = np.flatnonzero((current >= 0) & (current != territory_of))
    metric = primary_metric(problem)
    before = territory_table(problem, np.where(current >= 0, current, territory_of))
    deviation = before[f"{metric}_deviation_share"].to_numpy()
    km_after = account_distances_km(problem, territory_of)
    km_before = account_distances_km(problem, np.where(current >= 0, current, 0))
    family_of = {a: f for f, members in enumerate(problem.families) for a in members}
    allowed = set(
        zip(problem.pair_account.tolist(), problem.pair_territory.tolist(), strict=True)
    )
    rows = []
    for a in moved.tolist():
        old, new = int(current[a]), int(territory_of[a])
        reasons = []
        if (a, old) not in allowed:
            reasons.append(
                f"not eligible for {problem.territory_ids[old]} "
                f"(segment, candidate or lock rule)"
            )
        family = family_of.get(a)
        if family is not None and len(problem.families[family]) > 1:
            reasons.append(
                f"family of {len(problem.families[family])} accounts kept together"
            )
        if deviation[old] > 0 > deviation[new]:
            reasons.append(
                f"{problem.territory_ids[old]} was {100 * deviation[old]:+.1f}% and "
                f"{problem.territory_ids[new]} {100 * deviation[new]:+.1f}% "
                f"against their {metric} targets"
            )
        if km_before[a] - km_after[a] >= NEARER_KM:
            reasons.append(f"{km_before[a] - km_after[a]:.0f} km nearer the new home")
        if not reasons:
            reasons.append("overall balance and travel of the alignment")
        rows.append(
            {
                "account_id": problem.account_ids[a],
                "from_territory": problem.territory_ids[old],
                "to_territory": problem.territory_ids[new],
                "from_rep": problem.rep_ids[old],
                "to_rep": problem.rep_ids[new],
                "potential": float(problem.potential[a]),
                "workload_hours": float(problem.workload_hours[a]),
                "km_before": float(km_before[a]),
                "km_after": float(km_after[a]),
                "locked": a in problem.locks,
                "why": "; ".join(reasons),
            }
        )
    columns = [
        "account_id",
        "from_territory",
        "to_territory",
        "from_rep",
        "to_rep",
        "potential",
        "workload_hours",
        "km_before",
        "km_after",
        "locked",
        "why",
    ]
    return pd.DataFrame(rows, columns=columns)


def move_matrix(moves: pd.DataFrame) -> pd.DataFrame:
    """Accounts moved from each territory (rows) to each other one (columns)."""
    if moves.empty:
        return pd.DataFrame()
    return pd.crosstab(moves["from_territory"], moves["to_territory"])
