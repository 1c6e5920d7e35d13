"""The register on the web, over the sample (LPP-02 registered, LPP-03 registered then removed,
LPP-01 submitted, LPP-04 not registered; all of council S12900001): what the public and the
council's staff see, the step form with its refusals, and the files."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape

import pyogrio

from capmap.core.passwords import hash_password
from capmap.storage import open_store
from tests.conftest import PASSWORD, plan_ids

COUNCIL = "S12900001"
UNKNOWN = "S12999999"


def _entry(app, ref: str) -> dict | None:
    store = open_store(app.config["DATABASE_URL"])
    try:
        return store.lpp_entry(store.plan_ids()[ref])
    finally:
        store.close()


def _file(client, url: str) -> bytes:
    """A file answer's bytes, the answer closed (closing removes the file served)."""
    answer = client.get(url)
    try:
        assert answer.status_code == 200, url
        return answer.get_data()
    finally:
        answer.close()


def _scoped(app, username: str, councils: list[str]):
    store = open_store(app.config["DATABASE_URL"])
    store.add_user(username, hash_password(PASSWORD), ["officer"], councils)
    store.close()
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}
                       ).status_code == 302
    return client


def test_the_public_register_shows_registered_and_removed_plans_only(client):
    page = client.get(f"/lpp/register/{COUNCIL}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Balmore and Westermuir Local Place Plan" in text and "Easter Glen Local Place Plan" in text
    assert "preparing a revised plan for the old mill site" in text and "2026-06-30" in text
    assert "Kirkton Local Place Plan" not in text and "Tollmuir Local Place Plan" not in text
    data = client.get(f"/lpp/register/{COUNCIL}.json").get_json()
    assert [e["plan_ref"] for e in data["entries"]] == ["LPP-02", "LPP-03"]
    assert data["counts"] == {"registered": 1, "removed": 1} and data["not_entered"] == []
    assert "submitted_on" not in data["entries"][0]  # the working record's dates stay inside
    assert data["entries"][1]["removed_on"] == "2026-06-30"
    # In Gaelic the stages and their dates are written for the reader, as on every page.
    gaelic = client.get(f"/lpp/register/{COUNCIL}?lang=gd").get_data(as_text=True)
    assert "Clàraichte: 4 dhen Mhàrt 2024" in gaelic and "Air an toirt far a’ chlàir: 30 dhen " \
        "Ògmhios 2026" in gaelic and "2026-06-30" not in gaelic


def test_the_map_gets_geometry_by_url_and_shows_the_register_plans(app, client):
    ids = plan_ids(app)
    text = client.get(f"/lpp/register/{COUNCIL}").get_data(as_text=True)
    described = json.loads(unescape(re.search(r'data-map="([^"]*)"', text).group(1)))
    assert "coordinates" not in json.dumps(described)
    layers = {layer["name"]: layer for layer in described["layers"]}
    assert layers["Registered Local Place Plans"]["only"]["values"] == [ids["LPP-02"]]
    assert layers["Removed from the register"]["only"]["values"] == [ids["LPP-03"]]
    assert all(layer["tiles"].startswith("/tiles/") for layer in described["layers"])
    assert "Not yet registered (staff only)" not in layers


def test_the_index_counts_per_council(client, officer):
    public = client.get("/lpp/register.json").get_json()["councils"]
    assert public == [{"council_code": COUNCIL, "council_name": "Glenarden", "entries": 2,
                       "registered": 1, "counts": {"registered": 1, "removed": 1}}]
    staff = officer.get("/lpp/register.json").get_json()["councils"][0]
    assert staff["counts"] == {"proposed": 0, "submitted": 1, "validated": 0, "registered": 1,
                               "not_registered": 1, "removed": 1}
    page = client.get("/lpp/register").get_data(as_text=True)
    assert f'href="/lpp/register/{COUNCIL}"' in page and "Glenarden" in page


def test_an_unknown_council_is_404_in_every_form(client):
    for suffix in ("", ".json", ".csv", ".geojson", ".gpkg"):
        answer = client.get(f"/lpp/register/{UNKNOWN}{suffix}")
        assert answer.status_code == 404, suffix
        assert f"council '{UNKNOWN}' has no Local Place Plan register here; councils known: " \
               f"{COUNCIL}" in unescape(answer.get_data(as_text=True)), suffix
    assert client.get(f"/lpp/register/{UNKNOWN}.json").is_json


def test_staff_of_the_council_see_every_stage_and_move_a_plan_on(app, officer):
    data = officer.get(f"/lpp/register/{COUNCIL}.json").get_json()
    assert [e["plan_ref"] for e in data["entries"]] == ["LPP-01", "LPP-02", "LPP-03", "LPP-04"]
    assert data["entries"][3]["reason"].startswith("Not valid: the proposed plan was not sent")
    plan = plan_ids(app)["LPP-01"]
    form = officer.get(f"/lpp/plans/{plan}/register").get_data(as_text=True)
    assert 'value="validated"' in form and 'value="not_registered"' in form
    assert 'value="registered"' not in form
    done = officer.post(f"/lpp/plans/{plan}/register", data={"to": "validated",
                                                            "on": "2026-11-20"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/lpp/register/{COUNCIL}")
    assert _entry(app, "LPP-01")["validated_on"].isoformat() == "2026-11-20"
    history = officer.get(f"/plans/{plan}/history.json").get_json()["changes"]
    assert (history[0]["field"], history[0]["by"]) in {("lpp_status", "olivia"),
                                                       ("lpp_validated_on", "olivia")}
    shown = officer.get(f"/lpp/plans/{plan}/register").get_data(as_text=True)
    assert "olivia (web)" in shown and "2026-11-20" in shown


def test_refused_steps_answer_409_or_422_or_400_and_change_nothing(app, officer):
    ids = plan_ids(app)
    before = _entry(app, "LPP-01")
    refused = officer.post(f"/lpp/plans/{ids['LPP-01']}/register", data={"to": "registered",
                                                                        "on": "2026-11-20"})
    assert refused.status_code == 409
    assert "plan LPP-01 is submitted: it cannot move to registered; allowed: validated, " \
           "not_registered" in unescape(refused.get_data(as_text=True))
    no_reason = officer.post(f"/lpp/plans/{ids['LPP-02']}/register", data={"to": "removed"})
    assert no_reason.status_code == 422 and "needs the reason" in no_reason.get_data(as_text=True)
    bad_date = officer.post(f"/lpp/plans/{ids['LPP-01']}/register",
                            data={"to": "validated", "on": "20/11/2026"})
    assert bad_date.status_code == 400
    assert "&#39;20/11/2026&#39; is not a date" in bad_date.get_data(as_text=True)
    early = officer.post(f"/lpp/plans/{ids['LPP-01']}/register",
                         data={"to": "validated", "on": "2026-09-01"})
    assert early.status_code == 422
    assert "before the entry&#39;s last step (submitted on 2026-09-14)" in early.get_data(
        as_text=True)
    final = officer.post(f"/lpp/plans/{ids['LPP-03']}/register", data={"to": "registered"})
    assert final.status_code == 409 and "none (removal is final)" in final.get_data(as_text=True)
    other = officer.post(f"/lpp/plans/{ids['LOC-01']}/register", data={"to": "submitted"})
    assert other.status_code == 422 and "LOC-01 is a locality_plan" in other.get_data(as_text=True)
    assert officer.get("/lpp/plans/99999/register").status_code == 404
    assert _entry(app, "LPP-01") == before


def test_a_removal_with_its_reason_shows_on_the_public_register(app, client, planner):
    plan = plan_ids(app)["LPP-02"]
    done = planner.post(f"/lpp/plans/{plan}/register", data={
        "to": "removed", "on": "2026-11-25", "reason": "Replaced by the adopted LDP"})
    assert done.status_code == 303
    data = client.get(f"/lpp/register/{COUNCIL}.json").get_json()
    assert data["counts"] == {"registered": 0, "removed": 2}
    assert (data["entries"][0]["removed_on"], data["entries"][0]["reason"]) == (
        "2026-11-25", "Replaced by the adopted LDP")


def test_an_account_of_another_council_sees_the_public_register_and_changes_nothing(app):
    plan = plan_ids(app)["LPP-01"]
    elsewhere = _scoped(app, "fraser", ["S12000048"])
    refused = elsewhere.get(f"/lpp/plans/{plan}/register")
    assert refused.status_code == 403 and "limited to S12000048" in refused.get_data(as_text=True)
    assert elsewhere.post(f"/lpp/plans/{plan}/register", data={"to": "validated"}
                          ).status_code == 403
    assert len(elsewhere.get(f"/lpp/register/{COUNCIL}.json").get_json()["entries"]) == 2
    own = _scoped(app, "morven", [COUNCIL])
    assert own.get(f"/lpp/plans/{plan}/register").status_code == 200
    assert len(own.get(f"/lpp/register/{COUNCIL}.json").get_json()["entries"]) == 4


def test_the_files_hold_the_register_shown(app, client, officer, tmp_path):
    rows = list(csv.DictReader(io.StringIO(client.get(f"/lpp/register/{COUNCIL}.csv")
                                           .get_data(as_text=True))))
    assert [r["plan_ref"] for r in rows] == ["LPP-02", "LPP-03"]
    assert list(rows[0]) == ["plan_ref", "title", "community_body", "council_code", "status",
                             "registered_on", "removed_on", "reason", "link"]
    staff_rows = list(csv.DictReader(io.StringIO(officer.get(f"/lpp/register/{COUNCIL}.csv")
                                                 .get_data(as_text=True))))
    assert [r["status"] for r in staff_rows] == ["submitted", "registered", "removed",
                                                 "not_registered"]
    features = json.loads(_file(client, f"/lpp/register/{COUNCIL}.geojson"))["features"]
    assert [f["properties"]["plan_ref"] for f in features] == ["LPP-02", "LPP-03"]
    assert {f["geometry"]["type"] for f in features} <= {"Polygon", "MultiPolygon"}
    gpkg = tmp_path / "register.gpkg"
    gpkg.write_bytes(_file(client, f"/lpp/register/{COUNCIL}.gpkg"))
    frame = pyogrio.read_dataframe(gpkg, layer="lpp_register")
    assert sorted(frame["plan_ref"]) == ["LPP-02", "LPP-03"] and frame.crs.to_epsg() == 4326


def test_the_plans_history_shows_register_steps_only_to_the_councils_staff(app, client, officer):
    plan = plan_ids(app)["LPP-04"]  # not registered: its reasons are the authority's working record
    public = client.get(f"/plans/{plan}/history.json").get_json()["changes"]
    # The plan's own history and its actions' (the sample's), never its register steps.
    assert public and not any(c["field"].startswith("lpp_") for c in public)
    assert not any(c["field"].startswith("lpp_") for c in
                   client.get("/changes.json?since=2000-01-01").get_json()["changes"])
    assert "Not valid: the proposed plan" not in client.get(f"/plans/{plan}").get_data(as_text=True)
    staff = officer.get(f"/plans/{plan}/history.json").get_json()["changes"]
    assert sorted(c["field"] for c in staff if c["field"].startswith("lpp_")) == [
                                                 "lpp_community_body", "lpp_not_registered_on",
                                                 "lpp_reason", "lpp_status", "lpp_status",
                                                 "lpp_submitted_on"]
    assert len([c for c in officer.get("/changes.json?since=2000-01-01").get_json()["changes"]
                if c["field"].startswith("lpp_")]) == 30
    elsewhere = _scoped(app, "fenella", ["S12000048"])
    assert not any(c["field"].startswith("lpp_") for c in
                   elsewhere.get(f"/plans/{plan}/history.json").get_json()["changes"])
    staff_page = officer.get(f"/plans/{plan}").get_data(as_text=True)
    assert "Not valid: the proposed plan" in staff_page
    assert f'href="/lpp/plans/{plan}/register"' in staff_page
    assert f'href="/lpp/register/{COUNCIL}"' in client.get(f"/plans/{plan}").get_data(as_text=True)
