"""Monte Carlo of comp: the chunked, vectorised simulation against a naive loop.

Usage::

    .venv/bin/python benchmarks/quota_mc.py [--draws 100000] [--reps 100]
        [--baseline-draws N] [--seed 0] [--write]

Three timings:

1. ``simulate`` alone on ``--reps`` reps (lognormal sales, cv 0.2, market
   correlation 0.3, the marginal curve of DOMAIN.md 6.5);
2. the same reps looped over in plain Python, one draw and one rep at a time. With
   ``--baseline-draws`` below ``--draws`` the loop runs fewer draws and its time is
   scaled up linearly (marked "extrapolated"). The loop and a vectorised run of the
   same number of draws consume the same seeded normals in the same order, and the
   script checks that they agree;
3. ``plan_quotas`` end to end on ``--reps`` territories: blended quotas, bounds,
   rounding, ramp, a to-be-hired rep, skills that differ (so the fairness run with
   every skill at 1 is simulated too), comp table and fairness figures.

``--write`` also stores the printed report in ``benchmarks/results/quota_mc.md``.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import platform
import shlex
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from territory_opt.quota.comp import MarginalCurve
from territory_opt.quota.equal_probability import lognormal_parameters
from territory_opt.quota.run import plan_quotas
from territory_opt.quota.simulation import RepInputs, chunk_draws, simulate
from territory_opt.quota.spec import QuotaSection, load_quota_section

RESULT = Path(__file__).resolve().parent / "results" / "quota_mc.md"

CURVE_X = (0.0, 0.5, 0.5, 1.0, 1.5, 2.0)
CURVE_Y = (0.0, 0.0, 0.25, 1.0, 2.0, 2.5)
CAP = 2.5
CV = 0.2
CORRELATION = 0.3
TARGET_INCENTIVE = 100_000.0
BASE = 100_000.0


def make_reps(n: int) -> RepInputs:
    """``n`` reps with expected sales from 0.6 M to 1.4 M and quota 1 M each."""
    curve = MarginalCurve(np.array(CURVE_X), np.array(CURVE_Y), CAP)
    return RepInputs(
        rep_ids=tuple(f"R{i:03d}" for i in range(n)),
        expected_sales=np.linspace(0.6e6, 1.4e6, n),
        sales_cv=np.full(n, CV),
        effective_quota=np.full(n, 1.0e6),
        target_incentive=np.full(n, TARGET_INCENTIVE),
        base_earned=np.full(n, BASE),
        payout_scale=np.ones(n),
        plan_index=np.zeros(n, dtype=np.intp),
        payouts=(curve,),
        threshold=np.full(n, curve.threshold),
    )


def scalar_payout(a: float) -> float:
    """The marginal curve for one attainment, the way a loop would write it."""
    if a < CURVE_X[0]:
        return CURVE_Y[0]
    k = max(i for i, x in enumerate(CURVE_X) if x <= a)
    if k == len(CURVE_X) - 1:
        slope = (CURVE_Y[-1] - CURVE_Y[-2]) / (CURVE_X[-1] - CURVE_X[-2])
        value = CURVE_Y[-1] + (a - CURVE_X[-1]) * slope
    else:
        width = CURVE_X[k + 1] - CURVE_X[k]
        value = CURVE_Y[k] + (CURVE_Y[k + 1] - CURVE_Y[k]) * (a - CURVE_X[k]) / width
    return min(value, CAP)


def naive(reps: RepInputs, draws: int, seed: int) -> tuple[list[float], list[float]]:
    """Mean incentive and P(quota) per rep, one draw and one rep at a time."""
    median, sigma = lognormal_parameters(reps.expected_sales, reps.sales_cv)
    log_median = np.log(median).tolist()
    sig = sigma.tolist()
    quota = reps.effective_quota.tolist()
    n = reps.size
    rng = np.random.default_rng(seed)
    shared, own = math.sqrt(CORRELATION), math.sqrt(1.0 - CORRELATION)
    incentive = [0.0] * n
    reached = [0.0] * n
    for _ in range(draws):
        normals = rng.standard_normal(n + 1).tolist()
        market = normals[0]
        for i in range(n):
            z = shared * market + own * normals[i + 1]
            attainment = math.exp(log_median[i] + sig[i] * z) / quota[i]
            incentive[i] += TARGET_INCENTIVE * scalar_payout(attainment)
            reached[i] += attainment >= 1.0
    return [x / draws for x in incentive], [x / draws for x in reached]


def plan_inputs(n: int, draws: int) -> tuple[pd.DataFrame, QuotaSection]:
    """``n`` territories in four districts and the quota section of the demo."""
    rng = np.random.default_rng(1)
    potential = rng.uniform(2e6, 8e6, n)
    prior = potential * rng.uniform(0.2, 0.3, n)
    ids = [f"T{i:03d}" for i in range(n)]
    table = pd.DataFrame(
        {
            "territory_id": ids,
            "parent": [f"D{i % 4}" for i in range(n)],
            "rep_id": [None if i == 0 else f"R{i:03d}" for i in range(n)],
            "potential": potential,
            "prior_sales": prior,
            "prior_quota": prior * 1.05,
        }
    )
    reps = [
        {
            "id": f"R{i:03d}",
            "start_date": "2026-03-16" if i == 1 else "2019-01-01",
            "ote": 180_000,
            "base": 90_000,
            "skill": float(rng.uniform(0.8, 1.2)),
        }
        for i in range(1, n)
    ]
    reps.append({"id": "TBH-T000", "ote": 170_000, "base": 85_000, "is_tbh": True})
    section = load_quota_section(
        {
            "fiscal_year": 2026,
            "random_seed": 7,
            "plan": {
                "company_target": float(prior.sum()) * 1.05,
                "over_assignment": {"territory": 0.05},
            },
            "method": "blended",
            "blend_weights": {"potential": 0.6, "historical": 0.4},
            "historical": {"growth": 0.08},
            "yoy_change": {"min": -0.10, "max": 0.40},
            "rounding": {"unit": 10_000},
            "ramp": {"schedule": [0.25, 0.5, 0.75, 1.0]},
            "vacancy": {"expected_fill_date": "2026-04-01"},
            "reps": reps,
            "comp_plans": [
                {
                    "id": "AE",
                    "curve": {
                        "points": [list(p) for p in zip(CURVE_X, CURVE_Y, strict=True)],
                        "cap": CAP,
                    },
                }
            ],
            "simulation": {
                "draws": draws,
                "expected_sales_source": "prior_sales_growth",
                "market_correlation": CORRELATION,
            },
        }
    )
    return table, section


def machine() -> str:
    """One line naming the machine and the library versions."""
    cpu = platform.processor() or platform.machine()
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{platform.platform()} | {cpu} | {os.cpu_count()} CPUs | "
        f"{memory_gib:.0f} GiB RAM | Python {platform.python_version()} | "
        f"numpy {np.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--baseline-draws", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    baseline_draws = args.baseline_draws or args.draws
    reps = make_reps(args.reps)
    lines: list[str] = []

    def report(line: str) -> None:
        print(line)
        lines.append(line)

    shown = [a for a in sys.argv[1:] if a != "--write"]
    command = shlex.join(["python", "benchmarks/quota_mc.py", *shown])
    report(f"machine: {machine()}")
    report(f"load average (1 min) at the start: {os.getloadavg()[0]:.2f}")
    report(f"command: {command}")
    report(
        f"workload: {args.draws:,} draws × {args.reps} reps; chunks of "
        f"{chunk_draws(args.reps):,} draws"
    )

    start = time.perf_counter()
    simulate(reps, args.draws, market_correlation=CORRELATION, seed=args.seed)
    fast_s = time.perf_counter() - start

    tracemalloc.start()
    simulate(reps, args.draws, market_correlation=CORRELATION, seed=args.seed)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    start = time.perf_counter()
    slow_incentive, slow_reached = naive(reps, baseline_draws, args.seed)
    slow_s = time.perf_counter() - start
    scaled_s = slow_s * args.draws / baseline_draws
    same = simulate(
        reps, baseline_draws, market_correlation=CORRELATION, seed=args.seed
    )
    gap = np.max(np.abs(np.array(slow_incentive) - same.mean_incentive))
    reach_gap = np.max(np.abs(np.array(slow_reached) - same.p_attain))
    if gap > 1e-6 * TARGET_INCENTIVE or reach_gap > 1e-12:
        raise SystemExit(
            f"the loop and the vectorised run disagree: mean incentive by {gap:.3g}, "
            f"P(quota) by {reach_gap:.3g}"
        )

    # Warnings of the plan (P(quota) spread, cliffs) are not what is timed here.
    logging.disable(logging.WARNING)
    table, section = plan_inputs(args.reps, args.draws)
    start = time.perf_counter()
    outcome = plan_quotas(table, section)
    plan_s = time.perf_counter() - start
    logging.disable(logging.NOTSET)

    label = "" if baseline_draws == args.draws else " (extrapolated)"
    report(f"simulate:    {fast_s:9.3f} s   peak traced memory {peak_mb:,.1f} MiB")
    report(
        f"naive loop:  {scaled_s:9.3f} s{label}  ({baseline_draws:,} draws in "
        f"{slow_s:.3f} s)"
    )
    report(f"speed-up:    {scaled_s / fast_s:9.1f} ×")
    report(
        f"agreement:   max |Δ mean incentive| {gap:.3g}, max |Δ P(quota)| "
        f"{reach_gap:.3g} over {baseline_draws:,} draws"
    )
    report(
        f"plan_quotas: {plan_s:9.3f} s   end to end, {len(outcome.comp)} reps, two "
        f"simulations of {args.draws:,} draws (own skills and every skill at 1)"
    )
    if args.write:
        RESULT.parent.mkdir(exist_ok=True)
        RESULT.write_text(
            "# Monte Carlo of comp: vectorised against a naive loop\n\n"
            f"Command: `{command} --write` (run from the repository root with its "
            ".venv; the machine is shared with other work, so times vary by a few "
            "tens of percent).\n\n```\n" + "\n".join(lines) + "\n```\n\n"
            "`simulate` is the chunked Monte Carlo alone; `plan_quotas` is the whole "
            "quota and comp step on as many territories, including the second "
            "simulation with every skill at 1 that the fairness figures use. The "
            "loop and the vectorised run consume the same seeded normals; the "
            "script stops if they disagree.\n",
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
