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
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_opt.errors import InputError
from territory_opt.extras import Extras
from territory_opt.formatting import json_ready
from territory_opt.manifest import build_manifest, package_versions, write_manifest
from territory_opt.problem import Problem
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
        "versions": package_versions(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
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


def _remove(path: Path) -> None:
    """Delete a file, a link or a whole folder at ``path``, if anything is there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def write_folder(
    folder: Path, fill: Callable[[Path], object], *, force: bool = False
) -> Path:
    """Create ``folder`` whole: ``fill`` writes into a temporary folder beside it,
    which is renamed into place only when ``fill`` returns.

    With ``force``, whatever stands at ``folder`` (a folder or a file) is moved
    aside, replaced and then deleted; if the replacement fails it is moved back.
    Either way nothing but ``folder`` is left beside it.

    Raises
    ------
    OutputExistsError
        When ``folder`` exists and ``force`` is false.
    """
    folder = folder.resolve()
    taken = folder.exists() or folder.is_symlink()
    if taken and not force:
        raise OutputExistsError(
            f"{folder}: the result folder exists already; pass --force to replace "
            f"it or --out to write elsewhere"
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    temporary = folder.parent / f".{folder.name}.partial-{os.getpid()}"
    _remove(temporary)
    temporary.mkdir()
    retired = folder.parent / f".{folder.name}.old-{os.getpid()}"
    try:
        fill(temporary)
        if taken:
            _remove(retired)
            folder.rename(retired)
            try:
                temporary.rename(folder)
            except BaseException:
                retired.rename(folder)
                raise
        else:
            temporary.rename(folder)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    if taken:
        try:
            _remove(retired)
        except OSError as exc:
            logger.warning(
                "%s: the replaced result could not be deleted (%s); delete it by hand",
                retired,
                exc.strerror,
            )
    logger.info("results written to %s", folder)
    return folder


def write_results(
    run: Run,
    folder: Path,
    *,
    force: bool = False,
    extras: Extras | None = None,
    timings_s: dict[str, float] | None = None,
) -> Path:
    """Write the result folder of ``run`` atomically and return its path.

    ``extras`` adds the quota, comp and forecast files and metrics sections;
    ``timings_s`` (seconds per step) goes into ``manifest.json``.

    Raises
    ------
    OutputExistsError
        When ``folder`` exists and ``force`` is false.
    """
    return write_folder(
        folder,
        lambda target: _write_files(run, target, extras, timings_s or {}),
        force=force,
    )


def dissolved_territories(run: Run, table: pd.DataFrame) -> Any:
    """One shape per territory with its figures, or None without polygons."""
    if run.polygons is None or run.result.assignment is None:
        return None
    from territory_opt.maps import dissolve_territories

    return dissolve_territories(run.polygons, list(run.result.assignment), table)


def full_metrics(
    run: Run, extras: Extras | None = None, dissolved: Any = None
) -> dict[str, Any]:
    """metrics.json as a JSON-ready mapping: scorecards, solve report, extras
    sections and, with ``dissolved`` territory shapes, their compactness."""
    document = metrics_document(run)
    if extras is not None:
        document |= extras.metrics()
    if dissolved is not None:
        from territory_opt.maps import compactness_of_dissolved

        document["compactness"] = compactness_of_dissolved(dissolved)
    result: dict[str, Any] = json_ready(document)
    return result


def _write_shapes(run: Run, dissolved: Any, folder: Path) -> None:
    """territories.geojson, territories.gpkg and map.png."""
    from territory_opt.maps import draw_map, write_geopackage, write_territories_geojson

    problem = run.problem
    assignment = list(run.result.assignment or ())
    write_territories_geojson(dissolved, folder / "territories.geojson")
    write_geopackage(dissolved, folder / "territories.gpkg")
    geography = run.scenario.geography
    if geography is None or geography.map_png:
        title = f"{run.scenario.name}: proposed alignment"
        draw_map(
            run.polygons,
            assignment,
            dissolved,
            homes_frame(problem),
            folder / "map.png",
            title,
        )


def homes_frame(problem: Problem) -> pd.DataFrame:
    """Home base of every territory: territory_id, lat, lon."""
    return pd.DataFrame(
        {
            "territory_id": problem.territory_ids,
            "lat": problem.territory_lat,
            "lon": problem.territory_lon,
        }
    )


def _write_files(
    run: Run,
    folder: Path,
    extras: Extras | None = None,
    timings_s: dict[str, float] | None = None,
) -> None:
    started = time.perf_counter()
    formats: set[str] = set(run.scenario.output.formats)
    if extras is not None:
        extras.write(folder)
    if run.scenario.source_path is not None and run.scenario.source_path.exists():
        shutil.copyfile(run.scenario.source_path, folder / "scenario.yaml")
    dissolved = None
    if run.result.assignment is not None:
        table = territory_table(run.problem, territory_indices(run))
        dissolved = dissolved_territories(run, table)
        if dissolved is not None:
            _write_shapes(run, dissolved, folder)
        tables = {"alignment": alignment_frame(run), "territories": table}
        levels = level_table(run.problem, territory_indices(run))
        if levels is not None:
            tables["levels"] = levels
        for name, frame in tables.items():
            if "csv" in formats:
                frame.round(6).to_csv(folder / f"{name}.csv", index=False)
            if "parquet" in formats:
                frame.to_parquet(folder / f"{name}.parquet", index=False)
    document = full_metrics(run, extras, dissolved)
    with open(folder / "metrics.json", "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2, default=_json_default)
        handle.write("\n")
    if run.result.assignment is not None:
        _write_deliverables(run, folder, extras, document, dissolved, formats)
    timings = dict(timings_s or {}) | {"write": time.perf_counter() - started}
    scenario = dict(document["scenario"])
    manifest = build_manifest(scenario, document["solve"], timings, [])
    write_manifest(folder, manifest)


def _write_deliverables(
    run: Run,
    folder: Path,
    extras: Extras | None,
    document: dict[str, Any],
    dissolved: Any,
    formats: set[str],
) -> None:
    """report.html, workbook.xlsx and the CRM load files, as the formats ask."""
    if "html" in formats:
        from territory_opt.report import ReportInputs, write_report

        inputs = ReportInputs.from_run(run, extras, document, dissolved)
        write_report(inputs, folder / "report.html")
    if "xlsx" in formats:
        from territory_opt.workbook import write_workbook

        write_workbook(run, extras, document, folder / "workbook.xlsx")
    if "crm" in formats:
        from territory_opt.crm_export import write_crm_files

        write_crm_files(run, folder / "crm")
