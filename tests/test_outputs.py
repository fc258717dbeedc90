"""Result folders are written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from territory_opt import outputs
from territory_opt.outputs import OutputExistsError, write_results
from territory_opt.scenario import load_scenario
from territory_opt.solve import solve_scenario
from test_cli import _small


def _run(tmp_path: Path):
    return solve_scenario(load_scenario(_small(tmp_path)))


def test_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    """An error after the first file leaves neither the folder nor a temporary one."""
    run = _run(tmp_path)
    real = outputs._write_files

    def half_then_fail(run, folder: Path, extras=None, timings_s=None) -> None:
        (folder / "alignment.csv").write_text("account_id\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "_write_files", half_then_fail)
    target = tmp_path / "result"
    with pytest.raises(KeyboardInterrupt):
        write_results(run, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "accounts.csv",
        "scenario.yaml",
        "territories.csv",
    ]
    monkeypatch.setattr(outputs, "_write_files", real)
    write_results(run, target)
    assert sorted(p.name for p in target.iterdir()) == [
        "alignment.csv",
        "manifest.json",
        "metrics.json",
        "report.html",
        "scenario.yaml",
        "territories.csv",
        "workbook.xlsx",
    ]


def test_existing_folder_kept_when_replacement_fails(
    tmp_path: Path, monkeypatch
) -> None:
    """With force, a failed rewrite keeps the previous result folder intact."""
    run = _run(tmp_path)
    target = write_results(run, tmp_path / "result")
    before = (target / "metrics.json").read_text()

    def fail(run, folder: Path, extras=None, timings_s=None) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(outputs, "_write_files", fail)
    with pytest.raises(OSError):
        write_results(run, target, force=True)
    assert (target / "metrics.json").read_text() == before


def test_existing_folder_needs_force(tmp_path: Path) -> None:
    """Without force an existing folder is refused, naming --force."""
    run = _run(tmp_path)
    target = write_results(run, tmp_path / "result")
    with pytest.raises(OutputExistsError, match="pass --force to replace it"):
        write_results(run, target)
