"""Anonymous planscape queries are measured before any work: body bytes, JSON depth, vertices,
rings and parts; the JSON POST takes JSON only; the expensive routes are rate limited."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pytest
import shapely

from app import create_app
from app.store import get_engine
from capmap.core.budgets import (
    MAX_JSON_DEPTH,
    MAX_PARTS,
    MAX_QUERY_BYTES,
    MAX_RINGS,
    MAX_VERTICES,
    json_depth,
)
from tests.test_hostile_uploads import post_file


def _bounds(app) -> tuple[float, float, float, float]:
    with app.app_context():
        return tuple(get_engine().neighbourhoods().areas.total_bounds)


def _inside(app, fraction: float = 0.2) -> shapely.Polygon:
    """A square in the middle of the sample neighbourhoods, `fraction` of their extent wide."""
    minx, miny, maxx, maxy = _bounds(app)
    cx, cy, half = (minx + maxx) / 2, (miny + maxy) / 2, (maxx - minx) * fraction / 2
    return shapely.box(cx - half, cy - half, cx + half, cy + half)


def holed(square: shapely.Polygon, holes: int) -> shapely.Polygon:
    """`square` with `holes` tiny square holes on a grid, none touching each other or the edge."""
    minx, miny, maxx, maxy = square.bounds
    per_row = int(np.ceil(holes ** 0.5))
    step = (maxx - minx) / (per_row + 1)
    inner = []
    for k in range(holes):
        x, y = minx + step * (k % per_row + 1), miny + step * (k // per_row + 1)
        inner.append(shapely.box(x, y, x + step / 4, y + step / 4).exterior.coords[::-1])
    return shapely.Polygon(square.exterior.coords, inner)


def parts(square: shapely.Polygon, count: int) -> shapely.MultiPolygon:
    minx, miny, maxx, maxy = square.bounds
    per_row = int(np.ceil(count ** 0.5))
    step = (maxx - minx) / per_row
    return shapely.MultiPolygon([
        shapely.box(minx + step * (k % per_row), miny + step * (k // per_row),
                    minx + step * (k % per_row + 0.5), miny + step * (k // per_row + 0.5))
        for k in range(count)])


def _post(client, geometry, content_type="application/json"):
    body = geometry if isinstance(geometry, str) else json.dumps(shapely.geometry.mapping(geometry))
    return client.post("/api/planscape", data=body, content_type=content_type)


def test_json_depth_counts_brackets_outside_strings_only():
    assert json_depth(b'{"type": "Polygon", "coordinates": [[[0, 0]]]}') == 4
    assert json_depth(b'{"a": "[[[[[[[[[[", "b": "\\"[[["}') == 1  # brackets inside strings
    assert json_depth(b"[" * 100_000 + b"]" * 100_000) == 100_000
    assert json_depth(b"") == 0


def test_polygons_over_a_budget_are_refused_before_any_overlay(app, client):
    square = _inside(app)
    # 1 outer ring + 500 holes = 501 rings, one over MAX_RINGS (500).
    answer = _post(client, holed(square, MAX_RINGS))
    assert answer.status_code == 422
    assert answer.get_json()["message"] == (
        f"the polygon has {MAX_RINGS + 1:,} rings; at most {MAX_RINGS:,} are accepted")
    answer = _post(client, parts(square, MAX_PARTS + 1))
    assert answer.status_code == 422
    assert answer.get_json()["message"] == (
        f"the polygon has {MAX_PARTS + 1:,} parts; at most {MAX_PARTS:,} are accepted")
    # A circle of 4 x 5,001 segments has 20,005 vertices (the first repeated to close it).
    circle = square.centroid.buffer(0.001, quad_segs=5_001)
    assert shapely.get_num_coordinates(circle) == 20_005
    answer = _post(client, circle)
    assert answer.status_code == 422
    assert answer.get_json()["message"] == (
        f"the polygon has 20,005 vertices; at most {MAX_VERTICES:,} are accepted")


def test_a_polygon_at_every_budget_is_answered(app, client):
    square = _inside(app)
    # 500 rings: the outer one and 499 holes; 400 parts; each within 20,000 vertices.
    for geometry in (holed(square, MAX_RINGS - 1), parts(square, MAX_PARTS)):
        answer = _post(client, geometry)
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["query"]["area_km2"] > 0


def test_the_finder_names_the_drawn_area_and_the_uploaded_file(app, client):
    square = _inside(app)
    text = json.dumps(shapely.geometry.mapping(holed(square, 3000)))
    for answer in (client.post("/planscape/result", data={"geometry": text}),
                   client.get("/planscape/result", query_string={"geometry": text})):
        assert answer.status_code == 422
        assert "has 3,001 rings; at most 500 are accepted" in answer.get_data(as_text=True)
    # 3,990 holes of 5 vertices and the outer ring: 19,955 vertices, under the vertex budget.
    upload = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {},
        "geometry": shapely.geometry.mapping(holed(square, 3990))}]})
    answer = post_file(client, "/planscape/result", upload.encode(), "holes.geojson")
    assert answer.status_code == 422
    assert answer.get_json()["message"] == (
        "the boundary in holes.geojson has 3,991 rings; at most 500 are accepted")


@pytest.mark.parametrize("body, where", [
    ("[" * 100_000 + "]" * 100_000, "nested 100,000 levels"),
    ('{"type": "Polygon", "coordinates": ' + "[" * 5_000 + "0, 0" + "]" * 5_000 + "}",
     "nested 5,001 levels"),
    ('{"type": "Feature", "geometry": ' + '{"a": ' * 3_000 + "1" + "}" * 3_001,
     "nested 3,001 levels"),
])
def test_deep_json_is_a_400_with_a_message(client, body, where):
    answer = client.post("/api/planscape", data=body, content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["message"].startswith(f"the body is JSON {where} deep; at most "
                                                   f"{MAX_JSON_DEPTH} are accepted")
    for found in (client.get("/planscape/result", query_string={"geometry": body}),
                  client.post("/planscape/result", data={"geometry": body})):
        assert found.status_code == 400
        assert "JSON " + where in found.get_data(as_text=True)


def test_an_oversized_query_body_is_refused_unread(client):
    body = '{"type": "Polygon", "coordinates": [[' + "[0, 0]," * (MAX_QUERY_BYTES // 7) + "[0, 0]]]}"
    answer = client.post("/api/planscape", data=body, content_type="application/json")
    assert answer.status_code == 413
    assert answer.get_json()["message"] == (f"the body is {len(body):,} bytes; at most "
                                            f"{MAX_QUERY_BYTES:,} are accepted")


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", None])
def test_the_json_post_takes_json_only(app, client, content_type):
    body = json.dumps(shapely.geometry.mapping(_inside(app)))
    answer = client.post("/api/planscape", data=body, content_type=content_type)
    assert answer.status_code == 415
    message = answer.get_json()["message"]
    assert message.startswith("send the query as JSON with Content-Type: application/json; got")
    assert (content_type or "no Content-Type").split(";")[0] in message


def test_geojson_media_type_is_json(app, client):
    answer = _post(client, _inside(app), "application/geo+json")
    assert answer.status_code == 200


def _limited_app(app, **config):
    limited = create_app({**{k: app.config[k] for k in ("DATABASE_URL", "TILES_URL", "SECRET_KEY")},
                          "TESTING": True, "QUERY_RATE_LIMIT": "3 per minute", **config})
    return limited


def test_expensive_routes_share_a_rate_limit_per_address(app):
    client = _limited_app(app).test_client()
    square = json.dumps(shapely.geometry.mapping(_inside(app)))
    # Three answers, from three different expensive routes, use up the limit of 3 a minute.
    assert client.post("/api/planscape", data=square, content_type="application/json").status_code == 200
    assert client.get("/planscape/result", query_string={"geometry": square}).status_code == 200
    exported = client.get("/export/plans.geojson")
    exported.close()  # the file is streamed from disk: closing removes it
    assert exported.status_code == 200
    answer = client.get("/planscape/result", query_string={"geometry": square, "format": "csv"})
    assert answer.status_code == 429
    assert 1 <= int(answer.headers["Retry-After"]) <= 60
    refused = client.post("/api/planscape", data=square, content_type="application/json")
    assert refused.status_code == 429 and refused.get_json()["message"].startswith(
        "too many planscape queries or exports from your address (at most 3 per 1 minute)")
    page = client.get("/planscape/result", query_string={"geometry": square, "lang": "gd"})
    assert page.status_code == 429 and "cus cheistean no às-phortaidhean bhon t-seòladh agad" \
        in page.get_data(as_text=True)
    # Another address has its own count; cheap routes are not counted.
    other = client.post("/api/planscape", data=square, content_type="application/json",
                        environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200
    assert client.get("/api/lookup?lon=-3&lat=56").status_code != 429


def test_the_rate_limit_is_shared_through_the_cache_redis(app):
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379", socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at 127.0.0.1:6379: {exc}")
    # Two apps are two workers; a fresh key prefix keeps earlier runs' counts out.
    shared = {"CACHE_REDIS_URL": "redis://127.0.0.1:6379",
              "RATELIMIT_KEY_PREFIX": f"capmap-test-{uuid.uuid4().hex}"}
    first, second = (_limited_app(app, **shared).test_client() for _ in range(2))
    square = json.dumps(shapely.geometry.mapping(_inside(app)))
    statuses = [c.post("/api/planscape", data=square, content_type="application/json").status_code
                for c in (first, second, first, second)]
    assert statuses == [200, 200, 200, 429]
