"""Tests of territory_opt.geo: great-circle distances on the mean Earth sphere."""

from __future__ import annotations

import math

import numpy as np
import pytest

from territory_opt.geo import EARTH_RADIUS_KM, distance_matrix_km, haversine_km

# One degree of arc on the sphere: pi * 6371.0088 / 180 = 111.195080 km.
ONE_DEGREE_KM = math.pi * EARTH_RADIUS_KM / 180.0


def test_one_degree_of_longitude_at_40_north():
    """(40, -75) to (40, -74) is 85.18 km within 0.5%.

    h = cos(40°)^2 sin(0.5°)^2, so d = 2R asin(cos 40° sin 0.5°)
    = 2 * 6371.0088 * asin(0.766044 * 0.00872654) = 12742.0176 * 0.00668497
    = 85.180 km.
    """
    distance = haversine_km(40.0, -75.0, 40.0, -74.0)

    assert distance == pytest.approx(85.18, rel=0.005)
    assert round(distance, 2) == 85.18


def test_one_degree_along_a_meridian():
    """Along a meridian h = sin(0.5°)^2, so one degree of latitude is pi R / 180."""
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(ONE_DEGREE_KM, rel=1e-12)
    assert round(ONE_DEGREE_KM, 3) == 111.195


def test_one_degree_along_the_equator():
    """On the equator cos(lat) = 1, so one degree of longitude is pi R / 180 too."""
    assert haversine_km(0.0, 10.0, 0.0, 11.0) == pytest.approx(ONE_DEGREE_KM, rel=1e-12)


def test_zero_distance_from_a_point_to_itself():
    """A point is 0 km from itself."""
    assert haversine_km(42.36, -71.09, 42.36, -71.09) == 0.0


@pytest.mark.parametrize(
    "points",
    [(0.0, 0.0, 0.0, 180.0), (90.0, 0.0, -90.0, 0.0), (40.0, -75.0, -40.0, 105.0)],
    ids=["equator", "poles", "philadelphia-antipode"],
)
def test_antipodal_points_are_half_a_circumference_apart(points):
    """Antipodes have h = 1, so d = 2R asin(1) = pi R = 20015.114 km.

    Near h = 1 the haversine formula loses digits (asin is flat there), so the check
    allows 1e-7 of pi R, about 2 m.
    """
    expected = math.pi * EARTH_RADIUS_KM

    assert haversine_km(*points) == pytest.approx(expected, rel=1e-7)
    assert round(expected, 3) == 20015.114


def test_distance_is_symmetric():
    """Swapping the two points gives the same distance."""
    there = haversine_km(51.5, -0.12, 48.86, 2.35)
    back = haversine_km(48.86, 2.35, 51.5, -0.12)

    assert there == pytest.approx(back, rel=1e-15)


def test_longitude_wraps_around_the_date_line():
    """179° E to 179° W on the equator is 2 degrees of arc, not 358."""
    distance = haversine_km(0.0, 179.0, 0.0, -179.0)

    assert distance == pytest.approx(2 * ONE_DEGREE_KM, rel=1e-12)


def test_scalars_in_give_a_float_out():
    """Four scalars give a plain Python float."""
    assert type(haversine_km(40, -75, 40, -74)) is float


def test_arrays_broadcast_against_a_single_point():
    """Many points against one: [0°, 1°, 2°] of latitude from the origin."""
    distances = haversine_km(np.array([0.0, 1.0, 2.0]), 0.0, 0.0, 0.0)

    assert isinstance(distances, np.ndarray)
    assert distances.shape == (3,)
    np.testing.assert_allclose(
        distances, [0.0, ONE_DEGREE_KM, 2 * ONE_DEGREE_KM], rtol=1e-12, atol=1e-9
    )


def test_lists_are_accepted_as_arrays():
    """Lists broadcast like arrays and give an array."""
    distances = haversine_km([0.0, 0.0], [0.0, 1.0], [0.0, 0.0], [0.0, 0.0])

    np.testing.assert_allclose(distances, [0.0, ONE_DEGREE_KM], rtol=1e-12)


def test_distance_matrix_shape_and_entries():
    """Two points against three give a 2 x 3 matrix of pairwise distances.

    a = (0, 0), (0, 1); b = (0, 0), (1, 0), (0, 2) as (lat, lon). Row 0: 0, one degree,
    two degrees; row 1: one degree, the diagonal hop to (1, 0), one degree.
    """
    matrix = distance_matrix_km(
        [0.0, 0.0], [0.0, 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0]
    )

    assert matrix.shape == (2, 3)
    np.testing.assert_allclose(
        matrix[0], [0.0, ONE_DEGREE_KM, 2 * ONE_DEGREE_KM], rtol=1e-12, atol=1e-9
    )
    assert matrix[1, 0] == pytest.approx(ONE_DEGREE_KM, rel=1e-12)
    assert matrix[1, 1] == pytest.approx(haversine_km(0.0, 1.0, 1.0, 0.0), rel=1e-15)
    assert matrix[1, 2] == pytest.approx(ONE_DEGREE_KM, rel=1e-12)


def test_distance_matrix_of_a_set_with_itself_has_zero_diagonal():
    """Each point is 0 km from itself and the matrix is symmetric."""
    lat = [40.0, 41.5, 39.2]
    lon = [-75.0, -73.9, -77.0]

    matrix = distance_matrix_km(lat, lon, lat, lon)

    np.testing.assert_array_equal(np.diag(matrix), 0.0)
    np.testing.assert_allclose(matrix, matrix.T, rtol=1e-15)


def test_latitude_out_of_range_is_refused():
    """A latitude of 95° is refused with a hint that the columns may be swapped."""
    with pytest.raises(ValueError, match=r"lat1 is 95, outside \[-90, 90\] degrees"):
        haversine_km(95.0, 0.0, 0.0, 0.0)


def test_nan_coordinate_is_refused_with_its_position():
    """A NaN coordinate is refused, naming the argument and the position."""
    with pytest.raises(ValueError, match=r"lon2\[1\] is NaN"):
        haversine_km(0.0, 0.0, [1.0, 2.0], [3.0, math.nan])


def test_empty_coordinates_are_refused():
    """An empty coordinate array is refused."""
    with pytest.raises(ValueError, match="lat_b needs at least one value"):
        distance_matrix_km([0.0], [0.0], [], [])


def test_distance_matrix_rejects_unequal_lengths():
    """A set's latitudes and longitudes must pair up one to one."""
    with pytest.raises(ValueError, match="lat_a and lon_a must have one entry per"):
        distance_matrix_km([0.0, 1.0], [0.0], [0.0], [0.0])


def test_shapes_that_do_not_broadcast_are_refused():
    """Arrays of length 2 and 3 cannot be paired point by point."""
    with pytest.raises(ValueError, match="coordinate shapes do not broadcast"):
        haversine_km([0.0, 1.0], [0.0, 1.0, 2.0], 0.0, 0.0)
