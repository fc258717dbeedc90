"""Tests of a whole forecast run, its files, the file readers and before/after.

The tiny book (stages A < B < C with CRM default probabilities 0.2, 0.5, 0.8):

    id  account  own territory  stage  amount  close       note
    o1  a1       T1             A      1000    2026-03-01
    o2  a1       T1             C       500    2026-04-01
    o3  a2       T2             B      2000    2026-05-01
    o4  (none)   T2             A       100    2026-06-01  stays with its owner
    w1  a1       T1             Won     300    2026-01-03  closed in the period
    l1  a2       T2             Lost      0    2025-12-01  reached B

Alignment a1 -> T1, a2 -> T2: E_T1 = 1000 * 0.2 + 500 * 0.8 = 600 and
E_T2 = 2000 * 0.5 + 100 * 0.2 = 1020. Account revenue: a1 1000, a2 3000.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from territory_opt.errors import InputError
from territory_opt.forecast import (
    ForecastSection,
    before_after,
    run_forecast,
    write_forecast_files,
)
from territory_opt.forecast.io import load_forecast_inputs, read_opportunities

SECTION = ForecastSection.model_validate(
    {
        "as_of": "2026-01-05",
        "period": {"start": "2026-01-01", "end": "2026-12-31"},
        "stage_order": ["A", "B", "C"],
        "probability_source": "crm_default",
        "smoothing_alpha": 2,
        "default_probabilities": {"A": 0.2, "B": 0.5, "C": 0.8},
        "draws": 0,
    }
)
BOOK = pd.DataFrame(
    [
        ("o1", "a1", "T1", "A", 1000, "2026-03-01", "2026-01-01", "2026-01-02"),
        ("o2", "a1", "T1", "C", 500, "2026-04-01", "2026-01-01", "2026-01-02"),
        ("o3", "a2", "T2", "B", 2000, "2026-05-01", "2026-01-01", "2026-01-02"),
        ("o4", "", "T2", "A", 100, "2026-06-01", "2026-01-01", "2026-01-02"),
        ("w1", "a1", "T1", "Won", 300, "2026-01-03", "", ""),
        ("l1", "a2", "T2", "Lost", 0, "2025-12-01", "", ""),
    ],
    columns=[
        "id",
        "account_id",
        "territory_id",
        "stage",
        "amount",
        "close_date",
        "stage_entered_date",
        "last_activity_date",
    ],
).assign(last_open_stage=["", "", "", "", "", "B"])
ALIGNMENT = {"a1": "T1", "a2": "T2"}
MOVED = {"a1": "T1", "a2": "T1"}
REVENUE = pd.DataFrame({"account_id": ["a1", "a2"], "revenue": [1000, 3000]})
TERRITORIES = pd.DataFrame(
    {"territory_id": ["T1", "T2"], "rep_id": ["R1", "R2"], "potential": [5, 5]}
)


def _run(alignment, **kwargs):
    return run_forecast(
        SECTION,
        BOOK,
        alignment,
        kwargs.pop("quotas", None),
        territories=TERRITORIES,
        revenue=REVENUE,
        **kwargs,
    )


def test_forecast_per_territory_by_hand():
    """E 600 and 1020; Closed 300 and 0; OpenPipeline 1500 and 2100."""
    forecast = _run(ALIGNMENT).forecast.set_index("territory_id")
    assert forecast["E"].tolist() == pytest.approx([600.0, 1020.0])
    assert forecast["Closed"].tolist() == [300.0, 0.0]
    assert forecast["OpenPipeline"].tolist() == [1500.0, 2100.0]
    assert forecast["SD"].iloc[0] == pytest.approx(
        math.sqrt(1000**2 * 0.16 + 500**2 * 0.16)
    )


def test_coverage_gap_is_flagged():
    """Quota 1,300 leaves 1,000 for T1: coverage 1.5 against 1/0.2 = 5 needed."""
    outcome = _run(ALIGNMENT, quotas={"T1": 1300})
    t1 = outcome.forecast.set_index("territory_id").loc["T1"]
    assert t1["coverage"] == 1.5
    assert t1["required_coverage"] == pytest.approx(5.0)
    assert t1["flags"] == "coverage_gap"
    assert "coverage_gap" in [w.code for w in outcome.warnings]


def test_one_moved_account_moves_revenue_pipeline_and_history():
    """Moving one account moves its revenue, open pipeline and closed deals."""
    # Moving a2 to T1 moves its revenue (3,000), its open deal (E +1,000, open pipeline
    # +2,000) and its closed deal; the account-less o4 stays in T2.
    before = _run(ALIGNMENT)
    after = _run(MOVED)
    f0 = before.forecast.set_index("territory_id")
    f1 = after.forecast.set_index("territory_id")
    c0 = before.contribution.set_index("territory_id")
    c1 = after.contribution.set_index("territory_id")

    assert c1.loc["T1", "revenue"] - c0.loc["T1", "revenue"] == 3000.0
    assert c1.loc["T2", "revenue"] == 0.0
    assert f1.loc["T1", "E"] - f0.loc["T1", "E"] == pytest.approx(1000.0)
    assert f1.loc["T2", "E"] == pytest.approx(20.0)
    assert f1.loc["T1", "OpenPipeline"] - f0.loc["T1", "OpenPipeline"] == 2000.0
    flags0 = before.opportunity_flags.set_index("id")["territory_id"]
    flags1 = after.opportunity_flags.set_index("id")["territory_id"]
    assert (flags0["o3"], flags1["o3"], flags1["o4"]) == ("T2", "T1", "T2")


def test_history_moves_with_the_account():
    """The lost deal l1 of a2 counts in T1's win rate once a2 moves there."""
    from territory_opt.forecast.schema import assign_territories, prepare_opportunities
    from territory_opt.forecast.stages import estimate_stage_rates, group_win_rates

    for alignment, expected in ((ALIGNMENT, {"T1": 1, "T2": 1}), (MOVED, {"T1": 2})):
        opps, _ = assign_territories(prepare_opportunities(BOOK, SECTION), alignment)
        rates = estimate_stage_rates(opps, SECTION)
        table = group_win_rates(opps, rates, SECTION).set_index("territory_id")
        found = table["n_reached_first"].to_dict()
        assert {k: v for k, v in found.items() if v} == expected


def test_outcome_tables_and_metrics_are_json_ready():
    """Every frame is there and the metrics dump as strict JSON."""
    outcome = _run(ALIGNMENT, quotas={"T1": 1300, "T2": 100})
    assert list(outcome.stages["stage"]) == ["A", "B", "C"]
    assert outcome.funnel_integrity["territory_id"].tolist() == ["T1", "T2"]
    assert outcome.accuracy.empty
    text = json.dumps(outcome.metrics, allow_nan=False)
    document = json.loads(text)
    assert document["forecast"]["totals"]["E"] == pytest.approx(1620.0)
    assert document["contribution"]["revenue_total"] == 4000.0
    assert document["contribution"]["top_20pct_accounts_revenue_share"] == 0.75
    assert set(document) >= {"forecast", "stages", "funnel_integrity", "warnings"}


def test_write_forecast_files(tmp_path: Path):
    """The CSV files and forecast_metrics.json are written and read back."""
    outcome = _run(ALIGNMENT)
    written = write_forecast_files(outcome, tmp_path / "out")
    names = [p.name for p in written]
    assert names == [
        "forecast.csv",
        "funnel_integrity.csv",
        "contribution.csv",
        "stages.csv",
        "accuracy.csv",
        "opportunity_flags.csv",
        "deal_checks.csv",
        "contribution_by_product.csv",
        "top_customers.csv",
        "customer_concentration.csv",
        "forecast_metrics.json",
    ]
    forecast = pd.read_csv(tmp_path / "out" / "forecast.csv")
    assert {
        "E",
        "SD",
        "P10",
        "P90",
        "Closed",
        "Commit",
        "BestCase",
        "OpenPipeline",
        "coverage",
        "required_coverage",
        "flags",
    } <= set(forecast)
    json.loads((tmp_path / "out" / "forecast_metrics.json").read_text())


@settings(max_examples=25)
@given(st.permutations(range(len(BOOK))))
def test_run_does_not_depend_on_row_order(order):
    """Shuffling the opportunities changes no output frame (draws included)."""
    section = SECTION.with_changes(draws=300, probability_source="historical")
    first = run_forecast(section, BOOK, ALIGNMENT)
    second = run_forecast(section, BOOK.iloc[list(order)], ALIGNMENT)
    pd.testing.assert_frame_equal(first.forecast, second.forecast)
    pd.testing.assert_frame_equal(first.stages, second.stages)
    pd.testing.assert_frame_equal(first.funnel_integrity, second.funnel_integrity)


def test_before_after_side_by_side():
    """before_after shows changes, continuity and disruption of one move."""
    # Moving a2 to T1: revenue +3,000 in T1, E +1,000; half the accounts and 3000/4000
    # of revenue move; 2000/3500 of the live pipeline with an account moves; a1 keeps R1
    # but a2 leaves R2; T1 keeps 3000/4000 from old T2.
    result = before_after(
        SECTION,
        BOOK,
        ALIGNMENT,
        MOVED,
        revenue=REVENUE,
        territories=TERRITORIES,
    )
    table = result.territories.set_index("territory_id")
    disruption = result.summary["disruption"]

    assert table.loc["T1", "revenue_change"] == 3000.0
    assert table.loc["T1", "E_change"] == pytest.approx(1000.0)
    assert table.loc["T1", "continuity"] == pytest.approx(0.75)
    assert disruption["accounts_moved_share"] == 0.5
    assert disruption["revenue_moved_share"] == 0.75
    assert disruption["pipeline_moved_share"] == pytest.approx(2000 / 3500)
    assert disruption["relationships_kept_share"] == 0.5
    assert result.summary["proposed"]["E_total"] == pytest.approx(1620.0)


def _write(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    frame.to_csv(path, index=False)
    return path


def test_reader_names_file_line_and_column(tmp_path: Path):
    """A bad date on the second data row is reported as line 3 of the file."""
    bad = BOOK.copy()
    bad.loc[1, "close_date"] = "31/12/2026"
    path = _write(tmp_path, "opportunities.csv", bad)
    with pytest.raises(InputError) as caught:
        read_opportunities(path, SECTION)
    message = str(caught.value)
    assert str(path) in message
    assert "line 3, column 'close_date': '31/12/2026' is not a date" in message
    assert "YYYY-MM-DD" in message


def test_reader_names_missing_columns(tmp_path: Path):
    """A file without the stage column is rejected with the columns it has."""
    path = _write(tmp_path, "opportunities.csv", BOOK.drop(columns="stage"))
    with pytest.raises(InputError, match="missing column.*'stage'.*the table has"):
        read_opportunities(path, SECTION)


def test_repeated_ids_are_named(tmp_path: Path):
    """Two rows with one id are both located."""
    bad = BOOK.copy()
    bad.loc[2, "id"] = "o1"
    path = _write(tmp_path, "opportunities.csv", bad)
    with pytest.raises(InputError, match="line 4, column 'id': id 'o1' repeats line 2"):
        read_opportunities(path, SECTION)


def test_load_forecast_inputs_reads_every_file(tmp_path: Path):
    """All five files named in the section are read and validated."""
    data = tmp_path / "data"
    _write(data, "opportunities.csv", BOOK)
    _write(
        data,
        "history.csv",
        pd.DataFrame({"id": ["l1"], "stage": ["B"], "entered_date": ["2025-11-01"]}),
    )
    _write(
        data,
        "actuals.csv",
        pd.DataFrame({"territory_id": ["T1"], "period": ["2026-01"], "actual": [100]}),
    )
    _write(
        data,
        "forecasts.csv",
        pd.DataFrame(
            {
                "territory_id": ["T1"],
                "period": ["2026-01"],
                "snapshot_date": ["2025-12-01"],
                "forecast": [90],
            }
        ),
    )
    _write(data, "revenue.csv", REVENUE)
    section = ForecastSection.model_validate(
        SECTION.model_dump(mode="json")
        | {
            "opportunities_file": "data/opportunities.csv",
            "history_file": "data/history.csv",
            "actuals_file": "data/actuals.csv",
            "forecast_snapshots_file": "data/forecasts.csv",
            "revenue_file": "data/revenue.csv",
        },
        context={"base_dir": tmp_path},
    )
    inputs = load_forecast_inputs(section)
    assert len(inputs.opportunities) == 6
    assert inputs.history is not None and len(inputs.history) == 1

    outcome = run_forecast(
        section,
        inputs.opportunities,
        ALIGNMENT,
        history=inputs.history,
        revenue=inputs.revenue,
        actuals=inputs.actuals,
        snapshots=inputs.snapshots,
    )
    accuracy = outcome.accuracy.set_index("territory_id")
    assert accuracy.loc["(all)", "WAPE"] == pytest.approx(0.1)


def test_load_without_opportunities_file_says_what_to_add():
    """The section needs opportunities_file to read from files."""
    with pytest.raises(InputError, match="forecast.opportunities_file is not set"):
        load_forecast_inputs(SECTION)
