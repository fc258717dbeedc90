"""Command line: ``territory-opt solve|validate|compare|sweep|show|...``.

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
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from territory_opt import __version__
from territory_opt.bench.command import bench as _bench
from territory_opt.compare_terminal import cell_text, print_comparison
from territory_opt.crm.adapter import read_crm_folder
from territory_opt.crm.scenario import write_crm_scenario
from territory_opt.errors import (
    InfeasibleSpecificationError,
    TerritoryOptError,
    preview_ids,
)
from territory_opt.extras import Extras, run_extras
from territory_opt.outputs import territory_indices, write_folder, write_results
from territory_opt.presolve import check_presolve
from territory_opt.problem import Problem
from territory_opt.quota.run import QuotaOutcome
from territory_opt.result import SolveResult, Status
from territory_opt.runner import add_extras, solve_run
from territory_opt.scenario import load_scenario, scenario_json_schema
from territory_opt.scorecard import (
    level_summary,
    level_table,
    scorecard,
    territory_table,
)
from territory_opt.solve import Run, load_problem, solve_problem
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
    # Dask's own loggers say INFO about every worker; show them with -vv only.
    for name in ("distributed", "dask"):
        logging.getLogger(name).setLevel(level if verbose >= 2 else logging.WARNING)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _interruptible(work: Callable[[], int], what: str = "result folder") -> int:
    """Run ``work`` so that Ctrl-C or SIGTERM ends it cleanly with exit 130.

    The folder being written is removed by :func:`write_folder`; the message
    says that nothing was written.
    """
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return work()
    except KeyboardInterrupt:
        err.print(f"[red]interrupted[/red]: no {what} was written")
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)


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
    err.print(f"[red]error[/red]: {escape(str(exc))}", markup=True, highlight=False)
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
    code = _interruptible(
        lambda: _solve(
            scenario_path, engine, time_limit, seed, threads, out_dir, force, quiet
        )
    )
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
        run, timings, joint_report, chosen = solve_run(
            scenario,
            lambda problem, scenario: _solve_with_progress(
                lambda: solve_problem(problem, scenario.solver),
                scenario.solver.time_limit_s,
                quiet,
            ),
        )
    except InfeasibleSpecificationError as exc:
        err.print(f"[red]infeasible[/red]: {escape(str(exc))}", highlight=False)
        return EXIT_INFEASIBLE
    except TerritoryOptError as exc:
        err.print(f"[red]error[/red]: {escape(str(exc))}", highlight=False)
        return exc.exit_code
    if not quiet:
        _print_summary(run)
    if run.result.has_alignment:
        try:
            outcome = add_extras(run, timings, joint_report, chosen)
            if not quiet and outcome.extras is not None:
                _print_extras(outcome.extras)
            written = write_results(
                run,
                folder,
                force=force,
                extras=outcome.extras,
                timings_s=outcome.timings_s,
            )
        except TerritoryOptError as exc:
            err.print(f"[red]error[/red]: {escape(str(exc))}", highlight=False)
            return exc.exit_code
        out.print(f"results written to [bold]{escape(str(written))}[/bold]")
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
        head.add_row("note", escape(result.message))
    out.print(head)
    for line in result.violations[:10]:
        err.print(f"[red]violation[/red]: {escape(line)}", highlight=False)
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
            escape(values["territory_id"]),
            escape(values["rep_id"]) or "(vacant)",
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


def _money(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _quota_summary(outcome: QuotaOutcome) -> Table:
    """Plan, bounds, simulated cost and fairness of a quota outcome in one table."""
    summary, fairness = outcome.summary, outcome.fairness
    grid = Table(title="quotas and comp", show_header=False)
    grid.add_row("method", str(summary["method"]))
    grid.add_row(
        "target",
        f"{_money(summary['company_target'])} company, "
        f"{_money(summary['street_target'])} street "
        f"(over-assignment {_share(summary['over_assignment_realised']['total'])})",
    )
    hits = summary["bound_hits"]
    grid.add_row(
        "quotas",
        f"{_money(summary['quota_total'])} over {summary['territories']} "
        f"territories; bounds {summary['bounds_status']}, {hits['floor']} at floor, "
        f"{hits['cap']} at cap; vacancy gap {_money(summary['vacancy_gap_total'])}",
    )
    grid.add_row(
        "quota / potential",
        f"cv {_number(fairness.get('quota_to_potential_cv'))}, max/min "
        f"{_number(fairness.get('quota_to_potential_max_min'))}",
    )
    simulated = summary.get("simulation")
    if simulated:
        grid.add_row(
            "total comp cost",
            f"P10 {_money(simulated['total_cost_p10'])}, P50 "
            f"{_money(simulated['total_cost_p50'])}, P90 "
            f"{_money(simulated['total_cost_p90'])} "
            f"({simulated['draws']:,} draws); cost of sales "
            f"{_share(simulated['expected_ccos'])}",
        )
        grid.add_row(
            "reps at quota",
            f"{_share(simulated['share_at_quota_mean'])} on average (P10 "
            f"{_share(simulated['share_at_quota_p10'])}, P90 "
            f"{_share(simulated['share_at_quota_p90'])})",
        )
        grid.add_row(
            "P(quota)",
            f"{_share(fairness.get('p_attain_min'))} to "
            f"{_share(fairness.get('p_attain_max'))} (spread "
            f"{_number(fairness.get('p_attain_spread'))})",
        )
        grid.add_row(
            "pay fairness",
            f"Gini of expected pay {_number(fairness.get('expected_earnings_gini'))}, "
            f"territory-luck share {_share(fairness.get('territory_share'))}",
        )
    grid.add_row("warnings", str(len(outcome.warnings)))
    return grid


def _print_extras(extras: Extras) -> None:
    """A table for quotas and one line for the forecast; warnings are logged."""
    if extras.quota is not None:
        out.print(_quota_summary(extras.quota))
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
    problems = []
    if missing:
        problems.append(
            f"{len(missing)} account(s) missing ({preview_ids(missing)}); give every "
            "account a row"
        )
    if unknown:
        problems.append(
            f"unknown territory id(s) {preview_ids(unknown)}; use the scenario's "
            "territory ids"
        )
    if problems:
        raise InputErrorForCli(f"{path}: {' and '.join(problems)}")
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
        written = write_folder(folder, extras.write_with_metrics, force=force)
    except TerritoryOptError as exc:
        err.print(f"[red]error[/red]: {escape(str(exc))}", highlight=False)
        return exc.exit_code
    out.print(f"results written to [bold]{escape(str(written))}[/bold]")
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
    raise typer.Exit(
        _interruptible(
            lambda: _extras_command(scenario_path, alignment, out_dir, force, "quota")
        )
    )


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
    code = _interruptible(
        lambda: _extras_command(scenario_path, alignment, out_dir, force, "forecast")
    )
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

    def work() -> int:
        try:
            crm = read_crm_folder(folder)
            stamp = as_of or _latest_date(crm.opportunities)
            written = write_folder(
                out_dir,
                lambda target: write_crm_scenario(crm, target, name=name, as_of=stamp),
                force=force,
            )
        except TerritoryOptError as exc:
            err.print(f"[red]error[/red]: {escape(str(exc))}", highlight=False)
            return exc.exit_code
        for row in crm.quality.findings.itertuples(index=False):
            out.print(
                f"data quality: {row.check}: {row.count} ({row.detail})",
                highlight=False,
            )
        out.print(
            f"scenario written to [bold]{escape(str(written / 'scenario.yaml'))}[/bold]"
        )
        return EXIT_OK

    raise typer.Exit(_interruptible(work, "scenario folder"))


def _latest_date(opportunities: pd.DataFrame) -> str:
    """The last close date of the export, as the default forecast date."""
    dates = pd.to_datetime(opportunities["close_date"], errors="coerce").dropna()
    return (
        str(dates.max().date())
        if len(dates)
        else pd.Timestamp.today().date().isoformat()
    )


def _result_folder_of(
    path: Path, runs_dir: Path | None, time_limit: float | None, force: bool
) -> Path:
    """A result folder as it is, or a scenario YAML solved into one."""
    from territory_opt.runner import run_scenario

    if path.is_dir():
        return path
    scenario = load_scenario(path).with_overrides(time_limit_s=time_limit)
    folder = (
        runs_dir / scenario.name if runs_dir is not None else scenario.output_folder()
    )
    if folder.exists() and not force:
        raise InputErrorForCli(
            f"{folder}: the result folder of {path} exists already; pass --force to "
            f"solve again, --runs to write elsewhere, or give the folder itself"
        )
    outcome = run_scenario(scenario)
    if not outcome.run.result.has_alignment:
        raise InputErrorForCli(
            f"{path}: no alignment to compare ({outcome.run.result.status}: "
            f"{outcome.run.result.message})"
        )
    err.print(f"solved {path} ({outcome.run.result.status}) into {folder}")
    return write_results(
        outcome.run,
        folder,
        force=force,
        extras=outcome.extras,
        timings_s=outcome.timings_s,
    )


@app.command()
def compare(
    inputs: Annotated[
        list[Path],
        typer.Argument(
            metavar="RESULT_OR_SCENARIO...",
            help="Result folders, or scenario YAML files to solve first.",
        ),
    ],
    baseline: Annotated[
        str | None,
        typer.Option(help="Column the deltas refer to; default: current."),
    ] = None,
    csv: Annotated[Path | None, typer.Option(help="Write the table as CSV.")] = None,
    html: Annotated[
        Path | None, typer.Option(help="Write the table as an HTML page.")
    ] = None,
    runs: Annotated[
        Path | None,
        typer.Option(help="Folder for the results of scenario files."),
    ] = None,
    time_limit: Annotated[
        float | None, typer.Option(help="Seconds per scenario solved.")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Solve scenarios again over their old results.")
    ] = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Compare the current alignment and runs side by side, with deltas and the
    best value of every scorecard figure marked."""
    from territory_opt.compare import compare_results
    from territory_opt.report import write_comparison_report

    _setup_logging(verbose, False)
    try:
        folders = [_result_folder_of(p, runs, time_limit, force) for p in inputs]
        columns, frame = compare_results(folders, baseline)
    except TerritoryOptError as exc:
        _fail(exc)
    print_comparison(out, frame, f"comparison against {frame.attrs['baseline']}")
    if csv is not None:
        frame.to_csv(csv, index=False)
        out.print(f"table written to [bold]{escape(str(csv))}[/bold]")
    if html is not None:
        write_comparison_report("comparison", columns, frame, html)
        out.print(f"page written to [bold]{escape(str(html))}[/bold]")


@app.command()
def sweep(
    scenario_path: Annotated[Path, typer.Argument(metavar="SCENARIO")],
    settings: Annotated[
        list[str],
        typer.Option(
            "--set", help="KEY=V1,V2,... a dotted scenario key and its values."
        ),
    ],
    scheduler: Annotated[
        str | None,
        typer.Option(help="Address of a running Dask scheduler; default: local."),
    ] = None,
    workers: Annotated[int, typer.Option(help="Local Dask workers.")] = 2,
    balance_metric: Annotated[
        str | None, typer.Option(help="Metric whose CV measures balance.")
    ] = None,
    out_dir: OutOpt = None,
    force: Annotated[bool, typer.Option(help="Replace an existing folder.")] = False,
    verbose: VerboseOpt = 0,
) -> None:
    """Solve a grid of variants of a scenario in parallel (Dask) and compare them,
    marking the variants no other beats on balance, disruption and travel."""
    import distributed  # noqa: F401  (its logging set-up must come before ours)

    from territory_opt.manifest import build_manifest, write_manifest
    from territory_opt.sweep import parse_setting, run_sweep, write_sweep

    _setup_logging(verbose, False)
    started = time.perf_counter()
    try:
        parsed = [parse_setting(text) for text in settings]
        scenario = load_scenario(scenario_path)
        folder = out_dir or scenario.output_folder().with_name(f"{scenario.name}_sweep")
        if folder.exists() and not force:
            raise InputErrorForCli(
                f"{folder}: the sweep folder exists already; pass --force to "
                f"replace it or --out to write elsewhere"
            )
        result = run_sweep(
            scenario_path,
            parsed,
            scheduler=scheduler,
            workers=workers,
            balance_metric=balance_metric,
        )

        def fill(target: Path) -> None:
            write_sweep(result, target)
            facts = {
                "name": scenario.name,
                "path": str(scenario.source_path),
                "sha256": scenario.source_sha256,
                "settings": {s.key: list(s.values) for s in parsed},
                "scheduler": scheduler or f"local, {workers} worker(s)",
            }
            timings = {"sweep": time.perf_counter() - started}
            write_manifest(target, build_manifest(facts, {}, timings, []))

        written = write_folder(folder, fill, force=force)
    except TerritoryOptError as exc:
        _fail(exc)
    shown = result.variants[
        ["label", "status", "balance_cv", "disruption_share", "travel_km"]
        + ["non_dominated"]
    ]
    grid = Table(title=f"sweep of {scenario.name}: {len(shown)} variants")
    for column in shown.columns:
        grid.add_column(str(column), overflow="fold")
    for record in shown.to_dict("records"):
        grid.add_row(*[cell_text(record[c], str(c)) for c in shown.columns])
    out.print(grid)
    out.print(f"sweep written to [bold]{escape(str(written))}[/bold]")


@app.command()
def show(
    result: Annotated[Path, typer.Argument(metavar="RESULT", help="Result folder.")],
) -> None:
    """Print the run manifest of a result folder."""
    from territory_opt.manifest import read_manifest

    try:
        manifest = read_manifest(result)
    except TerritoryOptError as exc:
        _fail(exc)
    table = Table(title=f"manifest of {result}", show_header=False)
    table.add_column("key")
    table.add_column("value", overflow="fold")
    for section, value in manifest.items():
        if isinstance(value, dict):
            for key, inner in value.items():
                table.add_row(f"{section}.{key}", str(inner))
        elif isinstance(value, list):
            table.add_row(section, " ".join(str(v) for v in value))
        else:
            table.add_row(section, str(value))
    out.print(table)


app.command("bench")(_bench)


def main() -> None:
    """Entry point for ``python -m territory_opt``."""
    app()
