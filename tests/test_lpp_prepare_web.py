"""Before submission, on the web over the sample: the plans a Local Place Plan must have regard
to and its notification list (pages, JSON, CSV), for a plan and for any area; the councillors
import form; and the sample's answers checked against a plain shapely computation over every
community council and ward of the sample."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import geopandas as gpd
import pytest

from capmap.spatial.slivers import DEFAULT_TOLERANCE, edge_only, widths
from capmap.storage import open_store
from tests.conftest import SAMPLE, logged_in, plan_ids

COUNCIL = "S12900001"


@pytest.fixture
def ids(app) -> dict[str, int]:
    return plan_ids(app)


def _expected(plan_geometry) -> tuple[set[str], set[str], set[str]]:
    """Wards beyond slivers, community councils within, and adjoining (5 m), by brute force
    over the sample's files in EPSG:27700."""
    lpp = gpd.GeoSeries([plan_geometry], crs="EPSG:4326").to_crs(27700).iloc[0]
    out = []
    for name in ("wards", "community_councils"):
        frame = gpd.read_file(SAMPLE / f"{name}.geojson")
        pieces = frame.geometry.intersection(lpp)
        area = pieces.area.to_numpy()
        sliver = edge_only(area / lpp.area, area / frame.area.to_numpy(), widths(pieces.values),
                           DEFAULT_TOLERANCE)
        within = set(frame["code"][(area > 0) & ~sliver])
        near = set(frame["code"][frame.geometry.distance(lpp).to_numpy() <= 5.0])
        out.append((within, near - within))
    return out[0][0], out[1][0], out[1][1]


def test_each_sample_lpp_notification_list_matches_a_brute_force_count(app, client, ids):
    plans = gpd.read_file(SAMPLE / "plans.geojson")
    lpps = plans[plans["type"] == "local_place_plan"]
    assert len(lpps) >= 4
    for ref, geometry in zip(lpps["ref"], lpps.geometry, strict=True):
        answer = client.get(f"/lpp/plans/{ids[ref]}/notify.json").get_json()
        _check(answer, geometry, ref)
        # Every ward of the sample has three or four councillors.
        assert all(3 <= len(w["councillors"]) <= 4 for w in answer["wards"]), ref


def _check(answer: dict, geometry, what: str) -> int:
    """The answer's wards and community councils are those counted by brute force; how many
    adjoin."""
    wards, within, adjoins = _expected(geometry)
    assert {w["code"] for w in answer["wards"]} == wards, what
    got = {cc["code"]: cc["relation"] for cc in answer["community_councils"]}
    assert {c for c, r in got.items() if r == "within"} == within, what
    assert {c for c, r in got.items() if r == "adjoins"} == adjoins, what
    assert answer["tolerance"]["adjoin_m"] == 5.0
    return len(adjoins)


def test_each_sample_ward_asked_about_matches_a_brute_force_count(client):
    wards = gpd.read_file(SAMPLE / "wards.geojson").to_crs(4326)
    adjoining = 0
    for code, geometry in zip(wards["code"], wards.geometry, strict=True):
        answer = client.get(f"/lpp/notify.json?layer=sample_wards&codes={code}").get_json()
        adjoining += _check(answer, geometry, code)
        assert [w["code"] for w in answer["wards"]] == [code]
    # Community councils follow no ward boundary, so some only touch a ward along its edge.
    assert adjoining > 0


def test_the_notification_page_lists_councillors_and_community_councils(client, ids):
    page = client.get(f"/lpp/plans/{ids['LPP-01']}/notify")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    answer = client.get(f"/lpp/plans/{ids['LPP-01']}/notify.json").get_json()
    first = answer["wards"][0]
    assert first["councillors"][0]["name"] in text and first["name"] in text
    assert answer["community_councils"][0]["name"] in text
    assert "comes within 5 m of it" in text
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/lpp/plans/{ids['LPP-01']}/notify.csv").get_data(as_text=True))))
    assert len(rows) == len(answer["recipients"])
    assert {r["recipient"] for r in rows} == {"councillor", "community_council"}


def test_the_regard_page_puts_locality_plans_and_the_loip_first(client, ids):
    report = client.get(f"/lpp/plans/{ids['LPP-01']}/regard.json").get_json()
    types = [p["type"] for p in report["statutory_plans"]]
    assert types and set(types) <= {"locality_plan", "loip"}
    assert types == sorted(types, key=lambda t: t != "locality_plan")
    assert all(p["type"] not in ("locality_plan", "loip") for p in report["other_plans"])
    assert "LPP-01" not in [p["ref"] for p in report["statutory_plans"] + report["other_plans"]]
    for plan in report["statutory_plans"] + report["other_plans"]:
        assert all(a["plan_id"] == plan["id"] and a["located"] for a in plan["actions_inside"])
    page = client.get(f"/lpp/plans/{ids['LPP-01']}/regard").get_data(as_text=True)
    assert page.index("Locality Plans and the Local Outcomes Improvement Plan") < \
        page.index(report["statutory_plans"][0]["title"]) < page.index("Other plans")
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/lpp/plans/{ids['LPP-01']}/regard.csv").get_data(as_text=True))))
    assert [r["ref"] for r in rows if r["group"] == "statutory"] == \
        [p["ref"] for p in report["statutory_plans"]]


def test_any_area_by_codes_or_point(client):
    ward = "/lpp/notify.json?layer=sample_wards&codes=S13900001"
    answer = client.get(ward).get_json()
    assert [w["code"] for w in answer["wards"]] == ["S13900001"]
    assert answer["edge_wards"] == []  # neighbouring wards share its edges exactly
    regard = client.get("/lpp/regard.json?layer=sample_wards&codes=S13900001").get_json()
    assert [p["type"] for p in regard["statutory_plans"]][-1] == "loip"
    page = client.get("/lpp/notify?layer=sample_wards&codes=S13900001&adjoin_m=0")
    assert page.status_code == 200 and "within 0 m of it" in page.get_data(as_text=True)
    assert 'href="/lpp/notify.csv?layer=sample_wards&amp;codes=S13900001&amp;adjoin_m=0"' in \
        page.get_data(as_text=True)


def test_each_csv_is_an_attachment_named_after_its_list_and_plan(client, ids):
    plan, area = ids["LPP-01"], "layer=sample_wards&codes=S13900001"
    for url, name in ((f"/lpp/plans/{plan}/regard.csv", f"plans_to_have_regard_to_{plan}"),
                      (f"/lpp/plans/{plan}/notify.csv", f"notification_list_{plan}"),
                      (f"/lpp/regard.csv?{area}", "plans_to_have_regard_to"),
                      (f"/lpp/notify.csv?{area}", "notification_list")):
        answer = client.get(url)
        assert answer.status_code == 200 and answer.mimetype == "text/csv", url
        assert answer.headers["Content-Disposition"] == f'attachment; filename="{name}.csv"'
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/lpp/notify.csv?{area}").get_data(as_text=True))))
    recipients = client.get(f"/lpp/notify.json?{area}").get_json()["recipients"]
    assert [r["name"] for r in rows] == [r["name"] for r in recipients]
    regard = client.get(f"/lpp/regard.json?{area}").get_json()
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"/lpp/regard.csv?{area}").get_data(as_text=True))))
    assert [r["ref"] for r in rows if r["group"] == "statutory"] == \
        [p["ref"] for p in regard["statutory_plans"]]


def test_an_area_asked_by_a_posted_form_gets_the_same_page_as_by_its_link(client):
    for kind in ("regard", "notify"):
        linked = client.get(f"/lpp/{kind}?layer=sample_wards&codes=S13900001")
        posted = client.post(f"/lpp/{kind}", data={"layer": "sample_wards", "codes": "S13900001"})
        assert linked.status_code == posted.status_code == 200
        heading = linked.get_data(as_text=True).split("<h1", 1)[1].split("</h1>", 1)[0]
        assert heading in posted.get_data(as_text=True)


@pytest.mark.parametrize(("url", "status", "message"), [
    ("/lpp/plans/999999/notify", 404, "there is no plan 999999"),
    ("/lpp/plans/999999/regard.json", 404, "there is no plan 999999"),
    ("/lpp/notify", 400, "say which area"),
    ("/lpp/regard.csv?layer=sample_wards&codes=S13999999", 422, "S13999999"),
    ("/lpp/notify.json?layer=sample_wards&codes=S13900001&adjoin_m=-1", 400,
     "adjoin_m '-1'; expected a number of metres from 0 to 200"),
    ("/lpp/notify.json?layer=sample_wards&codes=S13900001&adjoin_m=lots", 400,
     "adjoin_m must be a number, got 'lots'"),
])
def test_bad_requests_get_a_clear_4xx(client, url, status, message):
    answer = client.get(url)
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert message in answer.get_data(as_text=True)
    assert "Traceback" not in answer.get_data(as_text=True)


def test_a_plan_that_is_not_an_lpp_is_a_404_saying_so(client, ids):
    answer = client.get(f"/lpp/plans/{ids['LOIP']}/notify.json")
    assert answer.status_code == 404
    assert "is a loip, not a Local Place Plan" in answer.get_json()["message"]


def test_the_plan_page_of_an_lpp_links_to_both(client, ids):
    text = client.get(f"/plans/{ids['LPP-01']}").get_data(as_text=True)
    assert f"/lpp/plans/{ids['LPP-01']}/regard" in text and f"/lpp/plans/{ids['LPP-01']}/notify" \
        in text
    assert "/regard" not in client.get(f"/plans/{ids['LOIP']}").get_data(as_text=True)


def _upload(client, text: str, name: str = "councillors.csv"):
    return client.post("/admin/import/councillors",
                       data={"file": (io.BytesIO(text.encode()), name)},
                       content_type="multipart/form-data")


def test_staff_import_councillors_whole_or_not_at_all(app, officer, client, ids):
    assert client.get("/admin/import/councillors").status_code == 302  # log in first
    before = officer.get(f"/lpp/plans/{ids['LPP-01']}/notify.json").get_json()["recipients"]
    bad = _upload(officer, "ward_code,name,email\nS13900001,New Person,\nS13999999,X,\n"
                           "S13900002,,\n")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "row 3, column ward_code: &#39;S13999999&#39; is not the code of a ward" in text
    assert "row 4, column name: empty" in text
    assert officer.get(f"/lpp/plans/{ids['LPP-01']}/notify.json").get_json()["recipients"] \
        == before
    missing = _upload(officer, "ward,name\nS13900001,A\n")
    assert missing.status_code == 400 and "column ward_code not found" in \
        missing.get_data(as_text=True)
    assert _upload(officer, "x", "councillors.txt").status_code == 400
    good = _upload(officer, "ward_code,name,party,email\n"
                            "S13900001,New Person,Independent,new@example.org\n")
    assert good.status_code == 200 and "Stored 1 councillors." in good.get_data(as_text=True)
    answer = client.get("/lpp/notify.json?layer=sample_wards&codes=S13900001").get_json()
    assert [c["name"] for c in answer["wards"][0]["councillors"]] == ["New Person"]


def test_an_account_of_another_council_may_not_import_its_councillors(app):
    from capmap.core.passwords import hash_password
    from tests.conftest import PASSWORD

    store = open_store(app.config["DATABASE_URL"])
    store.add_user("elsewhere", hash_password(PASSWORD), ["officer"], ["S12000049"])
    store.close()
    client = app.test_client()
    client.post("/login", data={"username": "elsewhere", "password": PASSWORD})
    answer = _upload(client, (Path(SAMPLE) / "councillors.csv").read_text())
    assert answer.status_code == 422
    assert f"is in council {COUNCIL}, outside the councils of this account" in \
        answer.get_data(as_text=True)
    assert logged_in(app, "inside", ["officer"]).get("/admin/import/councillors").status_code \
        == 200


def test_the_sample_loads_every_councillor(app):
    store = open_store(app.config["DATABASE_URL"])
    try:
        assert store.councillor_count() == len((SAMPLE / "councillors.csv").read_text()
                                                .splitlines()) - 1
    finally:
        store.close()
