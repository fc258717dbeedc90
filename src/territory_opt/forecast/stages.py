"""Stage probabilities: reached-stage win rates, Markov absorption, stage durations.

Sets and symbols (docs/forecast.md): open stages ``s`` in ``stage_order`` with order
index ``o(s)``; closed opportunities ``j`` whose close date lies in the lookback
window ``[as_of - lookback_days, as_of]``.

- Reached: ``j`` reached ``s`` if its history holds ``s``. Without history, a won
  deal reached every open stage, and a lost deal reached every stage up to its
  last open stage (``last_open_stage``, or its own stage when that is open). A lost
  deal with neither is counted at the first stage only, and a warning says how
  many there were.
- Counts ``N_s = #reached s``, ``Wn_s = #won among them``.
- Smoothed rate ``p_s = (Wn_s + alpha p0_s) / (N_s + alpha)`` with ``p0_s`` the
  default probability; ``p_s = p0_s`` when ``N_s + alpha = 0``.
- Segments: the same counts per value of the ``segment_by`` columns; a segment
  whose ``N_s`` is below ``alpha`` (or zero) uses the unsegmented ``p_s``.
- Markov: counts ``C[s, t]`` of observed transitions (including to Won and Lost)
  are row-normalised to ``P = [[Q, R], [0, I]]``; absorption ``B = (I - Q)^-1 R``
  and ``p_s = B[s, Won]``. A stage never left in the data is absorbed with its
  default probability, so that stages flowing into it stay consistent.
- Median days in stage: over stage visits that ended (by the next history entry,
  or by the close of the deal) inside the lookback window.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt
import pandas as pd

from territory_opt.forecast.schema import ForecastWarning
from territory_opt.forecast.spec import ForecastSection

__all__ = [
    "ALL_SEGMENTS",
    "StageRates",
    "age_adjusted_probabilities",
    "days_in_stage",
    "estimate_stage_rates",
    "group_win_rates",
    "markov_probabilities",
    "median_days_in_stage",
    "reached_matrix",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int_]

# Internal names of the absorbing states, apart from any stage label.
_WON_STATE = "<won>"
_LOST_STATE = "<lost>"

# Segment label of the unsegmented rates.
ALL_SEGMENTS = "(all)"
_SEGMENT_JOIN = " | "
_BLANK = "(blank)"


@dataclass(frozen=True)
class StageRates:
    """Stage probabilities per segment, with the counts behind them.

    ``table`` holds one row per (segment, stage) with the columns ``segment``,
    ``stage``, ``order``, ``n_reached``, ``n_won``, ``win_rate_raw``
    (``n_won / n_reached``), ``default_probability``, ``probability`` (the one
    used), ``fallback`` (true when the row uses the unsegmented or the default
    value) and ``median_days_in_stage``; Markov runs add ``transitions_out``.
    """

    table: pd.DataFrame
    source: str
    segment_by: tuple[str, ...]
    warnings: tuple[ForecastWarning, ...] = field(default=())

    def probability_of(self, stage: str, segment: str = ALL_SEGMENTS) -> float:
        """Probability of ``stage`` in ``segment``; 0.0 for an unknown stage."""
        rows = self.table[self.table["stage"] == stage]
        chosen = rows[rows["segment"] == segment]
        if chosen.empty:
            chosen = rows[rows["segment"] == ALL_SEGMENTS]
        return float(chosen["probability"].iloc[0]) if len(chosen) else 0.0

    def median_days(self) -> dict[str, float]:
        """Median days in each stage (NaN where no visit ended), unsegmented."""
        rows = self.table[self.table["segment"] == ALL_SEGMENTS]
        return dict(zip(rows["stage"], rows["median_days_in_stage"], strict=True))

    def opportunity_probabilities(self, opportunities: pd.DataFrame) -> pd.Series:
        """Probability of every opportunity, aligned with the frame's index.

        Open deals get the probability of their stage in their segment (or the
        unsegmented one for a segment not in the table); an open deal in a stage
        outside ``stage_order`` gets 0.0. Won deals get 1.0, lost deals 0.0.
        """
        lookup = {
            (seg, stage): p
            for seg, stage, p in zip(
                self.table["segment"],
                self.table["stage"],
                self.table["probability"],
                strict=True,
            )
        }
        keys = segment_keys(opportunities, self.segment_by)
        values = []
        for key, stage, status in zip(
            keys, opportunities["stage"], opportunities["status"], strict=True
        ):
            if status != "open":
                values.append(1.0 if status == "won" else 0.0)
                continue
            fallback = lookup.get((ALL_SEGMENTS, stage), 0.0)
            values.append(lookup.get((key, stage), fallback))
        return pd.Series(values, index=opportunities.index, dtype=float)


def segment_keys(opportunities: pd.DataFrame, segment_by: tuple[str, ...]) -> list[str]:
    """The segment label of each row: its ``segment_by`` values joined by ``|``,
    a blank value written ``(blank)``."""
    if not segment_by:
        return [ALL_SEGMENTS] * len(opportunities)
    columns = [
        opportunities[c].astype(str).str.strip().replace("", _BLANK) for c in segment_by
    ]
    return [_SEGMENT_JOIN.join(parts) for parts in zip(*columns, strict=True)]


def _closed_in_lookback(
    opportunities: pd.DataFrame, section: ForecastSection
) -> pd.DataFrame:
    as_of = pd.Timestamp(section.as_of)
    start = as_of - pd.Timedelta(days=section.lookback_days)
    closed = opportunities["status"].isin(("won", "lost"))
    in_window = opportunities["close_date"].between(start, as_of)
    return opportunities[closed & in_window]


def reached_matrix(
    opportunities: pd.DataFrame,
    section: ForecastSection,
    history: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, npt.NDArray[np.bool_], int]:
    """Which open stages each closed opportunity of the lookback window reached.

    Returns
    -------
    tuple
        The closed opportunities in the window (rows of ``opportunities``), a
        boolean matrix with one row per such deal and one column per stage of
        ``stage_order``, and the number of lost deals with neither history nor a
        known last open stage (counted at the first stage only).
    """
    closed = _closed_in_lookback(opportunities, section)
    stages = section.stage_order
    order = {s: k for k, s in enumerate(stages)}
    visited: dict[str, set[str]] = {}
    if history is not None and len(history):
        wanted = history[history["id"].isin(set(closed["id"]))]
        grouped = wanted.groupby("id")["stage"].agg(set)
        visited = {str(k): set(v) for k, v in grouped.items()}

    reached = np.zeros((len(closed), len(stages)), dtype=bool)
    unknown_lost = 0
    rows = zip(
        closed["id"],
        closed["status"],
        closed["stage"],
        closed["last_open_stage"],
        strict=True,
    )
    for i, (opp, status, stage, last_open) in enumerate(rows):
        if opp in visited:
            reached[i] = [s in visited[opp] for s in stages]
        elif status == "won":
            reached[i] = True
        elif last_open in order or stage in order:
            last = order[last_open] if last_open in order else order[stage]
            reached[i, : last + 1] = True
        else:
            reached[i, 0] = True
            unknown_lost += 1
    return closed, reached, unknown_lost


def _smoothed(won: IntArray, n: IntArray, alpha: float, p0: FloatArray) -> FloatArray:
    total = n + alpha
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = (won + alpha * p0) / total
    return np.where(total > 0, rate, p0)


def estimate_stage_rates(
    opportunities: pd.DataFrame,
    section: ForecastSection,
    history: pd.DataFrame | None = None,
    *,
    log: bool = True,
) -> StageRates:
    """Stage probabilities from the deals closed in the lookback window.

    Parameters
    ----------
    opportunities
        Canonical opportunities (:func:`~territory_opt.forecast.schema.
        prepare_opportunities`); open ones are used for the segment list only.
    section
        The forecast section: stages, source, lookback, smoothing, segments.
    history
        Optional canonical stage history (``id``, ``stage``, ``entered_date``).
    log
        Log the warnings (default true); they are returned either way.

    Returns
    -------
    StageRates
        The rate table and the warnings: sparse history (``N_s < alpha``),
        probabilities that fall along the stage order, lost deals without a known
        last stage, segments that fall back, and Markov fall-backs.
    """
    stages = section.stage_order
    alpha = section.smoothing_alpha
    p0 = np.array([section.default_probabilities[s] for s in stages])
    closed, reached, unknown_lost = reached_matrix(opportunities, section, history)
    won = (closed["status"] == "won").to_numpy()
    n_all = reached.sum(axis=0)
    wn_all = reached[won].sum(axis=0)
    medians = median_days_in_stage(opportunities, section, history)
    warnings: list[ForecastWarning] = []

    source = section.probability_source
    transitions: dict[str, int] | None = None
    markov: dict[str, float] | None = None
    if source == "markov":
        if history is None or history.empty:
            warnings.append(
                ForecastWarning(
                    "markov_without_history",
                    "probability_source is markov but there is no stage history; "
                    "historical reached-stage rates are used instead. Add a "
                    "history_file",
                )
            )
            source = "historical"
        else:
            markov, transitions, markov_warnings = markov_probabilities(
                opportunities, section, history
            )
            warnings += markov_warnings
            if markov is None:
                source = "historical"
    if source == "historical":
        p_all = _smoothed(wn_all, n_all, alpha, p0)
        fallback_all = n_all + alpha == 0
    elif source == "crm_default":
        p_all, fallback_all = p0.copy(), np.ones(len(stages), dtype=bool)
    else:
        assert markov is not None and transitions is not None
        p_all = np.array([markov[s] for s in stages])
        fallback_all = np.array([transitions[s] == 0 for s in stages])

    frames = [
        _rows(ALL_SEGMENTS, stages, n_all, wn_all, p0, p_all, fallback_all, medians)
    ]
    segmented = source == "historical" and section.segment_by
    fallbacks = 0
    if segmented:
        closed_keys = np.array(segment_keys(closed, section.segment_by), dtype=object)
        every_key = sorted(set(segment_keys(opportunities, section.segment_by)))
        for key in every_key:
            mine = closed_keys == key
            n = reached[mine].sum(axis=0)
            wn = reached[mine & won].sum(axis=0)
            thin = (n < alpha) | (n == 0)
            p = np.where(thin, p_all, _smoothed(wn, n, alpha, p0))
            fallbacks += int(thin.sum())
            frames.append(_rows(key, stages, n, wn, p0, p, thin, medians))
    table = pd.concat(frames, ignore_index=True)
    if transitions is not None and source == "markov":
        table["transitions_out"] = table["stage"].map(transitions).astype(int)

    warnings += _rate_warnings(
        section, source, n_all, p_all, unknown_lost, fallbacks, bool(segmented)
    )
    for warning in warnings if log else ():
        logger.warning(warning.message)
    return StageRates(
        table=table,
        source=source,
        segment_by=section.segment_by if segmented else (),
        warnings=tuple(warnings),
    )


def _rows(
    segment: str,
    stages: tuple[str, ...],
    n: IntArray,
    wn: IntArray,
    p0: FloatArray,
    p: FloatArray,
    fallback: npt.NDArray[np.bool_],
    medians: Mapping[str, float],
) -> pd.DataFrame:
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(n > 0, wn / np.maximum(n, 1), np.nan)
    return pd.DataFrame(
        {
            "segment": segment,
            "stage": list(stages),
            "order": np.arange(1, len(stages) + 1),
            "n_reached": np.asarray(n, dtype=int),
            "n_won": np.asarray(wn, dtype=int),
            "win_rate_raw": raw,
            "default_probability": p0,
            "probability": np.asarray(p, dtype=float),
            "fallback": np.asarray(fallback, dtype=bool),
            "median_days_in_stage": [medians.get(s, np.nan) for s in stages],
        }
    )


def _rate_warnings(
    section: ForecastSection,
    source: str,
    n_all: IntArray,
    p_all: FloatArray,
    unknown_lost: int,
    fallbacks: int,
    segmented: bool,
) -> list[ForecastWarning]:
    stages = section.stage_order
    alpha = section.smoothing_alpha
    found = []
    if source == "historical":
        sparse = [f"{s} ({n})" for s, n in zip(stages, n_all, strict=True) if n < alpha]
        if sparse:
            found.append(
                ForecastWarning(
                    "sparse_history",
                    f"few closed deals reached stage(s) {', '.join(sparse)}, fewer "
                    f"than smoothing_alpha = {alpha:g}; their rates lean on "
                    f"default_probabilities. Lengthen lookback_days or review the "
                    f"defaults",
                )
            )
    drops = [
        f"{a} {p_a:.3f} > {b} {p_b:.3f}"
        for a, b, p_a, p_b in zip(stages, stages[1:], p_all, p_all[1:], strict=False)
        if p_b < p_a - 1e-12
    ]
    if drops:
        found.append(
            ForecastWarning(
                "non_monotone_probabilities",
                f"stage probabilities fall along stage_order ({'; '.join(drops)}); "
                f"stages may be mislabelled or out of order. Check stage_order and "
                f"the stage labels of the deals",
            )
        )
    if unknown_lost:
        found.append(
            ForecastWarning(
                "lost_without_stage",
                f"{unknown_lost} lost deal(s) have no history and no last open "
                f"stage; they count as reaching {stages[0]} only. Add a history "
                f"file or a last_open_stage column",
            )
        )
    if segmented and fallbacks:
        found.append(
            ForecastWarning(
                "segment_fallback",
                f"{fallbacks} (segment, stage) rate(s) rest on fewer than "
                f"smoothing_alpha = {alpha:g} deals and use the unsegmented rate",
            )
        )
    return found


def _visits(
    opportunities: pd.DataFrame, section: ForecastSection, history: pd.DataFrame
) -> pd.DataFrame:
    """History rows with the state that follows each and the date it started.

    Rows with a label outside the open, won and lost stages are dropped first, so
    a mislabelled entry does not break the chain around it. The last open visit of
    a closed deal is followed by the deal's won or lost close.
    """
    known = set(section.stage_order) | set(section.closed_stages)
    visits = history[history["stage"].isin(known)].copy()
    visits["state"] = visits["stage"].map(
        {s: s for s in section.stage_order}
        | {s: _WON_STATE for s in section.won_stages}
        | {s: _LOST_STATE for s in section.lost_stages}
    )
    by_id = visits.groupby("id", sort=False)
    visits["next_state"] = by_id["state"].shift(-1)
    visits["next_date"] = by_id["entered_date"].shift(-1)

    deals = opportunities.set_index("id")
    status = visits["id"].map(deals["status"])
    close = visits["id"].map(deals["close_date"])
    last = visits["next_state"].isna() & visits["stage"].isin(section.stage_order)
    ended = last & status.isin(("won", "lost"))
    visits.loc[ended, "next_state"] = status[ended].map(
        {"won": _WON_STATE, "lost": _LOST_STATE}
    )
    visits.loc[ended, "next_date"] = close[ended]
    return visits[visits["next_state"].notna() & visits["next_date"].notna()]


def _in_lookback(dates: pd.Series, section: ForecastSection) -> pd.Series:
    as_of = pd.Timestamp(section.as_of)
    return dates.between(as_of - pd.Timedelta(days=section.lookback_days), as_of)


def median_days_in_stage(
    opportunities: pd.DataFrame,
    section: ForecastSection,
    history: pd.DataFrame | None = None,
) -> dict[str, float]:
    """Median days of the stage visits that ended inside the lookback window.

    Returns a mapping stage -> days (float; NaN for a stage with no ended visit,
    and for every stage when there is no history).
    """
    medians = dict.fromkeys(section.stage_order, float("nan"))
    if history is None or history.empty:
        return medians
    visits = _visits(opportunities, section, history)
    visits = visits[
        visits["stage"].isin(section.stage_order)
        & _in_lookback(visits["next_date"], section)
    ]
    days = (visits["next_date"] - visits["entered_date"]).dt.days
    for stage, values in days.groupby(visits["stage"]):
        medians[str(stage)] = float(values.median())
    return medians


def markov_probabilities(
    opportunities: pd.DataFrame, section: ForecastSection, history: pd.DataFrame
) -> tuple[dict[str, float] | None, dict[str, int], list[ForecastWarning]]:
    """Win probability of each open stage as a Markov absorption probability.

    Transitions are counted when the next state began inside the lookback window;
    repeats of the same stage are ignored.

    Returns
    -------
    tuple
        ``{stage: p_s}`` (None when ``I - Q`` is singular, that is when some
        stages only cycle among themselves), ``{stage: transitions out}``, and the
        warnings.
    """
    stages = list(section.stage_order)
    states = stages + [_WON_STATE, _LOST_STATE]
    index = {s: k for k, s in enumerate(states)}
    visits = _visits(opportunities, section, history)
    visits = visits[
        visits["stage"].isin(stages)
        & (visits["state"] != visits["next_state"])
        & _in_lookback(visits["next_date"], section)
    ]
    counts = np.zeros((len(stages), len(states)))
    np.add.at(
        counts,
        (
            visits["state"].map(index).to_numpy(dtype=int),
            visits["next_state"].map(index).to_numpy(dtype=int),
        ),
        1.0,
    )
    out = counts.sum(axis=1)
    n = len(stages)
    transition = np.zeros_like(counts)
    seen = out > 0
    transition[seen] = counts[seen] / out[seen, None]
    for k in np.flatnonzero(~seen):
        p0 = section.default_probabilities[stages[k]]
        transition[k, n], transition[k, n + 1] = p0, 1.0 - p0

    warnings = []
    unseen = [stages[k] for k in np.flatnonzero(~seen)]
    if unseen:
        warnings.append(
            ForecastWarning(
                "sparse_history",
                f"no transitions out of stage(s) {', '.join(unseen)} in the "
                f"lookback window; their default probabilities are used",
            )
        )
    try:
        absorbed = np.linalg.solve(np.eye(n) - transition[:, :n], transition[:, n:])
    except np.linalg.LinAlgError:
        warnings.append(
            ForecastWarning(
                "markov_singular",
                "the stage transitions never reach Won or Lost from some stages "
                "(they only cycle); historical reached-stage rates are used instead",
            )
        )
        return None, dict(zip(stages, out.astype(int).tolist(), strict=True)), warnings
    probabilities = {s: float(absorbed[k, 0]) for k, s in enumerate(stages)}
    return (
        probabilities,
        dict(zip(stages, out.astype(int).tolist(), strict=True)),
        warnings,
    )


def days_in_stage(opportunities: pd.DataFrame, as_of: date) -> pd.Series:
    """Days from ``stage_entered_date`` to ``as_of`` (NaN when the date is blank)."""
    delta = pd.Timestamp(as_of) - opportunities["stage_entered_date"]
    return delta.dt.days.astype(float)


def age_adjusted_probabilities(
    opportunities: pd.DataFrame,
    probabilities: pd.Series,
    median_days: Mapping[str, float],
    section: ForecastSection,
) -> pd.Series:
    """Probabilities decayed for deals that sit too long in their stage.

    ``p_eff = p * median_days_s / days_in_stage`` when ``days_in_stage >
    stale_factor * median_days_s``; unchanged otherwise, and for stages without a
    median.
    """
    days = days_in_stage(opportunities, section.as_of)
    median = opportunities["stage"].map(dict(median_days)).astype(float)
    factor = section.hygiene.stale_factor
    old = (opportunities["status"] == "open") & (days > factor * median) & (median > 0)
    adjusted = probabilities.copy().astype(float)
    adjusted[old] = probabilities[old] * median[old] / days[old]
    return adjusted


def group_win_rates(
    opportunities: pd.DataFrame,
    rates: StageRates,
    section: ForecastSection,
    history: pd.DataFrame | None = None,
    group_by: str = "territory_id",
    groups: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Win rate from the first open stage per group, for required coverage.

    A group with at least ``smoothing_alpha`` (and at least one) closed deals that
    reached the first stage uses its own rate ``Wn / N``; others use the
    unsegmented probability of the first stage.

    Returns
    -------
    pandas.DataFrame
        Columns ``group_by``, ``n_reached_first``, ``n_won``, ``win_rate`` and
        ``fallback``, one row per group among all opportunities and ``groups``,
        sorted by group.
    """
    closed, reached, _ = reached_matrix(opportunities, section, history)
    first = section.stage_order[0]
    overall = rates.probability_of(first)
    frame = pd.DataFrame(
        {
            group_by: closed[group_by].to_numpy(),
            "n_reached_first": reached[:, 0].astype(int),
            "n_won": (reached[:, 0] & (closed["status"] == "won").to_numpy()).astype(
                int
            ),
        }
    )
    counts = frame.groupby(group_by)[["n_reached_first", "n_won"]].sum()
    names = sorted(set(opportunities[group_by]) | set(groups or ()))
    counts = counts.reindex(names, fill_value=0)
    n = counts["n_reached_first"].to_numpy()
    thin = (n < section.smoothing_alpha) | (n == 0)
    rate = np.where(thin, overall, counts["n_won"].to_numpy() / np.maximum(n, 1))
    return pd.DataFrame(
        {
            group_by: names,
            "n_reached_first": n,
            "n_won": counts["n_won"].to_numpy(),
            "win_rate": rate,
            "fallback": thin,
        }
    )
