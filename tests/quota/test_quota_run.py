"""Tests of territory_opt.quota.run: plan_quotas end to end (the joint loop is in
test_quota_joint.py)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quota_cases import (
    DOMAIN_SECTION,
    DOMAIN_TERRITORIES,
    domain_table,
    make_section,
    merged,
)

from territory_opt.errors import InputError
from territory_opt.quota.equal_probability import attainment_probability
from territory_opt.quota.run import plan_quotas
from territory_opt.quota.spec import load_quota_section

NO_BOUNDS = {"yoy_change": {"min": None, "max": None}}
CAPACITY = {
    "meetings_per_day": 2.0,
    "opp_rate": 0.30,
    "win_rate": 0.25,
    "avg_deal": 20_000,
    "variance_discount": 0.15,
}


def _vacant_t03(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    table.loc[table["territory_id"] == "T03", "rep_id"] = None
    return table


def _column(outcome, name: str) -> list[float]:
    return outcome.quotas[name].tolist()


# --- the worked example of DOMAIN 6.8 -----------------------------------------


def test_domain_end_to_end() -> None:
    """Blend → Q3 → Q4: raw [1,379,400; 1,125,300; 762,300; 363,000] becomes
    [1,370,000; 1,140,000; 750,000; 370,000], T01 and T03 at their caps."""
    outcome = plan_quotas(domain_table(), make_section())

    np.testing.assert_allclose(
        _column(outcome, "quota_raw"), [1_379_400, 1_125_300, 762_300, 363_000]
    )
    assert _column(outcome, "quota_full") == [1_370_000, 1_140_000, 750_000, 370_000]
    assert _column(outcome, "bound_hit") == ["cap", "none", "cap", "none"]
    summary = outcome.summary
    assert summary["street_target"] == pytest.approx(3_630_000)
    assert round(summary["bounds_scale"], 6) == 1.011221
    assert summary["bound_hits"] == {"none": 2, "floor": 0, "cap": 2}
    assert summary["over_assignment_realised"]["territory"] == pytest.approx(0.10)
    assert abs(summary["rounding_residual"]) < 1e-6
    assert summary["reconciliation"]["bottom_up_total"] == pytest.approx(3_300_000)
    assert summary["reconciliation"]["gap_td_bu"] == pytest.approx(330_000)


@pytest.mark.parametrize(
    ("yoy", "status", "quotas", "message"),
    [
        (
            {"min": 0.30, "max": None},
            "over_floor",
            [1_430_000, 1_430_000, 780_000, 520_000],
            "quota floors add up to 4,160,000, above the street target 3,630,000; "
            "every territory is set to its floor (residual -530,000). Lower "
            "yoy_change.min or absolute_bounds.min",
        ),
        (
            {"min": None, "max": -0.20},
            "under_cap",
            [880_000, 880_000, 480_000, 320_000],
            "quota caps allow at most 2,560,000, below the street target 3,630,000; "
            "every territory is set to its cap (residual 1,070,000). Raise "
            "yoy_change.max or absolute_bounds.max",
        ),
    ],
)
def test_infeasible_bounds_are_reported_with_numbers(yoy, status, quotas, message):
    """Prior quota [1.1, 1.1, 0.6, 0.4] M: floors at +30 % add up to 4.16 M and caps
    at −20 % to 2.56 M, against a street target of 3.63 M."""
    outcome = plan_quotas(domain_table(), make_section(yoy_change=yoy))

    assert outcome.summary["bounds_status"] == status
    assert _column(outcome, "quota_full") == quotas
    assert message in outcome.warnings


def test_yoy_bounds_against_prior_sales() -> None:
    """Basis H = [1.0, 1.2, 0.5, 0.3] M with [−10 %, +25 %]: caps [1.25, 1.5, 0.625,
    0.375] M. T01, T03 and T04 end at their caps (1.25 + 0.625 + 0.375 = 2.25 M), so
    T02 carries 3.63 − 2.25 = 1.38 M: λ = 1,380,000 / 1,125,300 = 1.226340, and the
    YoY change against H is [+25 %, +15 %, +25 %, +25 %]. Rounded to 10,000, T03
    (62.5 units) and T04 (37.5) tie on a remainder of 0.5 for the one unit left: T03
    takes it by id, 630,000, within one unit of its cap, so no warning."""
    section = make_section(yoy_change={"basis": "prior_sales"})
    exact = plan_quotas(
        domain_table(),
        make_section(("rounding",), yoy_change={"basis": "prior_sales"}),
    )
    outcome = plan_quotas(domain_table(), section)

    np.testing.assert_allclose(
        _column(exact, "quota_full"), [1_250_000, 1_380_000, 625_000, 375_000]
    )
    assert _column(exact, "bound_hit") == ["cap", "none", "cap", "cap"]
    assert round(exact.summary["bounds_scale"], 6) == 1.226340
    np.testing.assert_allclose(_column(exact, "yoy_change"), [0.25, 0.15, 0.25, 0.25])
    assert _column(outcome, "quota_full") == [1_250_000, 1_380_000, 630_000, 370_000]
    assert not any("breaks its" in w for w in outcome.warnings)


def test_absolute_floor_and_yoy_cap_bind_together() -> None:
    """absolute_bounds.min 400,000 lifts T04 (raw 363,000) to its floor while T03
    stays at its YoY cap of 750,000; T01 and T02 share 3.63 − 1.15 = 2.48 M over raw
    2,504,700, λ = 0.990139: [1,365,797; 1,114,203]. Rounded to 10,000:
    [1,370,000; 1,110,000; 750,000; 400,000]."""
    section = make_section(absolute_bounds={"min": 400_000})
    exact = plan_quotas(
        domain_table(), make_section(("rounding",), absolute_bounds={"min": 400_000})
    )
    outcome = plan_quotas(domain_table(), section)

    np.testing.assert_allclose(
        np.round(_column(exact, "quota_full")), [1_365_797, 1_114_203, 750_000, 400_000]
    )
    assert round(exact.summary["bounds_scale"], 6) == 0.990139
    assert _column(exact, "bound_hit") == ["none", "none", "cap", "floor"]
    assert exact.summary["bound_hits"] == {"none": 2, "floor": 1, "cap": 1}
    assert _column(outcome, "quota_full") == [1_370_000, 1_110_000, 750_000, 400_000]


def test_quota_table_figures() -> None:
    """Flat year, no ramp: effective = full; share, yoy and ratios per territory."""
    quotas = plan_quotas(domain_table(), make_section()).quotas
    months = quotas[[f"quota_m{m:02d}" for m in range(1, 13)]]

    np.testing.assert_allclose(months.sum(axis=1), quotas["quota_effective"])
    np.testing.assert_allclose(quotas["quota_effective"], quotas["quota_full"])
    np.testing.assert_allclose(quotas["share"], quotas["quota_full"] / 3_630_000)
    np.testing.assert_allclose(
        quotas["yoy_change"], [1.37 / 1.1 - 1, 1.14 / 1.1 - 1, 0.25, -0.075]
    )
    np.testing.assert_allclose(
        quotas["quota_to_potential"], [0.3425, 0.38, 0.375, 0.37]
    )
    np.testing.assert_allclose(quotas["quota_to_prior"], [1.37, 0.95, 1.5, 370 / 300])
    assert "region" not in quotas.columns


def test_comp_table_and_json_outputs() -> None:
    """Every rep has TI 100k, BCR = TI / Q_eff, band shares adding to 1; the
    fairness and summary dicts are valid JSON."""
    outcome = plan_quotas(domain_table(), make_section())
    comp = outcome.comp

    assert comp["rep_id"].tolist() == ["R01", "R02", "R03", "R04"]
    np.testing.assert_allclose(comp["target_incentive"], 100_000)
    np.testing.assert_allclose(comp["bcr"], 100_000 / comp["quota_effective"])
    bands = comp[[c for c in comp.columns if c.startswith("band_")]]
    np.testing.assert_allclose(bands.sum(axis=1), 1.0)
    assert 0 <= outcome.fairness["territory_share"] <= 1
    import json

    json.dumps(outcome.fairness, allow_nan=False)
    json.dumps(outcome.summary, allow_nan=False)


def test_seeded_plan_is_reproducible() -> None:
    """The same seed gives the same simulated figures."""
    first = plan_quotas(domain_table(), make_section())
    again = plan_quotas(domain_table(), make_section())
    pd.testing.assert_frame_equal(first.comp, again.comp)
    assert first.fairness == again.fairness


# --- vacancies ----------------------------------------------------------------


def test_vacancy_tbh_with_ramp() -> None:
    """TBH-T03 starts 2026-04-01 on ramp [0.25, 0.5, 0.75, 1]: 7.5 of 12 flat
    months, so Q_eff = 750,000 × 0.625 = 468,750 and the gap is 281,250."""
    section = make_section(
        vacancy={"policy": "tbh_with_ramp", "expected_fill_date": "2026-04-01"},
        ramp={"schedule": [0.25, 0.5, 0.75, 1.0]},
    )
    outcome = plan_quotas(_vacant_t03(domain_table()), section)
    row = outcome.quotas.set_index("territory_id").loc["T03"]

    assert row["rep_id"] == "TBH-T03" and row["is_vacant"]
    assert row["quota_full"] == 750_000
    assert row["quota_effective"] == pytest.approx(468_750)
    assert row["vacancy_gap"] == pytest.approx(281_250)
    assert any(
        "'TBH-T03'" in w and "pay is not simulated" in w for w in outcome.warnings
    )


def test_vacancy_tbh_needs_a_start() -> None:
    """A placeholder without a fill date names the two ways to give one."""
    with pytest.raises(InputError) as caught:
        plan_quotas(_vacant_t03(domain_table()), make_section())
    assert str(caught.value) == (
        "territory T03 is vacant and quota.vacancy.expected_fill_date is not set; "
        "set it, or declare rep TBH-T03 with a start_date under quota.reps"
    )


def test_vacancy_hold_at_manager() -> None:
    """T03's 750,000 stays with D01: leaf 0, realised territory over-assignment
    2,880,000 / 3,300,000 − 1 = −12.73 %."""
    section = make_section(vacancy={"policy": "hold_at_manager"})
    outcome = plan_quotas(_vacant_t03(domain_table()), section)

    assert _column(outcome, "quota_full") == [1_370_000, 1_140_000, 0, 370_000]
    assert _column(outcome, "vacancy_gap") == [0, 0, 750_000, 0]
    assert _column(outcome, "bound_hit")[2] == "none"
    assert outcome.summary["held_at_manager"] == {"D01": 750_000}
    realised = outcome.summary["over_assignment_realised"]["territory"]
    assert realised == pytest.approx(2_880_000 / 3_300_000 - 1)
    assert outcome.comp["rep_id"].tolist() == ["R01", "R02", "R04"]


def test_vacancy_redistribute_to_district() -> None:
    """T03's 750,000 goes to T01, T02, T04 by potential 4 : 3 : 1 (375,000;
    281,250; 93,750); rounding gives [1,750,000; 1,420,000; 0; 460,000] and the
    caps of T01 and T02 are reported as broken."""
    section = make_section(vacancy={"policy": "redistribute"})
    outcome = plan_quotas(_vacant_t03(domain_table()), section)

    assert _column(outcome, "quota_full") == [1_750_000, 1_420_000, 0, 460_000]
    assert (
        "territory T01: quota 1,750,000 breaks its cap 1,375,000 by more than the "
        "rounding unit 10,000" in outcome.warnings
    )
    assert any(w.startswith("territory T02: quota 1,420,000") for w in outcome.warnings)


def test_redistribution_past_caps_is_reported_without_rounding() -> None:
    """Unrounded, T01 ends at 1,750,000 and T02 at 1,137,927 + 281,250 = 1,419,177,
    both above their cap of 1,375,000: flagged as cap and warned about; T04
    (460,823, cap 500,000) is not."""
    section = make_section(drop=("rounding",), vacancy={"policy": "redistribute"})
    outcome = plan_quotas(_vacant_t03(domain_table()), section)

    np.testing.assert_allclose(
        np.round(_column(outcome, "quota_full")), [1_750_000, 1_419_177, 0, 460_823]
    )
    assert _column(outcome, "bound_hit") == ["cap", "cap", "none", "none"]
    assert "territory T01: quota 1,750,000 breaks its cap 1,375,000" in (
        outcome.warnings
    )
    assert "territory T02: quota 1,419,177 breaks its cap 1,375,000" in (
        outcome.warnings
    )
    assert not any(w.startswith("territory T04") for w in outcome.warnings)


def test_vacancy_redistribute_to_neighbors() -> None:
    """With adjacency T03 → T04 only, T04 takes all 750,000: 1,117,073 → 1,120,000."""
    section = make_section(
        vacancy={"policy": "redistribute", "redistribute_to": "neighbors"}
    )
    outcome = plan_quotas(
        _vacant_t03(domain_table()), section, neighbors={"T03": ["T04", "T99"]}
    )
    assert _column(outcome, "quota_full") == [1_370_000, 1_140_000, 0, 1_120_000]


def test_neighbors_without_adjacency_fall_back() -> None:
    """No adjacency given: the district's territories take the quota, with a note."""
    section = make_section(
        vacancy={"policy": "redistribute", "redistribute_to": "neighbors"}
    )
    outcome = plan_quotas(_vacant_t03(domain_table()), section)
    assert _column(outcome, "quota_full") == [1_750_000, 1_420_000, 0, 460_000]
    assert outcome.warnings[0].startswith(
        "vacancy.redistribute_to is neighbors but no adjacency was given"
    )


def test_redistribute_within_capacity_holds_the_rest() -> None:
    """Capacity 1.4 M each: headroom 25,000 (T01), 262,073 (T02), 1,032,927 (T04).

    Water-filling by potential 4 : 3 : 1 fills T01 and T02 and gives T04 the rest:
    750,000 − 25,000 − 262,073 = 462,927; nothing is held.
    """
    table = _vacant_t03(domain_table()).assign(capacity=1_400_000.0)
    section = make_section(vacancy={"policy": "redistribute"}, drop=("rounding",))
    outcome = plan_quotas(table, section)
    np.testing.assert_allclose(
        _column(outcome, "quota_full"),
        [1_400_000, 1_400_000, 0, 367_073.0 + 462_927.0],
        atol=1.0,
    )
    assert outcome.summary["held_at_manager"] == {}


# --- other methods ------------------------------------------------------------


def test_capacity_method_and_reconciliation() -> None:
    """C = 220 × 2 × 0.3 × 0.25 × 20,000 × 0.85 = 561,000 per rep; 4 reps give
    2,244,000; stretch 3.63 / 2.244 = 1.6176; ceil(1,386,000 / 561,000) = 3 reps."""
    section = make_section(method="capacity", capacity=CAPACITY, **NO_BOUNDS)
    outcome = plan_quotas(domain_table(), section)

    assert _column(outcome, "quota_full") == [910_000, 910_000, 910_000, 900_000]
    report = outcome.summary["reconciliation"]
    assert report["capacity_total"] == pytest.approx(2_244_000)
    assert report["stretch_vs_capacity"] == pytest.approx(3_630_000 / 2_244_000)
    assert report["implied_extra_reps"] == 3
    assert (
        "the street target 3,630,000 is 1.62 times the sales capacity 2,244,000; "
        "about 3 more reps would be needed" in outcome.warnings
    )


def test_capacity_method_without_data() -> None:
    """Capacity shares need a capacity column or block; the message says which."""
    with pytest.raises(InputError, match="the capacity share needs C_i"):
        plan_quotas(domain_table(), make_section(method="capacity"))


def test_fair_share_method() -> None:
    """H + (3.63 M − 3.0 M) × P / 10 M = [1,252,000; 1,389,000; 626,000; 363,000]."""
    section = make_section(method="fair_share", drop=("rounding",), **NO_BOUNDS)
    outcome = plan_quotas(domain_table(), section)
    np.testing.assert_allclose(
        _column(outcome, "quota_full"), [1_252_000, 1_389_000, 626_000, 363_000]
    )


def test_historical_bottom_up_reports_gap() -> None:
    """H × 1.1 = [1.1, 1.32, 0.55, 0.33] M, kept as is: 330,000 short of 3.63 M."""
    section = make_section(
        method="historical",
        historical={"growth": 0.10, "mode": "bottom_up"},
        drop=("rounding",),
        **NO_BOUNDS,
    )
    outcome = plan_quotas(domain_table(), section)

    np.testing.assert_allclose(
        _column(outcome, "quota_full"), [1_100_000, 1_320_000, 550_000, 330_000]
    )
    assert outcome.summary["gap_to_street_target"] == pytest.approx(330_000)
    assert (
        "historical quotas are kept as computed, not rescaled: they add up to "
        "3,300,000, 330,000 below the street target 3,630,000" in outcome.warnings
    )


def test_equal_probability_method() -> None:
    """Forecast μ = W + max(0, 1.1 H − W) = [1.1, 1.32, 0.6, 0.33] M; with one cv the
    quotas are proportional to μ, and π = P(attain) at μ/Q = 3.3 / 3.63."""
    section = make_section(method="equal_probability", drop=("rounding",), **NO_BOUNDS)
    outcome = plan_quotas(domain_table(), section)

    mu = np.array([1.1, 1.32, 0.6, 0.33])
    np.testing.assert_allclose(
        _column(outcome, "quota_full"), 3_630_000 * mu / mu.sum(), rtol=1e-9
    )
    expected = attainment_probability([3.63], [3.3], 0.2)[0]
    assert outcome.summary["equal_probability"] == pytest.approx(expected)


def test_equal_probability_equalises_simulated_chances() -> None:
    """DOMAIN 6.9 (5): with cv 0.1 to 0.4 the quotas differ from μ, yet every rep's
    simulated P(quota) lies within 4 standard errors of the solved π (20,000
    draws), while potential quotas on the same data spread far wider."""
    table = domain_table().assign(sales_cv=[0.1, 0.2, 0.3, 0.4])
    draws = 20_000
    section = make_section(
        method="equal_probability",
        drop=("rounding",),
        simulation={"draws": draws, "market_correlation": 0.3},
        **NO_BOUNDS,
    )
    outcome = plan_quotas(table, section)

    pi = outcome.summary["equal_probability"]
    se = math.sqrt(pi * (1 - pi) / draws)
    np.testing.assert_allclose(outcome.comp["p_attain"], pi, atol=4 * se)
    assert outcome.fairness["p_attain_spread"] <= 8 * se
    by_potential = plan_quotas(table, make_section(method="potential", **NO_BOUNDS))
    assert by_potential.fairness["p_attain_spread"] > 0.3


def test_blend_drops_components_without_data() -> None:
    """No pipeline column: the blend renormalises potential 0.5 / historical 0.3."""
    table = domain_table().drop(columns="weighted_pipeline")
    section = make_section(drop=("rounding",), **NO_BOUNDS)
    outcome = plan_quotas(table, section)

    shares = 0.625 * np.array([0.4, 0.3, 0.2, 0.1]) + 0.375 * np.array(
        [1 / 3, 0.4, 1 / 6, 0.1]
    )
    np.testing.assert_allclose(_column(outcome, "quota_full"), 3_630_000 * shares)
    assert outcome.warnings[0] == (
        "blended quota: no territory has data for pipeline; dropped from the blend "
        "and the other weights renormalised"
    )


# --- warnings and comp details ------------------------------------------------


def test_plan_warnings() -> None:
    """Over-assignment of 30 %, quota above potential, and a ramp ending below 1."""
    section = make_section(
        plan={"company_target": 3_300_000, "over_assignment": {"territory": 0.30}},
        ramp={"schedule": [0.5, 0.9]},
        **NO_BOUNDS,
    )
    table = domain_table().assign(potential=[4e6, 3e6, 2e6, 0.2e6])
    warnings = plan_quotas(table, section).warnings

    assert warnings[0] == (
        "territory quotas add up to 30.0% more than the company target; above 25% "
        "reps tend to see quotas as unreachable"
    )
    assert warnings[1].startswith(
        "1 territories have a quota above their potential: T04"
    )
    assert warnings[2] == (
        "the ramp schedule ends at 0.9, not 1.0; tenured reps keep that factor for ever"
    )


def test_skills_add_skill_share() -> None:
    """With a rep of skill 1.3 the fairness figures include the skill share."""
    reps = [dict(r) for r in DOMAIN_SECTION["reps"]]
    reps[0]["skill"] = 1.3
    outcome = plan_quotas(domain_table(), make_section(reps=reps))
    assert outcome.fairness["skill_share"] is not None
    assert "p_attain_spread_with_skill" in outcome.fairness


def test_quarterly_plan_for_april_hire() -> None:
    """A quarterly plan pays 3/4 of TI at stake for a rep without a Q1 quota."""
    plans = [dict(DOMAIN_SECTION["comp_plans"][0], period="quarterly")]
    reps = [dict(r) for r in DOMAIN_SECTION["reps"]]
    reps[2]["start_date"] = "2026-04-01"
    outcome = plan_quotas(domain_table(), make_section(comp_plans=plans, reps=reps))
    comp = outcome.comp.set_index("rep_id")
    assert comp.loc["R03", "quota_effective"] == pytest.approx(750_000 * 0.75)
    assert comp.loc["R03", "employed_fraction"] == pytest.approx(0.75)


def test_base_from_pay_mix() -> None:
    """Without a base, OTE 200k at the plan's 40 % mix gives base 80k, TI 120k."""
    plans = [dict(DOMAIN_SECTION["comp_plans"][0], pay_mix_base=0.4)]
    reps = [{"id": f"R0{i}", "ote": 200_000} for i in range(1, 5)]
    comp = plan_quotas(domain_table(), make_section(comp_plans=plans, reps=reps)).comp
    np.testing.assert_allclose(comp["target_incentive"], 120_000)
    np.testing.assert_allclose(comp["pay_mix"], 0.4)


def test_missing_base_and_mix_is_an_error() -> None:
    """A rep with OTE but neither base nor any pay mix cannot be paid."""
    reps = [{"id": f"R0{i}", "ote": 200_000} for i in range(1, 5)]
    with pytest.raises(InputError) as caught:
        plan_quotas(domain_table(), make_section(reps=reps))
    assert str(caught.value) == (
        "rep R01 has ote 200,000 but no base, and neither the rep nor comp plan AE "
        "gives pay_mix_base; add one of them"
    )


def test_without_simulation() -> None:
    """simulation: null gives quotas and the quota/potential figures only.

    Q/P = [1.37/4, 1.14/3, 0.75/2, 0.37/1] = [0.3425, 0.38, 0.375, 0.37]: mean
    0.366875, population std sqrt(0.0008421875 / 4) = 0.0145102, cv 0.0395509,
    max/min 0.38 / 0.3425 = 1.109489.
    """
    outcome = plan_quotas(domain_table(), make_section(simulation=None))
    assert outcome.comp.empty
    assert outcome.summary["simulation"] is None
    fairness = outcome.fairness
    assert round(fairness["quota_to_potential_cv"], 7) == 0.0395509
    assert round(fairness["quota_to_potential_max_min"], 6) == 1.109489
    assert fairness["p_attain_spread"] is None
    assert fairness["corr_pearson_potential"] is None


def test_simulation_without_sales_data() -> None:
    """The forecast source needs prior sales or pipeline; the fix is named."""
    table = domain_table().drop(columns=["prior_sales", "weighted_pipeline"])
    section = make_section(method="potential", **NO_BOUNDS)
    with pytest.raises(InputError, match="set quota.simulation: null"):
        plan_quotas(table, section)


# --- properties ---------------------------------------------------------------


@settings(max_examples=25)
@given(order=st.permutations(range(4)))
def test_row_order_does_not_matter(order) -> None:
    """Shuffled rows give the same quotas and the same simulated fairness."""
    table = domain_table()
    section = make_section(simulation={"draws": 300})
    base = plan_quotas(table, section)
    shuffled = plan_quotas(table.iloc[list(order)], section)

    pd.testing.assert_frame_equal(base.quotas, shuffled.quotas)
    assert base.fairness == shuffled.fairness


EIGHT = pd.DataFrame(
    {
        "territory_id": [f"T{i}" for i in range(8)],
        "parent": ["D1", "D1", "D2", "D2", "D2", "D3", "D3", "D3"],
        "region": ["R1"] * 5 + ["R2"] * 3,
        "rep_id": ["R0", "R1", None, "R3", "R4", "R5", "R6", "R7"],
        "potential": [5.0, 3.0, 4.0, 2.0, 6.0, 1.0, 7.0, 2.5],
        "prior_sales": [1.1, 0.7, 0.9, 0.5, 1.6, 0.2, 1.5, 0.8],
        "prior_quota": [1.2, 0.8, 1.0, 0.6, 1.5, 0.3, 1.6, 0.7],
        "weighted_pipeline": [0.4, 0.2, 0.3, 0.1, 0.5, 0.1, 0.6, 0.2],
    }
)


def _eight_section(scale: float = 1.0):
    """Blended quotas over EIGHT with every money figure multiplied by ``scale``."""
    return load_quota_section(
        {
            "fiscal_year": 2026,
            "random_seed": 3,
            "plan": {
                "company_target": 8.0 * scale,
                "over_assignment": {"region": 0.05},
            },
            "method": "blended",
            "blend_weights": {"potential": 0.5, "historical": 0.3, "pipeline": 0.2},
            "yoy_change": {"min": -0.1, "max": 0.2},
            "absolute_bounds": {"min": 0.25 * scale},
            "bounds_scope": "hierarchy",
            "vacancy": {"policy": "redistribute"},
            "reps": [
                {
                    "id": f"R{i}",
                    "ote": 2.0 * scale,
                    "base": 1.0 * scale,
                    "skill": 1.2 if i == 4 else 1,
                }
                for i in (0, 1, 3, 4, 5, 6, 7)
            ],
            "comp_plans": [
                {"id": "AE", "curve": {"points": [[0, 0], [1, 1], [2, 3]], "cap": 2.5}}
            ],
            "simulation": {"draws": 300, "expected_sales_source": "forecast"},
        }
    )


@settings(max_examples=10)
@given(order=st.permutations(range(8)))
def test_row_order_does_not_matter_in_a_hierarchy(order) -> None:
    """Two regions, three districts, a redistributed vacancy, bounds level by level
    and one skilled rep: shuffled rows give the same quotas, comp and fairness."""
    section = _eight_section()
    base = plan_quotas(EIGHT, section)
    shuffled = plan_quotas(EIGHT.iloc[list(order)], section)

    pd.testing.assert_frame_equal(base.quotas, shuffled.quotas)
    pd.testing.assert_frame_equal(base.comp, shuffled.comp)
    assert base.fairness == shuffled.fairness
    assert base.summary == shuffled.summary


@settings(max_examples=8)
@given(scale=st.sampled_from([0.01, 3.0, 1e6]))
def test_money_scale_in_a_hierarchy(scale) -> None:
    """The same hierarchy in cents or in millions: quotas, pay and cost scale by c;
    P(quota), attainment bands and every fairness figure stay as they are."""
    money = ["potential", "prior_sales", "prior_quota", "weighted_pipeline"]
    table = EIGHT.assign(**{c: EIGHT[c] * scale for c in money})
    base = plan_quotas(EIGHT, _eight_section())
    scaled = plan_quotas(table, _eight_section(scale))

    for column in ("quota_full", "quota_effective", "vacancy_gap"):
        np.testing.assert_allclose(
            scaled.quotas[column], base.quotas[column] * scale, rtol=1e-9
        )
    assert scaled.quotas["bound_hit"].tolist() == base.quotas["bound_hit"].tolist()
    np.testing.assert_allclose(
        scaled.comp["expected_earnings"], base.comp["expected_earnings"] * scale
    )
    unitless = ["p_attain", *[c for c in base.comp if c.startswith("band_")]]
    pd.testing.assert_frame_equal(scaled.comp[unitless], base.comp[unitless])
    cost, cost_scaled = base.summary["simulation"], scaled.summary["simulation"]
    assert cost_scaled["total_cost_p50"] == pytest.approx(
        cost["total_cost_p50"] * scale
    )
    assert cost_scaled["expected_ccos"] == pytest.approx(cost["expected_ccos"])
    for key, value in base.fairness.items():
        if value is None:
            assert scaled.fairness[key] is None
        else:
            assert scaled.fairness[key] == pytest.approx(value, rel=1e-6, abs=1e-9)


@settings(max_examples=40)
@given(
    potential=st.lists(st.floats(min_value=1e4, max_value=1e7), min_size=2, max_size=9),
    prior=st.lists(st.floats(min_value=1e4, max_value=1e7), min_size=9, max_size=9),
    yoy_min=st.floats(min_value=-0.5, max_value=0.0),
    yoy_max=st.floats(min_value=0.0, max_value=0.8),
    target=st.floats(min_value=1e5, max_value=1e8),
    districts=st.lists(st.integers(min_value=0, max_value=3), min_size=9, max_size=9),
    scope=st.sampled_from(["street", "hierarchy"]),
)
def test_quotas_sum_to_street_target_when_bounds_allow(
    potential, prior, yoy_min, yoy_max, target, districts, scope
):
    """Σ Q_full = T_street after Q3 whenever Σ L ≤ T_street ≤ Σ U, for either
    bounds scope and any split into two regions and up to four districts."""
    n = len(potential)
    q = np.array(prior[:n])
    feasible = q.sum() * (1 + yoy_min) <= target * 1.05 <= q.sum() * (1 + yoy_max)
    table = pd.DataFrame(
        {
            "territory_id": [f"T{i}" for i in range(n)],
            "parent": [f"D{d}" for d in districts[:n]],
            "region": [f"R{d % 2}" for d in districts[:n]],
            "rep_id": [f"R{i}" for i in range(n)],
            "potential": potential,
            "prior_quota": q,
        }
    )
    section = load_quota_section(
        {
            "fiscal_year": 2026,
            "plan": {"company_target": target, "over_assignment": {"district": 0.05}},
            "yoy_change": {"min": yoy_min, "max": yoy_max},
            "bounds_scope": scope,
            "simulation": None,
        }
    )
    outcome = plan_quotas(table, section)
    total = outcome.quotas["quota_full"].sum()
    if feasible:
        assert total == pytest.approx(target * 1.05, rel=1e-9)
        assert outcome.summary["bounds_status"] == "ok"
        quotas = outcome.quotas.set_index("territory_id")["quota_full"]
        quotas = quotas[table["territory_id"]].to_numpy()
        assert (quotas >= q * (1 + yoy_min) * (1 - 1e-9)).all()
        assert (quotas <= q * (1 + yoy_max) * (1 + 1e-9)).all()
    else:
        assert outcome.summary["bounds_status"] in ("over_floor", "under_cap")


@settings(max_examples=15)
@given(scale=st.sampled_from([0.001, 0.37, 8.0, 1_000.0]))
def test_money_scale_scales_quotas_only(scale) -> None:
    """Multiplying every money figure by c multiplies quotas by c and leaves the
    fairness figures unchanged."""
    table = domain_table()
    money = ["potential", "prior_sales", "prior_quota", "weighted_pipeline"]
    scaled_table = table.assign(**{c: table[c] * scale for c in money})
    reps = [
        dict(r, ote=r["ote"] * scale, base=r["base"] * scale)
        for r in DOMAIN_SECTION["reps"]
    ]
    base = plan_quotas(table, make_section(simulation={"draws": 400}))
    scaled = plan_quotas(
        scaled_table,
        make_section(
            plan={"company_target": 3_300_000 * scale},
            rounding={"unit": 10_000 * scale},
            simulation={"draws": 400, "company_forecast": 3_300_000 * scale},
            reps=reps,
        ),
    )
    np.testing.assert_allclose(
        scaled.quotas["quota_full"], base.quotas["quota_full"] * scale, rtol=1e-9
    )
    for key, value in base.fairness.items():
        if value is None:
            assert scaled.fairness[key] is None
        else:
            assert scaled.fairness[key] == pytest.approx(value, rel=1e-6, abs=1e-9)


def test_shared_cases_hold_the_domain_figures() -> None:
    """quota_cases holds the 6.8 figures (guards the other tests' inputs)."""
    assert sum(DOMAIN_TERRITORIES["potential"]) == 10_000_000
    assert math.isclose(sum(DOMAIN_TERRITORIES["prior_sales"]), 3_000_000)
    assert merged({"a": {"b": 1}}, {"a": {"c": 2}}) == {"a": {"b": 1, "c": 2}}


def test_even_share_goes_by_fte() -> None:
    """Even quotas by FTE: 1.0, 1.0 and 0.5 FTE split 100 as 40, 40, 20."""
    import pandas as pd

    from territory_opt.quota.run import plan_quotas
    from territory_opt.quota.spec import load_quota_section

    table = pd.DataFrame(
        {
            "territory_id": ["T1", "T2", "T3"],
            "rep_id": ["R1", "R2", "R3"],
            "potential": [5.0, 1.0, 9.0],
            "fte": [1.0, 1.0, 0.5],
        }
    )
    section = load_quota_section(
        {
            "fiscal_year": 2027,
            "plan": {"company_target": 100},
            "method": "even",
            "simulation": None,
        }
    )
    quotas = plan_quotas(table, section).quotas.set_index("territory_id")["quota_full"]
    assert quotas.to_dict() == {"T1": 40.0, "T2": 40.0, "T3": 20.0}


def _two_districts() -> pd.DataFrame:
    """A and B in D1, C and D in D2, potential 100 each, A capped at 60."""
    return pd.DataFrame(
        {
            "territory_id": ["A", "B", "C", "D"],
            "parent": ["D1", "D1", "D2", "D2"],
            "rep_id": ["R1", "R2", "R3", "R4"],
            "potential": [100.0] * 4,
            "prior_quota": [60.0, None, None, None],
        }
    )


@pytest.mark.parametrize(
    ("scope", "expected", "d1_over_assignment"),
    [
        ("street", [60, 340 / 3, 340 / 3, 340 / 3], -2 / 15),
        ("hierarchy", [60, 140, 100, 100], 0.0),
    ],
)
def test_bounds_scope(scope, expected, d1_over_assignment) -> None:
    """Target 400 over two districts of 200: one λ lets D1 fall to 173.33 (−2/15)
    and D2 rise to 226.67; level by level B takes what A cannot and each keeps 200."""
    section = load_quota_section(
        {
            "fiscal_year": 2026,
            "plan": {"company_target": 400},
            "yoy_change": {"min": None, "max": 0.0},
            "bounds_scope": scope,
            "simulation": None,
        }
    )
    outcome = plan_quotas(_two_districts(), section)

    np.testing.assert_allclose(outcome.quotas["quota_full"], expected)
    oa = outcome.summary["district_over_assignment"]
    assert oa["D1"] == pytest.approx(d1_over_assignment, abs=1e-12)
    assert oa["D2"] == pytest.approx(-d1_over_assignment, abs=1e-12)
    assert outcome.quotas["bound_hit"].tolist() == ["cap", "none", "none", "none"]
