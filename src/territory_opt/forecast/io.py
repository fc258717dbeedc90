"""Reading the forecast tables named in the ``forecast:`` section.

Each file may be CSV, Parquet or XLSX; it is read with every cell as text by
:func:`territory_opt.tables.read_text_table`, then validated by the matching
``prepare_*`` function of :mod:`territory_opt.forecast.schema`, so errors name the
file, the line and the column.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from territory_opt.errors import InputError
from territory_opt.forecast.schema import (
    prepare_actuals,
    prepare_history,
    prepare_opportunities,
    prepare_revenue,
    prepare_snapshots,
)
from territory_opt.forecast.spec import ForecastSection
from territory_opt.tables import read_text_table

__all__ = [
    "ForecastInputs",
    "load_forecast_inputs",
    "read_actuals",
    "read_history",
    "read_opportunities",
    "read_revenue",
    "read_snapshots",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForecastInputs:
    """The validated tables of a forecast; optional ones are None when not set."""

    opportunities: pd.DataFrame
    history: pd.DataFrame | None = None
    actuals: pd.DataFrame | None = None
    snapshots: pd.DataFrame | None = None
    revenue: pd.DataFrame | None = None


def read_opportunities(path: Path, section: ForecastSection) -> pd.DataFrame:
    """Read and validate an opportunities file (see the schema module)."""
    table = read_text_table(Path(path))
    frame = prepare_opportunities(
        table.frame, section, source=str(table.path), where=table.where
    )
    logger.info("read %d opportunities from %s", len(frame), table.path)
    return frame


def read_history(path: Path) -> pd.DataFrame:
    """Read and validate a stage history file: ``id``, ``stage``, ``entered_date``."""
    table = read_text_table(Path(path))
    return prepare_history(table.frame, source=str(table.path), where=table.where)


def read_actuals(path: Path) -> pd.DataFrame:
    """Read and validate an actuals file: ``territory_id``, ``period``, ``actual``."""
    table = read_text_table(Path(path))
    return prepare_actuals(table.frame, source=str(table.path), where=table.where)


def read_snapshots(path: Path) -> pd.DataFrame:
    """Read and validate a forecast snapshot file."""
    table = read_text_table(Path(path))
    return prepare_snapshots(table.frame, source=str(table.path), where=table.where)


def read_revenue(path: Path) -> pd.DataFrame:
    """Read and validate an account-level revenue file."""
    table = read_text_table(Path(path))
    return prepare_revenue(table.frame, source=str(table.path), where=table.where)


def load_forecast_inputs(section: ForecastSection) -> ForecastInputs:
    """Read every file the section names.

    Raises
    ------
    InputError
        When ``opportunities_file`` is not set, or a file is missing or invalid.
    """
    if section.opportunities_file is None:
        raise InputError(
            "forecast.opportunities_file is not set; add the path of the "
            "opportunities table to the forecast section"
        )
    return ForecastInputs(
        opportunities=read_opportunities(section.opportunities_file, section),
        history=_maybe(read_history, section.history_file),
        actuals=_maybe(read_actuals, section.actuals_file),
        snapshots=_maybe(read_snapshots, section.forecast_snapshots_file),
        revenue=_maybe(read_revenue, section.revenue_file),
    )


def _maybe(
    reader: Callable[[Path], pd.DataFrame], path: Path | None
) -> pd.DataFrame | None:
    return None if path is None else reader(path)
