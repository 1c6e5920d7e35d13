"""How long hostile planscape queries hold a worker, on the national data zones.

Each case is sent through the app (Flask's test client, as a gunicorn worker would run it) in a
child process with a wall-clock cap, so a case that would hold a worker for minutes is reported
as "over CAP s" instead of stalling the run. Prints the HTTP status, the seconds the request took
(wall clock, and the CPU time of its process: on a shared machine the first grows with the load,
the second much less) and the start of the answer's message. The worker is warmed by one small
polygon first, as a serving worker is (with QUERY_ISOLATION, that also starts and loads its query
child). --isolation off,on runs each case with polygons overlaid in the worker, then in the
query child (the default, held to QUERY_TIMEOUT_S): the seconds are those the worker was held.

    .venv/bin/python bench/bench_attacks.py [--cap 40] [--cases holes,parts,...] [--isolation on]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from national import build, realdata_present  # noqa: E402
from national_data import BuildParams  # noqa: E402

from capmap.core.budgets import MAX_PARTS, MAX_RINGS, MAX_VERTICES  # noqa: E402

GLASGOW = (-4.30, 55.83)  # lon, lat: the south-west corner of the attack areas


def holed_square(holes: int, side_deg: float = 0.08, hole_vertices: int = 4) -> shapely.Polygon:
    """A square with `holes` small holes (squares, or rounder with more vertices) on a grid
    inside it, none touching."""
    x0, y0 = GLASGOW
    per_row = int(holes ** 0.5) + 1
    cell = side_deg / (per_row + 1)
    inner = []
    for k in range(holes):
        cx, cy = x0 + cell * (k % per_row + 1), y0 + cell * (k // per_row + 1)
        hole = (shapely.box(cx, cy, cx + cell * 0.4, cy + cell * 0.4) if hole_vertices == 4 else
                shapely.Point(cx, cy).buffer(cell * 0.2, quad_segs=hole_vertices // 4))
        inner.append(hole.exterior.coords[::-1])
    return shapely.Polygon(shapely.box(x0, y0, x0 + side_deg, y0 + side_deg).exterior.coords, inner)


def many_parts(parts: int, side_deg: float = 0.3, part_vertices: int = 4) -> shapely.MultiPolygon:
    """`parts` small disjoint squares (or rounder shapes) over a square of `side_deg`."""
    x0, y0 = GLASGOW
    per_row = int(parts ** 0.5) + 1
    cell = side_deg / per_row
    corners = [(x0 + cell * (k % per_row), y0 + cell * (k // per_row)) for k in range(parts)]
    if part_vertices == 4:
        return shapely.MultiPolygon([shapely.box(x, y, x + cell / 2, y + cell / 2)
                                     for x, y in corners])
    return shapely.MultiPolygon([shapely.Point(x + cell / 2, y + cell / 2).buffer(
        cell / 3, quad_segs=part_vertices // 4) for x, y in corners])


def circle(vertices: int, radius_deg: float = 0.02) -> shapely.Polygon:
    """A circle of exactly `vertices` distinct vertices (GEOS caps a buffer's at 50,000)."""
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    return shapely.Polygon(np.column_stack([GLASGOW[0] + 0.05 + radius_deg * np.cos(angles),
                                            GLASGOW[1] + 0.03 + radius_deg * np.sin(angles)]))


def star(vertices: int, radius_deg: float) -> shapely.Polygon:
    """A star of `vertices` vertices alternating between `radius_deg` and 5 % of it: one ring
    whose thin spikes each cross many data zones."""
    angles = np.linspace(0, 2 * np.pi, vertices, endpoint=False)
    radius = np.where(np.arange(vertices) % 2 == 0, radius_deg, radius_deg * 0.05)
    return shapely.Polygon(np.column_stack([GLASGOW[0] + 0.5 + radius * np.cos(angles),
                                            GLASGOW[1] + 0.3 + radius * np.sin(angles) * 0.6]))


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_coordinates(depth: int) -> str:
    return '{"type": "Polygon", "coordinates": ' + "[" * depth + "0,0" + "]" * depth + "}"


def geojson(geometry) -> str:
    return json.dumps(shapely.geometry.mapping(geometry))


def _per(rings: int) -> int:
    """Vertices per ring (a multiple of 4, as buffers make them) that keeps `rings` rings and an
    outer square within the vertex budget."""
    return max(4, ((MAX_VERTICES - 5) // rings - 1) // 4 * 4)


def cases() -> dict:
    """name: (description, how to send it)."""
    holes = geojson(holed_square(3000))
    upload = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": json.loads(geojson(holed_square(3990)))}]})
    return {
        "holes": ("square, 3,000 holes (POST /api/planscape)", ("api", holes)),
        "parts": ("MultiPolygon, 5,000 parts (POST /api/planscape)", ("api", geojson(many_parts(5000)))),
        "circle": ("circle, 200,000 vertices (POST /api/planscape)", ("api", geojson(circle(200_000)))),
        "drawn-holes": ("square, 3,000 holes (finder geometry=)", ("drawn", holes)),
        "upload-holes": ("upload, 3,990 holes under 20,000 vertices (finder)", ("upload", upload)),
        "nested": ("100,000 nested arrays (POST /api/planscape)", ("api", nested(100_000))),
        "deep-coords": ("5,000-deep coordinates (finder geometry=)", ("drawn", deep_coordinates(5000))),
        "form-type": ("GeoJSON as a form post (POST /api/planscape)", ("form", holes)),
        # The worst the budgets accept: as many rings, parts or vertices as allowed, spread over
        # a large part of the Central Belt so each one meets many data zones and plans.
        "plain-square": ("square 0.6 deg, no holes, 5 vertices (the same area, accepted)",
                         ("api", geojson(holed_square(0, 0.6)))),
        "worst-rings": (f"square 0.6 deg, {MAX_RINGS - 1} holes, {MAX_VERTICES:,} vertices at most "
                        "(accepted)", ("api", geojson(holed_square(MAX_RINGS - 1, 0.6, _per(
                            MAX_RINGS - 1))))),
        "worst-parts": (f"{MAX_PARTS} parts over 1 deg, {MAX_VERTICES:,} vertices at most "
                        "(accepted)", ("api", geojson(many_parts(MAX_PARTS, 1.0, _per(MAX_PARTS))))),
        "worst-star": (f"star r 0.5 deg, {MAX_VERTICES - 1:,} vertices, thin spikes (accepted)",
                       ("api", geojson(star(MAX_VERTICES - 1, 0.5)))),
        "worst-vertices": (f"circle r 0.5 deg, {MAX_VERTICES - 1:,} vertices (accepted)",
                           ("api", geojson(circle(MAX_VERTICES - 1, 0.5)))),
    }


def _send(url: str, how: tuple, isolation: bool, out) -> None:
    from app import create_app

    app = create_app({"DATABASE_URL": url, "TILES_URL": "", "SECRET_KEY": "bench",
                      "WTF_CSRF_ENABLED": False, "QUERY_RATE_LIMIT": "1000 per minute",
                      "QUERY_ISOLATION": isolation})
    client = app.test_client()
    client.get("/api/lookup?lon=-4.25&lat=55.86")  # load the engine before timing
    # A worker that has answered one polygon holds every layer in EPSG:27700: time that worker.
    client.post("/api/planscape", content_type="application/json", data=geojson(
        shapely.box(GLASGOW[0], GLASGOW[1], GLASGOW[0] + 0.01, GLASGOW[1] + 0.01)))
    kind, body = how
    start, cpu = time.perf_counter(), time.process_time()
    if kind == "api":
        answer = client.post("/api/planscape", data=body, content_type="application/json")
    elif kind == "form":
        answer = client.post("/api/planscape", data=body,
                             content_type="application/x-www-form-urlencoded")
    elif kind == "drawn":
        answer = client.post("/planscape/result", data={"geometry": body})
    else:
        answer = client.post("/planscape/result", data={
            "file": (io.BytesIO(body.encode()), "holes.geojson")}, content_type="multipart/form-data")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    text = answer.get_data(as_text=True)
    try:
        message = json.loads(text).get("message", "")
    except ValueError:
        message = text[text.find("<p"):][:160] if answer.status_code >= 400 else ""
    out.put((answer.status_code, seconds, cpu, message[:160]))


def run_case(url: str, how: tuple, cap: float, isolation: bool) -> str:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    child = multiprocessing.Process(target=_send, args=(url, how, isolation, queue))
    child.start()
    # Wait for the answer, not for the child's exit: the reader's fork server it started as its
    # app was made can keep it from exiting. The app's start-up and engine load are not timed.
    try:
        status, seconds, cpu, message = queue.get(timeout=cap + 60)
    except Exception:  # noqa: BLE001 - queue.Empty: no answer in time
        status = None
    if child.is_alive():
        child.kill()
    child.join()
    if status is None:
        return f"over {cap:.0f} s (stopped), or the child died (exit {child.exitcode})"
    if seconds > cap:
        return f"{status} in {seconds:.2f} s, {cpu:.2f} s CPU (over the cap) {message}"
    return f"{status} in {seconds:.2f} s, {cpu:.2f} s CPU  {message}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=float, default=40.0)
    parser.add_argument("--cases", default=",".join(cases()))
    parser.add_argument("--postgis", help="a PostGIS database URL: measure there, not on SQLite")
    parser.add_argument("--isolation", default="on", help="off, on, or off,on: QUERY_ISOLATION")
    args = parser.parse_args()
    if not realdata_present():
        return
    backend = "postgis" if args.postgis else "sqlite"
    url = build(backend, 10_000, BuildParams(), postgis=args.postgis).url
    print(f"{backend}, national data zones, 100,000 pins, 10,000 responses")
    table = cases()
    for name in args.cases.split(","):
        described, how = table[name]
        for isolation in args.isolation.split(","):
            answer = run_case(url, how, args.cap, isolation == "on")
            print(f"{described:<58} isolation {isolation:<3} {answer}", flush=True)


if __name__ == "__main__":
    main()
