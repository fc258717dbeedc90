"""Quota planning from a territory alignment, and the joint territory-quota loop.

:func:`plan_quotas` runs the steps of docs/quota.md in this order:

1. staffing: the rep of each territory, to-be-hired placeholders for vacancies,
   and each rep's ramp profile (Q5), which capacity needs;
2. Q1/Q2: the company target handed down the hierarchy by the chosen method;
3. Q3: bounds and the scale λ that keeps the street total;
4. Q6: vacancies held at the manager or redistributed;
5. Q4: rounding by largest remainder;
6. Q5: monthly and effective quotas, vacancy gaps;
7. Q7 and the realised over-assignment;
8. the Monte Carlo of sales and pay, fairness figures and warnings.

A rep's expected sales are the territory's μ_i times the rep's skill times
``Σ_m σ_m ramp_i(m) e_i(m)``, the share of the year's seasonal sales the rep is
employed and ramped for: the simulation takes the ramp schedule as the true
productivity ramp, so a full-year rep is simulated exactly as the Monte Carlo
formula states.
Quota fairness is measured on a simulation with every skill at 1, so that talent
is not mistaken for an unfair quota; the comp table shows each rep's own figures.

:func:`joint_design` tightens the territory model's potential band until the
quotas pass the fairness check; see its docstring for the stopping rule.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from territory_opt.errors import InputError, TerritoryOptError, preview_ids
from territory_opt.quota import allocation as alloc
from territory_opt.quota.bounds import bound_violations
from territory_opt.quota.equal_probability import solve_equal_probability
from territory_opt.quota.evaluate import evaluate_pay, plan_warnings, quota_table
from territory_opt.quota.fairness import json_ready, quota_fairness
from territory_opt.quota.inputs import (
    Staffing,
    TerritoryData,
    capacity_per_territory,
    growth_rates,
    read_territories,
    staffing,
    territory_expected_sales,
)
from territory_opt.quota.simulation import DEFAULT_CHUNK_BYTES
from territory_opt.quota.spec import QuotaSection, SimulationSpec

__all__ = [
    "JointDesign",
    "JointIteration",
    "QuotaOutcome",
    "joint_design",
    "plan_quotas",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class QuotaOutcome:
    """Everything :func:`plan_quotas` returns; treat the tables as read-only.

    ``quotas``: one row per territory (id order) with ``territory_id``, ``parent``,
    ``region``, ``rep_id`` (``TBH-<territory>`` for a placeholder, blank when the
    territory has no rep), ``is_vacant``, ``quota_raw`` (after Q2),
    ``quota_full``, ``quota_effective``, ``quota_m01`` … ``quota_m12``, ``share``
    (full quota over the street target), ``yoy_change`` (full quota over the
    bounds basis, minus 1), ``bound_hit`` (``none``, ``floor`` or ``cap``),
    ``quota_to_potential``, ``quota_to_prior`` and ``vacancy_gap`` (quota nobody
    carries: a placeholder's unramped part, or what is held at the manager).

    ``comp``: one row per rep with a positive effective quota: plan, TI, pay mix,
    BCR, expected sales and attainment, ``p_attain``, expected incentive (with its
    Monte Carlo standard error) and earnings, and the share of simulated years in
    each attainment band. Pay figures are NaN for reps without a comp plan.

    ``fairness`` and ``summary`` are JSON-ready dicts; ``warnings`` are plain
    sentences quoting the figures.
    """

    quotas: pd.DataFrame
    comp: pd.DataFrame
    fairness: dict[str, Any]
    summary: dict[str, Any]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class _Allocation:
    top: alloc.TopDown
    rescale: bool
    probability: float | None


def _allocate(
    data: TerritoryData,
    section: QuotaSection,
    street: float,
    base: FloatArray,
    capacity: FloatArray,
    mean_sales: FloatArray | None,
    warnings: list[str],
) -> _Allocation:
    """Q1/Q2: raw territory quotas and the node quotas above them."""
    method = section.method
    components = {
        "potential": data.potential,
        "historical": base,
        "pipeline": data.column("weighted_pipeline"),
        "capacity": capacity,
    }
    needed: list[str] = [method] if method in components else []
    weights = None
    if method == "blended":
        weights = _blend_weights(section, components, warnings)
        needed = [c for c in weights if c in components]
    if method == "fair_share":
        needed = ["historical"]
    for component in needed:
        values = components[component]
        unknown = [t for t, v in zip(data.territory_ids, values, strict=True) if v != v]
        if component == "capacity" and unknown:
            raise InputError(
                f"the capacity share needs C_i for every territory; "
                f"{preview_ids(unknown)} have none. Add a capacity column or a "
                "quota.capacity block"
            )
        if unknown and len(unknown) < data.size:
            warnings.append(
                f"{component} share: {len(unknown)} territories have no "
                f"{'prior_sales' if component == 'historical' else component} "
                f"({preview_ids(unknown)}) and get none of that component"
            )

    fixed = None
    probability = None
    rescale = True
    if method == "equal_probability":
        assert mean_sales is not None
        cv = data.column("sales_cv")
        default_cv = (section.simulation or SimulationSpec()).default_sales_cv
        solved = solve_equal_probability(
            mean_sales,
            np.where(np.isfinite(cv), cv, default_cv),
            street,
            section.equal_probability.target_probability,
        )
        fixed, probability = solved.quotas, solved.probability
        rescale = section.equal_probability.target_probability is None
    rule = alloc.ShareRule(
        method="fixed" if fixed is not None else method,
        potential=data.potential,
        historical=np.nan_to_num(base),
        pipeline=np.nan_to_num(components["pipeline"]),
        capacity=np.nan_to_num(capacity),
        prior_sales=np.nan_to_num(data.column("prior_sales")),
        fixed=fixed,
        weights=weights,
        fte=np.where(np.isfinite(data.column("fte")), data.column("fte"), 1.0),
    )
    top = alloc.top_down(
        data.district,
        data.region,
        section.plan.company_target,
        section.plan.over_assignment.factors(),
        rule.split,
    )
    warnings.extend(top.notes)
    if method == "historical" and section.historical.mode == "bottom_up":
        rescale = False
        top = alloc.TopDown(np.nan_to_num(base), top.region, top.district, top.notes)
    elif not rescale and fixed is not None:
        top = alloc.TopDown(fixed, top.region, top.district, top.notes)
    return _Allocation(top, rescale, probability)


def _blend_weights(
    section: QuotaSection, components: Mapping[str, FloatArray], warnings: list[str]
) -> dict[str, float]:
    """Normalised blend weights without the components that have no data."""
    weights = {k: v for k, v in section.blend_weights.as_dict().items() if v > 0}
    dropped = [
        k for k in weights if k in components and not np.isfinite(components[k]).any()
    ]
    for name in dropped:
        del weights[name]
    if dropped:
        warnings.append(
            f"blended quota: no territory has data for {', '.join(dropped)}; "
            "dropped from the blend and the other weights renormalised"
        )
    if not weights:
        warnings.append("blended quota: no component is left; shares fell back to even")
        weights = {"even": 1.0}
    total = math.fsum(weights.values())
    return {k: v / total for k, v in weights.items()}


def plan_quotas(
    territories: pd.DataFrame,
    section: QuotaSection,
    *,
    neighbors: Mapping[str, Sequence[str]] | None = None,
    max_chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> QuotaOutcome:
    """Set quotas per territory and simulate the comp plans on them.

    Parameters
    ----------
    territories
        One row per territory, as described in :mod:`territory_opt.quota.inputs`
        (``territory_id``, ``parent``, ``rep_id``, ``potential``,
        ``prior_sales``, ``prior_quota``, ``weighted_pipeline``,
        ``workload_hours``, ``capacity``, ...). Row order does not matter.
    section
        The validated ``quota:`` block.
    neighbors
        Territory id → adjacent territory ids, for
        ``vacancy.redistribute_to: neighbors``; without it the quota of a vacancy
        goes to the other territories of its district.
    max_chunk_bytes
        Memory budget of one chunk of simulated draws; default 32 MiB.

    Returns
    -------
    QuotaOutcome
        Quotas, comp, fairness figures, a summary and warnings.

    Raises
    ------
    InputError
        When the table or the section lacks data the chosen rules need; the
        message names the ids and the fix.
    """
    data = read_territories(territories)
    staff = staffing(data, section)
    plan = section.plan
    warnings: list[str] = []
    growth = growth_rates(data, section)
    relief = section.historical.attrition_relief
    base = alloc.historical_base(data.column("prior_sales"), growth, relief)
    capacity = capacity_per_territory(data, section, staff)
    needs_sales = (
        section.simulation is not None or section.method == "equal_probability"
    )
    mean_sales = (
        territory_expected_sales(data, section, growth) if needs_sales else None
    )

    # Q1/Q2 and Q3: raw quotas, then bounds around the chosen basis.
    street = alloc.street_target(plan.company_target, plan.over_assignment.factors())
    allocation = _allocate(data, section, street, base, capacity, mean_sales, warnings)
    raw = allocation.top.territory
    yoy, limits = section.yoy_change, section.absolute_bounds
    lower, upper = alloc.quota_bounds(
        data.column(yoy.basis), yoy.min, yoy.max, limits.min, limits.max
    )
    if not allocation.rescale:
        bounded = alloc.clamp_bounds(raw, lower, upper, street)
    elif section.bounds_scope == "hierarchy":
        bounded = alloc.apply_bounds_by_level(
            raw, data.district, data.region, lower, upper, street
        )
    else:
        bounded = alloc.apply_bounds(raw, lower, upper, street)
    if bounded.status != "ok":
        warnings.append(_bounds_warning(bounded, lower, upper, street))

    # Q6: vacancies without a placeholder rep.
    quotas = bounded.quotas
    held = np.zeros(data.size)
    moved = staff.vacant & (section.vacancy.policy != "tbh_with_ramp")
    bound_hit = tuple(
        "none" if m else h for m, h in zip(moved, bounded.bound_hit, strict=True)
    )
    if moved.any():
        settled = alloc.settle_vacancies(
            quotas,
            data.territory_ids,
            staff.vacant,
            section.vacancy.policy,
            _receivers(data, staff, section, neighbors, warnings),
            data.potential,
            capacity if section.vacancy.redistribute_cap_by_capacity else None,
        )
        quotas, held = settled.quotas, settled.held
        warnings.extend(settled.notes)
        # A receiver's flag describes where it ends up, not where Q3 left it.
        at_cap = np.isfinite(upper) & (quotas >= upper * (1 - 1e-12))
        bound_hit = tuple(
            ("cap" if c else "none") if r > 0 else h
            for r, c, h in zip(settled.received, at_cap, bound_hit, strict=True)
        )

    # Q4: rounding, re-checking the bounds of territories that carry a quota.
    rounding_residual = 0.0
    if section.rounding is not None:
        rounded = alloc.round_quotas(
            quotas,
            data.territory_ids,
            section.rounding.unit,
            preserve_total=section.rounding.preserve_total,
            lower=np.where(moved, 0.0, lower),
            upper=np.where(moved, np.inf, upper),
        )
        quotas, rounding_residual = rounded.quotas, rounded.residual
        warnings.extend(rounded.violations)
    elif moved.any():
        # Redistribution can push receivers past their caps; say so.
        warnings.extend(
            bound_violations(
                quotas, data.territory_ids, None, np.where(moved, np.inf, upper)
            )
        )

    if not allocation.rescale:
        total = float(quotas.sum())
        warnings.append(
            f"{section.method} quotas are kept as computed, not rescaled: they add "
            f"up to {total:,.0f}, {abs(street - total):,.0f} "
            f"{'below' if total < street else 'above'} the street target "
            f"{street:,.0f}"
        )

    # Q5: monthly and effective quotas.
    factors = np.array([p.factor for p in staff.profiles])
    monthly = quotas[:, None] * np.asarray(plan.seasonality)[None, :] * factors
    effective = monthly.sum(axis=1)
    gap = np.where(staff.placeholder, quotas - effective, 0.0) + held

    realised = alloc.realised_over_assignment(
        plan.company_target, allocation.top.region, allocation.top.district, quotas
    )
    staffed = np.array([bool(r) for r in staff.rep_ids])
    known_capacity = (
        capacity[staffed] if section.capacity or data.known("capacity") else None
    )
    reconciliation = alloc.reconcile(
        street,
        float(np.nansum(base)) if data.known("prior_sales") else None,
        known_capacity,
    )
    warnings.extend(
        plan_warnings(data, section, staff, quotas, effective, realised, reconciliation)
    )
    quotas_out = quota_table(
        data, staff, raw, quotas, effective, monthly, street, bound_hit, gap, section
    )
    summary: dict[str, Any] = {
        "company_target": plan.company_target,
        "street_target": street,
        "method": section.method,
        "over_assignment": section.plan.over_assignment.model_dump(),
        "over_assignment_realised": realised,
        "reconciliation": reconciliation,
        "bound_hits": {k: bound_hit.count(k) for k in ("none", "floor", "cap")},
        "bounds_status": bounded.status,
        "bounds_scale": bounded.scale,
        "bounds_residual": bounded.residual,
        "rounding_residual": rounding_residual,
        "quota_total": float(quotas.sum()),
        "gap_to_street_target": street - float(quotas.sum()),
        "held_at_manager": _held_by_parent(data, held),
        "district_over_assignment": _district_over_assignment(
            data, allocation.top.district, quotas
        ),
        "vacancy_gap_total": float(gap.sum()),
        "equal_probability": allocation.probability,
        "territories": data.size,
        "vacant_territories": int(staff.vacant.sum()),
        "simulation": None,
    }

    comp_table = pd.DataFrame()
    # Without a simulation only the ratios of quota to potential can be judged.
    carried = staffed & (quotas > 0)
    fairness: dict[str, Any] = quota_fairness(
        quotas[carried], data.potential[carried], None
    )
    if section.simulation is not None and mean_sales is not None:
        comp_table, simulated, summary["simulation"], found = evaluate_pay(
            data, section, staff, quotas, monthly, mean_sales, max_chunk_bytes
        )
        fairness = simulated or fairness
        warnings.extend(found)
    for message in warnings:
        logger.warning(message)
    return QuotaOutcome(
        quotas=quotas_out,
        comp=comp_table,
        fairness=json_ready(fairness),
        summary=json_ready(summary),
        warnings=tuple(warnings),
    )


def _bounds_warning(
    bounded: alloc.BoundedQuotas, lower: FloatArray, upper: FloatArray, street: float
) -> str:
    """Plain-language statement of an infeasible Q3."""
    if bounded.status == "over_floor":
        return (
            f"quota floors add up to {lower.sum():,.0f}, above the street target "
            f"{street:,.0f}; every territory is set to its floor (residual "
            f"{bounded.residual:,.0f}). Lower yoy_change.min or absolute_bounds.min"
        )
    return (
        f"quota caps allow at most {bounded.quotas.sum():,.0f}, below the street "
        f"target {street:,.0f}; every territory is set to its cap (residual "
        f"{bounded.residual:,.0f}). Raise yoy_change.max or absolute_bounds.max"
    )


def _receivers(
    data: TerritoryData,
    staff: Staffing,
    section: QuotaSection,
    neighbors: Mapping[str, Sequence[str]] | None,
    warnings: list[str],
) -> dict[str, list[int]]:
    """Territories that may take over each vacancy's quota."""
    index = {t: k for k, t in enumerate(data.territory_ids)}
    by_neighbors = section.vacancy.redistribute_to == "neighbors"
    if by_neighbors and neighbors is None and section.vacancy.policy == "redistribute":
        warnings.append(
            "vacancy.redistribute_to is neighbors but no adjacency was given; the "
            "quota of each vacancy goes to the other territories of its district"
        )
        by_neighbors = False
    receivers = {}
    for k in np.flatnonzero(staff.vacant):
        territory = data.territory_ids[k]
        if by_neighbors and neighbors is not None:
            takers = [index[t] for t in neighbors.get(territory, ()) if t in index]
        else:
            takers = [
                j
                for j, d in enumerate(data.district)
                if d == data.district[k] and j != k
            ]
        receivers[territory] = takers
    return receivers


def _held_by_parent(data: TerritoryData, held: FloatArray) -> dict[str, float]:
    """Quota held at each district manager by vacancies."""
    totals: dict[str, float] = {}
    for district, amount in zip(data.district, held, strict=True):
        if amount > 0:
            totals[district] = totals.get(district, 0.0) + float(amount)
    return totals


def _district_over_assignment(
    data: TerritoryData, district_quota: Mapping[str, float], quotas: FloatArray
) -> dict[str, float]:
    """Per district: its territories' quotas over its own quota, minus 1."""
    totals = dict.fromkeys(district_quota, 0.0)
    for district, amount in zip(data.district, quotas, strict=True):
        totals[district] += float(amount)
    return {
        d: totals[d] / q - 1.0 if q > 0 else math.nan for d, q in district_quota.items()
    }


@dataclass(frozen=True)
class JointIteration:
    """One pass of :func:`joint_design`.

    ``status`` is ``passed``, ``failed`` (spread above the limit) or
    ``infeasible`` (the territory model found no alignment at this tolerance, and
    ``outcome`` is None).
    """

    iteration: int
    potential_tolerance: float
    status: str
    p_attain_spread: float | None
    outcome: QuotaOutcome | None
    message: str = ""


@dataclass(frozen=True)
class JointDesign:
    """History of the joint loop and why it stopped.

    ``stop_reason``: ``passed``, ``floor_reached``, ``infeasible`` or
    ``max_iterations``.
    """

    history: tuple[JointIteration, ...]
    stop_reason: str

    @property
    def best(self) -> JointIteration | None:
        """The passing iteration, else the feasible one with the smallest spread."""
        feasible = [h for h in self.history if h.outcome is not None]
        passed = [h for h in feasible if h.status == "passed"]
        if passed:
            return passed[-1]
        measured = [h for h in feasible if h.p_attain_spread is not None]
        return min(measured, key=lambda h: h.p_attain_spread or 0.0, default=None)


Neighbors = Mapping[str, Sequence[str]]
Resolved = pd.DataFrame | tuple[pd.DataFrame, Neighbors | None] | None


def joint_design(
    resolve: Callable[[float], Resolved],
    section: QuotaSection,
    *,
    start_tolerance: float = 0.10,
    min_tolerance: float = 0.02,
    shrink: float = 0.5,
    max_iterations: int = 10,
    neighbors: Neighbors | None = None,
    max_chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> JointDesign:
    """Tighten the potential band of the territories until quotas are fair.

    Stopping rule: start at ``start_tolerance``. Each iteration calls
    ``resolve(tolerance)`` for a territories table and plans quotas on it. Stop
    when

    1. ``p_attain_spread`` is at most ``section.fairness.max_p_attain_spread``
       (``passed``);
    2. the tolerance that just failed is already at ``min_tolerance``
       (``floor_reached``);
    3. ``resolve`` returns None or raises a :class:`TerritoryOptError` such as
       :class:`InfeasibleSpecificationError` (``infeasible``): a tighter band
       cannot be met, so tightening further is pointless;
    4. ``max_iterations`` have run (``max_iterations``).

    Otherwise the tolerance becomes ``max(min_tolerance, shrink × tolerance)``.
    The tolerance only ever falls, so the loop ends after at most
    ``ceil(log(min/start) / log(shrink)) + 1`` calls. Other exceptions from
    ``resolve`` are bugs and propagate.

    Parameters
    ----------
    resolve
        Re-solves the territory model with the given potential band (a fraction,
        0.05 for ±5 %) and returns the territories table of
        :func:`plan_quotas`, or None when no alignment exists. It may return a
        pair ``(table, neighbors)`` instead, when the adjacency of territories
        changes with the alignment; those neighbors replace ``neighbors``.
    section
        The quota section; it needs a simulation.
    start_tolerance, min_tolerance
        First and smallest band; defaults 0.10 and 0.02.
    shrink
        Factor applied to the band after a failed check; default 0.5 (halving).
    max_iterations
        Most calls to ``resolve``; default 10.
    neighbors, max_chunk_bytes
        Passed to :func:`plan_quotas`.

    Returns
    -------
    JointDesign
        Every iteration with its outcome, and the stop reason.
    """
    if section.simulation is None:
        raise InputError(
            "joint_design measures p_attain_spread by simulation; quota.simulation "
            "is null. Give it a simulation block"
        )
    if not 0 < min_tolerance <= start_tolerance or not 0 < shrink < 1:
        raise InputError(
            f"joint_design needs 0 < min_tolerance <= start_tolerance and "
            f"0 < shrink < 1; got min {min_tolerance}, start {start_tolerance}, "
            f"shrink {shrink}"
        )
    limit = section.fairness.max_p_attain_spread
    tolerance = start_tolerance
    history: list[JointIteration] = []
    for iteration in range(1, max_iterations + 1):
        adjacent = neighbors
        try:
            table = resolve(tolerance)
            reason = "" if table is not None else "resolve returned no alignment"
        except TerritoryOptError as error:
            table, reason = None, str(error)
        if isinstance(table, tuple):
            table, adjacent = table
        if table is None:
            history.append(
                JointIteration(iteration, tolerance, "infeasible", None, None, reason)
            )
            logger.info("joint design: band %.4g is infeasible; stopping", tolerance)
            return JointDesign(tuple(history), "infeasible")

        outcome = plan_quotas(
            table, section, neighbors=adjacent, max_chunk_bytes=max_chunk_bytes
        )
        spread = outcome.fairness.get("p_attain_spread")
        passed = spread is not None and spread <= limit
        history.append(
            JointIteration(
                iteration,
                tolerance,
                "passed" if passed else "failed",
                spread,
                outcome,
                f"p_attain_spread {spread} against limit {limit:g}",
            )
        )
        logger.info(
            "joint design: band %.4g gives p_attain_spread %s (limit %g)",
            tolerance,
            spread,
            limit,
        )
        if passed:
            return JointDesign(tuple(history), "passed")
        if tolerance <= min_tolerance:
            return JointDesign(tuple(history), "floor_reached")
        tolerance = max(min_tolerance, tolerance * shrink)
    return JointDesign(tuple(history), "max_iterations")
