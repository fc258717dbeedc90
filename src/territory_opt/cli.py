"""Command line: ``territory-opt solve|validate|schema``.

Exit codes: 0 solved (optimal or feasible), 1 solver error or invalid answer,
2 bad input, 3 infeasible, 4 no alignment found within the time limit,
130 interrupted.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from territory_opt import __version__
from territory_opt.crm.adapter import read_crm_folder
from territory_opt.crm.scenario import write_crm_scenario
from territory_opt.errors import (
    InfeasibleSpecificationError,
    TerritoryOptError,
    preview_ids,
)
from territory_opt.extras import Extras, run_extras
from territory_opt.joint import solve_jointly
from territory_opt.outputs import territory_indices, write_folder, write_results
from territory_opt.presolve import check_presolve
from territory_opt.problem import Problem
from territory_opt.result import SolveResult, Status
from territory_opt.scenario import load_scenario, scenario_json_schema
from territory_opt.scorecard import (
    level_summary,
    level_table,
    scorecard,
    territory_table,
)
from territory_opt.solve import Run, load_inputs, load_problem, solve_problem
from territory_opt.tables import read_text_table

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_INFEASIBLE = 3
EXIT_NO_SOLUTION = 4
EXIT_INTERRUPTED = 130

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Design sales territories: balanced, compact, with little disruption.",
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
logger = logging.getLogger("territory_opt")


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.WARNING
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2:
        level = logging.DEBUG
    if quiet:
        level = logging.ERROR
    handler = RichHandler(console=err, show_path=False, show_time=False)
    logging.basicConfig(
        level=level, handlers=[handler], format="%(message)s", force=True
    )


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


VerboseOpt = Annotated[
    int, typer.Option("--verbose", "-v", count=True, help="More log.")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Only errors.")]


@app.command()
def version() -> None:
    """Print the package version."""
    out.print(__version__)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario file."""
    print(scenario_json_schema())


@app.command()
def validate(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO")],
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Check a scenario and its tables, and run the pre-solve diagnostics."""
    _setup_logging(verbose, quiet)
    try:
        scenario = load_scenario(scenario_path)
        problem = load_problem(scenario)
        check_presolve(problem)
    except TerritoryOptError as exc:
        _fail(exc)
    out.print(
        f"[green]valid[/green]: {problem.n_accounts} accounts, "
        f"{problem.n_territories} territories, {len(problem.pair_account)} allowed "
        f"pairs, {len(problem.balances)} balanced metric(s); no conflict found "
        f"before solving"
    )


def _fail(exc: TerritoryOptError) -> None:
    err.print(f"[red]error[/red]: {exc}", markup=True, highlight=False)
    raise typer.Exit(exc.exit_code)


def _solve_with_progress(
    run_solve: Callable[[], SolveResult], time_limit_s: float, quiet: bool
) -> SolveResult:
    """Run ``run_solve`` while a bar shows elapsed time against the time limit."""
    if quiet or not err.is_terminal:
        return run_solve()
    results: list[SolveResult] = []
    failures: list[BaseException] = []

    def target() -> None:
        try:
            results.append(run_solve())
        except BaseException as exc:  # handed back to the main thread
            failures.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    columns = (
        TextColumn("solving"),
        BarColumn(),
        TimeElapsedColumn(),
        TextColumn(f"of {time_limit_s:g} s limit"),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("solve", total=time_limit_s)
        start = time.perf_counter()
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
            elapsed = min(time.perf_counter() - start, time_limit_s)
            progress.update(task, completed=elapsed)
    if failures:
        raise failures[0]
    return results[0]


@app.command()
def solve(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO")],
    engine: Annotated[
        str | None, typer.Option(help="cpsat, highs, cbc or auto.")
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Seconds; overrides the scenario.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed.")] = None,
    threads: Annotated[int | None, typer.Option(help="Solver threads.")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Result folder.")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Replace an existing result folder.")
    ] = False,
    verbose: VerboseOpt = 0,
    quiet: QuietOpt = False,
) -> None:
    """Solve a scenario, verify the alignment and write the result folder."""
    _setup_logging(verbose, quiet)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        code = _solve(
            scenario_path, engine, time_limit, seed, threads, out_dir, force, quiet
        )
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]: no result folder was written")
        code = EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    raise typer.Exit(code)


def _solve(
    scenario_path: Path,
    engine: str | None,
    time_limit: float | None,
    seed: int | None,
    threads: int | None,
    out_dir: Path | None,
    force: bool,
    quiet: bool,
) -> int:
    try:
        if engine is not None and engine not in ("cpsat", "highs", "cbc", "auto"):
            raise InputErrorForCli(
                f"--engine: '{engine}' is not an engine; use cpsat, highs, cbc or auto"
            )
        scenario = load_scenario(scenario_path).with_overrides(
            engine=engine, time_limit_s=time_limit, seed=seed, threads=threads
        )
        folder = out_dir.resolve() if out_dir else scenario.output_folder()
        if folder.exists() and not force:
            raise InputErrorForCli(
                f"{folder}: the result folder exists already; pass --force to "
                f"replace it or --out to write elsewhere"
            )
        problem, polygons = load_inputs(scenario)
        joint = None
        if scenario.quota is not None and scenario.quota.joint_design is not None:
            joint = solve_jointly(scenario, problem)
            problem, result = joint.problem, joint.result
        else:
            result = _solve_with_progress(
                lambda: solve_problem(problem, scenario.solver),
                scenario.solver.time_limit_s,
                quiet,
            )
    except InfeasibleSpecificationError as exc:
        err.print(f"[red]infeasible[/red]: {exc}", highlight=False)
        return EXIT_INFEASIBLE
    except TerritoryOptError as exc:
        err.print(f"[red]error[/red]: {exc}", highlight=False)
        return exc.exit_code
    run = Run(scenario=scenario, problem=problem, result=result, polygons=polygons)
    if not quiet:
        _print_summary(run)
    if run.result.has_alignment:
        try:
            chosen = joint.design.best if joint is not None else None
            extras = run_extras(
                scenario,
                problem,
                territory_indices(run),
                quota=None if chosen is None else chosen.outcome,
                joint=None if joint is None else joint.report(),
            )
            if not quiet:
                _print_extras(extras)
            written = write_results(run, folder, force=force, extras=extras)
        except TerritoryOptError as exc:
            err.print(f"[red]error[/red]: {exc}", highlight=False)
            return exc.exit_code
        out.print(f"results written to [bold]{written}[/bold]")
        return EXIT_OK
    return {
        Status.INFEASIBLE: EXIT_INFEASIBLE,
        Status.NO_SOLUTION: EXIT_NO_SOLUTION,
    }.get(run.result.status, EXIT_ERROR)


class InputErrorForCli(TerritoryOptError):
    """Bad command-line option."""

    exit_code = EXIT_BAD_INPUT


def _pct(value: float) -> str:
    return "" if not np.isfinite(value) else f"{100 * value:+.1f}%"


def _print_summary(run: Run) -> None:
    result = run.result
    gap = "" if result.relative_gap is None else f"{100 * result.relative_gap:.3f}%"
    head = Table(title=f"scenario {run.scenario.name}", show_header=False)
    head.add_row("status", str(result.status))
    head.add_row("engine", f"{result.engine} ({result.solver_version})")
    head.add_row(
        "objective", f"{result.objective:.6g}" if result.objective is not None else ""
    )
    head.add_row(
        "best bound",
        f"{result.best_bound:.6g}" if result.best_bound is not None else "",
    )
    head.add_row("gap", gap)
    head.add_row("time", f"{result.runtime_s:.2f} s (limit {result.time_limit_s:g} s)")
    if result.message:
        head.add_row("note", result.message)
    out.print(head)
    for line in result.violations[:10]:
        err.print(f"[red]violation[/red]: {line}", highlight=False)
    if result.assignment is None:
        return
    territory_of = territory_indices(run)
    table = territory_table(run.problem, territory_of)
    metrics = [b.metric for b in run.problem.balances]
    grid = Table(title="territories")
    for name in ("territory", "rep", "accounts", *metrics, "km mean", "km max"):
        grid.add_column(
            name, justify="left" if name in ("territory", "rep") else "right"
        )
    for values in table.to_dict("records"):
        grid.add_row(
            values["territory_id"],
            values["rep_id"] or "(vacant)",
            f"{values['accounts']:.0f}",
            *[_pct(values[f"{m}_deviation_share"]) for m in metrics],
            f"{values['travel_km_mean']:.0f}",
            f"{values['travel_km_max']:.0f}",
        )
    out.print(grid)
    card = scorecard(run.problem, territory_of)
    for metric in metrics:
        s = card["balance"][metric]
        out.print(
            f"{metric}: cv {s['cv']:.4f}, max/min {s['max_min_ratio']:.3f}, "
            f"within ±5% {100 * s['within_5pct_share']:.0f}%, "
            f"max deviation {100 * s['max_abs_deviation_share']:.2f}%"
        )
    levels = level_table(run.problem, territory_of)
    if levels is not None:
        for name, level in level_summary(levels).items():
            worst = ", ".join(
                f"{metric} {100 * share:.2f}%"
                for metric, share in level["max_abs_deviation_share"].items()
                if metric in {"potential", *metrics}
            )
            out.print(f"{name} ({level['units']} units): max deviation {worst}")
    moved = card["disruption"]
    if moved.get("accounts_compared"):
        out.print(
            f"disruption: {100 * moved['accounts_moved_share']:.1f}% of accounts, "
            f"{100 * moved['potential_moved_share']:.1f}% of potential moved"
        )


def _print_extras(extras: Extras) -> None:
    """One line each for quotas and forecast; their warnings are logged."""
    if extras.quota is not None:
        summary, fairness = extras.quota.summary, extras.quota.fairness
        out.print(
            f"quotas: street target {summary['street_target']:,.0f}, "
            f"P(quota) from {fairness['p_attain_min']:.1%} to "
            f"{fairness['p_attain_max']:.1%}, {len(extras.quota.warnings)} warning(s)"
        )
    if extras.forecast is not None:
        frame = extras.forecast.forecast
        total = f"{frame['E'].sum():,.0f}" if "E" in frame else "n/a"
        out.print(
            f"forecast: weighted pipeline {total}, "
            f"{len(extras.forecast.warnings)} warning(s)"
        )


def _alignment_of(problem: Problem, path: Path | None) -> np.ndarray:
    """Territory index per account from an alignment.csv, or the current one."""
    index = problem.territory_index()
    if path is None:
        if (problem.current < 0).any():
            raise InputErrorForCli(
                "the accounts have no current territory for every account; pass "
                "--alignment with an alignment.csv (account_id, territory_id)"
            )
        return problem.current.copy()
    table = read_text_table(path).frame
    for column in ("account_id", "territory_id"):
        if column not in table:
            raise InputErrorForCli(f"{path}: no column '{column}'")
    given = dict(zip(table["account_id"], table["territory_id"], strict=True))
    missing = [a for a in problem.account_ids if a not in given]
    unknown = sorted({t for t in given.values() if t not in index})
    if missing or unknown:
        raise InputErrorForCli(
            f"{path}: {len(missing)} account(s) missing ({preview_ids(missing)}) and "
            f"unknown territory id(s) {preview_ids(unknown)}"
        )
    return np.array([index[given[a]] for a in problem.account_ids], dtype=np.int64)


def _extras_command(
    scenario_path: Path,
    alignment: Path | None,
    out_dir: Path | None,
    force: bool,
    section: str,
) -> int:
    try:
        scenario = load_scenario(scenario_path)
        if getattr(scenario, section) is None:
            raise InputErrorForCli(
                f"{scenario_path}: the scenario has no '{section}' section"
            )
        folder = out_dir or scenario.output_folder().with_name(
            f"{scenario.name}_{section}"
        )
        if folder.exists() and not force:
            raise InputErrorForCli(
                f"{folder}: the result folder exists already; pass --force to "
                f"replace it or --out to write elsewhere"
            )
        problem = load_problem(scenario)
        territory_of = _alignment_of(problem, alignment)
        if section == "quota":
            scenario = scenario.model_copy(update={"forecast": None})
        extras = run_extras(scenario, problem, territory_of)
        _print_extras(extras)
        written = write_folder(folder, extras.write, force=force)
    except TerritoryOptError as exc:
        err.print(f"[red]error[/red]: {exc}", highlight=False)
        return exc.exit_code
    out.print(f"results written to [bold]{written}[/bold]")
    return EXIT_OK


AlignmentOpt = Annotated[
    Path | None,
    typer.Option(help="alignment.csv to use; default: the current alignment."),
]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Result folder.")]


@app.command()
def quota(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO")],
    alignment: AlignmentOpt = None,
    out_dir: OutOpt = None,
    force: Annotated[bool, typer.Option(help="Replace an existing folder.")] = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Set quotas and simulate comp on an existing alignment."""
    _setup_logging(verbose, False)
    raise typer.Exit(_extras_command(scenario_path, alignment, out_dir, force, "quota"))


@app.command()
def forecast(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO")],
    alignment: AlignmentOpt = None,
    out_dir: OutOpt = None,
    force: Annotated[bool, typer.Option(help="Replace an existing folder.")] = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Forecast from the funnel, check its integrity, on an existing alignment."""
    _setup_logging(verbose, False)
    code = _extras_command(scenario_path, alignment, out_dir, force, "forecast")
    raise typer.Exit(code)


@app.command("import-crm")
def import_crm(
    folder: Annotated[Path, typer.Argument(help="Folder with the CRM export.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Scenario folder to create.")],
    name: Annotated[str, typer.Option(help="Scenario name.")] = "crm_accounts",
    as_of: Annotated[str, typer.Option(help="Forecast date, YYYY-MM-DD.")] = "",
    force: Annotated[bool, typer.Option(help="Replace an existing folder.")] = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Turn a CRM export (accounts, products, sales_teams, sales_pipeline CSV
    files) into a named-account scenario with a forecast section."""
    _setup_logging(verbose, False)
    try:
        crm = read_crm_folder(folder)
        stamp = as_of or _latest_date(crm.opportunities)
        written = write_folder(
            out_dir,
            lambda target: write_crm_scenario(crm, target, name=name, as_of=stamp),
            force=force,
        )
    except TerritoryOptError as exc:
        err.print(f"[red]error[/red]: {exc}", highlight=False)
        raise typer.Exit(exc.exit_code) from None
    for row in crm.quality.findings.itertuples(index=False):
        out.print(
            f"data quality: {row.check}: {row.count} ({row.detail})", highlight=False
        )
    out.print(f"scenario written to [bold]{written / 'scenario.yaml'}[/bold]")


def _latest_date(opportunities: pd.DataFrame) -> str:
    """The last close date of the export, as the default forecast date."""
    dates = pd.to_datetime(opportunities["close_date"], errors="coerce").dropna()
    return (
        str(dates.max().date())
        if len(dates)
        else pd.Timestamp.today().date().isoformat()
    )


def main() -> None:
    """Entry point for ``python -m territory_opt``."""
    app()
