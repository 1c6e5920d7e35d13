"""Page weight and load time of capmap's planscape result page against a plain folium page.

For (a) the fictional sample council (the result for all 620 of its neighbourhood codes) and (b) a
Glasgow-sized area: Glasgow City's 746 full-resolution 2011 data zones from
../shared/realdata/datazones_2011_glasgow_fullres.geojson, imported into a temporary SQLite store as
a neighbourhood layer, with four synthetic plans made of those data zones (a city-wide LOIP and
three locality plans, the west, middle and east thirds by centroid longitude; Glasgow's real
locality plan boundaries are not published as data), asked about all 746 codes.

The peer is what a first folium map of the same answer would be: folium.Map with folium.GeoJson of
the area asked about and of every plan covering it, unsimplified, with all their columns. A plain
folium page loads Leaflet, jQuery, Bootstrap, Font Awesome and Leaflet.awesome-markers from CDNs,
which cannot be reached here: Leaflet and jQuery are rewritten to capmap's locally served copies
(/vendor/...), and the other three, which a GeoJson map does not use, are dropped. So both pages
load the same Leaflet from the same server and the comparison is about the data; a real folium
page would be heavier still by those CDN files.

Page weight is the sum over the document and every resource it loads (fresh browser context, no
cache) of each response body gzipped at level 6, measured from Playwright's response events in
headless Debian Chromium; time is the navigation timing's loadEventEnd (the load event), median
of RUNS, after one warm-up. capmap's times include building the answer on the server (shown as
time to first byte); the peer is a static file.

    .venv/bin/python bench/bench_pageweight.py
"""

from __future__ import annotations

import gzip
import re
import statistics
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from common import chromium, quiet_werkzeug, realdata, serving
from werkzeug.middleware.shared_data import SharedDataMiddleware

from app.store import get_engine, get_store
from capmap import pipeline
from capmap.io.prepare import PlanFields
from capmap.layers import make_layer_def
from capmap.planscape import codes_query, planscape
from capmap.storage import open_store

ROOT = Path(__file__).resolve().parents[1]
RUNS = 5
GZIP_LEVEL = 6
# folium's CDN assets: the ones with a capmap copy are pointed at it, the others left out.
LOCAL_COPIES = {"leaflet.js": "/vendor/leaflet/leaflet.js", "leaflet.css": "/vendor/leaflet/leaflet.css",
                "jquery": "/vendor/jquery/jquery.min.js"}
# The map's set-up code and data: the page's inline scripts (folium writes the layers into them).
INLINE_SCRIPTS = "() => [...document.scripts].filter(s => !s.src).map(s => s.textContent).join('\\n')"
NAVIGATION = """() => { const n = performance.getEntriesByType('navigation')[0];
  return {ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd}; }"""


def sample_store(folder: Path) -> tuple[str, str]:
    """The sample data in a SQLite store; its URL and neighbourhood layer id."""
    url = f"sqlite:///{folder / 'sample.sqlite'}"
    store = open_store(url)
    store.init()
    pipeline.load_sample(store, ROOT / "sample_geodata", ROOT / "boundaries")
    store.close()
    return url, "sample_dz"


def glasgow_store(folder: Path, source: Path) -> tuple[str, str]:
    """Glasgow's data zones as a neighbourhood layer and four synthetic plans made of them."""
    url = f"sqlite:///{folder / 'glasgow.sqlite'}"
    store = open_store(url)
    store.init()
    layer = make_layer_def(id="glasgow", kind="neighbourhood", code_field="code", name_field="name",
                           population_field="population")
    report = pipeline.import_boundaries(store, layer, source)
    print(f"imported {report.stored} Glasgow data zones in {report.seconds:.1f} s")
    zones = store.areas("glasgow")
    lon = shapely.get_x(shapely.centroid(zones.geometry.values))
    thirds = np.digitize(lon, np.quantile(lon, [1 / 3, 2 / 3]))
    rows = [{"ref": "GLA-LOIP", "type": "loip", "title": "Glasgow Community Plan (synthetic)",
             "codes": zones["code"]}]
    rows += [{"ref": f"GLA-LOC-{i + 1}", "type": "locality_plan",
              "title": f"Glasgow {side} locality plan (synthetic)", "codes": zones["code"][thirds == i]}
             for i, side in enumerate(("West", "Middle", "East"))]
    plans = pd.DataFrame({"ref": [r["ref"] for r in rows], "type": [r["type"] for r in rows],
                          "title": [r["title"] for r in rows], "owner": "Glasgow CPP",
                          "council_code": "S12000049", "layer": "glasgow",
                          "area_codes": [";".join(r["codes"]) for r in rows]})
    path = folder / "glasgow_plans.csv"
    plans.to_csv(path, index=False)
    pipeline.import_plans(store, path, PlanFields())
    store.close()
    return url, "glasgow"


def peer_page(app, layer: str, folder: Path, name: str) -> str:
    """Write the plain folium page of the same answer into `folder`; its file name."""
    with app.app_context():
        engine, store = get_engine(), get_store()
        codes = list(engine.layer(layer).areas["code"])
        query = codes_query(engine, layer, codes)
        answer = planscape(engine, store, query)
        plans = engine.plans().plans
    chosen = plans[plans["id"].isin([p["id"] for p in answer["plans"]])]
    columns = [c for c in chosen.columns if c != chosen.geometry.name]
    chosen = chosen.assign(**{c: chosen[c].map(lambda v: None if v is None else str(v)) for c in columns})
    minx, miny, maxx, maxy = query.geometry.bounds
    fmap = folium.Map(tiles=None)
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    area = gpd.GeoDataFrame({"name": ["Your area"]}, geometry=[query.geometry], crs="EPSG:4326")
    folium.GeoJson(area, name="Your area").add_to(fmap)
    for i in range(len(chosen)):
        folium.GeoJson(chosen.iloc[[i]], name=chosen["title"].iloc[i]).add_to(fmap)
    folium.LayerControl().add_to(fmap)
    fmap.default_js = [(k, next((v for key, v in LOCAL_COPIES.items() if key in url), None))
                       for k, url in fmap.default_js]
    fmap.default_css = [(k, next((v for key, v in LOCAL_COPIES.items() if key in url), None))
                        for k, url in fmap.default_css]
    fmap.default_js = [(k, v) for k, v in fmap.default_js if v]
    fmap.default_css = [(k, v) for k, v in fmap.default_css if v]
    html = fmap.get_root().render()
    left = re.findall(r"""(?:src|href)=["']?(https?://[^"' >]+)""", html)
    assert not left, f"CDN URLs left in the peer page: {left}"
    file = f"{name}.html"
    (folder / file).write_text(html, encoding="utf-8")
    return file


def capmap_url(app, layer: str) -> str:
    """The result page for every code of the layer."""
    with app.app_context():
        codes = ",".join(get_engine().layer(layer).areas["code"])
    return "/planscape/result?" + urlencode({"layer": layer, "codes": codes})


def measure(browser, base: str, path: str) -> dict:
    """Gzipped bytes, requests and navigation times (ms, median of RUNS) of one page."""
    runs = []
    for attempt in range(RUNS + 1):
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                      else route.abort())
        page = context.new_page()
        responses: list = []
        page.on("response", lambda response, seen=responses: seen.append(response))
        page.goto(path, wait_until="load", timeout=120_000)
        page.wait_for_load_state("networkidle")
        times = page.evaluate(NAVIGATION)
        inline = page.evaluate(INLINE_SCRIPTS).encode("utf-8")
        raw = packed = document = 0
        responses = [r for r in responses if not r.url.endswith("/favicon.ico")]  # none; not asked for
        for response in responses:
            body = response.body() if 200 <= response.status < 300 else b""
            raw += len(body)
            packed += len(gzip.compress(body, compresslevel=GZIP_LEVEL))
            if response.request.resource_type == "document":
                document += len(gzip.compress(body, compresslevel=GZIP_LEVEL))
        context.close()
        if attempt:  # the first run warms the server's caches and is not counted
            runs.append({"raw": raw, "gzip": packed, "document": document, "requests": len(responses),
                         "map": len(gzip.compress(inline, compresslevel=GZIP_LEVEL)), **times})
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def report(label: str, capmap: dict, peer: dict) -> None:
    """Print the two pages' figures and their ratios."""
    print(f"\n{label}")
    print(f"  {'':7} {'gzip KB':>8} {'raw KB':>8} {'doc gz':>7} {'map gz':>7} {'requests':>8} "
          f"{'TTFB ms':>8} {'DCL ms':>7} {'load ms':>8}")
    for name, m in (("capmap", capmap), ("folium", peer)):
        print(f"  {name:7} {m['gzip'] / 1000:8,.1f} {m['raw'] / 1000:8,.1f} {m['document'] / 1000:7,.1f} "
              f"{m['map'] / 1000:7,.1f} {m['requests']:8.0f} {m['ttfb']:8.0f} {m['dcl']:7.0f} "
              f"{m['load']:8.0f}")
    after = (peer["load"] - peer["ttfb"]) / (capmap["load"] - capmap["ttfb"])
    print(f"  folium / capmap: page weight x{peer['gzip'] / capmap['gzip']:.2f}, map data "
          f"x{peer['map'] / capmap['map']:.2f}, load event x{peer['load'] / capmap['load']:.2f}, "
          f"load event after the first byte x{after:.2f}")


def main() -> None:
    """Measure both areas, each against its folium peer, in one run."""
    source = realdata("datazones_2011_glasgow_fullres.geojson")
    quiet_werkzeug()
    from app import create_app

    with tempfile.TemporaryDirectory(prefix="capmap-weight-") as tmp, chromium() as browser:
        folder = Path(tmp)
        peers = folder / "peer"
        peers.mkdir()
        cases = [("(a) sample council: the result for all 620 neighbourhoods", sample_store(folder)),
                 ("(b) Glasgow City: the result for all 746 full-resolution data zones",
                  glasgow_store(folder, source))]
        for label, (url, layer) in cases:
            app = create_app({"DATABASE_URL": url, "TILES_URL": "",
                              "INSTANCE_PATH": str(folder / "instance"), "SECRET_KEY": "bench"})
            peer = peer_page(app, layer, peers, layer)
            site = SharedDataMiddleware(app, {"/peer": str(peers)})
            with serving(site) as base:
                report(label, measure(browser, base, capmap_url(app, layer)),
                       measure(browser, base, f"/peer/{peer}"))
            app.extensions["capmap_store"].close()


if __name__ == "__main__":
    main()
