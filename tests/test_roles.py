"""Who may use each route: one table over every route the app registers.

ROUTE_ROLES names each endpoint's class: "public", or the roles that may use it (an admin holds
every role, so admins pass everywhere). A route added without a row here fails
test_the_table_covers_every_route, so the table cannot drift from the app. Anonymous people are
sent to the login page (a 302 whose `next` brings them back) on pages and get a 401 in JSON on
/api, /ogc and /export; logged-in people without the role get a 403 naming the roles needed.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from capmap.core.policy import JSON_PREFIXES
from capmap.storage import open_store
from capmap.storage.users import ROLES
from tests.conftest import logged_in

PUBLIC = "public"
STAFF = ("officer", "planner")      # the dashboards
MODERATOR = ("moderator",)
ADMIN = ("admin",)
REMOVERS = ("planner",)             # removing plans and actions
ANYONE_LOGGED_IN = tuple(ROLES)     # one's own password
RESTRICTED = 12 + 6 + 8 + 2 + 2 + 2    # (endpoint, method) pairs that need a role

ROUTE_ROLES: dict[str, str | tuple[str, ...]] = {
    "static": PUBLIC, "assets.vendor": PUBLIC,
    "auth.login": PUBLIC, "auth.logout": PUBLIC, "i18n.switch": PUBLIC,
    "public.home": PUBLIC, "public.health": PUBLIC, "public.live": PUBLIC,
    "finder.finder": PUBLIC, "finder.search": PUBLIC, "finder.choose": PUBLIC,
    "finder.result": PUBLIC, "finder.plan": PUBLIC, "finder.plan_actions": PUBLIC,
    "tiles.layer_tile": PUBLIC, "tiles.plan_tile": PUBLIC, "tiles.layer_tilejson": PUBLIC,
    "tiles.plans_tilejson": PUBLIC,
    "api.api_lookup": PUBLIC, "api.api_planscape": PUBLIC, "api.api_planscape_polygon": PUBLIC,
    "api.api_layer_areas": PUBLIC, "api.api_plan_coverage": PUBLIC,
    "api.api_engagement_coverage": PUBLIC, "api_docs.json_api_definition": PUBLIC,
    "ogc.landing": PUBLIC, "ogc.conformance": PUBLIC, "ogc.api_definition": PUBLIC,
    "ogc.collections": PUBLIC, "ogc.collection": PUBLIC, "ogc.items": PUBLIC, "ogc.item": PUBLIC,
    # Exports are open to all; what each file holds depends on the role (tests/test_exports.py).
    "exports.form": PUBLIC, "exports.from_form": PUBLIC, "exports.download": PUBLIC,
    "pins.page": PUBLIC, "pins.submit": PUBLIC, "pins.data": PUBLIC, "pins.pin_json": PUBLIC,
    # Public, but a page answers only its own pin's unguessable token (tests/test_follow.py).
    "follow.page": PUBLIC,
    "dashboard.engagement": STAFF, "dashboard.engagement_csv": STAFF,
    "dashboard.plans": STAFF, "dashboard.plans_csv": STAFF, "dashboard.plan_actions": STAFF,
    "dashboard.engagement_json": STAFF, "dashboard.plans_json": STAFF,
    "moderation.queue": MODERATOR, "moderation.pin_page": MODERATOR, "moderation.decide": MODERATOR,
    "imports.form": ADMIN, "imports.upload": ADMIN, "imports.decide": ADMIN,
    "imports.preview_geometry": ADMIN,
    # A plan's history is public (who made each change only for staff: tests/test_editing_web.py).
    "editing.plan_history": PUBLIC, "editing.changes": PUBLIC,
    "outcomes.plan_outcomes_json": PUBLIC, "outcomes.api_outcomes": PUBLIC,
    "outcomes.outcomes_csv": PUBLIC,
    # The register shows the public its registered and removed plans; staff of the council see
    # every stage (tests/test_lpp_web.py).
    "lpp.index": PUBLIC, "lpp.index_json": PUBLIC, "lpp.council": PUBLIC,
    "lpp.council_json": PUBLIC, "lpp.council_csv": PUBLIC, "lpp.council_geojson": PUBLIC,
    "lpp.council_gpkg": PUBLIC, "lpp.step": STAFF,
    # Before submission: the plans to have regard to and the notification list, of a Local
    # Place Plan or any area (tests/test_lpp_prepare_web.py); staff import the councillors.
    **{f"lpp_prepare.{of}_{what}{fmt}": PUBLIC for of in ("plan", "area")
       for what in ("regard", "notify") for fmt in ("", "_json", "_csv")},
    "councillors.form": STAFF,
    # Progress reports and feeds are public; who changed what only for staff
    # (tests/test_reports_web.py).
    "reports.plan_report": PUBLIC, "reports.plan_report_json": PUBLIC,
    "reports.plan_report_csv": PUBLIC, "reports.plan_feed": PUBLIC, "reports.feed": PUBLIC,
    "editing.edit_plan": STAFF, "editing.edit_action": STAFF,
    "editing.remove_plan": REMOVERS, "editing.remove_action": REMOVERS,
    "accounts.password": ANYONE_LOGGED_IN,
    "accounts.users": ADMIN, "accounts.create": ADMIN, "accounts.user": ADMIN,
    "accounts.active": ADMIN, "accounts.reset": ADMIN,
}

# Real values for URL parameters, so each request reaches the view and not a 404 from routing.
URL_VALUES = {"filename": None, "package": "leaflet", "plan_id": 1, "pin_id": 1,
              "action_id": 1, "username": "nobody", "council_code": "S12900001",
              "layer_id": "sample_dz", "collection_id": "plans", "feature_id": "1",
              "token": "0" * 32, "version": 1, "z": 9, "x": 250, "y": 158}
FILENAMES = {"static": "capmap.css", "assets.vendor": "leaflet.js",
             "exports.download": "plans.geojson"}


def requests_of(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every method of every registered route."""
    out = []
    for rule in app.url_map.iter_rules():
        missing = rule.arguments - set(URL_VALUES)
        assert not missing, f"{rule.rule}: give URL_VALUES a real value for {sorted(missing)}"
        values = {k: v for k, v in URL_VALUES.items() if k in rule.arguments}
        if "filename" in rule.arguments:
            values["filename"] = FILENAMES[rule.endpoint]
        path = rule.build(values, append_unknown=False)[1]
        out += [(rule.endpoint, m, path) for m in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return out


def _restricted(app) -> list[tuple[str, str, str]]:
    return [r for r in requests_of(app) if ROUTE_ROLES[r[0]] != PUBLIC]


def _call(client, method: str, path: str):
    """The answer, read whole and closed (exports stream from a file that closing removes)."""
    answer = client.open(path, method=method, follow_redirects=False)
    answer.get_data()
    answer.close()
    return answer


def test_the_table_covers_every_route(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(ROUTE_ROLES) == set(), "routes with no row in ROUTE_ROLES"
    assert set(ROUTE_ROLES) - endpoints == set(), "rows in ROUTE_ROLES for routes that are gone"


def test_the_table_matches_each_views_own_roles(app):
    for endpoint, allowed in ROUTE_ROLES.items():
        declared = getattr(app.view_functions[endpoint], "capmap_roles", None)
        if allowed == PUBLIC:
            assert declared is None, f"{endpoint} is guarded by {declared} but listed as public"
        else:
            assert set(declared) - {"admin"} == set(allowed) - {"admin"}, endpoint


def test_the_table_has_every_class(app):
    classes = set(ROUTE_ROLES.values())
    assert classes == {PUBLIC, STAFF, MODERATOR, ADMIN, REMOVERS, ANYONE_LOGGED_IN}
    # 5 dashboard routes (two pages, their CSVs, the plans map's actions), 3 of moderation,
    # 4 of imports (form, upload, decision, preview geometry); editing: 2 forms (GET and
    # POST each) and 2 removals; accounts: the password form (GET, POST), the list, creating,
    # one account (GET, POST), disabling and resetting; the register's step form (GET, POST);
    # the councillors import form (GET, POST).
    assert len(_restricted(app)) == RESTRICTED


def test_anonymous_people_are_sent_to_log_in(client, app):
    for endpoint, method, path in _restricted(app):
        answer = _call(client, method, path)
        assert not path.startswith(JSON_PREFIXES)
        assert answer.status_code == 302, (endpoint, method, answer.status_code)
        target = urlsplit(answer.headers["Location"])
        assert target.path == "/login", endpoint
        assert parse_qs(target.query)["next"] == [path + "?"], endpoint


def test_anonymous_json_requests_get_401_in_json_not_a_redirect(client, officer, moderator):
    # No whole route under the JSON prefixes is restricted; the one restricted export (responses
    # at their points) shows how they answer: 401 in JSON for anonymous people, 403 for a role
    # without it, the file for a role with it.
    path = "/export/responses.geojson"
    answer = _call(client, "GET", path)
    assert answer.status_code == 401 and answer.mimetype == "application/json"
    assert "officer, planner or admin" in answer.get_json()["message"]
    assert _call(moderator, "GET", path).status_code == 403
    assert _call(officer, "GET", path).status_code == 200


@pytest.fixture
def role_clients(app):
    """A logged-in client per role, and one holding admin."""
    return {role: logged_in(app, f"user-{role}", [role]) for role in ROLES}


def test_each_wrong_role_gets_403_and_the_right_one_gets_through(app, role_clients):
    checked = 0
    for endpoint, method, path in _restricted(app):
        allowed = set(ROUTE_ROLES[endpoint]) | {"admin"}
        for role, client in role_clients.items():
            answer = _call(client, method, path)
            if role in allowed:
                assert answer.status_code not in (401, 403), (endpoint, method, role)
                assert not answer.headers.get("Location", "").startswith("/login"), (endpoint, role)
            else:
                assert answer.status_code == 403, (endpoint, method, role, answer.status_code)
                text = answer.get_data(as_text=True)
                assert "this needs one of the roles: " + ", ".join(
                    app.view_functions[endpoint].capmap_roles) in text, (endpoint, role)
            checked += 1
    assert checked == RESTRICTED * len(ROLES)


def test_public_routes_let_anonymous_people_in(client, app):
    for endpoint, method, path in requests_of(app):
        if ROUTE_ROLES[endpoint] != PUBLIC:
            continue
        answer = _call(client, method, path)
        if (endpoint, method) == ("auth.login", "POST"):  # no username and password were given
            assert answer.status_code == 401
            assert "do not match an active account" in answer.get_data(as_text=True)
            continue
        assert answer.status_code not in (401, 403), (endpoint, method, answer.status_code)
        assert not answer.headers.get("Location", "").startswith("/login"), endpoint


def test_a_disabled_account_is_treated_as_anonymous(app):
    client = logged_in(app, "gone", ["moderator"])
    assert client.get("/moderate").status_code == 200
    store = open_store(app.config["DATABASE_URL"])
    store.set_user_active("gone", False)
    store.close()
    assert client.get("/moderate").status_code == 302
