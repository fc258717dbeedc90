"""Tests of the forecast section: DOMAIN.md 6.2 validates, mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from territory_opt.forecast.spec import ForecastSection

# The forecast block of DOMAIN.md 6.2, plus the file paths this section carries.
DOMAIN_BLOCK = """
as_of: 2026-01-05
period: {start: 2026-01-01, end: 2026-12-31}
stage_order: [Prospecting, Qualification, Proposal, Negotiation]
won_stages: [Won]
lost_stages: [Lost]
probability_source: historical
lookback_days: 730
smoothing_alpha: 10
default_probabilities:
  {Prospecting: 0.10, Qualification: 0.20, Proposal: 0.50, Negotiation: 0.75}
segment_by: [segment]
category_map:
  {Prospecting: pipeline, Qualification: pipeline, Proposal: best_case,
   Negotiation: commit}
hygiene:
  stale_factor: 2.0
  stale_fallback_days: 90
  no_activity_days: 30
  pushes_threshold: 2
opportunities_file: data/opportunities.csv
history_file: data/opportunity_history.csv
actuals_file: data/actuals.csv
forecast_snapshots_file: data/forecasts.csv
snapshot_lag_days: 30
"""


def _load(text: str, **changes: object) -> ForecastSection:
    return ForecastSection.model_validate(yaml.safe_load(text) | changes)


def test_domain_block_validates_with_its_values():
    """The DOMAIN.md 6.2 block loads; stages, defaults and thresholds are kept."""
    section = _load(DOMAIN_BLOCK)

    assert section.stage_order[-1] == "Negotiation"
    assert section.default_probabilities["Proposal"] == 0.50
    assert section.category_of("Negotiation") == "commit"
    assert section.hygiene.pushes_threshold == 2
    assert section.snapshot_lag_days == 30
    assert section.closed_stages == ("Won", "Lost")


def test_relative_paths_resolve_against_the_scenario_folder(tmp_path: Path):
    """With the base_dir context, data/x.csv becomes <folder>/data/x.csv."""
    section = ForecastSection.model_validate(
        yaml.safe_load(DOMAIN_BLOCK), context={"base_dir": tmp_path}
    )
    assert section.opportunities_file == (tmp_path / "data/opportunities.csv").resolve()


def test_defaults_of_optional_fields():
    """Omitted fields take their documented defaults."""
    section = ForecastSection.model_validate(
        {
            "as_of": "2026-01-05",
            "period": {"start": "2026-01-01", "end": "2026-03-31"},
            "stage_order": ["A"],
            "default_probabilities": {"A": 0.3},
        }
    )
    assert section.won_stages == ("Won",)
    assert section.probability_source == "historical"
    assert section.lookback_days == 730
    assert section.smoothing_alpha == 10.0
    assert section.draws == 10_000
    assert section.hygiene.stale_fallback_days == 90.0
    assert section.category_of("A") == "pipeline"
    assert section.opportunities_file is None


def test_unknown_key_lists_the_valid_ones():
    """A typo is rejected and the message lists the valid keys."""
    with pytest.raises(ValidationError, match="unknown key.*lookback.*valid keys"):
        _load(DOMAIN_BLOCK, lookback=10)


def test_unknown_hygiene_key_is_rejected():
    """The hygiene block is strict too."""
    with pytest.raises(ValidationError, match="stale_days.*valid keys are"):
        _load(DOMAIN_BLOCK, hygiene={"stale_days": 3})


def test_missing_default_probability_is_named():
    """Every open stage needs a default probability; the missing one is named."""
    with pytest.raises(ValidationError, match="lacks stage.*Negotiation"):
        _load(
            DOMAIN_BLOCK,
            default_probabilities={
                "Prospecting": 0.1,
                "Qualification": 0.2,
                "Proposal": 0.5,
            },
        )


def test_default_probability_outside_unit_interval():
    """1.5 is not a probability."""
    with pytest.raises(ValidationError, match=r"in \[0, 1\].*Proposal: 1.5"):
        _load(
            DOMAIN_BLOCK,
            default_probabilities={
                "Prospecting": 0.1,
                "Qualification": 0.2,
                "Proposal": 1.5,
                "Negotiation": 0.7,
            },
        )


def test_stage_open_and_won_at_once_is_rejected():
    """A stage cannot be open and won."""
    with pytest.raises(ValidationError, match="Negotiation appear in more than one"):
        _load(DOMAIN_BLOCK, won_stages=["Negotiation"])


def test_category_map_with_unknown_stage():
    """category_map keys must be open stages."""
    with pytest.raises(ValidationError, match="category_map has unknown stage.*Won"):
        _load(DOMAIN_BLOCK, category_map={"Won": "commit"})


def test_category_map_with_unknown_category():
    """Only pipeline, best_case, commit and omitted are categories."""
    with pytest.raises(ValidationError, match="best_case"):
        _load(DOMAIN_BLOCK, category_map={"Proposal": "upside"})


def test_period_end_before_start():
    """The period must not run backwards."""
    with pytest.raises(ValidationError, match="before period.start"):
        _load(DOMAIN_BLOCK, period={"start": "2026-12-31", "end": "2026-01-01"})


def test_repeated_stage_is_rejected():
    """A stage listed twice is an error."""
    with pytest.raises(ValidationError, match="Proposal listed more than once"):
        _load(DOMAIN_BLOCK, stage_order=["Prospecting", "Proposal", "Proposal"])


def test_section_is_frozen():
    """A loaded section cannot be changed in place."""
    section = _load(DOMAIN_BLOCK)
    with pytest.raises(ValidationError):
        section.lookback_days = 5  # type: ignore[misc]


def test_with_changes_validates_the_copy():
    """with_changes returns a validated copy and leaves the original alone."""
    section = _load(DOMAIN_BLOCK)
    copy = section.with_changes(draws=0)
    assert (copy.draws, section.draws) == (0, 10_000)
    with pytest.raises(ValidationError):
        section.with_changes(draws=-1)


DOCS = Path(__file__).resolve().parents[2] / "docs" / "forecast.md"


@pytest.mark.skipif(not DOCS.exists(), reason=f"{DOCS} not found")
def test_example_in_docs_validates():
    """The forecast: block shown in docs/forecast.md is a valid section."""
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("```yaml", 1)[1].split("```", 1)[0]
    section = ForecastSection.model_validate(yaml.safe_load(block)["forecast"])
    assert section.random_seed == 42
    assert section.revenue_file == Path("data/account_revenue.csv")
