"""A seeded generator of a named-account CRM data set with planted faults.

The four tables have the shape of the public CRM sample (see docs/forecast.md,
CRM sample adapter): ``accounts``, ``products``, ``sales_teams`` and
``sales_pipeline`` with the sample's columns. The pipeline carries five extra
columns the sample lacks, which the adapter reads when present:
``created_date``, ``expected_close_date`` (open deals), ``amount`` (the value of
an open deal), ``last_activity_date`` and ``close_date_changes``.

Names, sectors and products are invented; nothing is taken from the sample.

Every fault is planted an exact number of times and on distinct open deals, so
that each hygiene flag fires exactly on its planted deals; the counts are in
:attr:`SyntheticCrm.faults`. Clean open deals close at least 10 days after
``as_of``, sit at most 20 days in their stage, were touched in the last 20
days, were pushed at most once and have a positive amount. Every stage visit
of the history lasts 10 to 40 days, so the stale threshold (twice the median)
is at least 20 days, and planted stale deals sit 150 to 300 days.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["FaultPlan", "SyntheticCrm", "generate_crm"]

logger = logging.getLogger(__name__)

CRM_OPEN_STAGES = ("Prospecting", "Engaging")

_SECTORS = ("software", "retail", "medical", "finance", "energy", "telecom")
_COUNTRIES = ("United States",) * 8 + ("Canada", "Germany")
_REGIONS = ("North", "South", "West")
_FIRST = (
    "Ada Bea Cyd Dov Eli Fay Gus Hal Ivo Jo Kai Lev Mia Ned Oda Pia Raf Sol Tam "
    "Uma Vic Wes Xan Yul Zoe"
).split()
_LAST = (
    "Arden Birch Corde Dunmore Ellery Frost Garrow Hollis Ingle Jarvis Keel Lowry "
    "Marsh Norell Orton Pryce Quill Royce Stroud Tolland"
).split()
_ACCOUNT_HEAD = (
    "Alder Brook Cobalt Delta Ember Fjord Granite Harbor Indigo Juniper Kestrel "
    "Lumen Maple Nimbus Onyx Pine Quartz Raven Summit Tidal"
).split()
_ACCOUNT_TAIL = ("Labs", "Works", "Group", "Systems", "Partners", "Holdings")
# (product, series, list price); the second spelling of the first product is
# planted in the pipeline.
_PRODUCTS = (
    ("Atlas Pro", "Atlas", 4200),
    ("Atlas Basic", "Atlas", 600),
    ("Nimbus Lite", "Nimbus", 90),
    ("Nimbus Max", "Nimbus", 3100),
    ("Orion 900", "Orion", 21000),
)
MISSPELT_PRODUCT = ("Atlas Pro", "AtlasPro")
_INVALID_STAGES = ("Negotiating", "Qualified", "Demo")
_STAGE_SHARES = {"Won": 0.45, "Lost": 0.25, "Engaging": 0.20, "Prospecting": 0.10}


@dataclass(frozen=True)
class FaultPlan:
    """How many times to plant each fault (every count at least 0).

    Hygiene faults (``past_due``, ``missing_amount``, ``missing_close_date``,
    ``stale``, ``no_activity``, ``pushed`` with 3 to 5 close-date changes,
    ``invalid_stage``, and ``blank_account_open``, which blanks the account)
    each go to their own open deals. ``product_misspelt`` writes ``AtlasPro``
    for ``Atlas Pro``, ``lost_zero_value`` gives lost deals a value of 0 (the
    others keep the value quoted), and ``agents_without_deals`` leaves agents
    out of the pipeline.
    """

    blank_account_open: int = 30
    product_misspelt: int = 40
    lost_zero_value: int = 60
    agents_without_deals: int = 2
    past_due: int = 25
    missing_amount: int = 20
    missing_close_date: int = 8
    stale: int = 18
    no_activity: int = 12
    pushed: int = 15
    invalid_stage: int = 10

    def hygiene_counts(self) -> dict[str, int]:
        """Planted counts of the faults that hygiene flags catch, by flag name."""
        names = (
            "past_due",
            "missing_amount",
            "missing_close_date",
            "stale",
            "no_activity",
            "pushed",
            "invalid_stage",
        )
        counts = {name: getattr(self, name) for name in names}
        return counts | {"missing_account": self.blank_account_open}


@dataclass(frozen=True)
class SyntheticCrm:
    """The generated tables, the planted fault counts and the reference day."""

    accounts: pd.DataFrame
    products: pd.DataFrame
    sales_teams: pd.DataFrame
    sales_pipeline: pd.DataFrame
    faults: FaultPlan
    agents_without_deals: tuple[str, ...]
    as_of: date
    seed: int
    stages: tuple[str, ...] = field(default=CRM_OPEN_STAGES)

    def write(self, folder: Path) -> Path:
        """Write the four CSV files under the sample's file names; return folder."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name in ("accounts", "products", "sales_teams", "sales_pipeline"):
            getattr(self, name).to_csv(folder / f"{name}.csv", index=False)
        return folder

    def fault_counts(self) -> dict[str, int]:
        """Every planted count by name."""
        return asdict(self.faults)


def _names(
    rng: np.random.Generator, count: int, first: list[str], last: list[str]
) -> list[str]:
    pairs = [f"{a} {b}" for a in first for b in last]
    if count > len(pairs):
        raise ValueError(f"at most {len(pairs)} distinct names; asked for {count}")
    chosen = rng.choice(len(pairs), size=count, replace=False)
    return [pairs[i] for i in sorted(chosen)]


def generate_crm(
    seed: int = 0,
    *,
    n_accounts: int = 40,
    managers_per_region: int = 2,
    agents_per_manager: int = 3,
    n_opportunities: int = 1200,
    as_of: date = date(2026, 1, 5),
    faults: FaultPlan | None = None,
) -> SyntheticCrm:
    """Generate a CRM data set with the sample's shape and planted faults.

    Parameters
    ----------
    seed
        Seed of every random choice (default 0); equal seeds give equal tables.
    n_accounts
        Accounts (default 40, at most 120).
    managers_per_region
        Managers in each of the three regional offices (default 2).
    agents_per_manager
        Agents under each manager (default 3).
    n_opportunities
        Deals in the pipeline (default 1,200).
    as_of
        The day the pipeline is read (default 2026-01-05); deals closed in the
        365 days before it.
    faults
        Planted counts (default :class:`FaultPlan`).

    Raises
    ------
    ValueError
        When the sizes cannot hold the planted faults.
    """
    plan = faults or FaultPlan()
    rng = np.random.default_rng(seed)
    accounts = _accounts(rng, n_accounts)
    teams = _teams(rng, managers_per_region, agents_per_manager)
    if plan.agents_without_deals >= len(teams):
        raise ValueError(
            f"agents_without_deals = {plan.agents_without_deals} leaves no agent "
            f"for the {len(teams)} agents generated; lower it"
        )
    idle = tuple(teams["sales_agent"].iloc[len(teams) - plan.agents_without_deals :])
    active = teams["sales_agent"].iloc[: len(teams) - plan.agents_without_deals]
    products = pd.DataFrame(_PRODUCTS, columns=["product", "series", "sales_price"])

    stages = rng.choice(
        list(_STAGE_SHARES), size=n_opportunities, p=list(_STAGE_SHARES.values())
    )
    deals = pd.DataFrame(
        {
            "opportunity_id": [
                f"G{seed % 1000:03d}{i:05d}" for i in range(n_opportunities)
            ],
            "sales_agent": rng.choice(active.to_numpy(), size=n_opportunities),
            "product": rng.choice(products["product"].to_numpy(), size=n_opportunities),
            "account": rng.choice(accounts["account"].to_numpy(), size=n_opportunities),
            "deal_stage": stages,
        }
    )
    price = deals["product"].map(
        dict(zip(products["product"], products["sales_price"], strict=True))
    )
    quoted = np.round(price.to_numpy() * rng.uniform(0.8, 1.2, n_opportunities))
    _dates_and_values(rng, deals, quoted, as_of)
    _plant(rng, deals, plan, as_of)
    logger.info("generated %d deals with seed %d", n_opportunities, seed)
    return SyntheticCrm(
        accounts=accounts,
        products=products,
        sales_teams=teams,
        sales_pipeline=deals,
        faults=plan,
        agents_without_deals=idle,
        as_of=as_of,
        seed=seed,
    )


def _accounts(rng: np.random.Generator, count: int) -> pd.DataFrame:
    names = [f"{h} {t}" for h in _ACCOUNT_HEAD for t in _ACCOUNT_TAIL]
    if count > len(names):
        raise ValueError(f"n_accounts is at most {len(names)}; got {count}")
    chosen = sorted(names[i] for i in rng.choice(len(names), count, replace=False))
    parents = rng.random(count) < 0.15
    return pd.DataFrame(
        {
            "account": chosen,
            "sector": rng.choice(_SECTORS, size=count),
            "year_established": rng.integers(1975, 2018, size=count),
            "revenue": np.round(rng.lognormal(6.0, 1.0, size=count), 2),
            "employees": rng.integers(50, 20_000, size=count),
            "office_location": rng.choice(_COUNTRIES, size=count),
            "subsidiary_of": [
                chosen[(i + 1) % count] if parent else ""
                for i, parent in enumerate(parents)
            ],
        }
    )


def _teams(
    rng: np.random.Generator, managers_per_region: int, agents_per_manager: int
) -> pd.DataFrame:
    n_managers = managers_per_region * len(_REGIONS)
    n_agents = n_managers * agents_per_manager
    people = _names(rng, n_managers + n_agents, _FIRST, _LAST)
    order = rng.permutation(len(people))
    managers = [people[i] for i in order[:n_managers]]
    agents = [people[i] for i in order[n_managers:]]
    rows = []
    for k, agent in enumerate(agents):
        manager = k // agents_per_manager
        region = _REGIONS[manager // managers_per_region]
        rows.append((agent, managers[manager], region))
    return pd.DataFrame(rows, columns=["sales_agent", "manager", "regional_office"])


def _iso(days: np.ndarray, as_of: date) -> list[str]:
    return [(as_of + timedelta(days=int(d))).isoformat() for d in days]


def _dates_and_values(
    rng: np.random.Generator, deals: pd.DataFrame, quoted: np.ndarray, as_of: date
) -> None:
    """Clean dates and values, as day offsets from ``as_of``."""
    n = len(deals)
    stage = deals["deal_stage"].to_numpy()
    closed = np.isin(stage, ("Won", "Lost"))
    prospecting = stage == "Prospecting"
    visit_a = rng.integers(10, 41, n)
    visit_b = rng.integers(10, 41, n)

    close = np.where(closed, -rng.integers(1, 366, n), 0)
    engage = np.where(closed, close - visit_b, -rng.integers(0, 21, n))
    created = np.where(prospecting, -rng.integers(0, 21, n), engage - visit_a)
    deals["engage_date"] = np.where(prospecting, "", _iso(engage, as_of))
    deals["close_date"] = np.where(closed, _iso(close, as_of), "")
    value = np.where(closed, quoted, np.nan)
    deals["close_value"] = ["" if np.isnan(v) else str(int(v)) for v in value]
    deals["created_date"] = _iso(created, as_of)
    expected = rng.integers(10, 200, n)
    deals["expected_close_date"] = np.where(closed, "", _iso(expected, as_of))
    deals["amount"] = [
        "" if c else str(int(q)) for c, q in zip(closed, quoted, strict=True)
    ]
    activity = -rng.integers(0, 21, n)
    deals["last_activity_date"] = np.where(closed, "", _iso(activity, as_of))
    deals["close_date_changes"] = np.where(closed, 0, rng.integers(0, 2, n))


def _plant(
    rng: np.random.Generator, deals: pd.DataFrame, plan: FaultPlan, as_of: date
) -> None:
    """Plant each hygiene fault on its own open deals, then the other faults."""
    open_rows = np.flatnonzero(deals["deal_stage"].isin(CRM_OPEN_STAGES).to_numpy())
    hygiene = plan.hygiene_counts()
    needed = sum(hygiene.values())
    if needed > len(open_rows):
        raise ValueError(
            f"the plan plants {needed} hygiene faults but only {len(open_rows)} "
            f"deals are open; raise n_opportunities or lower the counts"
        )
    picked = rng.permutation(open_rows)
    start = 0
    for name, count in hygiene.items():
        rows = deals.index[np.sort(picked[start : start + count])]
        start += count
        _plant_one(rng, deals, name, rows, as_of)

    right, wrong = MISSPELT_PRODUCT
    carriers = np.flatnonzero((deals["product"] == right).to_numpy())
    lost = np.flatnonzero((deals["deal_stage"] == "Lost").to_numpy())
    if plan.product_misspelt > len(carriers) or plan.lost_zero_value > len(lost):
        raise ValueError(
            "product_misspelt or lost_zero_value exceeds the deals that can hold "
            "it; raise n_opportunities or lower the counts"
        )
    misspelt = rng.choice(carriers, plan.product_misspelt, replace=False)
    deals.loc[deals.index[misspelt], "product"] = wrong
    zero = rng.choice(lost, plan.lost_zero_value, replace=False)
    deals.loc[deals.index[zero], "close_value"] = "0"


def _plant_one(
    rng: np.random.Generator,
    deals: pd.DataFrame,
    name: str,
    rows: pd.Index,
    as_of: date,
) -> None:
    n = len(rows)
    if n == 0:
        return
    if name == "past_due":
        deals.loc[rows, "expected_close_date"] = _iso(-rng.integers(5, 61, n), as_of)
    elif name == "missing_amount":
        deals.loc[rows, "amount"] = ""
    elif name == "missing_close_date":
        deals.loc[rows, "expected_close_date"] = ""
    elif name == "stale":
        entered = -rng.integers(150, 301, n)
        engaging = deals.loc[rows, "deal_stage"] == "Engaging"
        prospect_created = _iso(entered, as_of)
        engage_created = _iso(entered - rng.integers(10, 41, n), as_of)
        deals.loc[rows, "engage_date"] = np.where(engaging, _iso(entered, as_of), "")
        deals.loc[rows, "created_date"] = np.where(
            engaging, engage_created, prospect_created
        )
    elif name == "no_activity":
        deals.loc[rows, "last_activity_date"] = _iso(-rng.integers(45, 121, n), as_of)
    elif name == "pushed":
        deals.loc[rows, "close_date_changes"] = rng.integers(3, 6, n)
    elif name == "invalid_stage":
        deals.loc[rows, "deal_stage"] = rng.choice(_INVALID_STAGES, n)
    elif name == "missing_account":
        deals.loc[rows, "account"] = ""
