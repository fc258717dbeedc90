"""Same scenario and seed, same answer; row order of the inputs does not matter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ENGINES, write_scenario
from territory_opt.scenario import load_scenario
from territory_opt.solve import solve_scenario


def _instance(folder: Path, seed: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    accounts = [
        {
            "account_id": f"{i:05d}",
            "lat": 33 + rng.random(),
            "lon": -85 + rng.random(),
            "potential": int(rng.integers(10, 100)),
            "workload_hours": float(rng.integers(5, 30)),
            "current_territory": f"T{int(rng.integers(1, 5))}",
        }
        for i in range(40)
    ]
    territories = [
        {"territory_id": f"T{t}", "lat": 33 + 0.25 * t, "lon": -85 + 0.2 * t}
        for t in range(1, 5)
    ]
    return write_scenario(
        folder,
        accounts,
        territories,
        balance={
            "potential": {"tolerance": 0.05},
            "workload_hours": {"tolerance": 0.15},
        },
        objective={"travel": 0.01, "disruption": 0.5, "balance": 1.0},
    )


def _alignment(path: Path, engine: str) -> dict[str, str]:
    scenario = load_scenario(path).with_overrides(
        engine=engine, time_limit_s=60, seed=5
    )
    run = solve_scenario(scenario)
    assert run.result.status.value == "optimal"
    return run.result.alignment()


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_alignment_and_row_order_free(
    tmp_path: Path, engine: str
) -> None:
    """Two runs agree; so does a run on shuffled account and territory rows."""
    path = _instance(tmp_path / "a")
    first = _alignment(path, engine)
    assert _alignment(path, engine) == first

    shuffled = _instance(tmp_path / "b")
    for name in ("accounts.csv", "territories.csv"):
        table = pd.read_csv(shuffled.parent / name, dtype=str)
        table.sample(frac=1.0, random_state=11).to_csv(
            shuffled.parent / name, index=False
        )
    assert _alignment(shuffled, engine) == first
