"""A small geographic scenario with quotas, for the report, workbook and CRM tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import write_scenario

SIDE_DEGREES = 0.1


def grid_scenario(
    folder: Path, *, quota: bool = True, name: str = "grid", **sections: Any
) -> Path:
    """Twelve square counties in 3 rows × 4 columns, three territories.

        row 2   02148 02149 02150 02151      potential: 10 + 5 × k for
        row 1   02144 02145 02146 02147      account 0214k ... (k = 0..11)
        row 0   02140 02141 02142 02143
        home    T1 (col 0)  T3 (col 1.5)  T2 (col 3)

    Currently T1 holds column 0, T3 columns 1 and 2, T2 column 3. Account 02142
    is locked to T3; T2 is vacant in the quota section's rep list.
    """
    accounts, features = [], []
    for k in range(12):
        row, col = divmod(k, 4)
        lat, lon = 40.0 + row * SIDE_DEGREES, -80.0 + col * SIDE_DEGREES
        account_id = f"{2140 + k:05d}"
        accounts.append(
            {
                "account_id": account_id,
                "lat": lat,
                "lon": lon,
                "potential": 10 + 5 * k,
                "workload_hours": 10,
                "current_territory": {0: "T1", 3: "T2"}.get(col, "T3"),
            }
        )
        # Corners rounded so that neighbours share exactly the same edge.
        west, east = round(lon - SIDE_DEGREES / 2, 6), round(lon + SIDE_DEGREES / 2, 6)
        south, north = (
            round(lat - SIDE_DEGREES / 2, 6),
            round(lat + SIDE_DEGREES / 2, 6),
        )
        ring = [
            [west, south],
            [east, south],
            [east, north],
            [west, north],
            [west, south],
        ]
        features.append(
            {
                "type": "Feature",
                "properties": {"account_id": account_id},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "counties.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    territories = [
        {
            "territory_id": "T1",
            "rep_id": "R1",
            "lat": 40.1,
            "lon": -80.0,
            "parent": "D1",
        },
        {"territory_id": "T2", "rep_id": "", "lat": 40.1, "lon": -79.7, "parent": "D1"},
        {
            "territory_id": "T3",
            "rep_id": "R3",
            "lat": 40.1,
            "lon": -79.85,
            "parent": "D2",
        },
    ]
    document: dict[str, Any] = {
        "balance": {"potential": {"tolerance": 0.3}},
        "objective": {"travel": 0.05, "disruption": 1.0, "balance": 1.0},
        "constraints": {"locks": [{"account": "02142", "territory": "T3"}]},
        "geography": {
            "polygons": {"path": "counties.geojson", "id_column": "account_id"},
            "map_png": False,
        },
        "solver": {"engine": "cpsat", "threads": 1, "time_limit_s": 20, "seed": 1},
        "output": {"folder": "out", "formats": ["csv", "json", "html", "xlsx", "crm"]},
    }
    if quota:
        document["quota"] = {
            "fiscal_year": 2027,
            "random_seed": 3,
            "plan": {"company_target": 300},
            "method": "even",
            "vacancy": {"policy": "tbh_with_ramp", "expected_fill_date": "2027-04-01"},
            "reps": [
                {
                    "id": r,
                    "start_date": "2020-01-01",
                    "ote": 100,
                    "base": 50,
                    "comp_plan": "AE",
                }
                for r in ("R1", "R3")
            ],
            "comp_plans": [{"id": "AE", "curve": {"points": [[0, 0], [1, 1], [2, 2]]}}],
            "simulation": {
                "draws": 500,
                "expected_sales_source": "potential_penetration",
                "company_forecast": 300,
                "default_sales_cv": 0.2,
            },
        }
    document |= sections
    return write_scenario(folder, accounts, territories, name=name, **document)
