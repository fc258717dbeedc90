"""Build the ``us_national`` scenario from US census county data.

Reads ``../data/us_counties.csv`` and writes, next to this script:

* ``accounts.csv``    the 3,109 counties of the 48 contiguous states and DC,
                      with potential, workload, revenue and segment computed
                      exactly as for ``southeast_medtech`` (its ``build_data.py``
                      is imported, so the two scenarios share one definition);
* ``territories.csv`` about 100 territories under 10 regions.

Homes and regions come from recursive bisection of the map on potential: the
counties are split along the longer side of their extent (km on a local
equirectangular projection) at the potential-weighted point that gives each
side its share of territories, first into 10 regions, then each region into 10
cells. Each cell's home is its most populous county, so every home sits in a
real population centre, and every region holds about a tenth of the potential.
Cells whose homes touch are merged (see :func:`merge_touching_homes`), and a
territory gets a team of reps where it or its largest county is too big for
one (see :func:`team_sizes`).
The current alignment gives every county to the nearest home, as in the
southeast scenario. No random numbers are used: running it again gives
byte-identical files.

Run with::

    python scenarios/us_national/build_data.py
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SOURCE_CSV = HERE.parent / "data" / "us_counties.csv"
ADJACENCY_CSV = HERE.parent / "data" / "us_county_adjacency.csv"
ACCOUNTS_CSV = HERE / "accounts.csv"
TERRITORIES_CSV = HERE / "territories.csv"

NOT_CONTIGUOUS = ("AK", "HI")
REGIONS = 10
TERRITORIES_PER_REGION = 15
CAPACITY_HOURS_PER_FTE = 3_500.0


def _southeast() -> object:
    """The southeast scenario's build module, for its account definitions."""
    path = HERE.parent / "southeast_medtech" / "build_data.py"
    spec = importlib.util.spec_from_file_location("southeast_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bisect(
    index: np.ndarray, parts: int, weight: np.ndarray, x: np.ndarray, y: np.ndarray
) -> list[np.ndarray]:
    """Split ``index`` into ``parts`` cells of about equal ``weight``."""
    if parts == 1:
        return [index]
    left_parts = parts // 2
    axis = x if np.ptp(x[index]) >= np.ptp(y[index]) else y
    order = index[np.lexsort((index, axis[index]))]
    cumulative = np.cumsum(weight[order])
    cut = int(np.searchsorted(cumulative, cumulative[-1] * left_parts / parts))
    cut = min(max(cut, left_parts), len(order) - (parts - left_parts))
    return bisect(order[:cut], left_parts, weight, x, y) + bisect(
        order[cut:], parts - left_parts, weight, x, y
    )


def team_sizes(
    cells: list[np.ndarray], potential: np.ndarray, workload: np.ndarray
) -> list[float]:
    """Reps per territory: one, or more where the cell or its largest county
    needs a team to stay inside the ±5 % potential band and, with workload
    at most 1.25 times its target, well inside the capacity.

    Targets shrink as teams grow, so the sizes are recomputed until stable.
    """
    fte = np.ones(len(cells))
    for _ in range(10):
        mean_potential = potential.sum() / fte.sum()
        mean_workload = workload.sum() / fte.sum()
        need = [
            max(
                round(potential[cell].sum() / mean_potential),
                math.ceil(potential[cell].max() / (1.05 * mean_potential)),
                math.ceil(workload[cell].max() / (1.25 * mean_workload)),
                1,
            )
            for cell in cells
        ]
        if np.array_equal(need, fte):
            break
        fte = np.array(need, dtype=float)
    return fte.tolist()


def neighbours(fips: list[str]) -> dict[int, set[int]]:
    """County adjacency as row indices of ``fips``."""
    edges = pd.read_csv(ADJACENCY_CSV, dtype={"fips_a": str, "fips_b": str})
    index = {f: i for i, f in enumerate(fips)}
    near: dict[int, set[int]] = {i: set() for i in range(len(fips))}
    for a, b in zip(edges["fips_a"], edges["fips_b"], strict=True):
        if a in index and b in index:
            near[index[a]].add(index[b])
            near[index[b]].add(index[a])
    return near


def merge_touching_homes(
    cells: list[np.ndarray], population: np.ndarray, near: dict[int, set[int]]
) -> list[np.ndarray]:
    """Merge cells whose homes (most populous counties) are adjacent.

    A territory must hold its home county and be connected; in dense metro
    areas (the boroughs of New York) homes that touch box each other in, so
    such cells become one territory with a team of reps.
    """
    cells = list(cells)
    while True:
        homes = [int(cell[np.argmax(population[cell])]) for cell in cells]
        pair = next(
            (
                (i, j)
                for i in range(len(cells))
                for j in range(i + 1, len(cells))
                if homes[j] in near[homes[i]]
            ),
            None,
        )
        if pair is None:
            return cells
        i, j = pair
        cells[i] = np.sort(np.concatenate([cells[i], cells[j]]))
        del cells[j]


def build_territories(acc: pd.DataFrame) -> pd.DataFrame:
    """100 territories: home at the most populous county of each cell."""
    c = acc.reset_index(drop=True)
    lat0 = np.radians(c["lat"].mean())
    x = c["lon"].to_numpy() * 111.32 * np.cos(lat0)
    y = c["lat"].to_numpy() * 110.57
    potential = c["potential_usd"].to_numpy(dtype=float)
    workload = c["workload_hours"].to_numpy(dtype=float)
    population = c["population"].to_numpy()
    regions = bisect(np.arange(len(c)), REGIONS, potential, x, y)
    cells, region_of = [], []
    for r, region in enumerate(regions, start=1):
        for cell in merge_touching_homes(
            bisect(region, TERRITORIES_PER_REGION, potential, x, y),
            population,
            neighbours(c["fips"].tolist()),
        ):
            cells.append(cell)
            region_of.append(f"R{r:02d}")
    rows = []
    for cell, region, fte in zip(
        cells, region_of, team_sizes(cells, potential, workload), strict=True
    ):
        home = cell[np.argmax(c["population"].to_numpy()[cell])]
        number = len(rows) + 1
        rows.append(
            {
                "territory_id": f"T{number:03d}",
                "rep_id": f"R{number:03d}",
                "home_county": f"{c['county'][home]}, {c['state'][home]}",
                "home_fips": c["fips"][home],
                "lat": round(float(c["lat"][home]), 4),
                "lon": round(float(c["lon"][home]), 4),
                "fte": fte,
                "capacity_hours": CAPACITY_HOURS_PER_FTE * fte,
                "region": region,
            }
        )
    return pd.DataFrame(rows)


def build() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The accounts and territories tables."""
    counties = pd.read_csv(SOURCE_CSV, dtype={"fips": str})
    counties = counties[~counties["state"].isin(NOT_CONTIGUOUS)]
    states = tuple(sorted(counties["state"].unique()))
    southeast = _southeast()
    build_accounts = southeast.build_accounts  # type: ignore[attr-defined]
    # Accounts first (their current territory is filled in below), then the
    # homes from their potential, then the current alignment to those homes.
    placeholder = pd.DataFrame({"territory_id": ["-"], "lat": [0.0], "lon": [0.0]})
    terr = build_territories(build_accounts(counties, placeholder, states))
    acc = build_accounts(counties, terr, states).drop(columns=["segment"])
    return acc, terr


def main() -> None:
    acc, terr = build()
    acc.to_csv(ACCOUNTS_CSV, index=False, lineterminator="\n")
    terr.to_csv(TERRITORIES_CSV, index=False, lineterminator="\n")
    share = acc.groupby(
        acc["current_territory"].map(terr.set_index("territory_id")["region"])
    )["potential_usd"].sum() / acc["potential_usd"].sum()
    print(f"wrote {ACCOUNTS_CSV.name} ({len(acc)} rows), {TERRITORIES_CSV.name}")
    print("potential share by region (current alignment):")
    print(share.round(4).to_string())


if __name__ == "__main__":
    main()
