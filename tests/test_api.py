"""The JSON API over the squares: answers, and a 400 or 422 with a message for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from app import create_app
from capmap.core.crs import geoms_bng_to_lonlat
from tests.conftest import X0, Y0, lonlat_of


@pytest.fixture
def api(loaded):
    app = create_app({"TESTING": True, "DATABASE_URL": loaded.url, "TILES_URL": "",
                      "SECRET_KEY": "test"})
    yield app.test_client()
    for key in ("capmap_store",):
        if key in app.extensions:
            app.extensions[key].close()


def test_lookup(api):
    lon, lat = lonlat_of(X0 + 1500, Y0 + 1500)
    body = api.get(f"/api/lookup?lon={lon}&lat={lat}").get_json()
    assert body["areas"]["squares"]["code"] == "D"
    assert sorted(p["ref"] for p in body["plans"]) == ["CAP-D", "LOIP"]
    # A point needs no plan's list of area codes (the LOIP's would list every square).
    loip = next(p for p in body["plans"] if p["ref"] == "LOIP")
    assert "area_codes" not in loip and loip["area_layer"] == "squares"


def test_planscape_by_codes_and_by_point(api):
    by_codes = api.get("/api/planscape?layer=squares&codes=A,B").get_json()
    assert [p["ref"] for p in by_codes["plans"]] == ["LP-AB", "LOIP"]
    lon, lat = lonlat_of(X0 + 1700, Y0 + 1700)
    by_point = api.get(f"/api/planscape?lon={lon}&lat={lat}").get_json()
    assert by_point["query"]["codes"] == ["D"]


def test_planscape_by_posted_feature(api):
    north = geoms_bng_to_lonlat(np.array([shapely.box(X0, Y0 + 1000, X0 + 2000, Y0 + 2000)]))[0]
    feature = {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(north)}
    answer = api.post("/api/planscape", data=json.dumps(feature),
                      content_type="application/json")
    assert answer.status_code == 200
    assert {p["ref"] for p in answer.get_json()["plans"]} == {"CAP-D", "LOIP"}


def test_coverage_endpoints(api):
    plans = api.get("/api/coverage/plans").get_json()
    assert [r["code"] for r in plans["without_any_plan"]] == ["C"]
    engagement = api.get("/api/coverage/engagement?layer=squares&channel=paper").get_json()
    counts = {r["code"]: r["responses"] for r in engagement["areas"]}
    # Public: 12 paper responses in D are published as 10; the zeros withheld like small counts.
    assert counts == {"A": "<5", "B": "<5", "C": "<5", "D": 10}
    assert engagement["exact"] is False


@pytest.mark.parametrize("url, status, words", [
    ("/api/lookup?lon=abc&lat=56", 400, "lon must be a number"),
    ("/api/lookup?lon=nan&lat=56", 400, "finite"),
    ("/api/lookup?lon=-3.4", 400, "lat is required"),
    ("/api/lookup?lon=56.4&lat=-3.4", 422, "wrong order"),
    ("/api/lookup?lon=200&lat=56", 422, "not lon/lat"),
    ("/api/planscape?layer=nope&codes=A", 422, "'nope' not found"),
    ("/api/planscape?layer=squares&codes=Z", 422, "codes not in layer squares: Z"),
    ("/api/planscape?layer=squares", 422, "no area codes"),
    ("/api/planscape?codes=A", 400, "layer is required"),
    ("/api/planscape?lon=-2.0&lat=57.5", 422, "outside every neighbourhood"),
    ("/api/coverage/engagement?layer=nope", 422, "not found"),
    ("/api/coverage/engagement?layer=squares&from=2025-13-01", 400, "YYYY-MM-DD"),
    ("/api/coverage/engagement?layer=squares&from=2025-05-01&to=2025-01-01", 422, "after"),
    ("/api/coverage/engagement?layer=squares&from=20250101", 400, "YYYY-MM-DD"),
    ("/api/coverage/engagement?layer=squares&to=2025-W01-1", 400, "YYYY-MM-DD"),
    ("/api/planscape?layer=squares&codes=A&lon=-3.4&lat=56.5", 400, "not both"),
])
def test_bad_queries_get_a_message(api, url, status, words):
    answer = api.get(url)
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert words in answer.get_json()["message"]


@pytest.mark.parametrize("body, status", [
    ("not json", 400),
    ('{"type": "Polygon", "coordinates": [[[NaN, 56], [-3, 56], [-3, 57], [NaN, 56]]]}', 422),
    ('{"type": "LineString", "coordinates": [[-3, 56], [-3.1, 56]]}', 422),
    ('{"type": "Feature", "geometry": null}', 422),
    ("", 400),
])
def test_bad_posts_get_a_message(api, body, status):
    answer = api.post("/api/planscape", data=body, content_type="application/json")
    assert answer.status_code == status
    assert answer.get_json()["message"]


def test_an_oversized_body_is_refused(loaded):
    app = create_app({"TESTING": True, "DATABASE_URL": loaded.url, "TILES_URL": "",
                      "SECRET_KEY": "t", "MAX_CONTENT_LENGTH": 1000})
    answer = app.test_client().post("/api/planscape", data="x" * 5000,
                                    content_type="application/json")
    assert answer.status_code == 413 and answer.get_json()["error"]


def test_layer_payloads_in_both_formats(api):
    geojson = api.get("/api/layers/squares/areas?zoom=12").get_json()
    assert geojson["type"] == "FeatureCollection" and len(geojson["features"]) == 4
    assert set(geojson["features"][0]["properties"]) == {"code", "name", "population",
                                                         "simd_quintile"}
    compact = api.get("/api/layers/squares/areas?zoom=12&format=compact").get_json()
    assert compact["type"] == "CompactFeatureCollection" and len(compact["features"]) == 4


@pytest.mark.parametrize("url, status", [
    ("/api/layers/squares/areas?zoom=99", 400),
    ("/api/layers/squares/areas?zoom=x", 400),
    ("/api/layers/squares/areas?zoom=%C2%B2", 400),  # a superscript two is a digit to str.isdigit
    ("/api/layers/squares/areas?format=svg", 400),
    ("/api/layers/nope/areas", 422),
])
def test_bad_layer_payload_requests(api, url, status):
    answer = api.get(url)
    assert answer.status_code == status and answer.get_json()["message"]


def test_a_method_not_offered_names_those_that_are(api):
    answer = api.delete("/api/planscape")
    assert answer.status_code == 405 and answer.content_type == "application/json"
    assert set(answer.headers["Allow"].split(", ")) >= {"GET", "POST"}
