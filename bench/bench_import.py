"""Import all 6,976 real data zones with `capmap import boundaries`' pipeline, against a plain
pyogrio read of the same file in the same run.

capmap does more than read: it sniffs the file, counts vertices, reprojects if needed, repairs the
invalid geometries, checks codes and region, and writes everything to the database in one
transaction. The ratio says what that costs over reading alone.

    python bench/bench_import.py [--postgis postgresql://postgres@127.0.0.1/capmap_bench]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pyogrio
from common import best_of, realdata

from capmap import pipeline
from capmap.layers import load_layer_def
from capmap.storage import open_store

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgis", help="also import into this PostGIS database (wiped)")
    args = parser.parse_args()
    path = realdata("datazones_2011_scotland.geojson")
    layer = load_layer_def(ROOT / "boundaries" / "dz11.toml")

    read_s, frame = best_of(lambda: pyogrio.read_dataframe(path))
    print(f"plain pyogrio read: {len(frame)} features in {read_s:.3f} s")

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
            seconds, report = best_of(lambda s=store: pipeline.import_boundaries(s, layer, path))
            store.close()
            print(f"capmap import into {name}: read {report.read}, stored {report.stored}, "
                  f"repaired {len(report.repaired)} ({', '.join(report.repaired)}) in "
                  f"{seconds:.3f} s; ratio to plain read {seconds / read_s:.2f}x")


if __name__ == "__main__":
    main()
