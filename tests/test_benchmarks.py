"""The benchmark scripts stay runnable: a tiny workload of each, never timed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "benchmarks" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quota_mc_runs_and_checks_agreement(monkeypatch, capsys) -> None:
    """300 draws × 5 reps: the loop and the vectorised run agree exactly on P(quota)
    and the end-to-end plan simulates all five reps."""
    module = _load("quota_mc")
    monkeypatch.setattr(sys, "argv", ["quota_mc.py", "--draws", "300", "--reps", "5"])
    module.main()
    printed = capsys.readouterr().out
    assert "max |Δ P(quota)| 0 over 300 draws" in printed
    assert "end to end, 5 reps" in printed


def test_quota_mc_scalar_payout_is_the_domain_curve() -> None:
    """The scalar payout of the loop equals the DOMAIN 6.5 curve values."""
    module = _load("quota_mc")
    values = [module.scalar_payout(a) for a in (0.4, 0.5, 0.8, 1.0, 1.2, 1.5, 1.8, 2.2)]
    assert values == pytest.approx([0, 0.25, 0.70, 1.0, 1.4, 2.0, 2.3, 2.5])
