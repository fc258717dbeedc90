"""Result folders are written whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from territory_opt import outputs
from territory_opt.outputs import OutputExistsError, write_folder, write_results
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


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".out"))


def test_sigterm_while_writing_leaves_no_folder_and_says_so(
    tmp_path: Path, monkeypatch
) -> None:
    """SIGTERM after the first result file: exit 130, no folder, no temporary,
    and the previous SIGTERM handler back in place."""
    import os
    import signal

    from typer.testing import CliRunner

    from territory_opt.cli import app

    path = _small(tmp_path)

    def terminated(run, folder: Path, *rest: object) -> None:
        (folder / "alignment.csv").write_text("account_id\n")
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(outputs, "_write_files", terminated)
    handler = signal.getsignal(signal.SIGTERM)
    result = CliRunner().invoke(app, ["solve", str(path), "--engine", "cpsat"])
    assert result.exit_code == 130
    assert "interrupted: no result folder was written" in result.output
    assert not (tmp_path / "out").exists()
    assert _leftovers(tmp_path) == []
    assert signal.getsignal(signal.SIGTERM) == handler


def test_ctrl_c_while_solving_leaves_no_folder(tmp_path: Path, monkeypatch) -> None:
    """Ctrl-C during the solve: exit 130 and the message, nothing written."""
    from typer.testing import CliRunner

    from territory_opt import cli

    def interrupted(problem, spec):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "solve_problem", interrupted)
    result = CliRunner().invoke(cli.app, ["solve", str(_small(tmp_path))])
    assert result.exit_code == 130
    assert "interrupted: no result folder was written" in result.output
    assert not (tmp_path / "out").exists()
    assert _leftovers(tmp_path) == []


def test_sigterm_in_the_quota_command_leaves_nothing(
    tmp_path: Path, monkeypatch
) -> None:
    """The quota command stops the same way: exit 130, no folder left behind."""
    import os
    import signal

    from typer.testing import CliRunner

    from territory_opt.cli import app
    from territory_opt.extras import Extras
    from test_demo_scenario import FOLDER

    def terminated(self, folder: Path) -> None:
        (folder / "quotas.csv").write_text("territory_id\n")
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(Extras, "write", terminated)
    target = tmp_path / "quota"
    result = CliRunner().invoke(
        app, ["quota", str(FOLDER / "scenario.yaml"), "--out", str(target)]
    )
    assert result.exit_code == 130
    assert "interrupted: no result folder was written" in result.output
    assert list(tmp_path.iterdir()) == []


def test_solving_never_writes_the_input_files(tmp_path: Path) -> None:
    """Scenario and tables are byte-for-byte the same after a solve with --force."""
    import hashlib

    from typer.testing import CliRunner

    from territory_opt.cli import app

    path = _small(tmp_path)
    inputs = sorted(tmp_path.iterdir())

    def digest() -> list[str]:
        return [hashlib.sha256(p.read_bytes()).hexdigest() for p in inputs]

    before = digest()
    for _ in range(2):
        result = CliRunner().invoke(app, ["solve", str(path), "--force"])
        assert result.exit_code == 0, result.output
    assert digest() == before


def _fill(target: Path) -> None:
    (target / "alignment.csv").write_text("account_id\n")


def test_force_onto_a_file_leaves_only_the_folder(tmp_path: Path) -> None:
    """--force over a file named like the result: the folder replaces it and
    nothing hidden (.result.old-PID, .result.partial-PID) is left beside it."""
    (tmp_path / "result").write_text("an old file")
    written = write_folder(tmp_path / "result", _fill, force=True)
    assert written == (tmp_path / "result").resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]
    assert sorted(p.name for p in written.iterdir()) == ["alignment.csv"]


def test_force_onto_a_file_that_fails_keeps_the_file(tmp_path: Path) -> None:
    """A fill that fails leaves the file as it was and nothing else."""

    def fail(target: Path) -> None:
        _fill(target)
        raise OSError("disk full")

    (tmp_path / "result").write_text("an old file")
    with pytest.raises(OSError, match="disk full"):
        write_folder(tmp_path / "result", fail, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]
    assert (tmp_path / "result").read_text() == "an old file"


def test_failed_final_rename_puts_the_previous_result_back(
    tmp_path: Path, monkeypatch
) -> None:
    """If moving the new folder into place fails, the file moved aside comes
    back under its name and neither hidden name is left."""
    (tmp_path / "result").write_text("an old file")
    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if self.name.startswith(".result.partial-"):
            raise PermissionError("refused")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(PermissionError):
        write_folder(tmp_path / "result", _fill, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]
    assert (tmp_path / "result").read_text() == "an old file"


def test_force_onto_a_folder_leaves_only_the_folder(tmp_path: Path) -> None:
    """--force over a folder: the new content replaces the old, nothing beside."""
    (tmp_path / "result").mkdir()
    (tmp_path / "result" / "old.csv").write_text("x")
    write_folder(tmp_path / "result", _fill, force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result"]
    assert sorted(p.name for p in (tmp_path / "result").iterdir()) == ["alignment.csv"]
