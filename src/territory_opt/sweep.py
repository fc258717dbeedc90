"""Sweeps: a grid of scenario variants solved in parallel on a Dask cluster.

``--set objective.disruption=0,1,10 --set solver.seed=1,2`` makes the 3 × 2
grid of variants of one scenario; each variant is the scenario file with those
dotted keys replaced, validated like the file itself. The variants run on a
local Dask cluster (``dask.distributed.LocalCluster``) or on an existing one
given by its scheduler address; there every worker must see the scenario's
files at the same paths.

A variant is *non-dominated* on a set of figures (all lower-is-better) when no
other variant is at least as good on every figure and better on one. The
trade-off charts mark the non-dominated variants of balance (CV of the first
balanced metric) against disruption (share of accounts moved) and against
travel (workload-weighted mean km).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml

from territory_opt.compare import (
    Compared,
    columns_from_documents,
    comparison_frame,
    unique_labels,
)
from territory_opt.errors import InputError

logger = logging.getLogger(__name__)

DISRUPTION = "disruption.accounts_moved_share"
TRAVEL = "travel.workload_weighted_km_mean"


@dataclass(frozen=True)
class Setting:
    """One swept key and the values it takes."""

    key: str
    values: tuple[Any, ...]


def parse_setting(text: str) -> Setting:
    """``KEY=V1,V2,...`` as a :class:`Setting`; values are read as YAML scalars
    (``0.05`` a number, ``true`` a boolean, ``cpsat`` text).

    Raises
    ------
    InputError
        When the text has no ``=``, no key or no value.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key or not raw.strip():
        raise InputError(
            f"--set '{text}': write KEY=V1,V2,... with a dotted key, for example "
            f"objective.disruption=0,1,10"
        )
    values = []
    for item in raw.split(","):
        if not item.strip():
            raise InputError(f"--set '{text}': an empty value between commas")
        values.append(yaml.safe_load(item.strip()))
    return Setting(key=key, values=tuple(values))


def set_dotted(data: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the dotted ``key`` set to ``value``.

    Missing intermediate mappings are created.

    Raises
    ------
    InputError
        When a part of the key leads to something that is not a mapping.
    """
    result = copy.deepcopy(data)
    node = result
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            where = ".".join(parts[: depth + 1])
            raise InputError(
                f"--set {key}: '{where}' is {child!r}, not a section with keys"
            )
        node = child
    node[parts[-1]] = value
    return result


def variant_grid(settings: Sequence[Setting]) -> list[dict[str, Any]]:
    """Every combination of the settings' values, as key → value mappings."""
    keys = [s.key for s in settings]
    if len(set(keys)) != len(keys):
        raise InputError(f"--set: a key is given twice ({', '.join(keys)})")
    return [
        dict(zip(keys, combo, strict=True))
        for combo in itertools.product(*(s.values for s in settings))
    ]


def variant_label(changes: dict[str, Any], varied: Sequence[str] = ()) -> str:
    """A short column label: the last part of each key with its value, for the
    keys in ``varied`` (all keys when it is empty)."""
    shown = [k for k in changes if k in varied] or list(changes)
    return " ".join(f"{k.rsplit('.', 1)[-1]}={changes[k]}" for k in shown)


def solve_variant(data: dict[str, Any], path: str, label: str) -> dict[str, Any]:
    """Solve one variant (this runs on a Dask worker) and return its figures.

    Returns a mapping with ``label``, ``status``, ``message``, ``runtime_s``,
    ``document`` (the metrics.json content, None without an alignment) and
    ``assignment`` (territory id per account in ``account_ids`` order).
    """
    from territory_opt.outputs import dissolved_territories, full_metrics
    from territory_opt.runner import run_scenario
    from territory_opt.scenario import scenario_from_mapping
    from territory_opt.scorecard import territory_table

    started = time.perf_counter()
    text = yaml.safe_dump(data, sort_keys=True).encode("utf-8")
    scenario = scenario_from_mapping(data, Path(path), hashlib.sha256(text).hexdigest())
    outcome = run_scenario(scenario)
    run = outcome.run
    found: dict[str, Any] = {
        "label": label,
        "status": str(run.result.status),
        "message": run.result.message,
        "document": None,
        "account_ids": list(run.problem.account_ids),
        "assignment": None,
    }
    if run.result.has_alignment:
        from territory_opt.outputs import territory_indices

        table = territory_table(run.problem, territory_indices(run))
        dissolved = dissolved_territories(run, table)
        found["document"] = full_metrics(run, outcome.extras, dissolved)
        found["assignment"] = list(run.result.assignment or ())
    found["runtime_s"] = time.perf_counter() - started
    return found


def non_dominated(points: npt.ArrayLike) -> np.ndarray:
    """Which rows of ``points`` (one column per figure, lower is better) no other
    row dominates. Rows with a NaN are never non-dominated; equal rows do not
    dominate each other."""
    values = np.asarray(points, dtype=float)
    if values.ndim != 2:
        raise ValueError("points must be a two-dimensional array")
    usable = np.isfinite(values).all(axis=1)
    keep = usable.copy()
    for i in np.flatnonzero(usable):
        others = values[usable]
        dominated = (others <= values[i]).all(axis=1) & (others < values[i]).any(axis=1)
        keep[i] = not dominated.any()
    return keep


@dataclass(frozen=True)
class SweepResult:
    """The variants of a sweep, their outcomes and the comparison."""

    scenario_path: Path
    settings: tuple[Setting, ...]
    variants: pd.DataFrame
    columns: tuple[Compared, ...]
    comparison: pd.DataFrame
    alignments: pd.DataFrame
    balance_metric: str


def _open_client(scheduler: str | None, workers: int, processes: bool) -> Any:
    from dask.distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=None,
    )
    return Client(cluster), cluster


def run_sweep(
    scenario_path: Path,
    settings: Sequence[Setting],
    *,
    scheduler: str | None = None,
    workers: int = 2,
    processes: bool = True,
    balance_metric: str | None = None,
) -> SweepResult:
    """Solve every variant of the grid on a Dask cluster and compare them.

    ``workers`` Dask workers of one thread each are started locally unless
    ``scheduler`` (an address such as ``tcp://scheduler.example:8786``) names a running
    cluster. ``balance_metric`` is the metric whose CV measures balance in the
    trade-offs (default: the scenario's first balanced metric, or potential).

    Raises
    ------
    InputError
        When the scenario cannot be read, a setting is malformed or a variant
        breaks the scenario schema (checked before anything runs).
    """
    from territory_opt.scenario import load_scenario, scenario_from_mapping

    base = load_scenario(scenario_path)
    data = yaml.safe_load(Path(scenario_path).read_text(encoding="utf-8-sig"))
    grid = variant_grid(settings)
    varied = [s.key for s in settings if len(s.values) > 1]
    labels = unique_labels([variant_label(c, varied) for c in grid])
    datas = []
    for changes, label in zip(grid, labels, strict=True):
        variant = data
        for key, value in changes.items():
            variant = set_dotted(variant, key, value)
        try:  # every variant is checked before any worker starts
            scenario_from_mapping(variant, Path(scenario_path))
        except InputError as exc:
            raise InputError(f"sweep variant {label}: {exc}") from None
        datas.append(variant)
    metric = balance_metric or next(iter(base.balance), "potential")
    client, cluster = _open_client(scheduler, workers, processes)
    try:
        logger.info("sweep of %d variants on %s", len(datas), client)
        futures = client.map(
            solve_variant,
            datas,
            [str(Path(scenario_path).resolve())] * len(datas),
            labels,
            pure=False,
        )
        outcomes = client.gather(futures)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return _summarise(Path(scenario_path), tuple(settings), grid, outcomes, metric)


def _summarise(
    path: Path,
    settings: tuple[Setting, ...],
    grid: list[dict[str, Any]],
    outcomes: list[dict[str, Any]],
    metric: str,
) -> SweepResult:
    solved = [o for o in outcomes if o["document"] is not None]
    columns = columns_from_documents([(o["label"], o["document"], "") for o in solved])
    balance_key = f"balance.{metric}.cv"
    rows = []
    for changes, outcome in zip(grid, outcomes, strict=True):
        scores = next((c.scores for c in columns if c.label == outcome["label"]), {})
        rows.append(
            {"label": outcome["label"]}
            | changes
            | {
                "status": outcome["status"],
                "balance_cv": scores.get(balance_key),
                "disruption_share": scores.get(DISRUPTION),
                "travel_km": scores.get(TRAVEL),
                "runtime_s": round(outcome["runtime_s"], 3),
                "message": outcome["message"],
            }
        )
    variants = pd.DataFrame(rows)
    figures = variants[["balance_cv", "disruption_share", "travel_km"]].astype(float)
    variants["frontier_disruption"] = non_dominated(
        figures[["balance_cv", "disruption_share"]]
    )
    variants["frontier_travel"] = non_dominated(figures[["balance_cv", "travel_km"]])
    variants["non_dominated"] = non_dominated(figures)
    alignments = pd.DataFrame(
        {"account_id": solved[0]["account_ids"]} if solved else {"account_id": []}
    )
    for outcome in solved:
        alignments[outcome["label"]] = outcome["assignment"]
    return SweepResult(
        scenario_path=path,
        settings=settings,
        variants=variants,
        columns=tuple(columns),
        comparison=comparison_frame(columns) if columns else pd.DataFrame(),
        alignments=alignments,
        balance_metric=metric,
    )


def tradeoff_figures(result: SweepResult) -> list[tuple[str, Any]]:
    """Plotly charts: balance against disruption and against travel."""
    import plotly.graph_objects as go

    variants = result.variants.dropna(subset=["balance_cv"])
    found = []
    for name, column, flag, title in (
        (
            "tradeoff-disruption",
            "disruption_share",
            "frontier_disruption",
            "accounts moved (share)",
        ),
        (
            "tradeoff-travel",
            "travel_km",
            "frontier_travel",
            "workload-weighted mean km",
        ),
    ):
        figure = go.Figure()
        for on_front, colour, label in (
            (True, "#d62728", "non-dominated"),
            (False, "#7f7f7f", "dominated"),
        ):
            part = variants[variants[flag] == on_front]
            figure.add_trace(
                go.Scatter(
                    x=part[column],
                    y=part["balance_cv"],
                    mode="markers+text",
                    text=part["label"],
                    textposition="top center",
                    marker={"color": colour, "size": 11},
                    name=label,
                )
            )
        front = variants[variants[flag]].sort_values(column)
        figure.add_trace(
            go.Scatter(
                x=front[column],
                y=front["balance_cv"],
                mode="lines",
                line={"color": "#d62728", "dash": "dot"},
                name="frontier",
                hoverinfo="skip",
            )
        )
        figure.update_layout(
            title=f"balance (CV of {result.balance_metric}) against {title}",
            xaxis_title=title,
            yaxis_title=f"CV of {result.balance_metric} (lower is better)",
            height=450,
        )
        found.append((name, figure))
    return found


def draw_tradeoff_png(result: SweepResult, path: Path) -> None:
    """The two trade-off charts side by side as a PNG, frontier in red."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    variants = result.variants.dropna(subset=["balance_cv"])
    figure = Figure(figsize=(12, 5), dpi=120)
    FigureCanvasAgg(figure)
    panels = (
        ("disruption_share", "frontier_disruption", "share of accounts moved"),
        ("travel_km", "frontier_travel", "workload-weighted mean km"),
    )
    for i, (column, flag, title) in enumerate(panels):
        axes = figure.add_subplot(1, 2, i + 1)
        on = variants[variants[flag]]
        off = variants[~variants[flag]]
        axes.scatter(off[column], off["balance_cv"], color="#7f7f7f", label="dominated")
        axes.scatter(
            on[column], on["balance_cv"], color="#d62728", label="non-dominated"
        )
        front = on.sort_values(column)
        axes.plot(front[column], front["balance_cv"], color="#d62728", linestyle=":")
        for row in variants.itertuples(index=False):
            axes.annotate(
                str(row.label), (getattr(row, column), row.balance_cv), fontsize=7
            )
        axes.set_xlabel(title)
        axes.set_ylabel(f"CV of {result.balance_metric}")
        axes.legend(loc="best", fontsize=8)
    figure.tight_layout()
    figure.savefig(path)


def write_sweep(result: SweepResult, folder: Path) -> None:
    """comparison.csv, variants.csv, alignments.csv, tradeoff.png, sweep.html."""
    from territory_opt.report import write_comparison_report

    result.comparison.to_csv(folder / "comparison.csv", index=False)
    result.variants.to_csv(folder / "variants.csv", index=False)
    result.alignments.to_csv(folder / "alignments.csv", index=False)
    if result.variants["balance_cv"].notna().any():
        draw_tradeoff_png(result, folder / "tradeoff.png")
    if len(result.comparison):
        write_comparison_report(
            f"sweep of {result.scenario_path.name}",
            result.columns,
            result.comparison,
            folder / "sweep.html",
            tradeoff_figures(result),
        )
