"""Import all 6,976 real data zones with `capmap import boundaries`' pipeline, against what
ogr2ogr would do with the same file in the same run: read it and write it to a database.

The peer reads with pyogrio and writes with pyogrio.write_dataframe to a GeoPackage (SQLite, with
its spatial index, as `ogr2ogr -f GPKG`), or COPYs the rows into a PostGIS table with a geometry
column and builds its GiST index (as `ogr2ogr -f PostgreSQL` does). capmap does more than that: it
sniffs the file, counts vertices, reprojects if needed, repairs the invalid geometries, checks codes
and region, writes in one transaction and derives the assignments and plan coverage. The ratio says
what that costs over a plain copy. Both sides are the minimum of --runs runs.

    python bench/bench_import.py [--runs 3] [--postgis postgresql://postgres@127.0.0.1/capmap_bench]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import psycopg
import pyogrio
import shapely
from common import best_of, realdata
from psycopg import sql

from capmap.services import pipeline
from capmap.services.layers import load_layer_def
from capmap.storage import open_store

ROOT = Path(__file__).resolve().parents[1]


def gpkg_copy(path: Path, target: Path) -> int:
    """ogr2ogr -f GPKG: read the file, write every feature and column to a GeoPackage."""
    frame = pyogrio.read_dataframe(path)
    target.unlink(missing_ok=True)
    pyogrio.write_dataframe(frame, target, driver="GPKG", layer="zones")
    return len(frame)


def postgis_copy(path: Path, url: str) -> int:
    """ogr2ogr -f PostgreSQL: read the file, COPY every feature into a new table with a geometry
    column (hex EWKB), then its GiST index."""
    frame = pyogrio.read_dataframe(path)
    columns = [c for c in frame.columns if c != "geometry"]
    wkb = shapely.to_wkb(shapely.set_srid(frame.geometry.values, 4326), hex=True,
                         include_srid=True)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_ogr_zones")
        fields = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
        conn.execute(sql.SQL("CREATE TABLE bench_ogr_zones ({}, geom geometry(MultiPolygon, 4326))")
                     .format(fields))
        with conn.cursor().copy("COPY bench_ogr_zones FROM STDIN") as copy:
            for row, geom in zip(frame[columns].astype(str).itertuples(index=False), wkb,
                                 strict=True):
                copy.write_row((*row, geom))
        conn.execute("CREATE INDEX ON bench_ogr_zones USING gist (geom)")
    return len(frame)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each side; the min is kept")
    parser.add_argument("--postgis", help="also import into this PostGIS database (wiped)")
    args = parser.parse_args()
    path = realdata("datazones_2011_scotland.geojson")
    layer = load_layer_def(ROOT / "boundaries" / "dz11.toml")

    read_s, frame = best_of(lambda: pyogrio.read_dataframe(path), args.runs)
    print(f"plain pyogrio read (for information): {len(frame)} features in {read_s:.3f} s")

    urls = []
    with tempfile.TemporaryDirectory() as tmp:
        urls.append(("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite'}"))
        if args.postgis:
            urls.append(("postgis", args.postgis))
        for name, url in urls:
            store = open_store(url)
            if name == "postgis":
                from capmap.storage.schema import metadata

                with store.engine.begin() as conn:
                    metadata.drop_all(conn)
            store.init()
            seconds, report = best_of(lambda s=store: pipeline.import_boundaries(s, layer, path),
                                      args.runs)
            store.close()
            if name == "sqlite":
                peer = "pyogrio write_dataframe to GPKG"
                peer_s, _ = best_of(lambda: gpkg_copy(path, Path(tmp) / "peer.gpkg"), args.runs)
            else:
                peer = "COPY into PostGIS + GiST"
                peer_s, _ = best_of(lambda: postgis_copy(path, args.postgis), args.runs)
            print(f"capmap import into {name}: read {report.read}, stored {report.stored}, "
                  f"repaired {len(report.repaired)} ({', '.join(report.repaired)}) in "
                  f"{seconds:.3f} s")
            print(f"  peer (ogr2ogr-like: read + {peer}): {peer_s:.3f} s; ratio capmap / peer "
                  f"{seconds / peer_s:.2f}x")


if __name__ == "__main__":
    main()
