"""Assign 1,000,000 random lon/lat points in Scotland to the 6,976 data zones, and look single
points up, against geopandas.sjoin and a PostGIS GiST join on the same data in the same run.

    python bench/bench_assign.py [--points 1000000] [--postgis postgresql://…/capmap_bench]

All three answer in lon/lat (EPSG:4326), where the points arrive and the areas are stored, so none
reprojects. capmap's times include building its index from the areas; the PostGIS join includes
loading the points with COPY and indexing them, as an import would.
"""

from __future__ import annotations

import argparse
import io
import time

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


def sjoin_assign(zones, x, y):
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(x, y), crs=4326)
    joined = gpd.sjoin(points, zones, predicate="within", how="left")
    return joined[~joined.index.duplicated()]["code"].to_numpy()


def postgis_setup(url: str, zones: gpd.GeoDataFrame) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    conn.execute("DROP TABLE IF EXISTS bench_zones, bench_points")
    conn.execute("CREATE TABLE bench_zones (code text, geom geometry(MultiPolygon, 4326))")
    with conn.cursor().copy("COPY bench_zones (code, geom) FROM STDIN") as copy:
        for code, wkb in zip(zones["code"], shapely.to_wkb(zones.geometry.values, hex=True,
                                                           include_srid=False), strict=True):
            copy.write_row((code, wkb))
    conn.execute("UPDATE bench_zones SET geom = ST_SetSRID(geom, 4326)")
    conn.execute("CREATE INDEX ON bench_zones USING gist (geom)")
    conn.execute("ANALYZE bench_zones")
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
        "SELECT p.i, min(z.code) FROM bench_points p LEFT JOIN bench_zones z "
        "ON ST_Intersects(z.geom, p.geom) GROUP BY p.i ORDER BY p.i").fetchall()
    return np.array([code for _, code in rows], dtype=object)


def lookups(zones, conn, x, y, n: int = 2000) -> None:
    index = AreaIndex(zones["code"].to_numpy(), zones.geometry.values)
    start = time.perf_counter()
    ours = [index.lookup(a, b) for a, b in zip(x[:n], y[:n], strict=True)]
    capmap_us = (time.perf_counter() - start) / n * 1e6
    print(f"single lookups, capmap in-process: {capmap_us:.1f} µs per point")
    if conn is None:
        return
    query = ("SELECT min(code) FROM bench_zones "
             "WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%s, %s), 4326))")
    start = time.perf_counter()
    theirs = [conn.execute(query, (float(a), float(b)), prepare=True).fetchone()[0]
              for a, b in zip(x[:n], y[:n], strict=True)]
    pg_us = (time.perf_counter() - start) / n * 1e6
    print(f"single lookups, PostGIS query:     {pg_us:.1f} µs per point; "
          f"capmap {pg_us / capmap_us:.1f}x faster; answers equal: {ours == theirs}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--postgis", help="a PostGIS database to use (tables bench_* replaced)")
    args = parser.parse_args()
    zones = load_zones()
    x, y = random_points(args.points, zones)
    print(f"{len(zones)} data zones, {len(x):,} points")
    ours_s, ours = best_of(lambda: capmap_assign(zones, x, y))
    print(f"capmap assign:      {ours_s:.2f} s ({np.sum(ours != None):,} inside)")  # noqa: E711
    sjoin_s, theirs = best_of(lambda: sjoin_assign(zones, x, y))
    same = np.array_equal(np.where(ours == None, "", ours), np.where(pd_na(theirs), "", theirs))  # noqa: E711
    print(f"geopandas.sjoin:    {sjoin_s:.2f} s; capmap {sjoin_s / ours_s:.2f}x faster; "
          f"answers equal: {same}")
    conn = None
    if args.postgis:
        conn = postgis_setup(args.postgis, zones)
        load_s, _ = best_of(lambda: postgis_load(conn, x, y), repeat=1)
        join_s, pg = best_of(lambda: postgis_join(conn), repeat=1)
        same = np.array_equal(np.where(ours == None, "", ours), np.where(pg == None, "", pg))  # noqa: E711
        print(f"PostGIS GiST join:  {join_s:.2f} s for the join, {load_s + join_s:.2f} s with "
              f"loading the points; capmap {join_s / ours_s:.2f}x faster than the join alone, "
              f"{(load_s + join_s) / ours_s:.2f}x with loading; answers equal: {same}")
    lookups(zones, conn, x, y)


def pd_na(values: np.ndarray) -> np.ndarray:
    return np.array([v is None or v != v for v in values])


if __name__ == "__main__":
    main()
