"""Reading the account and territory tables, with errors that name file, line, column.

Every cell is first read as text, so that ids keep their leading zeros (ZIP ``02142``
stays ``02142``) and never turn into floats (``1004`` never becomes ``1004.0``).
Numeric fields are then parsed column by column; every bad cell is reported with the
line (CSV, XLSX: the spreadsheet line, the header being line 1) or row (Parquet:
1-based data row) where it stands, and what to write instead.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from territory_opt.coordinates import flag_swapped
from territory_opt.errors import InputError, preview_ids
from territory_opt.scenario import CSV_SUFFIXES, AccountTable, TerritoryTable

logger = logging.getLogger(__name__)

MAX_LISTED_PROBLEMS = 20
SEGMENT_SEPARATOR = ";"
MISSING_WORDS = ("nan", "na", "n/a", "null", "none")


@dataclass(frozen=True)
class TextTable:
    """A table read with every cell as text; blank cells are empty strings."""

    path: Path
    frame: pd.DataFrame
    row_word: str
    first_row_number: int
    numeric_cells: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def where(self, position: int) -> str:
        """Human position of the data row at 0-based ``position``.

        Rows keep their number in the file after others are dropped.
        """
        return (
            f"{self.row_word} {int(self.frame.index[position]) + self.first_row_number}"
        )

    def without_rows(self, positions: Iterable[int]) -> TextTable:
        """The same table without the rows at the 0-based ``positions``."""
        drop = set(positions)
        keep = [i for i in range(len(self.frame)) if i not in drop]
        labels = set(self.frame.index[keep].tolist())
        numeric = {
            column: tuple(p for p in cells if p in labels)
            for column, cells in self.numeric_cells.items()
        }
        return replace(self, frame=self.frame.iloc[keep], numeric_cells=numeric)


class _Problems:
    """Collects bad cells of one file and raises them together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        shown = self.items[:MAX_LISTED_PROBLEMS]
        lines = [f"{self.path}: {len(self.items)} problem(s) in the table"]
        lines += [f"  - {item}" for item in shown]
        if len(self.items) > len(shown):
            lines.append(f"  ... and {len(self.items) - len(shown)} more")
        raise InputError("\n".join(lines))


def _cell_to_text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value).strip()


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}


def _yaml_text(character: str) -> str:
    """``character`` as a YAML scalar: the tab as ``"\\t"``, others quoted."""
    return '"\\t"' if character == "\t" else f"'{character}'"


def _check_delimiter(
    path: Path, header: str, delimiter: str, settable: bool = True
) -> None:
    """Refuse a CSV whose header is one name by ``delimiter`` but several by
    another delimiter. ``settable`` says whether the scenario has a
    ``delimiter`` option for this file, to offer it as a fix.

    Raises
    ------
    InputError
        Naming the file, the delimiter the header holds and the option to set.
    """
    if len([part for part in header.split(delimiter) if part.strip()]) > 1:
        return
    for character, name in DELIMITER_NAMES.items():
        parts = [part for part in header.split(character) if part.strip()]
        if character != delimiter and len(parts) > 1:
            used = DELIMITER_NAMES.get(delimiter, repr(delimiter))
            raise InputError(
                f"{path}: read with the {used} delimiter, the file has a single "
                f"column, and its header holds {len(parts)} names separated by "
                f"{name}s ({', '.join(repr(p) for p in parts[:4])}"
                f"{', ...' if len(parts) > 4 else ''}); "
                + (
                    f"set delimiter: {_yaml_text(character)} next to its path in "
                    f"the scenario, or save the file with commas"
                    if settable
                    else "save the file with commas"
                )
            )


def read_text_table(
    path: Path,
    sheet: str | None = None,
    encoding: str = "utf-8",
    delimiter: str | None = None,
) -> TextTable:
    """Read a CSV, Parquet or XLSX file with every cell as text.

    ``encoding`` and ``delimiter`` (one character) apply to CSV files only.
    ``delimiter`` None reads commas for a file whose scenario entry has no
    ``delimiter`` option, so that a hint does not offer one.

    Raises
    ------
    InputError
        When the file is missing, of an unknown kind, not decodable with
        ``encoding``, empty, or a CSV file whose only header holds another
        delimiter; or when a delimiter is given for a Parquet or Excel file.
    """
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path in the scenario")
    suffix = path.suffix.lower()
    settable = delimiter is not None
    delimiter = delimiter or ","
    if delimiter != "," and suffix not in CSV_SUFFIXES:
        raise InputError(
            f"{path}: delimiter {_yaml_text(delimiter)} applies to CSV files only; "
            f"remove it next to the path in the scenario"
        )
    if suffix in CSV_SUFFIXES:
        codec = (
            "utf-8-sig" if encoding.lower().replace("_", "-") == "utf-8" else encoding
        )
        try:
            frame = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding=codec,
                sep=delimiter,
            )
        except LookupError:
            raise InputError(
                f"{path}: '{encoding}' is not a known text encoding; set "
                f"'encoding' to one such as utf-8, cp1252 or latin-1"
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path}: byte {exc.start} cannot be decoded as {encoding} "
                f"({exc.reason}); save the file as UTF-8, or set 'encoding' "
                f"(for example cp1252 or latin-1) next to its path in the scenario"
            ) from None
        except pd.errors.EmptyDataError:
            raise InputError(
                f"{path}: the file is empty; it needs a header row"
            ) from None
        except pd.errors.ParserError as exc:
            with path.open(encoding=codec, errors="replace") as stream:
                first_line = stream.readline().rstrip("\r\n")
            _check_delimiter(path, first_line, delimiter, settable)
            raise InputError(f"{path}: not a readable CSV file: {exc}") from None
        if len(frame.columns) == 1:
            _check_delimiter(path, str(frame.columns[0]), delimiter, settable)
        row_word, first = "line", 2
    elif suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
        row_word, first = "row", 1
    elif suffix in (".xlsx", ".xlsm"):
        frame = pd.read_excel(
            path, sheet_name=sheet or 0, dtype=object, engine="openpyxl"
        )
        row_word, first = "line", 2
    else:
        raise InputError(
            f"{path}: unknown table format '{suffix}'; use .csv, .parquet or .xlsx"
        )
    frame = frame.rename(columns=lambda c: str(c).strip())
    numeric = {
        str(column): tuple(
            i for i, value in enumerate(frame[column]) if _is_number_cell(value)
        )
        for column in frame.columns
    }
    frame = frame.apply(lambda col: col.map(_cell_to_text)).astype(object)
    frame = frame.reset_index(drop=True)
    return TextTable(
        path=path,
        frame=frame,
        row_word=row_word,
        first_row_number=first,
        numeric_cells={c: cells for c, cells in numeric.items() if cells},
    )


def _is_number_cell(value: object) -> bool:
    """True for a cell stored as a number (not text) in Parquet or Excel."""
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, float | np.floating):
        return not math.isnan(value)
    return isinstance(value, int | np.integer)


def _require_columns(table: TextTable, wanted: dict[str, str]) -> None:
    missing = [(field, col) for field, col in wanted.items() if col not in table.frame]
    if missing:
        listed = ", ".join(f"'{col}' (for {field})" for field, col in missing)
        available = ", ".join(f"'{c}'" for c in table.frame.columns)
        raise InputError(
            f"{table.path}: missing column(s) {listed}; the file has {available}. "
            f"Rename the column or map it under 'columns' in the scenario"
        )


def _numeric_ids(
    table: TextTable,
    column: str,
    field: str,
    values: list[str],
    policy: str,
    digits: int,
    problems: _Problems,
) -> list[str]:
    """Pad or refuse ids that the file stores as numbers (``policy``)."""
    labels = table.frame.index.tolist()
    stored = set(table.numeric_cells.get(column, ()))
    positions = [i for i, label in enumerate(labels) if label in stored]
    if policy == "keep" or not positions:
        return values
    if policy == "reject":
        places = ", ".join(table.where(i) for i in positions[:5])
        problems.add(
            f"column '{column}' ({field}): {len(positions)} id(s) are stored as "
            f"numbers ({places}), so leading zeros may be lost; store the column as "
            f"text, or set numeric_ids: pad with id_digits in the scenario"
        )
        return values
    padded = list(values)
    changed = []
    for i in positions:
        if padded[i].isdigit() and len(padded[i]) < digits:
            changed.append(i)
            padded[i] = padded[i].zfill(digits)
    if changed:
        example = f"{values[changed[0]]} -> {padded[changed[0]]}"
        logger.warning(
            "%s: %d numeric id(s) in column '%s' padded with zeros to %d digits "
            "(for example %s); store ids as text to avoid this",
            table.path,
            len(changed),
            column,
            digits,
            example,
        )
    return padded


def _ids(
    table: TextTable,
    column: str,
    field: str,
    problems: _Problems,
    numeric_ids: str = "keep",
    digits: int = 5,
) -> list[str]:
    values = [str(v) for v in table.frame[column]]
    values = _numeric_ids(table, column, field, values, numeric_ids, digits, problems)
    positions: dict[str, list[int]] = {}
    for i, value in enumerate(values):
        if value == "":
            problems.add(
                f"{table.where(i)}, column '{column}' ({field}): empty id; "
                f"every row needs one"
            )
        else:
            positions.setdefault(value, []).append(i)
    for value, where in positions.items():
        if len(where) > 1:
            lines = ", ".join(table.where(i) for i in where[:5])
            problems.add(
                f"column '{column}' ({field}): id '{value}' appears {len(where)} "
                f"times ({lines}); ids must be unique"
            )
    return values


def _numbers(
    table: TextTable,
    column: str,
    field: str,
    problems: _Problems,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    strictly_positive: bool = False,
    allow_blank: bool = False,
    fill: float | None = None,
    fill_hint: str = "",
) -> np.ndarray:
    texts = table.frame[column]
    parsed = pd.to_numeric(texts.where(texts != "", None), errors="coerce")
    result = parsed.to_numpy(dtype=float, copy=True)
    filled: list[int] = []
    for i, (text, value) in enumerate(zip(texts, result, strict=True)):
        place = f"{table.where(i)}, column '{column}' ({field})"
        if text == "" and allow_blank:
            continue
        missing = text == "" or (math.isnan(value) and text.lower() in MISSING_WORDS)
        if missing and fill is not None:
            result[i] = value = fill
            filled.append(i)
        elif missing:
            problems.add(f"{place}: value is missing; write a number{fill_hint}")
        elif math.isnan(value):
            problems.add(f"{place}: '{text}' is not a number")
        elif math.isinf(value):
            problems.add(f"{place}: '{text}' is not a finite number")
        elif strictly_positive and value <= 0:
            problems.add(f"{place}: {text} must be greater than 0")
        elif minimum is not None and value < minimum:
            problems.add(f"{place}: {text} is below the allowed minimum {minimum:g}")
        elif maximum is not None and value > maximum:
            problems.add(f"{place}: {text} is above the allowed maximum {maximum:g}")
    if filled:
        logger.warning(
            "%s: %d missing value(s) in column '%s' (%s) filled with %g (%s)",
            table.path,
            len(filled),
            column,
            field,
            fill,
            ", ".join(table.where(i) for i in filled[:5])
            + (f" and {len(filled) - 5} more" if len(filled) > 5 else ""),
        )
    return result


def _optional_column(
    table: TextTable, mapped: str | None, canonical: str
) -> str | None:
    if mapped is not None:
        return mapped
    return canonical if canonical in table.frame else None


def _coordinates(
    table: TextTable, lat: str, lon: str, problems: _Problems, allow_blank: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    lat_values = _numbers(
        table,
        lat,
        "lat",
        problems,
        minimum=-90.0,
        maximum=90.0,
        allow_blank=allow_blank,
    )
    lon_values = _numbers(
        table,
        lon,
        "lon",
        problems,
        minimum=-180.0,
        maximum=180.0,
        allow_blank=allow_blank,
    )
    return lat_values, lon_values


@dataclass(frozen=True)
class AccountData:
    """Validated accounts, in file order. ``metrics`` holds every numeric column
    that the scenario balances on, by its name in the scenario. ``lat``/``lon``
    are NaN for named accounts given without coordinates."""

    path: Path
    account_id: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    potential: np.ndarray
    workload_hours: np.ndarray
    revenue: np.ndarray | None
    current_territory: tuple[str, ...] | None
    segment: tuple[str, ...] | None
    family_id: tuple[str, ...] | None
    metrics: dict[str, np.ndarray]
    postal_code: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TerritoryData:
    """Validated territories, in file order; a vacant territory has rep_id ``""``.

    ``lat``/``lon`` are NaN where the file leaves the home blank.
    """

    path: Path
    territory_id: tuple[str, ...]
    rep_id: tuple[str, ...]
    lat: np.ndarray
    lon: np.ndarray
    fte: np.ndarray
    capacity_hours: np.ndarray
    segments: tuple[frozenset[str] | None, ...]
    parent: tuple[str, ...]
    home_unit: tuple[str, ...]


BUILT_IN_METRICS = ("potential", "workload_hours", "accounts", "revenue")


def load_accounts(
    spec: AccountTable, balance_metrics: Iterable[str] = ()
) -> AccountData:
    """Read and validate the accounts table.

    ``balance_metrics`` names the metrics the scenario balances; besides the
    built-in ones (potential, workload_hours, accounts, revenue) each must be a
    numeric column of the file.
    """
    table = read_text_table(spec.path, spec.sheet, spec.encoding, spec.delimiter)
    cols = spec.columns
    # Named accounts may come without coordinates: both columns absent (under
    # their default names) means no geography; distances are then not available.
    located = not (
        cols.lat == "lat"
        and cols.lon == "lon"
        and "lat" not in table.frame
        and "lon" not in table.frame
    )
    required = {
        "account_id": cols.account_id,
        "potential": cols.potential,
        "workload_hours": cols.workload_hours,
    }
    if located:
        required |= {"lat": cols.lat, "lon": cols.lon}
    optional = {
        name: _optional_column(table, getattr(cols, name), name)
        for name in (
            "current_territory",
            "segment",
            "family_id",
            "revenue",
            "postal_code",
        )
    }
    extra_metrics = [m for m in balance_metrics if m not in BUILT_IN_METRICS]
    wanted = dict(required)
    wanted |= {k: v for k, v in optional.items() if v is not None}
    wanted |= {f"balance metric {m}": m for m in extra_metrics}
    _require_columns(table, wanted)
    if "revenue" in balance_metrics and optional["revenue"] is None:
        raise InputError(
            f"{table.path}: the scenario balances 'revenue' but the file has no "
            f"revenue column; map one under accounts.columns.revenue"
        )
    fillable = ["potential", "workload_hours", *extra_metrics]
    if optional["revenue"] is not None:
        fillable.append("revenue")
    unknown = sorted(set(spec.fill_missing) - set(fillable))
    if unknown:
        raise InputError(
            f"accounts.fill_missing: {preview_ids(unknown)} is not a numeric field "
            f"of {table.path}; use one of {preview_ids(fillable, 10)}"
        )
    if spec.drop_blank_ids:
        table = _drop_blank_ids(table, cols.account_id)

    problems = _Problems(table.path)
    ids = _ids(
        table,
        cols.account_id,
        "account_id",
        problems,
        numeric_ids=spec.numeric_ids,
        digits=spec.id_digits,
    )
    if located:
        lat, lon = _coordinates(table, cols.lat, cols.lon, problems)
        flag_swapped(table, lat, lon, spec.region, problems, (cols.lat, cols.lon))
    else:
        lat = lon = np.full(len(table.frame), np.nan)

    def number(column: str, field: str) -> np.ndarray:
        return _numbers(
            table,
            column,
            field,
            problems,
            minimum=0.0,
            fill=spec.fill_missing.get(field.removeprefix("balance metric ")),
            fill_hint=", or set accounts.fill_missing in the scenario",
        )

    potential = number(cols.potential, "potential")
    workload = number(cols.workload_hours, "workload_hours")
    revenue = None
    if optional["revenue"] is not None:
        revenue = number(optional["revenue"], "revenue")
    metrics = {m: number(m, f"balance metric {m}") for m in extra_metrics}
    problems.raise_if_any()

    def texts(name: str) -> tuple[str, ...] | None:
        column = optional[name]
        return None if column is None else tuple(str(v) for v in table.frame[column])

    metrics |= {"potential": potential, "workload_hours": workload}
    metrics["accounts"] = np.ones(len(ids))
    if revenue is not None:
        metrics["revenue"] = revenue
    logger.info("read %d accounts from %s", len(ids), table.path)
    return AccountData(
        path=table.path,
        account_id=tuple(ids),
        lat=lat,
        lon=lon,
        potential=potential,
        workload_hours=workload,
        revenue=revenue,
        current_territory=texts("current_territory"),
        segment=texts("segment"),
        family_id=texts("family_id"),
        metrics=metrics,
        postal_code=texts("postal_code"),
    )


def _drop_blank_ids(table: TextTable, column: str) -> TextTable:
    """The table without rows whose id is empty, with a warning naming them."""
    if column not in table.frame:
        return table
    blank = [i for i, v in enumerate(table.frame[column]) if str(v) == ""]
    if not blank:
        return table
    places = ", ".join(table.where(i) for i in blank[:5])
    logger.warning(
        "%s: %d row(s) with an empty '%s' dropped (%s)",
        table.path,
        len(blank),
        column,
        places,
    )
    return table.without_rows(blank)


def load_territories(spec: TerritoryTable) -> TerritoryData:
    """Read and validate the territories table."""
    table = read_text_table(spec.path, spec.sheet, spec.encoding, spec.delimiter)
    cols = spec.columns
    optional = {
        name: _optional_column(table, getattr(cols, name), name)
        for name in (
            "rep_id",
            "fte",
            "capacity_hours",
            "segments",
            "parent",
            "home_unit",
        )
    }
    located = not (
        cols.lat == "lat"
        and cols.lon == "lon"
        and "lat" not in table.frame
        and "lon" not in table.frame
    )
    wanted = {"territory_id": cols.territory_id}
    if located:
        wanted |= {"lat": cols.lat, "lon": cols.lon}
    wanted |= {k: v for k, v in optional.items() if v is not None}
    _require_columns(table, wanted)

    problems = _Problems(table.path)
    ids = _ids(table, cols.territory_id, "territory_id", problems)
    n = len(ids)
    if located:
        lat, lon = _coordinates(table, cols.lat, cols.lon, problems, allow_blank=True)
    else:
        lat = lon = np.full(n, np.nan)
    fte = np.ones(n)
    if optional["fte"] is not None:
        fte = _numbers(table, optional["fte"], "fte", problems, strictly_positive=True)
    capacity = np.full(n, np.inf)
    if optional["capacity_hours"] is not None:
        capacity = _numbers(
            table,
            optional["capacity_hours"],
            "capacity_hours",
            problems,
            strictly_positive=True,
            allow_blank=True,
        )
        capacity = np.where(np.isnan(capacity), np.inf, capacity)
    reps = ("",) * n
    if optional["rep_id"] is not None:
        reps = tuple(str(v) for v in table.frame[optional["rep_id"]])
        seen: dict[str, int] = {}
        for i, rep in enumerate(reps):
            if rep and rep in seen:
                problems.add(
                    f"{table.where(i)}, column '{optional['rep_id']}' (rep_id): rep "
                    f"'{rep}' already covers territory '{ids[seen[rep]]}'; one rep "
                    f"per territory (leave rep_id blank for a vacant territory)"
                )
            seen.setdefault(rep, i)
    segments: tuple[frozenset[str] | None, ...] = (None,) * n
    if optional["segments"] is not None:
        segments = tuple(
            frozenset(s.strip() for s in str(v).split(SEGMENT_SEPARATOR) if s.strip())
            or None
            for v in table.frame[optional["segments"]]
        )
    parent = ("",) * n
    if optional["parent"] is not None:
        parent = tuple(str(v) for v in table.frame[optional["parent"]])
    home_unit = ("",) * n
    if optional["home_unit"] is not None:
        home_unit = tuple(str(v) for v in table.frame[optional["home_unit"]])
    problems.raise_if_any()
    if n == 0:
        raise InputError(f"{table.path}: no territories; add at least one row")
    logger.info("read %d territories from %s", n, table.path)
    return TerritoryData(
        path=table.path,
        territory_id=tuple(ids),
        rep_id=reps,
        lat=lat,
        lon=lon,
        fte=fte,
        capacity_hours=capacity,
        segments=segments,
        parent=parent,
        home_unit=home_unit,
    )
