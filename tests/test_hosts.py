"""Host headers: only trusted hosts are answered, so no client can plant its own host in the
absolute links of the OGC API, the OpenAPI document or the finder; PUBLIC_BASE_URL fixes the base
of those links whatever the Host."""

from __future__ import annotations

import shutil
import uuid

import pytest

from capmap.core.errors import ConfigError

EVIL = "evil.example"
LINKED = ("/ogc?f=json", "/api/openapi.json", "/ogc/collections?f=json")


@pytest.fixture
def make_app(sample_db, tmp_path):
    from app import create_app

    made = []

    def make(**config):
        db = tmp_path / f"capmap-{uuid.uuid4().hex[:6]}.sqlite"
        shutil.copy(sample_db, db)
        app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                          "SECRET_KEY": "test-secret", "INSTANCE_PATH": str(tmp_path / "instance"),
                          **config})
        made.append(app)
        return app

    yield make
    for app in made:
        if "capmap_store" in app.extensions:
            app.extensions["capmap_store"].close()


@pytest.mark.parametrize("path", [*LINKED, "/", "/health/live"])
def test_an_unknown_host_is_refused(make_app, path):
    # Before: 200, and the OGC and OpenAPI bodies linked to http://evil.example/...
    answer = make_app().test_client().get(path, headers={"Host": EVIL})
    assert answer.status_code == 400
    assert EVIL not in answer.get_data(as_text=True)
    assert "TRUSTED_HOSTS" in answer.get_data(as_text=True)


@pytest.mark.parametrize("host", [f"{EVIL}:80", "localhost.evil.example", "127.0.0.1.nip.io",
                                  "localhost@evil.example"])
def test_hosts_that_only_look_local_are_refused(make_app, host):
    assert make_app().test_client().get("/ogc?f=json", headers={"Host": host}).status_code == 400


def test_a_forged_forwarded_host_is_refused_behind_a_proxy(make_app):
    app = make_app(PROXY_FIX_X_HOST=1, TRUSTED_HOSTS=["maps.example.scot"])
    client = app.test_client()
    assert client.get("/ogc?f=json", headers={"X-Forwarded-Host": EVIL}).status_code == 400
    ok = client.get("/ogc?f=json", headers={"X-Forwarded-Host": "maps.example.scot"})
    assert ok.status_code == 200
    assert {link["href"].split("/ogc")[0] for link in ok.get_json()["links"]} == {
        "http://maps.example.scot"}


def test_the_local_names_are_answered_by_default(make_app):
    client = make_app().test_client()
    for host in ("localhost", "localhost:5000", "127.0.0.1:8000"):
        assert client.get("/health/live", headers={"Host": host}).status_code == 200


def test_the_public_base_url_makes_every_absolute_link(make_app):
    app = make_app(PUBLIC_BASE_URL="https://maps.example.scot/capmap")
    client = app.test_client()
    landing = client.get("/ogc?f=json").get_json()  # asked as localhost, a trusted name
    assert {link["href"].split("/ogc")[0] for link in landing["links"]} == {
        "https://maps.example.scot/capmap"}
    document = client.get("/api/openapi.json", headers={"Host": "maps.example.scot"}).get_json()
    assert [server["url"] for server in document["servers"]] == [
        "https://maps.example.scot/capmap"]
    assert client.get("/ogc?f=json", headers={"Host": EVIL}).status_code == 400


def test_trusted_hosts_from_the_environment(make_app, monkeypatch):
    monkeypatch.setenv("CAPMAP_TRUSTED_HOSTS", "maps.example.scot, .council.example")
    client = make_app().test_client()
    assert client.get("/health/live", headers={"Host": "maps.example.scot"}).status_code == 200
    assert client.get("/health/live", headers={"Host": "gis.council.example"}).status_code == 200
    assert client.get("/health/live", headers={"Host": "localhost"}).status_code == 400


@pytest.mark.parametrize("base", ["maps.example.scot", "ftp://maps.example.scot",
                                  "https://maps.example.scot/?next=x"])
def test_a_public_base_url_that_is_not_an_address_is_refused(make_app, base):
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        make_app(PUBLIC_BASE_URL=base)
