"""MIP backend through PuLP, with HiGHS (default) or CBC.

The model is stated in floating point as written in :mod:`territory_opt.model`,
each row divided by its target (or its largest coefficient) so that the solver
sees coefficients near 1; feasibility tolerances are tightened to 1e-9 so that
the checker, which works in the original units, agrees.
Status, objective, best bound and gap are read from the solver itself (the HiGHS
model status and info; the CBC log), never from PuLP's summary status, which calls
a run stopped by its time limit "Optimal".
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pulp

from territory_opt.model import TerritoryModel
from territory_opt.result import EngineOutcome, Status
from territory_opt.scenario import SolverSpec

logger = logging.getLogger(__name__)


def _row_scale(target: float, coef: np.ndarray) -> float:
    if target > 0:
        return float(target)
    biggest = float(np.abs(coef).max()) if len(coef) else 0.0
    # A denormal coefficient would turn the row's limits into infinity.
    return biggest if biggest > 0 and math.isfinite(1.0 / biggest) else 1.0


def build_pulp(model: TerritoryModel) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """State ``model`` as a PuLP problem; returns it and the pair variables."""
    lp = pulp.LpProblem("territory_alignment", pulp.LpMinimize)
    x = [pulp.LpVariable(f"x_{p}", cat=pulp.LpBinary) for p in range(model.n_pairs)]
    objective: list[tuple[pulp.LpVariable, float]] = [
        (x[p], float(c)) for p, c in enumerate(model.pair_cost) if c
    ]

    # Assignment: every account in exactly one territory.
    for a, pairs in enumerate(model.account_pairs):
        lp += pulp.LpAffineExpression([(x[p], 1.0) for p in pairs]) == 1, f"assign_{a}"

    # Band, capacity and budget rows, each divided by its own scale (the target,
    # else the largest coefficient) so that coefficients are near 1 and tiny
    # deviation weights do not meet huge row values; deviations in those units.
    for i, row in enumerate(model.rows):
        scale = _row_scale(row.target, row.coef)
        expr = pulp.LpAffineExpression(
            [(x[p], float(c) / scale) for p, c in zip(row.pairs, row.coef, strict=True)]
        )
        if np.isfinite(row.lower):
            lp += expr >= row.lower / scale, f"r{i}_lo"
        if np.isfinite(row.upper):
            lp += expr <= row.upper / scale, f"r{i}_hi"
        if row.deviation_weight > 0:
            dev = pulp.LpVariable(f"e_{i}", lowBound=0)
            lp += dev - expr >= -row.target / scale, f"r{i}_dev_up"
            lp += dev + expr >= row.target / scale, f"r{i}_dev_down"
            objective.append((dev, row.deviation_weight * scale))

    # Families stay together.
    for n, (i, j) in enumerate(model.family_links):
        lp += x[i] - x[j] == 0, f"family_{n}"

    # Cut edges: y ≥ |x[u, t] − x[v, t]| for every territory.
    for e, (pu, pv) in enumerate(model.edge_pairs):
        y = pulp.LpVariable(f"y_{e}", lowBound=0, upBound=1)
        objective.append((y, model.cut_edge_weight))
        for t, (i, j) in enumerate(zip(pu.tolist(), pv.tolist(), strict=True)):
            if i >= 0 and j >= 0:
                lp += y - x[i] + x[j] >= 0, f"cut_{e}_{t}_a"
                lp += y - x[j] + x[i] >= 0, f"cut_{e}_{t}_b"
            elif i >= 0 or j >= 0:
                lp += y - x[max(i, j)] >= 0, f"cut_{e}_{t}"

    # Peak workload: z ≥ the workload of every territory, in units of the
    # largest account's workload.
    if model.peak_rows:
        unit = max(
            (float(np.abs(r.coef).max()) for r in model.peak_rows if len(r.coef)),
            default=1.0,
        )
        unit = unit if unit > 0 else 1.0
        z = pulp.LpVariable("peak", lowBound=0)
        objective.append((z, model.peak_weight * unit))
        for i, row in enumerate(model.peak_rows):
            expr = pulp.LpAffineExpression(
                [
                    (x[p], float(c) / unit)
                    for p, c in zip(row.pairs, row.coef, strict=True)
                ]
            )
            lp += z - expr >= 0, f"peak_{i}"

    lp += pulp.LpAffineExpression(objective)
    return lp, x


def solve_mip(
    model: TerritoryModel, spec: SolverSpec, engine: str, hint: np.ndarray | None = None
) -> EngineOutcome:
    """Solve with ``engine`` = ``highs`` or ``cbc`` through PuLP.

    ``hint`` (a 0/1 value per pair) is not passed on: a previous round's
    solution breaks the new cuts, and the MIP solvers drop infeasible starts.
    """
    del hint
    start = time.perf_counter()
    lp, x = build_pulp(model)
    build_s = time.perf_counter() - start
    gap = max(spec.relative_gap, 1e-9)
    if engine == "highs":
        outcome = _run_highs(lp, spec, gap)
    elif engine == "cbc":
        outcome = _run_cbc(lp, spec, gap)
    else:
        raise ValueError(f"unknown MIP engine {engine!r}; use 'highs' or 'cbc'")
    status, solver_status, objective, bound, version = outcome
    runtime = time.perf_counter() - start
    values = None
    if status in (Status.OPTIMAL, Status.FEASIBLE):
        raw = [v.varValue for v in x]
        if any(r is None for r in raw):
            status = Status.NO_SOLUTION
        else:
            values = np.round(np.array(raw, dtype=float))
    logger.info("%s: %s in %.2f s", engine, solver_status, runtime)
    return EngineOutcome(
        status=status,
        engine=engine,
        solver_version=version,
        runtime_s=runtime,
        pair_values=values,
        objective=objective,
        best_bound=bound,
        solver_status=solver_status,
        details={"build_s": round(build_s, 3)},
    )


_Outcome = tuple[Status, str, float | None, float | None, str]


def _run_highs(lp: pulp.LpProblem, spec: SolverSpec, gap: float) -> _Outcome:
    import highspy

    solver = pulp.HiGHS(
        msg=False,
        timeLimit=spec.time_limit_s,
        gapRel=gap,
        threads=spec.threads,
        random_seed=spec.seed,
        primal_feasibility_tolerance=1e-9,
        mip_feasibility_tolerance=1e-9,
    )
    # HiGHS keeps one thread pool per process, sized by the first solve; a later
    # solve asking for another thread count fails unless the pool is reset.
    highspy.Highs.resetGlobalScheduler(True)
    with _quiet_stdout():
        lp.solve(solver)
    highs = lp.solverModel
    model_status = highs.getModelStatus()
    info = highs.getInfo()
    name = highs.modelStatusToString(model_status)
    has_solution = info.primal_solution_status == 2
    kind = highspy.HighsModelStatus
    if model_status == kind.kOptimal:
        status = Status.OPTIMAL
    elif model_status == kind.kInfeasible:
        status = Status.INFEASIBLE
    elif model_status in (
        kind.kModelError,
        kind.kSolveError,
        kind.kLoadError,
        kind.kNotset,
        kind.kPresolveError,
        kind.kPostsolveError,
    ):
        status = Status.ERROR
    else:
        status = Status.FEASIBLE if has_solution else Status.NO_SOLUTION
    objective = info.objective_function_value if has_solution else None
    bound = info.mip_dual_bound
    bound = float(bound) if np.isfinite(bound) else None
    version = f"highs {highs.version()}"
    return status, name, objective, bound, version


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence the banner that HiGHS writes to standard output.

    HiGHS prints it when the solver object is created, before any option can
    turn it off, either from C to the process's file descriptor or through
    Python's ``sys.stdout``; both are redirected for the call.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            fd = sys.__stdout__.fileno() if sys.__stdout__ else -1
        except (AttributeError, OSError, ValueError):
            fd = -1
        if fd < 0:
            yield
            return
        saved = os.dup(fd)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), fd)
                yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


_CBC_RESULTS = {
    "optimal solution found": Status.OPTIMAL,
    "problem proven infeasible": Status.INFEASIBLE,
    "linear relaxation infeasible": Status.INFEASIBLE,
    "stopped on time limit": Status.FEASIBLE,
    "stopped on iterations or time": Status.FEASIBLE,
    "stopped on gap": Status.FEASIBLE,
}


def parse_cbc_log(text: str) -> tuple[str, float | None, float | None, str]:
    """Result line, objective, lower bound and version from a CBC log."""
    result = re.search(r"Result - (.+)", text)
    objective = re.search(r"Objective value:\s+(\S+)", text)
    bound = re.search(r"Lower bound:\s+(\S+)", text)
    version = re.search(r"Version:\s*(\S+)", text)
    return (
        result.group(1).strip() if result else "",
        float(objective.group(1)) if objective else None,
        float(bound.group(1)) if bound else None,
        f"cbc {version.group(1)}" if version else "cbc",
    )


def _run_cbc(lp: pulp.LpProblem, spec: SolverSpec, gap: float) -> _Outcome:
    with tempfile.TemporaryDirectory(prefix="territory_opt_cbc_") as folder:
        log_path = Path(folder) / "cbc.log"
        solver = pulp.PULP_CBC_CMD(
            msg=False,
            timeLimit=spec.time_limit_s,
            gapRel=gap,
            threads=spec.threads,
            logPath=str(log_path),
            options=[f"randomCbcSeed {spec.seed + 1}", f"randomSeed {spec.seed + 1}"],
        )
        lp.solve(solver)
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
    result, objective, bound, version = parse_cbc_log(text)
    status = Status.ERROR
    for phrase, mapped in _CBC_RESULTS.items():
        if result.lower().startswith(phrase):
            status = mapped
    if result == "" and re.search(
        r"(Pre-processing says infeasible|Problem is infeasible|proven infeasible)",
        text,
    ):
        status, result = Status.INFEASIBLE, "infeasible (found in pre-processing)"
    if objective is not None and abs(objective) >= 1e49:
        objective = None
    if status is Status.FEASIBLE and objective is None:
        status = Status.NO_SOLUTION
    if status is Status.OPTIMAL and bound is None:
        bound = objective
    if result == "":
        result = "no result line in the CBC log"
    return status, result, objective, bound, version
