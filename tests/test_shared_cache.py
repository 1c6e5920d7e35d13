"""Map payloads shared through Redis: built by one app, served by another, moved on by an import;
the text is what jsonify would send; a lost Redis costs nothing but time."""

from __future__ import annotations

import json
import uuid

import pytest
from flask import jsonify

from capmap.core.serialise import json_text
from capmap.present.mapdata import layer_payload
from capmap.services import pipeline
from capmap.storage import open_store
from tests.conftest import SQUARES_Q
from tests.servers import redis_url

ROUTE = "/api/layers/squares/areas?zoom=12"


def _app(url: str, tmp_path, name: str, **config):
    from app import create_app

    return create_app({"TESTING": True, "DATABASE_URL": url, "TILES_URL": "", "SECRET_KEY": "t",
                       "INSTANCE_PATH": str(tmp_path / name), **config})


def _close(*apps) -> None:
    for app in apps:
        if "capmap_store" in app.extensions:
            app.extensions["capmap_store"].close()


def _names(answer: dict) -> set[str]:
    return {f["properties"]["name"] for f in answer["features"]}


def test_two_apps_share_payloads_and_a_boundaries_import_moves_them_on(loaded, squares_bng, tmp_path):
    import redis

    with redis_url() as url:
        prefix = f"capmap-test-{uuid.uuid4().hex}"
        config = {"CACHE_REDIS_URL": url, "CACHE_KEY_PREFIX": prefix}
        first, second = (_app(loaded.url, tmp_path, name, **config) for name in ("one", "two"))
        client = redis.Redis.from_url(url)
        try:
            built = first.test_client().get(ROUTE)
            assert built.status_code == 200 and _names(built.get_json()) == {f"Square {c}" for c in "ABCD"}
            keys = client.keys(f"{prefix}:*")
            version = loaded.versions()["boundaries_version"]
            assert len(keys) == 1 and keys[0].endswith(f":payload:squares:12:geojson:{version}".encode())
            assert client.get(keys[0]).decode() + "\n" == built.get_data(as_text=True)

            # What the second app sends comes from Redis: a marker put there is served.
            marked = json.loads(client.get(keys[0])) | {"marker": "built by the first app"}
            client.set(keys[0], json_text(marked))
            assert second.test_client().get(ROUTE).get_json()["marker"] == "built by the first app"

            # Re-importing the layer moves both apps to new keys at once: the new names, no marker.
            renamed = squares_bng.assign(name=[f"Renamed {c}" for c in squares_bng["code"]], q=[1, 1, 3, 5])
            renamed.to_file(tmp_path / "renamed.gpkg", layer="squares", driver="GPKG")
            pipeline.import_boundaries(loaded, SQUARES_Q, tmp_path / "renamed.gpkg")
            for app in (second, first):
                answer = app.test_client().get(ROUTE).get_json()
                assert "marker" not in answer and _names(answer) == {f"Renamed {c}" for c in "ABCD"}
            assert len(client.keys(f"{prefix}:*")) == 2  # the old version's entry waits for its TTL
        finally:
            stale = client.keys(f"{prefix}:*")
            if stale:
                client.delete(*stale)
            client.close()
            _close(first, second)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_payload_text_is_what_jsonify_sends(loaded, tmp_path):
    app = _app(loaded.url, tmp_path, "plain")
    try:
        client = app.test_client()
        for fmt in ("geojson", "compact"):
            answer = client.get(f"{ROUTE}&format={fmt}")
            with app.app_context():
                from app.store import get_engine

                expected = jsonify(layer_payload(get_engine(), "squares", 12, fmt)).get_data(as_text=True)
            assert answer.status_code == 200 and answer.get_data(as_text=True) == expected
    finally:
        _close(app)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_lost_redis_costs_nothing_but_time(loaded, tmp_path):
    pytest.importorskip("redis", reason="the redis package is not installed (pip install capmap[redis])")
    lost = _app(loaded.url, tmp_path, "lost", CACHE_REDIS_URL="redis://127.0.0.1:9")  # nothing there
    plain = _app(loaded.url, tmp_path, "plain")
    try:
        answer = lost.test_client().get(ROUTE)
        assert answer.status_code == 200
        assert answer.get_data() == plain.test_client().get(ROUTE).get_data()
    finally:
        _close(lost, plain)


def _recreate(url: str, tmp_path, squares_bng, names: list[str]) -> None:
    """The database dropped and made again at the same URL, with the squares under `names`:
    its version counters start again from 0, as the first one's did."""
    from tests.conftest import _wipe

    _wipe(url)
    store = open_store(url)
    try:
        store.init()
        path = tmp_path / f"again-{uuid.uuid4().hex[:6]}.gpkg"
        squares_bng.assign(name=names, q=[1, 1, 3, 5]).to_file(path, layer="squares", driver="GPKG")
        pipeline.import_boundaries(store, SQUARES_Q, path)
    finally:
        store.close()


def test_a_database_made_again_at_the_same_place_never_reads_the_old_ones_entries(
        loaded, squares_bng, tmp_path):
    # Before: keys named the database by its URL, so the remade database (versions back at 0,
    # then 1 after its import: the same as the first one's) read the first one's map.
    import redis

    url = loaded.url
    loaded.close()
    with redis_url() as server:
        prefix = f"capmap-test-{uuid.uuid4().hex}"
        config = {"CACHE_REDIS_URL": server, "CACHE_KEY_PREFIX": prefix}
        client = redis.Redis.from_url(server)
        try:
            before = _app(url, tmp_path, "before", **config)
            assert _names(before.test_client().get(ROUTE).get_json()) == {f"Square {c}" for c in "ABCD"}
            _close(before)
            _recreate(url, tmp_path, squares_bng, [f"New {c}" for c in "ABCD"])
            after = _app(url, tmp_path, "after", **config)
            answer = after.test_client().get(ROUTE).get_json()
            assert _names(answer) == {f"New {c}" for c in "ABCD"}
            keys = sorted(k.decode() for k in client.keys(f"{prefix}:*"))
            assert len(keys) == 2 and keys[0].split(":")[1] != keys[1].split(":")[1]
            _close(after)
        finally:
            stale = client.keys(f"{prefix}:*")
            if stale:
                client.delete(*stale)
            client.close()


def test_a_running_app_sees_its_database_made_again(loaded, squares_bng, tmp_path):
    # The same process throughout: the id is read with each key, so the app that cached the first
    # database's map neither serves it nor reads it back once the database is remade.
    import redis

    url = loaded.url
    loaded.close()
    with redis_url() as server:
        prefix = f"capmap-test-{uuid.uuid4().hex}"
        app = _app(url, tmp_path, "running", CACHE_REDIS_URL=server, CACHE_KEY_PREFIX=prefix,
                   VERSION_CHECK_MS=0)
        client = redis.Redis.from_url(server)
        try:
            with app.app_context():
                from app.store import get_shared_cache

                cache = get_shared_cache()
                old_name = cache.name("payload:squares:12:geojson:1")
                assert cache.text("payload:squares:12:geojson:1", lambda: "old map") == "old map"
                _recreate(url, tmp_path, squares_bng, [f"New {c}" for c in "ABCD"])
                assert cache.name("payload:squares:12:geojson:1") != old_name
                assert cache.text("payload:squares:12:geojson:1", lambda: "new map") == "new map"
        finally:
            stale = client.keys(f"{prefix}:*")
            if stale:
                client.delete(*stale)
            client.close()
            _close(app)
