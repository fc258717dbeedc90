"""Measure and predict: contribution, stage rates, weighted pipeline, hygiene,
accuracy.

``docs/forecast.md`` states the formulas the modules follow, in long
form. Every figure is computed from account- and opportunity-level rows joined
to the alignment given, so a moved account carries its revenue, pipeline and
history with it.
"""

from territory_opt.forecast.run import (
    BeforeAfter,
    ForecastOutcome,
    before_after,
    run_forecast,
    write_forecast_files,
)
from territory_opt.forecast.schema import ForecastWarning
from territory_opt.forecast.spec import ForecastSection, HygieneSpec, PeriodWindow

__all__ = [
    "BeforeAfter",
    "ForecastOutcome",
    "ForecastSection",
    "ForecastWarning",
    "HygieneSpec",
    "PeriodWindow",
    "before_after",
    "run_forecast",
    "write_forecast_files",
]
