"""Coordinate transforms and the lon/lat sanity checks."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

from capmap.core.crs import SCOTLAND, bng_to_lonlat, check_lonlat, lonlat_to_bng
from capmap.core.errors import ValidationError


def test_bng_to_lonlat_reaches_ostn_accuracy():
    # Ordnance Survey's published OSTN worked example: OSGB36 grid 614300 E, 159900 N is
    # ETRS89 51.297880 N, 1.072628 E (TR143599, Kent).
    lon, lat = bng_to_lonlat(np.array([614300.0]), np.array([159900.0]))
    assert lon[0] == pytest.approx(1.072628, abs=2e-6)  # about 0.15 m
    assert lat[0] == pytest.approx(51.297880, abs=2e-6)
    # The Helmert transform pyproj uses without its grid file misses by metres here.
    helmert = Transformer.from_crs(27700, 4326, always_xy=True).transform(614300.0, 159900.0)
    assert abs(helmert[0] - 1.072628) > 1e-5


def test_round_trip_in_scotland_is_within_a_few_centimetres():
    rng = np.random.default_rng(7)
    e = rng.uniform(200_000, 400_000, 200)
    n = rng.uniform(650_000, 900_000, 200)
    lon, lat = bng_to_lonlat(e, n)
    e2, n2 = lonlat_to_bng(lon, lat)
    assert np.abs(e2 - e).max() < 0.05 and np.abs(n2 - n).max() < 0.05


def test_points_outside_ostn_extent_fall_back_to_pyproj():
    lon, lat = bng_to_lonlat(np.array([-200_000.0]), np.array([1_500_000.0]))
    assert np.isfinite(lon).all() and np.isfinite(lat).all()


def test_swapped_lat_lon_is_named():
    with pytest.raises(ValidationError, match="wrong order"):
        check_lonlat((56.0, -4.0, 56.5, -3.5), SCOTLAND, "x.geojson")


def test_metres_claimed_as_lonlat_are_named():
    with pytest.raises(ValidationError, match="not lon/lat.*EPSG:27700"):
        check_lonlat((300000, 700000, 310000, 710000), SCOTLAND, "x.geojson")


def test_off_region_is_named():
    with pytest.raises(ValidationError, match="outside Scotland"):
        check_lonlat((-0.2, 51.4, 0.1, 51.6), SCOTLAND, "london.geojson")


def test_nan_is_named():
    with pytest.raises(ValidationError, match="NaN"):
        check_lonlat((float("nan"), 56, -3, 57), SCOTLAND)


def test_scotland_passes():
    check_lonlat((-8.6, 54.6, -0.7, 60.9), SCOTLAND)
