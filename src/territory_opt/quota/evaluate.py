"""Outputs of quota planning: the quota table, plan warnings, and pay simulation.

:func:`evaluate_pay` simulates every rep who carries a positive effective quota
(see :mod:`territory_opt.quota.simulation`), builds the per-rep comp table and
measures fairness (:mod:`territory_opt.quota.fairness`). A rep's expected sales
are the territory's μ_i × skill_i × ``Q_i^eff / Q_i``: the effective quota's share
of the full one is ``Σ_m σ_m ramp_i(m) e_i(m)``, the part of the year's seasonal
sales the rep is employed and ramped for. Quota fairness uses a second run with
every skill at 1 (common random numbers: same seed), so that talent is not
mistaken for an unfair quota; it is skipped when all skills are 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from territory_opt.errors import InputError, preview_ids
from territory_opt.quota.comp import curve_warnings, payout_from_spec
from territory_opt.quota.fairness import (
    fairness_warnings,
    luck_decomposition,
    pay_fairness,
    quota_fairness,
    skill_share,
)
from territory_opt.quota.inputs import Staffing, TerritoryData
from territory_opt.quota.simulation import (
    ATTAINMENT_BANDS,
    RepInputs,
    plan_groups,
    simulate,
)
from territory_opt.quota.spec import QuotaSection, RepSpec

__all__ = ["MONTH_COLUMNS", "evaluate_pay", "plan_warnings", "quota_table"]

FloatArray = npt.NDArray[np.float64]
MONTH_COLUMNS = tuple(f"quota_m{m:02d}" for m in range(1, 13))
OVER_ASSIGNMENT_WARN = 0.25
COST_KEYS = (
    "total_cost_p10",
    "total_cost_p50",
    "total_cost_p90",
    "reserve",
    "expected_total_cost",
    "expected_ccos",
    "share_below_threshold",
)


def plan_warnings(
    data: TerritoryData,
    section: QuotaSection,
    staff: Staffing,
    quotas: FloatArray,
    effective: FloatArray,
    realised: Mapping[str, float],
    reconciliation: Mapping[str, Any],
) -> list[str]:
    """Warnings about the plan itself (docs/quota.md, Warnings)."""
    warnings = []
    if realised["total"] > OVER_ASSIGNMENT_WARN:
        warnings.append(
            f"territory quotas add up to {100 * realised['total']:.1f}% more than "
            f"the company target; above {100 * OVER_ASSIGNMENT_WARN:.0f}% reps tend "
            "to see quotas as unreachable"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = quotas / data.potential
    above = [
        f"{t} ({r:.2f}×)"
        for t, r in zip(data.territory_ids, ratio, strict=True)
        if r > 1.0
    ]
    if above:
        warnings.append(
            f"{len(above)} territories have a quota above their potential: "
            f"{', '.join(above[:5])}{' ...' if len(above) > 5 else ''}"
        )
    if section.ramp.schedule[-1] != 1.0:
        warnings.append(
            f"the ramp schedule ends at {section.ramp.schedule[-1]:g}, not 1.0; "
            "tenured reps keep that factor for ever"
        )
    starts_late = [
        r
        for r, q, e in zip(staff.rep_ids, quotas, effective, strict=True)
        if r and q > 0 and e == 0
    ]
    if starts_late:
        warnings.append(
            f"reps {preview_ids(starts_late)} are not employed during the fiscal "
            "year; their effective quota is 0"
        )
    stretch = reconciliation.get("stretch_vs_capacity")
    if stretch is not None and stretch > 1.0:
        warnings.append(
            f"the street target {reconciliation['top_down_total']:,.0f} is "
            f"{stretch:.2f} times the sales capacity "
            f"{reconciliation['capacity_total']:,.0f}; about "
            f"{reconciliation['implied_extra_reps']} more reps would be needed"
        )
    for plan in section.comp_plans:
        warnings.extend(curve_warnings(plan))
    return warnings


def quota_table(
    data: TerritoryData,
    staff: Staffing,
    raw: FloatArray,
    quotas: FloatArray,
    effective: FloatArray,
    monthly: npt.NDArray[np.float64],
    street: float,
    bound_hit: Sequence[str],
    gap: FloatArray,
    section: QuotaSection,
) -> pd.DataFrame:
    """The per-territory quota table of :class:`QuotaOutcome`."""
    basis = data.column(section.yoy_change.basis)
    prior = data.column("prior_sales")
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame(
            {
                "territory_id": data.territory_ids,
                "parent": data.district,
                "region": data.region,
                "rep_id": staff.rep_ids,
                "is_vacant": staff.vacant,
                "quota_raw": raw,
                "quota_full": quotas,
                "quota_effective": effective,
                **{c: monthly[:, m] for m, c in enumerate(MONTH_COLUMNS)},
                "share": quotas / street,
                "yoy_change": np.where(basis > 0, quotas / basis - 1.0, np.nan),
                "bound_hit": bound_hit,
                "quota_to_potential": np.where(
                    data.potential > 0, quotas / data.potential, np.nan
                ),
                "quota_to_prior": np.where(prior > 0, quotas / prior, np.nan),
                "vacancy_gap": gap,
            }
        )
    if not data.has_region:
        table = table.drop(columns="region")
    return table


def _rep_pay(
    spec: RepSpec | None, section: QuotaSection
) -> tuple[str, float, float] | None:
    """Plan id, OTE and base of a rep, or None when the rep has no comp data."""
    if spec is None or spec.ote is None:
        return None
    plan_id = spec.comp_plan
    if plan_id is None and len(section.comp_plans) == 1:
        plan_id = section.comp_plans[0].id
    if plan_id is None:
        return None
    if spec.base is not None:
        return plan_id, spec.ote, spec.base
    mix = spec.pay_mix_base
    if mix is None:
        mix = section.comp_plan(plan_id).pay_mix_base
    if mix is None:
        raise InputError(
            f"rep {spec.id} has ote {spec.ote:,.0f} but no base, and neither the rep "
            f"nor comp plan {plan_id} gives pay_mix_base; add one of them"
        )
    return plan_id, spec.ote, spec.ote * mix


def evaluate_pay(
    data: TerritoryData,
    section: QuotaSection,
    staff: Staffing,
    quotas: FloatArray,
    monthly: npt.NDArray[np.float64],
    mean_sales: FloatArray,
    max_chunk_bytes: int,
) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any] | None, list[str]]:
    """Simulate sales and pay on the quotas; measure fairness.

    Parameters
    ----------
    data, section, staff
        The territories, the quota section and the staffing.
    quotas
        Full quota per territory, in currency.
    monthly
        Monthly effective quotas, territories × 12.
    mean_sales
        μ per territory, in currency.
    max_chunk_bytes
        Memory budget of one chunk of draws.

    Returns
    -------
    tuple
        The comp table, the fairness figures, the simulation summary (None when no
        rep carries a quota) and warnings.
    """
    sim = section.simulation
    assert sim is not None
    effective = monthly.sum(axis=1)
    rows = np.flatnonzero([bool(r) for r in staff.rep_ids] & (effective > 0))
    if rows.size == 0:
        return pd.DataFrame(), {}, None, ["no rep carries a quota; nothing simulated"]

    pay = [_rep_pay(staff.specs[k], section) for k in rows]
    plan_index, plan_ids = plan_groups([p[0] if p else None for p in pay])
    plans = [section.comp_plan(p) for p in plan_ids]
    payouts = tuple(payout_from_spec(p.curve) for p in plans)
    has_plan = plan_index >= 0
    ote = np.array([p[1] if p else math.nan for p in pay])
    base = np.array([p[2] if p else math.nan for p in pay])
    target = np.where(has_plan, ote - base, 0.0)
    employed = np.array([staff.profiles[k].employed_fraction for k in rows])
    scale = np.ones(rows.size)
    threshold = np.full(rows.size, math.nan)
    for j, p in enumerate(plan_index):
        if p < 0:
            continue
        plan = plans[p]
        if plan.period == "quarterly":
            quarter_quota = monthly[rows[j]].reshape(4, 3).sum(axis=1)
            weights = np.asarray(plan.quarter_weights or (0.25,) * 4)
            scale[j] = float(weights[quarter_quota > 0].sum())
        threshold[j] = payouts[p].threshold
    if section.fairness.threshold_attainment is not None:
        threshold[:] = section.fairness.threshold_attainment

    coverage = effective[rows] / quotas[rows]
    cv = data.column("sales_cv")[rows]
    inputs = RepInputs(
        rep_ids=tuple(staff.rep_ids[k] for k in rows),
        expected_sales=mean_sales[rows] * staff.skill[rows] * coverage,
        sales_cv=np.where(np.isfinite(cv), cv, sim.default_sales_cv),
        effective_quota=effective[rows],
        target_incentive=target,
        base_earned=np.where(has_plan, base * employed, 0.0),
        payout_scale=np.where(has_plan, scale, 0.0),
        plan_index=plan_index,
        payouts=payouts,
        threshold=threshold,
    )
    options: dict[str, Any] = {
        "market_correlation": sim.market_correlation,
        "seed": section.random_seed,
        "excellence": section.fairness.excellence_attainment,
        "max_chunk_bytes": max_chunk_bytes,
    }
    result = simulate(inputs, sim.draws, **options)
    skilled = bool((staff.skill[rows] != 1.0).any())
    equal = result
    if skilled:
        unskilled = replace(inputs, expected_sales=mean_sales[rows] * coverage)
        equal = simulate(unskilled, sim.draws, **options)

    fairness: dict[str, Any] = quota_fairness(
        quotas[rows],
        data.potential[rows],
        mean_sales[rows],
        data.column("prior_sales")[rows],
        equal.p_attain,
    )
    fairness.update(
        pay_fairness(result.mean_incentive[has_plan], result.mean_earnings[has_plan])
    )
    luck = dict.fromkeys(("v_between", "v_within", "territory_share"), math.nan)
    if has_plan.any():
        luck = luck_decomposition(
            equal.payout_mean[has_plan], equal.payout_var[has_plan]
        )
    fairness.update(luck)
    fairness["skill_share"] = math.nan
    if skilled and has_plan.any():
        own = luck_decomposition(
            result.payout_mean[has_plan], result.payout_var[has_plan]
        )
        fairness["skill_share"] = skill_share(own, luck)
        fairness["p_attain_spread_with_skill"] = float(np.ptp(result.p_attain))

    summary: dict[str, Any] = result.summary()
    summary["reps_simulated"] = int(rows.size)
    summary["reps_with_comp_plan"] = int(has_plan.sum())
    warnings = []
    if not has_plan.any():
        summary.update(dict.fromkeys(COST_KEYS))
    missing = [staff.rep_ids[k] for k, p in zip(rows, pay, strict=True) if p is None]
    if missing and section.comp_plans:
        warnings.append(
            f"reps {preview_ids(missing)} ({len(missing)} in all) have no ote or comp "
            "plan under quota.reps; their pay is not simulated and total cost "
            "leaves them out"
        )
    warnings.extend(fairness_warnings(fairness, summary, section.fairness))

    table = pd.DataFrame(
        {
            "rep_id": inputs.rep_ids,
            "territory_id": [data.territory_ids[k] for k in rows],
            "is_tbh": staff.placeholder[rows],
            "comp_plan": [p[0] if p else "" for p in pay],
            "ote": ote,
            "base": base,
            "target_incentive": np.where(has_plan, target, math.nan),
            "pay_mix": base / ote,
            "bcr": np.where(has_plan, target / effective[rows], math.nan),
            "employed_fraction": employed,
            "quota_full": quotas[rows],
            "quota_effective": effective[rows],
            "expected_sales": inputs.expected_sales,
            "expected_attainment": inputs.expected_sales / effective[rows],
            "p_attain": result.p_attain,
            "expected_incentive": np.where(has_plan, result.mean_incentive, math.nan),
            "expected_incentive_se": np.where(has_plan, result.incentive_se, math.nan),
            "expected_earnings": np.where(has_plan, result.mean_earnings, math.nan),
            **{
                f"band_{name}": result.band_shares[:, b]
                for b, name in enumerate(ATTAINMENT_BANDS)
            },
        }
    )
    return table, fairness, summary, warnings
