"""Great-circle distances between points given in degrees of latitude and longitude.

Distances are computed on a sphere of radius ``EARTH_RADIUS_KM`` (6371.0088 km, the
IUGG mean Earth radius) with the haversine formula::

    h = sin^2((lat2 - lat1) / 2) + cos(lat1) cos(lat2) sin^2((lon2 - lon1) / 2)
    d = 2 R arcsin(sqrt(h))

The spherical model differs from the WGS 84 ellipsoid by at most about 0.5 %, which
is well inside the precision of account locations used for territory design. Near
antipodal points the formula loses a few digits (arcsin is flat close to 1); the error
stays within a few metres.
Latitudes must lie within [-90, 90] degrees; longitudes may take any finite value.
"""

from __future__ import annotations

from typing import overload

import numpy as np
import numpy.typing as npt

__all__ = ["EARTH_RADIUS_KM", "distance_matrix_km", "haversine_km"]

EARTH_RADIUS_KM = 6371.0088

FloatArray = npt.NDArray[np.float64]


@overload
def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float: ...


@overload
def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> FloatArray: ...


def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> float | FloatArray:
    """Great-circle distance between two points or two sets of points.

    The arguments broadcast against each other like numpy arrays, so one point can be
    measured against many.

    Parameters
    ----------
    lat1, lon1
        Latitude and longitude of the first point(s), in degrees.
    lat2, lon2
        Latitude and longitude of the second point(s), in degrees.

    Returns
    -------
    float or numpy.ndarray
        Distance in km. A float when all four arguments are scalars; otherwise a
        float64 array of the broadcast shape.

    Raises
    ------
    ValueError
        If an argument is empty, holds NaN or an infinite value (the message names
        the position), is not numeric, or holds a latitude outside [-90, 90]; or if
        the shapes do not broadcast.
    """
    arguments = {"lat1": lat1, "lon1": lon1, "lat2": lat2, "lon2": lon2}
    coordinates = {
        name: _as_degrees(value, name, is_latitude=name.startswith("lat"))
        for name, value in arguments.items()
    }
    try:
        np.broadcast_shapes(*(array.shape for array in coordinates.values()))
    except ValueError as error:
        shapes = ", ".join(f"{k} {v.shape}" for k, v in coordinates.items())
        raise ValueError(
            f"coordinate shapes do not broadcast together: {shapes}; pass arrays of "
            "equal length, or a scalar for a single point"
        ) from error

    distance = _haversine(
        coordinates["lat1"],
        coordinates["lon1"],
        coordinates["lat2"],
        coordinates["lon2"],
    )
    all_scalars = all(
        np.ndim(value) == 0 and not isinstance(value, np.ndarray)
        for value in arguments.values()
    )
    return float(distance) if all_scalars else distance


def distance_matrix_km(
    lat_a: npt.ArrayLike,
    lon_a: npt.ArrayLike,
    lat_b: npt.ArrayLike,
    lon_b: npt.ArrayLike,
) -> FloatArray:
    """Great-circle distance from every point of one set to every point of another.

    Parameters
    ----------
    lat_a, lon_a
        Latitudes and longitudes of the first set (for example accounts), in
        degrees, as one-dimensional sequences of equal length.
    lat_b, lon_b
        Latitudes and longitudes of the second set (for example territory homes), in
        degrees, as one-dimensional sequences of equal length.

    Returns
    -------
    numpy.ndarray
        Float64 array of shape ``(len(lat_a), len(lat_b))``; entry ``[i, j]`` is the
        distance in km from point ``i`` of the first set to point ``j`` of the second.

    Raises
    ------
    ValueError
        If a sequence is empty or not one-dimensional, holds NaN or an infinite value
        (the message names the position), is not numeric, or holds a latitude outside
        [-90, 90]; or if a set's latitudes and longitudes differ in length.
    """
    lat_first, lon_first = _as_point_set(lat_a, lon_a, "lat_a", "lon_a")
    lat_second, lon_second = _as_point_set(lat_b, lon_b, "lat_b", "lon_b")
    return _haversine(
        lat_first[:, np.newaxis],
        lon_first[:, np.newaxis],
        lat_second[np.newaxis, :],
        lon_second[np.newaxis, :],
    )


def _haversine(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Haversine distance in km over validated, broadcastable degree arrays."""
    phi1 = np.radians(lat1)
    phi2 = np.radians(lat2)
    half_dphi = (phi2 - phi1) / 2.0
    half_dlambda = np.radians(lon2 - lon1) / 2.0

    h = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlambda) ** 2
    # Rounding can push h a hair above 1 for antipodal points; arcsin needs <= 1.
    h = np.clip(h, 0.0, 1.0)
    return np.asarray(2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h)), dtype=np.float64)


def _as_point_set(
    lat: npt.ArrayLike, lon: npt.ArrayLike, lat_name: str, lon_name: str
) -> tuple[FloatArray, FloatArray]:
    """Validate one set of points given as two one-dimensional sequences."""
    latitudes = _as_degrees(lat, lat_name, is_latitude=True)
    longitudes = _as_degrees(lon, lon_name, is_latitude=False)
    for name, array in ((lat_name, latitudes), (lon_name, longitudes)):
        if array.ndim != 1:
            raise ValueError(
                f"{name} must be one-dimensional; got an array of shape {array.shape}"
            )
    if latitudes.size != longitudes.size:
        raise ValueError(
            f"{lat_name} and {lon_name} must have one entry per point each; got "
            f"{latitudes.size} and {longitudes.size}"
        )
    return latitudes, longitudes


def _as_degrees(value: npt.ArrayLike, name: str, *, is_latitude: bool) -> FloatArray:
    """Validate degrees: numeric, non-empty, finite, latitudes within ±90."""
    try:
        degrees = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must hold numbers (degrees) only; convert text such as '40.1N' "
            "to signed decimal degrees first"
        ) from error
    if degrees.size == 0:
        raise ValueError(f"{name} needs at least one value; got an empty sequence")

    non_finite = ~np.isfinite(degrees)
    if non_finite.any():
        index = _first_index(non_finite)
        kind = "NaN" if np.isnan(degrees[index]) else "infinite"
        raise ValueError(
            f"{_describe_position(name, index)} is {kind}; every coordinate must be a "
            "finite number of degrees (geocode or drop that point first)"
        )

    if is_latitude:
        outside = np.abs(degrees) > 90.0
        if outside.any():
            index = _first_index(outside)
            raise ValueError(
                f"{_describe_position(name, index)} is {degrees[index]:g}, outside "
                "[-90, 90] degrees; check that latitude and longitude are not swapped"
            )
    return degrees


def _first_index(mask: npt.NDArray[np.bool_]) -> tuple[int, ...]:
    """Index of the first true entry of a boolean array; ``()`` for a 0-d array."""
    if mask.ndim == 0:
        return ()
    return tuple(int(i) for i in np.argwhere(mask)[0])


def _describe_position(name: str, index: tuple[int, ...]) -> str:
    """``name`` for a scalar, ``name[i]`` or ``name[i, j]`` for an array entry."""
    if not index:
        return name
    return f"{name}[{', '.join(str(i) for i in index)}]"
