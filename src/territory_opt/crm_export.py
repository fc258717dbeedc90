"""Load files for the CRM: Salesforce Enterprise Territory Management and a
generic long format.

Salesforce (Data Loader, one CSV per object, loaded in this order):

- ``Territory2.csv``: one territory per row plus one per parent (district),
  with ``DeveloperName`` made from the id, the model and type ids of the
  scenario's ``output.crm`` settings and the access levels. Salesforce ids of
  the parents exist only once loaded, so ``ParentTerritory2Id`` holds the
  parent's ``DeveloperName``; replace it with the id Data Loader returns
  (``success.csv``) before an update pass.
- ``ObjectTerritory2Association.csv``: account → territory with
  ``AssociationCause`` ``Territory2Manual`` (records loaded through the API are
  manual associations, which assignment-rule runs leave in place).
  ``Territory2Id`` holds the territory's ``DeveloperName`` for the same
  reason. ``Locked`` marks accounts locked by the scenario.
- ``UserTerritory2Association.csv``: rep → territory with ``RoleInTerritory2``;
  vacant territories have no row.

``territory_assignments_long.csv`` holds the same in a long format any CRM can
read: one row per (record type, record id, territory), with the previous
territory, the change (``new``, ``moved``, ``unchanged``), the lock flag and
``skip_on_realign`` (true for locked accounts: a realignment must not move them).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from territory_opt.scenario import CrmExportSpec
from territory_opt.solve import Run

MANUAL_CAUSE = "Territory2Manual"
DEVELOPER_NAME_LENGTH = 80


def developer_name(identifier: str) -> str:
    """A Salesforce API name from an id: letters, digits and single underscores,
    starting with a letter and not ending with an underscore (``T-01`` → ``T_01``,
    ``02142`` → ``T_02142``)."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", identifier).strip("_")
    if not name or not name[0].isalpha():
        name = f"T_{name}"
    return name[:DEVELOPER_NAME_LENGTH].rstrip("_")


def territory2_frame(run: Run, spec: CrmExportSpec) -> pd.DataFrame:
    """Territory2 rows: parents first, then the territories under them."""
    problem = run.problem
    parents = [p for p in dict.fromkeys(problem.parent) if p]
    rows = []
    common = {
        "Territory2ModelId": spec.territory2_model_id,
        "Territory2TypeId": spec.territory2_type_id,
        "AccountAccessLevel": spec.account_access,
        "OpportunityAccessLevel": spec.opportunity_access,
        "CaseAccessLevel": spec.case_access,
    }
    for parent in parents:
        rows.append(
            {"Name": parent, "DeveloperName": developer_name(parent)}
            | {"ParentTerritory2Id": ""}
            | common
            | {"Description": "parent territory"}
        )
    for t, territory in enumerate(problem.territory_ids):
        parent = problem.parent[t]
        rep = problem.rep_ids[t]
        rows.append(
            {"Name": territory, "DeveloperName": developer_name(territory)}
            | {"ParentTerritory2Id": developer_name(parent) if parent else ""}
            | common
            | {"Description": f"rep {rep}" if rep else "vacant"}
        )
    return pd.DataFrame(rows)


def crm_frames(run: Run, spec: CrmExportSpec) -> dict[str, pd.DataFrame]:
    """The four load files of a run's alignment, by file name."""
    problem = run.problem
    if run.result.assignment is None:
        raise ValueError("the run has no alignment")
    proposed = list(run.result.assignment)
    previous = [
        problem.territory_ids[c] if c >= 0 else "" for c in problem.current.tolist()
    ]
    locked = [a in problem.locks for a in range(problem.n_accounts)]
    change = [
        "new" if not p else ("unchanged" if p == q else "moved")
        for p, q in zip(previous, proposed, strict=True)
    ]
    objects = pd.DataFrame(
        {
            "ObjectId": list(problem.account_ids),
            "Territory2Id": [developer_name(t) for t in proposed],
            "AssociationCause": MANUAL_CAUSE,
            "Locked": locked,
        }
    )
    staffed = [t for t in range(problem.n_territories) if problem.rep_ids[t]]
    users = pd.DataFrame(
        {
            "UserId": [problem.rep_ids[t] for t in staffed],
            "Territory2Id": [developer_name(problem.territory_ids[t]) for t in staffed],
            "RoleInTerritory2": spec.user_role,
        }
    )
    accounts_long = pd.DataFrame(
        {
            "record_type": "account",
            "record_id": list(problem.account_ids),
            "territory_id": proposed,
            "previous_territory_id": previous,
            "change": change,
            "locked": locked,
            "skip_on_realign": locked,
        }
    )
    users_long = pd.DataFrame(
        {
            "record_type": "user",
            "record_id": [problem.rep_ids[t] for t in staffed],
            "territory_id": [problem.territory_ids[t] for t in staffed],
            "previous_territory_id": [problem.territory_ids[t] for t in staffed],
            "change": "unchanged",
            "locked": False,
            "skip_on_realign": False,
        }
    )
    return {
        "Territory2.csv": territory2_frame(run, spec),
        "ObjectTerritory2Association.csv": objects,
        "UserTerritory2Association.csv": users,
        "territory_assignments_long.csv": pd.concat(
            [accounts_long, users_long], ignore_index=True
        ),
    }


def write_crm_files(run: Run, folder: Path) -> list[Path]:
    """Write the CRM load files of ``run`` into ``folder`` (created if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in crm_frames(run, run.scenario.output.crm).items():
        path = folder / name
        frame.to_csv(path, index=False)
        written.append(path)
    return written
