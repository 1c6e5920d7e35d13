"""The compact payload encoding decodes to exactly the geometry it was given."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from capmap.core.errors import ValidationError
from capmap.spatial.encode import compact_collection, decimals_needed, decode_geometry, encode_geometry


def test_decimals_needed():
    assert decimals_needed(np.array([[-4.5, 56.25]])) == 2
    assert decimals_needed(np.array([[-4.123, 56.1]])) == 3
    assert decimals_needed(np.array([[-4.12345678, 56.1]])) == 7


def test_a_polygon_with_a_hole_round_trips_exactly():
    shell = [(-4.123, 56.001), (-4.1, 56.001), (-4.1, 56.02), (-4.123, 56.02)]
    hole = [(-4.12, 56.005), (-4.11, 56.005), (-4.11, 56.01)]
    polygon = shapely.orient_polygons(shapely.Polygon(shell, [hole]))
    encoded = encode_geometry(polygon)
    assert encoded["scale"] == 1000
    assert encoded["polygons"][0][0][:2] == [-4123, 56001]  # first vertex absolute
    assert decode_geometry(encoded).equals_exact(polygon, 0)


def test_multipolygons_and_missing_geometries():
    parts = shapely.MultiPolygon([shapely.box(-4.2, 56.0, -4.1, 56.1),
                                  shapely.box(-4.0, 56.0, -3.9, 56.1)])
    frame = gpd.GeoDataFrame({"code": ["A", "B"], "name": ["x", None]},
                             geometry=[parts, None], crs=4326)
    out = compact_collection(frame, ["code", "name"])
    assert out["features"][1] == {"values": ["B", None], "geometry": None}
    back = decode_geometry(out["features"][0]["geometry"])
    assert back.equals(parts) and back.geom_type == "MultiPolygon"


def test_only_polygons():
    with pytest.raises(ValidationError, match="LineString"):
        encode_geometry(shapely.LineString([(0, 0), (1, 1)]))
