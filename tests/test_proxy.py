"""Behind a reverse proxy: X-Forwarded-* headers count only when PROXY_FIX_* says how many proxies
set them. Off by default, so a client talking to capmap directly cannot forge its address."""

from __future__ import annotations

import shutil
import uuid

import pytest

from capmap.services import pins as P

PROXY = "10.0.0.5"  # the reverse proxy: every request reaches capmap from here


@pytest.fixture
def make_app(sample_db, tmp_path):
    """An app on a private copy of the sample data, allowing one pin a minute per address."""
    from app import create_app

    made = []

    def make(**config):
        db = tmp_path / f"capmap-{uuid.uuid4().hex[:6]}.sqlite"
        shutil.copy(sample_db, db)
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                          "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                          "INSTANCE_PATH": str(tmp_path / "instance"), "PIN_RATE_LIMIT": "1 per minute",
                          **config})
        made.append(app)
        return app

    yield make
    for app in made:
        if "capmap_store" in app.extensions:
            app.extensions["capmap_store"].close()


def _spot(app) -> dict:
    from app.store import get_engine

    with app.app_context():
        engine = get_engine()
        lon, lat, _ = P.neighbourhood_place(engine, engine.neighbourhoods().areas["code"].iloc[0])
    return {"lon": f"{lon:.6f}", "lat": f"{lat:.6f}", "category": "other",
            "description": "The bench by the bus stop is broken."}


def _post(app, forwarded_for: str) -> int:
    answer = app.test_client().post("/pins", data=_spot(app), environ_base={"REMOTE_ADDR": PROXY},
                                    headers={"X-Forwarded-For": forwarded_for})
    return answer.status_code


def test_forwarded_for_is_ignored_by_default(make_app):
    app = make_app()
    # Two residents behind the proxy, as far as the header says: one address to the limit.
    assert [_post(app, "192.0.2.1"), _post(app, "192.0.2.2")] == [201, 429]


def test_forwarded_for_is_the_rate_limit_key_when_enabled(make_app):
    app = make_app(PROXY_FIX_X_FOR=1)
    assert [_post(app, "192.0.2.1"), _post(app, "192.0.2.2")] == [201, 201]
    assert _post(app, "192.0.2.1") == 429
    # A client's own X-Forwarded-For entry comes before the one the proxy appends; with one proxy
    # trusted, only the proxy's entry counts, so a forged first entry does not dodge the limit.
    assert _post(app, "198.51.100.9, 192.0.2.2") == 429


def test_the_setting_comes_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("CAPMAP_PROXY_FIX_X_FOR", "1")
    app = make_app()
    assert app.config["PROXY_FIX_X_FOR"] == 1
    assert [_post(app, "192.0.2.1"), _post(app, "192.0.2.2")] == [201, 201]


def test_forwarded_proto_and_host_make_the_links_when_enabled(make_app):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "maps.example.scot"}
    trusted = {"TRUSTED_HOSTS": ["localhost", "maps.example.scot"]}
    plain = make_app(**trusted).test_client().get("/ogc?f=json", headers=headers).get_json()
    assert {link["href"].split("/ogc")[0] for link in plain["links"]} == {"http://localhost"}
    behind = make_app(PROXY_FIX_X_PROTO=1, PROXY_FIX_X_HOST=1, TRUSTED_HOSTS=["maps.example.scot"])
    links = behind.test_client().get("/ogc?f=json", headers=headers).get_json()["links"]
    assert {link["href"].split("/ogc")[0] for link in links} == {"https://maps.example.scot"}
