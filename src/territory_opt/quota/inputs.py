"""The territories table that quota planning reads, checked and put in id order.

One row per territory, as the alignment scorecard gives it (its revenue column
becomes ``prior_sales``):

========================  ========  ==============================================
column                    required  meaning
========================  ========  ==============================================
``territory_id``          yes       text id
``potential``             yes       P_i, at least 0
``fte``                   no        full-time equivalent for the even share (1)
``parent``                no        district id (blank: one district for all)
``region``                no        region id (absent: one region for all)
``rep_id``                no        text id; blank means vacant
``prior_sales``           no        H_i, currency
``prior_quota``           no        last year's quota, currency
``weighted_pipeline``     no        W_i, currency
``workload_hours``        no        hours per year
``capacity``              no        C_i override, currency
``growth_override``       no        g_i for the historical method
``sales_cv``              no        cv of annual sales (default from simulation)
``runrate``               no        run-rate for the forecast source, currency
========================  ========  ==============================================

Missing numbers are NaN. Rows are sorted by territory id so that results do not
depend on the order of the input. The module also derives the per-territory
figures that depend on the quota section: staffing and ramp, growth, capacity and
expected sales.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from territory_opt.errors import InputError, preview_ids
from territory_opt.quota.ramp import RampProfile, ramp_profile
from territory_opt.quota.simulation import expected_sales
from territory_opt.quota.spec import QuotaSection, RepSpec, SimulationSpec

__all__ = [
    "Staffing",
    "TerritoryData",
    "capacity_per_territory",
    "growth_rates",
    "read_territories",
    "staffing",
    "territory_expected_sales",
]

FloatArray = npt.NDArray[np.float64]

NUMBER_COLUMNS = (
    "fte",
    "prior_sales",
    "prior_quota",
    "weighted_pipeline",
    "workload_hours",
    "capacity",
    "growth_override",
    "sales_cv",
    "runrate",
)
# Columns that may legitimately be negative (a shrinking territory's growth).
_SIGNED = ("growth_override",)
ALL_REGIONS = "(all)"
ALL_DISTRICTS = "(all)"


@dataclass(frozen=True)
class TerritoryData:
    """Validated territory figures as arrays in territory id order."""

    territory_ids: tuple[str, ...]
    district: tuple[str, ...]
    region: tuple[str, ...]
    rep_ids: tuple[str, ...]
    potential: FloatArray
    numbers: dict[str, FloatArray]
    has_region: bool

    @property
    def size(self) -> int:
        """Number of territories."""
        return len(self.territory_ids)

    def column(self, name: str) -> FloatArray:
        """An optional number column (all NaN when the table had none)."""
        return self.numbers[name]

    def known(self, name: str) -> bool:
        """Whether any territory has a value in this column."""
        return bool(np.isfinite(self.numbers[name]).any())


def _text(value: object, column: str, territory: str) -> str:
    """A cell of an id column as text; blank for a missing value."""
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, str):
        return value.strip()
    raise InputError(
        f"territories: {column} of territory {territory!r} is the number {value!r}; "
        "ids must be text so that leading zeros survive. Read the table with "
        "dtype=str for id columns"
    )


def read_territories(table: pd.DataFrame) -> TerritoryData:
    """Check the territories table and return its figures in territory id order.

    Parameters
    ----------
    table
        One row per territory with the columns described in the module docstring.

    Returns
    -------
    TerritoryData
        The figures, sorted by territory id.

    Raises
    ------
    InputError
        On a missing required column, a blank, numeric or repeated id, a rep on
        two territories, or a negative, infinite or missing required number. The
        message names the first ids and a count.
    """
    missing = [c for c in ("territory_id", "potential") if c not in table.columns]
    if missing:
        raise InputError(
            f"territories: missing column(s) {', '.join(missing)}; the table has "
            f"{', '.join(map(str, table.columns)) or 'no columns'}"
        )
    if table.empty:
        raise InputError("territories: the table has no rows")

    raw_ids = table["territory_id"].tolist()
    ids = [_text(v, "territory_id", f"row {k}") for k, v in enumerate(raw_ids)]
    blank = [str(k) for k, i in enumerate(ids) if not i]
    if blank:
        raise InputError(
            f"territories: rows {preview_ids(blank)} have no territory_id; give "
            "every row an id"
        )
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise InputError(
            f"territories: territory ids {preview_ids(repeated)} appear more than "
            "once; each territory needs one row"
        )
    order = sorted(range(len(ids)), key=lambda k: ids[k])
    rows = table.iloc[order]
    ids = [ids[k] for k in order]

    def texts(column: str, default: str) -> list[str]:
        if column not in rows.columns:
            return [default] * len(ids)
        cells = [_text(v, column, t) for v, t in zip(rows[column], ids, strict=True)]
        return [c or default for c in cells]

    reps = texts("rep_id", "")
    named = [r for r in reps if r]
    doubled = sorted({r for r in named if named.count(r) > 1})
    if doubled:
        raise InputError(
            f"territories: reps {preview_ids(doubled)} hold more than one territory; "
            "quota planning needs one rep per territory. Merge the territories or "
            "give each its own rep"
        )

    potential = _numbers(rows["potential"], "potential", ids)
    absent = [t for t, p in zip(ids, potential, strict=True) if not np.isfinite(p)]
    if absent:
        raise InputError(
            f"territories: potential is missing for {preview_ids(absent)} "
            f"({len(absent)} in all); every territory needs a potential"
        )
    numbers = {
        name: _numbers(rows[name], name, ids)
        if name in rows.columns
        else np.full(len(ids), np.nan)
        for name in NUMBER_COLUMNS
    }
    return TerritoryData(
        territory_ids=tuple(ids),
        district=tuple(texts("parent", ALL_DISTRICTS)),
        region=tuple(texts("region", ALL_REGIONS)),
        rep_ids=tuple(reps),
        potential=potential,
        numbers=numbers,
        has_region="region" in rows.columns,
    )


def _numbers(column: pd.Series, name: str, ids: list[str]) -> FloatArray:
    """A number column as floats: NaN for blanks, errors for text, infinity or
    (except growth) negatives."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    given = column.notna().to_numpy()
    text = [t for t, ok, v in zip(ids, given, values, strict=True) if ok and v != v]
    if text:
        raise InputError(
            f"territories: {name} of {preview_ids(text)} is not a number; fix or "
            "blank those cells"
        )
    bad = [t for t, v in zip(ids, values, strict=True) if np.isinf(v)]
    if name not in _SIGNED:
        bad += [t for t, v in zip(ids, values, strict=True) if v < 0]
    if bad:
        raise InputError(
            f"territories: {name} must be a finite number of 0 or more; "
            f"{preview_ids(bad)} break this ({len(bad)} in all)"
        )
    return values


@dataclass(frozen=True)
class Staffing:
    """Who carries each territory and over which part of the year."""

    rep_ids: tuple[str, ...]
    specs: tuple[RepSpec | None, ...]
    vacant: npt.NDArray[np.bool_]
    placeholder: npt.NDArray[np.bool_]
    profiles: tuple[RampProfile, ...]
    skill: FloatArray


def staffing(data: TerritoryData, section: QuotaSection) -> Staffing:
    """Reps, placeholders and ramp profiles per territory.

    A vacant territory under ``tbh_with_ramp`` gets rep ``TBH-<territory>``
    starting on the declared rep's ``start_date`` or else on
    ``vacancy.expected_fill_date``; under the other policies it has no rep.

    Raises
    ------
    InputError
        When a placeholder has no start date.
    """
    vacancy = section.vacancy
    ramp = section.ramp
    rep_ids, specs, placeholder, profiles = [], [], [], []
    for territory, rep_id in zip(data.territory_ids, data.rep_ids, strict=True):
        spec = section.rep(rep_id) if rep_id else None
        start = spec.start_date if spec else None
        generated = not rep_id and vacancy.policy == "tbh_with_ramp"
        if generated:
            rep_id = f"TBH-{territory}"
            spec = section.rep(rep_id)
            start = (spec.start_date if spec else None) or vacancy.expected_fill_date
            if start is None:
                raise InputError(
                    f"territory {territory} is vacant and quota.vacancy."
                    "expected_fill_date is not set; set it, or declare rep "
                    f"{rep_id} with a start_date under quota.reps"
                )
        rep_ids.append(rep_id)
        specs.append(spec)
        placeholder.append(generated or bool(spec and spec.is_tbh))
        if not rep_id:
            profiles.append(RampProfile(np.zeros(12), np.zeros(12)))
            continue
        profiles.append(
            ramp_profile(
                section.fiscal_year,
                start_date=start,
                end_date=spec.end_date if spec else None,
                schedule=ramp.schedule,
                proration=ramp.proration,
                applies_if_hired_within_days=ramp.applies_if_hired_within_days,
                start_month=section.fiscal_year_start_month,
            )
        )
    return Staffing(
        rep_ids=tuple(rep_ids),
        specs=tuple(specs),
        vacant=np.array([not r for r in data.rep_ids]),
        placeholder=np.array(placeholder),
        profiles=tuple(profiles),
        skill=np.array([s.skill if s else 1.0 for s in specs]),
    )


def growth_rates(data: TerritoryData, section: QuotaSection) -> FloatArray:
    """Growth per territory: the override or the default, clamped to the bounds."""
    override = data.column("growth_override")
    growth = np.where(np.isfinite(override), override, section.historical.growth)
    bounds = section.historical.growth_bounds
    return growth if bounds is None else np.clip(growth, bounds[0], bounds[1])


def capacity_per_territory(
    data: TerritoryData, section: QuotaSection, staff: Staffing
) -> FloatArray:
    """C_i: the table's override, else the activity formula (NaN when unknown)."""
    given = data.column("capacity")
    if section.capacity is None:
        return given
    per_rep = section.capacity.full_rep_capacity()
    ramp_fte = np.array([p.ramp_fte for p in staff.profiles])
    formula = per_rep * staff.skill * ramp_fte
    return np.where(np.isfinite(given), given, formula)


def territory_expected_sales(
    data: TerritoryData, section: QuotaSection, growth: FloatArray
) -> FloatArray:
    """μ per territory from the simulation's expected-sales source."""
    sim = section.simulation or SimulationSpec()
    try:
        return expected_sales(
            sim.expected_sales_source,
            potential=data.potential,
            prior_sales=data.column("prior_sales"),
            pipeline=data.column("weighted_pipeline"),
            growth=growth,
            runrate=data.column("runrate"),
            company_forecast=sim.company_forecast,
        )
    except ValueError as error:
        raise InputError(
            f"quota.simulation: {error}. Fill those columns of the territories "
            "table, pick another expected_sales_source, or set quota.simulation: "
            "null to skip the simulation"
        ) from None
