"""Write the quota and comp tables of a :class:`~territory_opt.quota.run.QuotaOutcome`.

Text columns (ids, plan names, flags) are quoted in the CSV files so that a reader
keeps them as text: territory ``02142`` stays ``02142``. Numbers are written in
full precision. Each file is written beside its target and renamed into place.
"""

from __future__ import annotations

import csv
import logging
import os
from pathlib import Path

import pandas as pd

from territory_opt.errors import InputError
from territory_opt.quota.run import QuotaOutcome

__all__ = ["write_quota_files"]

logger = logging.getLogger(__name__)

QUOTAS_FILE = "quotas.csv"
COMP_FILE = "comp.csv"


def _as_text(table: pd.DataFrame) -> pd.DataFrame:
    """Copy with every text column as plain strings (blank for missing)."""
    copy = table.copy()
    for column in copy.columns:
        if not pd.api.types.is_numeric_dtype(copy[column]):
            copy[column] = copy[column].map(lambda v: "" if pd.isna(v) else str(v))
    return copy


def write_quota_files(outcome: QuotaOutcome, folder: str | Path) -> list[Path]:
    """Write ``quotas.csv`` and ``comp.csv`` into an existing folder.

    ``comp.csv`` is left out when nothing was simulated (``simulation: null``).

    Parameters
    ----------
    outcome
        The result of :func:`~territory_opt.quota.run.plan_quotas`.
    folder
        Folder to write into; it must exist. Files of the same name are replaced.

    Returns
    -------
    list of pathlib.Path
        The files written, quotas first.

    Raises
    ------
    InputError
        If ``folder`` does not exist or is not a folder.
    """
    target = Path(folder)
    if not target.is_dir():
        raise InputError(
            f"{target}: output folder does not exist; create it before writing the "
            "quota files"
        )
    written = []
    for name, table in ((QUOTAS_FILE, outcome.quotas), (COMP_FILE, outcome.comp)):
        if table.empty:
            logger.info("%s not written: nothing was simulated", name)
            continue
        path = target / name
        # Written beside the target and renamed, so a reader never sees half a file.
        partial = target / f".{name}.partial"
        _as_text(table).to_csv(partial, index=False, quoting=csv.QUOTE_NONNUMERIC)
        os.replace(partial, path)
        written.append(path)
        logger.info("wrote %s (%d rows)", path, len(table))
    return written
