"""``territory-opt bench [SUITE] [INSTANCE ...]``: run benchmark suites.

Also runnable as ``python -m territory_opt.bench`` with the same arguments.
"""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from territory_opt.bench.suite import (
    BenchOptions,
    BenchRow,
    default_data_dir,
    run_suite,
    select,
    suites,
    write_results,
)
from territory_opt.errors import TerritoryOptError

log = logging.getLogger(__name__)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _list_suites(data_dir: Path) -> None:
    table = Table(title=f"benchmark suites (data: {escape(str(data_dir))})")
    table.add_column("suite")
    table.add_column("available")
    table.add_column("about")
    for name, suite in sorted(suites().items()):
        missing = suite.missing(data_dir)
        table.add_row(
            name,
            "yes" if missing is None else f"no: {escape(missing)}",
            escape(suite.description.split(". ")[0]),
        )
    out.print(table)


def _row_text(row: BenchRow) -> str:
    best = "" if row.best_known is None else f" (best known {row.best_known:.6g})"
    objective = "none" if row.objective is None else f"{row.objective:.6g}"
    return (
        f"{escape(row.suite)} {escape(row.instance)}: {escape(row.status)}, "
        f"objective {objective}"
        f"{best}, {row.time_s:.1f} s, {row.peak_rss_mb:.0f} MB, "
        f"contiguity {escape(row.contiguity)}, checker {escape(row.checker)}"
    )


def bench(
    suite: Annotated[
        str | None,
        typer.Argument(help="Suite to run, or 'all'; none lists the suites."),
    ] = None,
    instances: Annotated[
        list[str] | None,
        typer.Argument(help="Only these instances of the suite."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(help="Folder holding the instance data sets."),
    ] = None,
    results: Annotated[
        Path, typer.Option("--out", help="Folder for <suite>.md and <suite>.csv.")
    ] = Path("benchmarks/results"),
    time_limit: Annotated[
        float | None, typer.Option(help="Seconds per instance.")
    ] = None,
    threads: Annotated[int | None, typer.Option(help="Solver threads.")] = None,
    engine: Annotated[str | None, typer.Option(help="Engine for every run.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of generated instances.")] = 0,
    in_process: Annotated[
        bool,
        typer.Option(help="Solve in this process (peak memory then not per run)."),
    ] = False,
) -> None:
    """Run a benchmark suite and write its results table."""
    data_dir = data or default_data_dir()
    available = suites()
    if suite is None:
        _list_suites(data_dir)
        return
    names = sorted(available) if suite == "all" else [suite]
    unknown = [n for n in names if n not in available]
    if unknown:
        err.print(
            f"[red]error[/red]: no suite named {escape(unknown[0])}; "
            f"valid: {', '.join(sorted(available))}, all"
        )
        raise typer.Exit(2)
    options = BenchOptions(
        time_limit_s=time_limit, threads=threads, engine=engine, seed=seed
    )
    command = "territory-opt bench " + shlex.join(sys.argv[2:])
    for name in names:
        chosen = available[name]
        missing = chosen.missing(data_dir)
        if missing is not None:
            err.print(f"{name}: skipped, {escape(missing)}")
            continue
        try:
            count = len(select(chosen, data_dir, options, list(instances or [])))
            rows: list[BenchRow] = []
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            ) as progress:
                task = progress.add_task(f"{name}", total=count)
                for row in run_suite(
                    chosen,
                    data_dir,
                    options,
                    list(instances or []),
                    fresh_process=not in_process,
                ):
                    rows.append(row)
                    progress.console.print(_row_text(row))
                    progress.advance(task)
        except TerritoryOptError as exc:
            err.print(f"[red]error[/red]: {escape(str(exc))}")
            raise typer.Exit(2) from None
        md, csv = write_results(chosen, rows, results, command)
        out.print(f"{name}: {len(rows)} row(s) written to {md} and {csv}")
