"""Load on the production server: `capmap serve --workers 2` (gunicorn) driven by wrk, against a
trivial endpoint of the same server as the floor.

Backends: (a) SQLite, (b) PostGIS with rate-limit counters in Redis, as several workers would run.
Both hold the sample data (with --realdata, also the 6,976 real data zones from ../shared/realdata,
when it is there). wrk drives, at each concurrency:

- /health/live, the floor: answers without touching the database or the spatial engine;
- /api/lookup?lon=&lat=, cycling through points inside the neighbourhoods (one area each, so no
  two successive requests ask the same thing);
- /pins/data.json?bbox=, cycling through town-sized boxes around those points.

Each row gives requests/s, p50 and p99 latency, errors (socket errors and non-2xx answers, counted
by the Lua script) and the ratio of the endpoint's throughput to the floor's. The target: the lookup
reaches at least 80 % of the floor's throughput with no errors.

With --realdata, each backend also serves the national database of bench_national (the real
layers, ~200 plans, 100,000 pins and --national-size generated responses; built once and cached
under /tmp), where wrk drives GET /api/coverage/engagement?layer=dz11 (unfiltered, by campaign and
dates, by theme, in turn) and GET /api/planscape?lon=&lat= at points inside the data zones.
The machine running wrk also runs the server, so keep it otherwise quiet; use --duration 5 for a
quick look.

    .venv/bin/python bench/bench_load.py [--duration 60] [--connections 4,32] [--realdata]
        [--national-size 100000] [--postgis postgresql://postgres@127.0.0.1/capmap_bench]
        [--redis redis://127.0.0.1:6379]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import shapely
from common import REALDATA

from capmap.services import pipeline
from capmap.services.layers import load_layer_def
from capmap.storage import open_store
from capmap.storage.schema import metadata

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 2
TARGET = 0.8
POINTS = 2000
BOX_DEG = (0.06, 0.03)  # a town on screen: about 4 x 3 km at 56°N

# Cycles through the paths in the file given after `--`, each thread from its own offset; counts
# non-2xx answers per thread and prints one JSON line of totals when done.
WRK_SCRIPT = """
local threads, started = {}, 0
function setup(thread)
  thread:set("offset", started * 7919)
  started = started + 1
  table.insert(threads, thread)
end
function init(args)
  paths, n, non2xx = {}, 0, 0
  for line in io.lines(args[1]) do n = n + 1; paths[n] = line end
  i = offset % n
end
function request()
  i = i % n + 1
  return wrk.format(nil, paths[i])
end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non2xx") end
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "seconds": %f, "p50_us": %d, "p99_us": %d, '
    .. '"socket_errors": %d, "non2xx": %d}\\n', summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, bad))
end
"""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load(url: str, realdata: bool) -> None:
    """An empty capmap database at `url` with the sample data (and the real data zones)."""
    store = open_store(url)
    if url.startswith("postgresql"):
        with store.engine.begin() as conn:
            metadata.drop_all(conn)
    store.init()
    pipeline.load_sample(store, ROOT / "sample_geodata", ROOT / "boundaries")
    if realdata:
        pipeline.import_boundaries(store, load_layer_def(ROOT / "boundaries" / "dz11.toml"),
                                   REALDATA / "datazones_2011_scotland.geojson")
    store.close()


def inner_points(url: str, seed: int = 7) -> list[tuple[float, float]]:
    """POINTS uniform points, each inside a random neighbourhood of a neighbourhood layer."""
    store = open_store(url)
    hoods = [la.id for la in store.layers() if la.is_current and la.kind == "neighbourhood"]
    areas = np.concatenate([store.areas(layer_id).geometry.values for layer_id in hoods])
    store.close()
    rng = np.random.default_rng(seed)
    points = []
    for area in areas[rng.choice(len(areas), POINTS)]:
        minx, miny, maxx, maxy = area.bounds
        while True:  # rejection sampling: a uniform point inside the area
            x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
            if shapely.contains_xy(area, x, y):
                points.append((x, y))
                break
    return points


def request_paths(url: str) -> dict[str, list[str]]:
    """Paths for each endpoint: lookups at points inside the neighbourhoods of every
    neighbourhood layer, and pin boxes around them."""
    points = inner_points(url)
    half_w, half_h = BOX_DEG[0] / 2, BOX_DEG[1] / 2
    return {
        "/health/live": ["/health/live"],
        "/api/lookup": [f"/api/lookup?lon={x:.6f}&lat={y:.6f}" for x, y in points],
        "/pins/data.json": [f"/pins/data.json?bbox={x - half_w:.5f},{y - half_h:.5f},"
                            f"{x + half_w:.5f},{y + half_h:.5f}" for x, y in points],
    }


@contextmanager
def server(url: str, folder: Path, extra_env: dict[str, str]):
    """`capmap serve --workers 2` on a free port of 127.0.0.1, ready to answer; its base URL."""
    port = free_port()
    env = {**os.environ, "CAPMAP_TILES_URL": "", "CAPMAP_INSTANCE_PATH": str(folder / "instance"),
           "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1", **extra_env}
    log = open(folder / "server.log", "wb")
    # The `capmap` command's own entry point, so any interpreter with capmap installed runs it.
    proc = subprocess.Popen([sys.executable, "-c", "from capmap.cli import main; main()", "--db", url,
                             "serve", "--workers", str(WORKERS), "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start; its log:\n"
                                 f"{(folder / 'server.log').read_text()[-3000:]}")
            time.sleep(0.3)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def warm(base: str, paths: dict[str, list[str]]) -> None:
    """Load every worker's layers, plans and pins before timing: concurrent requests reach every
    sync worker."""
    def get(path: str) -> None:
        with urllib.request.urlopen(base + path, timeout=120) as answer:
            answer.read()

    with ThreadPoolExecutor(4 * WORKERS) as pool:
        for endpoint_paths in paths.values():
            list(pool.map(get, endpoint_paths[:16 * WORKERS]))


def server_cpu_s(master: int) -> float:
    """CPU seconds used so far by the gunicorn master and its workers (0 without Linux's /proc)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(stat.parent.name) == master or int(fields[1]) == master:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def wrk(base: str, paths: list[str], connections: int, seconds: float, folder: Path,
        master: int) -> dict:
    """One wrk run over `paths`: requests/s, p50 and p99 in ms, errors, and the server's CPU
    time per request in ms (robust to other load on the machine, unlike requests/s)."""
    script, listing = folder / "cycle.lua", folder / "paths.txt"
    script.write_text(WRK_SCRIPT)
    listing.write_text("\n".join(paths) + "\n")
    cpu_before = server_cpu_s(master)
    run = subprocess.run(["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d",
                          f"{seconds:g}s", "--timeout", "10s", "-s", str(script), base, "--",
                          str(listing)], capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if run.returncode or line is None:
        raise SystemExit(f"wrk failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    result = json.loads(line[len("RESULT "):])
    cpu_ms = (server_cpu_s(master) - cpu_before) * 1000 / max(result["requests"], 1)
    return {"rps": result["requests"] / result["seconds"], "p50": result["p50_us"] / 1000,
            "p99": result["p99_us"] / 1000, "errors": result["socket_errors"] + result["non2xx"],
            "cpu_ms": cpu_ms}


def national_paths(url: str) -> dict[str, list[str]]:
    """Paths on the national database: the floor, engagement coverage (three filters in turn)
    and the planscape at points inside the data zones."""
    filters = ["", "&campaign=Scotland+Listens+2025&from=2025-03-01&to=2025-06-30",
               "&theme=health"]
    return {
        "/health/live": ["/health/live"],
        "/api/coverage/engagement": [f"/api/coverage/engagement?layer=dz11{f}" for f in filters],
        "/api/planscape": [f"/api/planscape?lon={x:.6f}&lat={y:.6f}"
                           for x, y in inner_points(url)],
    }


def bench_national(name: str, extra_env: dict[str, str], args, folder: Path) -> list[tuple]:
    """Rows on the national database of one backend (built by bench_national's builder)."""
    import national
    from national_data import BuildParams

    start = time.perf_counter()
    db = national.build(name, args.national_size, BuildParams(), postgis=args.postgis)
    print(f"{name} national ({args.national_size:,} responses): "
          f"{'built' if db.built_now else 'cached'} in {time.perf_counter() - start:.1f} s",
          flush=True)
    return measure(f"{name}-nat", db.url, national_paths(db.url), extra_env, args, folder)


def bench_backend(name: str, url: str, extra_env: dict[str, str], args, folder: Path) -> list[tuple]:
    """Rows (backend, endpoint, connections, result) for one backend."""
    start = time.perf_counter()
    load(url, args.realdata)
    paths = request_paths(url)
    print(f"{name}: loaded in {time.perf_counter() - start:.1f} s; "
          f"{len(paths['/api/lookup'])} lookup points", flush=True)
    return measure(name, url, paths, extra_env, args, folder)


def measure(name: str, url: str, paths: dict[str, list[str]], extra_env: dict[str, str], args,
            folder: Path) -> list[tuple]:
    """Serve `url` and run wrk over each endpoint's paths at each concurrency."""
    rows = []
    with server(url, folder, extra_env) as (base, master):
        warm(base, paths)
        for endpoint, endpoint_paths in paths.items():
            wrk(base, endpoint_paths, max(args.connections), min(2.0, args.duration), folder, master)
            for connections in args.connections:
                result = wrk(base, endpoint_paths, connections, args.duration, folder, master)
                rows.append((name, endpoint, connections, result))
                print(f"  {endpoint} at {connections}: {result['rps']:.0f} req/s", flush=True)
    return rows


def report(rows: list[tuple], duration: float) -> None:
    """The table, with each endpoint's throughput as a ratio of the floor's, and the target."""
    floor = {(b, c): r["rps"] for b, e, c, r in rows if e == "/health/live"}
    floor_cpu = {(b, c): r["cpu_ms"] for b, e, c, r in rows if e == "/health/live"}
    print(f"\n{duration:g} s per run, {WORKERS} gunicorn sync workers; floor = /health/live")
    print(f"{'backend':11} {'endpoint':24} {'conns':>5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'errors':>6} {'ratio':>6} {'server CPU ms/req':>18} {'CPU ratio':>9}")
    for backend, endpoint, connections, r in rows:
        ratio = r["rps"] / floor[backend, connections]
        cpu_ratio = floor_cpu[backend, connections] / r["cpu_ms"] if r["cpu_ms"] else float("nan")
        print(f"{backend:11} {endpoint:24} {connections:5d} {r['rps']:8.0f} {r['p50']:7.1f} "
              f"{r['p99']:7.1f} {r['errors']:6d} {ratio:6.2f} {r['cpu_ms']:18.3f} {cpu_ratio:9.2f}")
    print("(CPU ratio: the floor's server CPU per request over the endpoint's; it moves less than "
          "requests/s when other work shares the machine)")
    print()
    for backend, endpoint, connections, r in rows:
        if endpoint == "/api/lookup":
            ratio = r["rps"] / floor[backend, connections]
            met = ratio >= TARGET and r["errors"] == 0
            print(f"target {backend} /api/lookup at {connections}: {ratio:.2f} of the floor with "
                  f"{r['errors']} errors (>= {TARGET:.2f}, 0 errors): {'met' if met else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per wrk run")
    parser.add_argument("--connections", default="4,32", help="concurrencies, comma separated")
    parser.add_argument("--postgis", help="also run on this PostGIS database (wiped)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379",
                        help="rate-limit storage of the PostGIS run")
    parser.add_argument("--realdata", action="store_true",
                        help="also load the real data zones from ../shared/realdata when there, "
                             "and run the national database's endpoints")
    parser.add_argument("--national-size", type=int, default=100_000,
                        help="responses in the national database (with --realdata)")
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    if shutil.which("wrk") is None:
        print("skipped: wrk is not installed (apt-get install wrk)")
        sys.exit(0)
    if args.realdata and not (REALDATA / "datazones_2011_scotland.geojson").exists():
        print(f"--realdata: {REALDATA} not found; running on the sample data only")
        args.realdata = False
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows += bench_backend("sqlite", f"sqlite:///{folder / 'bench.sqlite'}", {}, args, folder)
        if args.realdata:
            rows += bench_national("sqlite", {}, args, folder)
        if args.postgis:
            redis = {"CAPMAP_RATELIMIT_STORAGE_URI": args.redis}
            rows += bench_backend("postgis", args.postgis, redis, args, folder)
            if args.realdata:
                rows += bench_national("postgis", redis, args, folder)
        else:
            print("postgis: not run (give --postgis URL)")
    report(rows, args.duration)


if __name__ == "__main__":
    main()
