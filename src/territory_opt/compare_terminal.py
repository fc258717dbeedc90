"""The comparison of scenarios as terminal tables that fit the console width.

A comparison has one row per scorecard figure and, per column, a value and its
change against the baseline. Printed as one wide table it wraps into an
unreadable block in an 80-column terminal, so :func:`comparison_tables` makes
it narrow: rows are grouped under their section (``balance``, ``travel`` ...)
so that a row names only the rest of the figure, the direction of improvement
is an arrow, each column shows its change beside its value, and the columns
are split over as many tables as the width needs, each repeating the figure
names and the baseline.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from territory_opt.compare import HIGHER, LOWER

ARROWS = {LOWER: " ↓", HIGHER: " ↑"}
BEST_MARK = " *"
LEGEND = (
    "↓ lower is better, ↑ higher is better; (±x) change against {base}; "
    "* best value of the row"
)


def cell_text(value: object, metric: str) -> str:
    """A figure as printed: shares in per cent, large numbers with separators,
    others to 4 significant digits; blank for a missing or infinite value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if isinstance(value, int | float | np.number):
        number = float(value)
        if metric.endswith("share"):
            return f"{100 * number:.2f}%"
        return f"{number:,.0f}" if abs(number) >= 1000 else f"{number:.4g}"
    return str(value)


def _change_text(delta: object, metric: str) -> str:
    text = cell_text(delta, metric)
    if not text or not isinstance(delta, int | float | np.number):
        return ""
    return f" ({'+' if float(delta) >= 0 else ''}{text})"


def _build(frame: pd.DataFrame, shown: Sequence[str], title: str) -> Table:
    """One table: the figure column, then ``shown`` (the baseline first)."""
    base = str(frame.attrs["baseline"])
    table = Table(
        title=title,
        caption=LEGEND.format(base=escape(base)),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("figure", overflow="fold")
    for label in shown:
        table.add_column(escape(label), justify="right", no_wrap=True)
    section = None
    for record in frame.to_dict("records"):
        metric = str(record["metric"])
        head, _, rest = metric.partition(".")
        if head != section:
            section = head
            table.add_row(f"[bold]{escape(head)}[/bold]", *[""] * len(shown))
        best = set(str(record["best"]).split("; ")) if record["best"] else set()
        cells = []
        for label in shown:
            text = cell_text(record[label], metric)
            if text and label != base:
                text += _change_text(record.get(f"delta {label}"), metric)
            if text and label in best:
                text = f"[bold green]{escape(text + BEST_MARK)}[/bold green]"
            else:
                text = escape(text)
            cells.append(text)
        name = escape(rest or head) + ARROWS.get(str(record["better"]), "")
        table.add_row(f"  {name}", *cells)
    return table


def _width(table: Table) -> int:
    """The width the table takes when nothing has to wrap."""
    measure = Console(width=100_000).measure(table)
    return int(measure.maximum)


def comparison_tables(frame: pd.DataFrame, width: int, title: str) -> list[Table]:
    """The comparison split into tables no wider than ``width`` characters.

    Each table holds the figure names, the baseline column and as many of the
    other columns, in their order, as fit; a column that does not fit even
    alone gets a table of its own. ``frame`` is the output of
    :func:`territory_opt.compare.comparison_frame`.
    """
    base = str(frame.attrs["baseline"])
    others = [str(label) for label in frame.attrs["labels"] if label != base]
    groups: list[list[str]] = []
    group: list[str] = []
    for label in others:
        trial = [*group, label]
        if group and _width(_build(frame, [base, *trial], title)) > width:
            groups.append(group)
            group = [label]
        else:
            group = trial
    groups.append(group)
    if len(groups) == 1:
        return [_build(frame, [base, *groups[0]], title)]
    return [
        _build(frame, [base, *chosen], f"{title}, part {i} of {len(groups)}")
        for i, chosen in enumerate(groups, start=1)
    ]


def print_comparison(console: Console, frame: pd.DataFrame, title: str) -> None:
    """Print :func:`comparison_tables` at the console's width."""
    for table in comparison_tables(frame, console.width, title):
        console.print(table)
