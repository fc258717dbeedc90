"""A self-contained HTML report of a run, readable offline.

One file holds everything: plotly.js is embedded once (no CDN, no map tiles),
the charts are plotly figures and the tables plain HTML. The map draws each
territory's dissolved shape as a filled outline in longitude/latitude with the
aspect ratio of the mid latitude (as :func:`territory_opt.maps.draw_map`
does), so it needs no base map from the network; hovering a territory or its
home shows its figures. A scenario without polygons gets the same kind of map
with its accounts as points, one colour per territory.

Every chart sits in a ``div.report-figure`` and every table is a
``table.report-table``, so that a browser test can count them.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from territory_opt.compare import Compared, columns_from_documents, comparison_frame
from territory_opt.extras import Extras
from territory_opt.moves import moves_frame
from territory_opt.problem import Problem
from territory_opt.scorecard import current_alignment, territory_table
from territory_opt.solve import Run

MAP_SIMPLIFY_DEGREES = 0.002  # about 200 m: keeps the file small, the shapes true
MOVES_SHOWN = 200
LINE_AROUND_POINTS = {"color": "#333", "width": 0.6}  # light colours on white
CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table.report-table{border-collapse:collapse;font-size:.85em;margin:1em 0}
table.report-table th,table.report-table td{border:1px solid #ddd;padding:.25em .5em}
table.report-table th{background:#f4f4f4;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.best{background:#e3f4e1;font-weight:bold}
.facts{color:#555}.report-figure{margin:1em 0}.table-wrap{overflow-x:auto}
"""


@dataclass(frozen=True)
class ReportInputs:
    """What the report shows, computed from a run before the page is made."""

    title: str
    facts: dict[str, str]
    comparison: pd.DataFrame
    territories: pd.DataFrame
    current_territories: pd.DataFrame | None
    bands: dict[str, float]
    moves: pd.DataFrame
    disruption: dict[str, float]
    dissolved: Any = None
    homes: pd.DataFrame | None = None
    quotas: pd.DataFrame | None = None
    comp: pd.DataFrame | None = None
    fairness: dict[str, Any] | None = None
    points: pd.DataFrame | None = None

    @classmethod
    def from_run(
        cls,
        run: Run,
        extras: Extras | None,
        document: dict[str, Any],
        dissolved: Any = None,
    ) -> ReportInputs:
        """Gather the report's figures from a solved run and its metrics."""
        from territory_opt.outputs import homes_frame, territory_indices

        problem = run.problem
        territory_of = territory_indices(run)
        current = current_alignment(problem)
        solve = document["solve"]
        gap = solve.get("relative_gap")
        facts = {
            "scenario": run.scenario.name,
            "status": str(solve["status"]),
            "engine": f"{solve['engine']} {solve['solver_version']}",
            "relative gap": "" if gap is None else f"{100 * gap:.3f}%",
            "time": f"{solve['runtime_s']:.1f} s",
            "accounts": str(problem.n_accounts),
            "territories": str(problem.n_territories),
            "scenario sha256": str(document["scenario"].get("sha256") or "")[:16],
        }
        quota = None if extras is None else extras.quota
        columns = columns_from_documents([("proposed", document, "")])
        return cls(
            title=f"{run.scenario.name}: proposed alignment",
            facts=facts,
            comparison=comparison_frame(columns),
            territories=territory_table(problem, territory_of),
            current_territories=None
            if current is None
            else territory_table(problem, current),
            bands={b.metric: b.tolerance for b in problem.balances}
            or {"potential": 0.05},
            moves=moves_frame(problem, territory_of),
            disruption=document["scorecard"]["disruption"],
            dissolved=dissolved,
            homes=homes_frame(problem),
            quotas=None if quota is None else quota.quotas,
            comp=None if quota is None else quota.comp,
            fairness=None if quota is None else quota.fairness,
            points=account_points(run.problem, territory_of),
        )


def account_points(problem: Problem, territory_of: np.ndarray) -> pd.DataFrame | None:
    """account_id, territory_id, lat and lon of every located account, in
    account order; None when no account has coordinates."""
    located = np.isfinite(problem.account_lat) & np.isfinite(problem.account_lon)
    if not located.any():
        return None
    rows = np.nonzero(located)[0]
    return pd.DataFrame(
        {
            "account_id": [problem.account_ids[a] for a in rows],
            "territory_id": [problem.territory_ids[territory_of[a]] for a in rows],
            "lat": problem.account_lat[rows],
            "lon": problem.account_lon[rows],
        }
    )


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def figure_html(figure: Any, name: str) -> str:
    """A plotly figure as a ``div.report-figure`` without its own plotly.js."""
    body = figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        config={"displaylogo": False, "responsive": True},
        div_id=f"figure-{name}",
    )
    return f'<div class="report-figure" data-figure="{html.escape(name)}">{body}</div>'


def _format(value: Any, metric: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else ""
    if isinstance(value, int | float | np.number):
        number = float(value)
        if metric.endswith("share") or "_share" in metric:
            return f"{100 * number:.2f}%"
        if abs(number) >= 1000:
            return f"{number:,.0f}"
        return f"{number:.4g}"
    return html.escape(str(value))


def table_html(frame: pd.DataFrame, name: str, best: pd.DataFrame | None = None) -> str:
    """An HTML table of ``frame``; cells where ``best`` is true are highlighted."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for i, record in enumerate(frame.itertuples(index=False)):
        cells = []
        metric = str(record[0]) if "metric" in frame.columns else ""
        for column, value in zip(frame.columns, record, strict=True):
            numeric = isinstance(value, int | float | np.number) and not isinstance(
                value, bool
            )
            classes = ["num"] if numeric else []
            if best is not None and column in best and bool(best[column].iloc[i]):
                classes.append("best")
            cls = f' class="{" ".join(classes)}"' if classes else ""
            text = _format(value, metric or str(column))
            cells.append(f"<td{cls}>{text}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<div class="table-wrap"><table class="report-table" '
        f'data-table="{html.escape(name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def comparison_table_html(frame: pd.DataFrame) -> str:
    """The comparison with the best value of each row highlighted."""
    labels = list(frame.attrs.get("labels", []))
    best = pd.DataFrame(
        {
            label: [label in str(b).split("; ") for b in frame["best"]]
            for label in labels
        }
    )
    return table_html(frame, "comparison", best)


def _rings(shape: Any) -> tuple[list[float | None], list[float | None]]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    polygons = getattr(shape, "geoms", [shape])
    for polygon in polygons:
        if polygon.is_empty or not hasattr(polygon, "exterior"):
            continue
        x, y = polygon.exterior.coords.xy
        xs.extend([*x, None])
        ys.extend([*y, None])
    return xs, ys


def _hover(row: pd.Series, bands: dict[str, float]) -> str:
    lines = [f"<b>{html.escape(str(row['territory_id']))}</b>"]
    lines.append(f"rep {html.escape(str(row['rep_id'] or 'vacant'))}")
    lines.append(f"accounts {row['accounts']:.0f}")
    for metric in dict.fromkeys([*bands, "potential", "workload_hours"]):
        if metric in row:
            deviation = row[f"{metric}_deviation_share"]
            lines.append(f"{metric} {row[metric]:,.0f} ({100 * deviation:+.1f}%)")
    lines.append(f"mean km {row['travel_km_mean']:.0f}")
    return "<br>".join(lines)


def _row(table: pd.DataFrame, territory: str) -> pd.Series:
    row = pd.Series(table.loc[territory], copy=True)
    row["territory_id"] = territory
    return row


def map_figure(inputs: ReportInputs) -> Any:
    """Territories filled by colour, with their homes; hover shows figures."""
    import plotly.graph_objects as go

    from territory_opt.maps import territory_colours

    dissolved = inputs.dissolved
    colours = territory_colours(dissolved)
    figure = go.Figure()
    shapes = dissolved.geometry.simplify(MAP_SIMPLIFY_DEGREES, preserve_topology=True)
    table = inputs.territories.set_index("territory_id")
    for i, territory in enumerate(dissolved["territory_id"].astype(str)):
        xs, ys = _rings(shapes.iloc[i])
        text = _hover(_row(table, territory), inputs.bands)
        figure.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                fill="toself",
                fillcolor=colours[i],
                mode="lines",
                line={"color": "#333", "width": 0.8},
                name=territory,
                text=text,
                hoveron="fills",
                hoverinfo="text",
            )
        )
    _add_homes(figure, inputs, table)
    bounds = dissolved.total_bounds
    _lay_out(figure, (bounds[1] + bounds[3]) / 2, legend=False)
    return figure


def points_map_figure(inputs: ReportInputs) -> Any:
    """Accounts as points coloured by territory (one colour each, named in the
    legend), with the homes; hover shows the account and its territory's
    figures. For scenarios without polygons; no base map is needed."""
    import plotly.graph_objects as go

    from territory_opt.maps import palette

    points = inputs.points
    if points is None:
        raise ValueError("the report has no account coordinates to map")
    table = inputs.territories.set_index("territory_id")
    territories = [str(t) for t in inputs.territories["territory_id"]]
    colours = palette(len(territories))
    figure = go.Figure()
    for territory, colour in zip(territories, colours, strict=True):
        members = points[points["territory_id"] == territory]
        about = _hover(_row(table, territory), inputs.bands)
        figure.add_trace(
            go.Scatter(
                x=members["lon"],
                y=members["lat"],
                mode="markers",
                marker={"size": 8, "color": colour, "line": LINE_AROUND_POINTS},
                name=territory,
                hovertext=[
                    f"{html.escape(str(a))}<br>{about}" for a in members["account_id"]
                ],
                hoverinfo="text",
            )
        )
    _add_homes(figure, inputs, table)
    _lay_out(figure, float((points["lat"].min() + points["lat"].max()) / 2), True)
    return figure


def _add_homes(figure: Any, inputs: ReportInputs, table: pd.DataFrame) -> None:
    """Black stars at the home bases, labelled, when every home is known."""
    import plotly.graph_objects as go

    homes = inputs.homes
    if homes is None or not homes[["lat", "lon"]].notna().all(axis=None):
        return
    texts = [_hover(_row(table, t), inputs.bands) for t in homes["territory_id"]]
    figure.add_trace(
        go.Scatter(
            x=homes["lon"],
            y=homes["lat"],
            mode="markers+text",
            marker={"symbol": "star", "size": 10, "color": "black"},
            text=list(homes["territory_id"]),
            textposition="top center",
            hovertext=texts,
            hoverinfo="text",
            name="homes",
        )
    )


def _lay_out(figure: Any, mid_lat: float, legend: bool) -> None:
    """Plain axes in degrees, true to scale at ``mid_lat``, on white."""
    figure.update_layout(
        title="Territories (hover for figures)",
        height=700,
        showlegend=legend,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        plot_bgcolor="white",
    )
    figure.update_xaxes(visible=False)
    figure.update_yaxes(
        visible=False,
        scaleanchor="x",
        scaleratio=1.0 / max(math.cos(math.radians(mid_lat)), 0.1),
    )


def balance_figure(inputs: ReportInputs, metric: str, tolerance: float) -> Any:
    """Deviation from target per territory, proposed against current, with the band."""
    import plotly.graph_objects as go

    figure = go.Figure()
    tables = [("proposed", inputs.territories, "#1f77b4")]
    if inputs.current_territories is not None:
        tables.insert(0, ("current", inputs.current_territories, "#bbbbbb"))
    for label, table, colour in tables:
        figure.add_trace(
            go.Bar(
                x=table["territory_id"],
                y=100 * table[f"{metric}_deviation_share"],
                name=label,
                marker_color=colour,
                customdata=np.column_stack([table[metric], table[f"{metric}_target"]]),
                hovertemplate=(
                    "%{x}: %{y:+.1f}%<br>load %{customdata[0]:,.0f}"
                    "<br>target %{customdata[1]:,.0f}<extra>" + label + "</extra>"
                ),
            )
        )
    band = 100 * tolerance
    figure.add_hrect(y0=-band, y1=band, fillcolor="#2ca02c", opacity=0.12, line_width=0)
    figure.update_layout(
        title=f"{metric}: deviation from target (band ±{band:g}%)",
        barmode="group",
        yaxis_title="% of target",
        height=380,
    )
    return figure


def disruption_figure(inputs: ReportInputs) -> Any:
    """Accounts each territory gains and loses against the current alignment."""
    import plotly.graph_objects as go

    ids = list(inputs.territories["territory_id"])
    gained = inputs.moves["to_territory"].value_counts().reindex(ids, fill_value=0)
    lost = inputs.moves["from_territory"].value_counts().reindex(ids, fill_value=0)
    figure = go.Figure(
        [
            go.Bar(x=ids, y=gained.to_numpy(), name="accounts gained"),
            go.Bar(x=ids, y=-lost.to_numpy(), name="accounts lost"),
        ]
    )
    figure.update_layout(
        title="Accounts gained and lost per territory",
        barmode="relative",
        height=350,
    )
    return figure


def quota_figures(inputs: ReportInputs) -> list[tuple[str, Any]]:
    """Effective quota per territory and the chance of reaching quota per rep."""
    import plotly.graph_objects as go

    found: list[tuple[str, Any]] = []
    if inputs.quotas is not None and not inputs.quotas.empty:
        quotas = inputs.quotas
        figure = go.Figure(
            go.Bar(
                x=quotas["territory_id"],
                y=quotas["quota_effective"],
                customdata=quotas[["rep_id"]],
                hovertemplate="%{x} (%{customdata[0]}): %{y:,.0f}<extra></extra>",
            )
        )
        figure.update_layout(
            title="Effective quota per territory", yaxis_title="quota", height=350
        )
        found.append(("quota", figure))
    comp = inputs.comp
    if comp is not None and not comp.empty and "p_attain" in comp:
        figure = go.Figure(
            go.Bar(
                x=comp["rep_id"],
                y=100 * comp["p_attain"],
                customdata=comp[["territory_id"]],
                hovertemplate="%{x} (%{customdata[0]}): %{y:.1f}%<extra></extra>",
            )
        )
        if inputs.fairness is not None:
            spread = inputs.fairness.get("p_attain_spread")
            title = "Chance of reaching quota per rep"
            if spread is not None:
                title += f" (spread {100 * spread:.1f} points)"
            figure.update_layout(title=title)
        figure.update_layout(yaxis_title="P(quota) %", height=350)
        found.append(("fairness", figure))
    return found


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{html.escape(title)}</h2>{''.join(parts)}</section>"


def page(title: str, facts: dict[str, str], sections: Sequence[str]) -> str:
    """A whole HTML page with plotly.js embedded once."""
    listed = " · ".join(
        f"{html.escape(k)}: <b>{html.escape(v)}</b>" for k, v in facts.items() if v
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{CSS}</style>"
        f"<script type='text/javascript'>{_plotly_js()}</script></head><body>"
        f"<h1>{html.escape(title)}</h1><p class='facts'>{listed}</p>"
        f"{''.join(sections)}</body></html>"
    )


def report_html(inputs: ReportInputs) -> str:
    """The report page: scorecard, map, balance, disruption, quotas, tables."""
    sections = [
        _section(
            "Scorecard: current against proposed",
            comparison_table_html(inputs.comparison),
        )
    ]
    if inputs.dissolved is not None:
        sections.append(_section("Map", figure_html(map_figure(inputs), "map")))
    elif inputs.points is not None:
        map_html = figure_html(points_map_figure(inputs), "map")
        sections.append(_section("Map", map_html))
    sections.append(
        _section(
            "Balance",
            *[
                figure_html(balance_figure(inputs, m, t), f"balance-{m}")
                for m, t in inputs.bands.items()
            ],
        )
    )
    if inputs.current_territories is not None:
        summary = pd.DataFrame(
            {
                "metric": list(inputs.disruption),
                "value": list(inputs.disruption.values()),
            }
        )
        shown = inputs.moves.head(MOVES_SHOWN)
        note = (
            f"<p>{len(inputs.moves)} account(s) move; the first {len(shown)} are "
            f"listed.</p>"
        )
        sections.append(
            _section(
                "Disruption",
                table_html(summary, "disruption"),
                figure_html(disruption_figure(inputs), "disruption"),
                note,
                table_html(shown, "moves"),
            )
        )
    quota_parts = [figure_html(f, name) for name, f in quota_figures(inputs)]
    if quota_parts:
        sections.append(_section("Quotas and fairness", *quota_parts))
    sections.append(
        _section("Territories", table_html(inputs.territories, "territories"))
    )
    return page(inputs.title, inputs.facts, sections)


def write_report(inputs: ReportInputs, path: Path) -> None:
    """Write the report of ``inputs`` to ``path`` (UTF-8)."""
    path.write_text(report_html(inputs), encoding="utf-8")


def write_comparison_report(
    title: str,
    columns: Sequence[Compared],
    comparison: pd.DataFrame,
    path: Path,
    figures: Sequence[tuple[str, Any]] = (),
) -> None:
    """A page with the comparison table and optional charts (trade-offs)."""
    sources = pd.DataFrame(
        {"column": [c.label for c in columns], "source": [c.source for c in columns]}
    )
    sections = [_section("Comparison", comparison_table_html(comparison))]
    if figures:
        sections.append(
            _section("Trade-offs", *[figure_html(f, name) for name, f in figures])
        )
    sections.append(_section("Sources", table_html(sources, "sources")))
    facts = {"baseline": str(comparison.attrs.get("baseline", ""))}
    path.write_text(page(title, facts, sections), encoding="utf-8")
