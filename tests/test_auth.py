"""Logging in and out, roles, CSRF and session safety."""

from __future__ import annotations

from app import create_app
from tests.conftest import PASSWORD, logged_in


def test_login_with_a_wrong_password_is_refused(app, client):
    logged_in(app, "olivia", ["officer"])
    answer = client.post("/login", data={"username": "olivia", "password": "nope"})
    assert answer.status_code == 401 and "do not match" in answer.get_data(as_text=True)
    answer = client.post("/login", data={"username": "nobody", "password": PASSWORD})
    assert answer.status_code == 401


def test_a_disabled_account_cannot_log_in(app, client):
    from capmap.storage import open_store

    logged_in(app, "olivia", ["officer"])
    store = open_store(app.config["DATABASE_URL"])
    store.set_user_active("olivia", False)
    store.close()
    answer = client.post("/login", data={"username": "olivia", "password": PASSWORD})
    assert answer.status_code == 401


def test_next_never_leaves_the_site(app, client):
    logged_in(app, "olivia", ["officer"])
    answer = client.post("/login?next=https://evil.example/", data={"username": "olivia",
                                                                    "password": PASSWORD})
    assert answer.headers["Location"] == "/"
    answer = client.post("/login?next=//evil.example/x", data={"username": "olivia",
                                                               "password": PASSWORD})
    assert answer.headers["Location"] == "/"
    # Browsers read "/\evil.example" as "//evil.example" and drop tabs and new lines.
    for planted in ("/\\evil.example/x", "/%5Cevil.example/x", "/%09/evil.example/x", "/%0A/evil.example"):
        answer = client.post(f"/login?next={planted}", data={"username": "olivia", "password": PASSWORD})
        assert answer.headers["Location"] == "/", planted
    answer = client.post("/login?next=/plans/1%3Fx%3D1", data={"username": "olivia", "password": PASSWORD})
    assert answer.headers["Location"] == "/plans/1?x=1"


def test_logout_needs_a_post(officer):
    assert officer.get("/logout").status_code == 405
    assert officer.post("/logout").status_code == 302


def test_forms_need_a_csrf_token(sample_db, tmp_path):
    import shutil

    db = tmp_path / "capmap.sqlite"
    shutil.copy(sample_db, db)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                      "SECRET_KEY": "s"})
    answer = app.test_client().post("/login", data={"username": "x", "password": "y"})
    assert answer.status_code == 400 and "CSRF" in answer.get_data(as_text=True)
    if "capmap_store" in app.extensions:
        app.extensions["capmap_store"].close()


def test_session_cookie_is_httponly_and_lax(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
