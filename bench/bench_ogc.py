"""Read all 6,976 real data zones through capmap's OGC API - Features with GDAL's OAPIF driver,
against reading a GeoPackage export of the same layer with pyogrio, in the same run.

The app is served by werkzeug's threaded server on 127.0.0.1 over a temporary SQLite store. capmap
turns GDAL's network drivers off in its own process, so both reads run in one child process with a
clean environment that never imports capmap; each is timed there (best of 3), so the child's start
is not counted. The OAPIF read is timed with GDAL's default page size and with PAGE_SIZE=10000.

    PYTHONPATH=src python bench/bench_ogc.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from common import realdata
from werkzeug.serving import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

READS = """
import json, sys, time
import pyogrio

url, gpkg = sys.argv[1], sys.argv[2]


def best(read):
    times, count = [], 0
    for _ in range(3):
        start = time.perf_counter()
        count = len(read())
        times.append(time.perf_counter() - start)
    return min(times), count


print(json.dumps({
    "oapif_default": best(lambda: pyogrio.read_dataframe(url, layer="dz11")),
    "oapif_10000": best(lambda: pyogrio.read_dataframe(url, layer="dz11", PAGE_SIZE="10000")),
    "gpkg": best(lambda: pyogrio.read_dataframe(gpkg, layer="dz11")),
}))
"""


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args) -> None:
        pass


def clean_env() -> dict[str, str]:
    """This environment without capmap's GDAL settings, and with no proxy for 127.0.0.1."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GDAL_", "CPL_", "OGR_", "PROJ_NETWORK"))}
    env.update(NO_PROXY="127.0.0.1", no_proxy="127.0.0.1", GDAL_HTTP_TIMEOUT="120")
    return env


def main() -> None:
    source = realdata("datazones_2011_scotland.geojson")
    from app import create_app
    from capmap.services import exports, pipeline
    from capmap.services.layers import load_layer_def
    from capmap.storage import open_store

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        store = open_store(url)
        store.init()
        report = pipeline.import_boundaries(store, load_layer_def(ROOT / "boundaries" / "dz11.toml"),
                                            source)
        gpkg = Path(tmp) / "dz11.gpkg"
        written = exports.export_layer(store, "dz11", gpkg, "gpkg")
        store.close()
        print(f"imported {report.stored} data zones; GeoPackage export of {written} features, "
              f"{gpkg.stat().st_size / 1e6:.1f} MB")

        app = create_app({"DATABASE_URL": url, "TILES_URL": "", "SECRET_KEY": "bench"})
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        root = f"http://127.0.0.1:{server.server_port}/ogc"
        try:
            start = time.perf_counter()
            with urllib.request.urlopen(f"{root}/collections/dz11/items?limit=10000") as answer:
                size = len(answer.read())
            print(f"one GeoJSON page of every data zone: {size / 1e6:.1f} MB in "
                  f"{time.perf_counter() - start:.3f} s (first request, loads the layer)")
            run = subprocess.run([sys.executable, "-c", READS, f"OAPIF:{root}", str(gpkg)],
                                 env=clean_env(), capture_output=True, text=True, timeout=900)
        finally:
            server.shutdown()
            thread.join(5)
        if run.returncode:
            sys.exit(f"the GDAL reads failed:\n{run.stderr[-2000:]}")
        times = json.loads(run.stdout)
        gpkg_s, gpkg_n = times["gpkg"]
        print(f"pyogrio read of the GeoPackage: {gpkg_n} features in {gpkg_s:.3f} s")
        for key, label in (("oapif_default", "default page size"), ("oapif_10000", "PAGE_SIZE=10000")):
            seconds, count = times[key]
            print(f"GDAL OAPIF read, {label}: {count} features in {seconds:.3f} s; "
                  f"ratio to the GeoPackage read {seconds / gpkg_s:.1f}x")


if __name__ == "__main__":
    main()
