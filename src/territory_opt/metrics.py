"""Balance and disruption metrics of an alignment.

Every function here is pure: it reads one-dimensional numeric sequences (a list, a
tuple, a numpy array or a pandas Series, one entry per territory, rep or account) and
returns plain Python numbers. Nothing is cached and no input is changed.

Balance of a vector ``x_1, ..., x_n`` over territories:

- ``mean`` and ``std`` (population standard deviation, ddof 0);
- ``cv = std / mean`` (coefficient of variation);
- ``max_min_ratio = max / min``;
- ``gini = sum_i sum_j |x_i - x_j| / (2 n^2 mean)``;
- ``within_tolerance_share``: the share of entries with ``|x_i - c| / c <= tol``,
  where ``c`` is the mean or the median of ``x``;
- ``within_target_share``: the share of entries with ``|v_i - t_i| / t_i <= tol``
  against a per-territory target ``t``.

Disruption compares the current alignment with the proposed one over the accounts
that have a current territory: the share of accounts that move, and the share of any
account weight (revenue, potential, workload) that moves with them.

All shares are fractions (0.10 means 10 %). Tests against a tolerance band count an
entry that lies on the band edge as inside: a slack of 1e-12 times the reference value
absorbs the rounding of floating-point arithmetic.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "balance_summary",
    "cv",
    "disruption_shares",
    "gini",
    "max_min_ratio",
    "mean",
    "relative_deviation",
    "std",
    "within_target_share",
    "within_tolerance_share",
]

FloatArray = npt.NDArray[np.float64]

# Relative slack so that a value computed to sit exactly on a band edge counts as
# inside even when floating-point rounding lands it a few ulps outside.
_BOUNDARY_EPS = 1e-12

# Tolerances reported by balance_summary, as (key, share).
_SUMMARY_TOLERANCES = (
    ("within_5pct_share", 0.05),
    ("within_10pct_share", 0.10),
    ("within_15pct_share", 0.15),
)

_SHOWN_POSITIONS = 5


def mean(x: npt.ArrayLike) -> float:
    """Arithmetic mean of the values.

    Parameters
    ----------
    x
        One-dimensional values, for example potential per territory.

    Returns
    -------
    float
        The mean, in the unit of ``x``.

    Raises
    ------
    ValueError
        If ``x`` is empty, not one-dimensional, or holds NaN or an infinite value.
    """
    return float(np.mean(_as_values(x, "x")))


def std(x: npt.ArrayLike) -> float:
    """Population standard deviation of the values (ddof 0).

    Parameters
    ----------
    x
        One-dimensional values.

    Returns
    -------
    float
        The standard deviation, in the unit of ``x``; 0.0 for a single value.

    Raises
    ------
    ValueError
        If ``x`` is empty, not one-dimensional, or holds NaN or an infinite value.
    """
    return float(np.std(_as_values(x, "x")))


def cv(x: npt.ArrayLike) -> float:
    """Coefficient of variation: population standard deviation over the mean.

    Parameters
    ----------
    x
        One-dimensional values.

    Returns
    -------
    float
        ``std(x) / mean(x)``, a unitless ratio. It is NaN when the mean is exactly
        zero, where the ratio has no meaning (this includes all-zero input), and
        negative when the mean is negative.

    Raises
    ------
    ValueError
        If ``x`` is empty, not one-dimensional, or holds NaN or an infinite value.
    """
    return _cv(_as_values(x, "x"))


def max_min_ratio(x: npt.ArrayLike) -> float:
    """Ratio of the largest value to the smallest.

    Parameters
    ----------
    x
        One-dimensional non-negative values.

    Returns
    -------
    float
        ``max(x) / min(x)``, at least 1.0. It is ``math.inf`` when the smallest value
        is zero and the largest is positive, and 1.0 when every value is zero (all
        territories are equal).

    Raises
    ------
    ValueError
        If ``x`` is empty, not one-dimensional, holds NaN or an infinite value, or
        holds a negative value.
    """
    values = _as_values(x, "x")
    _require_non_negative(values, "x")
    return _max_min_ratio(values)


def gini(x: npt.ArrayLike) -> float:
    """Gini coefficient of the values.

    The definition is ``sum_i sum_j |x_i - x_j| / (2 n^2 mean)``. It is evaluated in
    O(n log n) time: with the values sorted ascending as ``s_1 <= ... <= s_n``, the
    double sum equals ``2 sum_k (2k - n - 1) s_k``.

    Parameters
    ----------
    x
        One-dimensional non-negative values.

    Returns
    -------
    float
        A unitless number between 0.0 (all values equal) and ``1 - 1/n`` (one value
        holds everything). It is 0.0 when every value is zero.

    Raises
    ------
    ValueError
        If ``x`` is empty, not one-dimensional, holds NaN or an infinite value, or
        holds a negative value.
    """
    values = _as_values(x, "x")
    _require_non_negative(values, "x")
    return _gini(values)


def within_tolerance_share(
    x: npt.ArrayLike,
    tol: float,
    center: Literal["mean", "median"] = "mean",
) -> float:
    """Share of values that lie within a relative band around their centre.

    An entry counts when ``|x_i - c| <= (tol + 1e-12) * |c|``, where ``c`` is the
    mean or the median of ``x``. The 1e-12 slack keeps entries that sit on the band
    edge inside despite rounding.

    Parameters
    ----------
    x
        One-dimensional values.
    tol
        Half-width of the band as a fraction of the centre, for example 0.10 for
        ±10 %. Must be zero or positive.
    center
        ``"mean"`` (the default) or ``"median"``.

    Returns
    -------
    float
        The share of entries inside the band, between 0.0 and 1.0. It is NaN when the
        centre is exactly zero, where a relative band has no meaning.

    Raises
    ------
    ValueError
        If ``x`` is empty, not one-dimensional, or holds NaN or an infinite value; if
        ``tol`` is negative or not finite; or if ``center`` is not ``"mean"`` or
        ``"median"``.
    """
    values = _as_values(x, "x")
    tolerance = _as_tolerance(tol)
    if center == "mean":
        reference = float(np.mean(values))
    elif center == "median":
        reference = float(np.median(values))
    else:
        raise ValueError(f"center must be 'mean' or 'median'; got {center!r}")

    if reference == 0.0:
        return math.nan
    deviation_share = np.abs(values - reference) / abs(reference)
    return _share_within(deviation_share, tolerance)


def within_target_share(
    values: npt.ArrayLike, targets: npt.ArrayLike, tol: float
) -> float:
    """Share of territories whose value lies within a relative band of its target.

    An entry counts when ``|v_i - t_i| <= (tol + 1e-12) * t_i``; the 1e-12 slack keeps
    entries that sit on the band edge inside despite rounding.

    Parameters
    ----------
    values
        One-dimensional values per territory, for example potential.
    targets
        Target per territory in the unit of ``values``, in the same order. Every
        target must be positive.
    tol
        Half-width of the band as a fraction of the target, for example 0.05 for
        ±5 %. Must be zero or positive.

    Returns
    -------
    float
        The share of territories inside their band, between 0.0 and 1.0.

    Raises
    ------
    ValueError
        If either sequence is empty, not one-dimensional, or holds NaN or an infinite
        value; if their lengths differ; if a target is zero or negative (the message
        names its position); or if ``tol`` is negative or not finite.
    """
    actual, target = _as_value_target_pair(values, targets)
    tolerance = _as_tolerance(tol)
    return _share_within(np.abs(actual - target) / target, tolerance)


def relative_deviation(values: npt.ArrayLike, targets: npt.ArrayLike) -> FloatArray:
    """Signed deviation of each value from its target, as a share of the target.

    Parameters
    ----------
    values
        One-dimensional values per territory.
    targets
        Target per territory in the unit of ``values``, in the same order. Every
        target must be positive.

    Returns
    -------
    numpy.ndarray
        ``(values - targets) / targets`` as float64, one entry per territory; 0.10
        means 10 % above target.

    Raises
    ------
    ValueError
        If either sequence is empty, not one-dimensional, or holds NaN or an infinite
        value; if their lengths differ; or if a target is zero or negative.
    """
    actual, target = _as_value_target_pair(values, targets)
    return (actual - target) / target


def balance_summary(values: npt.ArrayLike, targets: npt.ArrayLike) -> dict[str, float]:
    """Balance metrics of one measure (potential, workload, ...) across territories.

    Parameters
    ----------
    values
        One-dimensional non-negative values per territory.
    targets
        Target per territory in the unit of ``values``, in the same order. Every
        target must be positive.

    Returns
    -------
    dict
        With keys:

        - ``mean``, ``std`` (ddof 0), ``cv``, ``max_min_ratio`` and ``gini`` of
          ``values``, as returned by the functions of the same name;
        - ``within_5pct_share``, ``within_10pct_share``, ``within_15pct_share``: the
          share of territories within ±5 %, ±10 % and ±15 % of their own target;
        - ``max_abs_deviation_share`` and ``mean_abs_deviation_share``: the largest
          and the mean of ``|v_i - t_i| / t_i``.

    Raises
    ------
    ValueError
        If either sequence is empty, not one-dimensional, or holds NaN or an infinite
        value; if their lengths differ; if a value is negative; or if a target is
        zero or negative.
    """
    actual, target = _as_value_target_pair(values, targets)
    _require_non_negative(actual, "values")
    abs_deviation_share = np.abs(actual - target) / target

    summary = {
        "mean": float(np.mean(actual)),
        "std": float(np.std(actual)),
        "cv": _cv(actual),
        "max_min_ratio": _max_min_ratio(actual),
        "gini": _gini(actual),
    }
    for key, tolerance in _SUMMARY_TOLERANCES:
        summary[key] = _share_within(abs_deviation_share, tolerance)
    summary["max_abs_deviation_share"] = float(np.max(abs_deviation_share))
    summary["mean_abs_deviation_share"] = float(np.mean(abs_deviation_share))
    return summary


def disruption_shares(
    previous: Iterable[Hashable | None],
    proposed: Iterable[Hashable | None],
    weights: Mapping[str, npt.ArrayLike] | None = None,
) -> dict[str, float]:
    """How much of the current alignment the proposed one changes.

    An account moves when its proposed territory id differs from its current one;
    ids are compared with ``==`` as given, so a renamed territory counts as a move.
    Accounts with no current territory (``None``, ``""`` or a missing value such as
    NaN or ``pandas.NA``) are left out of every numerator and denominator.

    Parameters
    ----------
    previous
        Current territory id per account.
    proposed
        Proposed territory id per account, in the same order. Every account needs
        one.
    weights
        Optional account weights by name, for example
        ``{"revenue": revenue_per_account}``; each is a sequence of non-negative
        numbers in the same order as the accounts. The name ``"accounts"`` is
        reserved.

    Returns
    -------
    dict
        ``accounts_moved`` and ``accounts_compared`` (counts, as ints),
        ``accounts_moved_share`` (moved over compared), and for each weight name
        ``<name>_moved_share``: the weight of the moved accounts over the weight of
        the compared accounts. A share is 0.0 when its denominator is zero.

    Raises
    ------
    ValueError
        If the sequences are empty or differ in length; if a proposed id is missing;
        or if a weight is named ``"accounts"``, has the wrong length, or holds NaN,
        an infinite or a negative value.
    """
    current = list(previous)
    new = list(proposed)
    if not current:
        raise ValueError("previous needs at least one value; got an empty sequence")
    if len(current) != len(new):
        raise ValueError(
            "previous and proposed must have one entry per account; got "
            f"{len(current)} and {len(new)} entries"
        )
    unassigned = [i for i, territory in enumerate(new) if _is_missing_id(territory)]
    if unassigned:
        raise ValueError(
            f"proposed has no territory at position {unassigned[0]}"
            f"{_more_positions(unassigned, 'without one')}; every account needs a "
            "proposed territory"
        )

    compared = np.array([not _is_missing_id(territory) for territory in current])
    moved = np.array(
        [
            bool(is_compared and old != new_territory)
            for is_compared, old, new_territory in zip(
                compared, current, new, strict=True
            )
        ]
    )
    accounts_compared = int(compared.sum())
    accounts_moved = int(moved.sum())
    shares: dict[str, float] = {
        "accounts_moved": accounts_moved,
        "accounts_compared": accounts_compared,
        "accounts_moved_share": _ratio_or_zero(accounts_moved, accounts_compared),
    }

    for name, weight in (weights or {}).items():
        if name == "accounts":
            raise ValueError(
                "the weight name 'accounts' is reserved for the account counts; "
                "rename that weight"
            )
        label = f"weights[{name!r}]"
        weight_values = _as_values(weight, label)
        if weight_values.size != len(current):
            raise ValueError(
                f"{label} must have one entry per account ({len(current)}); "
                f"got {weight_values.size}"
            )
        _require_non_negative(weight_values, label)
        shares[f"{name}_moved_share"] = _ratio_or_zero(
            float(weight_values[moved].sum()), float(weight_values[compared].sum())
        )
    return shares


def _cv(values: FloatArray) -> float:
    """Coefficient of variation of validated values; NaN for a zero mean."""
    average = float(np.mean(values))
    if average == 0.0:
        return math.nan
    return float(np.std(values)) / average


def _max_min_ratio(values: FloatArray) -> float:
    """Max over min of validated non-negative values."""
    largest = float(np.max(values))
    smallest = float(np.min(values))
    if largest == 0.0:
        return 1.0
    if smallest == 0.0:
        return math.inf
    return largest / smallest


def _gini(values: FloatArray) -> float:
    """Gini coefficient of validated non-negative values, via one sort."""
    ordered = np.sort(values)
    total = float(ordered.sum())
    if total == 0.0:
        return 0.0

    n = ordered.size
    rank_weight = 2.0 * np.arange(1, n + 1) - n - 1
    coefficient = float(np.dot(rank_weight, ordered)) / (n * total)
    # Equal values can leave a rounding residue of either sign instead of zero.
    return max(coefficient, 0.0)


def _share_within(deviation_share: FloatArray, tolerance: float) -> float:
    """Share of relative deviations that do not exceed the tolerance."""
    inside = deviation_share <= tolerance + _BOUNDARY_EPS
    return float(np.mean(inside))


def _ratio_or_zero(numerator: float, denominator: float) -> float:
    """numerator / denominator, or 0.0 when the denominator is zero."""
    return numerator / denominator if denominator > 0 else 0.0


def _is_missing_id(territory: object) -> bool:
    """Whether an alignment entry stands for "no territory"."""
    if territory is None or territory is pd.NA:
        return True
    if isinstance(territory, str):
        return territory == ""
    if isinstance(territory, float):
        return math.isnan(territory)
    return False


def _as_values(x: npt.ArrayLike, name: str) -> FloatArray:
    """Validate a one-dimensional, non-empty, all-finite numeric sequence."""
    try:
        values = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must hold numbers only; convert or drop entries such as text "
            "before computing metrics"
        ) from error
    if values.ndim != 1:
        raise ValueError(
            f"{name} must be one-dimensional; got an array of shape {values.shape}"
        )
    if values.size == 0:
        raise ValueError(f"{name} needs at least one value; got an empty sequence")

    non_finite = np.flatnonzero(~np.isfinite(values))
    if non_finite.size:
        first = int(non_finite[0])
        kind = "NaN" if math.isnan(values[first]) else "an infinite value"
        raise ValueError(
            f"{name} holds {kind} at position {first}"
            f"{_more_positions(non_finite.tolist(), 'non-finite')}; drop or fill "
            "missing values first"
        )
    return values


def _as_value_target_pair(
    values: npt.ArrayLike, targets: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Validate values and positive targets of equal length."""
    actual = _as_values(values, "values")
    target = _as_values(targets, "targets")
    if actual.size != target.size:
        raise ValueError(
            "values and targets must have one entry per territory each; got "
            f"{actual.size} values and {target.size} targets"
        )

    non_positive = np.flatnonzero(target <= 0.0)
    if non_positive.size:
        first = int(non_positive[0])
        raise ValueError(
            f"targets must be positive; targets[{first}] is {target[first]:g}"
            f"{_more_positions(non_positive.tolist(), 'non-positive')}; give every "
            "territory a target above zero or leave it out"
        )
    return actual, target


def _require_non_negative(values: FloatArray, name: str) -> None:
    """Raise if any validated value is negative, naming the first position."""
    negative = np.flatnonzero(values < 0.0)
    if negative.size:
        first = int(negative[0])
        raise ValueError(
            f"{name} must be non-negative; {name}[{first}] is {values[first]:g}"
            f"{_more_positions(negative.tolist(), 'negative')}"
        )


def _as_tolerance(tol: float) -> float:
    """Validate a tolerance share: finite and not negative."""
    tolerance = float(tol)
    if not math.isfinite(tolerance) or tolerance < 0.0:
        raise ValueError(
            f"tol must be a non-negative finite share such as 0.10; got {tol!r}"
        )
    return tolerance


def _more_positions(positions: list[int], kind: str) -> str:
    """A clause listing all offending positions when there is more than one.

    The first few are shown with a count of the rest, as " (3 negative in all, at
    positions 1, 4, 7)"; a single offender gives an empty clause.
    """
    if len(positions) < 2:
        return ""
    shown = ", ".join(str(p) for p in positions[:_SHOWN_POSITIONS])
    rest = len(positions) - _SHOWN_POSITIONS
    if rest > 0:
        shown += f" and {rest} more"
    return f" ({len(positions)} {kind} in all, at positions {shown})"
