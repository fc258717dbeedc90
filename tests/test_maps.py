"""Dissolved territories, compactness, GeoJSON/GeoPackage files and the PNG map.

Units are squares of side 10 km drawn in the equal-area projection EPSG:6933 and
handed over in WGS84, so areas and perimeters measured back in EPSG:6933 are
exact (the projection is cylindrical: square sides stay straight both ways)::

    y (10 km)
    3               +----+
                    | a5 |        02142:   a1 a2  (a 2 x 1 rectangle)
    2               +----+        T-SQ:    a3     (a square, touching 02142)
    1 +----+----+----+    +----+  T-SPLIT: a4 a5  (two squares, apart)
      | a1 | a2 | a3 |    | a4 |  T-EMPTY: no unit
    0 +----+----+----+    +----+
      0    1    2    3    4    5  x (10 km)
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import geopandas as gpd
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Point, Polygon, box

from territory_opt.errors import InputError
from territory_opt.maps import (
    PALETTE,
    compactness,
    compactness_of_dissolved,
    dissolve_territories,
    draw_map,
    label_points,
    palette,
    piece_counts,
    polsby_popper,
    territory_colours,
    write_geopackage,
    write_territories_geojson,
)

SIDE_M = 10_000.0
ORIGIN_M = (1_000_000.0, 4_000_000.0)  # about 10.4° E, 33.1° N
TABLE_ORDER = ["T-SQ", "02142", "T-SPLIT", "T-EMPTY"]


def square(col: float, row: float) -> Polygon:
    """The square of side SIDE_M whose lower-left corner is grid cell (col, row)."""
    x, y = ORIGIN_M[0] + col * SIDE_M, ORIGIN_M[1] + row * SIDE_M
    return box(x, y, x + SIDE_M, y + SIDE_M)


def to_wgs84(shapes: list[Polygon], ids: list[str]) -> gpd.GeoDataFrame:
    """Shapes in EPSG:6933 metres as a WGS84 GeoDataFrame indexed by account id."""
    frame = gpd.GeoDataFrame(
        {"geometry": shapes}, index=pd.Index(ids, name="account_id"), crs="EPSG:6933"
    )
    return frame.to_crs("EPSG:4326")


@pytest.fixture
def units() -> gpd.GeoDataFrame:
    """The five units of the module docstring."""
    shapes = [square(0, 0), square(1, 0), square(2, 0), square(4, 0), square(4, 2)]
    return to_wgs84(shapes, ["a1", "a2", "a3", "a4", "a5"])


@pytest.fixture
def alignment() -> list[str]:
    """Territory id of a1..a5."""
    return ["02142", "02142", "T-SQ", "T-SPLIT", "T-SPLIT"]


@pytest.fixture
def table() -> pd.DataFrame:
    """Per-territory figures, rows deliberately not in id order."""
    return pd.DataFrame(
        {
            "territory_id": TABLE_ORDER,
            "rep_id": ["007", "R2", "R3", "R4"],
            "accounts": [1.0, 2.0, 2.0, 0.0],
            "potential": [10.5, 20.0, 7.25, np.nan],
            "overloaded": [False, True, False, False],
        }
    )


@pytest.fixture
def dissolved(
    units: gpd.GeoDataFrame, alignment: list[str], table: pd.DataFrame
) -> gpd.GeoDataFrame:
    """The dissolved territories of the module docstring."""
    return dissolve_territories(units, alignment, table)


def test_dissolve_keeps_table_rows_and_attributes(
    dissolved: gpd.GeoDataFrame, table: pd.DataFrame
) -> None:
    """One WGS84 row per territory in table order, with the table's columns."""
    assert dissolved.crs.to_epsg() == 4326
    assert list(dissolved["territory_id"]) == TABLE_ORDER
    assert list(dissolved.index) == [0, 1, 2, 3]
    pd.testing.assert_frame_equal(
        pd.DataFrame(dissolved.drop(columns="geometry")), table
    )


def test_dissolve_merges_two_squares_into_a_rectangle(
    dissolved: gpd.GeoDataFrame,
) -> None:
    """a1 and a2 become one polygon of 20 km x 10 km; the empty territory is empty."""
    rectangle = dissolved.to_crs("EPSG:6933").geometry.iloc[1]
    assert isinstance(rectangle, Polygon)
    assert rectangle.area == pytest.approx(2 * SIDE_M**2, rel=1e-9)
    assert rectangle.length == pytest.approx(6 * SIDE_M, rel=1e-9)
    assert isinstance(dissolved.geometry.iloc[2], MultiPolygon)
    assert dissolved.geometry.iloc[3].is_empty


def test_polsby_popper_of_square_rectangle_and_split_territory(
    dissolved: gpd.GeoDataFrame,
) -> None:
    """Square π/4, 2 x 1 rectangle 4π·2/6² = 2π/9, two squares 4π·2/8² = π/8."""
    score = polsby_popper(dissolved)
    assert score[:3] == pytest.approx(
        [math.pi / 4, 2 * math.pi / 9, math.pi / 8], rel=1e-6
    )
    assert np.isnan(score[3])


def test_polsby_popper_of_a_geoseries_in_metres() -> None:
    """A GeoSeries in EPSG:6933 is scored as is: a square gives π/4."""
    series = gpd.GeoSeries([square(0, 0)], crs="EPSG:6933")
    assert polsby_popper(series)[0] == pytest.approx(math.pi / 4, rel=1e-12)


def test_piece_counts_of_dissolved_territories(dissolved: gpd.GeoDataFrame) -> None:
    """Square 1, rectangle 1, two separate squares 2, empty territory 0."""
    assert piece_counts(dissolved).tolist() == [1, 1, 2, 0]


def test_corner_contact_counts_as_two_parts() -> None:
    """Two squares meeting at one corner stay two parts after the dissolve."""
    polygons = to_wgs84([square(0, 0), square(1, 1)], ["a", "b"])
    table = pd.DataFrame({"territory_id": ["T"]})
    dissolved = dissolve_territories(polygons, ["T", "T"], table)
    assert piece_counts(dissolved).tolist() == [2]


def test_bow_tie_is_repaired_into_two_triangles(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A self-intersecting bow-tie dissolves to its two triangles of 100 km² each.

    Corners (0, 0), (2, 2), (2, 0), (0, 2) in 10 km cells: the rings cross at
    (1, 1), leaving triangles of base 20 km and height 10 km.
    """
    x, y = ORIGIN_M
    s = SIDE_M
    bow_tie = Polygon([(x, y), (x + 2 * s, y + 2 * s), (x + 2 * s, y), (x, y + 2 * s)])
    polygons = to_wgs84([bow_tie], ["bow"])
    table = pd.DataFrame({"territory_id": ["B"]})

    with caplog.at_level(logging.WARNING, logger="territory_opt.maps"):
        result = compactness(polygons, ["B"], table)
    assert "'bow'" in caplog.text

    entry = result["territories"][0]
    assert entry["area_km2"] == pytest.approx(100.0 + 100.0, rel=1e-9)
    assert entry["parts"] == 2


def test_bow_tie_repaired_by_caller_gives_the_same_area() -> None:
    """After make_valid by the caller the dissolved area is again 200 km²."""
    x, y = ORIGIN_M
    s = SIDE_M
    bow_tie = Polygon([(x, y), (x + 2 * s, y + 2 * s), (x + 2 * s, y), (x, y + 2 * s)])
    polygons = to_wgs84([bow_tie], ["bow"]).make_valid()
    table = pd.DataFrame({"territory_id": ["B"]})
    dissolved = dissolve_territories(polygons, ["B"], table)
    assert dissolved.to_crs("EPSG:6933").area.iloc[0] == pytest.approx(
        2 * SIDE_M**2, rel=1e-9
    )


def test_compactness_document(
    units: gpd.GeoDataFrame, alignment: list[str], table: pd.DataFrame
) -> None:
    """Per-territory figures and the summary, all plain JSON values."""
    result = compactness(units, alignment, table)
    json.dumps(result, allow_nan=False)

    rows = result["territories"]
    assert [r["territory_id"] for r in rows] == TABLE_ORDER
    assert [r["parts"] for r in rows] == [1, 1, 2, 0]
    assert [r["area_km2"] for r in rows[:3]] == pytest.approx([100, 200, 200])
    assert [r["perimeter_km"] for r in rows[:3]] == pytest.approx([40, 60, 80])
    assert rows[3]["polsby_popper"] is None
    assert rows[3]["area_km2"] is None

    summary = result["summary"]
    assert summary["polsby_popper_mean"] == pytest.approx(43 * math.pi / 216)
    assert summary["polsby_popper_min"] == pytest.approx(math.pi / 8)
    assert summary["least_compact_territory"] == "T-SPLIT"
    assert summary["split_territories"] == 1
    assert summary["empty_territories"] == 1
    assert summary["crs"] == "EPSG:6933"


def test_compactness_of_dissolved_matches_compactness(
    units: gpd.GeoDataFrame,
    alignment: list[str],
    table: pd.DataFrame,
    dissolved: gpd.GeoDataFrame,
) -> None:
    """Scoring an existing dissolve gives the same document."""
    assert compactness_of_dissolved(dissolved) == compactness(units, alignment, table)


def test_greedy_colours_separate_touching_territories(
    dissolved: gpd.GeoDataFrame,
) -> None:
    """T-SQ and 02142 touch and get colours 0 and 1; with 12 colours to spare the
    other two get colours of their own, 2 and 3."""
    assert territory_colours(dissolved) == [
        PALETTE[0],
        PALETTE[1],
        PALETTE[2],
        PALETTE[3],
    ]


def _plain_frame(shapes: list[Polygon]) -> gpd.GeoDataFrame:
    """Shapes in plain degrees, one territory each (T0, T1, ...)."""
    ids = [f"T{i}" for i in range(len(shapes))]
    return gpd.GeoDataFrame({"territory_id": ids}, geometry=shapes, crs="EPSG:4326")


def _touching_pairs(frame: gpd.GeoDataFrame) -> list[tuple[int, int]]:
    """Every pair of rows whose shapes meet, found by brute force."""
    shapes = list(frame.geometry)
    return [
        (a, b)
        for a in range(len(shapes))
        for b in range(a + 1, len(shapes))
        if shapes[a].intersects(shapes[b])
    ]


def test_touching_territories_never_share_a_colour_on_a_grid() -> None:
    """A 3 x 3 grid of territories (corners count as touching):

        T6 T7 T8
        T3 T4 T5
        T0 T1 T2

    all 20 touching pairs differ, and the 9 territories, fewer than Set3's 12
    colours, get 9 distinct ones: T4 (8 neighbours) first, then the edges' middles
    T1, T3, T5, T7 (5 each), then the corners."""
    frame = _plain_frame([box(c, r, c + 1, r + 1) for r in range(3) for c in range(3)])
    colours = territory_colours(frame)
    pairs = _touching_pairs(frame)
    assert len(pairs) == 20
    assert all(colours[a] != colours[b] for a, b in pairs)
    order = [4, 1, 3, 5, 7, 0, 2, 6, 8]
    assert [colours[t] for t in order] == list(PALETTE[:9])


def test_colours_are_shared_evenly_and_never_by_neighbours() -> None:
    """A strip of 24 squares in a row (each touches the next): the 12 Set3 colours
    are used twice each, and no two neighbours share one."""
    frame = _plain_frame([box(c, 0, c + 1, 1) for c in range(24)])
    colours = territory_colours(frame)
    assert all(colours[t] != colours[t + 1] for t in range(23))
    assert sorted(colours) == sorted(PALETTE * 2)


def test_thirteen_mutually_touching_territories_get_thirteen_colours() -> None:
    """13 wedges around one point all touch: 13 distinct colours, the 13th
    beyond Set3's 12 taken from the further palette, never a neighbour's."""
    wedges = []
    for i in range(13):
        a, b = 2 * math.pi * i / 13, 2 * math.pi * (i + 1) / 13
        wedges.append(
            Polygon([(0, 0), (math.cos(a), math.sin(a)), (math.cos(b), math.sin(b))])
        )
    frame = _plain_frame(wedges)
    colours = territory_colours(frame)
    assert len(_touching_pairs(frame)) == 78
    assert len(set(colours)) == 13
    assert sorted(colours) == sorted(palette(13))


def test_labels_stand_inside_each_territory() -> None:
    """A U-shaped territory, whose centroid lies in its notch, is labelled at a
    point inside it; an empty territory gets no label."""
    u_shape = Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    frame = _plain_frame([u_shape, box(5, 0, 6, 1), Polygon()])
    assert not u_shape.contains(u_shape.centroid)
    points = label_points(frame)
    assert points[2] is None
    for shape, point in zip(frame.geometry[:2], points[:2], strict=True):
        assert point is not None and shape.contains(Point(point))


def test_geojson_round_trip_keeps_ids_as_text(
    dissolved: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    """Ids stay text ('02142', '007'), numbers are floats, NaN and empty are null."""
    path = tmp_path / "territories.geojson"
    write_territories_geojson(dissolved, path)

    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["type"] == "FeatureCollection"
    assert "crs" not in document
    features = document["features"]
    assert [f["properties"]["territory_id"] for f in features] == TABLE_ORDER
    assert features[0]["properties"] == {
        "territory_id": "T-SQ",
        "rep_id": "007",
        "accounts": 1.0,
        "potential": 10.5,
        "overloaded": False,
    }
    assert features[3]["properties"]["potential"] is None
    assert features[3]["geometry"] is None
    assert [f["geometry"]["type"] for f in features[:3]] == [
        "Polygon",
        "Polygon",
        "MultiPolygon",
    ]

    back = gpd.read_file(path)
    assert back["territory_id"].tolist() == TABLE_ORDER
    assert back["rep_id"].tolist()[0] == "007"
    assert back.crs.to_epsg() == 4326


def test_geojson_rings_follow_the_right_hand_rule(
    dissolved: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    """Exterior rings are counter-clockwise, as RFC 7946 asks."""
    path = tmp_path / "territories.geojson"
    write_territories_geojson(dissolved, path)
    ring = json.loads(path.read_text())["features"][1]["geometry"]["coordinates"][0]
    twice_area = sum(
        x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False)
    )
    assert twice_area > 0


def test_geopackage_round_trip(dissolved: gpd.GeoDataFrame, tmp_path: Path) -> None:
    """The 'territories' layer holds text ids, WGS84 and multipolygons only."""
    path = tmp_path / "territories.gpkg"
    path.write_text("stale")
    write_geopackage(dissolved, path)

    back = gpd.read_file(path, layer="territories")
    assert back["territory_id"].tolist() == TABLE_ORDER
    assert back["rep_id"].tolist()[0] == "007"
    assert back.crs.to_epsg() == 4326
    kinds = {g.geom_type for g in back.geometry if g is not None and not g.is_empty}
    assert kinds == {"MultiPolygon"}
    assert back.to_crs("EPSG:6933").area.iloc[1] == pytest.approx(
        2 * SIDE_M**2, rel=1e-9
    )


def test_draw_map_writes_a_png_of_the_requested_size(
    units: gpd.GeoDataFrame,
    alignment: list[str],
    dissolved: gpd.GeoDataFrame,
    tmp_path: Path,
) -> None:
    """10 x 8 inches at 150 dpi is 1500 x 1200 pixels; homes may be NaN."""
    centre = units.geometry.iloc[2].centroid
    homes = pd.DataFrame(
        {
            "territory_id": TABLE_ORDER,
            "lat": [centre.y, np.nan, np.nan, np.nan],
            "lon": [centre.x, np.nan, np.nan, np.nan],
        }
    )
    path = tmp_path / "map.png"
    draw_map(units, alignment, dissolved, homes, path, "Tiny alignment")

    assert path.stat().st_size > 0
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (1200, 1500)
    assert len(np.unique(image.reshape(-1, image.shape[2]), axis=0)) > 10


def test_draw_map_with_a_long_legend(tmp_path: Path) -> None:
    """35 territories: the legend is cut at 30 and the picture is 600 x 400."""
    ids = [f"{i:05d}" for i in range(35)]
    polygons = to_wgs84([square(i, 0) for i in range(35)], ids)
    table = pd.DataFrame({"territory_id": ids})
    dissolved = dissolve_territories(polygons, ids, table)
    homes = pd.DataFrame({"territory_id": ids, "lat": np.nan, "lon": np.nan})
    path = tmp_path / "map.png"
    draw_map(
        polygons, ids, dissolved, homes, path, "Strip", size_inches=(6, 4), dpi=100
    )
    assert matplotlib.image.imread(path).shape[:2] == (400, 600)


def test_alignment_of_the_wrong_length_is_refused(
    units: gpd.GeoDataFrame, table: pd.DataFrame
) -> None:
    """Four territory ids for five polygons: the message gives both counts."""
    with pytest.raises(InputError) as caught:
        dissolve_territories(units, ["02142"] * 4, table)
    assert str(caught.value) == (
        "the alignment gives 4 territory id(s) for 5 polygon(s); pass one "
        "territory id per polygon row, in the same order"
    )


def test_unknown_territory_is_refused(
    units: gpd.GeoDataFrame, table: pd.DataFrame
) -> None:
    """An alignment naming territory 2142 (not '02142') quotes the id."""
    with pytest.raises(InputError) as caught:
        dissolve_territories(units, ["2142", "02142", "T-SQ", "T-SQ", "T-SQ"], table)
    assert str(caught.value) == (
        "the alignment names territory id(s) '2142' that are not in the territory "
        "table; valid ids include 'T-SQ', '02142', 'T-SPLIT', 'T-EMPTY'"
    )


def test_polygons_without_crs_are_refused(table: pd.DataFrame) -> None:
    """Geometry without a coordinate reference system is not guessed at."""
    polygons = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1)])
    with pytest.raises(InputError, match="no coordinate reference system"):
        dissolve_territories(polygons, ["T-SQ"], table)


def test_repeated_territory_in_table_is_refused(units: gpd.GeoDataFrame) -> None:
    """A territory table listing '02142' twice is refused with the id quoted."""
    table = pd.DataFrame({"territory_id": ["02142", "T-SQ", "02142"]})
    with pytest.raises(InputError) as caught:
        dissolve_territories(units, ["02142"] * 5, table)
    assert str(caught.value) == (
        "the territory table repeats territory id(s) '02142'; give one row per "
        "territory"
    )


def test_homes_without_coordinates_are_refused(
    units: gpd.GeoDataFrame,
    alignment: list[str],
    dissolved: gpd.GeoDataFrame,
    tmp_path: Path,
) -> None:
    """A homes table without lat and lon names the missing columns."""
    homes = pd.DataFrame({"territory_id": TABLE_ORDER})
    with pytest.raises(InputError) as caught:
        draw_map(units, alignment, dissolved, homes, tmp_path / "map.png", "x")
    assert str(caught.value) == (
        "the home bases lack column(s) 'lat', 'lon'; give territory_id, lat and "
        "lon (degrees, NaN for no home)"
    )
    assert not (tmp_path / "map.png").exists()
