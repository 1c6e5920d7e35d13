"""Export the 6,976 real data zones and 1,000,000 synthetic engagement responses to GeoPackage and
FlatGeobuf: capmap's writer against a plain pyogrio.write_dataframe of the same frame, same run.

    python bench/bench_export.py [--responses 1000000]

The data zones are imported into a temporary SQLite store first (as `capmap import boundaries
boundaries/dz11.toml` does); "capmap export" times the whole export from that store (reading the
layer, metadata, writing the file). The responses are built in memory with the store's response
columns and are not stored: both sides write that one frame, and capmap's time is its writer
(metadata, dates as ISO text, the same file format). In EPSG:27700 capmap transforms through
OSTN15 and the plain write through pyproj's `to_crs`, each inside its own time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
from common import best_of, realdata

from capmap.core.models import CHANNELS
from capmap.core.policy import EXACT_ROLES
from capmap.io.writers import Part, write_export
from capmap.services.exports import ExportRequest, export
from capmap.services.layers import load_layer_def
from capmap.services.pipeline import import_boundaries
from capmap.spatial.assign import AreaIndex
from capmap.storage import open_store
from capmap.storage.records import RESPONSE_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
DRIVERS = {"gpkg": "GPKG", "fgb": "FlatGeobuf"}
THEMES = ("health", "housing", "transport", "poverty", "community_safety", "food", "employment")
ABOUT = {"title": "bench", "licence": "Open Government Licence v3.0"}


def synthetic_responses(n: int, zones: gpd.GeoDataFrame, seed: int = 7) -> gpd.GeoDataFrame:
    """`n` responses at random points on Scotland's land (inside a data zone), with the columns
    the store returns: ids, refs, campaigns, channels, dates, themes, age bands."""
    rng = np.random.default_rng(seed)
    index = AreaIndex(zones["code"].to_numpy(), zones.geometry.values)
    minx, miny, maxx, maxy = zones.total_bounds
    xs, ys, have = [], [], 0
    while have < n:
        x, y = rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
        land = index.positions(x, y) >= 0
        xs.append(x[land])
        ys.append(y[land])
        have += int(land.sum())
    x, y = np.concatenate(xs)[:n], np.concatenate(ys)[:n]
    start = dt.date(2024, 1, 1)
    picks = rng.integers(0, len(THEMES), (n, 2))
    frame = gpd.GeoDataFrame({
        "id": np.arange(1, n + 1),
        "ref": [f"R-{i:07d}" for i in range(1, n + 1)],
        "campaign": rng.choice(["Our Place 2024", "Budget 2025", "Locality review"], n),
        "channel": rng.choice(CHANNELS, n),
        "date": np.array([start + dt.timedelta(days=int(d)) for d in rng.integers(0, 700, n)],
                         dtype=object),
        "themes": [f"{THEMES[a]};{THEMES[b]}" if a != b else THEMES[a] for a, b in picks],
        "area_layer": None, "area_code": None,
        "age_band": rng.choice(["16-24", "25-44", "45-64", "65+"], n),
    }, geometry=gpd.points_from_xy(x, y), crs="EPSG:4326")
    return frame.rename_geometry("geom")[RESPONSE_COLUMNS]


def plain_write(frame: gpd.GeoDataFrame, path: Path, fmt: str, crs: str) -> None:
    """The peer: pyogrio.write_dataframe, after geopandas' to_crs for EPSG:27700."""
    out = frame.to_crs(crs) if crs != "EPSG:4326" else frame
    pyogrio.write_dataframe(out, path, driver=DRIVERS[fmt])


def compare(label: str, ours, theirs, paths: tuple[Path, Path], repeat: int) -> None:
    """Time both writers and check that both files hold the same number of features."""
    ours_s, _ = best_of(ours, repeat)
    theirs_s, _ = best_of(theirs, repeat)
    written = [pyogrio.read_info(p)["features"] for p in paths]
    assert written[0] == written[1], written
    print(f"  {label:<12} capmap {ours_s:7.2f} s   pyogrio {theirs_s:7.2f} s   "
          f"ratio {ours_s / theirs_s:5.2f}   ({written[0]:,} features)")


def main() -> None:
    """Import the data zones, build the responses, and time both writers on each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    args = parser.parse_args()
    source = realdata("datazones_2011_scotland.geojson")
    with tempfile.TemporaryDirectory(prefix="capmap-bench-") as tmp:
        work = Path(tmp)
        store = open_store(f"sqlite:///{work / 'bench.sqlite'}")
        store.init()
        report = import_boundaries(store, load_layer_def(ROOT / "boundaries" / "dz11.toml"), source)
        print(f"imported {report.stored:,} data zones in {report.seconds:.1f} s")
        zones = store.areas("dz11")
        part = [Part("dz11", zones, "Polygon")]
        print("-- data zones, the frame read from the store: capmap's writer vs pyogrio")
        for fmt in DRIVERS:
            for crs in ("EPSG:4326", "EPSG:27700"):
                ours, theirs = work / f"dz-ours.{fmt}", work / f"dz-theirs.{fmt}"
                compare(f"{fmt} {crs}", lambda f=fmt, c=crs, p=ours: write_export(part, p, f, c, ABOUT),
                        lambda f=fmt, c=crs, p=theirs: plain_write(zones, p, f, c),
                        (ours, theirs), repeat=3)
        print("-- data zones, capmap's whole export from the store (read, metadata, write) vs "
              "pyogrio writing the frame already read")
        for fmt in DRIVERS:
            ours, theirs = work / f"dz-ours.{fmt}", work / f"dz-theirs.{fmt}"
            request = ExportRequest(("dz11",), fmt, "EPSG:4326", roles=EXACT_ROLES)
            compare(f"{fmt} EPSG:4326", lambda r=request, p=ours: export(store, r, p),
                    lambda f=fmt, p=theirs: plain_write(zones, p, f, "EPSG:4326"),
                    (ours, theirs), repeat=3)
        store.close()
        responses = synthetic_responses(args.responses, zones)
        points = [Part("responses", responses, "Point")]
        print(f"-- {len(responses):,} synthetic responses, built in memory (not stored): "
              "capmap's writer vs pyogrio on the same frame")
        for fmt in DRIVERS:
            for crs in ("EPSG:4326", "EPSG:27700"):
                ours, theirs = work / f"r-ours.{fmt}", work / f"r-theirs.{fmt}"
                compare(f"{fmt} {crs}", lambda f=fmt, c=crs, p=ours, q=points:
                        write_export(q, p, f, c, ABOUT),
                        lambda f=fmt, c=crs, p=theirs: plain_write(responses, p, f, c),
                        (ours, theirs), repeat=1)


if __name__ == "__main__":
    main()
