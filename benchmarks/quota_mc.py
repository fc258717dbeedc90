"""Monte Carlo of comp: the chunked, vectorised simulation against a naive loop.

Usage::

    .venv/bin/python benchmarks/quota_mc.py [--draws 100000] [--reps 100]
        [--baseline-draws N] [--seed 0]

Both runs simulate the same reps (lognormal sales, cv 0.2, market correlation
0.3, the marginal curve of DOMAIN.md 6.5) from the same seeded generator, so they
consume the same normals in the same order and must agree to rounding; the script
checks that. The baseline loops over draws and reps in plain Python, one scalar
at a time. With ``--baseline-draws`` below ``--draws`` the baseline runs fewer
draws and its time is scaled up linearly (marked "extrapolated"). Nothing is
written to disk: the machine, the command and the timings are printed.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import shlex
import sys
import time
import tracemalloc

import numpy as np

from territory_opt.quota.comp import MarginalCurve
from territory_opt.quota.equal_probability import lognormal_parameters
from territory_opt.quota.simulation import RepInputs, chunk_draws, simulate

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


def machine() -> str:
    """One line naming the machine and the library versions."""
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.platform()} | {cpu} | {os.cpu_count()} CPUs | Python "
        f"{platform.python_version()} | numpy {np.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--baseline-draws", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    baseline_draws = args.baseline_draws or args.draws
    reps = make_reps(args.reps)

    print(f"machine: {machine()}")
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(
        f"workload: {args.draws:,} draws × {args.reps} reps; chunks of "
        f"{chunk_draws(args.reps):,} draws"
    )

    start = time.perf_counter()
    fast = simulate(reps, args.draws, market_correlation=CORRELATION, seed=args.seed)
    fast_s = time.perf_counter() - start

    tracemalloc.start()
    simulate(reps, args.draws, market_correlation=CORRELATION, seed=args.seed)
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()

    start = time.perf_counter()
    slow_incentive, slow_reached = naive(reps, baseline_draws, args.seed)
    slow_s = time.perf_counter() - start
    scaled_s = slow_s * args.draws / baseline_draws

    label = "" if baseline_draws == args.draws else " (extrapolated)"
    print(f"vectorised: {fast_s:9.3f} s   peak traced memory {peak_mb:,.1f} MiB")
    print(
        f"naive loop: {scaled_s:9.3f} s{label}  ({baseline_draws:,} draws in "
        f"{slow_s:.3f} s)"
    )
    print(f"speed-up:   {scaled_s / fast_s:9.1f} ×")

    if baseline_draws == args.draws:
        gap = np.max(np.abs(np.array(slow_incentive) - fast.mean_incentive))
        reach_gap = np.max(np.abs(np.array(slow_reached) - fast.p_attain))
        print(
            f"agreement:  max |Δ mean incentive| {gap:.3g}, "
            f"max |Δ P(quota)| {reach_gap:.3g}"
        )


if __name__ == "__main__":
    main()
