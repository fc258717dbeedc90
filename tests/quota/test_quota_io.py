"""Tests of territory_opt.quota.io: quotas.csv and comp.csv."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from quota_cases import domain_table, make_section

from territory_opt.errors import InputError
from territory_opt.quota.io import write_quota_files
from territory_opt.quota.run import plan_quotas


def test_files_are_written_with_ids_as_text(tmp_path: Path) -> None:
    """ZIP-like ids keep their leading zero in both files."""
    table = pd.DataFrame(
        {
            "territory_id": ["02142", "10001"],
            "parent": ["D01", "D01"],
            "rep_id": ["007", "042"],
            "potential": [1e6, 1e6],
            "prior_sales": [5e5, 5e5],
        }
    )
    section = make_section(
        method="potential",
        reps=[
            {"id": "007", "ote": 1e5, "base": 5e4},
            {"id": "042", "ote": 1e5, "base": 5e4},
        ],
        yoy_change={"min": None, "max": None},
        simulation={"draws": 200},
    )
    paths = write_quota_files(plan_quotas(table, section), tmp_path)

    assert [p.name for p in paths] == ["quotas.csv", "comp.csv"]
    quotas_text = paths[0].read_text()
    assert '"02142","D01","007"' in quotas_text
    quotas = pd.read_csv(paths[0], dtype={"territory_id": str, "rep_id": str})
    assert quotas["territory_id"].tolist() == ["02142", "10001"]
    comp = pd.read_csv(paths[1], dtype={"rep_id": str, "territory_id": str})
    assert comp["rep_id"].tolist() == ["007", "042"]
    assert comp["quota_full"].sum() == pytest.approx(3_630_000)


def test_missing_folder_is_an_input_error(tmp_path: Path):
    """The folder must exist; the message says so."""
    outcome = plan_quotas(domain_table(), make_section(simulation=None))
    with pytest.raises(InputError, match="output folder does not exist"):
        write_quota_files(outcome, tmp_path / "nowhere")


def test_file_columns(tmp_path: Path) -> None:
    """quotas.csv: full and effective quota, twelve months, share, YoY change, bound
    hit, quota/potential; comp.csv: per rep pay, P(quota) and attainment bands."""
    paths = write_quota_files(plan_quotas(domain_table(), make_section()), tmp_path)
    months = [f"quota_m{m:02d}" for m in range(1, 13)]
    assert pd.read_csv(paths[0]).columns.tolist() == [
        "territory_id",
        "parent",
        "rep_id",
        "is_vacant",
        "quota_raw",
        "quota_full",
        "quota_effective",
        *months,
        "share",
        "yoy_change",
        "bound_hit",
        "quota_to_potential",
        "quota_to_prior",
        "vacancy_gap",
    ]
    assert pd.read_csv(paths[1]).columns.tolist() == [
        "rep_id",
        "territory_id",
        "is_tbh",
        "comp_plan",
        "ote",
        "base",
        "target_incentive",
        "pay_mix",
        "bcr",
        "employed_fraction",
        "quota_full",
        "quota_effective",
        "expected_sales",
        "expected_attainment",
        "p_attain",
        "expected_incentive",
        "expected_incentive_se",
        "expected_earnings",
        "band_lt_50",
        "band_50_80",
        "band_80_100",
        "band_100_120",
        "band_ge_120",
    ]


def test_comp_file_is_left_out_without_a_simulation(tmp_path: Path) -> None:
    """simulation: null writes quotas.csv only."""
    outcome = plan_quotas(domain_table(), make_section(simulation=None))
    paths = write_quota_files(outcome, tmp_path)
    assert [p.name for p in paths] == ["quotas.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quotas.csv"]
