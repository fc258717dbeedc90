"""Scenarios side by side: every scorecard figure, deltas and the best per row.

The figures are read from the ``metrics.json`` of result folders (the same
scorecards that ``solve`` wrote), flattened to dotted names such as
``balance.potential.cv`` or ``disruption.accounts_moved_share``. The current
alignment is always a column: it comes from the ``current_scorecard`` of the
results. Each row says which way is better (``lower``, ``higher`` or blank when
neither is), and the best value of a row is marked across all columns.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from territory_opt.errors import InputError

CURRENT = "current"
LOWER = "lower"
HIGHER = "higher"
SCORED_SECTIONS = ("balance", "travel", "disruption", "adjacency")
LOWER_IS_BETTER = frozenset(
    {
        "cv",
        "std",
        "gini",
        "max_min_ratio",
        "max_abs_deviation_share",
        "mean_abs_deviation_share",
        "cut_edges",
        "territories_in_pieces",
        "split_territories",
        "empty_territories",
        "p_attain_spread",
        "p_attain_std",
        "quota_to_potential_cv",
        "quota_to_potential_max_min",
        "expected_attainment_cv",
        "expected_incentive_cv",
        "expected_incentive_gini",
        "expected_earnings_gini",
    }
)
HIGHER_IS_BETTER = frozenset({"polsby_popper_mean", "polsby_popper_min"})
NEUTRAL = frozenset({"mean", "accounts_compared", "edges"})
TIE_TOLERANCE = 1e-9


def direction(metric: str) -> str:
    """``lower``, ``higher`` or ``""``: which way a figure is better."""
    section, _, name = metric.rpartition(".")
    if name.startswith("within_"):
        return HIGHER
    if name in HIGHER_IS_BETTER:
        return HIGHER
    if name in LOWER_IS_BETTER:
        return LOWER
    if name in NEUTRAL:
        return ""
    if section.startswith(("travel", "disruption")):
        return LOWER
    return ""


def _numeric_leaves(prefix: str, value: Any, into: dict[str, float | None]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key != "pieces":  # per-territory detail, not a scenario figure
                _numeric_leaves(f"{prefix}.{key}", inner, into)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int | float):
        into[prefix] = float(value)
    elif value is None:
        into[prefix] = None


def scorecard_scores(card: Mapping[str, Any]) -> dict[str, float | None]:
    """The scorecard's balance, travel, disruption and adjacency figures."""
    flat: dict[str, float | None] = {}
    for section in SCORED_SECTIONS:
        if section in card:
            _numeric_leaves(section, card[section], flat)
    return flat


def document_scores(document: Mapping[str, Any]) -> dict[str, float | None]:
    """Every figure of the proposed alignment in a metrics.json document:
    the scorecard, compactness, quota fairness and forecast contribution."""
    if "scorecard" not in document:
        raise InputError("the metrics have no scorecard: the run found no alignment")
    flat = scorecard_scores(document["scorecard"])
    summary = (document.get("compactness") or {}).get("summary")
    if summary:
        _numeric_leaves("compactness", summary, flat)
    fairness = (document.get("quota") or {}).get("fairness")
    if fairness:
        _numeric_leaves("fairness", fairness, flat)
    contribution = (document.get("forecast") or {}).get("contribution")
    if contribution:
        _numeric_leaves("contribution", contribution, flat)
    return flat


@dataclass(frozen=True)
class Compared:
    """One column of a comparison: a label, its figures and where they came from."""

    label: str
    scores: dict[str, float | None]
    source: str


def read_metrics(result: Path) -> dict[str, Any]:
    """The metrics.json of a result folder.

    Raises
    ------
    InputError
        When the folder has no readable metrics.json.
    """
    path = result / "metrics.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{result}: no metrics.json; give result folders written by "
            f"'territory-opt solve' or scenario YAML files"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: cannot read the metrics ({exc})") from None
    if not isinstance(document, dict):
        raise InputError(f"{path}: expected a JSON object")
    return document


def _same(a: Mapping[str, float | None], b: Mapping[str, float | None]) -> bool:
    if a.keys() != b.keys():
        return False
    return all(
        (x is None and y is None)
        or (
            x is not None
            and y is not None
            and math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-12)
        )
        for x, y in ((a[k], b[k]) for k in a)
    )


def columns_from_documents(
    documents: Sequence[tuple[str, Mapping[str, Any], str]],
) -> list[Compared]:
    """The current alignment and each run, from (label, metrics, source) triples.

    The current alignment's column comes first, labelled ``current``; runs whose
    current alignments differ (other accounts or territories) each add their own
    ``current (<label>)`` column.
    """
    columns: list[Compared] = []
    currents: list[Compared] = []
    for label, document, source in documents:
        card = document.get("current_scorecard")
        if card is None:
            continue
        scores = scorecard_scores(card)
        if not any(_same(scores, c.scores) for c in currents):
            name = CURRENT if not currents else f"{CURRENT} ({label})"
            currents.append(Compared(name, scores, source))
    for label, document, source in documents:
        columns.append(Compared(label, document_scores(document), source))
    return currents + columns


def unique_labels(names: Sequence[str]) -> list[str]:
    """The names, with ``-2``, ``-3`` ... added to repeats."""
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return labels


def _best(values: list[float | None], better: str) -> list[bool]:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not better or len(finite) < 2:
        return [False] * len(values)
    target = min(finite) if better == LOWER else max(finite)
    if all(math.isclose(v, target, abs_tol=TIE_TOLERANCE) for v in finite):
        return [False] * len(values)  # every column equal: nothing to mark
    return [
        v is not None and math.isclose(v, target, abs_tol=TIE_TOLERANCE) for v in values
    ]


def comparison_frame(
    columns: Sequence[Compared], baseline: str | None = None
) -> pd.DataFrame:
    """One row per figure: which way is better, each column's value, the delta of
    each other column against ``baseline``, and the column(s) with the best value.

    ``baseline`` defaults to the first column (the current alignment when known).
    Deltas are value − baseline value; blank where either is missing. ``best``
    names the columns holding the best value of a row with a direction, joined
    by ``; ``, and is blank when every column is equal.

    Raises
    ------
    InputError
        When ``baseline`` is not a column label.
    """
    labels = [c.label for c in columns]
    if not labels:
        raise InputError("nothing to compare: give at least one result or scenario")
    base = labels[0] if baseline is None else baseline
    if base not in labels:
        raise InputError(
            f"--baseline: '{base}' is not a column; the columns are {', '.join(labels)}"
        )
    metrics: dict[str, None] = {}
    for column in columns:
        metrics.update(dict.fromkeys(column.scores))
    base_scores = columns[labels.index(base)].scores
    rows = []
    for metric in metrics:
        better = direction(metric)
        values = [c.scores.get(metric) for c in columns]
        row: dict[str, Any] = {"metric": metric, "better": better}
        row |= dict(zip(labels, values, strict=True))
        reference = base_scores.get(metric)
        for label, value in zip(labels, values, strict=True):
            if label != base:
                row[f"delta {label}"] = (
                    None if value is None or reference is None else value - reference
                )
        marks = _best(values, better)
        row["best"] = "; ".join(
            label for label, mark in zip(labels, marks, strict=True) if mark
        )
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.attrs["baseline"] = base
    frame.attrs["labels"] = labels
    return frame


def compare_results(
    results: Sequence[Path], baseline: str | None = None
) -> tuple[list[Compared], pd.DataFrame]:
    """Columns and comparison of result folders, labelled by folder name (with
    ``-2``, ``-3`` ... on repeats), the current alignment first."""
    labels = unique_labels([CURRENT, *(path.resolve().name for path in results)])[1:]
    documents = [
        (label, read_metrics(path), str(path))
        for label, path in zip(labels, results, strict=True)
    ]
    columns = columns_from_documents(documents)
    return columns, comparison_frame(columns, baseline)
