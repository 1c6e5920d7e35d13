"""Coverage simplification for web payloads: neighbours still meet, no gaps, no overlaps."""

from __future__ import annotations

import json
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from capmap.core.crs import geoms_bng_to_lonlat, geoms_lonlat_to_bng
from capmap.core.errors import ValidationError
from capmap.spatial.simplify import (
    METRES_PER_DEGREE,
    coverage_defects,
    decimals_for,
    payload,
    pixel_m,
    simplify_coverage,
    tolerance_m,
)

X0, Y0 = 310_000.0, 720_000.0  # British National Grid, near Perth
ZOOMS = [6, 9, 12]


def _wiggle(coords: np.ndarray) -> np.ndarray:
    """Displace every vertex by a smooth function of where it is: the same vertex moves the same way."""
    x, y = coords[:, 0], coords[:, 1]
    dx = 12 * np.sin(2 * np.pi * (y - Y0) / 310) + 6 * np.sin(2 * np.pi * (y - Y0) / 97)
    dy = 12 * np.sin(2 * np.pi * (x - X0) / 290) + 6 * np.sin(2 * np.pi * (x - X0) / 83)
    return np.column_stack([x + dx, y + dy])


def voronoi_bng(seed: int, n: int = 50, size: float = 8000.0, step: float = 15.0) -> np.ndarray:
    """A coverage in metres: Voronoi cells of n random points in a square, with wiggly edges."""
    # Built from one set of lines (each shared edge exists once) and polygonized, so neighbours
    # hold exactly the same vertices along shared edges, as a real boundary layer does.
    rng = np.random.default_rng(seed)
    square = shapely.box(X0, Y0, X0 + size, Y0 + size)
    points = shapely.multipoints(rng.uniform((X0, Y0), (X0 + size, Y0 + size), (n, 2)))
    edges = shapely.voronoi_polygons(points, extend_to=square.buffer(size), only_edges=True)
    lines = shapely.get_parts(shapely.union_all([edges, square.boundary]))
    lines = lines[shapely.covered_by(lines, square)]
    lines = shapely.transform(shapely.segmentize(lines, step), _wiggle)
    return shapely.get_parts(shapely.polygonize(lines))


def layer(geoms_bng: np.ndarray) -> gpd.GeoDataFrame:
    """A lon/lat layer of the given BNG polygons with a code and an integer population."""
    codes = [f"S01{i:06d}" for i in range(len(geoms_bng))]
    population = np.arange(len(geoms_bng), dtype="int64") * 10 + 500
    return gpd.GeoDataFrame({"code": codes, "population": population},
                            geometry=geoms_bng_to_lonlat(geoms_bng), crs="EPSG:4326")


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    """Fifty wiggly Voronoi areas, a valid coverage in lon/lat."""
    frame = layer(voronoi_bng(seed=7))
    assert shapely.coverage_is_valid(frame.geometry.values)
    return frame


def _union(frame: gpd.GeoDataFrame) -> shapely.Geometry:
    return shapely.union_all(frame.geometry.values)


def _vertices(frame: gpd.GeoDataFrame) -> int:
    return int(shapely.get_num_coordinates(frame.geometry.values).sum())


def test_tolerance_is_half_a_pixel_at_56_north():
    assert tolerance_m(6) == pytest.approx(156543.03 * math.cos(math.radians(56)) / 64 / 2)
    assert tolerance_m(6) == pytest.approx(683.9, abs=0.1)
    assert tolerance_m(12) == pytest.approx(tolerance_m(6) / 64)


@pytest.mark.parametrize("zoom", range(0, 23))
def test_decimals_keep_rounding_under_a_tenth_of_a_pixel(zoom):
    places = decimals_for(zoom)
    assert 0 <= places <= 7
    half_step_m = METRES_PER_DEGREE * 0.5 * 10.0**-places
    if places < 7:
        assert half_step_m <= pixel_m(zoom) / 10
    if places > 0:  # and no more decimals than that needs
        assert METRES_PER_DEGREE * 0.5 * 10.0 ** -(places - 1) > pixel_m(zoom) / 10


def test_decimals_for_common_zooms():
    assert [decimals_for(z) for z in (6, 9, 12, 18, 25)] == [3, 4, 5, 7, 7]


@pytest.mark.parametrize("zoom", ZOOMS)
def test_simplified_layer_is_still_a_coverage(areas, zoom):
    out = simplify_coverage(areas, zoom)
    geoms = out.geometry.values
    assert out.crs.to_epsg() == 4326
    assert list(out["code"]) == list(areas["code"])
    assert shapely.is_valid(geoms).all()
    assert not shapely.is_empty(geoms).any()
    assert (shapely.area(geoms) > 0).all()
    assert shapely.coverage_is_valid(geoms)
    defects = coverage_defects(geoms, _union(areas))
    assert defects["overlap_pairs"] == 0
    assert defects["overlap_m2"] < 1.0
    assert defects["gaps"] == 0 and defects["gap_m2"] < 1.0
    # only the outline moves: the union keeps its area to within a few per cent
    before = coverage_defects(areas.geometry.values)["union_m2"]
    assert defects["union_m2"] == pytest.approx(before, rel=0.02)


def test_vertex_count_drops_with_zoom(areas):
    counts = [_vertices(simplify_coverage(areas, zoom)) for zoom in ZOOMS]
    assert counts[0] < 0.05 * _vertices(areas)
    assert counts[0] < counts[1] < counts[2] < _vertices(areas)


@pytest.mark.parametrize("zoom", ZOOMS)
def test_neighbours_share_edges_and_never_overlap(areas, zoom):
    original = areas.geometry.values
    simple = simplify_coverage(areas, zoom).geometry.values
    left, right = shapely.STRtree(original).query(original, predicate="intersects")
    pairs = [(a, b) for a, b in zip(left, right, strict=True) if a < b]
    neighbours = [(a, b) for a, b in pairs
                  if shapely.length(shapely.intersection(original[a], original[b])) > 0]
    assert len(neighbours) > 100
    for a, b in neighbours:
        shared = shapely.intersection(simple[a], simple[b])
        assert not shared.is_empty, "neighbours drifted apart"
        assert shapely.area(shared) == 0, "neighbours overlap"
    left, right = shapely.STRtree(simple).query(simple, predicate="intersects")
    meet = shapely.relate_pattern(simple[left[left < right]], simple[right[left < right]], "T********")
    assert not meet.any()


def test_coordinates_are_rounded_for_the_zoom(areas):
    coords = shapely.get_coordinates(simplify_coverage(areas, 9).geometry.values)
    on_grid = np.isclose(coords, np.round(coords, decimals_for(9)), rtol=0, atol=1e-12).all(axis=1)
    assert on_grid.mean() > 0.9


def test_simplifying_each_polygon_alone_opens_gaps_and_overlaps(areas):
    bng = geoms_lonlat_to_bng(areas.geometry.values)
    alone = geoms_bng_to_lonlat(shapely.simplify(bng, tolerance_m(9)))
    defects = coverage_defects(alone, _union(areas))
    assert defects["overlap_pairs"] > 0 and defects["overlap_m2"] > 1000
    assert defects["gaps"] > 0 and defects["gap_m2"] > 1000


def test_a_tiny_area_survives_a_low_zoom():
    # a 20 m enclave is far below the 0.001° grid of zoom 6 (about 60 m by 110 m)
    outer = shapely.box(X0, Y0, X0 + 3000, Y0 + 3000)
    tiny = shapely.box(X0 + 1500, Y0 + 1500, X0 + 1520, Y0 + 1520)
    right = shapely.box(X0 + 3000, Y0, X0 + 6000, Y0 + 3000)
    frame = layer(np.array([outer.difference(tiny), tiny, right], dtype=object))
    geoms = simplify_coverage(frame, 6).geometry.values
    assert shapely.is_valid(geoms).all()
    assert (shapely.area(geoms) > 0).all()
    defects = coverage_defects(geoms, _union(frame))
    assert defects["overlap_pairs"] == 0 and defects["gaps"] == 0


def test_a_layer_that_is_not_a_coverage_keeps_its_broken_polygons(areas):
    bng = geoms_lonlat_to_bng(areas.geometry.values)
    bng[0] = shapely.buffer(bng[0], 30.0)  # now overlaps its neighbours
    frame = layer(bng)
    before = coverage_defects(frame.geometry.values, _union(frame))
    out = simplify_coverage(frame, 9)
    geoms = out.geometry.values
    assert shapely.is_valid(geoms).all()
    places = decimals_for(9)
    kept = {tuple(c) for c in np.round(shapely.get_coordinates(geoms[0]), places)}
    wanted = {tuple(c) for c in np.round(shapely.get_coordinates(frame.geometry.values[0]), places)}
    assert wanted <= kept  # every vertex of the broken polygon is still there, rounded
    after = coverage_defects(geoms, _union(frame))
    assert after["gaps"] == 0
    assert after["overlap_pairs"] == before["overlap_pairs"]
    assert _vertices(out) < 0.5 * _vertices(frame)


def test_empty_and_missing_geometries_pass_through(areas):
    frame = areas.head(5).copy()
    frame.loc[1, "geometry"] = None
    frame.loc[2, "geometry"] = shapely.Polygon()
    geoms = simplify_coverage(frame, 9).geometry.values
    assert geoms[1] is None and geoms[2].is_empty
    assert not shapely.is_empty(geoms[[0, 3, 4]]).any()


def test_input_is_left_alone_and_other_crs_are_accepted(areas):
    before = areas.geometry.values.copy()
    out = simplify_coverage(areas.to_crs("EPSG:3857"), 9)
    assert out.crs.to_epsg() == 4326
    assert shapely.equals_exact(areas.geometry.values, before, tolerance=0).all()


def test_points_are_refused():
    frame = gpd.GeoDataFrame({"code": ["a"]}, geometry=[shapely.Point(-3.2, 56.4)], crs="EPSG:4326")
    with pytest.raises(ValidationError, match="Point"):
        simplify_coverage(frame, 9)


def test_payload_is_geojson_with_only_the_asked_properties(areas):
    body = payload(areas, 9, ["code", "population"])
    text = json.dumps(body, allow_nan=False)
    assert body["type"] == "FeatureCollection"
    assert len(body["features"]) == len(areas)
    feature = json.loads(text)["features"][0]
    assert feature["type"] == "Feature"
    assert feature["properties"] == {"code": "S01000000", "population": 500}
    assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    lon, lat = shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))[0]
    assert -4 < lon < -3 and 56 < lat < 57  # RFC 7946 order: longitude first
    for item in body["features"]:
        polygon = shapely.geometry.shape(item["geometry"])
        for part in shapely.get_parts(polygon):
            assert shapely.is_ccw(part.exterior)  # RFC 7946: exterior rings anticlockwise


def test_payload_turns_missing_values_into_null(areas):
    frame = areas.head(3).copy()
    frame["note"] = [None, float("nan"), "x"]
    body = payload(frame, 9, ["note"])
    assert [f["properties"]["note"] for f in body["features"]] == [None, None, "x"]
    json.dumps(body, allow_nan=False)


def test_payload_refuses_unknown_properties(areas):
    with pytest.raises(ValidationError, match="'name'.*not found"):
        payload(areas, 9, ["code", "name"])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 40), zoom=st.sampled_from([5, 6, 8, 10, 12]))
def test_any_voronoi_coverage_stays_gap_and_overlap_free(seed, n, zoom):
    bng = voronoi_bng(seed, n=n, step=40.0)
    assume(shapely.coverage_is_valid(bng) and shapely.is_valid(bng).all())
    frame = layer(bng)
    geoms = simplify_coverage(frame, zoom).geometry.values
    assert shapely.is_valid(geoms).all() and (shapely.area(geoms) > 0).all()
    defects = coverage_defects(geoms, _union(frame))
    assert defects["overlap_pairs"] == 0 and defects["overlap_m2"] < 1.0
    assert defects["gaps"] == 0


def test_a_layer_of_nothing_comes_back_as_it_was():
    frame = gpd.GeoDataFrame({"code": ["a", "b"]}, geometry=[None, shapely.Polygon()], crs="EPSG:4326")
    out = simplify_coverage(frame, 9)
    assert out.geometry.values[0] is None and out.geometry.values[1].is_empty
    assert payload(frame.iloc[:0], 9, ["code"]) == {"type": "FeatureCollection", "features": []}
