"""Tables of the forecast module: columns, parsing, and the join to an alignment.

Every table enters through one ``prepare_*`` function, whether it was read from a
file (:mod:`territory_opt.forecast.io`) or built in memory. Cells may be text (as
read by :func:`territory_opt.tables.read_text_table`) or typed values; blanks are
missing. Every bad cell is reported with the place it stands (``line 7`` of a file,
``row 7`` of a frame), the column, the value found and what to write instead.

Opportunities (one row per deal):

- ``id``, ``stage``, ``amount``, ``close_date``: required columns; ``amount`` and
  ``close_date`` may be blank (the hygiene flags report them);
- ``territory_id`` and/or ``account_id``: at least one; an opportunity with an
  account takes the territory of that account in the alignment it is joined to;
- ``status`` (``open``, ``won`` or ``lost``): optional, derived from the stage;
- ``created_date``, ``stage_entered_date``, ``last_activity_date``,
  ``close_date_changes`` (count, default 0), ``forecast_category``,
  ``last_open_stage`` (the last open stage of a lost deal), and the columns named
  in ``segment_by``: optional.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from territory_opt.errors import InputError
from territory_opt.forecast.spec import CATEGORIES, ForecastSection

__all__ = [
    "UNASSIGNED",
    "AlignmentLike",
    "ForecastWarning",
    "as_alignment",
    "assign_territories",
    "prepare_actuals",
    "prepare_history",
    "prepare_opportunities",
    "prepare_revenue",
    "prepare_snapshots",
    "parse_dates",
    "parse_numbers",
    "period_start",
    "ProblemList",
]

logger = logging.getLogger(__name__)

# Territory id of rows whose account has no territory in the alignment.
UNASSIGNED = "(unassigned)"

AlignmentLike = Mapping[str, str] | pd.Series | pd.DataFrame

_DATE_COLUMNS = ("created_date", "stage_entered_date", "last_activity_date")
_TEXT_COLUMNS = ("forecast_category", "last_open_stage")
_STATUSES = ("open", "won", "lost")
_MAX_LISTED = 20


@dataclass(frozen=True)
class ForecastWarning:
    """A non-fatal finding: a short code and a full sentence."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        """The warning as a JSON-ready mapping."""
        return {"code": self.code, "message": self.message}


class ProblemList:
    """Bad cells of one table, raised together as one InputError.

    ``source`` names the table (a file path) in the first line of the message;
    at most 20 problems are listed, followed by a count of the rest.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        lines = [f"{self.source}: {len(self.items)} problem(s) in the table"]
        lines += [f"  - {item}" for item in self.items[:_MAX_LISTED]]
        if len(self.items) > _MAX_LISTED:
            lines.append(f"  ... and {len(self.items) - _MAX_LISTED} more")
        raise InputError("\n".join(lines))


Where = Callable[[int], str]


def _row_where(i: int) -> str:
    return f"row {i + 1}"


def _is_blank(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    return ["" if _is_blank(v) else str(v).strip() for v in frame[column]]


def _require(frame: pd.DataFrame, source: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        have = ", ".join(f"'{c}'" for c in frame.columns) or "no columns"
        raise InputError(
            f"{source}: missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"the table has {have}. Rename the columns to the names above"
        )


def parse_dates(
    frame: pd.DataFrame, column: str, where: Where, problems: ProblemList
) -> pd.Series:
    """Parse a date column; blanks become NaT, bad cells are reported."""
    values: list[Any] = []
    for i, cell in enumerate(frame[column]):
        if _is_blank(cell):
            values.append(pd.NaT)
            continue
        if isinstance(cell, datetime | date | pd.Timestamp | np.datetime64):
            values.append(pd.Timestamp(cell).normalize())
            continue
        text = str(cell).strip()
        try:
            values.append(pd.Timestamp(date.fromisoformat(text[:10])))
        except ValueError:
            problems.add(
                f"{where(i)}, column '{column}': '{text}' is not a date; write it "
                f"as YYYY-MM-DD"
            )
            values.append(pd.NaT)
    return pd.Series(pd.to_datetime(values), index=frame.index)


def parse_numbers(
    frame: pd.DataFrame,
    column: str,
    where: Where,
    problems: ProblemList,
    *,
    minimum: float | None = None,
    allow_blank: bool = True,
) -> pd.Series:
    """Parse a numeric column; blanks become NaN unless they are not allowed."""
    values = np.full(len(frame), np.nan)
    for i, cell in enumerate(frame[column]):
        if _is_blank(cell):
            if not allow_blank:
                problems.add(
                    f"{where(i)}, column '{column}': value is missing; write a number"
                )
            continue
        try:
            number = float(str(cell).strip())
        except ValueError:
            problems.add(
                f"{where(i)}, column '{column}': '{cell}' is not a number; write "
                f"plain digits with a dot for decimals (1234.5)"
            )
            continue
        if not math.isfinite(number):
            problems.add(f"{where(i)}, column '{column}': '{cell}' is not finite")
        elif minimum is not None and number < minimum:
            problems.add(
                f"{where(i)}, column '{column}': {cell} is below the minimum "
                f"{minimum:g}"
            )
        else:
            values[i] = number
    return pd.Series(values, index=frame.index, dtype=float)


def _unique_ids(
    ids: list[str], column: str, where: Where, problems: ProblemList
) -> None:
    seen: dict[str, int] = {}
    for i, value in enumerate(ids):
        if not value:
            problems.add(
                f"{where(i)}, column '{column}': empty id; every row needs one"
            )
        elif value in seen:
            problems.add(
                f"{where(i)}, column '{column}': id '{value}' repeats "
                f"{where(seen[value])}; ids must be unique"
            )
        else:
            seen[value] = i


def prepare_opportunities(
    frame: pd.DataFrame,
    section: ForecastSection,
    *,
    source: str = "opportunities",
    where: Where | None = None,
) -> pd.DataFrame:
    """Validate an opportunity table and return it in the canonical form.

    Parameters
    ----------
    frame
        One row per opportunity, with the columns listed in the module docstring.
    section
        The forecast section; it gives the stage names and ``segment_by``.
    source
        Name of the table in error messages, for example its file path.
    where
        Function giving the human place of a 0-based row (default ``row n``).

    Returns
    -------
    pandas.DataFrame
        A new frame with text ids, ``amount`` as float (NaN when blank), dates as
        datetime (NaT when blank), ``close_date_changes`` as int, ``status`` in
        ``open``/``won``/``lost``, ``territory_id`` and ``account_id`` as text
        (blank when unknown) and ``forecast_category`` normalised to ``pipeline``,
        ``best_case``, ``commit``, ``omitted`` or blank. Extra columns are kept.

    Raises
    ------
    InputError
        When a required column is missing or a cell cannot be read; every bad
        cell is listed with its place.
    """
    where = where or _row_where
    _require(frame, source, ("id", "stage", "amount", "close_date"))
    if "territory_id" not in frame and "account_id" not in frame:
        raise InputError(
            f"{source}: needs a 'territory_id' or an 'account_id' column to place "
            f"each opportunity in a territory; add one of them"
        )
    _require(frame, source, section.segment_by)
    problems = ProblemList(source)
    out = frame.reset_index(drop=True).copy()
    ids = _texts(out, "id")
    _unique_ids(ids, "id", where, problems)
    out["id"] = ids
    out["stage"] = _texts(out, "stage")
    for column in ("territory_id", "account_id", *section.segment_by, *_TEXT_COLUMNS):
        out[column] = _texts(out, column) if column in out else [""] * len(out)
    out["amount"] = parse_numbers(out, "amount", where, problems)
    out["close_date"] = parse_dates(out, "close_date", where, problems)
    for column in _DATE_COLUMNS:
        if column in out:
            out[column] = parse_dates(out, column, where, problems)
        else:
            out[column] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    if "close_date_changes" in out:
        changes = parse_numbers(out, "close_date_changes", where, problems, minimum=0)
        out["close_date_changes"] = changes.fillna(0).astype(int)
    else:
        out["close_date_changes"] = 0
    out["status"] = _statuses(out, section, where, problems)
    out["forecast_category"] = _categories(out, where, problems)
    problems.raise_if_any()
    return out


def _statuses(
    frame: pd.DataFrame, section: ForecastSection, where: Where, problems: ProblemList
) -> list[str]:
    won, lost = set(section.won_stages), set(section.lost_stages)
    derived = [
        "won" if s in won else "lost" if s in lost else "open" for s in frame["stage"]
    ]
    if "status" not in frame:
        return derived
    given = [s.lower() for s in _texts(frame, "status")]
    for i, status in enumerate(given):
        if status and status not in _STATUSES:
            problems.add(
                f"{where(i)}, column 'status': '{status}' is not a status; write "
                f"open, won or lost, or leave it blank to derive it from the stage"
            )
    return [g if g in _STATUSES else d for g, d in zip(given, derived, strict=True)]


def _categories(frame: pd.DataFrame, where: Where, problems: ProblemList) -> list[str]:
    """Normalise Salesforce labels (``Best Case``) to ``best_case``; ``closed``
    on an open deal counts as ``commit``."""
    result = []
    for i, text in enumerate(frame["forecast_category"]):
        key = str(text).strip().lower().replace(" ", "_").replace("-", "_")
        if key == "closed":
            key = "commit"
        if key and key not in CATEGORIES:
            problems.add(
                f"{where(i)}, column 'forecast_category': '{text}' is not a "
                f"category; write one of {', '.join(CATEGORIES)} or leave it blank"
            )
            key = ""
        result.append(key)
    return result


def prepare_history(
    frame: pd.DataFrame, *, source: str = "history", where: Where | None = None
) -> pd.DataFrame:
    """Validate a stage history table: ``id``, ``stage``, ``entered_date``.

    Returns a new frame sorted by id, entered date and file order, with text ids
    and stages and datetime ``entered_date``.

    Raises
    ------
    InputError
        When a column is missing, an id or stage is blank, or a date is bad.
    """
    where = where or _row_where
    _require(frame, source, ("id", "stage", "entered_date"))
    problems = ProblemList(source)
    out = frame.reset_index(drop=True).copy()
    out["id"] = _texts(out, "id")
    out["stage"] = _texts(out, "stage")
    for column in ("id", "stage", "entered_date"):
        for i, cell in enumerate(out[column]):
            if _is_blank(cell):
                problems.add(
                    f"{where(i)}, column '{column}': value is missing; every "
                    f"history row needs an id, a stage and the day it was entered"
                )
    out["entered_date"] = parse_dates(out, "entered_date", where, problems)
    problems.raise_if_any()
    out["_row"] = np.arange(len(out))
    out = out.sort_values(["id", "entered_date", "_row"], kind="stable")
    return out.drop(columns="_row").reset_index(drop=True)


def prepare_actuals(
    frame: pd.DataFrame, *, source: str = "actuals", where: Where | None = None
) -> pd.DataFrame:
    """Validate actuals: ``territory_id``, ``period``, ``actual`` (>= 0, required)."""
    where = where or _row_where
    _require(frame, source, ("territory_id", "period", "actual"))
    problems = ProblemList(source)
    out = frame.reset_index(drop=True).copy()
    out["territory_id"] = _texts(out, "territory_id")
    out["period"] = _texts(out, "period")
    out["actual"] = parse_numbers(
        out, "actual", where, problems, minimum=0.0, allow_blank=False
    )
    _check_periods(out, where, problems)
    problems.raise_if_any()
    return out


def prepare_snapshots(
    frame: pd.DataFrame,
    *,
    source: str = "forecast snapshots",
    where: Where | None = None,
) -> pd.DataFrame:
    """Validate forecast snapshots: ``territory_id``, ``period``, ``snapshot_date``,
    ``forecast`` (>= 0, required)."""
    where = where or _row_where
    _require(frame, source, ("territory_id", "period", "snapshot_date", "forecast"))
    problems = ProblemList(source)
    out = frame.reset_index(drop=True).copy()
    out["territory_id"] = _texts(out, "territory_id")
    out["period"] = _texts(out, "period")
    out["snapshot_date"] = parse_dates(out, "snapshot_date", where, problems)
    out["forecast"] = parse_numbers(
        out, "forecast", where, problems, minimum=0.0, allow_blank=False
    )
    for i, cell in enumerate(frame["snapshot_date"]):
        if _is_blank(cell):
            problems.add(f"{where(i)}, column 'snapshot_date': value is missing")
    _check_periods(out, where, problems)
    problems.raise_if_any()
    out["snapshot_date"] = pd.to_datetime(out["snapshot_date"])
    return out


def period_start(label: str) -> date:
    """First day of a period label.

    Accepted labels: ``2026`` (a year), ``2026-Q2`` (a quarter), ``2026-04`` (a
    month) and ``2026-04-01`` (a period that starts on that day).

    Raises
    ------
    ValueError
        When the label has none of these forms.
    """
    text = str(label).strip()
    match = re.fullmatch(r"(\d{4})(?:-(?:[Qq]([1-4])|(\d{2}))(?:-(\d{2}))?)?", text)
    if match is None:
        raise ValueError(
            f"'{text}' is not a period; write 2026, 2026-Q2, 2026-04 or 2026-04-01"
        )
    year, quarter, month, day = match.groups()
    first_month = 3 * (int(quarter) - 1) + 1 if quarter else int(month or 1)
    try:
        if quarter is not None and day is not None:
            raise ValueError("a quarter has no day")
        return date(int(year), first_month, int(day or 1))
    except ValueError as exc:
        raise ValueError(
            f"'{text}' is not a period ({exc}); write 2026, 2026-Q2, 2026-04 or "
            f"2026-04-01"
        ) from None


def _check_periods(frame: pd.DataFrame, where: Where, problems: ProblemList) -> None:
    for i, label in enumerate(frame["period"]):
        try:
            period_start(label)
        except ValueError as exc:
            problems.add(f"{where(i)}, column 'period': {exc}")


def prepare_revenue(
    frame: pd.DataFrame, *, source: str = "revenue", where: Where | None = None
) -> pd.DataFrame:
    """Validate account-level revenue: ``account_id``, ``revenue`` and the optional
    ``product``, ``cost`` and ``margin``.

    ``margin`` is ``revenue - cost`` when only cost is given, and ``cost`` is
    ``revenue - margin`` when only margin is given; both are NaN when neither is.
    """
    where = where or _row_where
    _require(frame, source, ("account_id", "revenue"))
    problems = ProblemList(source)
    out = frame.reset_index(drop=True).copy()
    out["account_id"] = _texts(out, "account_id")
    for i, account in enumerate(out["account_id"]):
        if not account:
            problems.add(f"{where(i)}, column 'account_id': empty id")
    out["product"] = _texts(out, "product") if "product" in out else ""
    out["revenue"] = parse_numbers(out, "revenue", where, problems, allow_blank=False)
    cost = parse_numbers(out, "cost", where, problems) if "cost" in out else None
    margin = parse_numbers(out, "margin", where, problems) if "margin" in out else None
    problems.raise_if_any()
    if margin is None and cost is not None:
        margin = out["revenue"] - cost
    if cost is None and margin is not None:
        cost = out["revenue"] - margin
    nan = pd.Series(np.nan, index=out.index)
    out["cost"] = nan if cost is None else cost
    out["margin"] = nan if margin is None else margin
    return out


def as_alignment(alignment: AlignmentLike) -> dict[str, str]:
    """An alignment as a plain mapping account_id -> territory_id.

    Parameters
    ----------
    alignment
        A mapping, a Series indexed by account id, or a frame with the columns
        ``account_id`` and ``territory_id``.

    Raises
    ------
    InputError
        When a frame lacks those columns or maps one account twice.
    """
    if isinstance(alignment, pd.DataFrame):
        _require(alignment, "alignment", ("account_id", "territory_id"))
        accounts = _texts(alignment, "account_id")
        territories = _texts(alignment, "territory_id")
        repeated = sorted({a for a in accounts if accounts.count(a) > 1})
        if repeated:
            raise InputError(
                f"alignment: account(s) {', '.join(repeated[:5])} appear more than "
                f"once; an account belongs to one territory"
            )
        return dict(zip(accounts, territories, strict=True))
    items = alignment.items()
    return {str(k).strip(): "" if _is_blank(v) else str(v).strip() for k, v in items}


def assign_territories(
    frame: pd.DataFrame, alignment: AlignmentLike | None
) -> tuple[pd.DataFrame, list[ForecastWarning]]:
    """Place each row in the territory of its account in ``alignment``.

    A row whose ``account_id`` is in the alignment takes that account's territory,
    so moving an account moves its revenue, pipeline and history. A row without
    an account keeps its own ``territory_id`` (the owner's territory). A row whose
    account is not in the alignment keeps its own territory too, or goes to
    ``(unassigned)`` if it has none; such rows are counted in a warning.

    Returns
    -------
    tuple
        A new frame with ``territory_id`` set, and the warnings.
    """
    out = frame.copy()
    own = list(out["territory_id"]) if "territory_id" in out else [""] * len(out)
    accounts = list(out["account_id"]) if "account_id" in out else [""] * len(out)
    if alignment is None:
        out["territory_id"] = [t or UNASSIGNED for t in own]
        return out, []
    mapping = as_alignment(alignment)
    placed, orphans = [], []
    for account, territory in zip(accounts, own, strict=True):
        if account and mapping.get(account):
            placed.append(mapping[account])
            continue
        if account:
            orphans.append(account)
        placed.append(territory or UNASSIGNED)
    out["territory_id"] = placed
    warnings = []
    if orphans:
        names = sorted(set(orphans))
        message = (
            f"{len(orphans)} row(s) name {len(names)} account(s) missing from the "
            f"alignment (first: {', '.join(names[:5])}); they keep their own "
            f"territory or go to {UNASSIGNED}. Add the accounts to the alignment"
        )
        logger.warning(message)
        warnings.append(ForecastWarning("accounts_not_aligned", message))
    return out, warnings
