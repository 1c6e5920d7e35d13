"""CSRF: every state-changing route outside the read-only JSON API and OGC API refuses a request
without a valid token, says why, and changes nothing; the same request with the token goes through.

The routes come from app.url_map, so a new form route is checked without editing this file (it
fails until FORMS says what a valid request to it looks like).
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil

import pytest
import sqlalchemy as sa

from capmap.core.passwords import hash_password
from capmap.storage import open_store
from capmap.storage.schema import metadata
from tests.conftest import PASSWORD, SAMPLE

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Blueprints that only read (POST /api/planscape sends a query); exempt from CSRF in create_app.
READ_ONLY_BLUEPRINTS = ("api", "ogc")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
USER = "csrf-admin"


@pytest.fixture
def csrf_app(sample_db, tmp_path):
    """The app as deployed: CSRF on."""
    from app import create_app

    db = tmp_path / "capmap.sqlite"
    shutil.copy(sample_db, db)
    url = f"sqlite:///{db}"
    store = open_store(url)
    store.add_user(USER, hash_password(PASSWORD), ["admin"])
    store.close()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "TILES_URL": "",
                      "SECRET_KEY": "csrf-secret", "WTF_CSRF_ENABLED": True,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    yield app
    if "capmap_store" in app.extensions:
        app.extensions["capmap_store"].close()


def _token(client, path: str = "/login") -> str:
    match = TOKEN.search(client.get(path).get_data(as_text=True))
    assert match, f"{path} has no CSRF token field"
    return match.group(1)


def _admin(app):
    """A client logged in as an admin through the login form (with its token)."""
    client = app.test_client()
    answer = client.post("/login", data={"username": USER, "password": PASSWORD,
                                         "csrf_token": _token(client)})
    assert answer.status_code == 302
    return client


def _snapshot(app) -> dict:
    """Every row of every table, and the upload folder's contents."""
    store = open_store(app.config["DATABASE_URL"])
    try:
        with store.engine.connect() as conn:
            rows = {t.name: sorted(map(repr, conn.execute(sa.select(t)).all()))
                    for t in metadata.sorted_tables}
    finally:
        store.close()
    uploads = os.path.join(app.instance_path, "uploads")
    rows["uploads"] = sorted(os.listdir(uploads)) if os.path.isdir(uploads) else []
    return rows


def _pending_pin(app) -> int:
    store = open_store(app.config["DATABASE_URL"])
    try:
        return int(store.pins_with_status("pending", limit=1, offset=0)["id"].iloc[0])
    finally:
        store.close()


def _postcode_box() -> str:
    """A small lon/lat polygon around a sample postcode, as GeoJSON."""
    from capmap.core.crs import bng_to_lonlat

    lon, lat = bng_to_lonlat([288112.3 - 400, 288112.3 + 400], [723033.1 - 400, 723033.1 + 400])
    (x0, x1), (y0, y1) = lon, lat
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return json.dumps({"type": "Polygon", "coordinates": [[[float(a), float(b)] for a, b in ring]]})


# What a valid request to each form route sends (besides its token), and the status it gets.
def _forms(app) -> dict[str, tuple[dict, int]]:
    pin = _pending_pin(app)
    return {
        "auth.login": ({"username": USER, "password": PASSWORD}, 302),
        "auth.logout": ({}, 302),
        "finder.result": ({"geometry": _postcode_box()}, 200),
        "lpp_prepare.area_regard": ({"geometry": _postcode_box()}, 200),
        "lpp_prepare.area_notify": ({"geometry": _postcode_box()}, 200),
        "councillors.form": ({"file": lambda: (io.BytesIO((SAMPLE / "councillors.csv").read_bytes()),
                                               "councillors.csv")}, 200),
        "pins.submit": ({"lon": "-3.5575", "lat": "56.2375", "category": "other",
                         "description": "CSRF probe: the bench is broken."}, 201),
        f"moderation.decide:{pin}": ({"decision": "publish"}, 303),
        "imports.upload": ({"kind": "postcodes",
                            "file": lambda: (io.BytesIO((SAMPLE / "postcodes.csv").read_bytes()),
                                             "postcodes.csv")}, 200),
        "imports.decide": ({"action": "cancel"}, 302),
        **{endpoint: (form, status) for endpoint, _, form, status in EDITS},
    }


# The editing and account forms: (endpoint, path, a valid request, its status), in an order
# that works (the account is made before it is changed).
NEW_USER = "csrf-new"
EDITS = [
    # Plan 14 is the sample's LPP-01, submitted: it may be validated.
    ("lpp.step", "/lpp/plans/14/register", {"to": "validated", "on": "2026-11-20"}, 303),
    ("editing.edit_action", "/actions/1/edit", {"status": "stalled"}, 303),
    ("editing.edit_plan", "/plans/1/edit", {"status": "under review"}, 303),
    ("editing.remove_action", "/actions/1/remove", {"confirm": "yes"}, 303),
    ("editing.remove_plan", "/plans/1/remove", {"confirm": "yes"}, 303),
    ("accounts.create", "/admin/users", {"username": NEW_USER, "role": "officer"}, 200),
    ("accounts.user", f"/admin/users/{NEW_USER}", {"role": "planner"}, 303),
    ("accounts.reset", f"/admin/users/{NEW_USER}/password", {}, 200),
    ("accounts.active", f"/admin/users/{NEW_USER}/active", {"active": "no"}, 303),
    ("accounts.password", "/account/password",
     {"current": PASSWORD, "new": PASSWORD, "again": PASSWORD}, 303),  # the login below
    ("i18n.switch", "/lang", {"lang": "gd", "next": "/pins"}, 303),  # last: later pages in Gaelic
]


def _write_routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every state-changing route that CSRF must guard."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in READ_ONLY_BLUEPRINTS:
            continue
        out += [(rule.endpoint, m, rule.rule) for m in sorted(rule.methods & WRITE_METHODS)]
    return out


def _body(form: dict) -> dict:
    return {k: v() if callable(v) else v for k, v in form.items()}


def test_the_only_unguarded_writes_are_the_read_only_apis(csrf_app):
    exempt = [(r.endpoint, sorted(r.methods & WRITE_METHODS)) for r in csrf_app.url_map.iter_rules()
              if r.methods & WRITE_METHODS and r.endpoint.split(".")[0] in READ_ONLY_BLUEPRINTS]
    assert exempt == [("api.api_planscape_polygon", ["POST"])]
    # ... and it is really exempt: a query posted without a token is answered.
    answer = csrf_app.test_client().post("/api/planscape", data=_postcode_box(),
                                         content_type="application/json")
    assert answer.status_code == 200 and answer.get_json()["plans"]


def test_every_form_route_refuses_a_missing_or_wrong_token_and_changes_nothing(csrf_app):
    client = _admin(csrf_app)
    forms = _forms(csrf_app)
    routes = _write_routes(csrf_app)
    assert {e for e, _, _ in routes} == {k.split(":")[0] for k in forms}, \
        "a form route has no valid request in _forms"
    pin = next(k for k in forms if k.startswith("moderation.decide")).split(":")[1]
    paths = {"moderation.decide": f"/moderate/pins/{pin}", "imports.decide": "/admin/import/" + "a" * 32,
             **{endpoint: path for endpoint, path, _, _ in EDITS}}
    before = _snapshot(csrf_app)
    for endpoint, method, rule in routes:
        key = next(k for k in forms if k.split(":")[0] == endpoint)
        path = paths.get(endpoint, rule)
        for token, why in ((None, "The CSRF token is missing."),
                           ("not-a-token", "The CSRF token is invalid.")):
            data = _body(forms[key][0]) | ({"csrf_token": token} if token else {})
            answer = client.open(path, method=method, data=data)
            assert answer.status_code == 400, (endpoint, token, answer.status_code)
            assert why in answer.get_data(as_text=True), endpoint
        assert _snapshot(csrf_app) == before, f"{endpoint} changed something without a token"
    # Still logged in: the refused logout did not log out.
    assert client.get("/moderate").status_code == 200


def test_a_token_from_another_session_is_refused(csrf_app):
    stranger = csrf_app.test_client()
    foreign = _token(stranger, "/pins")
    victim = _admin(csrf_app)
    before = _snapshot(csrf_app)
    answer = victim.post("/pins", data=_body(_forms(csrf_app)["pins.submit"][0]) | {"csrf_token": foreign})
    assert answer.status_code == 400
    assert "The CSRF session token is missing." in answer.get_data(as_text=True) or \
        "The CSRF tokens do not match." in answer.get_data(as_text=True)
    assert _snapshot(csrf_app) == before


def test_the_same_requests_with_the_token_go_through(csrf_app):
    client = _admin(csrf_app)
    forms = _forms(csrf_app)
    # The upload first: its preview page holds the token of the upload to cancel.
    answer = client.post("/admin/import", data=_body(forms["imports.upload"][0])
                         | {"csrf_token": _token(client, "/admin/import")})
    assert answer.status_code == forms["imports.upload"][1], answer.get_data(as_text=True)[:500]
    upload = re.search(r'action="/admin/import/([0-9a-f]+)"', answer.get_data(as_text=True)).group(1)
    answer = client.post(f"/admin/import/{upload}", data=_body(forms["imports.decide"][0])
                         | {"csrf_token": _token(client, "/admin/import")})
    assert answer.status_code == forms["imports.decide"][1]
    pin_key = next(k for k in forms if k.startswith("moderation.decide"))
    pin = pin_key.split(":")[1]
    answer = client.post(f"/moderate/pins/{pin}", data=_body(forms[pin_key][0])
                         | {"csrf_token": _token(client, "/moderate")})
    assert answer.status_code == forms[pin_key][1]
    for endpoint, path, form, status in EDITS:
        answer = client.post(path, data=form | {"csrf_token": _token(client, "/pins")})
        assert answer.status_code == status, (endpoint, answer.status_code)
    for endpoint, path in (("finder.result", "/planscape/result"), ("pins.submit", "/pins"),
                           ("lpp_prepare.area_regard", "/lpp/regard"),
                           ("lpp_prepare.area_notify", "/lpp/notify"),
                           ("councillors.form", "/admin/import/councillors"),
                           ("auth.login", "/login"), ("auth.logout", "/logout")):
        answer = client.post(path, data=_body(forms[endpoint][0]) | {"csrf_token": _token(client, "/pins")})
        assert answer.status_code == forms[endpoint][1], (endpoint, answer.status_code)
    assert client.get("/moderate").status_code == 302  # logged out
