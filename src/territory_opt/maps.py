"""Territory maps: dissolved territories, compactness, GeoJSON/GeoPackage, PNG.

An alignment gives every account (a geographic unit with a polygon) one territory.
:func:`dissolve_territories` merges the units of each territory into one polygon or
multipolygon and joins the per-territory figures of the scorecard. Compactness is
measured on the dissolved shapes:

* Polsby-Popper, 4πA/P², with area A in m² and perimeter P in m measured in the
  equal-area projection EPSG:6933 (never in degrees). A circle scores 1, a square
  π/4 ≈ 0.785, a 2 × 1 rectangle 2π/9 ≈ 0.698; long or ragged shapes approach 0.
* Parts: the number of separate polygons of a dissolved territory. This is the
  geometric test of contiguity; it differs from the adjacency graph where the
  graph holds links that are not shared borders (islands attached by a ferry
  link, corner-only contacts under queen adjacency).

Everything here is a pure function of its arguments apart from the writers, which
write to the path they are given and nowhere else.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping

from territory_opt.errors import InputError, preview_ids
from territory_opt.geography import EQUAL_AREA_CRS

if TYPE_CHECKING:
    import geopandas as gpd
    from matplotlib.axes import Axes
    from matplotlib.path import Path as DrawPath

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
GEOPACKAGE_LAYER = "territories"
LEGEND_LIMIT = 30
# ColorBrewer Set3: 12 light qualitative colours, legible under black labels;
# more come from :func:`palette` when a contact graph needs them.
PALETTE = tuple(
    "#8dd3c7 #ffffb3 #bebada #fb8072 #80b1d3 #fdb462 "
    "#b3de69 #fccde5 #d9d9d9 #bc80bd #ccebc5 #ffed6f".split()
)
COORDINATE_GRID_DEGREES = 1e-7  # about 1 cm; GeoJSON coordinates are snapped to it
_ID_COLUMNS = ("territory_id", "rep_id", "account_id", "parent")


def dissolve_territories(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    territory_ids_of_accounts: Sequence[str] | np.ndarray | pd.Series,
    table: pd.DataFrame,
) -> gpd.GeoDataFrame:
    """One polygon or multipolygon per territory, with the territory's figures.

    Parameters
    ----------
    polygons
        Account polygons, one row per account, in any coordinate reference
        system (it must be set); rows are matched to ``territory_ids_of_accounts``
        by position. Invalid geometry (a self-intersecting ring) is repaired with
        ``make_valid`` and a warning naming the accounts.
    territory_ids_of_accounts
        Territory id of every account, in the row order of ``polygons``. Ids are
        compared as text.
    table
        Per-territory figures with a ``territory_id`` column, such as
        :func:`territory_opt.scorecard.territory_table`; every id of the alignment
        must appear in it.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of ``table`` and a ``geometry`` column in WGS84 (EPSG:4326),
        one row per territory in the row order of ``table``, with a fresh integer
        index. Lines and points left over by the union are dropped; a territory
        with no account has an empty polygon.

    Raises
    ------
    InputError
        When the polygons have no coordinate reference system, when the number of
        territory ids differs from the number of polygons, when ``table`` lacks
        ``territory_id`` or repeats an id, or when the alignment names a territory
        that ``table`` does not hold.
    """
    import geopandas as gpd

    series = _wgs84(polygons)
    territory_ids = _table_ids(table)
    labels = _alignment_labels(territory_ids_of_accounts, len(series), territory_ids)
    values = series.to_numpy().copy()

    invalid = ~shapely.is_valid(values) & ~shapely.is_missing(values)
    if invalid.any():
        names = [str(i) for i in series.index[invalid]]
        logger.warning(
            "repairing invalid geometry of %d account(s) (%s) before dissolving",
            len(names),
            preview_ids(names),
        )
        values[invalid] = shapely.make_valid(values[invalid])

    # One union per territory; a territory without accounts keeps an empty shape.
    members = pd.Series(np.arange(len(labels))).groupby(labels).indices
    shapes = [
        _polygonal(shapely.union_all(values[members[t]])) if t in members else Polygon()
        for t in territory_ids
    ]
    attributes = table.reset_index(drop=True).copy()
    return gpd.GeoDataFrame(attributes, geometry=shapes, crs=WGS84)


def polsby_popper(geometries: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Polsby-Popper compactness 4πA/P² of every geometry.

    Area A (m²) and perimeter P (m) are measured in the equal-area projection
    EPSG:6933. For a multipolygon A and P are the totals over its parts, and P
    includes the rings of holes. A circle scores 1 and a square π/4.

    Returns
    -------
    numpy.ndarray
        One float per geometry, in input order; NaN for an empty or missing
        geometry.

    Raises
    ------
    InputError
        When the geometries have no coordinate reference system.
    """
    return _polsby_popper(*_area_perimeter_m(geometries))


def piece_counts(geometries: gpd.GeoSeries | gpd.GeoDataFrame) -> np.ndarray:
    """Number of separate polygons of every (dissolved) geometry.

    A polygon counts 1, a multipolygon its number of polygons, an empty or
    missing geometry 0; lines and points are not counted. On the output of
    :func:`dissolve_territories` a count above 1 means the territory is split on
    the map; two units that meet only at a corner count as two parts.
    """
    parts = [_polygonal(g) for g in geometries.geometry.to_numpy()]
    return np.array(
        [0 if p.is_empty else shapely.get_num_geometries(p) for p in parts],
        dtype=np.int64,
    )


def compactness(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    territory_of_ids: Sequence[str] | np.ndarray | pd.Series,
    table: pd.DataFrame,
) -> dict[str, Any]:
    """Compactness of an alignment's territories as a JSON-ready dictionary.

    Dissolves the territories with :func:`dissolve_territories` (same arguments)
    and passes the result to :func:`compactness_of_dissolved`.
    """
    return compactness_of_dissolved(
        dissolve_territories(polygons, territory_of_ids, table)
    )


def compactness_of_dissolved(dissolved: gpd.GeoDataFrame) -> dict[str, Any]:
    """Compactness of already dissolved territories as a JSON-ready dictionary.

    Returns
    -------
    dict
        ``territories``: one entry per row of ``dissolved`` with
        ``territory_id``, ``polsby_popper``, ``parts``, ``area_km2`` and
        ``perimeter_km`` (equal-area projection EPSG:6933). ``summary``:
        ``polsby_popper_mean`` and ``polsby_popper_min`` over territories with
        an area, ``least_compact_territory`` (the first row on ties),
        ``split_territories`` (territories of more than one part) and
        ``empty_territories``. Values that do not exist (the score of an empty
        territory, the mean of none) are None; all numbers are plain Python
        ints and floats, so the dictionary goes to ``json.dump`` as it is.

    Raises
    ------
    InputError
        When ``dissolved`` has no ``territory_id`` column or no coordinate
        reference system.
    """
    _require_territory_id(dissolved)
    area_m2, perimeter_m = _area_perimeter_m(dissolved)
    score = _polsby_popper(area_m2, perimeter_m)
    parts = piece_counts(dissolved)
    ids = [str(t) for t in dissolved["territory_id"]]
    territories = [
        {
            "territory_id": t,
            "polsby_popper": _finite(score[i]),
            "parts": int(parts[i]),
            "area_km2": _finite(area_m2[i] / 1e6),
            "perimeter_km": _finite(perimeter_m[i] / 1e3),
        }
        for i, t in enumerate(ids)
    ]

    scored = np.isfinite(score)
    least = (
        int(np.flatnonzero(scored)[np.argmin(score[scored])]) if scored.any() else -1
    )
    summary = {
        "method": "polsby_popper",
        "crs": EQUAL_AREA_CRS,
        "polsby_popper_mean": float(score[scored].mean()) if scored.any() else None,
        "polsby_popper_min": float(score[least]) if least >= 0 else None,
        "least_compact_territory": ids[least] if least >= 0 else None,
        "split_territories": int(np.count_nonzero(parts > 1)),
        "empty_territories": int(np.count_nonzero(parts == 0)),
    }
    return {"territories": territories, "summary": summary}


def write_territories_geojson(
    dissolved: gpd.GeoDataFrame, path: str | PathLike[str]
) -> None:
    """Write dissolved territories as an RFC 7946 GeoJSON FeatureCollection.

    Coordinates are WGS84 longitude, latitude (the frame is reprojected when it
    is in another system), snapped to a 1e-7 degree grid (about 1 cm), with
    exterior rings counter-clockwise and holes clockwise; there is no ``crs``
    member. Every non-geometry column becomes a property: id columns
    (``territory_id``, ``rep_id``, ``parent``, any ``*_id``) and text as
    strings, so ``02142`` stays ``"02142"``; numbers as plain floats; booleans
    as booleans; missing and non-finite values as null. An empty territory has
    a null geometry. An existing file at ``path`` is replaced.
    """
    frame = _wgs84_frame(dissolved)
    columns = [c for c in frame.columns if c != frame.geometry.name]
    converters = [_property_converter(frame[c]) for c in columns]
    shapes = shapely.orient_polygons(
        shapely.set_precision(frame.geometry.to_numpy(), COORDINATE_GRID_DEGREES),
        exterior_cw=False,
    )

    features = []
    for row, shape in enumerate(shapes):
        properties = {
            str(c): convert(frame[c].iat[row])
            for c, convert in zip(columns, converters, strict=True)
        }
        empty = shape is None or shape.is_empty
        features.append(
            {
                "type": "Feature",
                "properties": properties,
                "geometry": None if empty else mapping(shape),
            }
        )
    document = {"type": "FeatureCollection", "features": features}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(document, handle, allow_nan=False)
        handle.write("\n")
    logger.info("wrote %d territories to %s", len(features), path)


def write_geopackage(dissolved: gpd.GeoDataFrame, path: str | PathLike[str]) -> None:
    """Write dissolved territories to a GeoPackage layer named ``territories``.

    The layer is in WGS84 (EPSG:4326) with every geometry stored as a
    multipolygon; id columns (``territory_id``, ``rep_id``, ``parent``, any
    ``*_id``) are stored as text. An existing file at ``path`` is replaced.
    """
    frame = _wgs84_frame(dissolved)
    for column in frame.columns:
        if column != frame.geometry.name and _is_id_column(str(column)):
            frame[column] = [None if _missing(v) else str(v) for v in frame[column]]
    target = Path(path)
    target.unlink(missing_ok=True)
    frame.to_file(
        target,
        driver="GPKG",
        layer=GEOPACKAGE_LAYER,
        engine="pyogrio",
        promote_to_multi=True,
    )
    logger.info("wrote %d territories to %s", len(frame), target)


def draw_map(
    polygons: gpd.GeoDataFrame | gpd.GeoSeries,
    territory_of_ids: Sequence[str] | np.ndarray | pd.Series,
    dissolved: gpd.GeoDataFrame,
    homes: pd.DataFrame,
    path: str | PathLike[str],
    title: str,
    *,
    size_inches: tuple[float, float] = (10.0, 8.0),
    dpi: int = 150,
) -> None:
    """Draw the alignment as a PNG map.

    Units are filled with the colour of their territory and outlined thinly in
    white; territories are outlined thickly in near-black. Colours come from a
    qualitative palette, given by :func:`territory_colours` so that territories
    whose shapes touch never share a colour; colours repeat between territories
    apart, so every territory's id is written at a point inside its shape
    (:func:`label_points`). Home bases are black stars. The legend (territory
    id → colour, at most 30 entries in 2 columns, then a count of the rest)
    sits right of the map.

    The map is drawn in longitude and latitude degrees with the aspect ratio set
    to 1/cos(φ) for the mid latitude φ of the units (an equirectangular view
    true to scale at φ), so that a kilometre east-west and a kilometre
    north-south have the same length at the centre of the map. We chose it over
    a projected system such as EPSG:5070 because it works anywhere on the globe
    and keeps degree ticks that users can match to their data; its east-west
    error grows with distance from φ (about 18% at the Canadian border on a map
    of the lower 48 states), which is small for regional maps.

    Parameters
    ----------
    polygons
        Account polygons, as for :func:`dissolve_territories`.
    territory_of_ids
        Territory id of every account, in the row order of ``polygons``.
    dissolved
        Output of :func:`dissolve_territories` for the same alignment; its row
        order sets the legend order.
    homes
        Columns ``territory_id``, ``lat`` and ``lon`` (degrees).
    path
        PNG file to write; an existing file is replaced.
    title
        Title printed above the map.
    size_inches
        Figure width and height in inches; 10 × 8 by default.
    dpi
        Pixels per inch; 150 by default, which gives a 1500 × 1200 pixel image.

    Raises
    ------
    InputError
        As :func:`dissolve_territories` for the alignment, and when ``homes``
        lacks one of its three columns.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    missing = [c for c in ("territory_id", "lat", "lon") if c not in homes.columns]
    if missing:
        raise InputError(
            f"the home bases lack column(s) {', '.join(repr(c) for c in missing)}; "
            f"give territory_id, lat and lon (degrees, NaN for no home)"
        )
    units = _wgs84(polygons)
    territories = _wgs84_frame(dissolved)
    territory_ids = [str(t) for t in territories["territory_id"]]
    labels = _alignment_labels(territory_of_ids, len(units), territory_ids)
    colour_of = dict(zip(territory_ids, territory_colours(territories), strict=True))

    figure = Figure(figsize=size_inches, dpi=dpi)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.07, 0.07, 0.64, 0.85))
    axes.set_title(title, fontsize=12)
    axes.set_xlabel("longitude (°)")
    axes.set_ylabel("latitude (°)")
    _frame_map(axes, units)

    # Units, then territory borders over them, then homes and labels on top.
    _draw_units(axes, units.to_numpy(), [colour_of[t] for t in labels])
    _draw_borders(axes, territories.geometry.to_numpy())
    _draw_homes(axes, homes, territories)

    handles: list[Any] = [
        Patch(facecolor=colour_of[t], edgecolor="#1a1a1a", linewidth=0.6, label=t)
        for t in territory_ids[:LEGEND_LIMIT]
    ]
    if len(territory_ids) > LEGEND_LIMIT:
        rest = len(territory_ids) - LEGEND_LIMIT
        handles.append(Patch(color="none", label=f"and {rest} more"))
    handles.append(
        Line2D([], [], color="black", marker="*", linestyle="", label="home base")
    )
    figure.legend(
        handles=handles,
        loc="center left",
        bbox_to_anchor=(0.74, 0.5),
        ncols=2,
        fontsize=7,
        title="Territory (id on the map)",
        frameon=False,
    )
    figure.savefig(path, dpi=dpi, format="png")
    logger.info("wrote map of %d territories to %s", len(territory_ids), path)


def _with_crs(geometries: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    """The geometry column, refusing geometry without a coordinate system."""
    series = geometries.geometry
    if series.crs is None:
        raise InputError(
            "the geometry has no coordinate reference system; set it, for "
            "example with .set_crs('EPSG:4326') for longitude/latitude degrees"
        )
    return series


def _wgs84(geometries: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoSeries:
    """The geometry column in WGS84."""
    series = _with_crs(geometries)
    if series.crs.to_epsg() != 4326:
        series = series.to_crs(WGS84)
    return series


def _require_territory_id(dissolved: gpd.GeoDataFrame) -> None:
    if "territory_id" not in dissolved.columns:
        raise InputError(
            "the dissolved territories have no 'territory_id' column; build them "
            "with dissolve_territories"
        )


def _wgs84_frame(dissolved: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    _require_territory_id(dissolved)
    frame = dissolved.copy()
    frame[frame.geometry.name] = _wgs84(frame)
    return frame.set_crs(WGS84, allow_override=True)


def _table_ids(table: pd.DataFrame) -> list[str]:
    if "territory_id" not in table.columns:
        raise InputError(
            f"the territory table has no 'territory_id' column; it has "
            f"{', '.join(repr(str(c)) for c in table.columns)}"
        )
    ids = [str(t) for t in table["territory_id"]]
    repeated = sorted(set(pd.Series(ids)[pd.Series(ids).duplicated()]))
    if repeated:
        raise InputError(
            f"the territory table repeats territory id(s) {preview_ids(repeated)}; "
            f"give one row per territory"
        )
    return ids


def _alignment_labels(
    territory_ids_of_accounts: Sequence[str] | np.ndarray | pd.Series,
    n_polygons: int,
    territory_ids: Sequence[str],
) -> np.ndarray:
    """Territory id (text) per polygon row, checked against the known ids."""
    labels = np.array([str(t) for t in territory_ids_of_accounts], dtype=object)
    if len(labels) != n_polygons:
        raise InputError(
            f"the alignment gives {len(labels)} territory id(s) for {n_polygons} "
            f"polygon(s); pass one territory id per polygon row, in the same order"
        )
    known = set(territory_ids)
    unknown = sorted({t for t in labels if t not in known})
    if unknown:
        raise InputError(
            f"the alignment names territory id(s) {preview_ids(unknown)} that are "
            f"not in the territory table; valid ids include "
            f"{preview_ids(list(territory_ids))}"
        )
    return labels


def _polygonal(shape: Any) -> Polygon | MultiPolygon:
    """The polygon parts of a geometry as one (multi)polygon; empty if none."""
    if shape is None or shape.is_empty:
        return Polygon()
    if isinstance(shape, Polygon | MultiPolygon):
        return shape
    found: list[Polygon] = []
    pending = [shape]
    while pending:
        part = pending.pop(0)
        if isinstance(part, Polygon):
            if not part.is_empty:
                found.append(part)
        elif isinstance(part, MultiPolygon | shapely.GeometryCollection):
            pending.extend(shapely.get_parts(part))
    if not found:
        return Polygon()
    return found[0] if len(found) == 1 else MultiPolygon(found)


def _area_perimeter_m(
    geometries: gpd.GeoSeries | gpd.GeoDataFrame,
) -> tuple[np.ndarray, np.ndarray]:
    """Area (m²) and perimeter (m) in EPSG:6933; NaN for empty or missing shapes."""
    import geopandas as gpd

    series = _with_crs(geometries)
    shapes = [_polygonal(g) for g in series.to_numpy()]
    projected = gpd.GeoSeries(shapes, crs=series.crs).to_crs(EQUAL_AREA_CRS)
    empty = np.array([s.is_empty for s in shapes], dtype=bool)
    area = np.where(empty, np.nan, projected.area.to_numpy(dtype=float))
    perimeter = np.where(empty, np.nan, projected.length.to_numpy(dtype=float))
    return area, perimeter


def _polsby_popper(area_m2: np.ndarray, perimeter_m: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 4.0 * math.pi * area_m2 / perimeter_m**2
    return np.where(perimeter_m > 0, score, np.nan)


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _is_id_column(name: str) -> bool:
    return name in _ID_COLUMNS or name.endswith("_id")


def _property_converter(column: pd.Series) -> Any:
    """A function turning one cell of ``column`` into a plain JSON value."""
    name = str(column.name)
    if _is_id_column(name) or not (
        pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
    ):
        return lambda v: None if _missing(v) else str(v)
    if pd.api.types.is_bool_dtype(column):
        return lambda v: None if _missing(v) else bool(v)
    return lambda v: float(v) if not _missing(v) and np.isfinite(v) else None


def territory_neighbours(territories: gpd.GeoDataFrame) -> list[set[int]]:
    """Row positions of the territories whose shapes touch each one (a shared
    border or a shared corner both count)."""
    shapes = territories.geometry.to_numpy()
    neighbours: list[set[int]] = [set() for _ in range(len(shapes))]
    if len(shapes):
        left, right = territories.sindex.query(shapes, predicate="intersects")
        for a, b in zip(left.tolist(), right.tolist(), strict=True):
            if a != b:
                neighbours[a].add(b)
                neighbours[b].add(a)
    return neighbours


def palette(count: int) -> list[str]:
    """``count`` distinct colours: ColorBrewer Set3, then Tableau's tab20, then
    evenly spaced hues for any more (which no planar map needs)."""
    from matplotlib import colormaps
    from matplotlib.colors import to_hex

    colours = list(PALETTE)
    tableau = colormaps["tab20"]
    colours += [to_hex(tableau(i)) for i in range(tableau.N)]
    extra = count - len(colours)
    if extra > 0:
        hues = colormaps["hsv"]
        colours += [to_hex(hues(i / extra)) for i in range(extra)]
    return colours[:count]


def territory_colours(territories: gpd.GeoDataFrame) -> list[str]:
    """Palette colour per territory; territories whose shapes touch never share one.

    A greedy colouring of the territories' contact graph: territories are taken
    in order of decreasing number of neighbours (ties by row order), and each
    takes, among the 12 colours of Set3 that none of its coloured neighbours
    has, the one given to the fewest territories so far (ties by palette order).
    Up to 12 territories thus all differ, and more share the 12 colours evenly,
    so that a colour of the legend points to as few territories as it can. A
    territory whose neighbours hold all 12 gets one of :func:`palette`'s further
    colours rather than a neighbour's.
    """
    neighbours = territory_neighbours(territories)
    colour = [-1] * len(neighbours)
    count = [0] * (len(PALETTE) + len(neighbours))
    for t in sorted(range(len(neighbours)), key=lambda i: (-len(neighbours[i]), i)):
        used = {colour[n] for n in neighbours[t]}
        free = [c for c in range(len(PALETTE)) if c not in used]
        if free:
            colour[t] = min(free, key=lambda c: (count[c], c))
        else:
            colour[t] = next(
                c for c in range(len(PALETTE), len(count)) if c not in used
            )
        count[colour[t]] += 1
    colours = palette(max(colour, default=-1) + 1)
    return [colours[c] for c in colour]


def label_points(territories: gpd.GeoDataFrame) -> list[tuple[float, float] | None]:
    """Where each territory's id is written: a point inside its shape
    (``representative_point``), as (x, y); None for an empty territory."""
    points: list[tuple[float, float] | None] = []
    for shape in territories.geometry:
        if shape is None or shape.is_empty:
            points.append(None)
        else:
            point = shape.representative_point()
            points.append((float(point.x), float(point.y)))
    return points


def _ring_paths(shape: Any) -> list[DrawPath]:
    """Matplotlib paths of every polygon of ``shape``, holes cut out."""
    from matplotlib.path import Path as DrawPath

    oriented = shapely.orient_polygons(_polygonal(shape), exterior_cw=False)
    paths = []
    for polygon in shapely.get_parts(oriented):
        if polygon.is_empty:
            continue
        rings = [polygon.exterior, *polygon.interiors]
        paths.append(
            DrawPath.make_compound_path(
                *[DrawPath(np.asarray(r.coords)[:, :2], closed=True) for r in rings]
            )
        )
    return paths


def _frame_map(axes: Axes, units: gpd.GeoSeries) -> None:
    """Limits with a 2% margin and the 1/cos(mid latitude) aspect ratio."""
    west, south, east, north = units.total_bounds
    if not np.all(np.isfinite([west, south, east, north])):
        return
    margin = 0.02 * max(east - west, north - south, 1e-6)
    axes.set_xlim(west - margin, east + margin)
    axes.set_ylim(south - margin, north + margin)
    mid_latitude = math.radians((south + north) / 2)
    axes.set_aspect(1.0 / max(math.cos(mid_latitude), 0.1))


def _draw_units(axes: Axes, shapes: np.ndarray, colours: list[str]) -> None:
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import PathPatch

    patches, fills = [], []
    for shape, colour in zip(shapes, colours, strict=True):
        for path in _ring_paths(shape):
            patches.append(PathPatch(path))
            fills.append(colour)
    axes.add_collection(
        PatchCollection(
            patches, facecolors=fills, edgecolors="white", linewidths=0.3, zorder=1
        ),
        autolim=False,
    )


def _draw_borders(axes: Axes, shapes: np.ndarray) -> None:
    from matplotlib.collections import LineCollection

    lines = []
    for shape in shapes:
        for polygon in shapely.get_parts(_polygonal(shape)):
            if polygon.is_empty:
                continue
            for ring in (polygon.exterior, *polygon.interiors):
                lines.append(np.asarray(ring.coords)[:, :2])
    axes.add_collection(
        LineCollection(lines, colors="#1a1a1a", linewidths=1.2, zorder=2),
        autolim=False,
    )


def _draw_homes(axes: Axes, homes: pd.DataFrame, territories: gpd.GeoDataFrame) -> None:
    """Stars at home bases; every territory's id written inside its shape."""
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2.0, foreground="white")]
    starred = homes.dropna(subset=["lat", "lon"])
    if len(starred):
        axes.scatter(
            starred["lon"].to_numpy(dtype=float),
            starred["lat"].to_numpy(dtype=float),
            marker="*",
            s=90,
            c="black",
            linewidths=0,
            zorder=3,
        )

    # Ids at a point inside each territory: colours repeat across the map, so the
    # label, not the colour, is what tells a reader which territory is which.
    points = label_points(territories)
    for t, point in zip(territories["territory_id"], points, strict=True):
        if point is None:
            continue
        axes.annotate(
            str(t),
            point,
            ha="center",
            va="center",
            fontsize=7,
            fontweight="bold",
            path_effects=halo,
            zorder=4,
        )
