"""Build the ``southeast_medtech`` demo scenario from US census county data.

Reads ``../data/us_counties.csv`` (relative to this file) and writes two files
next to this script:

* ``accounts.csv``    one row per county of AL, GA, SC and TN (367 rows),
                      sorted by FIPS code;
* ``territories.csv`` 24 sales territories of a fictional medical-device
                      company.

The script is deterministic: it uses no random numbers, so running it again
gives byte-identical files. All modelling assumptions are constants at the
top of the file and are explained in ``README.md`` next to it.

Run with::

    python scenarios/southeast_medtech/build_data.py

It prints the totals and the balance checks described in the README, and it
stops with an error if a check that the scenario relies on fails.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from territory_opt.geo import haversine_km

HERE = Path(__file__).resolve().parent
SOURCE_CSV = HERE.parent / "data" / "us_counties.csv"
ACCOUNTS_CSV = HERE / "accounts.csv"
TERRITORIES_CSV = HERE / "territories.csv"

STATES = ("AL", "GA", "SC", "TN")

# --- Assumptions (see README.md) -------------------------------------------
# Potential: yearly spend on the product category per resident aged 65+.
SPEND_PER_65PLUS_USD = 180.0
# Workload: calls per year = CALLS_BASE + population / POP_PER_EXTRA_CALL;
# every call takes CALL_HOURS in the account plus a travel time that grows
# with the county's size: sqrt(land_area_km2) / TRAVEL_KM_PER_HOUR.
CALLS_BASE = 12.0
POP_PER_EXTRA_CALL = 2_500.0
CALL_HOURS = 1.0
TRAVEL_KM_PER_HOUR = 50.0
# Revenue last year as a share of potential: rises with the log of population.
REVENUE_SHARE_AT_10K = 0.12
REVENUE_SHARE_PER_DECADE = 0.05
REVENUE_SHARE_MIN = 0.10
REVENUE_SHARE_MAX = 0.25
# Segment rule.
METRO_MIN_POPULATION = 250_000
# Capacity: selling hours a full-time rep can give per year.
CAPACITY_HOURS_PER_FTE = 1_700.0
# Candidate territories per county used by the scenario (scenario.yaml).
CANDIDATES_NEAREST = 8

# --- Territories -------------------------------------------------------------
# (territory_id, territory_name, home_city, lat, lon, district)
# Home coordinates are approximate city centres.
TERRITORIES: list[tuple[str, str, str, float, float, str]] = [
    ("T01", "Atlanta Central", "Atlanta, GA", 33.7490, -84.3880, "D-GA-N"),
    ("T02", "Atlanta Northwest", "Marietta, GA", 33.9526, -84.5499, "D-GA-N"),
    ("T03", "Atlanta Northeast", "Lawrenceville, GA", 33.9562, -83.9880, "D-GA-N"),
    ("T04", "Atlanta South", "Jonesboro, GA", 33.5215, -84.3538, "D-GA-N"),
    ("T05", "Athens", "Athens, GA", 33.9519, -83.3576, "D-GA-N"),
    ("T06", "Macon", "Macon, GA", 32.8407, -83.6324, "D-GA-S"),
    ("T07", "Columbus", "Columbus, GA", 32.4610, -84.9877, "D-GA-S"),
    ("T08", "Augusta", "Augusta, GA", 33.4735, -82.0105, "D-GA-S"),
    ("T09", "Savannah", "Savannah, GA", 32.0809, -81.0912, "D-GA-S"),
    ("T10", "Birmingham", "Birmingham, AL", 33.5186, -86.8104, "D-AL"),
    ("T11", "Huntsville", "Huntsville, AL", 34.7304, -86.5861, "D-AL"),
    ("T12", "Montgomery", "Montgomery, AL", 32.3792, -86.3077, "D-AL"),
    ("T13", "Mobile", "Mobile, AL", 30.6954, -88.0399, "D-AL"),
    ("T14", "Dothan", "Dothan, AL", 31.2232, -85.3905, "D-AL"),
    ("T15", "Nashville", "Nashville, TN", 36.1627, -86.7816, "D-TN-W"),
    ("T16", "Murfreesboro", "Murfreesboro, TN", 35.8456, -86.3903, "D-TN-W"),
    ("T17", "Memphis", "Memphis, TN", 35.1495, -90.0490, "D-TN-W"),
    ("T18", "Knoxville", "Knoxville, TN", 35.9606, -83.9207, "D-TN-E"),
    ("T19", "Chattanooga", "Chattanooga, TN", 35.0456, -85.3097, "D-TN-E"),
    ("T20", "Johnson City", "Johnson City, TN", 36.3134, -82.3535, "D-TN-E"),
    ("T21", "Columbia", "Columbia, SC", 34.0007, -81.0348, "D-SC"),
    ("T22", "Charleston", "Charleston, SC", 32.7765, -79.9311, "D-SC"),
    ("T23", "Greenville", "Greenville, SC", 34.8526, -82.3940, "D-SC"),
    ("T24", "Myrtle Beach", "Myrtle Beach, SC", 33.6891, -78.8867, "D-SC"),
]
# The one part-time rep and the one vacant territory (no rep assigned).
FTE_OVERRIDES = {"T14": 0.5}
VACANT = {"T07"}


def build_territories() -> pd.DataFrame:
    """Territory table: ids, reps (one vacancy), homes, FTE, capacity."""
    rows = []
    rep_no = 0
    for tid, name, city, lat, lon, district in TERRITORIES:
        fte = FTE_OVERRIDES.get(tid, 1.0)
        if tid in VACANT:
            rep_id = ""
        else:
            rep_no += 1
            rep_id = f"R{rep_no:02d}"
        rows.append(
            {
                "territory_id": tid,
                "territory_name": name,
                "rep_id": rep_id,
                "home_city": city,
                "lat": lat,
                "lon": lon,
                "fte": fte,
                "capacity_hours": round(CAPACITY_HOURS_PER_FTE * fte, 1),
                "segments": "metro;community",
                "district": district,
                "region": "Southeast",
            }
        )
    return pd.DataFrame(rows)


def build_accounts(
    counties: pd.DataFrame, terr: pd.DataFrame, states: tuple[str, ...] = STATES
) -> pd.DataFrame:
    """County accounts of ``states`` with potential, workload, revenue and the
    current alignment (each county to the nearest home)."""
    c = counties[counties["state"].isin(states)].sort_values("fips")
    c = c.reset_index(drop=True)

    pop = c["population"].to_numpy(dtype=float)
    area = c["land_area_km2"].to_numpy(dtype=float)

    potential = c["pop_65plus"].to_numpy(dtype=float) * SPEND_PER_65PLUS_USD

    calls = CALLS_BASE + pop / POP_PER_EXTRA_CALL
    hours_per_call = CALL_HOURS + np.sqrt(area) / TRAVEL_KM_PER_HOUR
    workload = calls * hours_per_call

    share = REVENUE_SHARE_AT_10K + REVENUE_SHARE_PER_DECADE * np.log10(pop / 10_000.0)
    share = np.clip(share, REVENUE_SHARE_MIN, REVENUE_SHARE_MAX)
    revenue = potential * share

    segment = np.where(pop >= METRO_MIN_POPULATION, "metro", "community")

    dist = haversine_km(
        c["lat"].to_numpy()[:, None],
        c["lon"].to_numpy()[:, None],
        terr["lat"].to_numpy()[None, :],
        terr["lon"].to_numpy()[None, :],
    )
    nearest = dist.argmin(axis=1)  # ties (none occur) go to the lower id
    current = terr["territory_id"].to_numpy()[nearest]

    return pd.DataFrame(
        {
            "fips": c["fips"],
            "county": c["name"],
            "state": c["state"],
            "lat": c["lat"],
            "lon": c["lon"],
            "population": c["population"].astype(int),
            "pop_65plus": c["pop_65plus"].astype(int),
            "potential_usd": np.round(potential).astype(int),
            "workload_hours": np.round(workload, 1),
            "revenue_usd": np.round(revenue).astype(int),
            "segment": segment,
            "current_territory": current,
        }
    )


def check_and_report(acc: pd.DataFrame, terr: pd.DataFrame) -> None:
    """Print totals and balance figures; raise if a scenario premise fails."""
    problems: list[str] = []
    n = len(acc)
    print(f"accounts: {n} counties ({', '.join(STATES)}); territories: {len(terr)}")

    fte = terr.set_index("territory_id")["fte"]
    share = fte / fte.sum()
    tot_pot = float(acc["potential_usd"].sum())
    tot_wl = float(acc["workload_hours"].sum())
    tot_cap = float(terr["capacity_hours"].sum())
    print(f"total potential      : {tot_pot:,.0f} USD")
    print(f"total workload       : {tot_wl:,.1f} h")
    print(f"total capacity       : {tot_cap:,.1f} h ({tot_cap / tot_wl:.2f} x load)")
    print(f"total revenue        : {acc['revenue_usd'].sum():,.0f} USD")
    print(f"sum of FTE           : {fte.sum():.1f}")

    target_pot = tot_pot * share
    target_wl = tot_wl * share
    cap = terr.set_index("territory_id")["capacity_hours"]

    # Premise: capacity comfortably above workload, overall and per territory.
    if tot_cap < 1.20 * tot_wl:
        problems.append("total capacity is less than 1.2 x total workload")
    headroom = 1.0 - target_wl / cap
    if (headroom < 0.15).any():
        problems.append("a workload target is within 15% of its capacity")
    print(f"workload target / capacity: max {(target_wl / cap).max():.3f}")

    # Largest county against the targets.
    big = acc.loc[acc["potential_usd"].idxmax()]
    tmin = target_pot.idxmin()
    full = fte[fte == 1.0].index
    print(
        f"largest county       : {big['county']}, {big['state']} "
        f"({big['potential_usd']:,.0f} USD)"
    )
    print(
        f"  / smallest target ({tmin}, fte {fte[tmin]}): "
        f"{big['potential_usd'] / target_pot[tmin]:.3f}"
    )
    print(
        f"  / smallest full-FTE target: "
        f"{big['potential_usd'] / target_pot[full].min():.3f}"
    )
    if big["potential_usd"] >= target_pot[full].min():
        problems.append("a county is larger than a full-FTE potential target")

    # Part-time territories: each must be buildable from counties that are
    # small against its target. Check the counties it holds today, and show
    # the largest county that could be moved to it (candidate set).
    dist = haversine_km(
        acc["lat"].to_numpy()[:, None],
        acc["lon"].to_numpy()[:, None],
        terr["lat"].to_numpy()[None, :],
        terr["lon"].to_numpy()[None, :],
    )
    near = np.argsort(dist, axis=1, kind="stable")[:, :CANDIDATES_NEAREST]
    tids = terr["territory_id"].to_numpy()
    for j, tid in enumerate(tids):
        if fte[tid] >= 1.0:
            continue
        own = acc[acc["current_territory"] == tid]
        own_max = own["potential_usd"].max() / target_pot[tid]
        cand = acc[(near == j).any(axis=1)]
        cmax = cand.loc[cand["potential_usd"].idxmax()]
        print(
            f"part-time {tid} (fte {fte[tid]}): target {target_pot[tid]:,.0f} USD; "
            f"largest county it holds now = {own_max:.3f} of target; "
            f"largest county among its {len(cand)} candidates = "
            f"{cmax['county']}, {cmax['state']} "
            f"{cmax['potential_usd'] / target_pot[tid]:.3f}"
        )
        if own_max > 0.60:
            problems.append(f"{tid}: a county it holds exceeds 60% of its target")

    # Current alignment balance.
    cur = acc.groupby("current_territory")
    pot_ratio = cur["potential_usd"].sum().reindex(tids, fill_value=0) / target_pot
    wl_ratio = cur["workload_hours"].sum().reindex(tids, fill_value=0) / target_wl
    cnt = cur.size().reindex(tids, fill_value=0)
    table = pd.DataFrame(
        {
            "name": terr.set_index("territory_id")["territory_name"],
            "fte": fte,
            "counties": cnt,
            "target_potential": target_pot.round(0),
            "potential/target": pot_ratio.round(3),
            "workload/target": wl_ratio.round(3),
        }
    )
    print("\ncurrent alignment (nearest home):")
    print(table.to_string())
    print(
        f"\npotential / target: min {pot_ratio.min():.3f} "
        f"({pot_ratio.idxmin()}), max {pot_ratio.max():.3f} ({pot_ratio.idxmax()})"
    )
    print(
        f"workload  / target: min {wl_ratio.min():.3f} "
        f"({wl_ratio.idxmin()}), max {wl_ratio.max():.3f} ({wl_ratio.idxmax()})"
    )
    print(f"metro counties: {(acc['segment'] == 'metro').sum()}")

    if (acc["workload_hours"] <= 0).any():
        problems.append("a county has no workload")
    if not acc["fips"].str.fullmatch(r"\d{5}").all():
        problems.append("a fips code is not 5 digits")
    if problems:
        raise SystemExit("check failed: " + "; ".join(problems))


def build() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The accounts and territories tables, checked."""
    counties = pd.read_csv(SOURCE_CSV, dtype={"fips": str})
    terr = build_territories()
    acc = build_accounts(counties, terr)
    check_and_report(acc, terr)
    return acc, terr


def main() -> None:
    acc, terr = build()
    acc.to_csv(ACCOUNTS_CSV, index=False, lineterminator="\n")
    terr.to_csv(TERRITORIES_CSV, index=False, lineterminator="\n")
    print(
        f"\nwrote {ACCOUNTS_CSV.name} ({len(acc)} rows), "
        f"{TERRITORIES_CSV.name} ({len(terr)} rows)"
    )


if __name__ == "__main__":
    main()
