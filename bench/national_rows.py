"""The measured rows of bench_national, each with its peer, on one built national database."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date
from functools import cache
from pathlib import Path

import national_peers as peers
import national_planscape as pscape
import numpy as np
import shapely
import sqlalchemy as sa
from national import CACHE, Built, clear_responses, cli_import, pg_url, reset_schema, run_measured
from national_data import GLASGOW, BuildParams
from national_report import Bench, Row

from capmap.core.crs import geoms_bng_to_lonlat, lonlat_to_bng
from capmap.services import planscape as ps
from capmap.services.coverage import EngagementFilters, engagement_coverage
from capmap.services.engine import Engine
from capmap.storage import open_store

HERE = Path(__file__).resolve().parent
FILTERS = {
    "all": (EngagementFilters(), {}, ""),
    "campaign+dates": (EngagementFilters(campaign="Scotland Listens 2025",
                                         date_from=date(2025, 3, 1), date_to=date(2025, 6, 30)),
                       {"campaign": "Scotland Listens 2025", "date_from": date(2025, 3, 1),
                        "date_to": date(2025, 6, 30)},
                       "&campaign=Scotland+Listens+2025&from=2025-03-01&to=2025-06-30"),
    "theme": (EngagementFilters(theme="health"), {"theme": "health"}, "&theme=health"),
}
CENTRE = (-4.2503, 55.8611)  # George Square, Glasgow
OFFICER, PASSWORD = "bench_officer", "bench officer password 2026"


@cache
def engine_of(url: str) -> sa.Engine:
    """The SQLAlchemy engine capmap itself would use for `url` (same driver)."""
    return open_store(url).engine


@cache
def _store(url: str):
    return open_store(url)


def _same_counts(ours: dict, peer: list) -> str:
    got = {a["code"]: a["responses"] for a in ours["areas"]}
    want = {code: n for code, _, n, *_ in peer}
    return "counts equal" if got == want else f"COUNTS DIFFER ({sum(want.values())} in SQL)"


def engagement_rows(bench: Bench, db: Built) -> None:
    """engagement_coverage and the API for each filter, against the grouped query."""
    store, engine = _store(db.url), Engine(_store(db.url))
    sql = engine_of(db.url)
    client = officer_client(db.url)
    for name, (filters, params, query) in FILTERS.items():
        def peer(name=name, params=params):
            return peers.coverage_rows(sql, "dz11", name, params)
        bench.pair(db.backend, db.size, f"engagement_coverage {name}",
                   lambda f=filters: engagement_coverage(store, engine, "dz11", f, exact=True),
                   peer, target="<= 1.5x", check=_same_counts)
        bench.pair(db.backend, db.size, f"engagement API {name}",
                   lambda q=query: _get(client, f"/api/coverage/engagement?layer=dz11{q}"),
                   peer, target="<= 1.5x")


def dashboard_row(bench: Bench, db: Built) -> None:
    """The engagement dashboard page for an officer, against the grouped query."""
    client = officer_client(db.url)
    sql = engine_of(db.url)
    bench.pair(db.backend, db.size, "/dashboard/engagement",
               lambda: _get(client, "/dashboard/engagement?layer=dz11"),
               lambda: peers.coverage_rows(sql, "dz11", "all", {}), target="<= 1.5x",
               check=lambda body, _: f"{len(body) / 1e6:.1f} MB of HTML")
    bench.pair(db.backend, db.size, "/dashboard/engagement in Gaelic",
               lambda: _get(client, "/dashboard/engagement?layer=dz11&lang=gd"),
               lambda: peers.coverage_rows(sql, "dz11", "all", {}), target="<= 1.5x",
               check=lambda body, _: f"{len(body) / 1e6:.1f} MB of HTML")


PLAN_TYPES_SQL = sa.text(
    "SELECT pc.code, p.type, sum(pc.share_of_area) FROM plan_coverage pc "
    "JOIN plans p ON p.id = pc.plan_id WHERE pc.layer_id = :layer GROUP BY pc.code, p.type")
PLAN_TABLES = ("areas", "deprived_without_locality_plan", "without_any_plan", "past_review",
               "per_plan", "overdue")


def plans_rows(bench: Bench, db: Built) -> None:
    """/dashboard/plans as a new app's first request, then its CSVs, against reading the
    derived plan_coverage table grouped by area and plan type."""
    sql = engine_of(db.url)

    def peer():
        with sql.begin() as conn:
            peers.no_jit(conn)
            return conn.execute(PLAN_TYPES_SQL, {"layer": "dz11"}).fetchall()

    times, size = [], 0
    for _ in range(bench.runs):
        client = officer_client(db.url, fresh=True)
        start = time.perf_counter()
        size = len(_get(client, "/dashboard/plans"))
        times.append(time.perf_counter() - start)
    peer_s = min(_timed(peer) for _ in range(bench.runs))
    bench.add(Row(db.backend, db.size, "/dashboard/plans (first request of a new app)",
                  min(times), peer_s, "", f"{size / 1e6:.1f} MB; peer: plan_coverage grouped"))
    client = officer_client(db.url)
    for table in PLAN_TABLES:
        bench.pair(db.backend, db.size, f"/dashboard/plans.csv?table={table}",
                   lambda t=table: _get(client, f"/dashboard/plans.csv?table={t}"), peer)


def import_rows(bench: Bench, db: Built) -> None:
    """`capmap import responses` (assignment included) against the plain bulk write."""
    ours, peaks = [], []
    if db.built_now:
        ours.append(db.timings["capmap import responses"])
        peaks.append(db.timings["import peak MB"])
    folder = CACHE / bench.key
    for _ in range(bench.import_runs - len(ours)):
        clear_responses(db.url)
        seconds, peak = cli_import(db.url, db.responses_csv, folder / "reimport.log")
        ours.append(seconds)
        peaks.append(peak)
    peer_times, peer_peaks = [], []
    for _ in range(bench.import_runs):
        seconds, peak = _peer_import(db, bench, folder)
        peer_times.append(seconds)
        peer_peaks.append(peak)
    peer_kind = "pandas + executemany" if db.backend == "sqlite" else "pandas + COPY"
    bench.add(Row(db.backend, db.size, f"import responses (CLI) vs {peer_kind}", min(ours),
                  min(peer_times), "<= 2x", f"peak MB ours {max(peaks):.0f}, peer "
                  f"{max(peer_peaks):.0f} (target < 1024)",
                  extra={"ours_peak_mb": max(peaks), "peer_peak_mb": max(peer_peaks)}))


def _peer_import(db: Built, bench: Bench, folder: Path) -> tuple[float, float]:
    if db.backend == "sqlite":
        target = folder / "peer_import.sqlite"
        target.unlink(missing_ok=True)
        where = str(target)
    else:
        schema = f"nat_{bench.key}_peerimport"
        reset_schema(bench.postgis, schema)
        where = pg_url(bench.postgis, schema)
    return run_measured([sys.executable, str(HERE / "national_peers.py"), "import", db.backend,
                         where, str(db.responses_csv)], folder / "peer_import.log")


def officer_client(url: str, fresh: bool = False):
    """A Flask test client of the app on `url`, logged in as an officer (created if missing)."""
    if not fresh and url in _CLIENTS:
        return _CLIENTS[url]
    from app import create_app
    from capmap.core.errors import NotFound
    from capmap.core.passwords import hash_password

    store = _store(url)
    try:
        store.user(OFFICER)
    except NotFound:
        store.add_user(OFFICER, hash_password(PASSWORD), ["officer"])
    app = create_app({"TESTING": True, "DATABASE_URL": url, "TILES_URL": "",
                      "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="capmap_bench_")})
    client = app.test_client()
    answer = client.post("/login", data={"username": OFFICER, "password": PASSWORD})
    if answer.status_code != 302:
        raise RuntimeError(f"login failed: {answer.status_code}")
    if not fresh:
        _CLIENTS[url] = client
    return client


_CLIENTS: dict = {}


def _get(client, path: str) -> bytes:
    answer = client.get(path)
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path}: {answer.status_code} {answer.get_data()[:200]!r}")
    return answer.get_data()


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def _queries(store) -> dict:
    """The planscape queries: (our query builder, the peer's kind and value)."""
    zones = store.areas("dz11")
    codes = zones.loc[zones["parent_code"] == GLASGOW, "code"].tolist()
    council = store.areas("council", codes=[GLASGOW]).geometry.values[0]
    x, y = lonlat_to_bng(np.array([CENTRE[0]]), np.array([CENTRE[1]]))
    circle = geoms_bng_to_lonlat(np.array([shapely.Point(x[0], y[0]).buffer(2000)]))[0]
    return {
        "point": (lambda e: ps.point_query(e, *CENTRE), "point", CENTRE),
        "2 km circle": (lambda e: ps.polygon_query(json.dumps(shapely.geometry.mapping(circle))),
                        "polygon", circle),
        f"Glasgow by codes ({len(codes)} zones)": (lambda e: ps.codes_query(e, "dz11", codes),
                                                  "codes", codes),
        "Glasgow as its polygon": (
            lambda e: ps.polygon_query(json.dumps(shapely.geometry.mapping(council))),
            "polygon", council),
    }


def planscape_rows(bench: Bench, db: Built, params: BuildParams) -> None:
    """Each planscape query with every pin published and with none, against the PostGIS peer."""
    if not bench.postgis:
        print("  planscape: no --postgis database for the peer; rows not run")
        return
    store = _store(db.url)
    peer_url = _peer_schema(bench, store)
    peer_sql = engine_of(peer_url)
    _set_pins(db.url, True)
    queries = _queries(store)
    try:
        for pins in (True, False):
            _set_pins(db.url, pins)
            engine = Engine(store)
            # Both sides warmed once: capmap's layers in memory, the peer's tables in cache.
            ps.planscape(engine, store, ps.point_query(engine, *CENTRE))
            pscape.planscape(peer_sql, "point", CENTRE, pins=pins)
            for label, (make, kind, value) in queries.items():
                bench.pair(db.backend, db.size,
                           f"planscape {label}, {'100k pins' if pins else 'no pins'}",
                           lambda m=make, e=engine: ps.planscape(e, store, m(e)),
                           lambda k=kind, v=value, p=pins: pscape.planscape(peer_sql, k, v,
                                                                            pins=p),
                           target="<= 1x", check=_same_plans)
        _set_pins(db.url, True)
        _result_pages(bench, db, peer_sql)
    finally:
        _set_pins(db.url, True)
    for label in queries:
        with_pins, without = (next((r for r in bench.rows if r.backend == db.backend
                                    and r.row == f"planscape {label}, {kind}" and r.ours_s), None)
                              for kind in ("100k pins", "no pins"))
        if with_pins and without:
            bench.add(Row(db.backend, db.size, f"planscape {label}: 100k pins / none",
                          with_pins.ours_s, without.ours_s, "<= 1.2x",
                          f"(peer {with_pins.peer_s / without.peer_s:.2f}x)"))


def _result_pages(bench: Bench, db: Built, peer_sql) -> None:
    """The finder's result page for a point, in English and in Gaelic: the planscape with its
    page (tables, sentences, the map's words) against the peer's answer alone."""
    client = officer_client(db.url)
    lon, lat = CENTRE
    for lang in ("en", "gd"):
        _get(client, f"/planscape/result?lon={lon}&lat={lat}&lang={lang}")  # catalogue loaded
        bench.pair(db.backend, db.size, f"/planscape/result for a point, lang={lang}",
                   lambda g=lang: _get(client, f"/planscape/result?lon={lon}&lat={lat}&lang={g}"),
                   lambda: pscape.planscape(peer_sql, "point", CENTRE, pins=True),
                   target="<= 1.5x", check=lambda body, _: f"{len(body) / 1e3:.0f} kB of HTML")


def _same_plans(ours: dict, peer: dict) -> str:
    """Plans and pins found by each side (a sliver of a plan may be found by one only)."""
    mine = {p["id"] for p in ours["plans"]}
    theirs = {p["id"] for p in peer["plans"]}
    return (f"plans {len(mine)}/{len(theirs)} (common {len(mine & theirs)}), pins "
            f"{len(ours['pins'])}/{peer['pins']}")


def _set_pins(url: str, published: bool) -> None:
    """Every generated pin published, or none (pending): the planscape with and without pins."""
    with engine_of(url).begin() as conn:
        if published:
            conn.execute(sa.text("UPDATE pins SET status = 'published' WHERE status = 'pending'"))
        else:
            conn.execute(sa.text("UPDATE pins SET status = 'pending' WHERE status = 'published'"))


def _peer_schema(bench: Bench, store) -> str:
    """The peer's BNG tables, built once from a store (every backend holds the same data)."""
    schema = f"nat_{bench.key}_peer"
    url = pg_url(bench.postgis, schema)
    if not pscape.ready(engine_of(url)):
        print("  planscape peer: copying the layers, plans and pins to BNG tables ...", flush=True)
        reset_schema(bench.postgis, schema)
        pscape.setup(url, store)
    return url
