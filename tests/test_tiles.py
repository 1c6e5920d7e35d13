"""Vector tiles of the sample layers: decoded, every zone is where it should be with its code, and
neighbours meet with no gap and no overlap at zooms 6, 9 and 12; both backends send the same bytes.

Tolerance. Tiles hold whole units of 1/16 screen pixel. Rounding moves a vertex by at most half a
unit's diagonal, sqrt(2)/2 = 0.71 units, so an edge is never more than 0.71 units from where it
was, and two edges that come close can cross by at most 2 x 0.71 = 1.42 units. A gap or overlap
that rounding makes is therefore narrower than 1.5 units (under a tenth of a pixel): the checks
count a defect only where something of it is wider than WIDTH = 1.5 units. A missing zone, a
misplaced tile or a clip that opens a seam is hundreds of units wide.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import shapely.affinity

from capmap.core.errors import InputError, NotFound
from capmap.present.tiles import (
    MAX_TILE_ZOOM,
    area_cut,
    boundary_tile,
    check_tile,
    plan_tile,
    simplified_areas,
)
from capmap.services import pipeline
from capmap.services.engine import Engine
from capmap.spatial import mvt
from capmap.spatial.simplify import coverage_defects
from capmap.storage import open_store
from tests.conftest import BOUNDARIES, SAMPLE

WIDTH = 1.5
ROUNDING_UNITS = math.sqrt(2) / 2
ZOOMS = (6, 9, 12)
LAYER = "sample_dz"


@pytest.fixture(scope="module")
def engine(sample_db):
    store = open_store(f"sqlite:///{sample_db}")
    yield Engine(store)
    store.close()


def _decoded(engine, zoom, x, y, layer=LAYER):
    return mvt.decode_polygons(boundary_tile(engine, layer, zoom, x, y), "areas")


def _sample_tiles(engine, zoom):
    return mvt.tiles_covering(engine.layer(LAYER).areas.total_bounds, zoom)


def _reference(engine, zoom, x, y):
    """The union of the simplified areas before rounding, in tile (x, y)'s coordinates."""
    simple = simplified_areas(engine, engine.layer(LAYER), zoom)
    world = mvt.to_world(np.asarray(simple.geometry.values, dtype=object), zoom, rounded=False)
    local = mvt.to_tile(world, x, y)
    return shapely.union_all(shapely.intersection(local, shapely.box(*mvt.tile_box(0, 0))))


@pytest.mark.parametrize("zoom", ZOOMS)
def test_each_tile_holds_exactly_the_zones_that_reach_into_it(engine, zoom):
    state = engine.layer(LAYER)
    simple = simplified_areas(engine, state, zoom)
    world = mvt.to_world(np.asarray(simple.geometry.values, dtype=object), zoom, rounded=False)
    codes = state.areas["code"].to_numpy()
    seen = set()
    for x, y in _sample_tiles(engine, zoom):
        props, _ = _decoded(engine, zoom, x, y)
        got = [p["code"] for p in props]
        assert len(got) == len(set(got)), "a zone appears twice in one tile"
        # Zones reaching a unit inside the buffered box must be there; none may be there that
        # stays a unit outside it (rounding moves a vertex by under a unit).
        lo, hi = mvt.tile_box(x, y)[:2], mvt.tile_box(x, y)[2:]
        inner = shapely.box(lo[0] + 1, lo[1] + 1, hi[0] - 1, hi[1] - 1)
        outer = shapely.box(lo[0] - 1, lo[1] - 1, hi[0] + 1, hi[1] + 1)
        assert set(codes[shapely.intersects(world, inner)]) <= set(got)
        assert set(got) <= set(codes[shapely.intersects(world, outer)])
        seen.update(got)
    assert seen == set(codes) and len(seen) == 620


def test_features_carry_the_names_and_quintiles_of_their_zones(engine):
    areas = engine.layer(LAYER).areas.set_index("code")
    props, _ = _decoded(engine, 9, *_sample_tiles(engine, 9)[0])
    assert props and {tuple(sorted(p)) for p in props} == {("code", "name", "simd_quintile")}
    for p in props:
        assert p["name"] == areas.at[p["code"], "name"]
        assert p["simd_quintile"] == int(areas.at[p["code"], "simd_quintile"])
    ward_props, _ = _decoded(engine, 9, *_sample_tiles(engine, 9)[0], layer="sample_wards")
    assert ward_props and {tuple(sorted(p)) for p in ward_props} == {("code", "name")}


def test_zones_are_drawn_where_they_are(engine):
    # Each zone wholly inside a z12 tile, decoded and taken back to lon/lat, covers its source
    # zone: the simplification tolerance at z12 is 11 m and zones are about 1.5 km across, so
    # the part of either outside the other is a few per cent of its area at most.
    areas = engine.layer(LAYER).areas.set_index("code")
    checked = 0
    for x, y in _sample_tiles(engine, 12):
        props, geoms = _decoded(engine, 12, x, y)
        inside = shapely.within(geoms, shapely.box(0, 0, mvt.EXTENT, mvt.EXTENT))
        lonlat = mvt.tile_to_lonlat(geoms[inside], 12, x, y)
        source = np.array([areas.at[p["code"], "geom"] for p, k in zip(props, inside, strict=True) if k])
        miss = shapely.area(shapely.symmetric_difference(lonlat, source)) / shapely.area(source)
        assert (miss < 0.05).all(), miss.max()
        checked += len(source)
    assert checked > 200


@pytest.mark.parametrize("zoom", ZOOMS)
def test_neighbours_meet_with_no_gap_and_no_overlap(engine, zoom):
    # The simplification the tiles are cut from keeps the layer a coverage of the source ...
    state = engine.layer(LAYER)
    simple = np.asarray(simplified_areas(engine, state, zoom).geometry.values, dtype=object)
    source = coverage_defects(simple, shapely.union_all(state.areas.geometry.values))
    assert (source["overlap_pairs"], source["gaps"]) == (0, 0)
    # ... and rounding, clipping, encoding and decoding keep it one.
    for x, y in _sample_tiles(engine, zoom):
        _, geoms = _decoded(engine, zoom, x, y)
        reference = _reference(engine, zoom, x, y)
        if reference.is_empty:  # a corner of the layer's box that no zone reaches
            assert len(geoms) == 0
            continue
        defects = mvt.tile_defects(geoms, reference, width=WIDTH)
        assert (defects["overlaps"], defects["gaps"]) == (0, 0), (zoom, x, y, defects)
        # Everything rounding leaves uncovered lies within 0.71 units of the outline.
        raw = mvt.tile_defects(geoms, reference)
        outline = shapely.length(shapely.intersection(
            shapely.boundary(reference), shapely.box(0, 0, mvt.EXTENT, mvt.EXTENT)))
        assert raw["gap_units2"] <= ROUNDING_UNITS * outline, (zoom, x, y, raw)


def test_the_check_finds_a_missing_zone_and_a_shifted_one(engine):
    # The z12 tile holding most zones, so some lie wholly inside it.
    x, y = max(_sample_tiles(engine, 12), key=lambda t: len(_decoded(engine, 12, *t)[0]))
    _, geoms = _decoded(engine, 12, x, y)
    reference = _reference(engine, 12, x, y)
    inside = np.flatnonzero(shapely.within(geoms, shapely.box(0, 0, mvt.EXTENT, mvt.EXTENT)))
    dropped = mvt.tile_defects(np.delete(geoms, inside[0]), reference, width=WIDTH)
    assert dropped["gaps"] == 1 and dropped["gap_units2"] == pytest.approx(geoms[inside[0]].area)
    moved = geoms.copy()
    moved[inside[0]] = shapely.affinity.translate(moved[inside[0]], 3, 0)
    shifted = mvt.tile_defects(moved, reference, width=WIDTH)
    assert shifted["overlaps"] >= 1 and shifted["gaps"] >= 1


def test_plan_tiles_hold_the_plans_meeting_them(engine):
    plans = engine.plans().plans
    x, y = _sample_tiles(engine, 9)[0]
    props, geoms = mvt.decode_polygons(plan_tile(engine, 9, x, y), "plans")
    # Plans meeting the drawn tile are there; none is there that stays clear of it by more than
    # twice the buffer (simplification moves a plan's outline by under a pixel, 16 units).
    box = shapely.box(*mvt.tile_bounds_lonlat(9, x, y))
    meeting = set(plans.loc[shapely.intersects(plans.geometry.values, box), "id"].astype(int))
    near_box = shapely.buffer(box, 2 * mvt.BUFFER / mvt.EXTENT * (box.bounds[2] - box.bounds[0]))
    near = set(plans.loc[shapely.intersects(plans.geometry.values, near_box), "id"].astype(int))
    got = {p["id"] for p in props}
    assert meeting and meeting <= got <= near and len(got) == len(props)
    by_id = plans.set_index("id")
    for p in props:
        assert isinstance(p["id"], int) and p["title"] == by_id.at[p["id"], "title"]
        assert p["type"] == by_id.at[p["id"], "type"] and p["status"] == by_id.at[p["id"], "status"]
    assert shapely.is_valid(geoms).all()


def test_an_empty_tile_is_no_bytes(engine):
    # Tile 12/0/0 is in the Bering Sea: no layer at all, as ST_AsMVT sends for no rows.
    assert boundary_tile(engine, LAYER, 12, 0, 0) == b""
    assert plan_tile(engine, 12, 0, 0) == b""
    props, geoms = mvt.decode_polygons(b"", "areas")
    assert props == [] and len(geoms) == 0


@pytest.mark.parametrize(("z", "x", "y", "says"), [
    (MAX_TILE_ZOOM + 1, 0, 0, "tile zoom 15 is out of range; expected 0 to 14"),
    (3, 8, 0, "tile 3/8/0 is outside the map; at zoom 3 x and y run from 0 to 7"),
    (0, 0, 1, "tile 0/0/1 is outside the map; at zoom 0 x and y run from 0 to 0"),
    (-1, 0, 0, "tile zoom -1 is out of range"),
])
def test_tiles_outside_the_range_are_refused(engine, z, x, y, says):
    with pytest.raises(InputError, match=says.replace("(", r"\(")):
        check_tile(z, x, y)
    with pytest.raises(InputError):
        boundary_tile(engine, LAYER, z, x, y)


def test_an_unknown_layer_is_not_found(engine):
    with pytest.raises(NotFound, match="layer 'nope' not found; layers are sample_community, sample_council"):
        boundary_tile(engine, "nope", 9, 250, 159)


def test_a_cut_is_made_once_per_zoom(engine):
    state = engine.layer(LAYER)
    assert area_cut(engine, state, 9) is area_cut(engine, state, 9)
    assert area_cut(engine, state, 9) is not area_cut(engine, state, 10)


def test_both_backends_send_the_same_bytes(engine, store):
    pipeline.load_sample(store, SAMPLE, BOUNDARIES)
    other = Engine(store)
    for zoom in ZOOMS:
        for x, y in _sample_tiles(engine, zoom):
            ours = boundary_tile(other, LAYER, zoom, x, y)
            assert ours == boundary_tile(engine, LAYER, zoom, x, y), (store.url, zoom, x, y)
            assert plan_tile(other, zoom, x, y) == plan_tile(engine, zoom, x, y)
