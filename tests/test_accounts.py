"""Accounts under attack: failed logins are throttled per account and per address (in memory,
or shared through Redis between apps), and a session cookie copied before a logout, a password
change or a disable never works again."""

from __future__ import annotations

import uuid

import pytest

from app.throttle import _message
from capmap.core.passwords import hash_password
from capmap.storage import open_store
from tests.conftest import PASSWORD
from tests.servers import redis_url

STAFF_PAGE = "/dashboard/engagement"


def _add(app, username: str, roles=("officer",)) -> None:
    store = open_store(app.config["DATABASE_URL"])
    try:
        store.add_user(username, hash_password(PASSWORD), list(roles))
    finally:
        store.close()


def _login(client, username: str, password: str, address: str = "192.0.2.10"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_sixty_wrong_passwords_meet_the_throttle(app, client):
    # Before: all 60 answered 401, and the right password still logged in after them.
    _add(app, "officer1")
    statuses = [_login(client, "officer1", f"guess {n}").status_code for n in range(60)]
    # 10 failures per account per 15 minutes (LOGIN_LIMIT_PER_ACCOUNT): the 11th is refused.
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    held = _login(client, "officer1", PASSWORD)  # the right password is not even checked now
    assert held.status_code == 429
    assert 1 <= int(held.headers["Retry-After"]) <= 15 * 60
    assert "Too many failed logins for this account" in held.get_data(as_text=True)


def test_spraying_many_accounts_from_one_address_meets_the_throttle(app, client):
    statuses = [_login(client, f"user{n}", "Winter2026!").status_code for n in range(40)]
    # 30 failures per address per 15 minutes, whatever the usernames.
    assert statuses[:30] == [401] * 30 and set(statuses[30:]) == {429}
    answer = _login(client, "user99", "Winter2026!")
    assert "Too many failed logins for your connection" in answer.get_data(as_text=True)
    assert _login(client, "user99", "Winter2026!", address="198.51.100.7").status_code == 401


def test_one_account_guessed_from_many_addresses_meets_the_throttle(app, client):
    _add(app, "planner1", ("planner",))
    statuses = [_login(client, "Planner1 ", f"guess {n}", address=f"203.0.113.{n}").status_code
                for n in range(12)]  # case and spaces folded: one account's budget
    assert statuses == [401] * 10 + [429] * 2


def test_a_success_forgets_the_accounts_failures_not_the_addresss(app, client):
    _add(app, "officer2")
    assert {_login(client, "officer2", "wrong").status_code for _ in range(9)} == {401}
    assert _login(client, "officer2", PASSWORD).status_code == 302
    client.post("/logout")
    # The account starts again from 0: 9 more failures stay under its 10...
    assert {_login(client, "officer2", "wrong").status_code for _ in range(9)} == {401}
    # ...but the address has 18 failures: 12 more reach its 30.
    statuses = [_login(client, f"other{n}", "wrong").status_code for n in range(13)]
    assert statuses == [401] * 12 + [429]


def test_failures_are_counted_across_apps_sharing_redis(sample_db, tmp_path):
    import shutil

    from app import create_app

    with redis_url() as url:
        prefix = f"capmap-test-{uuid.uuid4().hex}"
        db = tmp_path / "shared.sqlite"
        shutil.copy(sample_db, db)
        apps = [create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                            "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                            "INSTANCE_PATH": str(tmp_path / name), "RATELIMIT_STORAGE_URI": url,
                            "RATELIMIT_KEY_PREFIX": prefix, "RATELIMIT_SWALLOW_ERRORS": False})
                for name in ("one", "two")]
        try:
            _add(apps[0], "officer3")
            one, two = (a.test_client() for a in apps)
            assert {_login(one, "officer3", "wrong").status_code for _ in range(5)} == {401}
            assert {_login(two, "officer3", "wrong").status_code for _ in range(5)} == {401}
            assert _login(one, "officer3", PASSWORD).status_code == 429  # 10 between them
        finally:
            import redis

            client = redis.Redis.from_url(url)
            stale = client.keys(f"*{prefix}*")
            if stale:
                client.delete(*stale)
            client.close()
            for a in apps:
                if "capmap_store" in a.extensions:
                    a.extensions["capmap_store"].close()


def _copied_session(app, client):
    """A second client holding a copy of `client`'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _end_by(app, client, how: str) -> None:
    store = open_store(app.config["DATABASE_URL"])
    try:
        if how == "logout":
            assert client.post("/logout").status_code == 302
        elif how == "password change":
            store.set_password("officer4", hash_password("a brand new password"))
        else:  # disabled, then enabled again: the old session must not come back
            store.set_user_active("officer4", False)
            store.set_user_active("officer4", True)
    finally:
        store.close()


@pytest.mark.parametrize("how", ["logout", "password change", "disable and enable"])
def test_a_copied_session_cookie_ends_with_the_session(app, client, how):
    # Before: the copy still opened staff pages after the logout, the password change, and
    # the disable followed by an enable.
    _add(app, "officer4")
    assert _login(client, "officer4", PASSWORD).status_code == 302
    thief = _copied_session(app, client)
    assert thief.get(STAFF_PAGE).status_code == 200  # the copy works while the session lasts
    _end_by(app, client, how)
    answer = thief.get(STAFF_PAGE)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert client.get(STAFF_PAGE).status_code == 302  # and so does the original
    if how != "logout":  # the account logs in afresh (with its new password, if changed)
        password = "a brand new password" if how == "password change" else PASSWORD
        fresh = app.test_client()
        assert _login(fresh, "officer4", password).status_code == 302
        assert fresh.get(STAFF_PAGE).status_code == 200


@pytest.mark.parametrize(("lang", "kind", "wait", "said"), [
    ("en", "account", 1, "Too many failed logins for this account. Try again in 1 second."),
    ("en", "address", 45, "Too many failed logins for your connection. Try again in 45 seconds."),
    ("en", "account", 600, "Too many failed logins for this account. Try again in 10 minutes."),
    ("gd", "account", 2, "Dh’fhàillig cus oidhirpean clàraidh a-steach airson a’ chunntais seo. "
                         "Feuch a-rithist an ceann 2 dhiog."),
    ("gd", "address", 900, "Dh’fhàillig cus oidhirpean clàraidh a-steach airson a’ cheangail "
                           "agad. Feuch a-rithist an ceann 15 mionaidean."),
    ("gd", "address", 1201, "Dh’fhàillig cus oidhirpean clàraidh a-steach airson a’ cheangail "
                            "agad. Feuch a-rithist an ceann 21 mionaid."),
])
def test_the_throttle_says_how_long_in_the_readers_language(app, lang, kind, wait, said):
    with app.test_request_context(f"/login?lang={lang}"):
        assert _message(kind, wait) == said
