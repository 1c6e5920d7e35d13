"""Assign 1,000,000 random lon/lat points in Scotland to the 6,976 data zones, and look single
points up, against geopandas.sjoin and a PostGIS GiST join on the same data in the same run.

    python bench/bench_assign.py [--points 1000000] [--runs 3] [--postgis postgresql://…/capmap_bench]

All answer in lon/lat (EPSG:4326), where the points arrive and the areas are stored, so none
reprojects. capmap's times include building its index from the areas. The geopandas peer is the
fastest of three ways to write the join: sjoin `within` (its tree over the points, the polygons
prepared as the query), sjoin `intersects` (the tree over the polygons) and a shapely STRtree over
the polygons with prepared polygons tested by `contains_xy`. The PostGIS join runs on
ST_Subdivide'd zones (pieces of at most 128 vertices) with GiST indexes and ANALYZE; it is given
with and without loading the points (COPY and indexing, as an import would). Every side is the
minimum of --runs runs. Single lookups are compared against an in-process shapely STRtree of
prepared polygons (a PostGIS round trip per point is printed for information).
"""

from __future__ import annotations

import argparse
import io

import geopandas as gpd
import numpy as np
import psycopg
import pyogrio
import shapely
from common import best_of, realdata

from capmap.io.validate import polygon_parts
from capmap.spatial.assign import AreaIndex

SCOTLAND_BOX = (-7.6, 54.6, -0.8, 60.9)


def load_zones() -> gpd.GeoDataFrame:
    """The real data zones, repaired (10 are invalid as published)."""
    zones = pyogrio.read_dataframe(realdata("datazones_2011_scotland.geojson"), columns=["code"])
    zones["geometry"] = polygon_parts(zones.geometry.values)[0]
    return zones


def random_points(n: int, zones: gpd.GeoDataFrame, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform over the land: drawn in the zones' bounding box, mostly kept on land."""
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = zones.total_bounds
    x = rng.uniform(minx, maxx, n * 4)
    y = rng.uniform(miny, maxy, n * 4)
    land = shapely.union_all(zones.geometry.values).buffer(0.01)
    shapely.prepare(land)
    on_land = shapely.contains_xy(land, x, y)
    # 90 % on land, 10 % anywhere (sea, lochs): the outside case is part of the job.
    keep = np.concatenate([np.flatnonzero(on_land)[: int(n * 0.9)],
                           np.flatnonzero(~on_land)[: n - int(n * 0.9)]])
    return x[keep], y[keep]


def capmap_assign(zones, x, y):
    return AreaIndex(zones["code"].to_numpy(), zones.geometry.values).assign_xy(x, y)


def sjoin_assign(zones, x, y, predicate: str = "within"):
    """geopandas.sjoin: `within` trees the points and queries with the (prepared) polygons;
    `intersects` trees the polygons and queries with the points."""
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    joined = gpd.sjoin(points, zones, predicate=predicate, how="left")
    return joined[~joined.index.duplicated()]["code"].to_numpy()


def strtree_assign(zones, x, y):
    """A shapely STRtree over the polygons, box candidates, then prepared polygons' contains_xy."""
    geoms = zones.geometry.values.copy()
    shapely.prepare(geoms)
    tree = shapely.STRtree(geoms)
    point_i, zone_i = tree.query(shapely.points(x, y))
    inside = shapely.contains_xy(geoms[zone_i], x[point_i], y[point_i])
    out = np.full(len(x), None, dtype=object)
    # Where a point is inside two zones (touching edges), keep the first found, like sjoin.
    order = np.flatnonzero(inside)[::-1]
    out[point_i[order]] = zones["code"].to_numpy()[zone_i[order]]
    return out


def geopandas_peer(zones, x, y, ours, runs: int) -> float:
    """The three ways of the geopandas peer, each timed; the fastest one's time."""
    times = {}
    for label, func in (("sjoin within (tree over points, prepared polygons as query)",
                         lambda: sjoin_assign(zones, x, y, "within")),
                        ("sjoin intersects (tree over polygons)",
                         lambda: sjoin_assign(zones, x, y, "intersects")),
                        ("shapely STRtree over polygons + prepared contains_xy",
                         lambda: strtree_assign(zones, x, y))):
        seconds, theirs = best_of(func, runs)
        times[label] = seconds
        print(f"  {label}: {seconds:.2f} s; answers equal: {same_codes(ours, theirs)}")
    fastest = min(times, key=times.get)
    print(f"geopandas/shapely, fastest ({fastest}): {times[fastest]:.2f} s")
    return times[fastest]


def same_codes(ours: np.ndarray, theirs: np.ndarray) -> bool:
    """Whether two answers agree, None and NaN alike meaning outside."""
    return np.array_equal(np.where(pd_na(ours), "", ours), np.where(pd_na(theirs), "", theirs))


def postgis_setup(url: str, zones: gpd.GeoDataFrame) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    # JIT compiling costs more than a second here and saves less: an expert turns it off.
    conn.execute("SET jit = off")
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    conn.execute("DROP TABLE IF EXISTS bench_zones, bench_points")
    conn.execute("CREATE TABLE bench_zones (code text, geom geometry(MultiPolygon, 4326))")
    with conn.cursor().copy("COPY bench_zones (code, geom) FROM STDIN") as copy:
        for code, wkb in zip(zones["code"], shapely.to_wkb(zones.geometry.values, hex=True,
                                                           include_srid=False), strict=True):
            copy.write_row((code, wkb))
    conn.execute("UPDATE bench_zones SET geom = ST_SetSRID(geom, 4326)")
    conn.execute("CREATE INDEX ON bench_zones USING gist (geom)")
    # Pieces of at most 128 vertices: each point is tested against a small shape.
    conn.execute("DROP TABLE IF EXISTS bench_zone_pieces")
    conn.execute("CREATE TABLE bench_zone_pieces AS "
                 "SELECT code, ST_Subdivide(geom, 128) AS geom FROM bench_zones")
    conn.execute("CREATE INDEX ON bench_zone_pieces USING gist (geom)")
    conn.execute("ANALYZE bench_zones")
    conn.execute("ANALYZE bench_zone_pieces")
    return conn


def postgis_load(conn: psycopg.Connection, x, y) -> None:
    conn.execute("DROP TABLE IF EXISTS bench_points")
    conn.execute("CREATE TABLE bench_points (i int, lon float8, lat float8)")
    buf = io.StringIO("".join(f"{i}\t{a!r}\t{b!r}\n"
                              for i, (a, b) in enumerate(zip(x.tolist(), y.tolist(), strict=True))))
    with conn.cursor().copy("COPY bench_points (i, lon, lat) FROM STDIN") as copy:
        copy.write(buf.getvalue())
    conn.execute("ALTER TABLE bench_points ADD COLUMN geom geometry(Point, 4326)")
    conn.execute("UPDATE bench_points SET geom = ST_SetSRID(ST_MakePoint(lon, lat), 4326)")
    conn.execute("CREATE INDEX ON bench_points USING gist (geom)")
    conn.execute("ANALYZE bench_points")


def postgis_join(conn: psycopg.Connection) -> np.ndarray:
    rows = conn.execute(
        "SELECT p.i, min(z.code) FROM bench_points p LEFT JOIN bench_zone_pieces z "
        "ON ST_Intersects(z.geom, p.geom) GROUP BY p.i ORDER BY p.i").fetchall()
    return np.array([code for _, code in rows], dtype=object)


def lookups(zones, conn, x, y, runs: int, n: int = 2000) -> None:
    """Per-point lookups: capmap's index against an in-process STRtree of prepared polygons
    (both built beforehand, min of `runs`), and a PostGIS round trip for information."""
    index = AreaIndex(zones["code"].to_numpy(), zones.geometry.values)
    geoms = zones.geometry.values.copy()
    shapely.prepare(geoms)
    tree, codes = shapely.STRtree(geoms), zones["code"].to_numpy()
    px, py = x[:n].tolist(), y[:n].tolist()

    def strtree_one(a: float, b: float):
        hits = tree.query(shapely.Point(a, b), predicate="within")
        return codes[hits.min()] if len(hits) else None

    ours_s, ours = best_of(lambda: [index.lookup(a, b) for a, b in zip(px, py, strict=True)], runs)
    tree_s, theirs = best_of(lambda: [strtree_one(a, b) for a, b in zip(px, py, strict=True)], runs)
    capmap_us, tree_us = ours_s / n * 1e6, tree_s / n * 1e6
    same = sum(a == b for a, b in zip(ours, theirs, strict=True))
    print(f"single lookups, capmap in-process:  {capmap_us:.1f} µs per point")
    print(f"single lookups, shapely STRtree:    {tree_us:.1f} µs per point; capmap "
          f"{tree_us / capmap_us:.1f}x faster; same answer for {same} of {n}")
    if conn is None:
        return
    query = ("SELECT min(code) FROM bench_zone_pieces "
             "WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))")
    pg_s, _ = best_of(lambda: [conn.execute(query, (a, b), prepare=True).fetchone()[0]
                               for a, b in zip(px, py, strict=True)], runs)
    print(f"single lookups, PostGIS round trip: {pg_s / n * 1e6:.1f} µs per point (for "
          "information: a round trip is not the same work as an in-process lookup)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of every side; the min is kept")
    parser.add_argument("--postgis", help="a PostGIS database to use (tables bench_* replaced)")
    args = parser.parse_args()
    zones = load_zones()
    x, y = random_points(args.points, zones)
    print(f"{len(zones)} data zones, {len(x):,} points, min of {args.runs} runs each")
    ours_s, ours = best_of(lambda: capmap_assign(zones, x, y), args.runs)
    print(f"capmap assign:      {ours_s:.2f} s ({np.sum(ours != None):,} inside)")  # noqa: E711
    peer_s = geopandas_peer(zones, x, y, ours, args.runs)
    print(f"capmap {peer_s / ours_s:.2f}x faster than the fastest geopandas/shapely way")
    conn = None
    if args.postgis:
        conn = postgis_setup(args.postgis, zones)
        load_s, _ = best_of(lambda: postgis_load(conn, x, y), args.runs)
        join_s, pg = best_of(lambda: postgis_join(conn), args.runs)
        print(f"PostGIS join (ST_Subdivide + GiST, ANALYZE): {join_s:.2f} s for the join, "
              f"{load_s + join_s:.2f} s with loading the points; capmap {join_s / ours_s:.2f}x "
              f"faster than the join alone, {(load_s + join_s) / ours_s:.2f}x with loading; "
              f"answers equal: {same_codes(ours, pg)}")
    lookups(zones, conn, x, y, args.runs)


def pd_na(values: np.ndarray) -> np.ndarray:
    return np.array([v is None or v != v for v in values])


if __name__ == "__main__":
    main()
