"""Residents' pins: the form, the public pin map and its data, abuse guards and moderation."""

from __future__ import annotations

import json
import shutil
import socket
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from capmap.core.crs import lonlat_to_bng
from capmap.core.errors import ValidationError
from capmap.core.policy import PUBLIC_PIN_STATUSES, PinRules
from capmap.services import pins as P
from capmap.storage import open_store
from capmap.storage import schema as s
from tests.conftest import ROOT
from tests.schema_versions import rewind

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
CONTACT = "jo.bloggs@example.org 07700 900123"


def make_app(sample_db: Path, tmp_path: Path, **config):
    """An app on a private copy of the sample data, with `config` on top of the test settings."""
    from app import create_app

    db = tmp_path / f"capmap-{uuid.uuid4().hex[:6]}.sqlite"
    shutil.copy(sample_db, db)
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                       "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                       "INSTANCE_PATH": str(tmp_path / "instance"), **config})


def store_of(app):
    """A separate Store on the app's database (closed by the caller)."""
    return open_store(app.config["DATABASE_URL"])


@pytest.fixture
def spot(app) -> tuple[float, float]:
    """A point inside the first sample neighbourhood."""
    from app.store import get_engine

    with app.app_context():
        engine = get_engine()
        code = engine.neighbourhoods().areas["code"].iloc[0]
        lon, lat, _ = P.neighbourhood_place(engine, code)
    return lon, lat


def form(spot, **fields) -> dict:
    """A valid pin form at `spot`, changed by `fields`."""
    data = {"lon": f"{spot[0]:.6f}", "lat": f"{spot[1]:.6f}", "category": "street_lighting",
            "description": "The lamp outside the school has been out for a week.",
            "contact": CONTACT}
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def newest_pin(app):
    """The last stored pin (one-row dict) and how many pins there are."""
    store = store_of(app)
    try:
        pins = store.pins()
        return pins.iloc[-1].to_dict(), len(pins)
    finally:
        store.close()


def metres_apart(a, b) -> float:
    """Distance between two lon/lat points, measured in EPSG:27700."""
    e, n = lonlat_to_bng(np.array([a.x, b.x]), np.array([a.y, b.y]))
    return float(np.hypot(e[0] - e[1], n[0] - n[1]))


def submit(client, spot, **fields):
    """Post a pin; the answer and the new pin."""
    answer = client.post("/pins", data=form(spot, **fields))
    return answer


def publish(app, pin_id: int, moderator) -> None:
    """Publish a pin through the moderation form."""
    answer = moderator.post(f"/moderate/pins/{pin_id}", data={"decision": "publish"})
    assert answer.status_code == 303, answer.get_data(as_text=True)


# -- the form --------------------------------------------------------------------------------


def test_the_pin_page_has_the_form_notice_honeypot_and_a_list(client):
    page = client.get("/pins").get_data(as_text=True)
    for category in P.CATEGORIES:
        assert f'value="{category}"' in page
    assert "never published" in page and 'aria-describedby="contact-notice"' in page
    assert 'class="hp" aria-hidden="true"' in page and 'name="website"' in page
    assert "/vendor/markercluster/leaflet.markercluster.js" in page
    assert "Recent reports" in page
    assert "<script>" not in page  # only external scripts (the CSP allows no other)


def test_a_pin_is_stored_pending_with_a_moved_public_point_and_its_contact(app, client, spot):
    _, before = newest_pin(app)
    answer = submit(client, spot)
    assert answer.status_code == 201
    pin, after = newest_pin(app)
    assert after == before + 1
    assert pin["status"] == "pending" and pin["category"] == "street_lighting"
    assert pin["contact"] == CONTACT
    assert pin["geom"].equals(shapely.Point(*spot))
    assert 75 <= metres_apart(pin["geom"], pin["public_geom"]) <= 150.5
    store = store_of(app)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(s.assignments.c.layer_id, s.assignments.c.code).where(
            (s.assignments.c.record == "pins") & (s.assignments.c.record_id == int(pin["id"])))).all()
    store.close()
    assert dict(rows)["sample_dz"] is not None and len(rows) == 5  # every current layer


def test_the_thank_you_page_shows_the_areas_and_plans_at_the_spot(client, spot):
    page = submit(client, spot).get_data(as_text=True)
    assert "Thank you" in page and "Is this already in a plan?" in page
    assert "Neighbourhood: " in page and "Council: Glenarden" in page
    assert "Local Outcomes Improvement Plan" in page
    assert CONTACT not in page and "The lamp outside" not in page


def test_the_honeypot_answers_as_accepted_but_stores_nothing(app, client, spot):
    _, before = newest_pin(app)
    answer = submit(client, spot, website="http://spam.example")
    assert answer.status_code == 201 and "Thank you" in answer.get_data(as_text=True)
    assert newest_pin(app)[1] == before


@pytest.mark.parametrize("fields, message", [
    ({"description": "x" * 1001}, "the limit is 1,000"),
    ({"description": "   "}, "describe the problem"),
    ({"description": None}, "describe the problem"),
    ({"category": "aliens"}, "choose a category"),
    ({"category": None}, "choose a category"),
    ({"lon": None, "lat": None}, "no place given"),
    ({"lon": "west"}, "lon must be a number, got &#39;west&#39;"),
    ({"lon": "nan"}, "lon must be a finite number"),  # as on /api (capmap.core.parse)
    ({"contact": "c" * 201}, "contact details have 201 characters"),
])
def test_bad_forms_are_refused_with_422_and_a_message(app, client, spot, fields, message):
    _, before = newest_pin(app)
    answer = submit(client, spot, **fields)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert message in page and 'role="alert"' in page
    assert newest_pin(app)[1] == before


def test_a_description_at_the_limit_is_accepted_counting_crlf_as_one(client, spot):
    text = ("a\r\n" * 333) + "a"  # 1,000 characters once new lines are LF
    assert submit(client, spot, description=text).status_code == 201


@pytest.mark.parametrize("lon, lat, message", [
    (-3.2, 50.0, "fall outside Scotland"),             # outside the region
    (-6.5, 58.2, "outside every neighbourhood"),        # in Scotland, not in the sample areas
])
def test_points_outside_are_refused(app, client, spot, lon, lat, message):
    _, before = newest_pin(app)
    answer = submit(client, spot, lon=str(lon), lat=str(lat))
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert newest_pin(app)[1] == before


def test_a_postcode_or_a_neighbourhood_places_the_pin_without_the_map(app, client):
    store = store_of(app)
    code, point = store.postcodes().iloc[0][["postcode", "geom"]]
    store.close()
    messy = " " + code.replace(" ", "").lower() + " "
    page = client.get("/pins", query_string={"postcode": messy}).get_data(as_text=True)
    assert f"Placed at postcode {code}" in page and f'value="{point.x:.6f}"' in page
    assert client.get("/pins", query_string={"postcode": "ZZ9 9ZZ"}).status_code == 404
    assert client.get("/pins", query_string={"postcode": "!!"}).status_code == 400
    page = client.get("/pins", query_string={"area": "S01900001"}).get_data(as_text=True)
    assert "Placed at Auchenbrae North West - 01" in page


def test_forms_need_a_csrf_token(sample_db, tmp_path, spot):
    app = make_app(sample_db, tmp_path, WTF_CSRF_ENABLED=True)
    _, before = newest_pin(app)
    assert app.test_client().post("/pins", data=form(spot)).status_code == 400
    moderator = logged_in_with_csrf(app)
    assert moderator.post("/moderate/pins/1", data={"decision": "hide"}).status_code == 400
    assert newest_pin(app)[1] == before


def logged_in_with_csrf(app):
    """A moderator's client on an app that checks CSRF tokens."""
    import re

    from capmap.core.passwords import hash_password
    from tests.conftest import PASSWORD

    store = store_of(app)
    store.add_user("mo", hash_password(PASSWORD), ["moderator"])
    store.close()
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    answer = client.post("/login", data={"username": "mo", "password": PASSWORD,
                                         "csrf_token": token})
    assert answer.status_code == 302
    return client


# -- abuse -----------------------------------------------------------------------------------


def test_the_rate_limit_answers_429_with_a_friendly_page(sample_db, tmp_path, spot):
    app = make_app(sample_db, tmp_path, PIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    assert [submit(client, spot).status_code for _ in range(2)] == [201, 201]
    answer = submit(client, spot)
    assert answer.status_code == 429
    assert "Please wait a moment" in answer.get_data(as_text=True)
    assert client.get("/pins").status_code == 200  # reading is never limited
    other = app.test_client()
    answer = other.post("/pins", data=form(spot), environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert answer.status_code == 201  # per IP


def _redis_or_skip(host: str = "127.0.0.1", port: int = 6379) -> None:
    pytest.importorskip("redis", reason="the redis package is not installed (pip install capmap[redis])")
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        pytest.skip(f"Redis not reachable at {host}:{port}: {exc}")


def test_workers_sharing_redis_share_the_rate_limit(sample_db, tmp_path, spot):
    _redis_or_skip()
    config = {"PIN_RATE_LIMIT": "2 per minute", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379",
              "RATELIMIT_KEY_PREFIX": f"capmap-test-{uuid.uuid4().hex}",
              "RATELIMIT_SWALLOW_ERRORS": False}
    first, second = (make_app(sample_db, tmp_path, **config) for _ in range(2))  # two "workers"
    assert submit(first.test_client(), spot).status_code == 201
    assert submit(second.test_client(), spot).status_code == 201
    assert submit(first.test_client(), spot).status_code == 429
    assert submit(second.test_client(), spot).status_code == 429


# -- moderation ------------------------------------------------------------------------------


def test_only_moderators_see_the_queue(client, officer, admin):
    answer = client.get("/moderate")
    assert answer.status_code == 302 and "/login" in answer.location
    assert officer.get("/moderate").status_code == 403
    assert officer.post("/moderate/pins/1", data={"decision": "publish"}).status_code == 403
    assert client.post("/moderate/pins/1", data={"decision": "publish"}).status_code == 302
    assert admin.get("/moderate").status_code == 200


def test_the_queue_lists_pending_pins_with_contact_and_exact_point(app, client, moderator, spot):
    submit(client, spot)
    pin, _ = newest_pin(app)
    store = store_of(app)
    pending = store.pin_status_counts()["pending"]
    store.close()
    app.config["MODERATION_PAGE_SIZE"] = pending  # the new pin is the newest: on page 1
    page = moderator.get("/moderate").get_data(as_text=True)
    assert f"Pending ({pending})" in page and page.count('class="pin-card"') == pending
    assert f"Pin {pin['id']}</a>" in page and CONTACT in page
    assert f"{spot[1]:.6f}, {spot[0]:.6f}" in page and 'class="pin-minimap"' in page
    assert "Published (" in moderator.get("/moderate?status=published").get_data(as_text=True)
    assert moderator.get("/moderate?status=deleted").status_code == 404


def test_published_pins_appear_at_their_public_point_only(app, client, moderator, spot):
    submit(client, spot)
    pin, _ = newest_pin(app)
    pid = int(pin["id"])
    bbox = f"{spot[0] - 0.05},{spot[1] - 0.05},{spot[0] + 0.05},{spot[1] + 0.05}"
    data = client.get(f"/pins/data.json?bbox={bbox}").get_json()
    assert pid not in [p[0] for p in data["points"]]
    assert client.get(f"/pins/{pid}.json").status_code == 404
    publish(app, pid, moderator)
    body = client.get(f"/pins/data.json?bbox={bbox}").get_data(as_text=True)
    point = next(p for p in json.loads(body)["points"] if p[0] == pid)
    public = pin["public_geom"]
    assert point[1:3] == [round(public.x, 5), round(public.y, 5)]
    assert json.loads(body)["statuses"][point[4]] == "published"
    one = client.get(f"/pins/{pid}.json").get_json()
    assert (one["lon"], one["lat"]) == (round(public.x, 5), round(public.y, 5))
    exact = [round(spot[0], 5), round(spot[1], 5)]
    assert exact not in [p[1:3] for p in json.loads(body)["points"]] and one["lon"] != spot[0]
    assert "contact" not in one and set(one) == {"id", "category", "category_label", "description",
                                                 "created", "status", "lon", "lat"}
    for text in (body, json.dumps(one), client.get("/pins").get_data(as_text=True)):
        assert CONTACT not in text and f"{spot[1]:.6f}" not in text


def test_public_data_shows_published_and_resolved_pins_only(app, client):
    store = store_of(app)
    pins = store.pins()
    store.close()
    shown = set(pins.loc[pins["status"].isin(["published", "resolved"]), "id"])
    data = client.get("/pins/data.json").get_json()
    assert data["kind"] == "points" and {p[0] for p in data["points"]} == shown
    assert {data["statuses"][p[4]] for p in data["points"]} == {"published", "resolved"}
    hidden = int(pins.loc[pins["status"] == "hidden", "id"].iloc[0])
    assert client.get(f"/pins/{hidden}.json").status_code == 404
    assert client.get("/pins/data.json?bbox=1,2,3").status_code == 400


def test_hiding_needs_a_reason(app, moderator):
    store = store_of(app)
    pid = int(store.pins_with_status("pending", limit=1)["id"].iloc[0])
    answer = moderator.post(f"/moderate/pins/{pid}", data={"decision": "hide", "reason": " "})
    assert answer.status_code == 422 and "needs a reason" in answer.get_data(as_text=True)
    assert store.pin(pid)["status"].iloc[0] == "pending" and store.pin_decisions(pid) == []
    answer = moderator.post(f"/moderate/pins/{pid}", data={"decision": "hide", "reason": "abusive",
                                                           "back": "pin"})
    assert answer.status_code == 303 and answer.location.endswith(f"/moderate/pins/{pid}")
    assert store.pin(pid)["status"].iloc[0] == "hidden"
    assert moderator.post(f"/moderate/pins/{pid}", data={"decision": "delete"}).status_code == 422
    store.close()


def test_decisions_are_kept_with_who_and_when(app, moderator):
    store = store_of(app)
    pid = int(store.pins_with_status("pending", limit=1)["id"].iloc[0])
    start = datetime.now(UTC)
    publish(app, pid, moderator)
    moderator.post(f"/moderate/pins/{pid}", data={"decision": "resolve"})
    history = store.pin_decisions(pid)
    assert [(d.decision, d.moderator) for d in history] == [("publish", "morag"), ("resolve", "morag")]
    for d in history:
        at = d.at if d.at.tzinfo else d.at.replace(tzinfo=UTC)
        assert start - timedelta(seconds=5) <= at <= datetime.now(UTC) + timedelta(seconds=5)
    assert store.pin(pid)["status"].iloc[0] == "resolved"
    store.close()
    page = moderator.get(f"/moderate/pins/{pid}").get_data(as_text=True)
    assert page.count("<td>morag</td>") == 2 and "<td>resolve</td>" in page


def test_user_text_is_escaped_on_every_page(app, client, moderator, spot):
    submit(client, spot, description=XSS, contact=XSS)
    pid = int(newest_pin(app)[0]["id"])
    store = store_of(app)
    app.config["MODERATION_PAGE_SIZE"] = store.pin_status_counts()["pending"]
    store.close()
    for page in (moderator.get("/moderate").get_data(as_text=True),
                 moderator.get(f"/moderate/pins/{pid}").get_data(as_text=True)):
        assert XSS not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    publish(app, pid, moderator)
    assert client.get(f"/pins/{pid}.json").get_json()["description"] == XSS  # JSON carries text
    page = client.get("/pins").get_data(as_text=True)
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    script = (ROOT / "app" / "static" / "pins.js").read_text()
    assert "textContent" in script
    assert not any(bad in script for bad in ("innerHTML", "outerHTML", "insertAdjacentHTML",
                                             "document.write", "bindPopup(pin", ".html("))


# -- privacy modes and aggregation -----------------------------------------------------------


def test_grid_mode_snaps_public_points_to_cell_centres(sample_db, tmp_path, spot):
    app = make_app(sample_db, tmp_path, PIN_PUBLIC_MODE="grid", PIN_GRID_M=250)
    assert submit(app.test_client(), spot).status_code == 201
    pin, _ = newest_pin(app)
    public = pin["public_geom"]
    e, n = lonlat_to_bng(np.array([public.x]), np.array([public.y]))
    assert abs((e[0] - 125) / 250 - round((e[0] - 125) / 250)) * 250 < 0.5
    assert abs((n[0] - 125) / 250 - round((n[0] - 125) / 250)) * 250 < 0.5
    assert metres_apart(pin["geom"], public) <= 125 * 2 ** 0.5 + 0.5
    # Every point of one cell gets the same public point.
    ex, nx = lonlat_to_bng(np.array([spot[0]]), np.array([spot[1]]))
    cell = (np.floor(ex / 250) * 250, np.floor(nx / 250) * 250)
    from capmap.core.crs import bng_to_lonlat
    lon, lat = bng_to_lonlat(np.array([cell[0][0] + 1, cell[0][0] + 249]),
                             np.array([cell[1][0] + 1, cell[1][0] + 249]))
    snapped = P.snap_to_grid(shapely.points(lon, lat), 250)
    assert snapped[0].equals(snapped[1]) and snapped[0].equals(public)


def test_displaced_points_keep_the_minimum_distance():
    points = shapely.points(np.full(200, -3.8), np.full(200, 56.4))
    moved = P.public_points(points, PinRules(offset_min_m=75, offset_max_m=150),
                            b"a test key")
    distances = [metres_apart(a, b) for a, b in zip(points, moved, strict=True)]
    assert min(distances) >= 75 and max(distances) <= 150.6


def test_many_pins_are_aggregated_into_cells_on_the_server(sample_db, tmp_path):
    app = make_app(sample_db, tmp_path, PIN_MAX_POINTS=50)
    client = app.test_client()
    data = client.get("/pins/data.json").get_json()
    assert data["kind"] == "cells" and data["count"] > 50
    assert sum(c[2] for c in data["cells"]) == data["count"] and len(data["cells"]) < data["count"]
    width, height = data["cell"]
    assert width > 0 and height == width / 2
    small = client.get("/pins/data.json?bbox=-3.58,56.22,-3.56,56.24").get_json()
    assert small["kind"] == "points" and 0 < small["count"] <= 50


def test_pins_payload_cells_by_hand():
    frame = gpd.GeoDataFrame(
        {"id": [1, 2, 3], "category": ["other"] * 3, "description": ["a"] * 3,
         "created": [datetime(2026, 1, 1)] * 3, "status": ["published"] * 3},
        geometry=shapely.points([0.01, 0.02, 0.91], [0.01, 0.02, 0.01]), crs="EPSG:4326")
    pins = P.PublicPins(frame)
    cells = P.pins_payload(pins, (0.0, 0.0, 4.8, 2.4), max_points=2)
    assert cells["cell"] == [0.1, 0.05]
    assert sorted(cells["cells"]) == [[0.015, 0.015, 2], [0.91, 0.01, 1]]
    points = P.pins_payload(pins, (0.0, 0.0, 0.5, 0.5), max_points=2)
    assert points["kind"] == "points" and [p[0] for p in points["points"]] == [1, 2]


def test_read_pin_form_collects_every_problem():
    with pytest.raises(ValidationError) as caught:
        P.read_pin_form({"lon": "", "lat": "", "category": "", "description": ""})
    assert len(caught.value.details) == 3


def test_upgrade_from_version_2_adds_pin_decisions(store):
    rewind(store, 2)
    assert "pin_decisions" not in sa.inspect(store.engine).get_table_names()
    assert store.upgrade() == list(range(3, s.SCHEMA_VERSION + 1))
    store.check()
    assert store.pin_decisions() == []


def test_moderation_store_methods_on_each_backend(store):
    pins = gpd.GeoDataFrame(
        {"ref": ["P1", "P2"], "category": ["other", "transport"], "description": ["a", "b"],
         "created": [datetime(2026, 1, 2, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)],
         "status": ["pending", "pending"], "contact": ["me@example.org", None]},
        geometry=shapely.points([-3.8, -3.7], [56.4, 56.3]), crs="EPSG:4326").rename_geometry("geom")
    pins["public_geom"] = shapely.points([-3.801, -3.701], [56.401, 56.301])
    first, second = store.put_pins(pins)
    assert list(store.pins_with_status("pending")["id"]) == [second, first]  # oldest first
    assert store.public_pin_points(PUBLIC_PIN_STATUSES).empty
    store.decide_pin(first, "publish", "morag")
    with pytest.raises(ValidationError, match="needs a reason"):
        store.decide_pin(second, "hide", "morag", "  ")
    store.decide_pin(second, "hide", "morag", "names a neighbour")
    shown = store.public_pin_points(PUBLIC_PIN_STATUSES)
    assert list(shown["id"]) == [first] and "contact" not in shown and "geom" not in shown
    assert shown.geometry.iloc[0].equals(shapely.Point(-3.801, 56.401))
    assert store.pin_status_counts() == {"published": 1, "hidden": 1}
    assert [(d.pin_id, d.decision, d.reason) for d in store.pin_decisions()] == [
        (first, "publish", ""), (second, "hide", "names a neighbour")]
    with pytest.raises(P.NotFound):
        store.decide_pin(999, "publish", "morag")
    assert store.postcode_point("XS1 0AD") is None
