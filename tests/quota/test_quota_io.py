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
