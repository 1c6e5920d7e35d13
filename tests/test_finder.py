"""The planscape finder for community groups, its result pages and downloads, and the plan pages,
over the fictional sample data. Expected plans come from capmap.services.planscape on the same store."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from app.store import get_engine, get_store
from capmap.core.crs import geoms_lonlat_to_bng
from capmap.services.planscape import codes_query, planscape, point_query
from capmap.services.search import drawn_query, postcode_query
from tests.conftest import SAMPLE

XSS = "<script>alert(1)</script>"
_INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def _locality_codes(ref: str) -> list[str]:
    with open(SAMPLE / "plans_by_area.csv", newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["ref"] == ref)
    return row["area_codes"].split(";")


def _expected(app, make_query) -> dict:
    """The planscape answer computed directly, for comparing with the pages."""
    with app.app_context():
        engine, store = get_engine(), get_store()
        return planscape(engine, store, make_query(engine, store))


def _ids(answer: dict) -> list[int]:
    ids = [p["id"] for p in answer["plans"]]
    assert ids, "the expected answer has no plans: the test would prove nothing"
    return ids


def _table_ids(page: str) -> list[int]:
    """Plan ids in the order the result page's table of plans lists them."""
    table = page.split('<table class="plans">', 1)[1].split("</table>", 1)[0]
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/plans/(\d+)">', table)]


def _ok(answer) -> str:
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page[-2000:]
    return page


def _share_link(page: str) -> str:
    found = re.search(r'id="share-link" type="text" readonly value="([^"]+)"', page)
    assert found, "no share link on the page"
    return html.unescape(found.group(1)).replace("http://localhost", "")


def _inner_point(app, code: str) -> tuple[float, float]:
    with app.app_context():
        state = get_engine().layer("sample_dz")
        point = state.inner_points[state.row_of[code]]
    return point.x, point.y


# -- the finder page ------------------------------------------------------------------------------

def test_the_finder_offers_every_way_in_without_javascript(client):
    page = _ok(client.get("/planscape"))
    assert 'action="/planscape/search"' in page and 'name="q"' in page
    assert 'href="/planscape/choose?layer=sample_wards&amp;code=S139' in page
    assert 'enctype="multipart/form-data"' in page and 'name="file"' in page
    assert 'name="geometry"' in page and 'name="csrf_token"' in page
    assert 'id="point-form"' in page and 'name="lon"' in page
    assert "/static/draw.js" in page and "/static/finder.js" in page
    assert not _INLINE.findall(page)
    assert 'id="finder-map"' in page and "data-finder-map" in page and "/static/map.js" in page
    for control in re.findall(r'<(?:input|textarea)[^>]*\bid="([^"]+)"', page):
        assert f'for="{control}"' in page, f"no label for {control}"
    headings = [int(h) for h in re.findall(r"<h([1-6])", page)]
    assert headings[0] == 1 and all(b - a <= 1 for a, b in zip(headings, headings[1:], strict=False))


def test_the_static_scripts_are_served(client):
    for name in ("draw.js", "finder.js"):
        answer = client.get(f"/static/{name}")
        assert answer.status_code == 200 and b"use strict" in answer.data
        answer.close()


# -- each way in gives the plans planscape gives -----------------------------------------------

def test_a_point_gives_the_plans_of_its_neighbourhood(app, client):
    code = _locality_codes("LOC-01")[0]
    lon, lat = _inner_point(app, code)
    expected = _expected(app, lambda e, s: point_query(e, lon, lat))
    page = _ok(client.get(f"/planscape/result?lon={lon}&lat={lat}"))
    assert _table_ids(page) == _ids(expected)
    assert "Kirkton East Locality Plan" in page and code in page
    assert not _INLINE.findall(page)


def test_a_postcode_search_leads_to_its_result(app, client):
    with app.app_context():
        postcode = get_store().postcodes()["postcode"].iloc[7]
    typed = postcode.replace(" ", "").lower()
    answer = client.get(f"/planscape/search?q={typed}")
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/planscape/result?postcode={postcode.replace(' ', '+')}"
    page = _ok(client.get(answer.headers["Location"]))
    expected = _expected(app, lambda e, s: postcode_query(e, s, postcode))
    assert _table_ids(page) == _ids(expected) and f"postcode {postcode}" in page


def test_a_name_search_lists_places_and_a_unique_name_leads_to_its_result(app, client):
    listing = client.get("/planscape/search?q=kirkton north")
    page = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert "Kirkton North - 01" in page and "/planscape/result?layer=sample_iz" in page
    with app.app_context():
        areas = get_engine().layer("sample_dz").areas
        code, name = areas["code"].iat[40], areas["name"].iat[40]
    answer = client.get("/planscape/search", query_string={"q": name.upper()})
    assert answer.status_code == 302
    assert answer.headers["Location"] == f"/planscape/result?layer=sample_dz&codes={code}"
    expected = _expected(app, lambda e, s: codes_query(e, "sample_dz", [code]))
    assert _table_ids(_ok(client.get(answer.headers["Location"]))) == _ids(expected)


def test_a_code_search_goes_straight_to_the_area(app, client):
    answer = client.get("/planscape/search?q=s01900219")
    assert answer.headers["Location"] == "/planscape/result?layer=sample_dz&codes=S01900219"


def test_several_codes_repeated_or_comma_separated(app, client):
    codes = _locality_codes("LOC-01")
    expected = _expected(app, lambda e, s: codes_query(e, "sample_dz", codes))
    assert expected["plans"][0]["ref"] == "LOC-01"
    half = len(codes) // 2
    query = "&".join(f"codes={c}" for c in codes[:half]) + "&codes=" + ",".join(codes[half:])
    page = _ok(client.get(f"/planscape/result?layer=sample_dz&{query}"))
    assert _table_ids(page) == _ids(expected)
    listed = re.sub(r'data-map="[^"]*"', "", page)  # the lists, not the map's layer names
    assert listed.index("Kirkton East Locality Plan") < listed.index("Local Outcomes Improvement Plan")
    # Without a layer, codes are neighbourhood codes.
    assert _table_ids(_ok(client.get(f"/planscape/result?{query}"))) == _ids(expected)


def test_the_list_of_neighbourhoods_to_tick(app, client):
    code = _locality_codes("LOC-01")[0]
    with app.app_context():
        engine = get_engine()
        ward = engine.assign(np.array([engine.layer("sample_dz").inner_points[
            engine.layer("sample_dz").row_of[code]]]), only=["sample_wards"])["sample_wards"][0]
    page = _ok(client.get(f"/planscape/choose?layer=sample_wards&code={ward}"))
    assert f'name="codes" value="{code}"' in page and f'for="c-{code}"' in page
    assert "<fieldset>" in page and "<legend>" in page and 'action="/planscape/result"' in page
    assert client.get("/planscape/choose").status_code == 302
    assert client.get("/planscape/choose?layer=sample_wards&code=S13999999").status_code == 404


def _box(app, code: str, metres: float = 150.0) -> dict:
    lon, lat = _inner_point(app, code)
    dlon, dlat = metres / 62_000, metres / 111_000
    return shapely.geometry.mapping(shapely.box(lon - dlon, lat - dlat, lon + dlon, lat + dlat))


def test_a_drawn_polygon_and_its_link(app, client):
    polygon = _box(app, _locality_codes("LOC-02")[3])
    expected = _expected(app, lambda e, s: drawn_query(json.dumps(polygon), max_km2=30_000))
    page = _ok(client.post("/planscape/result", data={"geometry": json.dumps(polygon)}))
    assert _table_ids(page) == _ids(expected) and "the area you drew" in page
    link = _share_link(page)
    assert link.startswith("/planscape/result?geometry=")
    again = _ok(client.get(link))
    assert _table_ids(again) == _ids(expected)
    csv_link = html.unescape(re.search(r'href="([^"]+format=csv[^"]*)"', again).group(1))
    rows = list(csv.DictReader(io.StringIO(client.get(csv_link).get_data(as_text=True))))
    assert [r["ref"] for r in rows] == [p["ref"] for p in expected["plans"]]


def test_a_detailed_polygon_cannot_be_linked_but_can_be_downloaded(app, client):
    lon, lat = _inner_point(app, _locality_codes("LOC-03")[0])
    circle = shapely.Point(lon, lat).buffer(0.004, quad_segs=120)
    body = json.dumps(shapely.geometry.mapping(circle))
    page = _ok(client.post("/planscape/result", data={"geometry": body}))
    assert "too detailed to put in a link" in page and 'id="share-link"' not in page
    carried = html.unescape(re.search(r'name="geometry" value="([^"]+)"', page).group(1))
    answer = client.post("/planscape/result", data={"geometry": carried, "format": "csv"})
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert len(list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))) == len(
        _table_ids(page))


def _locality_frame(app, ref: str) -> gpd.GeoDataFrame:
    """The neighbourhoods of a Locality Plan, in EPSG:27700 as a planner's file would be."""
    with app.app_context():
        areas = get_engine().layer("sample_dz").areas
    chosen = areas[areas["code"].isin(_locality_codes(ref))]
    return gpd.GeoDataFrame({"code": chosen["code"].to_numpy(), "name": chosen["name"].to_numpy()},
                            geometry=geoms_lonlat_to_bng(chosen.geometry.values), crs="EPSG:27700")


def _upload(client, data: bytes, name: str):
    return client.post("/planscape/result", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _main_plans(answer: dict | list, floor: float = 0.01) -> set[str]:
    return {p["ref"] for p in answer["plans"] if p["share_of_query"] >= floor}


def _check_upload(app, client, data: bytes, name: str, ref: str, tmp_path: Path,
                  monkeypatch) -> str:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    page = _ok(_upload(client, data, name))
    assert not list(temp.glob("capmap-finder-*")), "the upload's folder was left behind"
    expected = _expected(app, lambda e, s: codes_query(e, "sample_dz", _locality_codes(ref)))
    with app.app_context():
        refs = {p["id"]: p["ref"] for p in planscape(get_engine(), get_store(), codes_query(
            get_engine(), "sample_dz", _locality_codes(ref)))["plans"]}
    shown = _table_ids(page)
    assert refs.get(shown[0]) == ref
    assert _main_plans(expected) <= {refs.get(i) for i in shown}
    assert f"the boundary in {name}" in page
    return page


def test_an_uploaded_geojson_boundary(app, client, tmp_path, monkeypatch):
    path = tmp_path / "ours.geojson"
    pyogrio.write_dataframe(_locality_frame(app, "LOC-03"), path, driver="GeoJSON")
    _check_upload(app, client, path.read_bytes(), "ours.geojson", "LOC-03", tmp_path, monkeypatch)


def test_an_uploaded_zipped_shapefile(app, client, tmp_path, monkeypatch):
    folder = tmp_path / "shp"
    folder.mkdir()
    pyogrio.write_dataframe(_locality_frame(app, "LOC-02"), folder / "ours.shp",
                            driver="ESRI Shapefile")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for part in folder.iterdir():
            zf.write(part, part.name)
    _check_upload(app, client, archive.getvalue(), "ours.zip", "LOC-02", tmp_path, monkeypatch)


# -- downloads ---------------------------------------------------------------------------------

def test_csv_geojson_and_geopackage_downloads(app, client, tmp_path):
    codes = _locality_codes("LOC-04")[:5]
    expected = _expected(app, lambda e, s: codes_query(e, "sample_dz", codes))
    base = f"/planscape/result?layer=sample_dz&codes={','.join(codes)}"
    answer = client.get(base + "&format=csv")
    assert answer.mimetype == "text/csv"
    assert "attachment" in answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [r["ref"] for r in rows] == [p["ref"] for p in expected["plans"]]
    assert abs(float(rows[0]["share_of_query"]) - expected["plans"][0]["share_of_query"]) < 1e-4
    assert rows[0]["page"].endswith(f"/plans/{expected['plans'][0]['id']}")
    for fmt, suffix in (("geojson", ".geojson"), ("gpkg", ".gpkg")):
        answer = client.get(f"{base}&format={fmt}")
        assert answer.status_code == 200, answer.get_data(as_text=True)[-500:]
        path = tmp_path / f"overlaps{suffix}"
        path.write_bytes(answer.data)
        frame = pyogrio.read_dataframe(path, layer="overlaps" if fmt == "gpkg" else None)
        assert sorted(frame["ref"]) == sorted(p["ref"] for p in expected["plans"])
        assert frame.crs.to_epsg() == 4326
        assert set(shapely.get_type_id(frame.geometry.values)) <= {3, 6}


# -- plan pages --------------------------------------------------------------------------------

def test_a_plan_page_shows_its_actions_by_status(app, client):
    with app.app_context():
        store = get_store()
        plan = store.plans().set_index("ref").loc["LOC-01"]
        actions = store.actions()
    mine = actions[actions["plan_id"] == plan["id"]]
    page = _ok(client.get(f"/plans/{plan['id']}"))
    assert plan["title"] in page and "Locality Plan" in page
    assert f"{len(mine)} action" in page
    for title in mine["title"]:
        assert html.escape(title) in page
    for status in set(mine["status"]):
        assert f"<h3>{status.replace('_', ' ').capitalize()} (" in page
    assert 'href="https://example.org/plans/LOC-01"' in page
    assert not _INLINE.findall(page)


def test_a_plan_past_its_review_date_is_flagged(app, client):
    with app.app_context():
        plan_id = int(get_store().plans().set_index("ref").loc["CAP-07", "id"])
    assert "review overdue" in _ok(client.get(f"/plans/{plan_id}"))


def test_an_unknown_plan_is_a_404_page(client):
    answer = client.get("/plans/99999")
    assert answer.status_code == 404 and answer.mimetype == "text/html"
    assert "there is no plan 99999" in answer.get_data(as_text=True)


# -- bad input ---------------------------------------------------------------------------------

BOWTIE = {"type": "Polygon", "coordinates": [[[-3.80, 56.38], [-3.78, 56.39], [-3.78, 56.38],
                                              [-3.80, 56.39], [-3.80, 56.38]]]}


@pytest.mark.parametrize("url, status, words", [
    ("/planscape/result?layer=sample_dz&codes=S01999999", 422, "codes not in layer sample_dz"),
    ("/planscape/result?layer=nope&codes=S01900001", 422, "layer &#39;nope&#39; not found"),
    ("/planscape/result?layer=sample_dz", 422, "no area codes given"),
    ("/planscape/search?q=XS9+9ZZ", 404, "Postcode XS9 9ZZ is not in our postcode list"),
    ("/planscape/search?q=zzqqxx", 404, "No postcode, place or area matches"),
    ("/planscape/search?q=a", 400, "type at least 2 characters"),
    ("/planscape/result?postcode=XS9+9ZZ", 404, "postcode XS9 9ZZ is not in our postcode list"),
    ("/planscape/result?postcode=hello", 400, "is not a postcode, a postcode district or a sector"),
    ("/planscape/result?lon=-0.1&lat=51.5", 422, "fall outside Scotland"),
    ("/planscape/result?lon=-3.6&lat=57.5", 422, "outside every neighbourhood"),
    ("/planscape/result?lon=abc&lat=56", 400, "lon must be a number"),
    ("/planscape/result?lon=nan&lat=56", 400, "lon must be a finite number"),
    ("/planscape/result", 400, "say which area"),
    ("/planscape/result?codes=S01900001&format=xls", 400, "format &#39;xls&#39; is not offered"),
    ("/planscape/result?geometry=%7Bnot", 400, "the area in the link is not JSON"),
])
def test_bad_queries_get_a_page_with_the_message(client, url, status, words):
    answer = client.get(url)
    page = answer.get_data(as_text=True)
    assert answer.status_code == status, page[-1500:]
    assert answer.mimetype == "text/html" and words in page


@pytest.mark.parametrize("geometry, status, words", [
    (json.dumps(BOWTIE), 422, "the polygon is invalid"),
    ('{"type": "Point", "coordinates": [-3.8, 56.38]}', 422, "expected a Polygon or MultiPolygon"),
    ("[[1, 2]]", 400, "expected a GeoJSON geometry or Feature"),
    ("", 400, "no area given"),
])
def test_bad_polygons_get_a_page_with_the_message(client, geometry, status, words):
    answer = client.post("/planscape/result", data={"geometry": geometry})
    assert answer.status_code == status and words in answer.get_data(as_text=True)


VRT = ('<OGRVRTDataSource><OGRVRTLayer name="p"><SrcDataSource>CSV:/etc/passwd</SrcDataSource>'
       '</OGRVRTLayer></OGRVRTDataSource>')


def _zip_slip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../evil.shp", b"x" * 100)
    return archive.getvalue()


@pytest.mark.parametrize("data, name, words", [
    (VRT.encode(), "area.geojson", "VRT"),
    (b"just some text", "area.txt", "choose a boundary file ending in"),
    (b'{"type": "FeatureCollection", "features": []}', "empty.geojson", "holds no polygons"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
     b'"geometry": {"type": "Point", "coordinates": [-3.8, 56.38]}}]}', "pt.geojson",
     "holds no polygons (Point)"),
])
def test_hostile_or_useless_uploads_are_refused(client, data, name, words, tmp_path, monkeypatch):
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))
    answer = _upload(client, data, name)
    page = answer.get_data(as_text=True)
    assert 400 <= answer.status_code < 500 and words in page, page[-1500:]
    assert not list(temp.glob("capmap-finder-*"))
    assert "root:" not in page


def test_a_zip_that_climbs_out_of_its_folder_is_refused(client):
    answer = _upload(client, _zip_slip(), "area.zip")
    assert 400 <= answer.status_code < 500
    assert "area.zip" in answer.get_data(as_text=True)


# -- escaping --------------------------------------------------------------------------------

def test_hostile_plan_text_is_escaped_everywhere(app, client):
    with app.app_context():
        store = get_store()
        area = get_engine().layer("sample_dz").areas.set_index("code").loc[["S01900219"]]
        plans = gpd.GeoDataFrame({
            "ref": ["XSS-1"], "type": ["community_action_plan"], "title": [XSS],
            "owner": ["=HYPERLINK(\"http://evil.example\")"], "council_code": [XSS],
            "period_start": [None], "period_end": [None], "review_due": [None],
            "status": ["adopted"], "themes": [XSS], "link": ["javascript:alert(1)"],
            "summary": [XSS], "area_layer": [None], "area_codes": [None]},
            geometry=area.geometry.values, crs="EPSG:4326").rename_geometry("geom")
        [plan_id] = store.put_plans(plans)
    result = _ok(client.get("/planscape/result?layer=sample_dz&codes=S01900219"))
    page = _ok(client.get(f"/plans/{plan_id}"))
    for body in (result, page):
        assert XSS not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert 'href="javascript:' not in body
        assert not _INLINE.findall(body)
    rows = list(csv.DictReader(io.StringIO(client.get(
        "/planscape/result?layer=sample_dz&codes=S01900219&format=csv").get_data(as_text=True))))
    mine = next(r for r in rows if r["ref"] == "XSS-1")
    assert mine["owner"].startswith("'=") and mine["title"] == XSS


def test_the_posting_forms_carry_a_working_csrf_token(app, tmp_path):
    from app import create_app

    guarded = create_app({**app.config, "WTF_CSRF_ENABLED": True,
                          "INSTANCE_PATH": str(tmp_path / "guarded")})
    client = guarded.test_client()
    page = client.get("/planscape").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    polygon = json.dumps(_box(app, _locality_codes("LOC-01")[0]))
    refused = client.post("/planscape/result", data={"geometry": polygon})
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    answer = client.post("/planscape/result", data={"geometry": polygon, "csrf_token": token})
    assert answer.status_code == 200, answer.get_data(as_text=True)[-800:]
    guarded.extensions["capmap_store"].close()


def test_the_finders_overdue_flags_are_the_plan_pages(sample_db):
    # The finder compared date strings and took review_due alone; a community-led plan with no
    # review date is due five years after its start on its own page. Both now ask the same rules.
    from datetime import date

    from capmap.core.serialise import actions_json, plan_json
    from capmap.services.engine import Engine
    from capmap.services.progress import flag_overdue
    from capmap.services.search import plan_page
    from capmap.storage import open_store

    store = open_store(f"sqlite:///{sample_db}")
    engine = Engine(store)
    plans = engine.plans().plans
    today = date(2027, 6, 1)
    answer = {"plans": [plan_json(row) for _, row in plans.iterrows()],
              "actions": actions_json(store.actions(), dict(zip(plans["id"], plans["title"],
                                                                strict=True)))}
    flag_overdue(plans, answer, today)
    by_action = {a["id"]: a["overdue"] for a in answer["actions"]}
    for plan in answer["plans"]:
        page = plan_page(engine, store, plan["id"], today)
        assert plan["review_overdue"] == page["plan"]["review_overdue"], plan["ref"]
        for _, actions in page["groups"]:
            assert all(by_action[a["id"]] == a["overdue"] for a in actions)
    store.close()
    assert any(by_action.values()) and not all(by_action.values())
    # No review date written down: a community-led plan is due five years after its start.
    old = plans.assign(type="community_action_plan", review_due=None,
                       period_start=date(2020, 4, 1), period_end=None).head(1)
    unwritten = {"plans": [plan_json(old.iloc[0])], "actions": []}
    flag_overdue(old, unwritten, today)
    assert unwritten["plans"][0]["review_overdue"] and unwritten["plans"][0]["review_date"] == \
        "2025-04-01"
