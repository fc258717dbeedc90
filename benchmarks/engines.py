"""Side-by-side run of the three engines on one scenario.

Usage::

    .venv/bin/python benchmarks/engines.py [SCENARIO] [--time-limit S] [--threads N]

Every engine solves the same scenario with the same limits, one after the
other on the same machine; the table reports status, objective, best bound,
gap and time, and each engine's time and objective as ratios against HiGHS
run in the same session. Results go to ``benchmarks/results/engines_<name>.md``
and ``.csv``, headed by the machine they ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import pandas as pd

from territory_opt.checker import check_alignment
from territory_opt.outputs import territory_indices
from territory_opt.scenario import load_scenario
from territory_opt.solve import Run, load_problem, solve_problem

HERE = Path(__file__).resolve().parent
DEFAULT = HERE.parent / "scenarios" / "southeast_medtech" / "scenario.yaml"


def markdown(table: pd.DataFrame) -> str:
    """A pipe table of ``table``, numbers to 6 significant digits."""

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if value != value else f"{value:.6g}"
        return str(value)

    lines = ["| " + " | ".join(table.columns) + " |"]
    lines.append("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)


def _shown(path: Path) -> str:
    """The path relative to the repository when it lies inside it."""
    try:
        return path.resolve().relative_to(HERE.parent).as_posix()
    except ValueError:
        return path.as_posix()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default=str(DEFAULT))
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    base = load_scenario(args.scenario)
    problem = load_problem(base)
    rows = []
    for engine in ("highs", "cpsat", "cbc"):
        scenario = base.with_overrides(
            engine=engine, time_limit_s=args.time_limit, threads=args.threads
        )
        result = solve_problem(problem, scenario.solver)
        run = Run(scenario=scenario, problem=problem, result=result)
        checked = "n/a"
        if result.assignment is not None:
            broken = check_alignment(problem, territory_indices(run))
            checked = "valid" if not broken else f"{len(broken)} violations"
        rows.append(
            {
                "engine": f"{engine} ({result.solver_version})",
                "status": str(result.status),
                "objective": result.objective,
                "best_bound": result.best_bound,
                "gap": result.relative_gap,
                "time_s": round(result.runtime_s, 2),
                "checker": checked,
            }
        )
    table = pd.DataFrame(rows)
    table["time_vs_highs"] = (table["time_s"] / table["time_s"].iloc[0]).round(3)
    table["objective_vs_highs"] = (
        table["objective"] / table["objective"].iloc[0]
    ).round(4)

    machine = (
        f"{platform.platform()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}"
    )
    command = (
        f"python benchmarks/engines.py {_shown(Path(args.scenario))} "
        f"--time-limit {args.time_limit:g} --threads {args.threads}"
    )
    out = HERE / "results" / f"engines_{base.name}"
    out.parent.mkdir(exist_ok=True)
    table.to_csv(out.with_suffix(".csv"), index=False)
    text = (
        f"# Engines side by side: {base.name}\n\n"
        f"{problem.n_accounts} accounts, {problem.n_territories} territories, "
        f"{len(problem.pair_account)} allowed pairs.\n\n"
        f"Machine: {machine}\n\nCommand: `{command}`\n\n"
        f"{markdown(table)}\n"
    )
    out.with_suffix(".md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
