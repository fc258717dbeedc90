"""Compensation: target incentive, payout curves, tiers, cliffs, earnings.

The formulas are stated in docs/quota.md, Compensation.

Symbols: on-target earnings ``OTE_i``, base ``base_i``, target incentive
``TI_i = OTE_i − base_i`` (or ``OTE_i (1 − pay_mix_base)``), effective quota
``Q_i^eff``, base commission rate ``BCR_i = TI_i / Q_i^eff``, attainment
``a = S / Q^eff``.

- Marginal curve ``f(a)``: piecewise-linear through the points sorted by
  attainment; at a repeated attainment the later point applies at and above it
  (right-continuous jump); below the first point ``f`` is the first payout; beyond
  the last point the slope of the last segment of positive width extends; then
  ``f = min(f, cap)``. Incentive ``TI × f(a)``.
- Retroactive tiers: ``mult(a)`` of the highest tier whose minimum ``a`` reaches;
  incentive ``BCR × S × mult(a) = TI × a × mult(a)``. Both kinds are evaluated here
  as a payout in multiples of TI, so the simulation treats them alike.
- A segment with slope above 1 (TI multiples per unit of attainment) accelerates,
  below 1 decelerates; a jump of more than ``cliff_warn × TI`` is a cliff.
- Earnings ``base_i × employed_fraction_i + incentive_i``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from territory_opt.quota.spec import CompPlanSpec, CurveSpec

__all__ = [
    "MarginalCurve",
    "Payout",
    "RetroactiveTiers",
    "Segment",
    "base_commission_rate",
    "curve_warnings",
    "earnings",
    "pay_mix",
    "payout_from_spec",
    "quarterly_incentive",
    "target_incentive",
]

FloatArray = npt.NDArray[np.float64]

# Curve segments narrower than this (in attainment) are treated as jumps.
_MIN_WIDTH = 1e-9


def target_incentive(
    ote: float, base: float | None = None, pay_mix_base: float | None = None
) -> float:
    """``TI = OTE − base``, or ``OTE × (1 − pay_mix_base)`` when base is missing.

    Parameters
    ----------
    ote
        On-target earnings, in currency.
    base
        Base salary, in currency.
    pay_mix_base
        Base as a share of OTE, used only without ``base``.

    Returns
    -------
    float
        The target incentive, in currency.

    Raises
    ------
    ValueError
        If neither ``base`` nor ``pay_mix_base`` is given.
    """
    if base is not None:
        return ote - base
    if pay_mix_base is None:
        raise ValueError("target incentive needs a base or a pay_mix_base")
    return ote * (1.0 - pay_mix_base)


def base_commission_rate(target_incentive: float, effective_quota: float) -> float:
    """``BCR = TI / Q^eff``: incentive per unit of sales at a flat rate (NaN for a
    zero quota)."""
    return target_incentive / effective_quota if effective_quota > 0 else math.nan


def pay_mix(base: float, ote: float) -> float:
    """Base share of on-target earnings, ``base / OTE``."""
    return base / ote


def earnings(
    base: npt.ArrayLike, employed_fraction: npt.ArrayLike, incentive: npt.ArrayLike
) -> FloatArray:
    """``base × employed_fraction + incentive``, in currency."""
    return np.asarray(base, dtype=np.float64) * np.asarray(
        employed_fraction, dtype=np.float64
    ) + np.asarray(incentive, dtype=np.float64)


@dataclass(frozen=True)
class Segment:
    """One piece of a payout curve.

    ``start`` and ``end`` are attainments (``end`` is ``inf`` for the extension past
    the last point); ``slope`` is in TI multiples per unit of attainment; ``kind``
    is ``accelerator`` (slope above 1), ``decelerator`` (below 1), ``neutral``
    (exactly 1), ``capped`` (flat because the cap binds) or ``jump`` (a step of
    ``jump`` TI multiples at ``start``).
    """

    start: float
    end: float
    slope: float
    kind: str
    jump: float = 0.0


def _kind(slope: float) -> str:
    if slope > 1.0:
        return "accelerator"
    return "decelerator" if slope < 1.0 else "neutral"


class Payout(Protocol):
    """A payout rule: attainment in, payout in multiples of TI out."""

    def __call__(self, attainment: npt.ArrayLike) -> FloatArray: ...

    @property
    def threshold(self) -> float: ...

    def segments(self) -> tuple[Segment, ...]: ...


@dataclass(frozen=True)
class MarginalCurve:
    """A marginal payout curve: points ``(x, y)`` and an optional cap on ``f``.

    From point k the curve rises by ``rise[k]`` over ``width[k]``; the last point
    carries the extension (the slope of the last segment at least 1e-9 wide, over a
    width of 1). Segments narrower than 1e-9 in attainment count as jumps.
    """

    x: FloatArray
    y: FloatArray
    cap: float | None = None
    rise: FloatArray = field(init=False, repr=False, compare=False)
    width: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        width = np.ones(self.x.size)
        rise = np.zeros(self.x.size)
        gaps = np.diff(self.x)
        # Zero widths are never evaluated (a lies at or past the later point).
        width[:-1] = np.where(gaps > 0, gaps, 1.0)
        rise[:-1] = np.diff(self.y)
        rise[-1] = self._extension_slope()
        object.__setattr__(self, "rise", rise)
        object.__setattr__(self, "width", width)

    def _extension_slope(self) -> float:
        """Slope of the last segment at least 1e-9 wide (0 if there is none)."""
        for k in range(self.x.size - 1, 0, -1):
            if self.x[k] - self.x[k - 1] >= _MIN_WIDTH:
                return float((self.y[k] - self.y[k - 1]) / (self.x[k] - self.x[k - 1]))
        return 0.0

    def __call__(self, attainment: npt.ArrayLike) -> FloatArray:
        """``f(a)`` for every attainment, vectorised."""
        a = np.asarray(attainment, dtype=np.float64)
        point = np.searchsorted(self.x, a, side="right") - 1
        below = point < 0
        point = np.maximum(point, 0)
        # y_k + rise_k (a − x_k) / width_k: the fraction stays below 1 inside a
        # segment, so a very narrow segment cannot overflow.
        payout = a - self.x[point]
        payout /= self.width[point]
        payout *= self.rise[point]
        payout += self.y[point]
        if below.any():
            payout = np.where(below, self.y[0], payout)
        if self.cap is not None:
            payout = np.minimum(payout, self.cap)
        return payout

    @property
    def threshold(self) -> float:
        """The lowest attainment above which the curve pays anything."""
        paying = np.flatnonzero(self.y > 0.0)
        if paying.size == 0:
            return math.inf
        k = int(paying[0])
        if k == 0:
            return 0.0
        # A rise from zero pays just above the previous point; a jump pays at itself.
        rising = self.x[k] > self.x[k - 1]
        return float(self.x[k - 1] if rising else self.x[k])

    def segments(self) -> tuple[Segment, ...]:
        """Every segment and jump between points, then the extension."""
        pieces = []
        for k in range(self.x.size - 1):
            x0, x1 = float(self.x[k]), float(self.x[k + 1])
            rise = float(self.y[k + 1] - self.y[k])
            if x1 - x0 < _MIN_WIDTH:
                if rise > 0.0:
                    pieces.append(Segment(x0, x0, math.inf, "jump", rise))
                continue
            slope = rise / (x1 - x0)
            pieces.append(Segment(x0, x1, slope, _kind(slope)))
        last_x, last_y = float(self.x[-1]), float(self.y[-1])
        slope = self._extension_slope()
        if self.cap is None or slope <= 0.0:
            pieces.append(Segment(last_x, math.inf, slope, _kind(slope)))
            return tuple(pieces)
        capped_at = last_x + max(self.cap - last_y, 0.0) / slope
        if capped_at > last_x:
            pieces.append(Segment(last_x, capped_at, slope, _kind(slope)))
        pieces.append(Segment(capped_at, math.inf, 0.0, "capped"))
        return tuple(pieces)


@dataclass(frozen=True)
class RetroactiveTiers:
    """Retroactive tiers: minimum attainment and multiplier of each tier."""

    minimums: FloatArray
    multipliers: FloatArray

    def multiplier(self, attainment: npt.ArrayLike) -> FloatArray:
        """``mult(a)``: the multiplier of the highest tier reached (0 below all)."""
        a = np.asarray(attainment, dtype=np.float64)
        tier = np.searchsorted(self.minimums, a, side="right") - 1
        return np.where(tier >= 0, self.multipliers[np.maximum(tier, 0)], 0.0)

    def __call__(self, attainment: npt.ArrayLike) -> FloatArray:
        """Payout in TI multiples, ``a × mult(a)``."""
        a = np.asarray(attainment, dtype=np.float64)
        return a * self.multiplier(a)

    @property
    def threshold(self) -> float:
        """The minimum of the first tier that pays."""
        paying = np.flatnonzero(self.multipliers > 0.0)
        return float(self.minimums[paying[0]]) if paying.size else math.inf

    def segments(self) -> tuple[Segment, ...]:
        """Per tier: its rate (slope of ``a × mult``) and the jump at its minimum."""
        pieces = []
        for k, (low, mult) in enumerate(
            zip(self.minimums.tolist(), self.multipliers.tolist(), strict=True)
        ):
            previous = float(self.multipliers[k - 1]) if k else 0.0
            step = low * (mult - previous)
            if step > 0.0:
                pieces.append(Segment(low, low, math.inf, "jump", step))
            end = (
                float(self.minimums[k + 1]) if k + 1 < self.minimums.size else math.inf
            )
            pieces.append(Segment(low, end, mult, _kind(mult)))
        return tuple(pieces)


def payout_from_spec(curve: CurveSpec) -> MarginalCurve | RetroactiveTiers:
    """Build the payout rule of a validated curve specification."""
    if curve.semantics == "marginal":
        points = np.asarray(curve.points, dtype=np.float64)
        return MarginalCurve(points[:, 0].copy(), points[:, 1].copy(), curve.cap)
    tiers = np.asarray(curve.tiers, dtype=np.float64)
    return RetroactiveTiers(tiers[:, 0].copy(), tiers[:, 1].copy())


def curve_warnings(plan: CompPlanSpec) -> list[str]:
    """Plain-language warnings about a comp plan's curve.

    A cliff is a jump in payout larger than ``cliff_warn × TI``: one more deal just
    below the boundary changes pay by that much. A standard curve pays exactly TI
    at quota, so ``f(1) ≠ 1`` is reported too.
    """
    payout = payout_from_spec(plan.curve)
    warnings = []
    for piece in payout.segments():
        if piece.kind == "jump" and piece.jump > plan.cliff_warn:
            warnings.append(
                f"comp plan {plan.id}: payout jumps by {piece.jump:.4g} × TI at "
                f"attainment {piece.start:.4g}, above the cliff limit of "
                f"{plan.cliff_warn:g} × TI; a rep just below it gains that much from "
                "one more deal"
            )
    at_quota = float(payout(np.array([1.0]))[0])
    if abs(at_quota - 1.0) > 1e-9:
        warnings.append(
            f"comp plan {plan.id}: the curve pays {at_quota:.4g} × TI at 100 % "
            "attainment; a standard plan pays exactly 1 × TI at quota"
        )
    return warnings


def quarterly_incentive(
    target: npt.ArrayLike,
    sales: npt.ArrayLike,
    quotas: npt.ArrayLike,
    payout: Payout,
    weights: Sequence[float] | None = None,
) -> FloatArray:
    """Incentive of a quarterly plan: ``Σ_q TI w_q f(S_q / Q_q)``.

    Parameters
    ----------
    target
        Target incentive per rep (annual), in currency.
    sales
        Sales per rep and quarter, shape ``(reps, 4)``, in currency.
    quotas
        Quotas per rep and quarter, same shape; a quarter with zero quota (not
        employed) pays nothing.
    payout
        The payout rule.
    weights
        Share of TI at stake per quarter; default 1/4 each.

    Returns
    -------
    numpy.ndarray
        Incentive per rep, in currency.
    """
    s = np.asarray(sales, dtype=np.float64)
    q = np.asarray(quotas, dtype=np.float64)
    w = np.full(4, 0.25) if weights is None else np.asarray(weights, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        attainment = np.where(q > 0.0, s / q, 0.0)
    paid = np.where(q > 0.0, payout(attainment), 0.0)
    return np.asarray(target, dtype=np.float64) * (paid * w).sum(axis=-1)
