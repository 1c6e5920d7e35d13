"""The planscape, plan coverage and engagement coverage on squares, on both backends."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from capmap.core.crs import geoms_bng_to_lonlat
from capmap.core.errors import InputError, ValidationError
from capmap.services.coverage import EngagementFilters, engagement_coverage, plan_coverage
from capmap.services.engine import Engine
from capmap.services.planscape import codes_query, lookup, planscape, point_query, polygon_query
from tests.conftest import GRID_ORIGIN, lonlat_of

X0, Y0 = GRID_ORIGIN


def test_codes_query_ranks_the_matching_locality_plan_first(loaded):
    engine = Engine(loaded)
    result = planscape(engine, loaded, codes_query(engine, "squares", ["A", "B"]))
    refs = [p["ref"] for p in result["plans"]]
    assert refs == ["LP-AB", "LOIP"]  # CAP-D is in D only
    lp, loip = result["plans"]
    assert lp["share_of_query"] == pytest.approx(1.0) and lp["share_of_plan"] == pytest.approx(1.0)
    assert loip["share_of_query"] == pytest.approx(1.0)
    assert loip["share_of_plan"] == pytest.approx(0.5, rel=1e-6)
    assert lp["overlap_km2"] == pytest.approx(2.0, rel=1e-6)
    assert result["query"]["population"] == pytest.approx(1100)
    codes = [a["code"] for a in result["areas"]["squares"]]
    assert sorted(codes) == ["A", "B"]


def test_drawn_polygon_gets_population_weighted_shares(loaded):
    engine = Engine(loaded)
    # A polygon over the north half of the grid: C (700 people) and D (800).
    north = shapely.box(X0, Y0 + 1000, X0 + 2000, Y0 + 2000)
    geojson = shapely.geometry.mapping(geoms_bng_to_lonlat(np.array([north]))[0])
    result = planscape(engine, loaded, polygon_query(geojson))
    by_ref = {p["ref"]: p for p in result["plans"]}
    assert set(by_ref) == {"CAP-D", "LOIP"}
    cap = by_ref["CAP-D"]
    assert cap["share_of_query"] == pytest.approx(0.25, rel=1e-6)   # 0.5 km² of 2 km²
    assert cap["share_of_plan"] == pytest.approx(1.0, rel=1e-6)
    assert cap["population_share"] == pytest.approx(400 / 1500, rel=1e-6)  # half of D's 800
    assert result["query"]["population"] == pytest.approx(1500)


def test_the_answer_is_the_same_for_a_bng_polygon(loaded):
    engine = Engine(loaded)
    north = shapely.box(X0 + 300, Y0 + 700, X0 + 1900, Y0 + 1800)
    in_bng = polygon_query(shapely.geometry.mapping(north), crs="EPSG:27700")
    in_lonlat = polygon_query(shapely.geometry.mapping(geoms_bng_to_lonlat(np.array([north]))[0]))
    a = planscape(engine, loaded, in_bng)["plans"]
    b = planscape(engine, loaded, in_lonlat)["plans"]
    assert [p["ref"] for p in a] == [p["ref"] for p in b]
    for pa, pb in zip(a, b, strict=True):
        assert pa["share_of_query"] == pytest.approx(pb["share_of_query"], abs=1e-9)


def test_point_query_resolves_to_its_neighbourhood(loaded):
    engine = Engine(loaded)
    lon, lat = lonlat_of(X0 + 1700, Y0 + 1700)
    query = point_query(engine, lon, lat)
    assert query.described["codes"] == ["D"]
    refs = [p["ref"] for p in planscape(engine, loaded, query)["plans"]]
    assert refs == ["CAP-D", "LOIP"]


def test_lookup_names_areas_and_plans(loaded):
    lon, lat = lonlat_of(X0 + 500, Y0 + 500)
    result = lookup(Engine(loaded), lon, lat)
    assert result["areas"]["squares"]["code"] == "A"
    assert sorted(p["ref"] for p in result["plans"]) == ["LOIP", "LP-AB"]


@pytest.mark.parametrize("body, error, words", [
    ("{not json", InputError, "not JSON"),
    ('{"type": "Point", "coordinates": [-3.4, 56.4]}', ValidationError, "Polygon"),
    ('{"type": "Polygon", "coordinates": []}', ValidationError, "empty"),
    ('{"type": "Polygon", "coordinates": [[[56.4,-3.4],[56.5,-3.4],[56.5,-3.3],[56.4,-3.4]]]}',
     ValidationError, "wrong order"),
    ('{"type": "Polygon", "coordinates": [[[-3.4,56.4],[-3.3,56.5],[-3.3,56.4],[-3.4,56.5],'
     '[-3.4,56.4]]]}', ValidationError, "invalid"),
    ('{"type": "Polygon", "coordinates": [[[-6,55],[-2,55],[-2,58],[-6,58],[-6,55]]]}',
     ValidationError, "limit"),
    ('[1, 2]', InputError, "GeoJSON"),
])
def test_bad_polygons_are_refused_with_a_reason(body, error, words):
    with pytest.raises(error, match=words):
        polygon_query(body)


def test_unknown_codes_and_layers_are_named(loaded):
    engine = Engine(loaded)
    with pytest.raises(ValidationError, match="codes not in layer squares: Z"):
        codes_query(engine, "squares", ["A", "Z"])
    with pytest.raises(ValidationError, match="'nope' not found"):
        codes_query(engine, "nope", ["A"])


def test_plan_coverage_finds_the_gaps(loaded):
    from datetime import date

    report = plan_coverage(Engine(loaded), today=date(2026, 11, 1))
    rows = {r["code"]: r for r in report["areas"]}
    assert rows["A"]["locality_plan"] == pytest.approx(1.0)
    assert rows["D"]["community_action_plan"] == pytest.approx(0.5, rel=1e-6)
    assert rows["C"]["any_local_plan"] == 0.0
    assert [r["code"] for r in report["without_any_plan"]] == ["C"]
    assert report["deprived_without_locality_plan"] == []  # A and B have their Locality Plan
    assert [p["ref"] for p in report["past_review"]] == ["LP-AB"]


def test_engagement_coverage_counts_points_and_codes(loaded):
    engine = Engine(loaded)
    exact = engagement_coverage(loaded, engine, "squares", exact=True)
    counts = {r["code"]: r["responses"] for r in exact["areas"]}
    assert counts == {"A": 3, "B": 0, "C": 6, "D": 12}
    public = engagement_coverage(loaded, engine, "squares")
    shown = {r["code"]: (r["responses"], r["rate_per_1000"]) for r in public["areas"]}
    assert shown["A"] == ("<5", None)            # 3 is suppressed and its rate withheld
    assert shown["B"] == ("<5", None)            # 0 is withheld like any small count
    assert shown["D"] == (10, pytest.approx(12.5))  # 12 published as 10, per 800 people
    assert shown["C"] == (5, pytest.approx(5 / 700 * 1000))  # 6 published as 5
    only_health = engagement_coverage(loaded, engine, "squares",
                                      EngagementFilters(theme="health"), exact=True)
    assert {r["code"]: r["responses"] for r in only_health["areas"]}["D"] == 0
