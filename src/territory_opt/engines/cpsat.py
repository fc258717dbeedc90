"""CP-SAT backend (OR-Tools), with exact-or-outward integer scaling.

CP-SAT works on integers. Each metric's values are multiplied by a power of ten
S[m], the smallest one under which every value is an integer (so decimal data
such as 2.25 hours stays exact), or else the largest one that keeps the metric's
total below 1e12; the worst rounding error per account is then 0.5 / S[m] and is
reported. Band, capacity and budget limits are rounded *outward* by the row's
worst-case accumulated rounding error, so that no alignment that is feasible in
exact arithmetic is cut off; the independent checker then verifies the exact
limits. Deviations from target are measured in units of 1/D of a scaled value,
D a power of ten (at most 10^6) that makes the target an integer where it can;
otherwise the target's rounding error is reported. The objective is multiplied
by a power of ten K chosen so that its largest possible value stays below 2^53,
and its coefficients rounded to
integers; the objective reported is recomputed exactly from the alignment.
"""

from __future__ import annotations

import logging
import math
import time
from importlib import metadata
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

from territory_opt.errors import InputError
from territory_opt.model import Row, TerritoryModel
from territory_opt.result import EngineOutcome, Status
from territory_opt.scenario import SolverSpec

logger = logging.getLogger(__name__)

VALUE_TOTAL_LIMIT = 1e12
OBJECTIVE_LIMIT = 2.0**53
EXACT_TOLERANCE = 1e-9


def value_scale(values: np.ndarray) -> tuple[float, float]:
    """Power of ten S for ``values`` and the worst rounding error per value (units).

    Returns the smallest S = 10^k (k from -6 to 12) under which every value is an
    integer to within 1e-9 (relative), as long as the scaled total stays at most 1e12;
    otherwise the largest S that keeps the total at most 1e12.
    """
    with np.errstate(over="ignore"):
        total = float(np.abs(values).sum())
    if total == 0:
        return 1.0, 0.0
    if not math.isfinite(total):
        return 1.0, math.inf
    with np.errstate(over="ignore"):
        room = VALUE_TOTAL_LIMIT / total
    if not math.isfinite(room):
        # Values below ~1e-300 (denormals): they round to zero at any scale.
        return 1.0, float(np.abs(values).max())
    power = math.floor(math.log10(room))
    best = 10.0 ** min(max(power, -300), 12)
    for k in range(-6, 13):
        scale = 10.0**k
        if total * scale > VALUE_TOTAL_LIMIT:
            break
        scaled = values * scale
        off = np.abs(scaled - np.round(scaled))
        if (off <= EXACT_TOLERANCE * np.maximum(1.0, np.abs(scaled))).all():
            return scale, 0.0
    error = float(np.abs(values * best - np.round(values * best)).max()) / best
    return best, error


def target_scale(target: float, magnitude: float) -> tuple[int, int, float]:
    """Power of ten D that makes ``target`` × D an integer, within a safe range.

    The deviation |Σ − τ| is measured in units of 1/D of a scaled value, so that
    a fractional target such as 502.75 stays exact (D = 100). D stops at 10^6,
    or earlier where D × ``magnitude`` would pass 1e15; the rounding error left,
    in scaled units, is returned with D and the integer target.
    """
    refine = 1
    while True:
        exact = target * refine
        if abs(exact - round(exact)) <= EXACT_TOLERANCE * max(1.0, abs(exact)):
            return refine, round(exact), 0.0
        if refine >= 10**6 or refine * 10 * max(magnitude, 1.0) > 1e15:
            return refine, round(exact), abs(exact - round(exact)) / refine
        refine *= 10


RANGE_SHARE = 0.01


def check_integer_range(model: TerritoryModel) -> list[str]:
    """Check every row's scaled sums against CP-SAT's exact integer range.

    Returns one note per metric that had to be rounded (values scaled by a
    power of ten whose total stays at most 1e12), with the rounding error.

    Raises
    ------
    InputError
        When a metric cannot be scaled without its rounding moving a
        territory's sum by more than 1 % of its band half-width (or of its
        capacity), naming the metric; or when its values overflow.
    """
    notes: list[str] = []
    rows_by_key: dict[str, list[Row]] = {}
    for row in (*model.rows, *model.peak_rows):
        rows_by_key.setdefault(f"{row.kind}:{row.metric}", []).append(row)
    for key, rows in rows_by_key.items():
        kind, metric = key.split(":", 1)
        values = np.concatenate([r.coef for r in rows])
        scale, error = value_scale(values)
        if error == 0:
            continue
        if not math.isfinite(error):
            raise InputError(
                f"metric '{metric}': its values add up to more than a float can "
                f"hold; rescale the column (for example to thousands or millions)"
            )
        worst_sum = error * max(len(r.coef) for r in rows)
        for row in rows:
            room = (
                (row.upper - row.lower) / 2
                if kind == "band"
                else abs(row.upper)
                if math.isfinite(row.upper)
                else math.inf
            )
            if worst_sum > RANGE_SHARE * room:
                raise InputError(
                    f"metric '{metric}': CP-SAT holds sums exactly only up to "
                    f"{VALUE_TOTAL_LIMIT:.0e}, so its values would be rounded "
                    f"to multiples of {1 / scale:.3g}, which can move the sum of "
                    f"{row.name} by {worst_sum:.3g}, more than 1% of its room of "
                    f"{room:.3g}. Rescale the column (for example to thousands) "
                    f"or use solver.engine: highs"
                )
        notes.append(
            f"metric '{metric}' ({kind} rows) rounded to multiples of {1 / scale:.3g} "
            f"for CP-SAT: at most {error:.3g} per account"
        )
    return notes


def _outward(row: Row, scale: float, coef_int: np.ndarray) -> tuple[int, int]:
    err = float(np.abs(coef_int - row.coef * scale).sum())
    slack = err + 1e-9 * max(1.0, float(np.abs(coef_int).sum()))
    # A limit beyond what any sum can reach is no limit: clamp it to the int64
    # range that CP-SAT accepts.
    reach = 2**62
    low = -reach if not np.isfinite(row.lower) else math.ceil(row.lower * scale - slack)
    high = (
        reach if not np.isfinite(row.upper) else math.floor(row.upper * scale + slack)
    )
    return max(low, -reach), min(high, reach)


def solve_cpsat(
    model: TerritoryModel, spec: SolverSpec, hint: np.ndarray | None = None
) -> EngineOutcome:
    """Solve with CP-SAT; see the module docstring for the scaling.

    ``hint`` is a 0/1 value per pair to start from (for example the previous
    round's solution); without it the current alignment is the hint.
    """
    start = time.perf_counter()
    cp = cp_model.CpModel()
    x = [cp.new_bool_var(f"x{p}") for p in range(model.n_pairs)]

    # Assignment: every account in exactly one territory.
    for pairs in model.account_pairs:
        cp.add_exactly_one(x[p] for p in pairs)

    # Band, capacity and budget rows, scaled per metric; deviations for the objective.
    scales: dict[str, tuple[float, float]] = {}
    deviations: list[tuple[cp_model.IntVar, float, int]] = []
    target_error = 0.0
    for row in model.rows:
        key = f"{row.kind}:{row.metric}"
        if key not in scales:
            same = [r.coef for r in model.rows if f"{r.kind}:{r.metric}" == key]
            every = np.concatenate(same)
            scales[key] = value_scale(every)
        scale = scales[key][0]
        coef = np.round(row.coef * scale).astype(np.int64)
        expr = cp_model.LinearExpr.weighted_sum(
            [x[p] for p in row.pairs], [int(c) for c in coef]
        )
        low, high = _outward(row, scale, coef)
        cp.add_linear_constraint(expr, low, high)
        if row.deviation_weight > 0:
            refine, target, miss = target_scale(
                row.target * scale, max(abs(low), abs(high))
            )
            target_error = max(target_error, miss / (scale * refine))
            bound = refine * max(high, -low) + abs(target)
            floor = _deviation_floor(coef, refine, target)
            dev = cp.new_int_var(min(floor, bound), bound, f"e_{row.name}")
            cp.add(dev >= refine * expr - target)
            cp.add(dev >= target - refine * expr)
            weight = row.deviation_weight / (scale * refine)
            deviations.append((dev, weight, refine * max(high - low, 0)))

    # Families stay together.
    for i, j in model.family_links:
        cp.add(x[i] == x[j])

    # Cut edges: y ≥ |x[u, t] − x[v, t]| for every territory.
    cut_vars = []
    for e, (pu, pv) in enumerate(model.edge_pairs):
        y = cp.new_bool_var(f"y{e}")
        for i, j in zip(pu.tolist(), pv.tolist(), strict=True):
            if i >= 0 and j >= 0:
                cp.add(y >= x[i] - x[j])
                cp.add(y >= x[j] - x[i])
            elif i >= 0 or j >= 0:
                cp.add(y >= x[max(i, j)])
        cut_vars.append(y)

    # Peak workload: z ≥ the scaled workload of every territory.
    peak: list[tuple[cp_model.IntVar, float, int]] = []
    if model.peak_rows:
        every = np.concatenate([r.coef for r in model.peak_rows])
        scale, error = value_scale(every)
        scales["peak:workload_hours"] = (scale, error)
        most = int(np.round(every * scale).sum()) + 1
        z = cp.new_int_var(0, most, "peak")
        for row in model.peak_rows:
            coef = np.round(row.coef * scale).astype(np.int64)
            cp.add(
                z
                >= cp_model.LinearExpr.weighted_sum(
                    [x[p] for p in row.pairs], [int(c) for c in coef]
                )
            )
        peak.append((z, model.peak_weight / scale, most))

    # Objective, scaled to integers by K.
    upper = sum(float(model.pair_cost[p].max()) for p in model.account_pairs if len(p))
    upper += sum(w * b for _, w, b in deviations + peak)
    upper += model.cut_edge_weight * len(cut_vars)
    k_scale = 10.0 ** math.floor(math.log10(OBJECTIVE_LIMIT / max(upper, 1e-12)))
    k_scale = min(k_scale, 1e15)
    pair_int = np.round(model.pair_cost * k_scale).astype(np.int64)
    objective_vars = list(x) + [d for d, _, _ in deviations + peak] + cut_vars
    objective_coef = [int(c) for c in pair_int]
    objective_coef += [int(round(w * k_scale)) for _, w, _ in deviations + peak]
    objective_coef += [int(round(model.cut_edge_weight * k_scale))] * len(cut_vars)
    cp.minimize(cp_model.LinearExpr.weighted_sum(objective_vars, objective_coef))
    coef_error = _relative_rounding(
        np.concatenate([model.pair_cost, [w for _, w, _ in deviations + peak]]),
        k_scale,
    )

    # Warm start from the hint, or else from the current alignment.
    problem = model.problem
    if hint is not None:
        for p, value in enumerate(hint.tolist()):
            cp.add_hint(x[p], int(value > 0.5))
    else:
        current = problem.current[problem.pair_account]
        for q in np.nonzero(current == problem.pair_territory)[0].tolist():
            cp.add_hint(x[q], 1)

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = spec.time_limit_s
    solver.parameters.random_seed = spec.seed
    solver.parameters.num_workers = spec.threads
    solver.parameters.relative_gap_limit = spec.relative_gap
    build_s = time.perf_counter() - start
    code = _solve_interruptibly(solver, cp)
    runtime = time.perf_counter() - start

    details = {
        "value_scales": {k: v[0] for k, v in scales.items()},
        "value_rounding_error": {k: v[1] for k, v in scales.items()},
        "objective_scale": k_scale,
        "target_rounding_error": target_error,
        "objective_coefficient_relative_error": coef_error,
        "build_s": round(build_s, 3),
    }
    status_name = solver.status_name(code)
    values: np.ndarray | None = None
    objective: float | None = None
    best_bound: float | None = None
    if code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = np.array([solver.boolean_value(v) for v in x], dtype=float)
        objective = solver.objective_value / k_scale
        best_bound = solver.best_objective_bound / k_scale
    status = {
        cp_model.OPTIMAL: Status.OPTIMAL,
        cp_model.FEASIBLE: Status.FEASIBLE,
        cp_model.INFEASIBLE: Status.INFEASIBLE,
        cp_model.MODEL_INVALID: Status.ERROR,
    }.get(code, Status.NO_SOLUTION)
    message = ""
    if code == cp_model.MODEL_INVALID:
        message = f"CP-SAT rejected the model: {cp.validate()}"
    logger.info("cpsat: %s in %.2f s", status_name, runtime)
    return EngineOutcome(
        status=status,
        engine="cpsat",
        solver_version=f"ortools {metadata.version('ortools')}",
        runtime_s=runtime,
        pair_values=values,
        objective=objective,
        best_bound=best_bound,
        solver_status=status_name,
        message=message,
        details=details,
    )


def _deviation_floor(coef: np.ndarray, refine: int, target: int) -> int:
    """Least possible |refine × Σ coef x − target| over 0/1 x, from divisibility.

    Every sum is a multiple of g = refine × gcd(coef), so the deviation is at
    least the distance from ``target`` to the nearest multiple of g. Stating it
    lets CP-SAT prove, say, that integer loads miss a target of 52.5 by 0.5.
    """
    nonzero = np.abs(coef[coef != 0]).astype(np.int64)
    if len(nonzero) == 0:
        return abs(target)
    step = refine * int(np.gcd.reduce(nonzero))
    rest = target % step
    return int(min(rest, step - rest))


def _relative_rounding(coef: np.ndarray, scale: float) -> float:
    nonzero = coef[coef != 0]
    if len(nonzero) == 0:
        return 0.0
    scaled = nonzero * scale
    return float((np.abs(np.round(scaled) - scaled) / np.abs(scaled)).max())


def _solve_interruptibly(solver: cp_model.CpSolver, cp: cp_model.CpModel) -> Any:
    """``solver.solve(cp)``, with Ctrl-C passed on as KeyboardInterrupt.

    CP-SAT catches SIGINT itself: it stops the search and returns its incumbent
    as FEASIBLE (or UNKNOWN without one), as if the time limit had ended it, and
    the run would be saved. Without a solution limit, those statuses come back
    before the time limit only after such a stop, so that is read as an
    interruption.
    """
    code = solver.solve(cp)
    limit = solver.parameters.max_time_in_seconds
    stopped = code in (cp_model.FEASIBLE, cp_model.UNKNOWN)
    if stopped and solver.wall_time < 0.95 * limit - 0.5:
        raise KeyboardInterrupt("CP-SAT search stopped by Ctrl-C")
    return code
