"""Benchmark suites: instances written as scenarios, solved, checked and tabled.

A suite is a named family of instances (``districting``, ``pmedcap``, ...).
Each instance writes an ordinary scenario folder; solving it is the product's
ordinary path (:func:`territory_opt.solve.solve_scenario`), and the independent
checker re-verifies every alignment. Each instance runs in a fresh process so
that its peak resident memory is its own. The rows are written as Markdown and
CSV into the results folder, headed by the machine and the command.

Suites register themselves with :func:`register`; instance data are read from
the data folder (``../shared/data`` beside the repository by default, or
``--data``), and a suite whose files are missing is skipped with the reason.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import platform
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from territory_opt.errors import InputError

log = logging.getLogger(__name__)

#: Columns of every results table, in order.
COLUMNS = (
    "suite",
    "instance",
    "units",
    "territories",
    "engine",
    "status",
    "time_s",
    "objective",
    "bound",
    "gap",
    "best_known",
    "gap_to_best_known",
    "max_balance_deviation",
    "contiguity",
    "checker",
    "peak_rss_mb",
)


@dataclass(frozen=True)
class BenchOptions:
    """Settings applied to every instance of a run.

    ``time_limit_s``, ``threads`` and ``engine`` override the scenario's own
    solver settings when given; ``seed`` is passed to instance generators.
    """

    time_limit_s: float | None = None
    threads: int | None = None
    engine: str | None = None
    seed: int = 0


@dataclass(frozen=True)
class Instance:
    """One benchmark instance.

    ``write`` writes the instance's scenario into a folder and returns the path
    of its ``scenario.yaml``; ``best_known`` is the published optimum or best
    known objective (``None`` when there is none) and ``best_known_kind`` says
    which.
    """

    suite: str
    name: str
    write: Callable[[Path, BenchOptions], Path]
    best_known: float | None = None
    best_known_kind: str = ""


@dataclass(frozen=True)
class Suite:
    """A named family of instances read from ``data_dir``.

    ``instances(data_dir, options)`` lists them; ``missing(data_dir)`` returns
    why the suite cannot run there (``None`` when it can).
    """

    name: str
    description: str
    instances: Callable[[Path, BenchOptions], list[Instance]]
    missing: Callable[[Path], str | None]


@dataclass
class BenchRow:
    """One results row (see :data:`COLUMNS`)."""

    suite: str
    instance: str
    units: int = 0
    territories: int = 0
    engine: str = ""
    status: str = ""
    time_s: float = math.nan
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    best_known: float | None = None
    gap_to_best_known: float | None = None
    max_balance_deviation: float | None = None
    contiguity: str = "n/a"
    checker: str = ""
    peak_rss_mb: float = math.nan
    notes: list[str] = field(default_factory=list)


_SUITES: dict[str, Suite] = {}


def register(suite: Suite) -> Suite:
    """Add ``suite`` to the registry (a later registration replaces one of the
    same name) and return it."""
    _SUITES[suite.name] = suite
    return suite


def suites() -> dict[str, Suite]:
    """The registered suites by name."""
    from territory_opt.bench import catalogue  # noqa: F401  (registers suites)

    return dict(_SUITES)


def default_data_dir() -> Path:
    """``$TERRITORY_OPT_BENCH_DATA`` if set, else ``../shared/data`` from here."""
    given = os.environ.get("TERRITORY_OPT_BENCH_DATA")
    if given:
        return Path(given)
    return Path.cwd().parent / "shared" / "data"


def gap_to(objective: float | None, best: float | None) -> float | None:
    """(objective − best) / |best| for a minimisation; ``None`` if unknown."""
    if objective is None or best is None or not math.isfinite(objective):
        return None
    if best == 0:
        return 0.0 if objective == 0 else math.inf
    return (objective - best) / abs(best)


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (ru_maxrss is KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    scale = 1.0 if platform.system() == "Darwin" else 1024.0
    return peak * scale / 1e6


def run_instance(instance: Instance, options: BenchOptions) -> BenchRow:
    """Write, solve and check one instance in this process."""
    from territory_opt.checker import check_alignment
    from territory_opt.outputs import territory_indices
    from territory_opt.scenario import load_scenario
    from territory_opt.scorecard import territory_table
    from territory_opt.solve import solve_scenario

    row = BenchRow(suite=instance.suite, instance=instance.name)
    row.best_known = instance.best_known
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        path = instance.write(Path(folder), options)
        scenario = load_scenario(path)
        scenario = scenario.with_overrides(
            engine=options.engine,
            time_limit_s=options.time_limit_s,
            threads=options.threads,
        )
        started = time.perf_counter()
        run = solve_scenario(scenario)
        elapsed = time.perf_counter() - started
    problem, result = run.problem, run.result
    row.units = problem.n_accounts
    row.territories = problem.n_territories
    row.engine = result.solver_version or str(result.engine)
    row.status = str(result.status)
    row.time_s = round(elapsed, 2)
    row.objective = result.objective
    row.bound = result.best_bound
    row.gap = result.relative_gap
    row.gap_to_best_known = gap_to(result.objective, instance.best_known)
    if result.assignment is None:
        row.checker = "no alignment"
    else:
        territory_of = territory_indices(run)
        broken = check_alignment(problem, territory_of)
        row.checker = "valid" if not broken else f"{len(broken)} violation(s)"
        row.notes.extend(broken[:3])
        table = territory_table(problem, territory_of)
        deviations = [
            np.nanmax(np.abs(table[f"{b.metric}_deviation_share"].to_numpy()))
            for b in problem.balances
            if f"{b.metric}_deviation_share" in table
        ]
        row.max_balance_deviation = float(max(deviations)) if deviations else None
        if problem.adjacency is not None:
            pieces = [
                len(problem.adjacency.components(territory_of == t))
                for t in range(problem.n_territories)
            ]
            split = sum(1 for p in pieces if p > 1)
            row.contiguity = "all" if split == 0 else f"{split} split"
    row.peak_rss_mb = round(_peak_rss_mb(), 1)
    return row


def _run_by_name(
    suite_name: str, instance_name: str, data_dir: Path, options: BenchOptions
) -> BenchRow:
    """Look an instance up again (in a fresh process) and run it."""
    suite = suites()[suite_name]
    for instance in suite.instances(data_dir, options):
        if instance.name == instance_name:
            return run_instance(instance, options)
    raise InputError(f"{suite_name}: no instance named {instance_name!r}")


def select(
    suite: Suite, data_dir: Path, options: BenchOptions, names: list[str]
) -> list[Instance]:
    """The suite's instances, only those named in ``names`` when it is not empty.

    A name that matches no instance is an error listing the valid ones.
    """
    available = suite.instances(data_dir, options)
    if not names:
        return available
    known = {i.name for i in available}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError(
            f"{suite.name}: unknown instance(s) {', '.join(unknown)}; "
            f"valid: {', '.join(sorted(known))}"
        )
    return [i for i in available if i.name in set(names)]


def run_suite(
    suite: Suite,
    data_dir: Path,
    options: BenchOptions,
    names: list[str] | None = None,
    fresh_process: bool = True,
) -> Iterator[BenchRow]:
    """Rows of the suite's instances, each solved in a fresh process.

    ``fresh_process=False`` runs them in this process (peak memory is then the
    process's peak so far, not the instance's own).
    """
    for instance in select(suite, data_dir, options, names or []):
        log.info("%s: solving %s", suite.name, instance.name)
        if not fresh_process:
            yield run_instance(instance, options)
            continue
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            yield pool.submit(
                _run_by_name, suite.name, instance.name, data_dir, options
            ).result()


def rows_frame(rows: list[BenchRow]) -> pd.DataFrame:
    """The rows as a table with :data:`COLUMNS` in order."""
    frame = pd.DataFrame([asdict(r) for r in rows], columns=[*COLUMNS, "notes"])
    frame["notes"] = ["; ".join(n) for n in frame["notes"]]
    if not frame["notes"].astype(bool).any():
        frame = frame.drop(columns="notes")
    return frame


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else f"{value:.6g}"
    return str(value).replace("|", "\\|")


def markdown_table(frame: pd.DataFrame) -> str:
    """A pipe table of ``frame``, numbers to 6 significant digits."""
    lines = ["| " + " | ".join(frame.columns) + " |"]
    lines.append("|" + "---|" * len(frame.columns))
    for values in frame.itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in values) + " |")
    return "\n".join(lines)


def machine_line() -> str:
    """Platform, CPU count, memory and Python version of this machine."""
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        pass
    return (
        f"{platform.platform()}, {os.cpu_count()} cpus{memory}, "
        f"Python {platform.python_version()}"
    )


def write_results(
    suite: Suite, rows: list[BenchRow], out_dir: Path, command: str
) -> tuple[Path, Path]:
    """Write ``<suite>.md`` and ``<suite>.csv`` into ``out_dir`` atomically."""
    frame = rows_frame(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    text = "\n\n".join(
        [
            f"# Benchmark suite `{suite.name}`",
            suite.description,
            f"Machine: {machine_line()}",
            f"Command: `{command}`",
            markdown_table(frame),
        ]
    )
    md = out_dir / f"{suite.name}.md"
    csv = out_dir / f"{suite.name}.csv"
    for target, write in (
        (md, lambda p: p.write_text(text + "\n", encoding="utf-8")),
        (csv, lambda p: frame.to_csv(p, index=False)),
    ):
        partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
        write(partial)
        partial.replace(target)
    return md, csv
