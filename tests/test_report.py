"""The HTML report: self-contained, and rendered by headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pytest
from typer.testing import CliRunner

from browser import open_browser, rendered_figures
from publish_cases import grid_scenario
from territory_opt.cli import app
from territory_opt.maps import territory_colours

runner = CliRunner()


def _rgb(hex_colour: str) -> str:
    """'#8dd3c7' as the browser writes it: ' rgb(141, 211, 199)'."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f" rgb({red}, {green}, {blue})"


# Charts of the grid run: map, potential balance, disruption, quota, P(quota).
FIGURES = ["map", "balance-potential", "disruption", "quota", "fairness"]
TABLES = ["comparison", "disruption", "moves", "territories"]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of the 12-county grid scenario with quotas."""
    folder = tmp_path_factory.mktemp("report")
    result = runner.invoke(app, ["solve", str(grid_scenario(folder)), "-q"])
    assert result.exit_code == 0, result.output
    return folder / "out" / "report.html"


def test_report_is_self_contained(report: Path) -> None:
    """No script, style or image is fetched: plotly.js is inline, once."""
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text)
    assert not re.search(r"<link[^>]+href=", text)
    assert text.count("* plotly.js v") == 1
    assert text.count("Plotly.newPlot(") == len(FIGURES)
    assert text.count('class="report-figure"') == len(FIGURES)
    assert text.count('class="report-table"') == len(TABLES)


def test_report_renders_in_headless_chromium(report: Path, tmp_path: Path) -> None:
    """Every chart is drawn by plotly (the map with one filled shape per
    territory), every table is there, the screenshot is not blank and the
    console has no error."""
    from selenium.webdriver.common.by import By

    driver = open_browser()
    try:
        driver.get(report.as_uri())
        assert rendered_figures(driver, len(FIGURES)) == FIGURES
        plots = driver.find_elements(
            By.CSS_SELECTOR, "div.report-figure .js-plotly-plot"
        )
        assert len(plots) == len(FIGURES)
        fills = driver.find_elements(
            By.CSS_SELECTOR, "#figure-map .scatterlayer path.js-fill"
        )
        assert len(fills) == 3
        colours = [
            f.get_attribute("style").split("fill:")[1].split(";")[0] for f in fills
        ]
        expected = territory_colours(
            gpd.read_file(report.parent / "territories.geojson")
        )
        assert colours == [_rgb(c) for c in expected]
        hover = driver.execute_script(
            "return document.getElementById('figure-map').data.map(t => t.text)"
        )
        assert len(hover) == 4  # three territories and the homes
        assert hover[0].startswith("<b>T1</b><br>rep R1<br>accounts ")
        assert "potential " in hover[0] and "mean km " in hover[0]
        assert hover[3] == ["T1", "T2", "T3"]
        bars = driver.find_elements(
            By.CSS_SELECTOR, "#figure-balance-potential .barlayer .point"
        )
        assert len(bars) == 6  # 3 territories, current and proposed
        tables = driver.find_elements(By.CSS_SELECTOR, "table.report-table")
        assert [t.get_attribute("data-table") for t in tables] == TABLES
        rows = driver.find_elements(
            By.CSS_SELECTOR, "table[data-table=territories] tbody tr"
        )
        assert len(rows) == 3
        shot = tmp_path / "report.png"
        driver.save_screenshot(str(shot))
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert errors == []
    import matplotlib.image

    pixels = matplotlib.image.imread(str(shot))
    assert pixels.shape[0] > 500 and pixels.shape[1] > 1000
    assert pixels[..., :3].std() > 0.05  # not a blank page


@pytest.fixture(scope="module")
def point_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """report.html of the same grid without polygons: accounts are points."""
    folder = tmp_path_factory.mktemp("points")
    path = grid_scenario(folder, quota=False, geography=None)
    result = runner.invoke(app, ["solve", str(path), "-q"])
    assert result.exit_code == 0, result.output
    return folder / "out" / "report.html"


def test_point_only_report_maps_accounts_by_territory(point_report: Path) -> None:
    """Without polygons the map draws each territory's accounts as points at
    their lon/lat, one palette colour per territory, plain axes (no tiles)."""
    import pandas as pd

    from territory_opt.maps import palette
    from territory_opt.report import ReportInputs, points_map_figure

    alignment = pd.read_csv(point_report.parent / "alignment.csv", dtype=str)
    accounts = pd.read_csv(point_report.parent.parent / "accounts.csv", dtype=str)
    placed = alignment.merge(accounts, on="account_id")
    text = point_report.read_text(encoding="utf-8")
    assert text.count('data-figure="map"') == 1

    territories = pd.read_csv(point_report.parent / "territories.csv", dtype=str)
    inputs = ReportInputs(
        title="t",
        facts={},
        comparison=pd.DataFrame(),
        territories=pd.read_csv(point_report.parent / "territories.csv").astype(
            {"territory_id": str, "rep_id": str}
        ),
        current_territories=None,
        bands={"potential": 0.3},
        moves=pd.DataFrame(),
        disruption={},
        homes=None,
        points=placed[["account_id", "territory_id", "lat", "lon"]].astype(
            {"lat": float, "lon": float}
        ),
    )
    figure = points_map_figure(inputs)
    assert [t.name for t in figure.data] == list(territories["territory_id"])
    assert {t.type for t in figure.data} == {"scatter"}
    assert [t.marker.color for t in figure.data] == palette(3)
    for trace in figure.data:
        mine = placed[placed["territory_id"] == trace.name]
        assert sorted(zip(trace.x, trace.y, strict=True)) == sorted(
            zip(mine["lon"].astype(float), mine["lat"].astype(float), strict=True)
        )
    assert sum(len(t.x) for t in figure.data) == 12
    layout = figure.to_plotly_json()["layout"]
    assert "mapbox" not in layout and "geo" not in layout


def test_point_only_report_renders_its_map_in_headless_chromium(
    point_report: Path,
) -> None:
    """Chromium draws the point map offline: 12 account points and 3 homes."""
    from selenium.webdriver.common.by import By

    driver = open_browser()
    try:
        driver.get(point_report.as_uri())
        assert "map" in rendered_figures(driver, 3)
        points = driver.find_elements(
            By.CSS_SELECTOR, "#figure-map .scatterlayer .points path.point"
        )
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert len(points) == 12 + 3
    assert errors == []
