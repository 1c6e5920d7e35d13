"""Importing a national postcode directory (150,000 live postcodes, ONSPD layout, generated)
with `capmap import postcodes` against a plain peer: psycopg COPY of the same rows (postcode,
ST_Point from lon/lat already computed) into a bare table with a primary key and GiST index.

    .venv/bin/python bench/bench_postcodes.py --postgis postgresql://postgres@127.0.0.1/capmap_bench
"""

from __future__ import annotations

import argparse
import string
import tempfile
from pathlib import Path

import numpy as np
import psycopg

from bench.common import best_of
from capmap.core.crs import bng_to_lonlat
from capmap.services import pipeline
from capmap.storage import open_store

ROWS = 150_000


def _directory(folder: Path) -> tuple[Path, list[tuple[str, float, float]]]:
    """A generated ONSPD file of ROWS Scottish postcodes in the Central Belt."""
    rng = np.random.default_rng(1)
    letters = string.ascii_uppercase
    codes = [f"G{d} {s}{a}{b}" for d in range(1, 85) for s in range(10)
             for a in letters[:14] for b in letters[:14]][:ROWS]
    e = rng.uniform(230_000, 330_000, len(codes))
    n = rng.uniform(640_000, 700_000, len(codes))
    path = folder / "onspd.csv"
    with path.open("w") as out:
        out.write("pcd,pcds,doterm,oseast1m,osnrth1m,lat,long\n")
        for code, x, y in zip(codes, e, n, strict=True):
            out.write(f"{code},{code},,{x:.0f},{y:.0f},56.0,-4.0\n")
    lon, lat = bng_to_lonlat(np.round(e), np.round(n))
    return path, list(zip(codes, lon.tolist(), lat.tolist(), strict=True))


def _peer(url: str, rows: list[tuple[str, float, float]]) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS peer_postcodes")
        conn.execute("CREATE TABLE peer_postcodes (postcode text PRIMARY KEY, lon float8, "
                     "lat float8)")
        with conn.cursor().copy("COPY peer_postcodes FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.execute("ALTER TABLE peer_postcodes ADD COLUMN geom geometry(Point, 4326)")
        conn.execute("UPDATE peer_postcodes SET geom = ST_SetSRID(ST_Point(lon, lat), 4326)")
        conn.execute("CREATE INDEX ON peer_postcodes USING gist (geom)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgis", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, rows = _directory(Path(tmp))
        store = open_store(args.postgis)
        store.init()
        ours, report = best_of(lambda: pipeline.import_postcodes(store, path), args.runs)
        peer, _ = best_of(lambda: _peer(args.postgis, rows), args.runs)
        sqlite = open_store(f"sqlite:///{tmp}/bench.sqlite")
        sqlite.init()
        on_sqlite, _ = best_of(lambda: pipeline.import_postcodes(sqlite, path), args.runs)
    print(f"{report.stored:,} postcodes (replacing the same rows after the first run)")
    print(f"capmap import, PostGIS: {ours:.2f} s (read, OSTN15, checks, COPY); "
          f"peer COPY of ready lon/lat: {peer:.2f} s; ratio x{ours / peer:.2f}")
    print(f"capmap import, SQLite: {on_sqlite:.2f} s")


if __name__ == "__main__":
    main()
