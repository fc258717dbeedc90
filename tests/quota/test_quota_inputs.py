"""Tests of territory_opt.quota.inputs: the territories table and staffing."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from territory_opt.errors import InputError
from territory_opt.quota.inputs import (
    capacity_per_territory,
    growth_rates,
    read_territories,
    staffing,
)
from territory_opt.quota.spec import load_quota_section


def _table(**columns) -> pd.DataFrame:
    data = {"territory_id": ["B", "A", "C"], "potential": [2.0, 1.0, 3.0]}
    data.update(columns)
    return pd.DataFrame(data)


def _message(table: pd.DataFrame) -> str:
    with pytest.raises(InputError) as caught:
        read_territories(table)
    return str(caught.value)


def test_rows_are_sorted_by_id_with_defaults() -> None:
    """Rows come back in id order; absent columns are NaN or the one-node default."""
    data = read_territories(_table(rep_id=["RB", None, ""]))

    assert data.territory_ids == ("A", "B", "C")
    np.testing.assert_array_equal(data.potential, [1.0, 2.0, 3.0])
    assert data.rep_ids == ("", "RB", "")
    assert data.district == ("(all)",) * 3 and not data.has_region
    assert np.isnan(data.column("prior_sales")).all()
    assert not data.known("capacity")


def test_missing_required_column() -> None:
    """A table without potential lists the columns it has."""
    assert _message(pd.DataFrame({"territory_id": ["A"]})) == (
        "territories: missing column(s) potential; the table has territory_id"
    )


def test_numeric_ids_are_refused() -> None:
    """Ids read as numbers would lose leading zeros."""
    message = _message(pd.DataFrame({"territory_id": [2142], "potential": [1.0]}))
    assert "territory_id of territory 'row 0' is the number 2142" in message
    assert "dtype=str" in message


def test_repeated_territory_id() -> None:
    """Each territory needs one row."""
    message = _message(pd.DataFrame({"territory_id": ["A", "A"], "potential": [1, 2]}))
    assert message == (
        "territories: territory ids 'A' appear more than once; each territory needs "
        "one row"
    )


def test_rep_on_two_territories() -> None:
    """One rep per territory."""
    assert "reps 'R1' hold more than one territory" in _message(
        _table(rep_id=["R1", "R1", "R2"])
    )


def test_negative_and_text_numbers() -> None:
    """Prior sales must be numbers of 0 or more; the ids are named."""
    assert _message(_table(prior_sales=[1.0, -5.0, 2.0])) == (
        "territories: prior_sales must be a finite number of 0 or more; 'A' break "
        "this (1 in all)"
    )
    assert "prior_quota of 'B' is not a number" in _message(
        _table(prior_quota=["lots", 1.0, 2.0])
    )


def test_missing_potential() -> None:
    """Every territory needs a potential."""
    assert "potential is missing for 'A' (1 in all)" in _message(
        _table(potential=[2.0, math.nan, 3.0])
    )


def test_negative_growth_override_is_allowed() -> None:
    """A shrinking territory may carry a negative growth override."""
    data = read_territories(_table(growth_override=[-0.1, math.nan, 0.2]))
    section = load_quota_section(
        {
            "fiscal_year": 2026,
            "plan": {"company_target": 1.0},
            "historical": {"growth": 0.05, "growth_bounds": [-0.05, 0.15]},
        }
    )
    np.testing.assert_allclose(growth_rates(data, section), [0.05, -0.05, 0.15])


def test_staffing_and_capacity() -> None:
    """A rep hired 2026-07-01 works half the year: capacity 561,000 × 0.5; the
    vacant territory gets a placeholder starting 2026-04-01."""
    data = read_territories(_table(rep_id=["RB", "RA", None]))
    section = load_quota_section(
        {
            "fiscal_year": 2026,
            "plan": {"company_target": 1.0},
            "capacity": {
                "meetings_per_day": 2.0,
                "opp_rate": 0.3,
                "win_rate": 0.25,
                "avg_deal": 20_000,
                "variance_discount": 0.15,
            },
            "vacancy": {"expected_fill_date": date(2026, 4, 1)},
            "reps": [{"id": "RA", "start_date": date(2026, 7, 1)}],
        }
    )
    staff = staffing(data, section)

    assert staff.rep_ids == ("RA", "RB", "TBH-C")
    np.testing.assert_array_equal(staff.placeholder, [False, False, True])
    np.testing.assert_allclose(
        capacity_per_territory(data, section, staff),
        [561_000 * 0.5, 561_000, 561_000 * 0.75],
    )
