"""A named-account scenario from a CRM export in the sample's schema.

:func:`write_crm_scenario` turns :class:`~territory_opt.crm.adapter.CrmData`
into the tables and scenario file that ``territory-opt solve`` reads: agents
become territories under their managers, accounts keep their current owner,
and the pipeline feeds the scenario's forecast section. The accounts have no
coordinates, so the scenario balances account counts and penalises moves
rather than travel.

Assumptions, stated because a CRM export carries no market sizing:

- potential (USD) = 0.1 % of the company's annual revenue (the export gives it
  in millions of USD), the share of wallet a hardware vendor may win;
  accounts without revenue get the median;
- workload (hours a year) = 10 + 4 × the account's number of opportunities;
- revenue (USD) = the won value of the account's deals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from territory_opt.crm.adapter import CrmData, crm_forecast_section
from territory_opt.formatting import json_ready

WALLET_SHARE = 0.001
HOURS_BASE = 10.0
HOURS_PER_OPPORTUNITY = 4.0


def crm_accounts(crm: CrmData) -> pd.DataFrame:
    """accounts.csv of the scenario: id, potential, workload, revenue, owner."""
    accounts = crm.accounts.copy()
    company = pd.to_numeric(accounts["company_revenue_musd"], errors="coerce")
    company = company.fillna(company.median())
    deals = crm.opportunities.groupby("account_id").size()
    won = crm.revenue.groupby("account_id")["revenue"].sum()
    ids = accounts["account_id"].astype(str)
    return pd.DataFrame(
        {
            "account_id": ids,
            "potential_usd": (company * 1e6 * WALLET_SHARE).round(0),
            "workload_hours": HOURS_BASE
            + HOURS_PER_OPPORTUNITY * ids.map(deals).fillna(0).to_numpy(),
            "revenue_usd": ids.map(won).fillna(0.0).round(2),
            "segment": accounts["sector"].astype(str),
            "current_territory": accounts["territory_id"].fillna("").astype(str),
        }
    ).sort_values("account_id")


def write_crm_scenario(
    crm: CrmData, folder: Path, *, name: str, as_of: str, time_limit_s: float = 60
) -> Path:
    """Write accounts.csv, territories.csv, opportunities.csv, revenue.csv,
    data_quality.json (the adapter's findings) and scenario.yaml into ``folder``
    (created); return the scenario path."""
    folder.mkdir(parents=True, exist_ok=True)
    crm_accounts(crm).to_csv(folder / "accounts.csv", index=False)
    territories = crm.territories[["territory_id", "rep_id", "parent"]].copy()
    territories.to_csv(folder / "territories.csv", index=False)
    crm.opportunities.to_csv(folder / "opportunities.csv", index=False)
    crm.revenue.to_csv(folder / "revenue.csv", index=False)
    quality = json_ready(crm.quality.as_dict())
    (folder / "data_quality.json").write_text(json.dumps(quality, indent=2) + "\n")
    forecast = crm_forecast_section(as_of).model_dump(mode="json", exclude_none=True)
    forecast |= {
        "opportunities_file": "opportunities.csv",
        "revenue_file": "revenue.csv",
    }
    document: dict[str, Any] = {
        "name": name,
        "description": "Named accounts of a CRM export, realigned across its agents.",
        "accounts": {
            "path": "accounts.csv",
            "columns": {
                "potential": "potential_usd",
                "workload_hours": "workload_hours",
                "revenue": "revenue_usd",
                "segment": "segment",
                "current_territory": "current_territory",
            },
        },
        "territories": {"path": "territories.csv"},
        "balance": {"accounts": {"tolerance": 0.5, "weight": 1.0}},
        "objective": {"disruption": 1.0, "balance": 0.5},
        "constraints": {"eligibility": False},
        "forecast": forecast,
        "solver": {"engine": "highs", "time_limit_s": time_limit_s, "seed": 1},
        "output": {"folder": f"../../results/{name}"},
    }
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return path
