"""Minimum cut-edge contiguous districting against published proven optima.

Usage::

    .venv/bin/python benchmarks/districting.py [STATE-LEVEL ...] [--data DIR]
        [--time-limit S] [--threads N] [--engine E] [--write]

Each instance (for example ``ME-county``, ``NH-tract``; all 15 of the reference
table by default) becomes an ordinary scenario (see
``territory_opt.bench.districting``) solved by ``solve_scenario``; the checker
verifies the population band and that every district is connected. The table
reports status, cut edges, best bound, time and the proven optimum of Validi &
Buchanan (2022). The data folder defaults to
``../shared/data/districting_cut_edges`` beside the repository; the suite is
skipped, with a message, when it is missing. ``--write`` stores the table in
``benchmarks/results/districting.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

import pandas as pd

from territory_opt.bench.districting import (
    graph_path,
    read_graph,
    read_references,
    write_scenario,
)
from territory_opt.checker import check_alignment
from territory_opt.outputs import territory_indices
from territory_opt.scenario import load_scenario
from territory_opt.solve import solve_scenario

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data" / "districting_cut_edges"
sys.path.insert(0, str(HERE))
from engines import markdown  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instances", nargs="*", help="e.g. ME-county NH-tract")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--time-limit", type=float, default=600.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--engine", default="highs")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()

    table_path = args.data / "reference_optimal_cut_edges.csv"
    if not table_path.exists():
        print(f"districting: skipped, {table_path} not found")
        return
    references = read_references(table_path)
    wanted = set(args.instances)
    rows = []
    for ref in references:
        label = f"{ref.state}-{ref.level}"
        if wanted and label not in wanted:
            continue
        graph = read_graph(graph_path(args.data, ref))
        with tempfile.TemporaryDirectory() as folder:
            path = write_scenario(
                graph,
                ref.k,
                Path(folder),
                f"cut_edges_{label}",
                time_limit_s=args.time_limit,
                engine=args.engine,
                threads=args.threads,
            )
            run = solve_scenario(load_scenario(path))
        result = run.result
        verified = ""
        if result.assignment is not None:
            broken = check_alignment(run.problem, territory_indices(run))
            verified = "valid" if not broken else f"{len(broken)} violation(s)"
        rows.append(
            {
                "instance": label,
                "n": ref.n,
                "m": ref.m,
                "k": ref.k,
                "engine": result.solver_version or result.engine,
                "status": result.status.value,
                "cut_edges": result.objective,
                "best_bound": result.best_bound,
                "gap": result.relative_gap,
                "time_s": round(result.runtime_s, 2),
                "checker": verified,
                "proven_optimum": ref.best_cut_edges,
                "reached": result.objective is not None
                and round(result.objective) == ref.best_cut_edges,
            }
        )
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    machine = (
        f"{platform.platform()}, {os.cpu_count()} cpus, "
        f"Python {platform.python_version()}"
    )
    command = "python benchmarks/districting.py " + " ".join(sys.argv[1:])
    text = "\n\n".join(
        [
            "# Minimum cut-edge districting (Validi & Buchanan 2022)",
            f"Machine: {machine}",
            f"Command: `{command.strip()}`",
            markdown(table),
        ]
    )
    print(text)
    if args.write:
        out = HERE / "results"
        out.mkdir(exist_ok=True)
        (out / "districting.md").write_text(text + "\n", encoding="utf-8")
        table.to_csv(out / "districting.csv", index=False)


if __name__ == "__main__":
    main()
