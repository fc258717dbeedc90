"""One result shape for every engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np


class Status(StrEnum):
    """Outcome of a solve, the same words for every engine.

    ``optimal``: proven optimal (gap at most 1e-4) and verified by the checker.
    ``feasible``: a verified alignment whose optimality is not proven (time limit,
    or stopped at the requested gap). ``infeasible``: proven to have no
    alignment. ``no_solution_found``: stopped before finding one.
    ``invalid``: the engine returned an alignment that breaks a constraint.
    ``error``: the engine failed; the message says why.
    """

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution_found"
    INVALID = "invalid"
    ERROR = "error"


OPTIMALITY_GAP = 1e-4


@dataclass(frozen=True)
class EngineOutcome:
    """What a backend returns: its own status, values and figures."""

    status: Status
    engine: str
    solver_version: str
    runtime_s: float
    pair_values: np.ndarray | None = None
    objective: float | None = None
    best_bound: float | None = None
    solver_status: str = ""
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|objective − bound| / max(|objective|, 1e-9); 0 when both are ~0."""
    if objective is None or bound is None or not np.isfinite(bound):
        return None
    diff = max(objective - bound, 0.0)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return float(diff / max(abs(objective), 1e-9))


@dataclass(frozen=True)
class SolveResult:
    """The answer of one solve.

    ``assignment`` gives the territory id of each account, in the order of
    ``account_ids``; it is ``None`` when no alignment was found. ``objective`` is
    recomputed from the alignment; ``solver_objective`` is the engine's own figure.
    """

    status: Status
    engine: str
    solver_version: str
    seed: int
    threads: int
    time_limit_s: float
    runtime_s: float
    objective: float | None
    solver_objective: float | None
    best_bound: float | None
    relative_gap: float | None
    account_ids: tuple[str, ...]
    assignment: tuple[str, ...] | None
    solver_status: str = ""
    message: str = ""
    violations: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def has_alignment(self) -> bool:
        return self.assignment is not None and self.status in (
            Status.OPTIMAL,
            Status.FEASIBLE,
        )

    def alignment(self) -> dict[str, str]:
        """Account id to territory id; empty when there is no alignment."""
        if self.assignment is None:
            return {}
        return dict(zip(self.account_ids, self.assignment, strict=True))

    def report(self) -> dict[str, Any]:
        """The solve report as plain JSON-ready values."""
        return {
            "status": str(self.status),
            "engine": self.engine,
            "solver_version": self.solver_version,
            "solver_status": self.solver_status,
            "seed": self.seed,
            "threads": self.threads,
            "time_limit_s": self.time_limit_s,
            "runtime_s": round(self.runtime_s, 3),
            "objective": self.objective,
            "solver_objective": self.solver_objective,
            "best_bound": self.best_bound,
            "relative_gap": self.relative_gap,
            "message": self.message,
            "violations": list(self.violations),
            "details": self.details,
        }
