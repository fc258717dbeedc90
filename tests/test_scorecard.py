"""Scorecard of an alignment, checked against figures worked by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import write_scenario
from territory_opt.geo import EARTH_RADIUS_KM
from territory_opt.scenario import load_scenario
from territory_opt.scorecard import scorecard, territory_table
from territory_opt.solve import load_problem

DEGREE_KM = EARTH_RADIUS_KM * np.pi / 180


def _problem(tmp_path: Path):
    """Four accounts on the equator, T1 (1 FTE) home at lon 0, T2 (0.5 FTE) at lon 3.

    account   A1   A2   A3   A4
    lon        0    1    2    3
    potential 40   20   20   10     total 90: targets 60 (T1) and 30 (T2)
    hours      2    1    1    2     total  6: targets  4 and 2
    revenue   10    0    5    5
    current   T1   T1   T2   T2
    """
    rows = [
        ("A1", 0, 40, 2, 10, "T1"),
        ("A2", 1, 20, 1, 0, "T1"),
        ("A3", 2, 20, 1, 5, "T2"),
        ("A4", 3, 10, 2, 5, "T2"),
    ]
    accounts = [
        {
            "account_id": a,
            "lat": 0.0,
            "lon": lon,
            "potential": p,
            "workload_hours": h,
            "revenue": r,
            "current_territory": c,
        }
        for a, lon, p, h, r, c in rows
    ]
    territories = [
        {
            "territory_id": "T1",
            "rep_id": "R1",
            "lat": 0.0,
            "lon": 0.0,
            "fte": 1.0,
            "capacity_hours": 8,
        },
        {
            "territory_id": "T2",
            "rep_id": "",
            "lat": 0.0,
            "lon": 3.0,
            "fte": 0.5,
            "capacity_hours": 4,
        },
    ]
    return load_problem(load_scenario(write_scenario(tmp_path, accounts, territories)))


def test_territory_table_by_hand(tmp_path: Path) -> None:
    """Proposed T1 = {A1, A2, A3}, T2 = {A4}: loads, deviations, km, capacity use.

    T1: potential 80 vs 60 (+1/3), hours 4 vs 4 (0), km mean (2·0 + 1·1° + 1·2°)/4
    = 0.75°, max 2°, capacity 4/8. T2: potential 10 vs 30 (−2/3), hours 2 vs 2,
    km 0, capacity 2/4.
    """
    problem = _problem(tmp_path)
    table = territory_table(problem, np.array([0, 0, 0, 1]))
    assert table["potential"].tolist() == [80, 10]
    assert table["potential_target"].tolist() == [60, 30]
    assert table["potential_deviation_share"].tolist() == pytest.approx([1 / 3, -2 / 3])
    assert table["workload_hours_deviation_share"].tolist() == pytest.approx([0, 0])
    assert table["revenue"].tolist() == [15, 5]
    assert table["travel_km_mean"].tolist() == pytest.approx([0.75 * DEGREE_KM, 0])
    assert table["travel_km_max"].tolist() == pytest.approx([2 * DEGREE_KM, 0])
    assert table["capacity_used_share"].tolist() == [0.5, 0.5]


def test_scorecard_by_hand(tmp_path: Path) -> None:
    """Per-FTE balance, travel and disruption of the same alignment.

    Per-FTE potential: T1 80, T2 10/0.5 = 20 against 60 and 60: mean 50, std 30,
    cv 0.6, max/min 4, gini |80−20|·2/(2·4·50) = 0.3, none within ±15%.
    Disruption: A3 moves (T2 → T1): 1 of 4 accounts, potential 20/90,
    revenue 5/20.
    """
    card = scorecard(_problem(tmp_path), np.array([0, 0, 0, 1]))
    potential = card["balance"]["potential"]
    assert potential["mean"] == pytest.approx(50)
    assert potential["cv"] == pytest.approx(0.6)
    assert potential["max_min_ratio"] == pytest.approx(4)
    assert potential["gini"] == pytest.approx(0.3)
    assert potential["within_15pct_share"] == 0
    assert card["disruption"]["accounts_moved_share"] == pytest.approx(0.25)
    assert card["disruption"]["potential_moved_share"] == pytest.approx(20 / 90)
    assert card["disruption"]["revenue_moved_share"] == pytest.approx(5 / 20)
    assert card["travel"]["workload_weighted_km_mean"] == pytest.approx(
        (1 * DEGREE_KM + 2 * DEGREE_KM) / 6
    )
