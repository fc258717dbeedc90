"""Moves and their reasons, on a line of four accounts worked by hand."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from conftest import write_scenario
from territory_opt.moves import moves_frame
from territory_opt.scenario import load_scenario
from territory_opt.solve import load_problem

KM_PER_DEGREE = 6371.0088 * math.pi / 180  # on the equator


def test_moves_name_balance_and_distance(tmp_path: Path) -> None:
    """Four accounts of potential 10 at lon 0..3 on the equator, all in T1 now.

        lon      0    1    2    3
        home     T1             T2
        now      T1   T1   T1   T1      target 20 each: T1 +100 %, T2 -100 %
        then     T1   T1   T2   T2

    A2 moves 2° → 1° from its home (111 km nearer), A3 3° → 0° (334 km nearer);
    A3 is locked to T2, which is a rule that allows only T2 for it.
    """
    accounts = [
        {
            "account_id": f"A{i}",
            "lat": 0.0,
            "lon": float(i),
            "potential": 10,
            "workload_hours": 1,
            "current_territory": "T1",
        }
        for i in range(4)
    ]
    territories = [
        {"territory_id": "T1", "rep_id": "R1", "lat": 0.0, "lon": 0.0},
        {"territory_id": "T2", "rep_id": "R2", "lat": 0.0, "lon": 3.0},
    ]
    path = write_scenario(
        tmp_path,
        accounts,
        territories,
        balance={"potential": {"tolerance": 0.5}},
        constraints={"locks": [{"account": "A3", "territory": "T2"}]},
    )
    problem = load_problem(load_scenario(path))
    moves = moves_frame(problem, np.array([0, 0, 1, 1]))
    assert list(moves["account_id"]) == ["A2", "A3"]
    assert list(moves["locked"]) == [False, True]
    balance = "T1 was +100.0% and T2 -100.0% against their potential targets"
    assert (
        moves.loc[0, "why"] == f"{balance}; {KM_PER_DEGREE:.0f} km nearer the new home"
    )
    assert moves.loc[1, "why"] == (
        f"not eligible for T1 (segment, candidate or lock rule); {balance}; "
        f"{3 * KM_PER_DEGREE:.0f} km nearer the new home"
    )
    assert math.isclose(moves.loc[1, "km_before"], 3 * KM_PER_DEGREE, rel_tol=1e-9)
    assert moves.loc[1, "km_after"] == 0.0
