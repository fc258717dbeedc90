"""Quota allocation: street target, shares, bounds, rounding, vacancies, reconciliation.

Symbols follow docs/quota.md, Formulas. For territories ``i``: potential
``P_i``, prior sales ``H_i``, weighted pipeline ``W_i``, capacity ``C_i``;
company target ``T``; over-assignment ``oa_ℓ`` per level ℓ ∈ (region, district,
territory).

- Q1: a node of quota ``Q_n`` hands ``pool_n = Q_n (1 + oa_{ℓ+1})`` to its children,
  split by the shares of the method, so the territories carry
  ``T_street = T Π_ℓ (1 + oa_ℓ)``.
- Q2: shares ``s_i = X_i / Σ X`` for X ∈ {P, base, W, C}, the even share, a blend of
  these, or the fair share ``H_i + (pool − Σ H) P_i / Σ P`` clamped at 0. At a
  district or region the same rule runs on the sums over its territories; the even
  share of a node is its number of territories over the total, so that an even plan
  gives every territory the same quota.
- Q3 and Q4 (bounds with total preservation, rounding) live in
  :mod:`territory_opt.quota.bounds` and are re-exported here.
- Q6: vacant territories held at the manager or redistributed by water-filling.
- Q7: top-down against bottom-up against capacity.

Every function is pure: arrays in, new arrays and small frozen records out.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from territory_opt.errors import InputError
from territory_opt.quota.bounds import (
    BoundedQuotas,
    RoundedQuotas,
    apply_bounds,
    clamp_bounds,
    quota_bounds,
    round_quotas,
)

__all__ = [
    "BoundedQuotas",
    "RoundedQuotas",
    "ShareRule",
    "TopDown",
    "VacancyOutcome",
    "apply_bounds",
    "apply_bounds_by_level",
    "clamp_bounds",
    "fair_share_amounts",
    "historical_base",
    "proportional_shares",
    "quota_bounds",
    "realised_over_assignment",
    "reconcile",
    "redistribute",
    "round_quotas",
    "settle_vacancies",
    "street_target",
    "top_down",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def street_target(company_target: float, factors: Sequence[float]) -> float:
    """The leaf total ``T_street = T × Π (1 + oa_ℓ)``.

    Parameters
    ----------
    company_target
        The root plan T, in currency.
    factors
        ``1 + oa_ℓ`` for each level below the root, top-down.

    Returns
    -------
    float
        The sum of all territory quotas before bounds, in currency.
    """
    return float(company_target * math.prod(factors))


def proportional_shares(
    values: npt.ArrayLike, counts: npt.ArrayLike | None = None
) -> tuple[FloatArray, bool]:
    """Shares ``X_i / Σ X``, falling back to even shares when ``Σ X = 0``.

    Parameters
    ----------
    values
        Non-negative values per child (territory, district or region).
    counts
        Territories under each child, for the even fall-back (default one each).

    Returns
    -------
    tuple
        The shares, summing to 1, and whether the even fall-back was used.
    """
    x = np.asarray(values, dtype=np.float64)
    total = float(x.sum())
    if total > 0.0:
        return x / total, False
    n = np.ones_like(x) if counts is None else np.asarray(counts, dtype=np.float64)
    return n / n.sum(), True


def historical_base(
    prior_sales: npt.ArrayLike,
    growth: npt.ArrayLike,
    relief: float = 0.0,
    bounds: tuple[float, float] | None = None,
) -> FloatArray:
    """Bottom-up base ``H_i (1 + clamp(g_i, g_min, g_max) − r)``.

    Parameters
    ----------
    prior_sales
        Last complete year's sales per territory, in currency.
    growth
        Growth rate per territory as a fraction (0.10 for 10 %).
    relief
        Attrition relief r as a fraction; default 0.
    bounds
        Optional ``(g_min, g_max)`` clamp on the growth rate.

    Returns
    -------
    numpy.ndarray
        The base per territory, in currency.
    """
    g = np.asarray(growth, dtype=np.float64)
    if bounds is not None:
        g = np.clip(g, bounds[0], bounds[1])
    return np.asarray(prior_sales, dtype=np.float64) * (1.0 + g - relief)


def fair_share_amounts(
    prior_sales: npt.ArrayLike, potential: npt.ArrayLike, pool: float
) -> tuple[FloatArray, bool]:
    """Fair share ``Q_i = H_i + (pool − Σ H) P_i / Σ P`` with a clamp at zero.

    When a quota comes out negative it is set to 0 and the increment is shared again
    among the rest, until none is negative.

    Parameters
    ----------
    prior_sales
        Prior sales H per child, in currency (missing counts as 0).
    potential
        Potential P per child.
    pool
        The amount to allocate, in currency.

    Returns
    -------
    tuple
        Amounts per child summing to ``pool``, and whether the even fall-back was
        used because the remaining children have no potential.
    """
    h = np.asarray(prior_sales, dtype=np.float64)
    p = np.asarray(potential, dtype=np.float64)
    active = np.ones(h.size, dtype=bool)
    while True:
        potential_total = float(p[active].sum())
        if potential_total <= 0.0:
            return np.full(h.size, pool / h.size), True
        increment = pool - float(h[active].sum())
        amounts = np.where(active, h + increment * p / potential_total, 0.0)
        negative = active & (amounts < 0.0)
        if not negative.any():
            return amounts, False
        active &= ~negative


@dataclass(frozen=True)
class ShareRule:
    """Q2 share rule over territories, applied at every level of the hierarchy.

    ``method`` is one of ``even``, ``potential``, ``historical``, ``pipeline``,
    ``capacity``, ``blended``, ``fair_share`` or ``fixed`` (shares proportional to
    ``fixed``, used to roll a flat allocation up the hierarchy). Arrays hold one
    value per territory with missing data already set to 0; ``weights`` are the
    normalised blend weights by component name; ``fte`` (default 1 each) weights
    the even share.
    """

    method: str
    potential: FloatArray
    historical: FloatArray | None = None
    pipeline: FloatArray | None = None
    capacity: FloatArray | None = None
    prior_sales: FloatArray | None = None
    fixed: FloatArray | None = None
    weights: Mapping[str, float] | None = None
    fte: FloatArray | None = None

    def split(
        self, groups: Sequence[IntArray], pool: float, node: str
    ) -> tuple[FloatArray, list[str]]:
        """Split ``pool`` over children, each given by its territories' indices.

        Returns the amount per child and plain-language notes about fall-backs.
        """
        # The even share (and the fall-back to it) goes by FTE: a 0.5 FTE
        # territory counts half.
        if self.fte is None:
            counts = np.array([g.size for g in groups], dtype=np.float64)
        else:
            counts = _sum_over(self.fte, groups)
        notes: list[str] = []
        if len(groups) == 1:
            # A single child takes the whole pool whatever the rule says.
            return np.array([pool]), notes
        if self.method == "fair_share":
            amounts, degenerate = fair_share_amounts(
                _sum_over(self._values("prior_sales"), groups),
                _sum_over(self.potential, groups),
                pool,
            )
            if degenerate:
                notes.append(_even_note("fair_share (potential)", node))
            return amounts, notes

        if self.method == "blended":
            shares = np.zeros(len(groups))
            for component, weight in (self.weights or {}).items():
                part, degenerate = self._component_shares(component, groups, counts)
                if degenerate:
                    notes.append(_even_note(f"blended component {component}", node))
                shares += weight * part
            return pool * shares, notes

        shares, degenerate = self._component_shares(self.method, groups, counts)
        if degenerate:
            notes.append(_even_note(self.method, node))
        return pool * shares, notes

    def _component_shares(
        self, component: str, groups: Sequence[IntArray], counts: FloatArray
    ) -> tuple[FloatArray, bool]:
        """Shares of one component over the children."""
        if component == "even":
            return counts / counts.sum(), False
        return proportional_shares(_sum_over(self._values(component), groups), counts)

    def _values(self, component: str) -> FloatArray:
        """The per-territory values behind a component."""
        values = (
            self.potential if component == "potential" else getattr(self, component)
        )
        if values is None:
            raise InputError(
                f"the {component} share needs data per territory and none was given"
            )
        return np.asarray(values, dtype=np.float64)


def _sum_over(values: FloatArray, groups: Sequence[IntArray]) -> FloatArray:
    """Sum of the territory values of each group."""
    return np.array([float(values[g].sum()) for g in groups])


def _even_note(component: str, node: str) -> str:
    return (
        f"{component} is zero for every child of {node}; the {component} share fell "
        "back to even there"
    )


@dataclass(frozen=True)
class TopDown:
    """Result of Q1: quotas of every node and of every territory.

    ``territory`` follows the order of the input territories; ``region`` and
    ``district`` map node ids to their quota; ``notes`` are fall-back warnings.
    """

    territory: FloatArray
    region: dict[str, float]
    district: dict[str, float]
    notes: tuple[str, ...]


Splitter = Callable[[Sequence[IntArray], float, str], tuple[FloatArray, list[str]]]


def top_down(
    district_of: Sequence[str],
    region_of: Sequence[str],
    company_target: float,
    factors: Sequence[float],
    split: Splitter,
) -> TopDown:
    """Q1: hand the company target down to regions, districts and territories.

    Parameters
    ----------
    district_of
        District id of each territory.
    region_of
        Region id of each territory; every territory of a district must share it.
    company_target
        T, in currency.
    factors
        ``1 + oa`` for region, district and territory, top-down.
    split
        ``split(groups, pool, node)`` returns the amount per child, where each
        child is given by the indices of its territories (for example
        :meth:`ShareRule.split`).

    Returns
    -------
    TopDown
        Quotas of every region, district and territory.

    Raises
    ------
    InputError
        If a district sits under two regions.
    """
    districts = np.asarray(district_of, dtype=object)
    regions = np.asarray(region_of, dtype=object)
    region_of_district: dict[str, str] = {}
    for district, region in zip(districts, regions, strict=True):
        known = region_of_district.setdefault(str(district), str(region))
        if known != str(region):
            raise InputError(
                f"district {district!r} sits under two regions ({known!r} and "
                f"{region!r}); give each district one region"
            )
    region_ids = sorted(set(region_of_district.values()))
    notes: list[str] = []

    # Company to regions.
    groups = [np.flatnonzero(regions == r) for r in region_ids]
    amounts, found = split(groups, company_target * factors[0], "the company")
    notes += found
    region_quota = dict(zip(region_ids, map(float, amounts), strict=True))

    # Regions to districts.
    district_quota: dict[str, float] = {}
    for region in region_ids:
        children = sorted(d for d, r in region_of_district.items() if r == region)
        groups = [np.flatnonzero(districts == d) for d in children]
        amounts, found = split(groups, region_quota[region] * factors[1], region)
        notes += found
        district_quota.update(zip(children, map(float, amounts), strict=True))

    # Districts to territories.
    territory_quota = np.zeros(districts.size)
    for district, quota in district_quota.items():
        members = np.flatnonzero(districts == district)
        groups = [members[k : k + 1] for k in range(members.size)]
        amounts, found = split(groups, quota * factors[2], district)
        notes += found
        territory_quota[members] = amounts
    return TopDown(territory_quota, region_quota, district_quota, tuple(notes))


def apply_bounds_by_level(
    raw: npt.ArrayLike,
    district_of: Sequence[str],
    region_of: Sequence[str],
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    target: float,
) -> BoundedQuotas:
    """Q3 at every level, so that each node keeps its total whenever bounds allow.

    A node's bounds are the sums of its territories' bounds. Regions are solved
    first against ``target`` with one λ (``apply_bounds``), then the districts of
    each region against the region's total, then the territories of each district
    against the district's total. A node whose children are free keeps the share
    Q1 gave it; only a node squeezed by its territories' bounds passes the
    difference to its siblings. With one region and one district this is the
    single-λ solve of :func:`apply_bounds`.

    Parameters
    ----------
    raw
        Territory quotas after Q1/Q2 (whose node sums are the node quotas), in
        currency.
    district_of, region_of
        District and region id of each territory.
    lower, upper
        Territory bounds in currency (``upper`` may be ``inf``).
    target
        The street total, in currency.

    Returns
    -------
    BoundedQuotas
        Territory quotas; ``scale`` and ``status`` are those of the region level
        (the only level that can be infeasible), ``bound_hit`` that of each
        territory within its district.
    """
    q = np.asarray(raw, dtype=np.float64)
    low = np.asarray(lower, dtype=np.float64)
    high = np.asarray(upper, dtype=np.float64)
    districts = np.asarray(district_of, dtype=object)
    regions = np.asarray(region_of, dtype=object)

    def solve(groups: list[IntArray], total: float) -> BoundedQuotas:
        return apply_bounds(
            [q[g].sum() for g in groups],
            [low[g].sum() for g in groups],
            [high[g].sum() for g in groups],
            total,
        )

    region_groups = [np.flatnonzero(regions == r) for r in sorted(set(region_of))]
    top = solve(region_groups, target)
    quotas = np.zeros(q.size)
    hit = ["none"] * q.size
    for members, region_total in zip(region_groups, top.quotas, strict=True):
        names = sorted({str(d) for d in districts[members]})
        groups = [members[districts[members] == d] for d in names]
        middle = solve(groups, float(region_total))
        for group, district_total in zip(groups, middle.quotas, strict=True):
            leaf = apply_bounds(q[group], low[group], high[group], district_total)
            quotas[group] = leaf.quotas
            for k, flag in zip(group.tolist(), leaf.bound_hit, strict=True):
                hit[k] = flag
    return BoundedQuotas(
        quotas, top.scale, tuple(hit), top.status, target - float(quotas.sum())
    )


def realised_over_assignment(
    company_target: float,
    region_quota: Mapping[str, float],
    district_quota: Mapping[str, float],
    territory_quota: npt.ArrayLike,
) -> dict[str, float]:
    """``Σ Q_children / Σ Q_parents − 1`` per level, and over all levels.

    Returns
    -------
    dict
        ``region``, ``district``, ``territory`` and ``total`` (territories against
        T), each a fraction.
    """
    regions = math.fsum(region_quota.values())
    districts = math.fsum(district_quota.values())
    territories = float(np.sum(territory_quota))
    return {
        "region": regions / company_target - 1.0,
        "district": districts / regions - 1.0 if regions else math.nan,
        "territory": territories / districts - 1.0 if districts else math.nan,
        "total": territories / company_target - 1.0,
    }


def redistribute(
    amount: float,
    potential: npt.ArrayLike,
    headroom: npt.ArrayLike | None = None,
) -> tuple[FloatArray, float]:
    """Spread ``amount`` over receivers in proportion to potential.

    With ``headroom`` the spread is water-filled (the Q3 solve with floors 0 and
    caps at the headroom); what does not fit is returned as the remainder.

    Parameters
    ----------
    amount
        Quota to hand out, in currency.
    potential
        Potential per receiver; all zero means an even split.
    headroom
        Room per receiver, ``C_j − Q_j`` in currency (``inf`` for unlimited).

    Returns
    -------
    tuple
        The amount added per receiver and the remainder left over.
    """
    p = np.asarray(potential, dtype=np.float64)
    if p.size == 0:
        return np.zeros(0), float(amount)
    shares, _ = proportional_shares(p)
    if headroom is None:
        return amount * shares, 0.0
    room = np.maximum(np.asarray(headroom, dtype=np.float64), 0.0)
    filled = apply_bounds(shares, np.zeros(p.size), room, amount)
    return filled.quotas, max(float(amount - filled.quotas.sum()), 0.0)


@dataclass(frozen=True)
class VacancyOutcome:
    """Result of Q6 for ``hold_at_manager`` and ``redistribute``.

    ``quotas`` are the territory quotas after the move (vacant ones at 0); ``held``
    the part of each vacant territory's quota left with its parent; ``received``
    what each territory took over; ``notes`` plain-language warnings.
    """

    quotas: FloatArray
    held: FloatArray
    received: FloatArray
    notes: tuple[str, ...]


def settle_vacancies(
    quotas: npt.ArrayLike,
    territory_ids: Sequence[str],
    vacant: npt.ArrayLike,
    policy: str,
    receivers: Mapping[str, Sequence[int]],
    potential: npt.ArrayLike,
    capacity: npt.ArrayLike | None = None,
) -> VacancyOutcome:
    """Q6: move the quota of vacant territories to the parent or to receivers.

    Vacancies are settled in territory id order, each one seeing the quotas left by
    the ones before.

    Parameters
    ----------
    quotas
        Territory quotas after Q3, in currency.
    territory_ids
        Ids in the same order.
    vacant
        True for a territory without a rep.
    policy
        ``hold_at_manager`` or ``redistribute``.
    receivers
        For ``redistribute``: vacant territory id → indices of the territories that
        may take its quota (staffed ones only are used).
    potential
        Potential per territory, the redistribution key.
    capacity
        Capacity per territory in currency (NaN for unknown); when given, a
        receiver takes at most ``C_j − Q_j``.

    Returns
    -------
    VacancyOutcome
        The quotas after the move and what was held or received.
    """
    q = np.asarray(quotas, dtype=np.float64).copy()
    is_vacant = np.asarray(vacant, dtype=bool)
    p = np.asarray(potential, dtype=np.float64)
    cap = None if capacity is None else np.asarray(capacity, dtype=np.float64)
    held = np.zeros(q.size)
    received = np.zeros(q.size)
    notes: list[str] = []

    order = sorted(np.flatnonzero(is_vacant).tolist(), key=lambda i: territory_ids[i])
    for i in order:
        amount, q[i] = q[i], 0.0
        if policy == "hold_at_manager":
            held[i] = amount
            continue
        takers = np.array(
            [j for j in receivers.get(str(territory_ids[i]), ()) if not is_vacant[j]],
            dtype=np.intp,
        )
        if takers.size == 0:
            held[i] = amount
            notes.append(
                f"vacant territory {territory_ids[i]} has no staffed territory to "
                f"take its quota of {amount:,.0f}; it is held at the manager"
            )
            continue
        room = None
        if cap is not None:
            room = np.where(np.isfinite(cap[takers]), cap[takers] - q[takers], np.inf)
        added, rest = redistribute(amount, p[takers], room)
        q[takers] += added
        received[takers] += added
        held[i] = rest
        if rest > 0.0:
            notes.append(
                f"vacant territory {territory_ids[i]}: {rest:,.0f} of its quota "
                f"{amount:,.0f} did not fit in the capacity headroom of its "
                "receivers and is held at the manager"
            )
    return VacancyOutcome(q, held, received, tuple(notes))


def reconcile(
    street_total: float,
    bottom_up_total: float | None,
    capacity: npt.ArrayLike | None,
) -> dict[str, float | int | None]:
    """Q7: compare the top-down total with the bottom-up and capacity totals.

    Parameters
    ----------
    street_total
        ``T_street``, in currency.
    bottom_up_total
        ``Σ H_i (1 + g_i − r)``, or None without prior sales.
    capacity
        Capacity per staffed territory in currency, or None when unknown.

    Returns
    -------
    dict
        ``top_down_total``, ``bottom_up_total``, ``capacity_total``, ``gap_td_bu``
        (top-down minus bottom-up), ``stretch_vs_capacity`` (T_street over total
        capacity) and ``implied_extra_reps`` = ``ceil((T_street − Σ C) / mean(C))``
        when the stretch is above 1, else 0. Unknown figures are None.
    """
    report: dict[str, float | int | None] = {
        "top_down_total": street_total,
        "bottom_up_total": bottom_up_total,
        "capacity_total": None,
        "gap_td_bu": None
        if bottom_up_total is None
        else street_total - bottom_up_total,
        "stretch_vs_capacity": None,
        "implied_extra_reps": None,
    }
    if capacity is None:
        return report
    c = np.asarray(capacity, dtype=np.float64)
    if c.size == 0 or not np.isfinite(c).all() or c.sum() <= 0.0:
        return report
    capacity_total = float(c.sum())
    stretch = street_total / capacity_total
    extra = math.ceil((street_total - capacity_total) / float(c.mean()))
    report.update(
        capacity_total=capacity_total,
        stretch_vs_capacity=stretch,
        implied_extra_reps=extra if stretch > 1.0 else 0,
    )
    return report
