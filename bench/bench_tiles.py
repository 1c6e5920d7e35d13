"""Vector tiles of Scotland's 6,976 data zones: capmap's tiles against PostGIS's ST_AsMVT and
against today's compact payload, on the national benchmark database (bench/national.py).

Views: Scotland (every z6 tile meeting -8.7,54.6,-0.7,60.9) and Glasgow (the tiles a 1280 x 800
px map centred on -4.25,55.86 shows at z12, and at z9 for the defects row).

- bytes: the view's tiles, raw and gzipped (level 6, as the app sends them), beside ST_AsMVT of the
  same unsimplified layer and the compact payload (/api/layers/dz11/areas?format=compact&zoom=),
  which holds the whole layer whatever the view;
- time: capmap from nothing (coverage simplification for the zoom, cut and encode: what the first
  request of a zoom pays in a new process) and from a kept cut (encode only), against ST_AsMVT
  (ST_AsMVTGeom(ST_Transform(geom, 3857), ST_TileEnvelope(z, x, y), 4096, 64, true)) over a
  stored 3857 column with a GiST index, ANALYZEd; min of --runs on each side;
- defects: overlaps and gaps between zones in the decoded tiles (capmap.spatial.mvt.tile_defects;
  counted when wider than 1.5 units, the most rounding to whole units can make; raw counts beside).

    .venv/bin/python bench/bench_tiles.py [--postgis postgresql://postgres@127.0.0.1/capmap_bench]
        [--runs 3]

Needs ../shared/realdata; exits 0 without. Without --postgis (or CAPMAP_BENCH_POSTGIS_URL) the
ST_AsMVT columns are left out.
"""

from __future__ import annotations

import argparse
import gzip
import os
import sys
import time

import national
import numpy as np
import shapely
import sqlalchemy as sa
from common import best_of
from national_data import BuildParams

from capmap.present.mapdata import layer_payload_json
from capmap.present.tiles import area_cut, simplified_areas
from capmap.services.engine import Engine
from capmap.spatial import mvt
from capmap.storage import open_store

LAYER = "dz11"
SCOTLAND = (-8.7, 54.6, -0.7, 60.9)
GLASGOW, VIEW_PX = (-4.25, 55.86), (1280, 800)
PX_UNITS = mvt.EXTENT / 256  # tile units per screen pixel
WIDTH = 1.5


def glasgow_tiles(zoom: int) -> list[tuple[int, int]]:
    """The tiles a VIEW_PX map centred on GLASGOW shows at `zoom`."""
    cx, cy = mvt.lonlat_to_world(np.array([GLASGOW]), zoom)[0] / PX_UNITS
    half_w, half_h = VIEW_PX[0] / 2, VIEW_PX[1] / 2
    xs = range(int((cx - half_w) // 256), int((cx + half_w - 1) // 256) + 1)
    ys = range(int((cy - half_h) // 256), int((cy + half_h - 1) // 256) + 1)
    return [(x, y) for x in xs for y in ys]


VIEWS = {"Scotland z6": (6, mvt.tiles_covering(SCOTLAND, 6)), "Glasgow z9": (9, glasgow_tiles(9)),
         "Glasgow z12": (12, glasgow_tiles(12))}


def ours_from_cut(engine: Engine, zoom: int, tiles) -> list[bytes]:
    """The view's tiles encoded from the zoom's kept cut (no tile cache)."""
    cut = area_cut(engine, engine.layer(LAYER), zoom)
    out = []
    for x, y in tiles:
        rows, geoms = mvt.cut_tile(cut.world, cut.tree, x, y)
        out.append(mvt.encode_layer("areas", geoms, [cut.properties[i] for i in rows]))
    return out


def ours_cold(url: str, zoom: int, tiles) -> list[bytes]:
    """A new engine: the layer read, simplified for the zoom, cut and encoded."""
    store = open_store(url)
    try:
        return ours_from_cut(Engine(store), zoom, tiles)
    finally:
        store.close()


PEER_SQL = sa.text(
    "SELECT ST_AsMVT(t, 'areas', 4096, 'geom') FROM ("
    " SELECT code, name, simd_quintile,"
    "  ST_AsMVTGeom(geom3857, ST_TileEnvelope(:z, :x, :y), 4096, 64, true) AS geom"
    " FROM peer_dz WHERE geom3857 && ST_TileEnvelope(:z, :x, :y, margin => 64.0 / 4096)) t")


def load_peer(pg: sa.Engine, engine: Engine) -> None:
    """The unsimplified layer in PostGIS: a 3857 column with a GiST index, ANALYZEd."""
    areas = engine.layer(LAYER).areas
    rows = [{"code": c, "name": n, "q": None if q != q else int(q), "wkb": shapely.to_wkb(g)}
            for c, n, q, g in zip(areas["code"], areas["name"], areas["simd_quintile"],
                                  areas.geometry.values, strict=True)]
    with pg.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS peer_dz"))
        conn.execute(sa.text("CREATE TABLE peer_dz (code text, name text, simd_quintile int, "
                             "geom geometry(Geometry, 4326))"))
        conn.execute(sa.text("INSERT INTO peer_dz VALUES (:code, :name, :q, "
                             "ST_GeomFromWKB(:wkb, 4326))"), rows)
        conn.execute(sa.text("ALTER TABLE peer_dz ADD COLUMN geom3857 geometry(Geometry, 3857)"))
        conn.execute(sa.text("UPDATE peer_dz SET geom3857 = ST_Transform(geom, 3857)"))
        conn.execute(sa.text("CREATE INDEX peer_dz_gix ON peer_dz USING gist (geom3857)"))
    with pg.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE peer_dz"))


def peer_tiles(pg: sa.Engine, zoom: int, tiles) -> list[bytes]:
    with pg.connect() as conn:
        return [bytes(conn.execute(PEER_SQL, {"z": zoom, "x": x, "y": y}).scalar() or b"")
                for x, y in tiles]


def sizes(tiles: list[bytes]) -> tuple[int, int]:
    """Raw and gzipped bytes of a list of bodies."""
    return sum(map(len, tiles)), sum(len(gzip.compress(t, 6)) for t in tiles if t)


def defects(engine: Engine, zoom: int, tiles, bodies: list[bytes], simplified: bool) -> dict:
    """Summed tile_defects over a view, against the layer as the tiles were cut from it."""
    state = engine.layer(LAYER)
    frame = simplified_areas(engine, state, zoom) if simplified else state.areas
    world = mvt.to_world(np.asarray(frame.geometry.values, dtype=object), zoom, rounded=False)
    tree = shapely.STRtree(world)
    total = {"overlaps": 0, "gaps": 0, "raw overlaps": 0, "raw gaps": 0}
    for (x, y), body in zip(tiles, bodies, strict=True):
        _, geoms = mvt.decode_polygons(body, "areas")
        rows = tree.query(shapely.box(x * mvt.EXTENT, y * mvt.EXTENT, (x + 1) * mvt.EXTENT,
                                      (y + 1) * mvt.EXTENT))
        if not len(geoms) or not len(rows):
            continue
        reference = mvt.to_tile(shapely.union_all(world[rows]), x, y)
        wide, raw = mvt.tile_defects(geoms, reference, width=WIDTH), mvt.tile_defects(geoms, reference)
        for key in ("overlaps", "gaps"):
            total[key] += wide[key]
            total[f"raw {key}"] += raw[key]
    return total


def run_view(name: str, engine: Engine, url: str, pg: sa.Engine | None, runs: int) -> dict:
    zoom, tiles = VIEWS[name]
    cold_s, ours = best_of(lambda: ours_cold(url, zoom, tiles), runs)
    ours_from_cut(engine, zoom, tiles)  # the cut kept in `engine`
    cut_s, again = best_of(lambda: ours_from_cut(engine, zoom, tiles), runs)
    assert again == ours
    compact = layer_payload_json(engine, LAYER, zoom, "compact").encode()
    row = {"view": name, "tiles": len(tiles), "ours": sizes(ours), "cold_s": cold_s, "cut_s": cut_s,
           "compact": (len(compact), len(gzip.compress(compact, 6))),
           "defects": defects(engine, zoom, tiles, ours, True)}
    if pg is not None:
        peer_s, peer = best_of(lambda: peer_tiles(pg, zoom, tiles), runs)
        row.update(peer=sizes(peer), peer_s=peer_s, peer_defects=defects(engine, zoom, tiles, peer, False))
    return row


def _kb(n: int) -> str:
    return f"{n:,}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "-"


def print_table(rows: list[dict]) -> None:
    print("\nbytes (raw, and gzipped at level 6; ratio = capmap / peer, lower is better)")
    print(f"{'view':<13} {'tiles':>5} {'capmap raw':>11} {'capmap gz':>10} {'ST_AsMVT raw':>13} "
          f"{'ST_AsMVT gz':>12} {'gz ratio':>9} {'compact raw':>12} {'compact gz':>11} {'gz ratio':>9}")
    print(f"{'':<13} {'':>5} {'':>11} {'':>10} {'':>13} {'':>12} {'/ peer':>9} {'(whole layer)':>12} "
          f"{'':>11} {'/ compact':>9}")
    for r in rows:
        peer = r.get("peer", (0, 0))
        print(f"{r['view']:<13} {r['tiles']:>5} {_kb(r['ours'][0]):>11} {_kb(r['ours'][1]):>10} "
              f"{_kb(peer[0]) if peer[0] else '-':>13} {_kb(peer[1]) if peer[1] else '-':>12} "
              f"{_ratio(r['ours'][1], peer[1]):>9} {_kb(r['compact'][0]):>12} "
              f"{_kb(r['compact'][1]):>11} {_ratio(r['ours'][1], r['compact'][1]):>9}")
    print("\ntime to build the view's tiles (min of runs; ratio = capmap / ST_AsMVT)")
    print(f"{'view':<13} {'capmap from nothing':>20} {'capmap from a cut':>18} {'ST_AsMVT':>9} "
          f"{'ratio (cut)':>12} {'ratio (nothing)':>16}")
    for r in rows:
        peer_s = r.get("peer_s")
        print(f"{r['view']:<13} {r['cold_s']:>19.3f}s {r['cut_s']:>17.3f}s "
              f"{f'{peer_s:.3f}s' if peer_s else '-':>9} {_ratio(r['cut_s'], peer_s or 0):>12} "
              f"{_ratio(r['cold_s'], peer_s or 0):>16}")
    print(f"\noverlaps / gaps between zones in the decoded tiles (wider than {WIDTH} units = "
          f"{WIDTH / PX_UNITS:.2f} px; raw: any size)")
    print(f"{'view':<13} {'capmap':>18} {'capmap raw':>18} {'ST_AsMVT':>18} {'ST_AsMVT raw':>18}")
    for r in rows:
        d, p = r["defects"], r.get("peer_defects")
        pair = lambda m, k="": f"{m[k + 'overlaps']} / {m[k + 'gaps']}"  # noqa: E731
        print(f"{r['view']:<13} {pair(d):>18} {pair(d, 'raw '):>18} {pair(p) if p else '-':>18} "
              f"{pair(p, 'raw ') if p else '-':>18}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgis", default=os.environ.get("CAPMAP_BENCH_POSTGIS_URL"),
                        help="a PostGIS database for the ST_AsMVT peer (table peer_dz replaced)")
    parser.add_argument("--runs", type=int, default=3, help="runs per side; the minimum is kept")
    parser.add_argument("--views", default=",".join(VIEWS), help="comma separated")
    args = parser.parse_args()
    if not national.realdata_present():
        return 0
    built = national.build("sqlite", 10_000, BuildParams())
    store = open_store(built.url)
    engine = Engine(store)
    pg = None
    if args.postgis:
        pg = sa.create_engine(args.postgis.replace("postgresql://", "postgresql+psycopg://", 1))
        start = time.perf_counter()
        load_peer(pg, engine)
        print(f"peer table loaded in {time.perf_counter() - start:.1f} s")
    else:
        print("ST_AsMVT: not run (give --postgis URL or CAPMAP_BENCH_POSTGIS_URL)")
    rows = []
    for name in args.views.split(","):
        print(f"{name}: {len(VIEWS[name][1])} tiles ...", flush=True)
        rows.append(run_view(name, engine, built.url, pg, args.runs))
    print_table(rows)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
