"""Run manifest: what is needed to reproduce and audit one result folder.

``manifest.json`` records the scenario file and its SHA-256, the package and
solver versions, the solver settings with the seed, facts about the machine and
the time each step took. ``territory-opt show RESULT`` prints it.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from territory_opt import __version__
from territory_opt.errors import InputError

MANIFEST_FILE = "manifest.json"
VERSIONED_PACKAGES = (
    "ortools",
    "pulp",
    "highspy",
    "numpy",
    "pandas",
    "pydantic",
    "geopandas",
    "shapely",
    "openpyxl",
    "plotly",
)


def package_versions() -> dict[str, str]:
    """Versions of Python, territory_opt and the packages that shape a result."""
    found = {"territory_opt": __version__, "python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def machine_facts() -> dict[str, Any]:
    """Operating system, processor, logical CPUs and memory of this machine."""
    facts: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "hostname": platform.node(),
    }
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        facts["memory_gib"] = round(pages / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        facts["memory_gib"] = None
    return facts


def build_manifest(
    scenario: dict[str, Any],
    solve: dict[str, Any],
    timings_s: dict[str, float],
    files: list[str],
) -> dict[str, Any]:
    """The manifest document.

    Parameters
    ----------
    scenario
        Name, path and sha256 of the scenario file.
    solve
        The solve report (engine, solver version, seed, threads, limits, status).
    timings_s
        Seconds spent per step (load, solve, extras, write); rounded to ms.
    files
        Names of the files of the result folder.
    """
    settings = (
        "engine",
        "solver_version",
        "seed",
        "threads",
        "time_limit_s",
        "status",
        "runtime_s",
    )
    return {
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv else [],
        "scenario": scenario,
        "solver": {key: solve.get(key) for key in settings},
        "seed": solve.get("seed"),
        "versions": package_versions(),
        "machine": machine_facts(),
        "timings_s": {k: round(float(v), 3) for k, v in timings_s.items()},
        "files": sorted(files),
    }


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` into ``folder``, listing the folder's files (with
    their paths inside it, such as ``crm/Territory2.csv``)."""
    files = sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()
    )
    document = dict(manifest) | {"files": sorted({*files, MANIFEST_FILE})}
    with open(folder / MANIFEST_FILE, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")


def read_manifest(result: Path) -> dict[str, Any]:
    """The manifest of a result folder.

    Raises
    ------
    InputError
        When ``result`` is not a folder with a readable ``manifest.json``.
    """
    path = result / MANIFEST_FILE
    if not path.is_file():
        raise InputError(
            f"{result}: no {MANIFEST_FILE}; give a result folder written by "
            f"'territory-opt solve'"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the manifest ({exc})") from None
    if not isinstance(document, dict):
        raise InputError(f"{path}: expected a JSON object")
    return document
