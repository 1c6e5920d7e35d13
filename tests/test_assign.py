"""Point assignment: hand-checked squares, the edge rule, and agreement with brute force."""

from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from capmap.core.crs import geoms_bng_to_lonlat
from capmap.spatial.assign import AreaIndex
from tests.conftest import GRID_ORIGIN, lonlat_of

X0, Y0 = GRID_ORIGIN


def _index(squares_bng) -> AreaIndex:
    return AreaIndex(squares_bng["code"], geoms_bng_to_lonlat(squares_bng.geometry.values))


def test_interior_points_get_their_square(squares_bng):
    index = _index(squares_bng)
    points = [lonlat_of(X0 + 500, Y0 + 500), lonlat_of(X0 + 1500, Y0 + 500),
              lonlat_of(X0 + 500, Y0 + 1500), lonlat_of(X0 + 1500, Y0 + 1500)]
    x, y = np.array(points).T
    assert list(index.assign_xy(x, y)) == ["A", "B", "C", "D"]


def test_shared_corners_go_to_the_smallest_code(squares_bng):
    index = _index(squares_bng)
    # Exact shared vertices in lon/lat: the centre of the grid touches all four squares.
    corners = shapely.get_coordinates(index.geoms[3])  # D's corners; one is the grid centre
    codes = index.assign_xy(corners[:, 0], corners[:, 1])
    centre = np.array(lonlat_of(X0 + 1000, Y0 + 1000))
    at_centre = np.abs(corners - centre).sum(axis=1) < 1e-9
    assert set(codes[at_centre]) == {"A"}
    # D's far corner touches only D.
    far = np.array(lonlat_of(X0 + 2000, Y0 + 2000))
    assert set(codes[np.abs(corners - far).sum(axis=1) < 1e-9]) == {"D"}


def test_outside_missing_and_holes_get_none(squares_bng):
    holed = squares_bng.copy()
    a = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)
    holed.loc[0, "geometry"] = a.difference(shapely.box(X0 + 400, Y0 + 400, X0 + 600, Y0 + 600))
    index = _index(holed)
    points = np.array([shapely.Point(*lonlat_of(X0 + 500, Y0 + 500)),   # in the loch
                       shapely.Point(*lonlat_of(X0 - 500, Y0 + 500)),   # west of the grid
                       None,
                       shapely.Point(*lonlat_of(X0 + 100, Y0 + 100))], dtype=object)
    assert list(index.assign(points)) == [None, None, None, "A"]
    assert index.assign_xy(np.array([np.nan]), np.array([56.0]))[0] is None


def test_single_lookup_agrees_with_bulk(squares_bng):
    index = _index(squares_bng)
    rng = np.random.default_rng(3)
    e, n = rng.uniform(X0 - 200, X0 + 2200, 300), rng.uniform(Y0 - 200, Y0 + 2200, 300)
    lonlat = shapely.get_coordinates(geoms_bng_to_lonlat(shapely.points(e, n)))
    bulk = index.assign_xy(lonlat[:, 0], lonlat[:, 1])
    single = [index.lookup(x, y) for x, y in lonlat]
    assert list(bulk) == single


def _brute_force(codes, geoms, x, y):
    out = []
    for px, py in zip(x, y, strict=True):
        hits = [c for c, g in zip(codes, geoms, strict=True) if shapely.intersects_xy(g, px, py)]
        out.append(min(hits) if hits else None)
    return out


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60))
def test_bulk_assignment_matches_brute_force_on_a_voronoi_cover(seed, n):
    rng = np.random.default_rng(seed)
    seeds = shapely.points(rng.uniform(0, 10, 12), rng.uniform(0, 10, 12))
    frame = shapely.box(0, 0, 10, 10)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    codes = np.array([f"Z{i:02d}" for i in range(len(cells))], dtype=object)
    # Points: random ones, and some exact cell vertices (on shared edges by construction).
    vertices = shapely.get_coordinates(cells)
    pick = vertices[rng.integers(0, len(vertices), n)]
    x = np.concatenate([rng.uniform(-1, 11, n), pick[:, 0]])
    y = np.concatenate([rng.uniform(-1, 11, n), pick[:, 1]])
    index = AreaIndex(codes, cells)
    assert list(index.assign_xy(x, y)) == _brute_force(codes, cells, x, y)
