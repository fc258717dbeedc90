"""Shared cases of the quota tests: the four territories of DOMAIN.md 6.8.

A plain module rather than a conftest.py: a second conftest would take over the
module name ``conftest`` that other test files import helpers from.
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd

from territory_opt.quota.spec import QuotaSection, load_quota_section

# DOMAIN.md 6.8: P = [4, 3, 2, 1] M, H = [1.0, 1.2, 0.5, 0.3] M, W = [0.8, 0.4, 0.6,
# 0.2] M; prior quota [1.1, 1.1, 0.6, 0.4] M from the Q3 test.
DOMAIN_TERRITORIES = {
    "territory_id": ["T01", "T02", "T03", "T04"],
    "parent": ["D01"] * 4,
    "rep_id": ["R01", "R02", "R03", "R04"],
    "potential": [4_000_000.0, 3_000_000.0, 2_000_000.0, 1_000_000.0],
    "prior_sales": [1_000_000.0, 1_200_000.0, 500_000.0, 300_000.0],
    "prior_quota": [1_100_000.0, 1_100_000.0, 600_000.0, 400_000.0],
    "weighted_pipeline": [800_000.0, 400_000.0, 600_000.0, 200_000.0],
    "workload_hours": [1450.0, 1500.0, 1300.0, 1200.0],
}

# Blended plan of 6.8 with the bounds of Q3 and the rounding of Q4.
DOMAIN_SECTION: dict[str, Any] = {
    "fiscal_year": 2026,
    "random_seed": 42,
    "plan": {"company_target": 3_300_000, "over_assignment": {"territory": 0.10}},
    "method": "blended",
    "blend_weights": {"potential": 0.5, "historical": 0.3, "pipeline": 0.2},
    "historical": {"growth": 0.10},
    "yoy_change": {"basis": "prior_quota", "min": -0.10, "max": 0.25},
    "rounding": {"unit": 10_000},
    "reps": [
        {"id": f"R0{i}", "ote": 200_000, "base": 100_000, "comp_plan": "AE"}
        for i in range(1, 5)
    ],
    "comp_plans": [
        {
            "id": "AE",
            "curve": {
                "points": [
                    [0.0, 0.0],
                    [0.5, 0.0],
                    [0.5, 0.25],
                    [1.0, 1.0],
                    [1.5, 2.0],
                    [2.0, 2.5],
                ],
                "cap": 2.5,
            },
        }
    ],
    "simulation": {"draws": 2_000, "company_forecast": 3_300_000},
}


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of ``base`` with ``changes`` merged in, dict by dict."""
    result = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def domain_table() -> pd.DataFrame:
    """The four territories of DOMAIN.md 6.8, as a fresh table."""
    return pd.DataFrame(DOMAIN_TERRITORIES)


def make_section(drop: tuple[str, ...] = (), **changes: Any) -> QuotaSection:
    """The 6.8 section, validated, with keys changed (merged) or dropped."""
    data = merged(DOMAIN_SECTION, changes)
    for key in drop:
        data.pop(key, None)
    return load_quota_section(data)
