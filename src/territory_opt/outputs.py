"""Result folders, written whole or not at all.

Files are written into a hidden temporary folder beside the target and renamed
into place at the end, so an interrupted run leaves no half-written result. An
existing result folder is replaced only when asked (``force``).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_opt import __version__
from territory_opt.errors import InputError
from territory_opt.extras import Extras
from territory_opt.formatting import json_ready
from territory_opt.scorecard import (
    account_distances_km,
    current_alignment,
    level_summary,
    level_table,
    scorecard,
    territory_table,
)
from territory_opt.solve import Run

logger = logging.getLogger(__name__)


class OutputExistsError(InputError):
    """The result folder exists and overwriting was not asked for."""


def _versions() -> dict[str, str]:
    found = {"territory_opt": __version__, "python": platform.python_version()}
    for package in ("ortools", "pulp", "highspy", "numpy", "pandas", "pydantic"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def territory_indices(run: Run) -> np.ndarray:
    """Territory index per account of the run's alignment."""
    if run.result.assignment is None:
        raise ValueError("the run has no alignment")
    index = run.problem.territory_index()
    return np.array([index[t] for t in run.result.assignment], dtype=np.int64)


def alignment_frame(run: Run) -> pd.DataFrame:
    """alignment.csv: one row per account with its territory, rep and move."""
    problem = run.problem
    territory_of = territory_indices(run)
    previous = [
        problem.territory_ids[c] if c >= 0 else "" for c in problem.current.tolist()
    ]
    proposed = [problem.territory_ids[t] for t in territory_of.tolist()]
    return pd.DataFrame(
        {
            "account_id": list(problem.account_ids),
            "territory_id": proposed,
            "rep_id": [problem.rep_ids[t] for t in territory_of.tolist()],
            "previous_territory": previous,
            "moved": [
                bool(p) and p != q for p, q in zip(previous, proposed, strict=True)
            ],
            "distance_km": np.round(account_distances_km(problem, territory_of), 3),
        }
    )


def metrics_document(run: Run) -> dict[str, Any]:
    """metrics.json: scorecards, solve report, scenario hash and versions."""
    problem = run.problem
    document: dict[str, Any] = {
        "scenario": {
            "name": run.scenario.name,
            "path": str(run.scenario.source_path or ""),
            "sha256": run.scenario.source_sha256,
            "accounts": problem.n_accounts,
            "territories": problem.n_territories,
            "allowed_pairs": int(len(problem.pair_account)),
        },
        "solve": run.result.report(),
        "versions": _versions(),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
    }
    if run.result.assignment is not None:
        document["scorecard"] = scorecard(problem, territory_indices(run))
        levels = level_table(problem, territory_indices(run))
        if levels is not None:
            document["levels"] = level_summary(levels)
    current = current_alignment(problem)
    if current is not None:
        document["current_scorecard"] = scorecard(problem, current)
    return document


def _json_default(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def write_folder(
    folder: Path, fill: Callable[[Path], object], *, force: bool = False
) -> Path:
    """Create ``folder`` whole: ``fill`` writes into a temporary folder beside it,
    which is renamed into place only when ``fill`` returns.

    Raises
    ------
    OutputExistsError
        When ``folder`` exists and ``force`` is false.
    """
    folder = folder.resolve()
    if folder.exists() and not force:
        raise OutputExistsError(
            f"{folder}: the result folder exists already; pass --force to replace "
            f"it or --out to write elsewhere"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    try:
        fill(temporary)
        if folder.exists():
            retired = folder.parent / f".{folder.name}.old-{os.getpid()}"
            folder.rename(retired)
            temporary.rename(folder)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            temporary.rename(folder)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    logger.info("results written to %s", folder)
    return folder


def write_results(
    run: Run, folder: Path, *, force: bool = False, extras: Extras | None = None
) -> Path:
    """Write the result folder of ``run`` atomically and return its path.

    ``extras`` adds the quota, comp and forecast files and metrics sections.

    Raises
    ------
    OutputExistsError
        When ``folder`` exists and ``force`` is false.
    """
    return write_folder(
        folder, lambda target: _write_files(run, target, extras), force=force
    )


def _write_shapes(run: Run, table: pd.DataFrame, folder: Path) -> dict[str, Any]:
    """territories.geojson, territories.gpkg and map.png; returns compactness."""
    from territory_opt.maps import (
        compactness_of_dissolved,
        dissolve_territories,
        draw_map,
        write_geopackage,
        write_territories_geojson,
    )

    problem = run.problem
    assignment = list(run.result.assignment or ())
    dissolved = dissolve_territories(run.polygons, assignment, table)
    write_territories_geojson(dissolved, folder / "territories.geojson")
    write_geopackage(dissolved, folder / "territories.gpkg")
    geography = run.scenario.geography
    if geography is None or geography.map_png:
        homes = pd.DataFrame(
            {
                "territory_id": problem.territory_ids,
                "lat": problem.territory_lat,
                "lon": problem.territory_lon,
            }
        )
        title = f"{run.scenario.name}: proposed alignment"
        draw_map(run.polygons, assignment, dissolved, homes, folder / "map.png", title)
    return compactness_of_dissolved(dissolved)


def _write_files(run: Run, folder: Path, extras: Extras | None = None) -> None:
    formats = set(run.scenario.output.formats)
    document = metrics_document(run)
    if extras is not None:
        document |= extras.metrics()
        extras.write(folder)
    if run.scenario.source_path is not None and run.scenario.source_path.exists():
        shutil.copyfile(run.scenario.source_path, folder / "scenario.yaml")
    if run.result.assignment is not None:
        table = territory_table(run.problem, territory_indices(run))
        if run.polygons is not None:
            document["compactness"] = _write_shapes(run, table, folder)
        tables = {"alignment": alignment_frame(run), "territories": table}
        levels = level_table(run.problem, territory_indices(run))
        if levels is not None:
            tables["levels"] = levels
        for name, frame in tables.items():
            if "csv" in formats:
                frame.round(6).to_csv(folder / f"{name}.csv", index=False)
            if "parquet" in formats:
                frame.to_parquet(folder / f"{name}.parquet", index=False)
    with open(folder / "metrics.json", "w", encoding="utf-8") as handle:
        json.dump(json_ready(document), handle, indent=2, default=_json_default)
        handle.write("\n")
