"""Editing on the web: forms, roles and council scope, history page and JSON, accounts."""

from __future__ import annotations

import re

from capmap.core.passwords import hash_password
from capmap.storage import open_store
from tests.conftest import PASSWORD, logged_in

COUNCIL = "S12900001"  # the sample's one council: every sample plan names it


def _store(app):
    return open_store(app.config["DATABASE_URL"])


def _ids(app):
    store = _store(app)
    try:
        plan = store.plan_ids()["LOC-01"]
        action = int(store.plan_actions([plan])["id"].iloc[0])
    finally:
        store.close()
    return plan, action


def _scoped(app, username, councils, roles=("officer",)):
    store = _store(app)
    store.add_user(username, hash_password(PASSWORD), list(roles), councils)
    store.close()
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}
                       ).status_code == 302
    return client


def test_an_officer_of_the_council_edits_and_the_history_shows_it(app):
    plan, action = _ids(app)
    client = _scoped(app, "fiona", [COUNCIL])
    page = client.get(f"/actions/{action}/edit")
    assert page.status_code == 200 and 'name="percent_complete"' in page.get_data(as_text=True)
    answer = client.post(f"/actions/{action}/edit", data={"status": "stalled",
                         "percent_complete": "25", "progress_note": "Waiting for funding"})
    assert answer.status_code == 303
    shown = client.get(f"/plans/{plan}").get_data(as_text=True)
    assert "History of changes" in shown and "25% complete: Waiting for funding" in shown
    assert "fiona" in shown  # staff see who
    history = app.test_client().get(f"/plans/{plan}/history.json").get_json()
    # The sample carries each action's earlier history: the edit's rows are the newest.
    newest = history["changes"][0]["at"]
    edit = [c for c in history["changes"] if c["at"] == newest]
    fields = {c["field"]: c["new"] for c in edit}
    assert fields["status"] == "stalled" and fields["percent_complete"] == "25"
    assert all("by" not in c for c in history["changes"])  # the public does not see names
    period = app.test_client().get("/changes.json", query_string={"since": newest}).get_json()
    assert period["changes"] == edit
    assert app.test_client().get("/changes.json?since=soon").status_code == 400


def test_bad_values_answer_400_or_422_naming_the_field(app, officer):
    _, action = _ids(app)
    over = officer.post(f"/actions/{action}/edit", data={"percent_complete": "150"})
    assert over.status_code == 422
    assert "percent_complete: 150 is not between 0 and 100" in over.get_data(as_text=True)
    bad = officer.post(f"/actions/{action}/edit", data={"target_date": "next week"})
    assert bad.status_code == 400 and "target_date: &#39;next week&#39; is not a date" in \
        bad.get_data(as_text=True)


def test_an_officer_of_another_council_may_not_edit(app):
    plan, action = _ids(app)
    client = _scoped(app, "gregor", ["S12000049"])
    assert client.get(f"/plans/{plan}/edit").status_code == 403
    assert client.post(f"/actions/{action}/edit", data={"status": "completed"}).status_code == 403
    assert "Edit this plan" not in client.get(f"/plans/{plan}").get_data(as_text=True)


def test_roles_for_editing_and_removing(app, client, moderator, officer, planner):
    plan, action = _ids(app)
    assert client.get(f"/plans/{plan}/edit").status_code == 302  # to the login
    assert moderator.get(f"/plans/{plan}/edit").status_code == 403
    assert officer.post(f"/actions/{action}/remove", data={"confirm": "yes"}).status_code == 403
    assert planner.post(f"/actions/{action}/remove", data={}).status_code == 422
    assert planner.post(f"/actions/{action}/remove", data={"confirm": "yes"}).status_code == 303
    assert planner.get(f"/actions/{action}/edit").status_code == 404
    history = client.get(f"/plans/{plan}/history.json").get_json()["changes"]
    # The newest row is the removal (below it, the sample's earlier history of the plan).
    assert history[0]["field"] == "removed" and history[0]["record_id"] == action
    assert [c["field"] for c in history].count("removed") == 1
    assert planner.post(f"/plans/{plan}/remove", data={"confirm": "yes"}).status_code == 303
    assert client.get(f"/plans/{plan}").status_code == 404
    assert client.get(f"/plans/{plan}/history.json").status_code == 200  # kept after removal


def test_a_scoped_officer_sees_exact_figures_only_within_its_councils(app):
    own = _scoped(app, "hamish", [COUNCIL])
    other = _scoped(app, "isla", ["S12000049"])
    # The sample's areas all lie in COUNCIL: exact for hamish, the public view for isla.
    for client, status in ((own, 200), (other, 403)):
        answer = client.get("/export/responses.csv")
        assert answer.status_code == status
        answer.close()  # the export's file and folder
    exact = own.get("/dashboard/engagement.csv?table=areas").get_data(as_text=True)
    public = other.get("/dashboard/engagement.csv?table=areas").get_data(as_text=True)
    assert "<5" not in exact and "<5" in public


def test_admin_manages_accounts_and_a_reset_ends_sessions(app, admin):
    made = admin.post("/admin/users", data={"username": "jo", "role": ["officer"],
                                            "councils": COUNCIL})
    assert made.status_code == 200
    password = re.search(r'<code class="password">([^<]+)</code>', made.get_data(as_text=True))[1]
    jo = app.test_client()
    assert jo.post("/login", data={"username": "jo", "password": password}).status_code == 302
    assert jo.get("/dashboard/engagement").status_code == 200
    store = _store(app)
    assert store.user("jo").councils == {COUNCIL}
    store.close()
    assert admin.post("/admin/users/jo", data={"role": ["moderator"], "councils": "S1 2"}
                      ).status_code == 422  # a space in a council code
    assert admin.post("/admin/users/jo/password").status_code == 200
    assert jo.get("/dashboard/engagement").status_code == 302  # its session has ended
    assert admin.post("/admin/users/ada/active", data={"active": "no"}).status_code == 422
    assert admin.post("/admin/users", data={"username": "jo", "role": ["officer"]}
                      ).status_code == 422  # taken


def test_a_user_changes_their_own_password(app):
    client = logged_in(app, "kirsty", ["officer"])
    other = app.test_client()
    other.post("/login", data={"username": "kirsty", "password": PASSWORD})
    wrong = client.post("/account/password", data={"current": "nope", "new": "x" * 12,
                                                   "again": "x" * 12})
    assert wrong.status_code == 422
    short = client.post("/account/password", data={"current": PASSWORD, "new": "short",
                                                   "again": "short"})
    assert short.status_code == 422 and "at least 12" in short.get_data(as_text=True)
    done = client.post("/account/password", data={"current": PASSWORD, "new": "n" * 14,
                                                  "again": "n" * 14})
    assert done.status_code == 303
    assert client.get("/dashboard/engagement").status_code == 200  # this session lives on
    assert other.get("/dashboard/engagement").status_code == 302  # the other has ended
