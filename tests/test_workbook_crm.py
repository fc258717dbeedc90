"""The Excel workbook, the CRM load files and the run manifest of a result folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from publish_cases import grid_scenario
from territory_opt.cli import app
from territory_opt.crm_export import developer_name

runner = CliRunner()


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Result folder of the 12-county grid scenario with quotas and CRM files."""
    folder = tmp_path_factory.mktemp("grid")
    solved = runner.invoke(app, ["solve", str(grid_scenario(folder)), "-q"])
    assert solved.exit_code == 0, solved.output
    return folder / "out"


def test_workbook_keeps_zip_like_ids_as_text(result: Path) -> None:
    """02142 is a text cell in Alignment and Moves; headers frozen and filtered."""
    workbook = openpyxl.load_workbook(result / "workbook.xlsx")
    assert workbook.sheetnames == [
        "Summary",
        "Territories",
        "Alignment",
        "Moves",
        "Quotas",
        "Comp",
        "Metrics",
    ]
    alignment = workbook["Alignment"]
    header = [c.value for c in alignment[1]]
    assert header[:3] == ["account_id", "territory_id", "rep_id"]
    ids = [row[0] for row in alignment.iter_rows(min_row=2)]
    assert [c.value for c in ids] == [f"{2140 + k:05d}" for k in range(12)]
    assert ids[2].value == "02142" and ids[2].data_type == "s"
    assert ids[2].number_format == "@"
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref == sheet.dimensions, sheet.title
    territories = workbook["Territories"]
    columns = [c.value for c in territories[1]]
    share = territories.cell(2, columns.index("potential_deviation_share") + 1)
    assert share.number_format == "0.0%" and isinstance(share.value, float)


def test_workbook_moves_match_the_alignment(result: Path) -> None:
    """The Moves sheet lists exactly the moved accounts, each with a reason."""
    alignment = pd.read_csv(result / "alignment.csv", dtype=str)
    moved = alignment[alignment["moved"] == "True"]
    sheet = openpyxl.load_workbook(result / "workbook.xlsx")["Moves"]
    header = [c.value for c in sheet[1]]
    rows = [
        dict(zip(header, (c.value for c in r), strict=True))
        for r in sheet.iter_rows(min_row=2)
    ]
    assert [
        (r["account_id"], r["from_territory"], r["to_territory"]) for r in rows
    ] == list(
        zip(
            moved["account_id"],
            moved["previous_territory"],
            moved["territory_id"],
            strict=True,
        )
    )
    assert len(rows) >= 1
    assert all(r["why"] for r in rows)


def test_metrics_sheet_equals_metrics_json(result: Path) -> None:
    """The Metrics sheet's proposed and current columns are the run's scorecards."""
    metrics = json.loads((result / "metrics.json").read_text())
    sheet = openpyxl.load_workbook(result / "workbook.xlsx")["Metrics"]
    header = [c.value for c in sheet[1]]
    values = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    cv = values["balance.potential.cv"]
    card, current = metrics["scorecard"], metrics["current_scorecard"]
    proposed_cv = cv[header.index("proposed")].value
    current_cv = cv[header.index("current")].value
    assert proposed_cv == pytest.approx(card["balance"]["potential"]["cv"], rel=1e-14)
    assert current_cv == pytest.approx(current["balance"]["potential"]["cv"], rel=1e-14)


def test_developer_names() -> None:
    """Salesforce API names: letters first, single underscores, no trailing one."""
    assert developer_name("T-01") == "T_01"
    assert developer_name("02142") == "T_02142"
    assert developer_name("North  East__") == "North_East"


def test_crm_files_flag_locked_accounts(result: Path) -> None:
    """Manual associations for every account; the locked 02142 is flagged and
    skipped on realignment; the vacant T2 has no user row; parents come first."""
    crm = result / "crm"
    territories = pd.read_csv(crm / "Territory2.csv", dtype=str, keep_default_na=False)
    assert list(territories["DeveloperName"]) == ["D1", "D2", "T1", "T2", "T3"]
    assert list(territories["ParentTerritory2Id"]) == ["", "", "D1", "D1", "D2"]
    objects = pd.read_csv(crm / "ObjectTerritory2Association.csv", dtype=str)
    assert list(objects.columns) == [
        "ObjectId",
        "Territory2Id",
        "AssociationCause",
        "Locked",
    ]
    assert set(objects["AssociationCause"]) == {"Territory2Manual"}
    assert objects.loc[objects["Locked"] == "True", "ObjectId"].tolist() == ["02142"]
    alignment = pd.read_csv(result / "alignment.csv", dtype=str)
    assert list(objects["Territory2Id"]) == list(alignment["territory_id"])
    users = pd.read_csv(crm / "UserTerritory2Association.csv", dtype=str)
    assert users.to_dict("records") == [
        {"UserId": "R1", "Territory2Id": "T1", "RoleInTerritory2": "Owner"},
        {"UserId": "R3", "Territory2Id": "T3", "RoleInTerritory2": "Owner"},
    ]
    long = pd.read_csv(crm / "territory_assignments_long.csv", dtype=str)
    accounts = long[long["record_type"] == "account"]
    assert accounts.loc[
        accounts["skip_on_realign"] == "True", "record_id"
    ].tolist() == ["02142"]
    moved = alignment.loc[alignment["moved"] == "True", "account_id"].tolist()
    assert accounts.loc[accounts["change"] == "moved", "record_id"].tolist() == moved


def test_manifest_records_the_run_and_show_prints_it(result: Path) -> None:
    """manifest.json has the scenario hash, seed, versions, machine and timings;
    'show' prints them."""
    manifest = json.loads((result / "manifest.json").read_text())
    scenario_bytes = (result.parent / "scenario.yaml").read_bytes()
    assert manifest["scenario"]["sha256"] == hashlib.sha256(scenario_bytes).hexdigest()
    assert manifest["seed"] == 1
    assert manifest["solver"]["engine"] == "cpsat"
    assert manifest["solver"]["threads"] == 1
    assert set(manifest["timings_s"]) == {"load", "solve", "extras", "write"}
    assert manifest["versions"]["ortools"] != "not installed"
    assert manifest["machine"]["cpus"] >= 1
    assert {"report.html", "manifest.json", "crm/Territory2.csv"} <= set(
        manifest["files"]
    )
    shown = runner.invoke(app, ["show", str(result)], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert manifest["scenario"]["sha256"][:12] in shown.output
    assert "timings_s.solve" in shown.output


def test_show_refuses_a_folder_without_manifest(tmp_path: Path) -> None:
    """show on a plain folder says what to give instead."""
    shown = runner.invoke(app, ["show", str(tmp_path)])
    assert shown.exit_code == 2
    assert "no manifest.json; give a result folder" in shown.output


def test_number_formats_by_column() -> None:
    """Ids text, shares percent, km one decimal, small ratios three decimals."""
    from territory_opt.workbook import number_format

    assert number_format("account_id") == "@"
    assert number_format("previous_territory") == "@"
    assert number_format("potential_deviation_share") == "0.0%"
    assert number_format("band_lt_50") == "0.0%"
    assert number_format("travel_km_max", pd.Series([12.5])) == "#,##0.0"
    assert number_format("expected_attainment", pd.Series([1.11, 0.95])) == "0.000"
    assert number_format("quota_full", pd.Series([7_190_000.0])) == "#,##0"
