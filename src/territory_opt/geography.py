"""Geographic units: polygons, adjacency, islands and home units.

Polygons are read with geopandas (GeoJSON, GeoPackage, Shapefile). A layer
without a CRS is refused with the fix; a layer in another CRS is reprojected to
WGS84 (EPSG:4326); invalid geometry is repaired with a warning that names the
units. Adjacency comes from an edge-list file or from the polygons (rook or
queen contiguity via libpysal). Areas and perimeters are measured in an
equal-area projection, never in degrees.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from territory_opt.adjacency import Adjacency
from territory_opt.errors import InputError, preview_ids
from territory_opt.geo import haversine_km
from territory_opt.scenario import EdgeList, PolygonLayer
from territory_opt.tables import read_text_table

if TYPE_CHECKING:
    import geopandas as gpd

logger = logging.getLogger(__name__)

EQUAL_AREA_CRS = "EPSG:6933"  # WGS 84 / NSIDC EASE-Grid 2.0 Global, metres


def read_edge_list(spec: EdgeList) -> list[tuple[str, str]]:
    """Pairs of adjacent account ids from an edge-list table."""
    table = read_text_table(spec.path, None, spec.encoding, spec.delimiter)
    for column in (spec.from_column, spec.to_column):
        if column not in table.frame:
            raise InputError(
                f"{spec.path}: no column '{column}'; the file has "
                f"{', '.join(repr(c) for c in table.frame.columns)}. Set "
                f"geography.adjacency.from_column / to_column"
            )
    return list(
        zip(
            table.frame[spec.from_column].astype(str),
            table.frame[spec.to_column].astype(str),
            strict=True,
        )
    )


def read_polygons(
    spec: PolygonLayer,
    account_ids: tuple[str, ...],
    lat: np.ndarray | None = None,
    lon: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    """Account polygons in WGS84, one per account, in ``account_ids`` order.

    With ``spec.match`` = ``location`` each account takes the polygon that
    holds its point (``lat``/``lon`` in degrees, in ``account_ids`` order).

    Raises
    ------
    InputError
        When the file has no CRS, lacks the id column, or misses accounts.
    """
    layer = read_layer(spec)
    if spec.match == "location":
        if lat is None or lon is None:
            raise InputError(
                f"{spec.path}: geography.polygons.match: location needs the "
                f"accounts' lat/lon"
            )
        matched = locate_points(lat, lon, layer, "account_id")
        missing = [a for a, m in zip(account_ids, matched, strict=True) if not m]
        logger.info(
            "%s: %d of %d account point(s) matched a polygon",
            spec.path,
            len(account_ids) - len(missing),
            len(account_ids),
        )
        if missing:
            raise InputError(
                f"{spec.path}: {len(missing)} of {len(account_ids)} account point(s) "
                f"lie in no polygon ({preview_ids(missing)}); check their lat/lon "
                f"or the layer's coordinate reference system"
            )
        by_id = layer.drop_duplicates("account_id").set_index("account_id").geometry
        layer = _frame([by_id[m] for m in matched], list(account_ids))
    else:
        layer = layer.drop_duplicates("account_id").set_index("account_id")
        missing = [a for a in account_ids if a not in layer.index]
        if missing:
            raise InputError(
                f"{spec.path}: {len(missing)} account(s) have no polygon "
                f"({preview_ids(missing)}); ids are matched as text on "
                f"'{spec.id_column}'"
            )
        layer = layer.loc[list(account_ids)]
    invalid = ~layer.geometry.is_valid
    if invalid.any():
        names = list(layer.index[invalid])
        if not spec.repair:
            raise InputError(
                f"{spec.path}: invalid geometry for {preview_ids(names)}; set "
                f"geography.polygons.repair: true to repair it"
            )
        logger.warning("repairing invalid geometry of %s", preview_ids(names))
        layer.loc[invalid, "geometry"] = layer.geometry[invalid].make_valid()
    return layer[["geometry"]]


def _frame(shapes: list[Any], account_ids: list[str]) -> gpd.GeoDataFrame:
    """Shapes in WGS84 indexed by account id."""
    import geopandas as gpd
    import pandas as pd

    return gpd.GeoDataFrame(
        {"geometry": shapes},
        index=pd.Index(account_ids, name="account_id"),
        crs="EPSG:4326",
    )


def read_layer(spec: PolygonLayer) -> gpd.GeoDataFrame:
    """The polygon layer in WGS84 with its ids as text in ``account_id``.

    Raises
    ------
    InputError
        When the file is missing, has no CRS, or lacks the id column.
    """
    import geopandas as gpd

    if not spec.path.exists():
        raise InputError(f"{spec.path}: file not found; check geography.polygons.path")
    layer = gpd.read_file(spec.path, layer=spec.layer)
    if layer.crs is None:
        raise InputError(
            f"{spec.path}: the polygon layer has no coordinate reference system. "
            f"Set it in the file (for example with "
            f"`ogr2ogr -a_srs EPSG:4326 out.gpkg {spec.path.name}`) or save it as "
            f"GeoJSON, which is WGS84 by definition"
        )
    if spec.id_column not in layer:
        raise InputError(
            f"{spec.path}: no column '{spec.id_column}'; the layer has "
            f"{', '.join(repr(c) for c in layer.columns if c != 'geometry')}"
        )
    if layer.crs.to_epsg() != 4326:
        logger.info("reprojecting %s from %s to EPSG:4326", spec.path, layer.crs)
        layer = layer.to_crs("EPSG:4326")
    layer["account_id"] = layer[spec.id_column].map(_id_text)
    return layer


def locate_points(
    lat: np.ndarray, lon: np.ndarray, layer: gpd.GeoDataFrame, id_column: str
) -> list[str]:
    """The ``id_column`` value of the polygon holding each point ("" for none).

    Points are WGS84 degrees; the layer may be in any CRS (the points are
    projected into it). A point on a shared border takes the first polygon.
    """
    import geopandas as gpd

    points = gpd.GeoDataFrame(
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326"
    ).to_crs(layer.crs)
    joined = gpd.sjoin(points, layer[[id_column, "geometry"]], predicate="within")
    first = joined[~joined.index.duplicated(keep="first")][id_column]
    return [str(first.get(i, "")) for i in range(len(points))]


def _id_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def polygon_pairs(layer: gpd.GeoDataFrame, method: str) -> list[tuple[str, str]]:
    """Adjacent account pairs from polygons: rook (shared border) or queen."""
    from libpysal.weights import Queen, Rook

    build = Rook if method == "rook" else Queen
    weights = build.from_dataframe(layer, ids=list(layer.index), silence_warnings=True)
    return [(a, b) for a, near in weights.neighbors.items() for b in near if a < b]


def adjacency_from_pairs(
    pairs: list[tuple[str, str]], account_ids: tuple[str, ...]
) -> Adjacency:
    """Index-space adjacency; pairs naming units that are not accounts are dropped."""
    index = {a: i for i, a in enumerate(account_ids)}
    known = [(index[a], index[b]) for a, b in pairs if a in index and b in index]
    dropped = len(pairs) - len(known)
    if dropped:
        logger.info(
            "%d adjacency pairs name units outside the accounts; ignored", dropped
        )
    return Adjacency.from_pairs(len(account_ids), np.array(known, dtype=np.int64))


def home_units(
    mode: str,
    km: np.ndarray,
    named: tuple[str, ...],
    account_ids: tuple[str, ...],
    territory_ids: tuple[str, ...],
) -> np.ndarray:
    """Account index of each territory's home unit (-1 for none).

    ``nearest``: the account nearest to the home point; when two territories
    would share one, the territory with the larger id takes its next nearest
    free account. ``column``: the ``home_unit`` ids of the territories table.
    """
    k = len(territory_ids)
    roots = np.full(k, -1, dtype=np.int64)
    if mode == "none":
        return roots
    if mode == "column":
        index = {a: i for i, a in enumerate(account_ids)}
        unknown = [u for u in named if u and u not in index]
        if unknown:
            raise InputError(
                f"territories: home_unit {preview_ids(unknown)} not among the accounts"
            )
        missing = [territory_ids[t] for t, u in enumerate(named) if not u]
        if missing:
            raise InputError(
                f"territories {preview_ids(missing)} have no home_unit; fill the "
                f"column or use geography.home_units: nearest"
            )
        roots[:] = [index[u] for u in named]
        return roots
    taken: set[int] = set()
    for t in range(k):
        for a in np.argsort(km[:, t], kind="stable"):
            if int(a) not in taken:
                roots[t] = int(a)
                taken.add(int(a))
                break
    return roots


def attach_islands(
    adjacency: Adjacency, lat: np.ndarray, lon: np.ndarray
) -> tuple[Adjacency, list[str]]:
    """Link every piece of the graph to its nearest unit outside it.

    Pieces are joined to the largest one by the shortest great-circle link
    between a member and a non-member, smallest pieces first, until one piece
    remains. Returns the new adjacency and one note per link made.
    """
    notes: list[str] = []
    extra: list[tuple[int, int]] = []
    current = adjacency
    while True:
        pieces = current.components()
        if len(pieces) <= 1:
            return current, notes
        piece = pieces[-1]
        inside = np.zeros(current.n, dtype=bool)
        inside[piece] = True
        others = np.nonzero(~inside)[0]
        km = haversine_km(
            lat[piece][:, None],
            lon[piece][:, None],
            lat[others][None, :],
            lon[others][None, :],
        )
        i, j = np.unravel_index(int(np.argmin(km)), km.shape)
        link = (int(piece[i]), int(others[j]))
        extra.append(link)
        notes.append(
            f"{len(piece)} unit(s) with no edge to the rest attached by a link of "
            f"{float(km[i, j]):.1f} km"
        )
        current = current.attach(np.array([link]))


def describe_pieces(
    pieces: list[np.ndarray], account_ids: tuple[str, ...]
) -> list[str]:
    """Plain words for every piece but the largest: island or component."""
    out = []
    for piece in pieces[1:]:
        ids = [account_ids[a] for a in piece]
        if len(piece) == 1:
            out.append(f"unit '{ids[0]}' is an island: it has no neighbours")
        else:
            out.append(
                f"disconnected component of {len(piece)} units ({preview_ids(ids)})"
            )
    return out
