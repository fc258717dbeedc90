"""The Excel workbook of a run: the file ops teams open first.

Sheets: Summary, Territories, Alignment, Moves (account, from, to, why),
Quotas (with a quota section), Metrics (every scorecard figure, proposed
against current). Id columns are written as text cells with the text number
format, so ``02142`` stays ``02142``; every sheet has a frozen header row, an
autofilter and number formats by column (shares as percentages, money and
counts with thousands separators, km with one decimal).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from territory_opt.compare import columns_from_documents, comparison_frame
from territory_opt.extras import Extras
from territory_opt.moves import moves_frame
from territory_opt.scorecard import territory_table
from territory_opt.solve import Run

TEXT = "@"
SHARE = "0.0%"
MONEY = "#,##0"
DECIMAL = "#,##0.00"
RATIO = "0.000"
KM = "#,##0.0"
HEADER_FILL = PatternFill("solid", fgColor="DDE6F0")
ID_SUFFIXES = ("_id", "territory", "_rep", "parent")
MAX_WIDTH = 60


def is_id_column(name: str) -> bool:
    """Whether a column holds ids (kept as text): ``account_id``, ``from_territory``."""
    return name == "rep_id" or name.endswith(ID_SUFFIXES)


def number_format(name: str, values: pd.Series | None = None) -> str:
    """The Excel number format of a column, from its name, else its values:
    shares as percentages, km with one decimal, small ratios (every value below
    10 in magnitude) with three decimals, other figures with thousands
    separators."""
    if is_id_column(name):
        return TEXT
    if name.endswith("share") or name.startswith("band_"):
        return SHARE
    if name in ("yoy_change", "p_attain", "employed_fraction"):
        return SHARE
    if "km" in name:
        return KM
    numbers = pd.to_numeric(values, errors="coerce") if values is not None else None
    if numbers is not None and numbers.notna().any() and numbers.abs().max() < 10:
        return RATIO
    return MONEY


def _cell_value(value: Any, as_text: bool) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if as_text:
        return str(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def write_sheet(workbook: Workbook, title: str, frame: pd.DataFrame) -> Worksheet:
    """A sheet of ``frame`` with typed cells, a frozen header and a filter."""
    sheet = workbook.create_sheet(title)
    columns = [str(c) for c in frame.columns]
    sheet.append(columns)
    text_columns = [is_id_column(c) for c in columns]
    for record in frame.itertuples(index=False):
        sheet.append(
            [_cell_value(v, t) for v, t in zip(record, text_columns, strict=True)]
        )
    for j, name in enumerate(columns, start=1):
        letter = get_column_letter(j)
        fmt = number_format(name, frame.iloc[:, j - 1])
        for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
            if cell.value is not None and not isinstance(cell.value, bool | str):
                cell.number_format = fmt
            elif text_columns[j - 1]:
                cell.number_format = TEXT
        widest = max([len(name)] + [len(str(v)) for v in frame.iloc[:, j - 1][:200]])
        sheet.column_dimensions[letter].width = min(widest + 2, MAX_WIDTH)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    return sheet


def summary_frame(run: Run, document: dict[str, Any]) -> pd.DataFrame:
    """Key facts of the run, one per row."""
    solve = document["solve"]
    card = document["scorecard"]
    rows: list[tuple[str, Any]] = [
        ("scenario", run.scenario.name),
        ("description", run.scenario.description),
        ("status", solve["status"]),
        ("engine", f"{solve['engine']} {solve['solver_version']}"),
        ("objective", solve["objective"]),
        ("relative gap", solve["relative_gap"]),
        ("solve time (s)", solve["runtime_s"]),
        ("accounts", run.problem.n_accounts),
        ("territories", run.problem.n_territories),
        ("scenario sha256", document["scenario"].get("sha256") or ""),
    ]
    for metric, summary in card["balance"].items():
        if summary is not None:
            rows.append(
                (
                    f"{metric}: max deviation from target",
                    summary["max_abs_deviation_share"],
                )
            )
    rows.append(("accounts moved", card["disruption"].get("accounts_moved")))
    rows.append(
        (
            "travel: workload-weighted mean km",
            card["travel"]["workload_weighted_km_mean"],
        )
    )
    return pd.DataFrame(rows, columns=["item", "value"])


def write_workbook(
    run: Run, extras: Extras | None, document: dict[str, Any], path: Path
) -> None:
    """Write ``workbook.xlsx`` of a solved run to ``path``."""
    from territory_opt.outputs import alignment_frame, territory_indices

    territory_of = territory_indices(run)
    workbook = Workbook()
    workbook.remove(workbook.active)
    summary = write_sheet(workbook, "Summary", summary_frame(run, document))
    for row in summary.iter_rows(min_row=2):
        label, cell = row[0].value, row[1]
        if isinstance(cell.value, float):
            share = "deviation" in str(label) or "gap" in str(label)
            cell.number_format = SHARE if share else DECIMAL
        elif isinstance(cell.value, str):
            cell.number_format = TEXT
    write_sheet(workbook, "Territories", territory_table(run.problem, territory_of))
    write_sheet(workbook, "Alignment", alignment_frame(run))
    write_sheet(workbook, "Moves", moves_frame(run.problem, territory_of))
    if extras is not None and extras.quota is not None:
        write_sheet(workbook, "Quotas", extras.quota.quotas)
        write_sheet(workbook, "Comp", extras.quota.comp)
    comparison = comparison_frame(columns_from_documents([("proposed", document, "")]))
    metrics = write_sheet(workbook, "Metrics", comparison)
    for row in metrics.iter_rows(min_row=2):
        name = str(row[0].value)
        for cell in row[2:]:
            if isinstance(cell.value, int | float):
                cell.number_format = SHARE if name.endswith("share") else DECIMAL
    workbook.save(path)
