"""OGC API - Features over the sample data: documents, paging, filters, privacy of pins, HTML views,
bad input, and real clients (OWSLib, and GDAL's OAPIF driver through pyogrio) over HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from datetime import date
from urllib.parse import quote

import pandas as pd
import pytest
import shapely
from werkzeug.serving import WSGIRequestHandler, make_server

from capmap.core.policy import PUBLIC_PIN_STATUSES
from capmap.storage import open_store

LAYERS = {"sample_community": 24, "sample_council": 1, "sample_dz": 620, "sample_iz": 111,
          "sample_wards": 10}
COLLECTIONS = [*LAYERS, "plans", "actions", "pins"]


@pytest.fixture
def db(app):
    """The app's database, read directly."""
    st = open_store(app.config["DATABASE_URL"])
    yield st
    st.close()


def _all_items(client, collection: str, limit: int = 100, extra: str = "") -> list[dict]:
    """Every item of a collection, following next links from the first page."""
    url, found = f"/ogc/collections/{collection}/items?limit={limit}{extra}", []
    while url:
        body = client.get(url).get_json()
        found += body["features"]
        assert body["numberReturned"] == len(body["features"]) <= limit
        nexts = [link["href"] for link in body["links"] if link["rel"] == "next"]
        url = nexts[0].replace("http://localhost", "") if nexts else None
    assert len(found) == body["numberMatched"]
    return found


def test_landing_page_links(client):
    answer = client.get("/ogc")
    assert answer.status_code == 200 and answer.content_type == "application/json"
    rels = {link["rel"]: link for link in answer.get_json()["links"]}
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["href"].startswith("http://localhost/ogc/api")
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["data"]["href"].startswith("http://localhost/ogc/collections")
    assert client.get("/ogc/").status_code == 200


def test_conformance_and_api_definition(client):
    classes = client.get("/ogc/conformance").get_json()["conformsTo"]
    assert {c.rsplit("/", 1)[-1] for c in classes} == {"core", "geojson", "html", "oas30"}
    api = client.get("/ogc/api")
    assert api.content_type == "application/vnd.oai.openapi+json;version=3.0"
    doc = api.get_json()
    assert doc["openapi"].startswith("3.0")
    assert "/collections/{collectionId}/items/{featureId}" in doc["paths"]
    limit = doc["components"]["parameters"]["limit"]["schema"]
    assert (limit["default"], limit["maximum"]) == (100, 10_000)
    assert doc["components"]["parameters"]["collectionId"]["schema"]["enum"] == COLLECTIONS


def test_json_api_definition_covers_every_api_route(app, client):
    answer = client.get("/api/openapi.json")
    assert answer.content_type == "application/vnd.oai.openapi+json;version=3.0"
    paths = answer.get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in paths[path], f"{method} {path}"
    assert set(paths["/api/lookup"]["get"]["responses"]) == {"200", "400", "422"}
    assert "requestBody" in paths["/api/planscape"]["post"]


def test_collections_list_every_public_collection(client, db):
    body = client.get("/ogc/collections").get_json()
    colls = {c["id"]: c for c in body["collections"]}
    assert list(colls) == COLLECTIONS  # never "responses": those are public only aggregated
    for cid in LAYERS:
        assert "Licence: Fictional data" in colls[cid]["description"]
    minx, miny, maxx, maxy = colls["sample_dz"]["extent"]["spatial"]["bbox"][0]
    assert -8 < minx < maxx < -1 and 54 < miny < maxy < 61
    one = client.get("/ogc/collections/plans").get_json()
    start, end = one["extent"]["temporal"]["interval"][0]
    assert start <= end and start.endswith("Z")
    assert client.get("/ogc/collections/responses").status_code == 404


def test_paging_follows_next_links_to_the_end(client):
    dz = _all_items(client, "sample_dz", limit=150)
    assert len({f["id"] for f in dz}) == 620
    last = client.get("/ogc/collections/sample_dz/items?limit=150&offset=600").get_json()
    rels = {link["rel"] for link in last["links"]}
    assert "prev" in rels and "next" not in rels and last["numberReturned"] == 20
    for cid, count in LAYERS.items():
        assert len(_all_items(client, cid, limit=500)) == count
    past = client.get("/ogc/collections/plans/items?offset=1000").get_json()
    assert past["numberReturned"] == 0 and past["numberMatched"] == 20
    big = client.get("/ogc/collections/sample_dz/items?limit=20000").get_json()
    assert big["numberReturned"] == 620  # a limit over the maximum is the maximum


def test_bbox_keeps_what_intersects(client, db):
    box = (-3.6, 56.2, -3.5, 56.3)
    body = client.get("/ogc/collections/sample_dz/items?limit=1000&bbox="
                      + ",".join(map(str, box))).get_json()
    areas = db.areas("sample_dz")
    expected = set(areas["code"][shapely.intersects(areas.geometry.values, shapely.box(*box))])
    assert {f["id"] for f in body["features"]} == expected and 0 < len(expected) < 620
    pins = client.get("/ogc/collections/pins/items?limit=1000&bbox=" + ",".join(map(str, box)))
    for feature in pins.get_json()["features"]:
        assert shapely.box(*box).covers(shapely.geometry.shape(feature["geometry"]))


def test_bbox_over_the_antimeridian_wraps_round(client, db):
    """minx above maxx: the box runs east from minx over 180 to maxx."""
    areas = db.areas("sample_dz")
    west = shapely.box(-180, 56.2, -3.9, 56.3)
    expected = set(areas["code"][shapely.intersects(areas.geometry.values, west)])
    body = client.get("/ogc/collections/sample_dz/items?limit=1000&bbox=170,56.2,-3.9,56.3").get_json()
    assert {f["id"] for f in body["features"]} == expected and 0 < len(expected) < 620


@pytest.mark.parametrize("query", ["2030-01-01", "2024-06-01/2026-12-31", "../2022-01-01",
                                   "2031-06-01T12:00:00Z/..", "2025-03-01T00:00:00+01:00"])
def test_datetime_filters_plans_by_period(client, db, query):
    plans = db.plans()
    low, _, high = query.partition("/") if "/" in query else (query, "", query)
    low = pd.Timestamp.min.date() if low in ("", "..") else pd.Timestamp(low[:10]).date()
    high = pd.Timestamp.max.date() if high in ("", "..") else pd.Timestamp(high[:10]).date()
    if query.endswith("+01:00"):
        low = high = date(2025, 2, 28)  # midnight at +01:00 is still the 28th in UTC
    start, end = plans["period_start"], plans["period_end"]
    keep = ((start.notna() | end.notna()) & (start.isna() | (start.map(str) <= str(high)))
            & (end.isna() | (end.map(str) >= str(low))))
    expected = set(plans["id"][keep])
    got = {f["id"] for f in _all_items(client, "plans", extra=f"&datetime={quote(query)}")}
    assert got == expected


def test_pins_are_public_only(client, db):
    pins = db.pins()
    published = pins[pins["status"].isin(["published", "resolved"])]  # as on the pin map
    body = client.get("/ogc/collections/pins/items?limit=10000")
    text = body.get_data(as_text=True)
    features = body.get_json()["features"]
    assert sorted(f["id"] for f in features) == sorted(published["id"])
    assert "contact" not in text
    for contact in pins["contact"].dropna():
        assert contact not in text
    exact = {(round(p.x, 9), round(p.y, 9)) for p in pins["geom"]}
    shown = {tuple(round(c, 9) for c in f["geometry"]["coordinates"]) for f in features}
    assert shown and not shown & exact
    hidden = int(pins[~pins["status"].isin(["published", "resolved"])]["id"].iloc[0])
    assert client.get(f"/ogc/collections/pins/items/{hidden}").status_code == 404
    one = client.get(f"/ogc/collections/pins/items/{features[0]['id']}?f=html")
    assert "contact" not in one.get_data(as_text=True).lower()


def test_actions_keep_unlocated_ones_with_null_geometry(client, db):
    actions = db.actions()
    features = _all_items(client, "actions", limit=1000)
    assert len(features) == len(actions) == 300
    assert sum(f["geometry"] is None for f in features) == int(actions.geometry.isna().sum())
    one = client.get(f"/ogc/collections/actions/items/{features[0]['id']}")
    assert one.content_type == "application/geo+json" and one.get_json()["properties"]["title"]


def test_formats_by_parameter_and_accept_header(client):
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    assert client.get("/ogc/collections", headers=browser).content_type.startswith("text/html")
    assert client.get("/ogc/collections?f=json", headers=browser).content_type == "application/json"
    assert client.get("/ogc/collections", headers={"Accept": "*/*"}).content_type == "application/json"
    items = client.get("/ogc/collections/plans/items?f=html&limit=5&offset=5")
    html = items.get_data(as_text=True)
    assert 'rel="next"' in html and 'rel="prev"' in html and "Items 6 to 10 of 20" in html


@pytest.mark.parametrize("url", ["/ogc?f=html", "/ogc/conformance?f=html", "/ogc/api?f=html",
                                 "/ogc/collections?f=html", "/ogc/collections/sample_dz?f=html",
                                 "/ogc/collections/actions/items?f=html",
                                 "/ogc/collections/sample_wards/items/S13900001?f=html"])
def test_html_views_render(client, url):
    answer = client.get(url)
    assert answer.status_code == 200 and "<h1>" in answer.get_data(as_text=True)


def test_html_is_escaped(app, client, db):
    first = db.plans().iloc[[0]].copy()
    first["ref"], first["title"] = "XSS-1", '<img src=x onerror="alert(1)">'
    db.put_plans(first.drop(columns="id"))
    for url in ("/ogc/collections/plans/items?f=html&limit=100",
                f"/ogc/collections/plans/items/{db.plan_ids()['XSS-1']}?f=html"):
        html = client.get(url).get_data(as_text=True)
        assert '<img src=x onerror="alert(1)">' not in html and "&lt;img src=x" in html


def test_crs84_and_epsg4326_axis_order(client):
    plain = client.get("/ogc/collections/pins/items?limit=1").get_json()["features"][0]
    named = client.get("/ogc/collections/pins/items?limit=1&crs=http://www.opengis.net/def/crs/"
                       "OGC/1.3/CRS84").get_json()["features"][0]
    latlon = client.get("/ogc/collections/pins/items?limit=1&crs=EPSG:4326").get_json()["features"][0]
    lon, lat = plain["geometry"]["coordinates"]
    assert named["geometry"]["coordinates"] == [lon, lat]
    assert latlon["geometry"]["coordinates"] == [lat, lon]
    swapped = f"{lat - 0.01},{lon - 0.01},{lat + 0.01},{lon + 0.01}"
    ids = {f["id"] for f in client.get(f"/ogc/collections/pins/items?bbox={swapped}"
                                       "&bbox-crs=EPSG:4326").get_json()["features"]}
    assert plain["id"] in ids


@pytest.mark.parametrize("url, status, words", [
    ("items?bbox=1,2,3", 400, "4 numbers"),
    ("items?bbox=a,b,c,d", 400, "must be numbers"),
    ("items?bbox=-3,56,nan,57", 400, "finite"),
    ("items?bbox=-4,57,-3,56", 400, "miny above maxy"),
    ("items?bbox=-4,56,-3,95", 400, "out of range"),
    ("items?limit=-1", 400, "limit must be a whole number"),
    ("items?limit=abc", 400, "limit must be a whole number"),
    ("items?limit=0", 400, "from 1 to"),
    ("items?limit=" + "9" * 5000, 400, "limit must be"),
    ("items?offset=-5", 400, "offset must be a whole number"),
    ("items?offset=1000000000000", 400, "from 0 to 999,999,999,999"),
    ("items?datetime=yesterday", 400, "RFC 3339"),
    ("items?datetime=2024-02-30", 400, "not a real date"),
    ("items?datetime=0001-01-01T00:00:00%2B01:00", 400, "outside the years 1 to 9999"),
    ("items?datetime=2025-01-01/2024-01-01", 400, "ends before it starts"),
    ("items?datetime=2024-01-01/2024-02-01/2024-03-01", 400, "interval a/b"),
    ("items?crs=EPSG:27700", 400, "crs 'EPSG:27700' is not offered"),
    ("items?bbox=0,0,1,1&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/27700", 400, "bbox-crs"),
    ("items?f=xml", 400, "f must be json or html"),
    ("items/S01999999", 404, "not found in collection"),
    ("items/1?crs=EPSG:3857", 400, "not offered"),
    ("?f=pdf", 400, "f must be"),
])
def test_bad_input_gets_a_message(client, url, status, words):
    answer = client.get(f"/ogc/collections/sample_dz/{url}".replace("/?", "?"))
    assert answer.status_code == status, answer.get_data(as_text=True)
    body = answer.get_json()
    assert set(body) >= {"error", "message"} and words in body["message"]


def test_unknown_collection_and_unknown_parameters(client):
    answer = client.get("/ogc/collections/nope/items")
    assert answer.status_code == 404
    assert "collections are sample_community, sample_council" in answer.get_json()["message"]
    assert client.get("/ogc/collections/plans/items?foo=bar&sortby=x").status_code == 200


# -- real clients over HTTP -------------------------------------------------------------------

class _Quiet(WSGIRequestHandler):
    def log_request(self, *args) -> None:
        pass


@pytest.fixture
def served(app, monkeypatch):
    """The app on a real HTTP server at 127.0.0.1 (a free port); its /ogc URL. Sockets to any
    other host are refused in this process."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    connect = socket.socket.connect

    def local_only(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            assert address[0] in ("127.0.0.1", "::1"), f"connection to {address} refused"
        return connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", local_only)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    yield f"http://127.0.0.1:{server.server_port}/ogc"
    server.shutdown()
    thread.join(5)


def test_owslib_reads_every_collection(served, db):
    from owslib.ogcapi.features import Features

    api = Features(served)
    assert api.feature_collections() == COLLECTIONS
    documents = [api.response, api.collections(), api.collection_items("plans", limit=1, offset=1)]
    hrefs = [link["href"] for doc in documents for c in [doc, *doc.get("collections", [])]
             for link in c["links"]]
    assert hrefs and all(h.startswith(served) for h in hrefs)  # clients only ever come back here
    pins = db.pins()
    expected = {**LAYERS, "plans": len(db.plans()), "actions": len(db.actions()),
                "pins": int(pins["status"].isin(PUBLIC_PIN_STATUSES).sum())}
    for cid, count in expected.items():
        ids, offset, matched = set(), 0, None
        while matched is None or offset < matched:
            page = api.collection_items(cid, limit=250, offset=offset)
            matched = page["numberMatched"]
            ids |= {f["id"] for f in page["features"]}
            offset += page["numberReturned"]
            assert page["numberReturned"] > 0 or offset >= matched
        assert len(ids) == matched == count, cid
    assert api.collection_item("sample_wards", "S13900001")["id"] == "S13900001"


GDAL_READ = """
import json, sys
import pyogrio
frame = pyogrio.read_dataframe(sys.argv[1], layer=sys.argv[2])
print(json.dumps({"count": len(frame), "crs": str(frame.crs), "ids": sorted(map(str, frame["id"]))}))
"""


def test_gdal_oapif_driver_reads_a_layer(served):
    # capmap switches GDAL's network drivers off in its own process, so GDAL runs in a child
    # process with a clean environment that never imports capmap.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GDAL_", "CPL_", "OGR_", "PROJ_NETWORK"))}
    env.update(NO_PROXY="127.0.0.1", no_proxy="127.0.0.1", GDAL_HTTP_TIMEOUT="30")
    run = subprocess.run([sys.executable, "-c", GDAL_READ, f"OAPIF:{served}", "sample_dz"],
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    answer = json.loads(run.stdout)
    assert answer["count"] == 620 and answer["crs"] == "EPSG:4326"
    assert len(set(answer["ids"])) == 620 and answer["ids"][0].startswith("S019")
