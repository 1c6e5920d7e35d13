"""Polygon queries are computed in the app's query child (app/costly.py, capmap.services.query_process):
one over its limit answers 503 with Retry-After and a message, the child is replaced, and the
worker answers other requests meanwhile."""

from __future__ import annotations

import json
import shutil
import threading

import numpy as np
import pytest
import shapely

from app import create_app
from app.costly import close_query_process, query_process
from capmap.services.query_process import QueryLimits
from tests.test_budgets import _inside


def round_holed(square: shapely.Polygon, holes: int = 499, quad_segs: int = 9) -> shapely.Polygon:
    """`square` with `holes` round holes of 4 x quad_segs + 1 vertices (499 x 37 + 5 = 18,468
    vertices, 500 rings: inside every budget), each crossing the areas under it. On the sample,
    in the worker, this took 0.15 s (on a fast machine) to 1.5 s; the small square 0.01 to
    0.07 s."""
    minx, miny, maxx, _ = square.bounds
    per_row = int(np.ceil(holes ** 0.5))
    step = (maxx - minx) / (per_row + 1)
    inner = [shapely.Point(minx + step * (k % per_row + 1), miny + step * (k // per_row + 1))
             .buffer(step / 3, quad_segs=quad_segs).exterior.coords[::-1] for k in range(holes)]
    return shapely.Polygon(square.exterior.coords, inner)


def _post(client, geometry):
    return client.post("/api/planscape", data=json.dumps(shapely.geometry.mapping(geometry)),
                       content_type="application/json")


@pytest.fixture
def tight_app(sample_db, tmp_path):
    """The sample app with a wall-clock limit of 0.02 s: the holed square (0.15 s or more) is
    over it whatever the machine."""
    db = tmp_path / "capmap.sqlite"
    shutil.copy(sample_db, db)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                      "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": str(tmp_path / "instance"),
                      "QUERY_RATE_LIMIT": "100000 per minute", "QUERY_TIMEOUT_S": 0.02})
    yield app
    close_query_process(app)


def test_a_costly_polygon_answers_503_and_the_next_query_is_answered(tight_app):
    client = tight_app.test_client()
    child = query_process(tight_app)
    # A small square first, with a generous limit (a loaded machine cannot make it miss), so
    # the child that will run over is known.
    child.limits = QueryLimits(wall_seconds=60.0)
    assert _post(client, _inside(tight_app, 0.1)).status_code == 200
    first = child._child.pid
    child.limits = QueryLimits(wall_seconds=0.02)
    answer = _post(client, round_holed(_inside(tight_app, 0.8)))
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    body = answer.get_json()
    assert body["error"] == "QueryTooCostly"
    assert body["message"].startswith("this area took too long to work out (over 0.02 s); "
                                      "draw a simpler area")
    assert "Traceback" not in answer.get_data(as_text=True)
    assert child._child is None  # the child that ran over was killed
    child.limits = QueryLimits(wall_seconds=60.0)
    small = _post(client, _inside(tight_app, 0.1))
    assert small.status_code == 200
    assert small.get_json()["plans"]
    assert child._child.pid != first  # answered by a new child


def test_a_costly_drawn_area_answers_503_as_a_page(tight_app):
    client = tight_app.test_client()
    costly = round_holed(_inside(tight_app, 0.8))
    page = client.post("/planscape/result", data={
        "geometry": json.dumps(shapely.geometry.mapping(costly))})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    text = page.get_data(as_text=True)
    assert "this area took too long to work out" in text and "Traceback" not in text


def test_the_worker_answers_while_a_query_runs(app):
    """A costly query holds a thread of the worker, not the worker: /health/live answers while
    it runs (the query's thread is still alive when the health answer comes)."""
    query_process(app).limits = QueryLimits(wall_seconds=60.0)
    costly = round_holed(_inside(app, 0.8))
    started, done = threading.Event(), {}

    def ask():
        with app.test_client() as other:
            started.set()
            done["status"] = _post(other, costly).status_code

    asker = threading.Thread(target=ask)
    asker.start()
    started.wait()
    live = app.test_client().get("/health/live")
    running = asker.is_alive()
    asker.join()
    assert live.status_code == 200
    assert running, "the costly query ended before /health/live answered"
    assert done["status"] == 200


@pytest.mark.parametrize("fraction", [0.1, 0.8])
def test_answers_through_the_child_equal_those_in_the_worker(app, fraction):
    client = app.test_client()
    geometry = _inside(app, fraction) if fraction < 0.5 else round_holed(_inside(app, fraction), 40)
    bounded = _post(client, geometry).get_json()
    app.config["QUERY_ISOLATION"] = False
    in_worker = _post(client, geometry).get_json()
    assert bounded["plans"] and bounded == in_worker
    # The downloads too: the overlaps as GeoJSON, byte for byte apart from the creation time.
    link = json.dumps(shapely.geometry.mapping(_inside(app, 0.1)))
    app.config["QUERY_ISOLATION"] = True
    one = client.get("/planscape/result", query_string={"geometry": link, "format": "geojson"})
    app.config["QUERY_ISOLATION"] = False
    two = client.get("/planscape/result", query_string={"geometry": link, "format": "geojson"})
    assert one.status_code == two.status_code == 200
    features = [json.loads(r.get_data())["features"] for r in (one, two)]
    assert features[0] and features[0] == features[1]


def star(app, points: int = 19_000) -> shapely.Polygon:
    """A star of `points` vertices over the sample's extent, alternating between its full radius
    and 5 % of it: one ring inside every budget whose 9,500 thin spikes each cross many areas,
    far more than 1 s of overlay on the sample."""
    minx, miny, maxx, maxy = _inside(app, 0.8).bounds
    cx, cy, r = (minx + maxx) / 2, (miny + maxy) / 2, (maxx - minx) / 2
    t = np.linspace(0, 2 * np.pi, points, endpoint=False)
    radius = np.where(np.arange(points) % 2 == 0, r, r * 0.05)
    return shapely.Polygon(np.column_stack([cx + radius * np.cos(t), cy + radius * np.sin(t) * 0.6]))


def test_a_query_over_its_cpu_time_is_stopped(app):
    """With a wall-clock limit of a minute, the CPU limit (1 s) is what stops the star."""
    child = query_process(app)
    child.limits = QueryLimits(wall_seconds=60.0, cpu_seconds=1)
    geometry = star(app)
    assert shapely.is_valid(geometry) and shapely.get_num_coordinates(geometry) == 19_001
    answer = _post(app.test_client(), geometry)
    assert answer.status_code == 503
    assert answer.get_json()["message"].startswith(
        "this area took too long to work out (over 1 s of computing)")
    child.limits = QueryLimits(wall_seconds=60.0)
    assert _post(app.test_client(), _inside(app, 0.1)).status_code == 200
