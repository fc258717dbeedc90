"""The ``quota:`` block of a scenario: plan, allocation rules, reps, comp, simulation.

Every model here derives from :class:`territory_opt.scenario.StrictModel`: it is
frozen and rejects unknown keys with the list of valid ones. The keys of the
allocation rules (``method``, ``blend_weights``, ``historical``, ``yoy_change``, ...)
sit directly under ``quota:``, so a key path such as ``quota.yoy_change.min`` reads
the same here as in docs/quota.md. The plan, reps, comp plans, simulation and
fairness limits are sub-blocks of the same section.

Money is in the scenario's currency throughout; shares and rates are fractions
(0.10 means 10 %).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from territory_opt.config import StrictModel, numeric_id_problem
from territory_opt.errors import InputError

__all__ = [
    "AbsoluteBounds",
    "BlendWeights",
    "CapacitySpec",
    "CompPlanSpec",
    "CurveSpec",
    "EqualProbabilitySpec",
    "FairnessSpec",
    "HistoricalSpec",
    "OverAssignment",
    "PlanSpec",
    "QuotaSection",
    "RampSpec",
    "RepSpec",
    "RoundingSpec",
    "SimulationSpec",
    "VacancySpec",
    "YoYChange",
    "load_quota_section",
]

Method = Literal[
    "even",
    "potential",
    "historical",
    "fair_share",
    "pipeline",
    "capacity",
    "blended",
    "equal_probability",
]
BLEND_COMPONENTS = ("potential", "historical", "pipeline", "even", "capacity")
HIERARCHY_LEVELS = ("region", "district", "territory")

SEASONALITY_TOLERANCE = 1e-9
FLAT_SEASONALITY = (1.0 / 12.0,) * 12


def _reject_numeric_id(value: Any) -> Any:
    """Ids are text; a YAML number would lose leading zeros."""
    problem = numeric_id_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


class OverAssignment(StrictModel):
    """Over-assignment added at each level of the hierarchy, top-down.

    The pool a node hands to its children is its own quota times ``1 + oa`` of the
    children's level, so the shares compound: the territories together carry
    ``T × (1 + region) × (1 + district) × (1 + territory)``. Each value is a
    fraction (0.05 adds 5 %); all default to 0. A negative value holds a reserve
    back at the parent and must stay above -1.
    """

    region: float = Field(default=0.0, gt=-1.0, le=1.0)
    district: float = Field(default=0.0, gt=-1.0, le=1.0)
    territory: float = Field(default=0.0, gt=-1.0, le=1.0)

    def factors(self) -> tuple[float, float, float]:
        """``1 + oa`` for region, district and territory, in that order."""
        return (1.0 + self.region, 1.0 + self.district, 1.0 + self.territory)


class PlanSpec(StrictModel):
    """The company plan that quotas break down.

    ``company_target`` is the root plan T in currency. ``seasonality`` gives each
    fiscal month's share of the year: twelve values, each at least 0, summing to 1
    within 1e-9; the default is flat (1/12 each).
    """

    company_target: float = Field(gt=0.0)
    over_assignment: OverAssignment = OverAssignment()
    seasonality: tuple[float, ...] = FLAT_SEASONALITY

    @field_validator("seasonality")
    @classmethod
    def _twelve_shares(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if len(value) != 12:
            raise ValueError(
                f"seasonality needs 12 monthly shares, one per fiscal month; got "
                f"{len(value)}"
            )
        negative = [i + 1 for i, share in enumerate(value) if not share >= 0.0]
        if negative:
            raise ValueError(
                f"seasonality shares must be 0 or more; month {negative[0]} is "
                f"{value[negative[0] - 1]!r}"
            )
        total = math.fsum(value)
        if abs(total - 1.0) > SEASONALITY_TOLERANCE:
            raise ValueError(
                f"seasonality must sum to 1 within 1e-9; got {total:.12g}. Divide "
                "each value by their sum"
            )
        return value


class BlendWeights(StrictModel):
    """Weights of the share components in the ``blended`` method.

    Each is 0 or more (default 0); they are normalised to sum to 1, so
    ``{potential: 5, historical: 3, pipeline: 2}`` equals 0.5 / 0.3 / 0.2.
    """

    potential: float = Field(default=0.0, ge=0.0)
    historical: float = Field(default=0.0, ge=0.0)
    pipeline: float = Field(default=0.0, ge=0.0)
    even: float = Field(default=0.0, ge=0.0)
    capacity: float = Field(default=0.0, ge=0.0)

    def as_dict(self) -> dict[str, float]:
        """The weights by component name, in a fixed order."""
        return {name: float(getattr(self, name)) for name in BLEND_COMPONENTS}


class HistoricalSpec(StrictModel):
    """Growth on last year's sales: ``base_i = H_i (1 + clamp(g_i) − r)``.

    ``growth`` is the default g for every territory (default 0; a territory's
    ``growth_override`` column replaces it), ``attrition_relief`` the relief r
    (default 0), ``growth_bounds`` an optional ``[g_min, g_max]`` clamp. ``mode``
    ``share`` rescales the bases to the street target; ``bottom_up`` keeps them as
    quotas and reports the gap to the target.
    """

    growth: float = Field(default=0.0, gt=-1.0)
    attrition_relief: float = Field(default=0.0, ge=0.0, lt=1.0)
    growth_bounds: tuple[float, float] | None = None
    mode: Literal["share", "bottom_up"] = "share"

    @field_validator("growth_bounds")
    @classmethod
    def _ordered_bounds(
        cls, value: tuple[float, float] | None
    ) -> tuple[float, float] | None:
        if value is not None and value[0] > value[1]:
            raise ValueError(
                f"growth_bounds lower end {value[0]:g} is above the upper end "
                f"{value[1]:g}; write them as [min, max]"
            )
        return value


class CapacitySpec(StrictModel):
    """What one fully ramped rep can sell in a year, from activity rates.

    ``C_i = selling_days × meetings_per_day × opp_rate × win_rate × avg_deal ×
    (1 − variance_discount) × skill × ramp_fte``. ``selling_days`` defaults to 220,
    ``variance_discount`` to 0; ``opp_rate`` (meetings that become opportunities)
    and ``win_rate`` are fractions; ``avg_deal`` is in currency.
    """

    selling_days: float = Field(default=220.0, gt=0.0, le=366.0)
    meetings_per_day: float = Field(gt=0.0)
    opp_rate: float = Field(gt=0.0, le=1.0)
    win_rate: float = Field(gt=0.0, le=1.0)
    avg_deal: float = Field(gt=0.0)
    variance_discount: float = Field(default=0.0, ge=0.0, lt=1.0)

    def full_rep_capacity(self) -> float:
        """Capacity of one rep with skill 1 who is fully ramped all year."""
        return (
            self.selling_days
            * self.meetings_per_day
            * self.opp_rate
            * self.win_rate
            * self.avg_deal
            * (1.0 - self.variance_discount)
        )


class EqualProbabilitySpec(StrictModel):
    """``target_probability`` π of reaching quota; null (default) solves π so that
    the quotas add up to the street target."""

    target_probability: float | None = Field(default=None, gt=0.0, lt=1.0)


class YoYChange(StrictModel):
    """Bounds on the change against last year, as fractions of the ``basis``.

    ``basis`` is ``prior_quota`` (default) or ``prior_sales``; ``min`` and ``max``
    may each be null (no bound). ``min`` must be at least -1.
    """

    basis: Literal["prior_quota", "prior_sales"] = "prior_quota"
    min: float | None = Field(default=None, ge=-1.0)
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> YoYChange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"yoy_change min ({self.min:g}) is above max ({self.max:g}); swap "
                "them or widen the range"
            )
        return self


class AbsoluteBounds(StrictModel):
    """Smallest and largest quota any territory may get, in currency (null: none)."""

    min: float | None = Field(default=None, ge=0.0)
    max: float | None = Field(default=None, gt=0.0)

    @model_validator(mode="after")
    def _ordered(self) -> AbsoluteBounds:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(
                f"absolute_bounds min ({self.min:g}) is above max ({self.max:g}); "
                "swap them"
            )
        return self


class RoundingSpec(StrictModel):
    """Publish quotas in multiples of ``unit`` (currency).

    With ``preserve_total`` (default true) the largest-remainder method keeps the
    total; otherwise each quota is rounded to its nearest multiple.
    """

    unit: float = Field(gt=0.0)
    preserve_total: bool = True


class RampSpec(StrictModel):
    """Ramp of new hires: a factor per tenure month, the last one persisting.

    ``schedule`` defaults to ``[1.0]`` (no ramp); ``proration`` ``daily`` (default)
    counts the days employed in a partial month, ``none`` counts any employed month
    in full. Reps who started more than ``applies_if_hired_within_days`` (default
    365) before the fiscal year get no ramp.
    """

    schedule: tuple[float, ...] = (1.0,)
    proration: Literal["daily", "none"] = "daily"
    applies_if_hired_within_days: int = Field(default=365, ge=0)

    @field_validator("schedule")
    @classmethod
    def _factors(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value:
            raise ValueError("ramp schedule needs at least one factor, such as [1.0]")
        bad = [i + 1 for i, f in enumerate(value) if not 0.0 <= f <= 1.5]
        if bad:
            raise ValueError(
                f"ramp factors must lie between 0 and 1.5; tenure month {bad[0]} has "
                f"{value[bad[0] - 1]!r}"
            )
        return value


class VacancySpec(StrictModel):
    """What happens to the quota of a territory without a rep.

    ``policy``: ``tbh_with_ramp`` (default) creates ``TBH-<territory>`` starting on
    ``expected_fill_date`` and reports the uncovered quota as the vacancy gap;
    ``hold_at_manager`` sets the leaf quota to 0 and leaves it with the parent;
    ``redistribute`` spreads it over ``redistribute_to`` (``parent_children``, the
    default, or ``neighbors``, which needs adjacency) in proportion to potential,
    within capacity headroom when ``redistribute_cap_by_capacity`` (default true).
    """

    policy: Literal["hold_at_manager", "tbh_with_ramp", "redistribute"] = (
        "tbh_with_ramp"
    )
    expected_fill_date: date | None = None
    redistribute_to: Literal["neighbors", "parent_children"] = "parent_children"
    redistribute_cap_by_capacity: bool = True


class RepSpec(StrictModel):
    """One rep (or a to-be-hired placeholder).

    ``start_date`` null means employed since before the fiscal year; ``end_date``
    null means staying past it. ``ote`` is on-target earnings in currency;
    ``base`` the base salary, or ``pay_mix_base`` the base as a share of OTE (when
    both are missing, the comp plan's ``pay_mix_base`` applies). ``skill`` is a
    productivity multiplier on expected sales (default 1.0).
    """

    id: str = Field(min_length=1)
    start_date: date | None = None
    end_date: date | None = None
    ote: float | None = Field(default=None, gt=0.0)
    base: float | None = Field(default=None, ge=0.0)
    pay_mix_base: float | None = Field(default=None, ge=0.0, le=1.0)
    comp_plan: str | None = None
    skill: float = Field(default=1.0, gt=0.0)
    is_tbh: bool = False

    _text_id = field_validator("id", mode="before")(_reject_numeric_id)

    @model_validator(mode="after")
    def _consistent(self) -> RepSpec:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(
                f"rep {self.id}: end_date {self.end_date} is before start_date "
                f"{self.start_date}"
            )
        if self.base is not None and self.pay_mix_base is not None:
            raise ValueError(f"rep {self.id}: give base or pay_mix_base, not both")
        if self.base is not None and self.ote is not None and self.base > self.ote:
            raise ValueError(
                f"rep {self.id}: base {self.base:g} is above ote {self.ote:g}; the "
                "target incentive would be negative"
            )
        return self


class CurveSpec(StrictModel):
    """Payout as a multiple of target incentive (TI) against attainment.

    ``semantics: marginal`` takes ``points`` ``[attainment, payout]`` in
    non-decreasing order of attainment; a repeated attainment is a jump that applies
    at and above it; beyond the last point the last slope extends, then ``cap``
    (null: uncapped) limits the payout. ``semantics: retroactive`` takes ``tiers``
    ``[min attainment, multiplier]`` with increasing minimums; the multiplier of the
    highest tier reached applies to every credited sale.
    """

    semantics: Literal["marginal", "retroactive"] = "marginal"
    points: tuple[tuple[float, float], ...] | None = None
    cap: float | None = Field(default=None, ge=0.0)
    tiers: tuple[tuple[float, float], ...] | None = None

    @model_validator(mode="after")
    def _shape(self) -> CurveSpec:
        if self.semantics == "marginal":
            if self.tiers is not None:
                raise ValueError(
                    "tiers belong to a retroactive curve; set semantics: retroactive "
                    "or give points instead"
                )
            if not self.points:
                raise ValueError(
                    "a marginal curve needs points, such as [[0, 0], [1, 1]]"
                )
            _check_points(self.points)
        else:
            if self.points is not None or self.cap is not None:
                raise ValueError(
                    "points and cap belong to a marginal curve; a retroactive curve "
                    "takes tiers only"
                )
            if not self.tiers:
                raise ValueError(
                    "a retroactive curve needs tiers, such as [[0, 0], [1, 1]]"
                )
            _check_tiers(self.tiers)
        return self


def _check_points(points: tuple[tuple[float, float], ...]) -> None:
    """Attainment must not decrease, payout must not fall, none negative."""
    for k, (x, y) in enumerate(points):
        if x < 0.0 or y < 0.0:
            raise ValueError(
                f"curve point {k + 1} is [{x:g}, {y:g}]; attainment and payout must "
                "be 0 or more"
            )
    for k in range(1, len(points)):
        (x0, y0), (x1, y1) = points[k - 1], points[k]
        if x1 < x0:
            raise ValueError(
                f"curve x values must not decrease; point {k + 1} has x = {x1:g} "
                f"after x = {x0:g}. List the points in increasing order of attainment"
            )
        if y1 < y0:
            raise ValueError(
                f"curve payout must not fall as attainment rises; point {k + 1} "
                f"[{x1:g}, {y1:g}] pays less than point {k} [{x0:g}, {y0:g}]"
            )


def _check_tiers(tiers: tuple[tuple[float, float], ...]) -> None:
    """Tier minimums strictly increasing, multipliers 0 or more."""
    for k, (low, mult) in enumerate(tiers):
        if low < 0.0 or mult < 0.0:
            raise ValueError(
                f"tier {k + 1} is [{low:g}, {mult:g}]; minimum attainment and "
                "multiplier must be 0 or more"
            )
        if k and low <= tiers[k - 1][0]:
            raise ValueError(
                f"tier minimums must increase; tier {k + 1} starts at {low:g} after "
                f"{tiers[k - 1][0]:g}"
            )


class CompPlanSpec(StrictModel):
    """A compensation plan shared by reps.

    ``pay_mix_base`` is the base share of OTE used when a rep has no ``base``.
    ``period`` ``annual`` (default) measures attainment once a year;
    ``quarterly`` pays ``quarter_weights`` (default 1/4 each, summing to 1) of TI per
    quarter on quarterly quotas. ``cliff_warn`` (default 0.05) is the payout jump, as a
    multiple of TI, above which a tier boundary or curve jump is reported as a
    cliff.
    """

    id: str = Field(min_length=1)
    measure: str = "bookings"
    pay_mix_base: float | None = Field(default=None, ge=0.0, lt=1.0)
    curve: CurveSpec
    period: Literal["annual", "quarterly"] = "annual"
    quarter_weights: tuple[float, float, float, float] | None = None
    cliff_warn: float = Field(default=0.05, ge=0.0)

    _text_id = field_validator("id", mode="before")(_reject_numeric_id)

    @field_validator("quarter_weights")
    @classmethod
    def _weights(
        cls, value: tuple[float, float, float, float] | None
    ) -> tuple[float, float, float, float] | None:
        if value is not None and (
            min(value) < 0.0 or abs(math.fsum(value) - 1.0) > 1e-9
        ):
            raise ValueError(
                f"quarter_weights are the shares of TI at stake per quarter: four "
                f"values of 0 or more summing to 1; got {list(value)}"
            )
        return value


class SimulationSpec(StrictModel):
    """Monte Carlo of sales, attainment and pay (lognormal model; docs/quota.md).

    ``draws`` (default 10,000) simulated years. Expected sales per territory come
    from ``expected_sales_source``: ``forecast`` (weighted pipeline plus run-rate,
    the default), ``potential_penetration`` or ``prior_sales_growth``; they are
    rescaled to ``company_forecast`` when it is given. ``default_sales_cv`` (0.20)
    is the coefficient of variation of a territory's annual sales when the table
    has no ``sales_cv``; ``market_correlation`` ρ (default 0) is the share of the
    log-variance that all territories share.
    """

    draws: int = Field(default=10_000, ge=100, le=1_000_000)
    expected_sales_source: Literal[
        "forecast", "potential_penetration", "prior_sales_growth"
    ] = "forecast"
    company_forecast: float | None = Field(default=None, gt=0.0)
    default_sales_cv: float = Field(default=0.20, gt=0.0, le=5.0)
    market_correlation: float = Field(default=0.0, ge=0.0, le=1.0)
    model: str = "lognormal"

    @field_validator("model")
    @classmethod
    def _lognormal_only(cls, value: str) -> str:
        if value == "deal_level":
            raise ValueError(
                "model deal_level needs opportunity-level data that quota planning "
                "does not read yet; use model: lognormal"
            )
        if value != "lognormal":
            raise ValueError(f"model must be lognormal; got {value!r}")
        return value


class JointDesignSpec(StrictModel):
    """The joint territory-quota loop (docs/quota.md): re-solve the territories
    with a tighter potential band while the spread of P(quota) is too wide.

    ``start_tolerance`` (default: the scenario's own potential tolerance),
    ``min_tolerance`` (0.02), ``shrink`` (0.5) and ``max_iterations`` (6).
    """

    start_tolerance: float | None = Field(default=None, gt=0.0, lt=1.0)
    min_tolerance: float = Field(default=0.02, gt=0.0, lt=1.0)
    shrink: float = Field(default=0.5, gt=0.0, lt=1.0)
    max_iterations: int = Field(default=6, ge=1)


class FairnessSpec(StrictModel):
    """Limits behind the fairness warnings and the joint territory-quota loop.

    ``max_p_attain_spread`` (default 0.20): the largest gap in probability of
    reaching quota between two reps that the joint loop accepts.
    ``max_abs_correlation`` (0.2): warn when expected attainment correlates with
    potential or prior sales more strongly than this. ``share_at_quota_range``
    ([0.50, 0.70]), ``max_share_below_threshold`` (0.10) and
    ``share_above_excellence_range`` ([0.05, 0.15]) are the benchmark ranges of
    docs/quota.md (Warnings). ``excellence_attainment`` (1.5) marks excellence;
    ``threshold_attainment`` (null) marks the threshold, null taking each plan's
    own (the lowest attainment that pays).
    """

    max_p_attain_spread: float = Field(default=0.20, gt=0.0, le=1.0)
    max_abs_correlation: float = Field(default=0.2, ge=0.0, le=1.0)
    share_at_quota_range: tuple[float, float] = (0.50, 0.70)
    max_share_below_threshold: float = Field(default=0.10, ge=0.0, le=1.0)
    share_above_excellence_range: tuple[float, float] = (0.05, 0.15)
    excellence_attainment: float = Field(default=1.5, gt=0.0)
    threshold_attainment: float | None = Field(default=None, ge=0.0)

    @field_validator("share_at_quota_range", "share_above_excellence_range")
    @classmethod
    def _range(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not 0.0 <= value[0] <= value[1] <= 1.0:
            raise ValueError(
                f"a share range is [low, high] with 0 <= low <= high <= 1; got "
                f"{list(value)}"
            )
        return value


class QuotaSection(StrictModel):
    """Everything quota planning and comp simulation read from a scenario.

    ``fiscal_year`` is the calendar year in which the fiscal year starts, on the
    first day of ``fiscal_year_start_month`` (default 1, January). ``random_seed``
    (default 0) seeds every simulation. ``method`` (default ``potential``) picks the
    share rule of Q2 (docs/quota.md); ``simulation: null`` switches the Monte Carlo off.
    ``bounds_scope`` ``street`` (default) solves the bounds of Q3 with one λ over
    all territories against the street target; ``hierarchy`` solves them level by
    level, so that every region and district keeps its quota whenever the bounds of
    its territories allow.
    """

    fiscal_year: int = Field(ge=1900, le=2200)
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    random_seed: int = Field(default=0, ge=0)
    plan: PlanSpec
    method: Method = "potential"
    blend_weights: BlendWeights = BlendWeights()
    historical: HistoricalSpec = HistoricalSpec()
    capacity: CapacitySpec | None = None
    equal_probability: EqualProbabilitySpec = EqualProbabilitySpec()
    yoy_change: YoYChange = YoYChange()
    absolute_bounds: AbsoluteBounds = AbsoluteBounds()
    bounds_scope: Literal["street", "hierarchy"] = "street"
    rounding: RoundingSpec | None = None
    ramp: RampSpec = RampSpec()
    vacancy: VacancySpec = VacancySpec()
    reps: tuple[RepSpec, ...] = ()
    comp_plans: tuple[CompPlanSpec, ...] = ()
    simulation: SimulationSpec | None = SimulationSpec()
    fairness: FairnessSpec = FairnessSpec()
    joint_design: JointDesignSpec | None = None

    @model_validator(mode="after")
    def _cross_checks(self) -> QuotaSection:
        if self.method == "blended" and not any(self.blend_weights.as_dict().values()):
            raise ValueError(
                "blend_weights are all zero; give at least one of "
                f"{', '.join(BLEND_COMPONENTS)} a positive weight"
            )
        _unique("reps", [rep.id for rep in self.reps])
        plan_ids = [plan.id for plan in self.comp_plans]
        _unique("comp_plans", plan_ids)
        unknown = [
            f"{rep.id} -> {rep.comp_plan}"
            for rep in self.reps
            if rep.comp_plan is not None and rep.comp_plan not in plan_ids
        ]
        if unknown:
            known = ", ".join(plan_ids) or "none declared"
            raise ValueError(
                f"reps refer to comp plans that do not exist ({'; '.join(unknown)}); "
                f"known comp plans: {known}"
            )
        return self

    def rep(self, rep_id: str) -> RepSpec | None:
        """The declared rep with this id, or None."""
        return next((rep for rep in self.reps if rep.id == rep_id), None)

    def comp_plan(self, plan_id: str) -> CompPlanSpec:
        """The comp plan with this id (validated to exist)."""
        return next(plan for plan in self.comp_plans if plan.id == plan_id)


def _unique(what: str, ids: list[str]) -> None:
    """Raise when an id appears twice in a list section."""
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{what} ids must be unique; repeated: {', '.join(repeated)}")


def load_quota_section(data: Mapping[str, Any], where: str = "quota") -> QuotaSection:
    """Validate a parsed ``quota:`` block.

    Parameters
    ----------
    data
        The mapping under the ``quota:`` key of a scenario, as read from YAML.
    where
        Key path prefixed to every problem in the message (default ``quota``).

    Returns
    -------
    QuotaSection
        The validated, frozen section.

    Raises
    ------
    InputError
        Naming each offending key path, such as ``quota.yoy_change: yoy_change min
        (0.3) is above max (0.25); ...``.
    """
    try:
        return QuotaSection.model_validate(dict(data))
    except ValidationError as error:
        lines = [
            f"{where}: the quota section is not valid ({error.error_count()} "
            "problem(s))"
        ]
        for item in error.errors():
            loc = ".".join([where, *(str(p) for p in item["loc"])])
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "missing":
                message = "this key is required"
            lines.append(f"  - {loc}: {message}")
        raise InputError("\n".join(lines)) from None
