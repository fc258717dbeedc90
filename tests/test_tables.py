"""Reading tables: ids stay text, and every bad cell is named by file, line, column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import write_scenario
from territory_opt.errors import InputError
from territory_opt.scenario import load_scenario
from territory_opt.solve import load_problem

TERRITORIES = [
    {"territory_id": "T1", "rep_id": "R1", "lat": 40.0, "lon": -75.0},
    {"territory_id": "T2", "rep_id": "R2", "lat": 41.0, "lon": -74.0},
]


def _accounts(**changes: object) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {
            "account_id": "02142",
            "lat": 40.1,
            "lon": -75.1,
            "potential": 10,
            "workload_hours": 5,
            "current_territory": "T1",
        },
        {
            "account_id": "1004",
            "lat": 40.9,
            "lon": -74.1,
            "potential": 12,
            "workload_hours": 6,
            "current_territory": "T2",
        },
        {
            "account_id": "00501",
            "lat": 40.5,
            "lon": -74.5,
            "potential": 8,
            "workload_hours": 4,
            "current_territory": "T1",
        },
    ]
    for key, value in changes.items():
        column, row = key.rsplit("_", 1)
        rows[int(row)][column] = value
    return rows


def _load(path: Path):
    return load_problem(load_scenario(path))


def _error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        _load(path)
    return str(caught.value)


def test_ids_keep_leading_zeros(tmp_path: Path) -> None:
    """ZIP-like ids such as 02142 and 00501 stay text, sorted as text."""
    problem = _load(write_scenario(tmp_path, _accounts(), TERRITORIES))
    assert problem.account_ids == ("00501", "02142", "1004")


def test_blank_id_names_the_line(tmp_path: Path) -> None:
    """An empty id is reported with its CSV line (header is line 1)."""
    message = _error(write_scenario(tmp_path, _accounts(account_id_1=""), TERRITORIES))
    assert (
        "line 3, column 'account_id' (account_id): empty id; every row needs one"
        in message
    )


def test_duplicate_ids_are_listed_with_lines(tmp_path: Path) -> None:
    """A repeated id is reported with each line where it appears."""
    path = write_scenario(tmp_path, _accounts(account_id_2="02142"), TERRITORIES)
    message = _error(path)
    assert (
        "column 'account_id' (account_id): id '02142' appears 2 times "
        "(line 2, line 4); ids must be unique" in message
    )


def test_nan_potential_is_rejected(tmp_path: Path) -> None:
    """A NaN potential names the line and the column as written in the file."""
    message = _error(
        write_scenario(tmp_path, _accounts(potential_0="NaN"), TERRITORIES)
    )
    assert (
        "line 2, column 'potential' (potential): value is missing; write a number"
        in message
    )


def test_negative_workload_is_rejected(tmp_path: Path) -> None:
    """A negative workload is reported with the value and the allowed minimum."""
    path = write_scenario(tmp_path, _accounts(workload_hours_1=-3), TERRITORIES)
    message = _error(path)
    assert (
        "line 3, column 'workload_hours' (workload_hours): -3 is below the allowed "
        "minimum 0" in message
    )


def test_text_in_a_number_column(tmp_path: Path) -> None:
    """Text where a number belongs is quoted back."""
    path = write_scenario(tmp_path, _accounts(potential_2="12k"), TERRITORIES)
    assert "line 4, column 'potential' (potential): '12k' is not a number" in _error(
        path
    )


def test_latitude_out_of_range(tmp_path: Path) -> None:
    """Latitude 95 is outside [-90, 90]."""
    message = _error(write_scenario(tmp_path, _accounts(lat_1=95), TERRITORIES))
    assert "line 3, column 'lat' (lat): 95.0 is above the allowed maximum 90" in message


def test_every_bad_cell_is_reported_at_once(tmp_path: Path) -> None:
    """Two bad cells give one error that counts and lists both."""
    path = write_scenario(tmp_path, _accounts(lat_0=-91, potential_1=-1), TERRITORIES)
    message = _error(path)
    assert "2 problem(s) in the table" in message


def test_current_alignment_names_unknown_territory(tmp_path: Path) -> None:
    """A current territory missing from the territories table is named."""
    path = write_scenario(tmp_path, _accounts(current_territory_1="T9"), TERRITORIES)
    assert "the current alignment names territory id(s) 'T9'" in _error(path)


def test_lock_names_unknown_territory(tmp_path: Path) -> None:
    """A lock to an unknown territory names the account, the territory, valid ids."""
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        constraints={"locks": [{"account": "1004", "territory": "T7"}]},
    )
    assert (
        "constraints.locks: account '1004' is locked to territory 'T7', which is not in"
        in _error(path)
    )


def test_lock_names_unknown_account(tmp_path: Path) -> None:
    """A lock on an unknown account hints that ids are text."""
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        constraints={"locks": [{"account": "2142", "territory": "T1"}]},
    )
    assert "account '2142' is not in" in _error(path)
    assert "'02142' is not '2142'" in _error(path)


def test_missing_column_lists_what_the_file_has(tmp_path: Path) -> None:
    """A missing mapped column is named with the file's columns."""
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "accounts.csv", "columns": {"potential": "pot"}},
    )
    message = _error(path)
    assert (
        "missing column(s) 'pot' (for potential); the file has 'account_id'" in message
    )


def test_duplicate_rep_across_territories(tmp_path: Path) -> None:
    """One rep on two territories is an error naming both."""
    territories = [dict(TERRITORIES[0]), dict(TERRITORIES[1], rep_id="R1")]
    path = write_scenario(tmp_path, _accounts(), territories)
    assert "rep 'R1' already covers territory 'T1'" in _error(path)


def test_zero_fte_is_rejected(tmp_path: Path) -> None:
    """An FTE of 0 must be greater than 0."""
    territories = [dict(TERRITORIES[0], fte=0), dict(TERRITORIES[1], fte=1)]
    path = write_scenario(tmp_path, _accounts(), territories)
    assert "column 'fte' (fte): 0 must be greater than 0" in _error(path)


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    """A UTF-8 BOM before the header does not rename the first column."""
    path = write_scenario(tmp_path, _accounts(), TERRITORIES)
    raw = (tmp_path / "accounts.csv").read_bytes()
    (tmp_path / "accounts.csv").write_bytes(b"\xef\xbb\xbf" + raw)
    assert _load(path).account_ids == ("00501", "02142", "1004")


def test_non_utf8_file_names_byte_and_fix(tmp_path: Path) -> None:
    """A cp1252 byte is reported with its offset and the 'encoding' fix."""
    path = write_scenario(tmp_path, _accounts(), TERRITORIES)
    text = (tmp_path / "territories.csv").read_text().replace("R1", "Ren\xe9")
    (tmp_path / "territories.csv").write_bytes(text.encode("cp1252"))
    message = _error(path)
    assert "cannot be decoded as utf-8" in message
    assert "set 'encoding'" in message


def test_declared_encoding_reads_the_file(tmp_path: Path) -> None:
    """With encoding: cp1252 the same file reads, and the rep name is intact."""
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        territories={"path": "territories.csv", "encoding": "cp1252"},
    )
    text = (tmp_path / "territories.csv").read_text().replace("R1", "Ren\xe9")
    (tmp_path / "territories.csv").write_bytes(text.encode("cp1252"))
    assert _load(path).rep_ids == ("Ren\xe9", "R2")


def test_integer_ids_from_excel_and_parquet_never_get_dot_zero(tmp_path: Path) -> None:
    """Numeric ids stored as numbers come back as '1004', never '1004.0'."""
    frame = pd.DataFrame(_accounts())
    frame["account_id"] = [2142.0, 1004.0, 501.0]
    frame.to_parquet(tmp_path / "accounts.parquet", index=False)
    frame.to_excel(tmp_path / "accounts.xlsx", index=False)
    for name in ("accounts.parquet", "accounts.xlsx"):
        path = write_scenario(
            tmp_path, _accounts(), TERRITORIES, accounts={"path": name}
        )
        assert _load(path).account_ids == ("1004", "2142", "501")


def test_unknown_table_format(tmp_path: Path) -> None:
    """A .json table is refused with the formats that work."""
    (tmp_path / "accounts.json").write_text("[]")
    path = write_scenario(
        tmp_path, _accounts(), TERRITORIES, accounts={"path": "accounts.json"}
    )
    assert "unknown table format '.json'; use .csv, .parquet or .xlsx" in _error(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    """A path that does not exist is named."""
    path = write_scenario(
        tmp_path, _accounts(), TERRITORIES, accounts={"path": "nowhere.csv"}
    )
    assert "nowhere.csv: file not found; check the path in the scenario" in _error(path)


def test_unknown_encoding_is_named(tmp_path: Path) -> None:
    """An encoding Python does not know is an input error, not a traceback."""
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "accounts.csv", "encoding": "klingon"},
    )
    assert "'klingon' is not a known text encoding" in _error(path)


ZIPS = ["02116", "00501", "10001", "07302"]


def _zip_accounts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": ZIPS,
            "lat": [42.35, 40.81, 40.75, 40.72],
            "lon": [-71.07, -73.04, -73.99, -74.05],
            "potential": [4, 3, 2, 1],
            "workload_hours": [1, 1, 1, 1],
        }
    )


def _zip_parquet(tmp_path: Path, **accounts: object) -> Path:
    frame = _zip_accounts()
    frame["account_id"] = [int(z) for z in ZIPS]
    frame.to_parquet(tmp_path / "zips.parquet", index=False)
    return write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "zips.parquet", **accounts},
    )


@pytest.mark.parametrize("policy", ["pad", "reject"])
def test_numeric_ids_with_a_csv_file_are_refused(tmp_path: Path, policy: str) -> None:
    """numeric_ids pad/reject on a CSV (no typed cells) is refused by name."""
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "accounts.csv", "numeric_ids": policy},
    )
    with pytest.raises(InputError) as caught:
        load_scenario(path)
    assert str(caught.value) == (
        f"{path}: the scenario is not valid (1 problem(s))\n"
        f"  - accounts: numeric_ids: {policy} applies to Parquet and Excel files, "
        f"whose cells store ids as numbers or as text; {tmp_path / 'accounts.csv'} "
        f"is a CSV file, where every id is read as text exactly as written, so "
        f"remove numeric_ids (if leading zeros were lost when the CSV was written, "
        f"restore them in the file)"
    )


def test_numeric_ids_keep_with_a_csv_file_is_accepted(tmp_path: Path) -> None:
    """numeric_ids: keep (the default) changes nothing, so a CSV may state it."""
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "accounts.csv", "numeric_ids": "keep"},
    )
    assert _load(path).account_ids == ("00501", "02142", "1004")


def test_integer_zip_ids_in_parquet_are_padded_with_a_warning(
    tmp_path: Path, caplog
) -> None:
    """ZIPs stored as integers 2116, 501, 10001, 7302 come back as 5-digit text."""
    path = _zip_parquet(tmp_path, numeric_ids="pad", id_digits=5)
    with caplog.at_level("WARNING"):
        problem = _load(path)
    assert problem.account_ids == ("00501", "02116", "07302", "10001")
    assert "3 numeric id(s) in column 'account_id' padded with zeros to 5 digits" in (
        caplog.text
    )
    assert "2116 -> 02116" in caplog.text


def test_integer_zip_ids_in_parquet_are_rejected_by_option(tmp_path: Path) -> None:
    """numeric_ids: reject refuses ids stored as numbers, naming rows and fixes."""
    message = _error(_zip_parquet(tmp_path, numeric_ids="reject"))
    assert (
        "column 'account_id' (account_id): 4 id(s) are stored as numbers (row 1, "
        "row 2, row 3, row 4), so leading zeros may be lost" in message
    )
    assert "set numeric_ids: pad with id_digits" in message


def test_integer_zip_ids_in_excel_are_padded(tmp_path: Path) -> None:
    """The pad option works on a spreadsheet whose ids are numeric cells."""
    frame = _zip_accounts()
    frame["account_id"] = [int(z) for z in ZIPS]
    frame.to_excel(tmp_path / "zips.xlsx", index=False)
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "zips.xlsx", "numeric_ids": "pad"},
    )
    assert _load(path).account_ids == ("00501", "02116", "07302", "10001")


def test_missing_potential_filled_by_option_with_a_count(
    tmp_path: Path, caplog
) -> None:
    """fill_missing: {potential: 0} fills two blanks with 0 and counts them."""
    rows = _accounts(potential_0="", potential_2="NaN")
    path = write_scenario(
        tmp_path,
        rows,
        TERRITORIES,
        accounts={"path": "accounts.csv", "fill_missing": {"potential": 0}},
    )
    with caplog.at_level("WARNING"):
        problem = _load(path)
    assert problem.potential.tolist() == [0.0, 0.0, 12.0]
    assert (
        "2 missing value(s) in column 'potential' (potential) filled with 0 "
        "(line 2, line 4)" in caplog.text
    )


def test_fill_missing_names_an_unknown_field(tmp_path: Path) -> None:
    """fill_missing on a field that is not numeric is refused with the choices."""
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "accounts.csv", "fill_missing": {"segment": 0}},
    )
    assert "accounts.fill_missing: 'segment' is not a numeric field of" in _error(path)


def test_blank_id_dropped_by_option_keeps_lines_and_lock(tmp_path: Path) -> None:
    """A Parquet id column with a blank (floats 1004.0): dropped, lock still kept.

    With drop_blank_ids the blank row goes, every id reads without '.0', the
    lock on '1004' moves it to T1, and no output file holds '1004.0'.
    """
    from typer.testing import CliRunner

    from territory_opt.cli import app

    frame = pd.DataFrame(_accounts())
    frame.loc[3] = frame.loc[2]
    frame["account_id"] = [2142.0, 1004.0, None, 501.0]
    frame.to_parquet(tmp_path / "accounts.parquet", index=False)
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "accounts.parquet"},
        constraints={"locks": [{"account": "1004", "territory": "T1"}]},
        output={"folder": "out"},
    )
    assert "row 3, column 'account_id' (account_id): empty id" in _error(path)

    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "accounts.parquet", "drop_blank_ids": True},
        constraints={"locks": [{"account": "1004", "territory": "T1"}]},
        output={"folder": "out"},
    )
    result = CliRunner().invoke(app, ["solve", str(path), "--engine", "cpsat"])
    assert result.exit_code == 0, result.output
    assert "1 row(s) with an empty 'account_id' dropped (row 3)" in " ".join(
        result.output.split()
    )
    alignment = pd.read_csv(tmp_path / "out" / "alignment.csv", dtype=str)
    assert list(alignment["account_id"]) == ["1004", "2142", "501"]
    placed = dict(zip(alignment["account_id"], alignment["territory_id"], strict=True))
    assert placed["1004"] == "T1"
    for written in (tmp_path / "out").iterdir():
        assert "1004.0" not in written.read_text(errors="replace")


def test_swapped_coordinates_out_of_range_get_a_hint(tmp_path: Path) -> None:
    """Lat -118.2 / lon 34.1 is out of range and in the region once swapped."""
    rows = _accounts(lat_2=-118.2, lon_2=34.1)
    path = write_scenario(
        tmp_path,
        rows,
        TERRITORIES,
        accounts={
            "path": "accounts.csv",
            "region": {"lat": [30, 45], "lon": [-120, -70]},
        },
    )
    message = _error(path)
    assert "line 4, column 'lat' (lat): -118.2 is below the allowed minimum -90" in (
        message
    )
    assert (
        "line 4: lat -118.2 and lon 34.1 look swapped (swapped, the point falls "
        "among the other accounts); swap the two values" in message
    )


def test_swapped_coordinates_in_range_are_flagged(tmp_path: Path, caplog) -> None:
    """A row at (-74.5, 40.5) lies far from the rest, but inside once swapped."""
    rows = _accounts(lat_2=-74.5, lon_2=40.5)
    path = write_scenario(tmp_path, rows, TERRITORIES)
    with caplog.at_level("WARNING"):
        _load(path)
    assert (
        "1 row(s) lie outside the accounts' region but inside it with lat and lon "
        "swapped: line 4 (-74.5, 40.5)" in caplog.text
    )


EAST_REGION = {"lat": [30, 45], "lon": [-90, -70]}


def _swapped_accounts() -> list[dict[str, object]]:
    """The three accounts east of the Mississippi with lat and lon swapped."""
    rows = _accounts()
    for row in rows:
        row["lat"], row["lon"] = row["lon"], row["lat"]
    return rows


def test_whole_swap_in_a_declared_region_is_an_error(tmp_path: Path) -> None:
    """Every row swapped (lat -75.1, lon 40.1 ...): an error naming the rows and
    the column mapping to change, though every value is within range."""
    path = write_scenario(
        tmp_path,
        _swapped_accounts(),
        TERRITORIES,
        accounts={"path": "accounts.csv", "region": EAST_REGION},
    )
    assert _error(path) == (
        f"{tmp_path / 'accounts.csv'}: 1 problem(s) in the table\n"
        "  - 3 row(s) lie outside accounts.region (lat 30 to 45, lon -90 to -70) "
        "but inside it with lat and lon swapped: line 2 (-75.1, 40.1), line 3 "
        "(-74.1, 40.9), line 4 (-74.5, 40.5); every row is affected, so the lat and "
        "lon columns are likely swapped: map accounts.columns.lat to 'lon' and "
        "accounts.columns.lon to 'lat', or swap the two columns in the file"
    )


def test_row_outside_a_declared_region_is_an_error(tmp_path: Path) -> None:
    """(40.5, -100) lies west of the declared box and is not a swap: named as
    outside; one swapped row among good ones is named as swapped."""
    rows = _accounts(lon_2=-100.0, lat_1=-74.1, lon_1=40.9)
    path = write_scenario(
        tmp_path,
        rows,
        TERRITORIES,
        accounts={"path": "accounts.csv", "region": EAST_REGION},
    )
    assert _error(path) == (
        f"{tmp_path / 'accounts.csv'}: 2 problem(s) in the table\n"
        "  - 1 row(s) lie outside accounts.region (lat 30 to 45, lon -90 to -70) "
        "but inside it with lat and lon swapped: line 3 (-74.1, 40.9); swap the "
        "two values in those rows\n"
        "  - 1 row(s) lie outside accounts.region (lat 30 to 45, lon -90 to -70), "
        "even with lat and lon swapped: line 4 (40.5, -100); correct their "
        "coordinates or widen accounts.region"
    )


def test_whole_swap_without_a_region_is_flagged_against_the_homes(
    tmp_path: Path, caplog
) -> None:
    """Without accounts.region the median box moves with a whole swap; the
    territory homes (40, -75) and (41, -74) still show it, in a warning."""
    path = write_scenario(tmp_path, _swapped_accounts(), TERRITORIES)
    with caplog.at_level("WARNING"):
        _load(path)
    assert (
        f"{tmp_path / 'accounts.csv'}: 3 account(s) lie far from every territory "
        "home but among the homes with lat and lon swapped: '02142' (-75.1, 40.1), "
        "'1004' (-74.1, 40.9), '00501' (-74.5, 40.5); every account is affected, so "
        "the lat and lon columns are likely swapped; map them the other way under "
        "accounts.columns (declare accounts.region to make this an error)"
    ) in " ".join(caplog.text.split())


def test_accounts_near_the_homes_raise_no_swap_warning(tmp_path: Path, caplog) -> None:
    """The unswapped accounts lie among the homes: no swap warning at all."""
    path = write_scenario(tmp_path, _accounts(), TERRITORIES)
    with caplog.at_level("WARNING"):
        _load(path)
    assert "swapped" not in caplog.text


def _rewrite_accounts(tmp_path: Path, separator: str) -> Path:
    """accounts.csv written again with ``separator`` between the cells."""
    target = tmp_path / "accounts.csv"
    pd.read_csv(target, dtype=str).to_csv(target, sep=separator, index=False)
    return target


def test_semicolon_csv_gets_a_delimiter_hint(tmp_path: Path) -> None:
    """A ';' file read with commas is one column: the error names the file, the
    semicolon and the option that reads it."""
    path = write_scenario(tmp_path, _accounts(), TERRITORIES)
    target = _rewrite_accounts(tmp_path, ";")
    assert _error(path) == (
        f"{target}: read with the comma delimiter, the file has a single column, "
        "and its header holds 6 names separated by semicolons ('account_id', "
        "'lat', 'lon', 'potential', ...); set delimiter: ';' next to its path in "
        "the scenario, or save the file with commas"
    )


def test_tab_csv_with_a_comma_in_a_cell_gets_a_delimiter_hint(
    tmp_path: Path,
) -> None:
    """A tab file whose cell 'T1,T2' breaks the comma parse still gets the hint."""
    path = write_scenario(tmp_path, _accounts(current_territory_0="T1,T2"), TERRITORIES)
    target = _rewrite_accounts(tmp_path, "\t")
    assert _error(path) == (
        f"{target}: read with the comma delimiter, the file has a single column, "
        "and its header holds 6 names separated by tabs ('account_id', 'lat', "
        "'lon', 'potential', ...); set delimiter: \"\\t\" next to its path in the "
        "scenario, or save the file with commas"
    )


@pytest.mark.parametrize("separator", [";", "\t"])
def test_declared_delimiter_reads_the_file(tmp_path: Path, separator: str) -> None:
    """With accounts.delimiter set, the same file reads as the comma one does."""
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "accounts.csv", "delimiter": separator},
    )
    _rewrite_accounts(tmp_path, separator)
    problem = _load(path)
    assert problem.account_ids == ("00501", "02142", "1004")
    assert problem.potential.tolist() == [8.0, 10.0, 12.0]
    assert problem.account_lat.tolist() == [40.5, 40.1, 40.9]


def test_file_without_a_delimiter_option_gets_the_hint_without_it(
    tmp_path: Path,
) -> None:
    """A table read with no scenario option (an alignment file, a forecast file)
    names the semicolon but offers only to save the file with commas."""
    from territory_opt.tables import read_text_table

    target = tmp_path / "alignment.csv"
    target.write_text("account_id;territory_id\n02142;T1\n")
    with pytest.raises(InputError) as caught:
        read_text_table(target)
    assert str(caught.value) == (
        f"{target}: read with the comma delimiter, the file has a single column, "
        "and its header holds 2 names separated by semicolons ('account_id', "
        "'territory_id'); save the file with commas"
    )


def test_delimiter_on_a_parquet_file_is_refused(tmp_path: Path) -> None:
    """A delimiter means nothing to Parquet: refused, naming the file."""
    pd.DataFrame(_accounts()).to_parquet(tmp_path / "accounts.parquet", index=False)
    path = write_scenario(
        tmp_path,
        _accounts(),
        TERRITORIES,
        accounts={"path": "accounts.parquet", "delimiter": ";"},
    )
    assert _error(path) == (
        f"{tmp_path / 'accounts.parquet'}: delimiter ';' applies to CSV files "
        "only; remove it next to the path in the scenario"
    )


def test_non_utf8_error_quotes_the_byte_offset(tmp_path: Path) -> None:
    """'René' in cp1252: the é (0xe9) is byte 34, after a 28-byte header and
    'T1,Ren'; the message names file, byte, reason and the 'encoding' fix."""
    path = write_scenario(tmp_path, _accounts(), TERRITORIES)
    text = (tmp_path / "territories.csv").read_text().replace("R1", "Ren\xe9")
    (tmp_path / "territories.csv").write_bytes(text.encode("cp1252"))
    assert text.index("\xe9") == 34
    assert _error(path) == (
        f"{tmp_path / 'territories.csv'}: byte 34 cannot be decoded as utf-8 "
        f"(invalid continuation byte); save the file as UTF-8, or set 'encoding' "
        f"(for example cp1252 or latin-1) next to its path in the scenario"
    )
