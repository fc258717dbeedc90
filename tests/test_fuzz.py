"""Fuzzing: random scenarios and tables give a result or a typed error, never a
traceback."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import write_scenario
from territory_opt.errors import TerritoryOptError
from territory_opt.result import Status
from territory_opt.scenario import load_scenario
from territory_opt.solve import solve_scenario

BAD_VALUES = [
    -1,
    1e300,
    1e-300,
    1e15,
    float("nan"),
    float("inf"),
    "",
    "abc",
    " 3 ",
    "A1",
    "007",
    'é;"',
    95.5,
    -190,
]


@st.composite
def corrupted(draw: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with up to two cells replaced by awkward values."""
    if not rows:
        return rows
    for _ in range(draw(st.integers(min_value=0, max_value=2))):
        row = draw(st.sampled_from(rows))
        column = draw(st.sampled_from(sorted(row)))
        row[column] = draw(st.sampled_from(BAD_VALUES))
    return rows


@st.composite
def account_rows(draw: Any) -> list[dict[str, Any]]:
    size = draw(st.integers(min_value=0, max_value=7))
    style = draw(st.sampled_from(["A{}", "{:05d}", "{}"]))
    rows = [
        {
            "account_id": style.format(i),
            "lat": draw(st.floats(39, 41)),
            "lon": draw(st.floats(-76, -74)),
            "potential": draw(
                st.one_of(st.integers(0, 50), st.floats(0, 1e6), st.just(1e12))
            ),
            "workload_hours": draw(st.floats(0, 10)),
            "current_territory": draw(st.sampled_from(["T1", "T2", ""])),
        }
        for i in range(size)
    ]
    return draw(corrupted(rows))


@st.composite
def territory_rows(draw: Any) -> list[dict[str, Any]]:
    size = draw(st.integers(min_value=1, max_value=3))
    rows = [
        {
            "territory_id": f"T{t + 1}",
            "lat": draw(st.floats(39, 41)),
            "lon": draw(st.floats(-76, -74)),
            "capacity_hours": draw(st.one_of(st.floats(0.5, 40), st.just(""))),
        }
        for t in range(size)
    ]
    return draw(corrupted(rows))


@st.composite
def sections(draw: Any) -> dict[str, Any]:
    tolerance = draw(st.sampled_from([0.05, 0.3, 0.9, 0.5, 0.2, 0.0, "wide"]))
    metric = draw(
        st.sampled_from(["potential", "workload_hours", "accounts", "potential"])
    )
    locks = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "account": st.sampled_from(["A1", "00001", "1", "A9"]),
                    "territory": st.sampled_from(["T1", "T2", "T1", "T7"]),
                }
            ),
            max_size=1,
        )
    )
    return {
        "balance": {metric: {"tolerance": tolerance}},
        "objective": {
            "travel": draw(st.sampled_from([0.0, 0.01])),
            "disruption": draw(st.sampled_from([0.0, 1.0])),
            "peak_workload": draw(st.sampled_from([0.0, 1.0])),
        },
        "constraints": {"locks": locks},
        "solver": {
            "engine": draw(st.sampled_from(["cpsat", "highs"])),
            "time_limit_s": 2,
        },
    }


@settings(
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(account_rows(), territory_rows(), sections())
def test_random_inputs_give_a_result_or_a_typed_error(
    accounts: list[dict[str, Any]],
    territories: list[dict[str, Any]],
    extra: dict[str, Any],
) -> None:
    """Whatever the tables and scenario hold, solving ends in a status or a
    TerritoryOptError with a message; any other exception fails the test."""
    columns = ["account_id", "lat", "lon", "potential", "workload_hours"]
    with tempfile.TemporaryDirectory() as folder:
        path = write_scenario(
            Path(folder),
            pd.DataFrame(accounts, columns=[*columns, "current_territory"]),
            pd.DataFrame(
                territories, columns=["territory_id", "lat", "lon", "capacity_hours"]
            ),
            **extra,
        )
        try:
            run = solve_scenario(load_scenario(path))
        except TerritoryOptError as exc:
            assert str(exc).strip()
            return
        assert run.result.status is not Status.ERROR, run.result.message
        if run.result.status in (Status.OPTIMAL, Status.FEASIBLE):
            assert run.result.violations == ()
            assert run.result.assignment is not None
        else:
            assert run.result.message


@st.composite
def magnitudes(draw: Any) -> list[float]:
    size = draw(st.integers(min_value=1, max_value=8))
    exponent = draw(st.integers(min_value=-6, max_value=13))
    return [
        draw(st.floats(0, 10)) * 10.0**exponent
        + draw(st.sampled_from([0.0, 0.5, 1e-3]))
        for _ in range(size)
    ]


@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(
    magnitudes(),
    st.integers(min_value=1, max_value=3),
    st.sampled_from([0.01, 0.1, 0.5, 0.9]),
    st.sampled_from(["cpsat", "highs"]),
)
def test_extreme_magnitudes_reach_a_verified_status(
    potentials: list[float], territories: int, tolerance: float, engine: str
) -> None:
    """Clean tables with potentials from 1e-6 to 1e14: every alignment returned
    is verified, and every other outcome is a status or a typed error."""
    accounts = [
        {"account_id": f"A{i}", "lat": 40, "lon": -75, "potential": p}
        | {"workload_hours": 1}
        for i, p in enumerate(potentials)
    ]
    homes = [
        {"territory_id": f"T{t}", "lat": 40, "lon": -75} for t in range(territories)
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = write_scenario(
            Path(folder),
            accounts,
            homes,
            balance={"potential": {"tolerance": tolerance}},
            solver={"engine": engine, "time_limit_s": 2},
        )
        try:
            run = solve_scenario(load_scenario(path))
        except TerritoryOptError as exc:
            assert str(exc).strip()
            return
        assert run.result.status is not Status.ERROR, run.result.message
        assert run.result.status is not Status.INVALID, run.result.violations
        if run.result.assignment is not None:
            assert run.result.violations == ()
