"""Minimum cut-edge districting instances as territory scenarios.

The instances of Validi & Buchanan (2022), "Political districting to minimize
cut edges", Mathematical Programming Computation 14:623-672, are county and
tract dual graphs with 2010 census population (networkx adjacency JSON, nodes
with ``GEOID10``, ``TOTPOP`` and centroid ``C_X``/``C_Y``). The problem: split
the units into k connected districts whose population lies in [L, U], with
L = ⌈0.995 P/k⌉ and U = ⌊1.005 P/k⌋, and cut as few adjacency edges as possible.

That is an ordinary scenario: units are accounts with potential = population,
k identical territories without home units, a potential band of ±0.5 % around
P/k (for integer populations it admits exactly the integers in [L, U]),
contiguity on, and the objective ``cut_edges: 1`` alone. This module writes
that scenario; solving it is the product's ordinary path.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from territory_opt.bench.suite import BenchOptions, Instance, Suite, register
from territory_opt.errors import InputError

TOLERANCE = 0.005


@dataclass(frozen=True)
class Reference:
    """One row of the reference table of proven optima."""

    state: str
    level: str
    fips: str
    n: int
    m: int
    k: int
    lower: int
    upper: int
    best_cut_edges: int
    best_bound: float
    proven_optimal: bool


def read_references(path: Path) -> list[Reference]:
    """Rows of ``reference_optimal_cut_edges.csv``."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Reference(
                state=row["state"],
                level=row["level"],
                fips=row["fips"].zfill(2),
                n=int(row["n"]),
                m=int(row["m"]),
                k=int(row["k"]),
                lower=int(row["L"]),
                upper=int(row["U"]),
                best_cut_edges=int(row["best_cut_edges"]),
                best_bound=float(row["best_bound"]),
                proven_optimal=row["proven_optimal"].strip() == "True",
            )
            for row in csv.DictReader(handle)
        ]


def graph_path(data: Path, reference: Reference) -> Path:
    """The dual-graph file of ``reference`` under the data folder."""
    if reference.level == "county":
        return data / "county_graphs" / f"county{reference.fips}.json"
    return data / "tract_graphs" / f"tract{reference.fips}.json.gz"


def read_graph(path: Path) -> dict[str, Any]:
    """A networkx adjacency JSON file, gzip-compressed or not."""
    if not path.exists():
        raise InputError(f"{path}: no such dual-graph file")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        graph: dict[str, Any] = json.load(handle)
    return graph


def band(total_population: int, k: int) -> tuple[int, int]:
    """Published population limits [L, U] of one district."""
    return (
        math.ceil((1 - TOLERANCE) * total_population / k),
        math.floor((1 + TOLERANCE) * total_population / k),
    )


def write_scenario(
    graph: dict[str, Any],
    k: int,
    folder: Path,
    name: str,
    time_limit_s: float = 600.0,
    engine: str = "highs",
    threads: int = 2,
) -> Path:
    """Write accounts, adjacency, territories and scenario.yaml; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    nodes = graph["nodes"]
    ids = [str(node["GEOID10"]) for node in nodes]
    with (folder / "accounts.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["account_id", "lat", "lon", "potential", "workload_hours"])
        for node, unit in zip(nodes, ids, strict=True):
            writer.writerow([unit, node["C_Y"], node["C_X"], int(node["TOTPOP"]), 1])
    edges = sorted(
        {
            tuple(sorted((ids[i], ids[int(link["id"])])))
            for i, links in enumerate(graph["adjacency"])
            for link in links
            if int(link["id"]) != i
        }
    )
    with (folder / "adjacency.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["from", "to"])
        writer.writerows(edges)
    with (folder / "territories.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["territory_id"])
        writer.writerows([[f"D{d + 1:02d}"] for d in range(k)])
    scenario = {
        "name": name,
        "description": f"minimum cut-edge districting, {len(ids)} units, k={k}",
        "accounts": {"path": "accounts.csv"},
        "territories": {"path": "territories.csv"},
        "balance": {"potential": {"tolerance": TOLERANCE, "weight": 0.0}},
        "objective": {
            "travel": 0.0,
            "disruption": 0.0,
            "balance": 0.0,
            "cut_edges": 1.0,
        },
        "geography": {
            "adjacency": {"path": "adjacency.csv"},
            "contiguity": True,
            "home_units": "none",
        },
        "solver": {
            "engine": engine,
            "time_limit_s": time_limit_s,
            "threads": threads,
            "seed": 0,
        },
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    return path


def _instances(data_dir: Path, options: BenchOptions) -> list[Instance]:
    folder = data_dir / "districting_cut_edges"
    found = []
    for ref in read_references(folder / "reference_optimal_cut_edges.csv"):
        label = f"{ref.state}-{ref.level}"

        def write(target: Path, opts: BenchOptions, ref: Reference = ref) -> Path:
            graph = read_graph(graph_path(folder, ref))
            return write_scenario(
                graph,
                ref.k,
                target,
                f"cut_edges_{ref.state}-{ref.level}",
                time_limit_s=opts.time_limit_s or 600.0,
                engine=opts.engine or "highs",
                threads=opts.threads or 2,
            )

        found.append(
            Instance(
                suite="districting",
                name=label,
                write=write,
                best_known=float(ref.best_cut_edges),
                best_known_kind="proven optimum" if ref.proven_optimal else "best",
            )
        )
    return found


def _missing(data_dir: Path) -> str | None:
    table = data_dir / "districting_cut_edges" / "reference_optimal_cut_edges.csv"
    return None if table.exists() else f"{table} not found"


SUITE = register(
    Suite(
        name="districting",
        description=(
            "Minimum cut-edge contiguous districting of US county and tract dual "
            "graphs (2010 population, ±0.5 % bands) against the proven optima of "
            "Validi & Buchanan (2022), Mathematical Programming Computation "
            "14:623-672. Objective: cut edges."
        ),
        instances=_instances,
        missing=_missing,
    )
)
