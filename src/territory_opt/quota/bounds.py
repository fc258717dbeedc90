"""Q3 bounds with total preservation and Q4 rounding (docs/quota.md).

- Q3: ``L_i = max(abs_min, basis_i (1 + yoy_min))``,
  ``U_i = min(abs_max, basis_i (1 + yoy_max))``; the scalar λ with
  ``Σ clamp(λ Q_i^raw, L_i, U_i) = T_street`` is found by bisection (the sum does
  not decrease in λ) and then solved exactly on the territories strictly inside
  their bounds. When the floors alone exceed the target every quota sits at its
  floor (``over_floor``); when the caps cannot reach it, at its cap
  (``under_cap``).
- Q4: ``q_i = floor(Q_i / u) u``; the ``R`` territories with the largest
  remainders get one more unit, ties by territory id; the bounds are checked again
  with a tolerance of one unit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "BoundedQuotas",
    "RoundedQuotas",
    "apply_bounds",
    "bound_violations",
    "clamp_bounds",
    "quota_bounds",
    "round_quotas",
]

FloatArray = npt.NDArray[np.float64]

# Bisection on λ stops when the bracket is this narrow relative to λ; an exact
# solve on the free territories then removes the last rounding.
_LAMBDA_RTOL = 1e-15
_MAX_BISECTIONS = 400
# Totals within this relative distance of the target count as equal to it.
_TOTAL_RTOL = 1e-12
# Remainders that agree to this many decimals count as a tie in Q4.
_REMAINDER_DECIMALS = 9


def quota_bounds(
    basis: npt.ArrayLike,
    yoy_min: float | None,
    yoy_max: float | None,
    abs_min: float | None,
    abs_max: float | None,
) -> tuple[FloatArray, FloatArray]:
    """Q3 bounds ``L_i = max(abs_min, basis_i (1 + yoy_min))`` and
    ``U_i = min(abs_max, basis_i (1 + yoy_max))``.

    A missing bound is open; a territory without a basis (NaN, for example a new
    territory) gets only the absolute bounds. Floors are never below 0.

    Returns
    -------
    tuple
        Lower and upper bound per territory, in currency.
    """
    b = np.asarray(basis, dtype=np.float64)
    has_basis = np.isfinite(b)
    lower = np.zeros(b.size)
    upper = np.full(b.size, np.inf)
    if yoy_min is not None:
        lower = np.where(has_basis, np.maximum(lower, b * (1.0 + yoy_min)), lower)
    if yoy_max is not None:
        upper = np.where(has_basis, b * (1.0 + yoy_max), upper)
    if abs_min is not None:
        lower = np.maximum(lower, abs_min)
    if abs_max is not None:
        upper = np.minimum(upper, abs_max)
    return lower, upper


@dataclass(frozen=True)
class BoundedQuotas:
    """Result of Q3.

    ``status`` is ``ok``, ``over_floor`` (the floors alone exceed the target) or
    ``under_cap`` (the caps cannot reach it); ``residual`` is target minus the sum
    of the quotas; ``bound_hit`` says ``none``, ``floor`` or ``cap`` per territory.
    """

    quotas: FloatArray
    scale: float
    bound_hit: tuple[str, ...]
    status: str
    residual: float


def apply_bounds(
    raw: npt.ArrayLike,
    lower: npt.ArrayLike,
    upper: npt.ArrayLike,
    target: float,
) -> BoundedQuotas:
    """Q3: the scale λ with ``Σ clamp(λ Q_i^raw, L_i, U_i) = target``.

    The left side does not decrease in λ, so bisection brackets λ; the exact value
    is then solved on the territories that sit strictly inside their bounds.

    Parameters
    ----------
    raw
        Quotas before bounds, at least 0, in currency.
    lower, upper
        Bounds per territory (``upper`` may be ``inf``), with ``lower <= upper``.
    target
        The total to reach, in currency.

    Returns
    -------
    BoundedQuotas
        The bounded quotas, λ, the status and the residual.
    """
    q = np.asarray(raw, dtype=np.float64)
    low = np.asarray(lower, dtype=np.float64)
    high = np.asarray(upper, dtype=np.float64)

    def total(scale: float) -> float:
        return float(np.clip(scale * q, low, high).sum())

    floor_total = total(0.0)
    ceiling = np.where(q > 0.0, high, np.clip(0.0, low, high))
    ceiling_total = float(ceiling.sum())
    # Sums taken in another order (a node's bounds) may differ by float noise.
    noise = _TOTAL_RTOL * max(abs(target), 1.0)
    if floor_total > target + noise:
        quotas = np.clip(np.zeros_like(q), low, high)
        return _bounded(quotas, q, low, high, 0.0, "over_floor", target)
    if ceiling_total < target - noise:
        return _bounded(ceiling, q, low, high, math.inf, "under_cap", target)
    if floor_total >= target - noise:
        # The floors alone make the target: λ = 0 and every quota at its floor.
        quotas = np.clip(np.zeros_like(q), low, high)
        return _bounded(quotas, q, low, high, 0.0, "ok", target)
    if ceiling_total <= target + noise:
        # Only the caps make the target: every quota that can grow sits at its cap.
        return _bounded(ceiling, q, low, high, math.inf, "ok", target)

    lo, hi = 0.0, 1.0
    while total(hi) < target:
        lo, hi = hi, hi * 2.0
    for _ in range(_MAX_BISECTIONS):
        mid = 0.5 * (lo + hi)
        if total(mid) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= _LAMBDA_RTOL * hi:
            break
    scale = _exact_scale(q, low, high, target, hi)
    quotas = np.clip(scale * q, low, high)
    return _bounded(quotas, q, low, high, scale, "ok", target)


def clamp_bounds(
    raw: npt.ArrayLike, lower: npt.ArrayLike, upper: npt.ArrayLike, target: float
) -> BoundedQuotas:
    """Clamp quotas to their bounds without rescaling (λ = 1).

    Used where quotas are not shares of the target (historical ``bottom_up`` and a
    fixed probability of attainment); the residual is the gap to ``target``.
    """
    q = np.asarray(raw, dtype=np.float64)
    low = np.asarray(lower, dtype=np.float64)
    high = np.asarray(upper, dtype=np.float64)
    return _bounded(np.clip(q, low, high), q, low, high, 1.0, "ok", target)


def _exact_scale(
    q: FloatArray, low: FloatArray, high: FloatArray, target: float, guess: float
) -> float:
    """Solve λ exactly on the territories that are free at ``guess``."""
    scaled = guess * q
    free = (scaled > low) & (scaled < high) & (q > 0.0)
    if not free.any():
        return guess
    fixed_total = float(np.clip(scaled[~free], low[~free], high[~free]).sum())
    scale = (target - fixed_total) / float(q[free].sum())
    check = scale * q[free]
    inside = (check >= low[free] * (1 - 1e-12)) & (check <= high[free] * (1 + 1e-12))
    return scale if scale > 0.0 and bool(inside.all()) else guess


def _bounded(
    quotas: FloatArray,
    raw: FloatArray,
    low: FloatArray,
    high: FloatArray,
    scale: float,
    status: str,
    target: float,
) -> BoundedQuotas:
    """Flag which bound each territory sits at and assemble the record.

    A quota equal to its bound counts as hitting it, so every territory of a node
    squeezed to the sum of its caps reports ``cap``. When floor and cap coincide,
    the side the scaled quota came from decides.
    """
    with np.errstate(invalid="ignore"):
        scaled = np.where(raw > 0.0, scale * raw, 0.0)
    at_cap = np.isfinite(high) & (quotas >= high * (1 - 1e-12))
    at_floor = (low > 0.0) & (quotas <= low * (1 + 1e-12))
    hit = np.where(
        at_cap & ~(at_floor & (scaled < high)),
        "cap",
        np.where(at_floor, "floor", "none"),
    )
    residual = target - float(quotas.sum())
    return BoundedQuotas(quotas, float(scale), tuple(hit.tolist()), status, residual)


@dataclass(frozen=True)
class RoundedQuotas:
    """Result of Q4: rounded quotas, ``residual`` = Σ rounded − Σ unrounded, and one
    plain-language line per bound breached by more than one unit."""

    quotas: FloatArray
    residual: float
    violations: tuple[str, ...]


def round_quotas(
    quotas: npt.ArrayLike,
    territory_ids: Sequence[str],
    unit: float,
    *,
    preserve_total: bool = True,
    lower: npt.ArrayLike | None = None,
    upper: npt.ArrayLike | None = None,
) -> RoundedQuotas:
    """Q4: round to multiples of ``unit`` by largest remainder.

    ``q_i = floor(Q_i / u) u``; then ``R = round(Σ Q / u) − Σ q_i / u`` territories
    with the largest remainders get one more unit, ties broken by territory id
    ascending. Without ``preserve_total`` each quota is rounded half up on its own.

    Parameters
    ----------
    quotas
        Quotas in currency.
    territory_ids
        Ids in the same order, for the tie-break and the messages.
    unit
        The rounding unit, in currency.
    preserve_total
        Keep the total (rounded to the unit); default true.
    lower, upper
        Optional bounds to check again, with a tolerance of one unit.

    Returns
    -------
    RoundedQuotas
        The rounded quotas, the residual and the bound violations.
    """
    exact = np.asarray(quotas, dtype=np.float64)
    units = exact / unit
    if preserve_total:
        # A quota that is an exact multiple up to float noise must not lose a unit.
        whole = np.floor(units + 1e-9)
        remainder = np.round(units - whole, _REMAINDER_DECIMALS)
        missing = math.floor(float(units.sum()) + 0.5) - int(whole.sum())
        order = sorted(
            range(exact.size), key=lambda i: (-remainder[i], str(territory_ids[i]))
        )
        whole[order[: max(missing, 0)]] += 1.0
    else:
        whole = np.floor(units + 0.5)
    rounded = whole * unit

    violations = bound_violations(rounded, territory_ids, lower, upper, unit)
    residual = float(rounded.sum() - exact.sum())
    return RoundedQuotas(rounded, residual, tuple(violations))


def bound_violations(
    quotas: npt.ArrayLike,
    territory_ids: Sequence[str],
    lower: npt.ArrayLike | None,
    upper: npt.ArrayLike | None,
    tolerance: float = 0.0,
) -> list[str]:
    """One plain-language line per quota beyond a bound by more than ``tolerance``.

    Parameters
    ----------
    quotas
        Final quotas in currency.
    territory_ids
        Ids in the same order.
    lower, upper
        Bounds per territory (None: not checked).
    tolerance
        Allowed excess in currency: the rounding unit after Q4; default 0, which
        still forgives float noise of one part in 10^9.
    """
    q = np.asarray(quotas, dtype=np.float64)
    violations: list[str] = []
    for bound, side in ((lower, "floor"), (upper, "cap")):
        if bound is None:
            continue
        limit = np.asarray(bound, dtype=np.float64)
        slack = np.maximum(
            tolerance, 1e-9 * np.abs(np.where(np.isfinite(limit), limit, 0))
        )
        beyond = q < limit - slack if side == "floor" else q > limit + slack
        suffix = (
            f" by more than the rounding unit {tolerance:,.0f}" if tolerance else ""
        )
        for i in np.flatnonzero(beyond).tolist():
            violations.append(
                f"territory {territory_ids[i]}: quota {q[i]:,.0f} breaks its "
                f"{side} {limit[i]:,.0f}{suffix}"
            )
    return violations
