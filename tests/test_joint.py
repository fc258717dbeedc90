"""Joint territory and quota design: the band tightens until quotas are fair."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import write_scenario
from territory_opt.cli import app


def _scenario(folder: Path) -> Path:
    """Six equal accounts on a line; T1's home near A1..A4, T2's near A5, A6.

        lon   0    1    2    3    4    5    6    7     potential 10 each
        home  T1                                 T2    target 30 each

    At ±50 % travel favours 4 | 2 (40 | 20). Quotas are even (equal), and
    expected sales follow potential, so T1 reaches quota far more often than T2:
    the spread of P(quota) is wide. Halving the band to ±25 % (22.5..37.5) forces
    3 | 3, where both territories are alike and the spread is only sampling noise.
    """
    accounts = [
        {
            "account_id": f"A{i + 1}",
            "lat": 0.0,
            "lon": float(i),
            "potential": 10,
            "workload_hours": 1,
            "revenue": 5,
        }
        for i in range(6)
    ]
    territories = [
        {"territory_id": "T1", "rep_id": "R1", "lat": 0.0, "lon": 0.0},
        {"territory_id": "T2", "rep_id": "R2", "lat": 0.0, "lon": 7.0},
    ]
    quota = {
        "fiscal_year": 2027,
        "random_seed": 3,
        "plan": {"company_target": 30},
        "method": "even",
        "reps": [
            {
                "id": r,
                "start_date": "2020-01-01",
                "ote": 100,
                "base": 50,
                "comp_plan": "AE",
            }
            for r in ("R1", "R2")
        ],
        "comp_plans": [{"id": "AE", "curve": {"points": [[0, 0], [1, 1], [2, 2]]}}],
        "simulation": {
            "draws": 2000,
            "expected_sales_source": "potential_penetration",
            "company_forecast": 30,
            "default_sales_cv": 0.2,
        },
        "fairness": {"max_p_attain_spread": 0.2},
        "joint_design": {"start_tolerance": 0.5, "min_tolerance": 0.05},
    }
    return write_scenario(
        folder,
        accounts,
        territories,
        balance={"potential": {"tolerance": 0.5, "weight": 0.0}},
        objective={"travel": 1.0, "balance": 0.0},
        quota=quota,
        output={"folder": "out"},
    )


def test_joint_loop_tightens_until_fair(tmp_path: Path) -> None:
    """First pass at ±50 % fails the spread limit; ±25 % gives 3 | 3 and passes."""
    result = CliRunner().invoke(app, ["solve", str(_scenario(tmp_path)), "-q"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    joint = metrics["joint_design"]
    assert joint["stop_reason"] == "passed"
    assert [i["potential_tolerance"] for i in joint["iterations"]] == [0.5, 0.25]
    assert [i["status"] for i in joint["iterations"]] == ["failed", "passed"]
    # Both territories alike: the spread left is Monte Carlo noise of 2,000 draws.
    assert joint["iterations"][0]["p_attain_spread"] > 0.2
    assert joint["iterations"][1]["p_attain_spread"] < 0.05
    assert joint["chosen_potential_tolerance"] == 0.25
    loads = metrics["scorecard"]["balance"]["potential"]
    assert loads["max_abs_deviation_share"] == 0.0
