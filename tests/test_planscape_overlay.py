"""The planscape's overlay (capmap.spatial.query_overlay) gives the plain overlay's answers.

Squares worked out by hand on both backends, then the sample data against the plain overlay
(every plan piece and the query cut against every area they meet, as overlay.overlap_arrays does),
for shapes with holes, many parts and many vertices.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from capmap.core.crs import geoms_lonlat_to_bng
from capmap.services.engine import Engine
from capmap.services.planscape import plan_pieces, planscape, polygon_query
from capmap.spatial.overlay import apportioned_people, overlap_arrays
from capmap.spatial.pieces import subdivide
from capmap.storage import open_store
from tests.conftest import GRID_ORIGIN

X0, Y0 = GRID_ORIGIN


def _bng_query(geom: shapely.Geometry):
    return polygon_query(shapely.geometry.mapping(geom), crs="EPSG:27700")


def _holed(outer: shapely.Polygon, hole: shapely.Polygon) -> shapely.Polygon:
    return shapely.Polygon(outer.exterior.coords, [hole.exterior.coords[::-1]])


def test_a_query_crossing_every_square_is_measured_by_hand(loaded):
    # q: x 500-1800, y 500-1800 from the origin, less a hole x, y 1100-1300 (in D). Its land in
    # A 0.5 x 0.5 = 0.25 km², B 0.8 x 0.5 = 0.4, C 0.5 x 0.8 = 0.4, D 0.8 x 0.8 - 0.04 = 0.6:
    # 1.65 km², people 500 x 0.25 + 600 x 0.4 + 700 x 0.4 + 800 x 0.6 / 1 = 1125.
    q = _holed(shapely.box(X0 + 500, Y0 + 500, X0 + 1800, Y0 + 1800),
               shapely.box(X0 + 1100, Y0 + 1100, X0 + 1300, Y0 + 1300))
    result = planscape(Engine(loaded), loaded, _bng_query(q))
    assert result["query"]["land_km2"] == pytest.approx(1.65, rel=1e-9)
    assert result["query"]["population"] == pytest.approx(1125, abs=0.05)
    areas = {a["code"]: a["overlap_km2"] for a in result["areas"]["squares"]}
    assert areas == pytest.approx({"A": 0.25, "B": 0.4, "C": 0.4, "D": 0.6}, rel=1e-9)
    plans = {p["ref"]: p for p in result["plans"]}
    # CAP-D (x 1500-2000, y 1000-2000) meets q in x 1500-1800, y 1000-1800: 0.24 km² of D,
    # 800 x 0.24 = 192 people. LP-AB (A and B): 0.65 km², 125 + 240 = 365 people.
    assert plans["CAP-D"]["overlap_km2"] == pytest.approx(0.24, rel=1e-9)
    assert plans["CAP-D"]["population_share"] == pytest.approx(192 / 1125, rel=1e-9)
    assert plans["LP-AB"]["overlap_km2"] == pytest.approx(0.65, rel=1e-9)
    assert plans["LP-AB"]["population_share"] == pytest.approx(365 / 1125, rel=1e-9)
    assert plans["LOIP"]["share_of_query"] == pytest.approx(1.0, rel=1e-9)


def _inner_query_answer(store) -> dict:
    # q: the grid and 100 m around it, less a hole x, y 200-400 (in A): it covers B, C and D
    # whole. Land: A 1 - 0.04 = 0.96 km², B, C, D 1 each: 3.96 km²; people 480 + 2100 = 2580.
    # CAP-D is the east half of D, which q covers: 0.5 km², 400 people.
    q = _holed(shapely.box(X0 - 100, Y0 - 100, X0 + 2100, Y0 + 2100),
               shapely.box(X0 + 200, Y0 + 200, X0 + 400, Y0 + 400))
    return planscape(Engine(store), store, _bng_query(q))


def _check_inner_answer(result: dict) -> None:
    assert result["query"]["land_km2"] == pytest.approx(3.96, rel=1e-9)
    assert result["query"]["population"] == pytest.approx(2580, abs=0.05)
    plans = {p["ref"]: p for p in result["plans"]}
    assert plans["CAP-D"]["overlap_km2"] == pytest.approx(0.5, rel=1e-9)
    assert plans["CAP-D"]["population_share"] == pytest.approx(400 / 2580, rel=1e-9)
    assert plans["LP-AB"]["overlap_km2"] == pytest.approx(1.96, rel=1e-9)
    assert plans["LP-AB"]["population_share"] == pytest.approx(1080 / 2580, rel=1e-9)
    # The LOIP is the grid (4 km² of land), of which q leaves out the hole.
    assert plans["LOIP"]["share_of_plan"] == pytest.approx(0.99, rel=1e-9)


def test_areas_the_query_covers_take_each_plans_stored_overlap(loaded):
    stored = loaded.plan_coverage("squares")
    cap_id = loaded.plans().set_index("ref").loc["CAP-D", "id"]
    # The stored overlap of CAP-D with D is the one the query's answer takes for D.
    assert stored.set_index(["plan_id", "code"]).loc[(cap_id, "D"), "overlap_m2"] == (
        pytest.approx(500_000, rel=1e-9))
    _check_inner_answer(_inner_query_answer(loaded))


def test_plans_the_coverage_does_not_hold_yet_are_cut_instead(loaded):
    # Coverage not refreshed: no stored overlaps, so every plan and area is measured as geometry.
    loaded.replace_plan_coverage("squares", pd.DataFrame(
        {"plan_id": [], "code": [], "overlap_m2": [], "share_of_area": [], "share_of_plan": []}))
    assert loaded.plan_coverage("squares").empty
    result = _inner_query_answer(loaded)
    assert result["query"]["land_km2"] == pytest.approx(3.96, rel=1e-9)
    plans = {p["ref"]: p for p in result["plans"]}
    assert plans["CAP-D"]["overlap_km2"] == pytest.approx(0.5, rel=1e-9)
    assert plans["CAP-D"]["population_share"] == pytest.approx(400 / 2580, rel=1e-9)


def _plain(engine: Engine, q_bng: shapely.Geometry) -> tuple[dict, dict, dict]:
    """The plain overlay's figures: land and people per plan id (and None for the query), and
    overlap m² per (layer, code)."""
    plans, hoods = engine.plans(), engine.neighbourhoods()
    hits, pieces, _ = plan_pieces(plans, q_bng)
    geoms = np.array([q_bng, *pieces], dtype=object)
    cover_i, area_i, m2 = overlap_arrays(geoms, hoods.bng, hoods.bng_tree)
    people = apportioned_people(cover_i, area_i, m2, hoods, len(geoms))
    land = np.bincount(cover_i, weights=m2, minlength=len(geoms))
    ids = [None, *plans.plans["id"].to_numpy()[hits].tolist()]
    areas = {}
    for layer_id, state in engine.layers().items():
        _, rows, m2 = overlap_arrays(np.array([q_bng]), state.bng, state.bng_tree)
        codes = state.areas["code"].to_numpy()[rows]
        areas.update({(layer_id, code): value for code, value in zip(codes, m2, strict=True)})
    return dict(zip(ids, land, strict=True)), dict(zip(ids, people, strict=True)), areas


def _sample_shapes(engine: Engine) -> list[shapely.Geometry]:
    """Over the middle of the sample neighbourhoods: a square with 40 holes, 30 parts and a
    circle of 5,000 vertices, each crossing many areas and plan edges."""
    x0, y0, x1, y1 = shapely.bounds(shapely.union_all(engine.neighbourhoods().bng))
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, min(x1 - x0, y1 - y0) / 3
    holes = [shapely.Point(cx - r + 2 * r * (i + 0.5) / 7, cy - r + 2 * r * (j + 0.5) / 7)
             .buffer(r / 20, quad_segs=4).exterior.coords[::-1] for i in range(7) for j in range(6)]
    square = shapely.Polygon(shapely.box(cx - r, cy - r, cx + r, cy + r).exterior.coords, holes)
    parts = shapely.MultiPolygon([shapely.box(cx - r + i * r / 3, cy - r + j * r / 2.5,
                                              cx - r + i * r / 3 + r / 5, cy - r + j * r / 2.5 + r / 4)
                                  for i in range(6) for j in range(5)])
    angles = np.linspace(0, 2 * np.pi, 5000, endpoint=False)
    round_one = shapely.Polygon(np.column_stack([cx + r * np.cos(angles), cy + r * np.sin(angles)]))
    return [square, parts, round_one]


def test_the_sample_data_gets_the_plain_overlays_answers(sample_db):
    store = open_store(f"sqlite:///{sample_db}")
    engine = Engine(store)
    for shape in _sample_shapes(engine):
        query = _bng_query(shape)
        q_bng = geoms_lonlat_to_bng(np.array([query.geometry]))[0]
        land, people, areas = _plain(engine, q_bng)
        result = planscape(engine, store, query)
        assert result["query"]["land_km2"] == pytest.approx(land[None] / 1e6, rel=1e-9)
        rows = result["plans"] + result["edge_plans"]
        assert len(rows) > 3  # the shapes meet several plans
        for row in rows:
            assert row["overlap_km2"] == pytest.approx(land[row["id"]] / 1e6, rel=1e-9)
            assert row["population_share"] == pytest.approx(
                min(people[row["id"]] / people[None], 1.0), rel=1e-9)
        got = {(layer_id, a["code"]): a["overlap_km2"] * 1e6
               for layer_id, found in result["areas"].items() for a in found}
        assert got.keys() == areas.keys()
        assert got == pytest.approx(areas, rel=1e-9)
    store.close()


def test_a_query_is_cut_into_small_pieces_that_make_it_up():
    # A 2,000-vertex circle with 30 square holes, cut to pieces of at most 256 vertices: the
    # pieces add up to its area, do not overlap (their union has the same area) and are small.
    angles = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    holes = [shapely.box(x, y, x + 50, y + 50).exterior.coords[::-1]
             for x in range(-600, 600, 200) for y in range(-400, 600, 200)]
    shape = shapely.Polygon(np.column_stack([1000 * np.cos(angles), 1000 * np.sin(angles)]), holes)
    pieces = subdivide(shape, 256)
    assert len(pieces) > 8
    assert shapely.get_num_coordinates(pieces).max() <= 256
    assert shapely.area(pieces).sum() == pytest.approx(shape.area, rel=1e-12)
    assert shapely.union_all(pieces).area == pytest.approx(shape.area, rel=1e-12)
    assert shapely.get_num_coordinates(subdivide(shapely.box(0, 0, 1, 1))).tolist() == [5]
