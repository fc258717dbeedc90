"""The ``forecast:`` section of a scenario: stages, probabilities, hygiene, files.

The section is described in docs/forecast.md. Stage names are compared exactly
as written (``Proposal`` and ``proposal`` are two stages). Relative file paths
are resolved against the folder of the scenario file when the model is validated
with the context ``{"base_dir": folder}``, the same convention as the rest of the
scenario.

Example::

    forecast:
      as_of: 2026-01-05
      period: {start: 2026-01-01, end: 2026-12-31}
      stage_order: [Prospecting, Qualification, Proposal, Negotiation]
      won_stages: [Won]
      lost_stages: [Lost]
      probability_source: historical
      default_probabilities:
        {Prospecting: 0.10, Qualification: 0.20, Proposal: 0.50, Negotiation: 0.75}
      opportunities_file: data/opportunities.csv
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from territory_opt.config import StrictModel

__all__ = [
    "CATEGORIES",
    "ForecastSection",
    "HygieneSpec",
    "PeriodWindow",
]

# Forecast categories an open opportunity may carry, in Salesforce order.
CATEGORIES = ("pipeline", "best_case", "commit", "omitted")

Category = Literal["pipeline", "best_case", "commit", "omitted"]


class PeriodWindow(StrictModel):
    """The forecast period ``[start, end]``; both days are inside the window."""

    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> PeriodWindow:
        if self.end < self.start:
            raise ValueError(
                f"period.end {self.end} is before period.start {self.start}; swap them"
            )
        return self


class HygieneSpec(StrictModel):
    """Thresholds of the pipeline hygiene flags (docs/forecast.md).

    An open opportunity is stale when its days in the current stage exceed
    ``stale_factor`` (default 2.0) times the median days of that stage, or
    ``stale_fallback_days`` (default 90) when the stage has no history. It has no
    activity when the last activity is more than ``no_activity_days`` (default 30)
    days before ``as_of``, and it is pushed when its close date has changed at
    least ``pushes_threshold`` (default 2) times.
    """

    stale_factor: float = Field(default=2.0, gt=0.0)
    stale_fallback_days: float = Field(default=90.0, gt=0.0)
    no_activity_days: float = Field(default=30.0, ge=0.0)
    pushes_threshold: int = Field(default=2, ge=1)


def _resolve_path(value: Path | None, info: ValidationInfo) -> Path | None:
    base = (info.context or {}).get("base_dir")
    if value is None or base is None or value.is_absolute():
        return value
    return (Path(base) / value).resolve()


class ForecastSection(StrictModel):
    """How to forecast the pipeline and check its hygiene and accuracy.

    ``as_of`` is the day the pipeline is read; ``period`` the window whose
    closing opportunities are forecast. ``stage_order`` lists the open stages from
    first to last; ``won_stages`` and ``lost_stages`` the closed ones (default
    ``[Won]`` and ``[Lost]``).

    ``probability_source`` picks the stage probabilities: ``historical``
    (reached-stage win rates of deals closed in the last ``lookback_days``, default
    730, smoothed toward ``default_probabilities`` with ``smoothing_alpha`` pseudo
    deals, default 10), ``crm_default`` (``default_probabilities`` as given) or
    ``markov`` (absorption probabilities of the observed stage transitions; needs a
    history file). ``default_probabilities`` needs one probability in [0, 1] per
    open stage. ``segment_by`` names opportunity columns with separate rates.

    ``category_map`` gives the forecast category (``pipeline``, ``best_case``,
    ``commit`` or ``omitted``) of each open stage; unmapped stages are
    ``pipeline``. An opportunity's own ``forecast_category`` wins over the map.

    ``draws`` Bernoulli draws (default 10,000; 0 turns them off) give empirical
    P10/P90 with the seed ``random_seed`` (default 0). ``age_decay`` adds the
    age-adjusted forecast next to the plain one (default off).

    Files: ``opportunities_file`` (needed when the forecast is read from files),
    and the optional ``history_file``, ``actuals_file``,
    ``forecast_snapshots_file`` and ``revenue_file`` (account-level revenue for
    contribution). Accuracy compares each actual with the latest snapshot taken at
    least ``snapshot_lag_days`` (default 0) before the start of its period.
    Without actuals and snapshot files, ``backtest_period`` (``month``,
    ``quarter`` or ``year``; default none) rebuilds both from the deals: the
    won amount of each past period, and the weighted pipeline as it stood
    ``snapshot_lag_days`` before the period began (see
    :mod:`territory_opt.forecast.backtest`).
    """

    as_of: date
    period: PeriodWindow
    stage_order: tuple[str, ...] = Field(min_length=1)
    won_stages: tuple[str, ...] = Field(default=("Won",), min_length=1)
    lost_stages: tuple[str, ...] = Field(default=("Lost",), min_length=1)
    probability_source: Literal["historical", "crm_default", "markov"] = "historical"
    lookback_days: int = Field(default=730, ge=1)
    smoothing_alpha: float = Field(default=10.0, ge=0.0)
    default_probabilities: dict[str, float]
    segment_by: tuple[str, ...] = ()
    category_map: dict[str, Category] = Field(default_factory=dict)
    hygiene: HygieneSpec = HygieneSpec()
    draws: int = Field(default=10_000, ge=0)
    random_seed: int = Field(default=0, ge=0)
    age_decay: bool = False
    opportunities_file: Path | None = None
    history_file: Path | None = None
    actuals_file: Path | None = None
    forecast_snapshots_file: Path | None = None
    revenue_file: Path | None = None
    snapshot_lag_days: int = Field(default=0, ge=0)
    backtest_period: Literal["month", "quarter", "year"] | None = None

    _resolve_files = field_validator(
        "opportunities_file",
        "history_file",
        "actuals_file",
        "forecast_snapshots_file",
        "revenue_file",
    )(_resolve_path)

    @field_validator("stage_order", "won_stages", "lost_stages", "segment_by")
    @classmethod
    def _distinct_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        blank = [i for i, name in enumerate(value) if not str(name).strip()]
        if blank:
            raise ValueError(f"entry {blank[0] + 1} is blank; write a name")
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(
                f"{', '.join(repeated)} listed more than once; list each name once"
            )
        return value

    @field_validator("default_probabilities")
    @classmethod
    def _probabilities_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        bad = {k: v for k, v in value.items() if not 0.0 <= v <= 1.0}
        if bad:
            shown = ", ".join(f"{k}: {v}" for k, v in bad.items())
            raise ValueError(
                f"probabilities must lie in [0, 1] (0.25 means 25 %); got {shown}"
            )
        return value

    @model_validator(mode="after")
    def _stages_agree(self) -> ForecastSection:
        open_stages = set(self.stage_order)
        overlap = sorted(
            (open_stages & set(self.won_stages))
            | (open_stages & set(self.lost_stages))
            | (set(self.won_stages) & set(self.lost_stages))
        )
        if overlap:
            raise ValueError(
                f"stage(s) {', '.join(overlap)} appear in more than one of "
                f"stage_order, won_stages and lost_stages; a stage is open, won or "
                f"lost, not two of them"
            )
        valid = ", ".join(self.stage_order)
        unknown = sorted(set(self.default_probabilities) - open_stages)
        if unknown:
            raise ValueError(
                f"default_probabilities has unknown stage(s) {', '.join(unknown)}; "
                f"valid stages are: {valid}"
            )
        missing = [s for s in self.stage_order if s not in self.default_probabilities]
        if missing:
            raise ValueError(
                f"default_probabilities lacks stage(s) {', '.join(missing)}; give "
                f"one probability per stage of stage_order ({valid})"
            )
        unknown = sorted(set(self.category_map) - open_stages)
        if unknown:
            raise ValueError(
                f"category_map has unknown stage(s) {', '.join(unknown)}; valid "
                f"stages are: {valid}"
            )
        return self

    @property
    def closed_stages(self) -> tuple[str, ...]:
        """Won and lost stage names together."""
        return self.won_stages + self.lost_stages

    def category_of(self, stage: str) -> str:
        """Forecast category of an open stage: the map's entry, else ``pipeline``."""
        return self.category_map.get(stage, "pipeline")

    def with_changes(self, **changes: Any) -> ForecastSection:
        """A validated copy with some fields replaced."""
        data = self.model_dump() | changes
        return ForecastSection.model_validate(data)
