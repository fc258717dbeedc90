"""Polygon layers: ids kept as text, reprojection, location matching, repair."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon, box
from typer.testing import CliRunner

from conftest import write_scenario
from territory_opt.cli import app
from territory_opt.errors import InputError
from territory_opt.geography import locate_points, polygon_pairs, read_polygons
from territory_opt.maps import compactness_of_dissolved, dissolve_territories
from territory_opt.scenario import PolygonLayer, load_scenario
from territory_opt.solve import load_inputs

ZIPS = ["02116", "00501", "10001", "07302"]
TWO = [{"territory_id": t, "lat": 40.0, "lon": -74.0} for t in ("T1", "T2")]


def _zip_units(folder: Path) -> list[dict[str, object]]:
    """Four 0.1° squares side by side along lat 40, keyed by ZIP text."""
    squares = [box(-74 + 0.1 * i, 40, -73.9 + 0.1 * i, 40.1) for i in range(4)]
    gpd.GeoDataFrame({"zip": ZIPS, "geometry": squares}, crs="EPSG:4326").to_file(
        folder / "zips.geojson"
    )
    return [
        {
            "account_id": z,
            "lat": 40.05,
            "lon": -73.95 + 0.1 * i,
            "potential": 1,
            "workload_hours": 1,
        }
        for i, z in enumerate(ZIPS)
    ]


def test_zip_ids_join_polygons_and_are_written_back_unchanged(tmp_path: Path) -> None:
    """Ids 02116, 00501, 10001, 07302 in CSV and GeoJSON: 4 of 4 polygons
    matched, and alignment.csv and territories.geojson keep the leading zeros."""
    path = write_scenario(
        tmp_path,
        _zip_units(tmp_path),
        TWO,
        balance={"accounts": {"tolerance": 0.5}},
        geography={
            "polygons": {"path": "zips.geojson", "id_column": "zip"},
            "map_png": False,
        },
        output={"folder": "out"},
    )
    _, polygons = load_inputs(load_scenario(path))
    assert list(polygons.index) == sorted(ZIPS)

    result = CliRunner().invoke(app, ["solve", str(path), "--engine", "cpsat"])
    assert result.exit_code == 0, result.output
    alignment = pd.read_csv(tmp_path / "out" / "alignment.csv", dtype=str)
    assert sorted(alignment["account_id"]) == sorted(ZIPS)
    text = (tmp_path / "out" / "alignment.csv").read_text()
    assert all(f"\n{z}," in text for z in ZIPS)


def test_integer_zip_ids_in_parquet_padded_then_joined(tmp_path: Path) -> None:
    """The same ZIPs stored as integers in Parquet, padded by option: 4 of 4."""
    rows = pd.DataFrame(_zip_units(tmp_path))
    rows["account_id"] = [int(z) for z in ZIPS]
    rows.to_parquet(tmp_path / "accounts.parquet", index=False)
    path = write_scenario(
        tmp_path,
        rows,
        TWO,
        accounts={"path": "accounts.parquet", "numeric_ids": "pad"},
        geography={"polygons": {"path": "zips.geojson", "id_column": "zip"}},
    )
    _, polygons = load_inputs(load_scenario(path))
    assert list(polygons.index) == sorted(ZIPS)


STATE_PLANE = "EPSG:2263"  # NAD83 / New York Long Island, US survey feet


def _state_plane_blocks(folder: Path) -> list[tuple[float, float]]:
    """Five 5,000 ft blocks in EPSG:2263 and the WGS84 centre of each."""
    blocks = [
        box(980_000 + 6_000 * i, 200_000, 985_000 + 6_000 * i, 205_000)
        for i in range(5)
    ]
    layer = gpd.GeoDataFrame(
        {"block": [f"B{i}" for i in range(5)], "geometry": blocks}, crs=STATE_PLANE
    )
    layer.to_file(folder / "blocks.gpkg")
    centres = layer.geometry.centroid.to_crs("EPSG:4326")
    return [(float(p.y), float(p.x)) for p in centres]


def test_points_in_wgs84_match_polygons_in_state_plane_feet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Account points in EPSG:4326 against blocks in EPSG:2263: 5 of 5 matched,
    each account to its own block (without reprojection none would match)."""
    centres = _state_plane_blocks(tmp_path)
    accounts = [
        {"account_id": f"A{i}", "lat": lat, "lon": lon}
        | {"potential": 1, "workload_hours": 1}
        for i, (lat, lon) in enumerate(centres)
    ]
    path = write_scenario(
        tmp_path,
        accounts,
        TWO,
        geography={
            "polygons": {
                "path": "blocks.gpkg",
                "id_column": "block",
                "match": "location",
            }
        },
    )
    with caplog.at_level(logging.INFO, logger="territory_opt.geography"):
        _, polygons = load_inputs(load_scenario(path))
    assert "5 of 5 account point(s) matched a polygon" in caplog.text
    layer = gpd.read_file(tmp_path / "blocks.gpkg")
    lat = [c[0] for c in centres]
    lon = [c[1] for c in centres]
    assert locate_points(lat, lon, layer, "block") == ["B0", "B1", "B2", "B3", "B4"]
    expected = layer.set_index("block").to_crs("EPSG:4326").geometry
    for i in range(5):
        assert polygons.geometry[f"A{i}"].equals_exact(expected[f"B{i}"], 1e-9)


def test_point_outside_every_polygon_is_named(tmp_path: Path) -> None:
    """A point far from the blocks: 4 of 5 matched, the stray account named."""
    centres = _state_plane_blocks(tmp_path)
    centres[3] = (42.0, -76.0)
    accounts = [
        {"account_id": f"A{i}", "lat": lat, "lon": lon}
        | {"potential": 1, "workload_hours": 1}
        for i, (lat, lon) in enumerate(centres)
    ]
    path = write_scenario(
        tmp_path,
        accounts,
        TWO,
        geography={
            "polygons": {
                "path": "blocks.gpkg",
                "id_column": "block",
                "match": "location",
            }
        },
    )
    with pytest.raises(
        InputError,
        match=r"1 of 5 account point\(s\) lie in no "
        r"polygon \('A3'\)",
    ):
        load_inputs(load_scenario(path))


def test_polygon_layer_without_crs_says_how_to_set_it(tmp_path: Path) -> None:
    """A shapefile with no .prj is refused with the ogr2ogr fix."""
    frame = gpd.GeoDataFrame({"zip": ["02116"], "geometry": [box(0, 0, 1, 1)]})
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        frame.to_file(tmp_path / "nocrs.shp")
    spec = PolygonLayer(path=tmp_path / "nocrs.shp", id_column="zip")
    with pytest.raises(InputError) as caught:
        read_polygons(spec, ("02116",))
    assert str(caught.value) == (
        f"{tmp_path / 'nocrs.shp'}: the polygon layer has no coordinate reference "
        f"system. Set it in the file (for example with `ogr2ogr -a_srs EPSG:4326 "
        f"out.gpkg nocrs.shp`) or save it as GeoJSON, which is WGS84 by definition"
    )


KM = 1000.0
X0, Y0 = 1_000_000.0, 4_000_000.0  # EPSG:6933 metres, about 10.4° E, 33.1° N


def _bow_tie_layer(folder: Path) -> Path:
    """Two 2 km squares with a bow-tie between them, in EPSG:6933 (km)::

    +-----+     +-----+        left square 4 km², right square 4 km²
    |  L  |\\   /|  R  |        bow-tie: triangles of 1 km² each,
    |     | \\ / |     |        touching only at its crossing (3, 1)
    |     | / \\ |     |
    +-----+     +-----+
    0     2  3  4     6
    """

    def at(x: float, y: float) -> tuple[float, float]:
        return X0 + x * KM, Y0 + y * KM

    left = Polygon([at(0, 0), at(2, 0), at(2, 2), at(0, 2)])
    bow = Polygon([at(2, 0), at(4, 2), at(4, 0), at(2, 2)])
    right = Polygon([at(4, 0), at(6, 0), at(6, 2), at(4, 2)])
    gpd.GeoDataFrame(
        {"unit": ["L", "bow", "R"], "geometry": [left, bow, right]}, crs="EPSG:6933"
    ).to_file(folder / "bow.gpkg")
    return folder / "bow.gpkg"


def test_bow_tie_is_reported_invalid_without_repair(tmp_path: Path) -> None:
    """repair: false stops with the invalid unit named."""
    spec = PolygonLayer(path=_bow_tie_layer(tmp_path), id_column="unit", repair=False)
    with pytest.raises(
        InputError,
        match=r"invalid geometry for 'bow'; set "
        r"geography.polygons.repair: true",
    ):
        read_polygons(spec, ("L", "R", "bow"))


def test_bow_tie_repaired_dissolves_to_ten_km2_in_two_rook_parts(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Repaired, the three units dissolve to 4 + 1 + 1 + 4 = 10.0 km² in two
    parts (the triangles meet at a point, which rook contiguity does not join)."""
    spec = PolygonLayer(path=_bow_tie_layer(tmp_path), id_column="unit")
    with caplog.at_level(logging.WARNING, logger="territory_opt.geography"):
        polygons = read_polygons(spec, ("L", "R", "bow"))
    assert "repairing invalid geometry of 'bow'" in caplog.text
    assert sorted(polygon_pairs(polygons, "rook")) == [("L", "bow"), ("R", "bow")]

    table = pd.DataFrame({"territory_id": ["T"]})
    dissolved = dissolve_territories(polygons, ["T", "T", "T"], table)
    entry = compactness_of_dissolved(dissolved)["territories"][0]
    assert entry["area_km2"] == pytest.approx(10.0, rel=1e-6)
    assert entry["parts"] == 2
