"""Builders of forecast sections and opportunity tables for the forecast tests.

Plain functions rather than fixtures: a conftest.py here would shadow the
top-level tests/conftest.py that other test modules import from.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from territory_opt.forecast.schema import prepare_opportunities
from territory_opt.forecast.spec import ForecastSection

BASE_SECTION: dict[str, Any] = {
    "as_of": "2026-01-05",
    "period": {"start": "2026-01-01", "end": "2026-12-31"},
    "stage_order": ["A", "B", "C"],
    "won_stages": ["Won"],
    "lost_stages": ["Lost"],
    "lookback_days": 365,
    "smoothing_alpha": 2,
    "default_probabilities": {"A": 0.2, "B": 0.5, "C": 0.8},
    "draws": 0,
}


def build_section(**changes: Any) -> ForecastSection:
    """A validated section: stages A < B < C, alpha 2, no draws, plus changes."""
    return ForecastSection.model_validate(BASE_SECTION | changes)


def build_opportunities(
    rows: list[dict[str, Any]], section: ForecastSection | None = None
) -> pd.DataFrame:
    """Canonical opportunities from row dicts; missing required columns are blank."""
    frame = pd.DataFrame(rows)
    for column in ("amount", "close_date", "territory_id"):
        if column not in frame:
            frame[column] = ""
    return prepare_opportunities(frame, section or build_section())
