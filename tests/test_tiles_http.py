"""The tile routes: versioned URLs cached as immutable, a redirect from an old version, ETag and
304, gzip, TileJSON, errors in JSON; the layer payloads' validators; tiles shared through Redis."""

from __future__ import annotations

import gzip
import uuid

import pytest

from app.store import get_engine, get_store
from app.tiles import layer_tiles_url, plan_tiles_url
from capmap.services import pipeline
from capmap.services.layers import load_layer_defs
from capmap.spatial import mvt
from tests.conftest import BOUNDARIES
from tests.servers import redis_url

MVT = "application/vnd.mapbox-vector-tile"
# The z9 tile over the middle of the sample council (-3.68 lon, 56.28 lat).
Z, X, Y = 9, 250, 158


def _urls(app) -> tuple[str, str]:
    with app.test_request_context():
        return layer_tiles_url("sample_dz"), plan_tiles_url()


def _tile(template: str, z=Z, x=X, y=Y) -> str:
    return template.format(z=z, x=x, y=y)


def test_the_url_helpers_name_the_current_versions(app):
    with app.app_context():
        versions = get_store().versions()
    areas, plans = _urls(app)
    assert areas == f"/tiles/layers/sample_dz/v{versions['boundaries_version']}/{{z}}/{{x}}/{{y}}.mvt"
    assert plans == f"/tiles/plans/v{versions['plans_version']}/{{z}}/{{x}}/{{y}}.mvt"
    assert app.jinja_env.globals["layer_tiles_url"] is layer_tiles_url
    assert app.jinja_env.globals["plan_tiles_url"] is plan_tiles_url


def test_a_tile_is_immutable_with_a_strong_etag_and_answers_304(app, client):
    areas, _ = _urls(app)
    answer = client.get(_tile(areas))
    assert answer.status_code == 200 and answer.mimetype == MVT
    assert answer.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = answer.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    props, _ = mvt.decode_polygons(answer.data, "areas")
    assert len(props) > 100 and all(p["code"].startswith("S019") for p in props)
    again = client.get(_tile(areas), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    other = client.get(_tile(areas), headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == answer.data


def test_gzip_when_asked_compressed_once_with_its_own_tag(app, client):
    areas, _ = _urls(app)
    plain = client.get(_tile(areas))
    packed = client.get(_tile(areas), headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in plain.headers
    assert gzip.decompress(packed.data) == plain.data and len(packed.data) < len(plain.data) / 2
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + '-gz"'
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    # The same bytes again (the kept compression), and either tag revalidates.
    assert client.get(_tile(areas), headers={"Accept-Encoding": "gzip"}).data == packed.data
    for tag in (packed.headers["ETag"], plain.headers["ETag"]):
        assert client.get(_tile(areas), headers={"If-None-Match": tag,
                                                 "Accept-Encoding": "gzip"}).status_code == 304
    # A proxy that compressed the answer itself hands on a weak tag; it still revalidates.
    weak = "W/" + plain.headers["ETag"]
    assert client.get(_tile(areas), headers={"If-None-Match": weak}).status_code == 304
    refused = client.get(_tile(areas), headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers and refused.data == plain.data


def test_an_old_version_is_redirected_to_the_current_one(app, client):
    areas, plans = _urls(app)
    with app.app_context():
        versions = get_store().versions()
    old = _tile(areas).replace(f"/v{versions['boundaries_version']}/", "/v1/")
    answer = client.get(old)
    assert answer.status_code == 302 and answer.headers["Location"] == _tile(areas)
    assert answer.headers["Cache-Control"] == "no-cache"
    old_plans = _tile(plans).replace(f"/v{versions['plans_version']}/", "/v999/")
    moved = client.get(old_plans)
    assert moved.status_code == 302 and moved.headers["Location"] == _tile(plans)


def test_a_boundaries_import_moves_the_urls_on(app, client):
    before, _ = _urls(app)
    first = client.get(_tile(before)).data
    wards = next(la for la in load_layer_defs(BOUNDARIES) if la.id == "sample_wards")
    with app.app_context():
        pipeline.import_boundaries(get_store(), wards)
    after, _ = _urls(app)
    assert after != before
    answer = client.get(_tile(before))
    assert answer.status_code == 302 and answer.headers["Location"] == _tile(after)
    assert client.get(_tile(after)).data == first  # the zones themselves did not change


def test_plan_tiles(app, client):
    _, plans = _urls(app)
    answer = client.get(_tile(plans))
    assert answer.status_code == 200 and answer.mimetype == MVT
    props, _ = mvt.decode_polygons(answer.data, "plans")
    with app.app_context():
        ids = {int(i) for i in get_engine().plans().plans["id"]}
    assert props and {p["id"] for p in props} <= ids


def test_an_empty_tile_is_a_200_with_no_body(app, client):
    areas, _ = _urls(app)
    answer = client.get(_tile(areas, 12, 0, 0))
    assert answer.status_code == 200 and answer.data == b"" and answer.mimetype == MVT


@pytest.mark.parametrize(("path", "status", "says"), [
    ("/tiles/layers/sample_dz/v{v}/15/0/0.mvt", 400, "tile zoom 15 is out of range; expected 0 to 14"),
    ("/tiles/layers/sample_dz/v{v}/9/512/0.mvt", 400, "at zoom 9 x and y run from 0 to 511"),
    ("/tiles/plans/v1/2/0/4.mvt", 400, "tile 2/0/4 is outside the map"),
    ("/tiles/layers/nope/v{v}/9/250/159.mvt", 404, "layer 'nope' not found"),
    ("/tiles/layers/nope.json", 404, "layer 'nope' not found"),
])
def test_bad_tiles_are_refused_in_json(app, client, path, status, says):
    with app.app_context():
        version = get_store().versions()["boundaries_version"]
    answer = client.get(path.format(v=version))
    assert answer.status_code == status and answer.mimetype == "application/json"
    assert says in answer.get_json()["message"]


def test_tilejson_names_the_current_tiles(app, client):
    areas, plans = _urls(app)
    answer = client.get("/tiles/layers/sample_dz.json")
    doc = answer.get_json()
    assert answer.headers["Cache-Control"] == "no-cache" and answer.headers["ETag"]
    assert doc["tilejson"] == "3.0.0" and doc["tiles"] == [f"http://localhost{areas}"]
    assert (doc["minzoom"], doc["maxzoom"]) == (0, 14)
    west, south, east, north = doc["bounds"]
    assert -4.1 < west < east < -3.3 and 56.0 < south < north < 56.5
    assert doc["vector_layers"][0]["id"] == "areas"
    assert set(doc["vector_layers"][0]["fields"]) == {"code", "name", "simd_quintile"}
    again = client.get("/tiles/layers/sample_dz.json", headers={"If-None-Match": answer.headers["ETag"]})
    assert again.status_code == 304
    plan_doc = client.get("/tiles/plans.json").get_json()
    assert plan_doc["tiles"] == [f"http://localhost{plans}"]
    assert set(plan_doc["vector_layers"][0]["fields"]) == {"id", "title", "type", "owner", "status"}


def test_layer_payloads_carry_a_validator_and_five_minutes(client):
    route = "/api/layers/sample_dz/areas?zoom=10&format=compact"
    answer = client.get(route)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "public, max-age=300"
    assert client.get(route, headers={"If-None-Match": answer.headers["ETag"]}).status_code == 304
    packed = client.get(route, headers={"Accept-Encoding": "gzip"})
    assert gzip.decompress(packed.data) == answer.data


def test_tiles_are_shared_through_redis(sample_db, tmp_path):
    import shutil

    import redis

    from app import create_app

    db = tmp_path / "capmap.sqlite"
    shutil.copy(sample_db, db)
    with redis_url() as url:
        prefix = f"capmap-test-{uuid.uuid4().hex}"
        apps = [create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                            "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path / name),
                            "CACHE_REDIS_URL": url, "CACHE_KEY_PREFIX": prefix}) for name in "ab"]
        client = redis.Redis.from_url(url)
        try:
            areas, _ = _urls(apps[0])
            built = apps[0].test_client().get(_tile(areas)).data
            keys = client.keys(f"{prefix}:*")
            version = areas.split("/")[4]
            expected = ["areas", "sample_dz", version[1:], f"{Z}/{X}/{Y}"]
            assert [k.decode().rsplit(":", 4)[1:] for k in keys] == [expected]
            assert client.get(keys[0]) == built
            client.set(keys[0], b"\x1a\x00")  # what the second app sends comes from Redis
            assert apps[1].test_client().get(_tile(areas)).data == b"\x1a\x00"
        finally:
            client.delete(*client.keys(f"{prefix}:*") or [b"none"])
            for app in apps:
                if "capmap_store" in app.extensions:
                    app.extensions["capmap_store"].close()
