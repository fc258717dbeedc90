"""Adapter for the CRM sample schema: four CSV files read from any folder.

The files (SOURCES-us-crm.md section 3) are ``accounts.csv``, ``products.csv``,
``sales_teams.csv`` and ``sales_pipeline.csv``. They are read where they lie and
never copied, because the sample's licence is not verified.

Mapping to the forecast module:

- agent -> territory (``territory_id`` and ``rep_id`` are the agent's name),
  manager -> district (``district``, also ``parent``), regional office -> region;
- ``deal_stage`` -> ``stage`` with the open stages ``Prospecting`` and
  ``Engaging`` and the closed ones ``Won`` and ``Lost``;
- closed deals: ``amount = close_value`` and ``close_date`` as given; a lost
  deal reached ``Engaging`` when it has an engage date, else ``Prospecting``;
- open deals: the sample has neither a value nor an expected close date, so the
  amount is the product's list price and the close date is blank, unless the
  pipeline has the extra columns ``amount`` and ``expected_close_date`` (the
  generator writes them, with ``created_date``, ``last_activity_date`` and
  ``close_date_changes``);
- the stage entry day is the engage date for ``Engaging`` deals and the
  creation day (when known) for the others; without a ``created_date`` column
  (the sample) a deal is taken to be opened on its engage date, the first day
  the export knows it, and a closed deal's last open stage is ``Engaging`` when
  it has an engage date, else ``Prospecting``;
- the alignment gives each account to the agent with the largest won value on
  it (ties: more deals, then name), or with the most deals when none was won.

Data-quality findings are counted, never silently fixed: product spellings that
differ from ``products.csv`` only by spaces or case are mapped to the catalogue
spelling (``GTXPro`` -> ``GTX Pro``, the raw spelling kept in
``product_as_written``) and reported, as are open deals without an
account, agents without deals, lost deals with zero value, known sector and
country typos, and unknown agents, accounts or products.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_opt.errors import InputError
from territory_opt.forecast.schema import ProblemList, parse_dates, parse_numbers
from territory_opt.forecast.spec import ForecastSection
from territory_opt.tables import TextTable, read_text_table

__all__ = [
    "CRM_FILES",
    "CrmData",
    "DataQualityReport",
    "crm_forecast_section",
    "read_crm_folder",
]

logger = logging.getLogger(__name__)

CRM_FILES = ("accounts.csv", "products.csv", "sales_teams.csv", "sales_pipeline.csv")
CRM_OPEN_STAGES = ("Prospecting", "Engaging")
_COLUMNS = {
    "accounts.csv": ("account", "sector", "revenue", "employees", "office_location"),
    "products.csv": ("product", "series", "sales_price"),
    "sales_teams.csv": ("sales_agent", "manager", "regional_office"),
    "sales_pipeline.csv": (
        "opportunity_id",
        "sales_agent",
        "product",
        "account",
        "deal_stage",
        "engage_date",
        "close_date",
        "close_value",
    ),
}
# Spelling mistakes known in the sample's account table: wrong -> right.
_SECTOR_SPELLINGS = {"technolgy": "technology"}
_COUNTRY_SPELLINGS = {"Philipines": "Philippines"}


@dataclass(frozen=True)
class DataQualityReport:
    """Findings of the adapter: one row per check with its count.

    ``findings`` has the columns ``check``, ``count``, ``detail`` and
    ``action`` (what the adapter did about it).
    """

    findings: pd.DataFrame
    agents_without_deals: tuple[str, ...]

    def count(self, check: str) -> int:
        """The count of one check; 0 when the check found nothing."""
        rows = self.findings[self.findings["check"] == check]
        return int(rows["count"].sum()) if len(rows) else 0

    def as_dict(self) -> dict[str, Any]:
        """The findings as a JSON-ready mapping ``check -> {count, detail}``."""
        rows = zip(
            self.findings["check"],
            self.findings["count"],
            self.findings["detail"],
            strict=True,
        )
        return {str(c): {"count": int(n), "detail": str(d)} for c, n, d in rows}


@dataclass(frozen=True)
class CrmData:
    """The CRM sample in the forecast module's schema.

    ``territories``: one row per agent (``territory_id``, ``rep_id``,
    ``district``, ``region``, ``parent``, ``n_opportunities``). ``accounts``: one
    row per account with ``account_id``, ``territory_id`` (the owner under
    ``alignment``), ``sector``, ``company_revenue_musd`` and the sample's other
    columns. ``opportunities``: the canonical opportunity columns plus
    ``product``, ``series``, ``sector``, ``district`` and ``region``.
    ``revenue``: won value per account and product. ``history``: stage entries
    when the pipeline has creation dates, else None.
    """

    territories: pd.DataFrame
    accounts: pd.DataFrame
    opportunities: pd.DataFrame
    revenue: pd.DataFrame
    alignment: dict[str, str]
    history: pd.DataFrame | None
    products: pd.DataFrame
    quality: DataQualityReport


def crm_forecast_section(as_of: str, **changes: Any) -> ForecastSection:
    """A forecast section for the CRM stages, for the calendar year of ``as_of``.

    Defaults: stages ``Prospecting`` then ``Engaging``; won ``Won``, lost
    ``Lost``; default probabilities 0.2 and 0.6; ``Engaging`` is ``best_case``;
    accuracy back-tested by quarter (an export keeps no forecast snapshots).
    ``changes`` replace any field.
    """
    year = str(as_of)[:4]
    data: dict[str, Any] = {
        "as_of": as_of,
        "period": {"start": f"{year}-01-01", "end": f"{year}-12-31"},
        "stage_order": list(CRM_OPEN_STAGES),
        "won_stages": ["Won"],
        "lost_stages": ["Lost"],
        "default_probabilities": {"Prospecting": 0.2, "Engaging": 0.6},
        "category_map": {"Prospecting": "pipeline", "Engaging": "best_case"},
        "backtest_period": "quarter",
    }
    return ForecastSection.model_validate(data | changes)


def _read(folder: Path, name: str) -> TextTable:
    table = read_text_table(folder / name)
    missing = [c for c in _COLUMNS[name] if c not in table.frame]
    if missing:
        raise InputError(
            f"{table.path}: missing column(s) {', '.join(missing)}; the file has "
            f"{', '.join(table.frame.columns)}. Is this the CRM sample schema?"
        )
    return table


def read_crm_folder(folder: Path | str) -> CrmData:
    """Read the four CRM files from ``folder`` and map them to the forecast schema.

    Raises
    ------
    InputError
        When the folder or a file is missing, a column is absent, or a number or
        date cannot be read (the message names file, line and column).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(
            f"{folder}: not a folder; point to the folder that holds "
            f"{', '.join(CRM_FILES)}"
        )
    tables = {name: _read(folder, name) for name in CRM_FILES}
    findings: list[tuple[str, int, str, str]] = []

    products = _products(tables["products.csv"])
    teams = tables["sales_teams.csv"].frame.copy()
    repeated = teams["sales_agent"][teams["sales_agent"].duplicated()]
    if len(repeated):
        raise InputError(
            f"{tables['sales_teams.csv'].path}: agent(s) "
            f"{', '.join(sorted(set(repeated))[:5])} listed more than once; an "
            f"agent has one manager and one regional office"
        )
    accounts = _accounts(tables["accounts.csv"], findings)
    pipeline = _pipeline(tables["sales_pipeline.csv"])
    pipeline["product_as_written"] = pipeline["product"]
    _normalise_products(pipeline, products, findings)
    idle = _check_people(pipeline, teams, accounts, findings)

    opportunities = _opportunities(pipeline, products, teams, accounts, findings)
    alignment = _alignment(opportunities)
    accounts["territory_id"] = accounts["account_id"].map(alignment).fillna("")
    won = opportunities[opportunities["status"] == "won"]
    sums = won[won["account_id"] != ""].groupby(["account_id", "product"])["amount"]
    revenue = sums.sum().reset_index(name="revenue")
    revenue["cost"], revenue["margin"] = np.nan, np.nan
    history = _history(pipeline, opportunities)
    deals = opportunities.groupby("territory_id").size()
    territories = pd.DataFrame(
        {
            "territory_id": teams["sales_agent"],
            "rep_id": teams["sales_agent"],
            "district": teams["manager"],
            "region": teams["regional_office"],
            "parent": teams["manager"],
        }
    )
    territories["n_opportunities"] = (
        territories["territory_id"].map(deals).fillna(0).astype(int)
    )
    report = DataQualityReport(
        findings=pd.DataFrame(findings, columns=["check", "count", "detail", "action"]),
        agents_without_deals=idle,
    )
    for check, count, detail, _ in findings:
        logger.info("CRM data quality: %s: %d (%s)", check, count, detail)
    return CrmData(
        territories=territories,
        accounts=accounts,
        opportunities=opportunities,
        revenue=revenue,
        alignment=alignment,
        history=history,
        products=products,
        quality=report,
    )


def _products(table: TextTable) -> pd.DataFrame:
    problems = ProblemList(str(table.path))
    frame = table.frame.copy()
    frame["sales_price"] = parse_numbers(
        frame, "sales_price", table.where, problems, minimum=0.0
    )
    problems.raise_if_any()
    return frame


def _accounts(
    table: TextTable, findings: list[tuple[str, int, str, str]]
) -> pd.DataFrame:
    problems = ProblemList(str(table.path))
    frame = table.frame.copy()
    revenue = parse_numbers(frame, "revenue", table.where, problems, minimum=0.0)
    employees = parse_numbers(frame, "employees", table.where, problems, minimum=0.0)
    problems.raise_if_any()
    out = pd.DataFrame({"account_id": frame["account"].astype(str)})
    for column, fixes, check in (
        ("sector", _SECTOR_SPELLINGS, "sector_spelling"),
        ("office_location", _COUNTRY_SPELLINGS, "country_spelling"),
    ):
        values = frame[column].astype(str)
        for wrong, right in fixes.items():
            hits = int((values == wrong).sum())
            if hits:
                findings.append(
                    (check, hits, f"'{wrong}' written for '{right}'", "mapped")
                )
        out[column] = values.replace(fixes)
    out["company_revenue_musd"] = revenue
    out["employees"] = employees
    for column in ("year_established", "subsidiary_of"):
        out[column] = frame[column] if column in frame else ""
    return out


def _pipeline(table: TextTable) -> pd.DataFrame:
    problems = ProblemList(str(table.path))
    frame = table.frame.copy()
    for column in ("engage_date", "close_date", "expected_close_date"):
        if column in frame:
            frame[column] = parse_dates(frame, column, table.where, problems)
    for column in ("created_date", "last_activity_date"):
        if column in frame:
            frame[column] = parse_dates(frame, column, table.where, problems)
    frame["close_value"] = parse_numbers(frame, "close_value", table.where, problems)
    for column in ("amount", "close_date_changes"):
        if column in frame:
            frame[column] = parse_numbers(
                frame, column, table.where, problems, minimum=0.0
            )
    problems.raise_if_any()
    return frame


def _key(name: str) -> str:
    return "".join(str(name).split()).casefold()


def _normalise_products(
    pipeline: pd.DataFrame,
    products: pd.DataFrame,
    findings: list[tuple[str, int, str, str]],
) -> None:
    catalogue = set(products["product"])
    by_key = {_key(p): p for p in catalogue}
    for found, count in pipeline["product"].value_counts().sort_index().items():
        name = str(found)
        if name in catalogue:
            continue
        right = by_key.get(_key(name))
        if right is None:
            findings.append(
                ("unknown_product", int(count), f"'{name}' not in products.csv", "kept")
            )
            continue
        pipeline.loc[pipeline["product"] == name, "product"] = right
        findings.append(
            (
                "product_spelling",
                int(count),
                f"'{name}' written for '{right}'",
                "mapped",
            )
        )


def _check_people(
    pipeline: pd.DataFrame,
    teams: pd.DataFrame,
    accounts: pd.DataFrame,
    findings: list[tuple[str, int, str, str]],
) -> tuple[str, ...]:
    agents = set(teams["sales_agent"])
    working = set(pipeline["sales_agent"])
    idle = tuple(sorted(agents - working))
    if idle:
        findings.append(
            ("agent_without_deals", len(idle), ", ".join(idle), "kept as territory")
        )
    unknown = sorted(working - agents)
    if unknown:
        count = int(pipeline["sales_agent"].isin(unknown).sum())
        findings.append(
            ("unknown_agent", count, ", ".join(unknown[:5]), "own territory, no region")
        )
    named = pipeline["account"][pipeline["account"] != ""]
    strangers = sorted(set(named) - set(accounts["account_id"]))
    if strangers:
        count = int(named.isin(strangers).sum())
        findings.append(("unknown_account", count, ", ".join(strangers[:5]), "kept"))
    return idle


def _opportunities(
    pipeline: pd.DataFrame,
    products: pd.DataFrame,
    teams: pd.DataFrame,
    accounts: pd.DataFrame,
    findings: list[tuple[str, int, str, str]],
) -> pd.DataFrame:
    stage = pipeline["deal_stage"].astype(str)
    status = np.select([stage == "Won", stage == "Lost"], ["won", "lost"], "open")
    is_open = status == "open"
    price = pipeline["product"].map(
        dict(zip(products["product"], products["sales_price"], strict=True))
    )
    if "amount" in pipeline:
        open_amount = pipeline["amount"]
    else:
        open_amount = price
        _note(
            findings,
            "open_amount_from_list_price",
            int(is_open.sum()),
            "open deals have no value in the sample",
            "list price used",
        )
    amount = np.where(is_open, open_amount, pipeline["close_value"])
    created = pipeline.get("created_date", pipeline["engage_date"])
    close = pipeline["close_date"]
    if "expected_close_date" in pipeline:
        close = close.where(~is_open, pipeline["expected_close_date"])
    else:
        _note(
            findings,
            "open_without_close_date",
            int(is_open.sum()),
            "open deals have no expected close date",
            "left blank",
        )
    # Engaging deals entered their stage on the engage date, Prospecting deals on
    # creation; a deal with an unknown label keeps the latest of the two.
    entered = pipeline["engage_date"].where(stage == "Engaging", created)
    invalid_open = is_open & ~stage.isin(CRM_OPEN_STAGES)
    entered = entered.where(~invalid_open, pipeline["engage_date"].fillna(created))
    entered = entered.where(is_open, close)

    blank = is_open & (pipeline["account"] == "")
    if blank.any():
        by_stage = stage[blank].value_counts().sort_index()
        detail = ", ".join(f"{s} {n}" for s, n in by_stage.items())
        _note(
            findings,
            "open_without_account",
            int(blank.sum()),
            detail,
            "kept in the agent's territory",
        )
    lost_zero = (status == "lost") & (pipeline["close_value"] == 0)
    if lost_zero.any():
        _note(
            findings,
            "lost_zero_value",
            int(lost_zero.sum()),
            "lost deals carry close_value 0",
            "kept",
        )

    team = teams.set_index("sales_agent")
    sector = dict(zip(accounts["account_id"], accounts["sector"], strict=True))
    series = dict(zip(products["product"], products["series"], strict=True))
    changes = pipeline.get("close_date_changes", pd.Series(0.0, index=pipeline.index))
    return pd.DataFrame(
        {
            "id": pipeline["opportunity_id"].astype(str),
            "territory_id": pipeline["sales_agent"].astype(str),
            "account_id": pipeline["account"].astype(str),
            "stage": stage,
            "status": status,
            "amount": pd.to_numeric(pd.Series(amount), errors="coerce").to_numpy(),
            "close_date": pd.to_datetime(close),
            "created_date": pd.to_datetime(created),
            "stage_entered_date": pd.to_datetime(entered),
            "last_activity_date": pd.to_datetime(
                pipeline.get(
                    "last_activity_date", pd.Series(pd.NaT, index=pipeline.index)
                )
            ),
            "close_date_changes": changes.fillna(0).astype(int),
            "forecast_category": "",
            "last_open_stage": np.where(
                status != "open",
                np.where(pipeline["engage_date"].notna(), "Engaging", "Prospecting"),
                "",
            ),
            "product": pipeline["product"],
            "product_as_written": pipeline["product_as_written"],
            "series": pipeline["product"].map(series).fillna(""),
            "sector": pipeline["account"].map(sector).fillna(""),
            "district": pipeline["sales_agent"].map(team["manager"]).fillna(""),
            "region": pipeline["sales_agent"].map(team["regional_office"]).fillna(""),
        }
    )


def _note(
    findings: list[tuple[str, int, str, str]],
    check: str,
    count: int,
    detail: str,
    action: str,
) -> None:
    if count:
        findings.append((check, count, detail, action))


def _alignment(opportunities: pd.DataFrame) -> dict[str, str]:
    """Each account to the agent with the largest won value (ties: more deals,
    then name); accounts without a won deal to the agent with the most deals."""
    named = opportunities[opportunities["account_id"] != ""]
    won_value = named["amount"].where(named["status"] == "won", 0.0).fillna(0.0)
    scores = (
        named.assign(won_value=won_value, deals=1)
        .groupby(["account_id", "territory_id"], as_index=False)[["won_value", "deals"]]
        .sum()
        .sort_values(
            ["account_id", "won_value", "deals", "territory_id"],
            ascending=[True, False, False, True],
        )
    )
    best = scores.drop_duplicates("account_id")
    return dict(zip(best["account_id"], best["territory_id"], strict=True))


def _history(
    pipeline: pd.DataFrame, opportunities: pd.DataFrame
) -> pd.DataFrame | None:
    """Stage entries rebuilt from the dates, when creation dates are present."""
    if "created_date" not in pipeline:
        return None
    ids = opportunities["id"]
    parts = [
        pd.DataFrame(
            {
                "id": ids,
                "stage": "Prospecting",
                "entered_date": pipeline["created_date"],
            }
        ),
        pd.DataFrame(
            {"id": ids, "stage": "Engaging", "entered_date": pipeline["engage_date"]}
        ),
    ]
    closed = opportunities["status"] != "open"
    parts.append(
        pd.DataFrame(
            {
                "id": ids[closed],
                "stage": opportunities.loc[closed, "stage"],
                "entered_date": opportunities.loc[closed, "close_date"],
            }
        )
    )
    history = pd.concat(parts, ignore_index=True)
    history = history[history["entered_date"].notna()]
    return history.sort_values(["id", "entered_date"], kind="stable").reset_index(
        drop=True
    )
