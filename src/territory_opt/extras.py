"""Quota, comp and forecast steps run on an alignment.

The territory figures of an alignment (potential, last year's revenue as prior
sales, workload) feed the quota section; the alignment itself feeds the
forecast, so that when accounts move their pipeline and history move too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_opt.forecast.io import load_forecast_inputs
from territory_opt.forecast.run import (
    BeforeAfter,
    ForecastOutcome,
    before_after,
    run_forecast,
    write_forecast_files,
)
from territory_opt.formatting import json_ready
from territory_opt.problem import Problem
from territory_opt.quota.io import write_quota_files
from territory_opt.quota.run import QuotaOutcome, plan_quotas
from territory_opt.scenario import Scenario
from territory_opt.scorecard import territory_table

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Extras:
    """Outcomes of the optional quota and forecast sections."""

    quota: QuotaOutcome | None = None
    forecast: ForecastOutcome | None = None
    joint: dict[str, Any] | None = None
    before_after: BeforeAfter | None = None

    def metrics(self) -> dict[str, Any]:
        """Sections for metrics.json."""
        document: dict[str, Any] = {}
        if self.quota is not None:
            document["quota"] = json_ready(
                {
                    "summary": self.quota.summary,
                    "fairness": self.quota.fairness,
                    "warnings": list(self.quota.warnings),
                }
            )
        if self.forecast is not None:
            document["forecast"] = json_ready(self.forecast.metrics)
        if self.joint is not None:
            document["joint_design"] = json_ready(self.joint)
        if self.before_after is not None:
            document["before_after"] = json_ready(self.before_after.summary)
        return document

    def write(self, folder: Path) -> None:
        """Write quotas.csv, comp.csv and the forecast files into ``folder``."""
        if self.quota is not None:
            write_quota_files(self.quota, folder)
        if self.forecast is not None:
            write_forecast_files(self.forecast, folder)
        if self.before_after is not None:
            self.before_after.territories.to_csv(
                folder / "before_after.csv", index=False
            )

    def write_with_metrics(self, folder: Path) -> None:
        """:meth:`write`, plus a metrics.json holding only these sections."""
        self.write(folder)
        with open(folder / "metrics.json", "w", encoding="utf-8") as handle:
            json.dump(self.metrics(), handle, indent=2)
            handle.write("\n")


def quota_territories(problem: Problem, territory_of: np.ndarray) -> pd.DataFrame:
    """The per-territory table the quota step reads, from an alignment."""
    table = territory_table(problem, territory_of)
    frame = pd.DataFrame(
        {
            "territory_id": table["territory_id"],
            "parent": table["parent"],
            "rep_id": table["rep_id"],
            "fte": table["fte"],
            "potential": table["potential"],
            "workload_hours": table["workload_hours"],
        }
    )
    if "revenue" in table:
        frame["prior_sales"] = table["revenue"]
    return frame


def territory_neighbours(
    problem: Problem, territory_of: np.ndarray
) -> dict[str, list[str]] | None:
    """Territories that share an adjacency edge, when the problem has adjacency."""
    if problem.adjacency is None:
        return None
    found: dict[str, set[str]] = {t: set() for t in problem.territory_ids}
    for u, v in problem.adjacency.edges.tolist():
        a, b = int(territory_of[u]), int(territory_of[v])
        if a != b:
            found[problem.territory_ids[a]].add(problem.territory_ids[b])
            found[problem.territory_ids[b]].add(problem.territory_ids[a])
    return {t: sorted(n) for t, n in found.items()}


def run_extras(
    scenario: Scenario,
    problem: Problem,
    territory_of: np.ndarray,
    quota: QuotaOutcome | None = None,
    joint: dict[str, Any] | None = None,
) -> Extras:
    """Run the scenario's quota and forecast sections on an alignment.

    A ``quota`` outcome computed already (by the joint loop) is used as it is.
    """
    forecast = None
    compared = None
    if scenario.quota is not None and quota is None:
        quota = plan_quotas(
            quota_territories(problem, territory_of),
            scenario.quota,
            neighbors=territory_neighbours(problem, territory_of),
        )
    if scenario.forecast is not None:
        inputs = load_forecast_inputs(scenario.forecast)
        alignment = {
            a: problem.territory_ids[t]
            for a, t in zip(problem.account_ids, territory_of.tolist(), strict=True)
        }
        quotas = None
        if quota is not None:
            quotas = quota.quotas.set_index("territory_id")["quota_effective"]
        table = territory_table(problem, territory_of)
        forecast = run_forecast(
            scenario.forecast,
            inputs.opportunities,
            alignment,
            quotas,
            territories=table[
                [
                    "territory_id",
                    "rep_id",
                    "potential",
                    "capacity_hours",
                    "workload_hours",
                ]
            ],
            revenue=inputs.revenue,
            history=inputs.history,
            actuals=inputs.actuals,
            snapshots=inputs.snapshots,
        )
        current = {
            a: problem.territory_ids[c]
            for a, c in zip(problem.account_ids, problem.current.tolist(), strict=True)
            if c >= 0
        }
        if current:
            # The same pipeline and history scored on last year's alignment.
            compared = before_after(
                scenario.forecast,
                inputs.opportunities,
                current,
                alignment,
                revenue=inputs.revenue,
                territories=table[["territory_id", "rep_id", "potential"]],
                history=inputs.history,
                quotas=quotas,
            )
    return Extras(quota=quota, forecast=forecast, joint=joint, before_after=compared)
