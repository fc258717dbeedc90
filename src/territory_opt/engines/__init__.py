"""Solver backends. Each takes a :class:`~territory_opt.model.TerritoryModel` and
returns an :class:`~territory_opt.result.EngineOutcome`; none knows about files."""

from __future__ import annotations

import numpy as np

from territory_opt.engines.cpsat import solve_cpsat
from territory_opt.engines.mip import solve_mip
from territory_opt.model import TerritoryModel
from territory_opt.result import EngineOutcome
from territory_opt.scenario import SolverSpec

ENGINES = ("cpsat", "highs", "cbc")


def resolve_engine(engine: str) -> str:
    """The concrete engine behind ``auto``: HiGHS."""
    return "highs" if engine == "auto" else engine


def run_engine(
    model: TerritoryModel, spec: SolverSpec, hint: np.ndarray | None = None
) -> EngineOutcome:
    """Solve ``model`` with the engine and limits of ``spec``, from ``hint``."""
    engine = resolve_engine(spec.engine)
    if engine == "cpsat":
        return solve_cpsat(model, spec, hint)
    return solve_mip(model, spec, engine, hint)


__all__ = ["ENGINES", "resolve_engine", "run_engine"]
