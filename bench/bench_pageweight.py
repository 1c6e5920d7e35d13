"""Page weight and first map paint of capmap's map pages, on the sample council and on the national
database (bench/national.py: the real data zones, councils, wards and HSCP localities, about 200
plans, 500 actions, 100,000 pins), in headless Debian Chromium, same run.

For each page, in a fresh browser context (an empty HTTP cache):
- page KB: the gzipped bytes of the page itself, its HTML and every script and stylesheet it
  loads (Leaflet, Leaflet.VectorGrid and capmap's own), each response gzipped at level 6 whether
  or not the server compressed it;
- requests: the geometry requests the map made (vector tiles and GeoJSON; their bytes are in
  bench/bench_tiles.py);
- paint ms: from navigation start until every map on the page has drawn its visible layers
  (map.js sets data-loaded when the tiles in view are in; median of RUNS after one warm-up);
- revisit: the same page opened again in the same context: the geometry requests that reached the
  server again (counted by a WSGI wrapper around the app) and how many of them were 304s; 0 means
  every tile came from the browser's cache.

The national home page is set against the issue's targets: at most 150 KB gzipped for the page
itself (the folium page it replaces was 3.4 MB gzipped, 14 MB raw), and a first paint within 1.5x
of the sample council's home page. Tile bytes against ST_AsMVT are in bench/bench_tiles.py.

    .venv/bin/python bench/bench_pageweight.py [--responses 10000]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import tempfile
from pathlib import Path

from common import chromium, quiet_werkzeug, serving
from national import build, realdata_present
from national_data import BuildParams

from capmap.core.passwords import hash_password
from capmap.services import pipeline
from capmap.storage import open_store

ROOT = Path(__file__).resolve().parents[1]
RUNS = 3
GZIP_LEVEL = 6
OFFICER, PASSWORD = "bench-officer", "bench password for the page weight runs"
PAGE_TYPES = ("document", "script", "stylesheet")
GEOMETRY = (".mvt", ".geojson", "/areas")
LOADED = "() => [...document.querySelectorAll('[data-map]')].every(h => h.dataset.loaded)"
TARGET_PAGE_KB = 150
TARGET_PAINT_RATIO = 1.5


def sample_store(folder: Path) -> str:
    url = f"sqlite:///{folder / 'sample.sqlite'}"
    store = open_store(url)
    store.init()
    pipeline.load_sample(store, ROOT / "sample_geodata", ROOT / "boundaries")
    store.close()
    return url


def pages(url: str) -> list[tuple[str, str, bool]]:
    """(label, path, needs an officer) of the map pages measured on a store."""
    store = open_store(url)
    try:
        hoods = next(la for la in store.layers() if la.is_current and la.kind == "neighbourhood")
        code = store.areas(hoods.id)["code"].iloc[0]
        plan = int(store.plans()["id"].iloc[0])
        store.add_user(OFFICER, hash_password(PASSWORD), ["officer"])
    finally:
        store.close()
    return [("home", "/", False), ("finder", "/planscape", False),
            ("result", f"/planscape/result?layer={hoods.id}&codes={code}", False),
            ("plan", f"/plans/{plan}", False), ("pins", "/pins", False),
            ("engagement", "/dashboard/engagement", True), ("plans dash", "/dashboard/plans", True)]


def _log_in(context, base: str) -> None:
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#username", OFFICER)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.close()


class GeometryCounter:
    """A WSGI wrapper counting the geometry requests that reach the app, and their 304s."""

    def __init__(self, app) -> None:
        self.app, self.seen, self.not_modified = app, 0, 0

    def __call__(self, environ, start_response):
        geometry = any(mark in environ.get("PATH_INFO", "") for mark in GEOMETRY)

        def start(status, headers, *rest):
            if geometry:
                self.seen += 1
                self.not_modified += status.startswith("304")
            return start_response(status, headers, *rest)
        return self.app(environ, start)


def visit(context, base: str, path: str, counter: GeometryCounter) -> dict:
    """One visit: bytes by kind, geometry requests reaching the server, 304s, paint time."""
    counter.seen = counter.not_modified = 0
    page = context.new_page()
    seen: list = []
    page.on("requestfinished", lambda request: seen.append(request))
    page.goto(base + path, wait_until="load", timeout=120_000)
    page.wait_for_function(LOADED, polling="raf", timeout=120_000)
    paint = page.evaluate("() => performance.now()")
    page.wait_for_load_state("networkidle")
    own = requests = 0
    for request in seen:
        response = request.response()
        if response is None:
            continue
        if request.resource_type in PAGE_TYPES:
            body = response.body() if response.status == 200 else b""
            own += len(gzip.compress(body, compresslevel=GZIP_LEVEL))
        elif any(mark in request.url for mark in GEOMETRY):
            requests += 1
    page.close()
    return {"page": own, "requests": requests, "paint": paint,
            "network": counter.seen, "not_modified": counter.not_modified}


def measure(browser, base: str, path: str, officer: bool, counter: GeometryCounter) -> dict:
    """Median of RUNS cold visits (after a warm-up), and one warm revisit."""
    runs, revisit = [], None
    for attempt in range(RUNS + 1):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        if officer:
            _log_in(context, base)
        cold = visit(context, base, path, counter)
        if attempt:
            runs.append(cold)
        if attempt == RUNS:
            revisit = visit(context, base, path, counter)
        context.close()
    out = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    out["again"], out["again_304"] = revisit["network"], revisit["not_modified"]
    return out


def report(label: str, rows: dict[str, dict]) -> None:
    print(f"\n{label}")
    print(f"  {'page':11} {'page KB gz':>10} {'requests':>8} {'paint ms':>9} "
          f"{'revisit req':>11} {'304s':>5}")
    for name, m in rows.items():
        print(f"  {name:11} {m['page'] / 1000:10,.1f} "
              f"{m['requests']:8.0f} {m['paint']:9.0f} {m['again']:11.0f} "
              f"{m['again_304']:5.0f}")


def run_store(browser, url: str, folder: Path) -> dict[str, dict]:
    from app import create_app

    app = create_app({"DATABASE_URL": url, "TILES_URL": "", "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(folder), "RATELIMIT_ENABLED": False})
    rows = {}
    counter = GeometryCounter(app)
    with serving(counter) as base:
        for name, path, officer in pages(url):
            rows[name] = measure(browser, base, path, officer, counter)
    app.extensions["capmap_store"].close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=10_000)
    args = parser.parse_args()
    if not realdata_present():
        return
    quiet_werkzeug()
    national = build("sqlite", args.responses, BuildParams())
    with tempfile.TemporaryDirectory(prefix="capmap-weight-") as tmp, chromium() as browser:
        folder = Path(tmp)
        # A copy of the national database: the bench adds a user to it.
        copy = folder / "national.sqlite"
        copy.write_bytes(Path(national.url.removeprefix("sqlite:///")).read_bytes())
        sample = run_store(browser, sample_store(folder), folder / "sample")
        report("(a) the fictional sample council (620 neighbourhoods, SQLite)", sample)
        scotland = run_store(browser, f"sqlite:///{copy}", folder / "national")
        report("(b) Scotland: 6,976 data zones, 355 wards, 32 councils, HSCP localities, "
               f"{args.responses:,} responses (SQLite)", scotland)
        home, base_home = scotland["home"], sample["home"]
        ratio = home["paint"] / base_home["paint"]
        print(f"\nnational home page itself: {home['page'] / 1000:.1f} KB gzipped (target "
              f"<= {TARGET_PAGE_KB} KB; the folium page was 3,400 KB): "
              f"{'met' if home['page'] <= TARGET_PAGE_KB * 1000 else 'missed'}")
        print(f"national home first paint / sample home first paint: x{ratio:.2f} (target "
              f"<= {TARGET_PAINT_RATIO}): {'met' if ratio <= TARGET_PAINT_RATIO else 'missed'}")
        moved = {name: m["again"] for name, m in scotland.items() if m["again"]}
        print("warm revisit, geometry requests reaching the server (304s, no body): "
              + ("none on any page" if not moved else f"{moved}"))


if __name__ == "__main__":
    main()
