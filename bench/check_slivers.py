"""Slivers on real boundaries: the planscape of a 2022 ward against plans drawn as 2019 council
areas (one LOIP per council), two boundary sets whose edges disagree by metres.

Builds a temporary SQLite store through capmap's own imports, asks the planscape for the ward by
its code, and prints every plan with its shares, the overlap's width and how it is classed.
Govan (S13002971) lies on the Clyde opposite Renfrewshire; its plans should be Glasgow's LOIP,
with Renfrewshire's touching the edge only.

    .venv/bin/python bench/check_slivers.py [--ward S13002971] [--all]

With --all it asks for every ward, and counts the overlaps under the default share against both
the ward and the plan (every one is with a council other than the ward's own, since wards nest
in councils) by the width limit that would class them as edge-only.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyogrio  # noqa: E402
from common import realdata  # noqa: E402

from capmap.io.prepare import PlanFields  # noqa: E402
from capmap.services import pipeline
from capmap.services.engine import Engine  # noqa: E402
from capmap.services.layers import load_layer_def  # noqa: E402
from capmap.services.planscape import codes_query, planscape  # noqa: E402
from capmap.spatial.slivers import DEFAULT_TOLERANCE, SliverTolerance  # noqa: E402
from capmap.storage import open_store  # noqa: E402

BOUNDARIES = Path(__file__).resolve().parents[1] / "boundaries"


def build(folder: Path):
    """A store with the 2022 wards, the council areas, and a LOIP per council given by its code."""
    store = open_store(f"sqlite:///{folder / 'slivers.sqlite'}")
    store.init()
    for toml, name in (("council19.toml", "council_areas_scotland.geojson"),
                       ("wards22.toml", "wards_2022_scotland_ons2022_bsc.geojson")):
        pipeline.import_boundaries(store, load_layer_def(BOUNDARIES / toml), realdata(name))
    councils = pyogrio.read_dataframe(realdata("council_areas_scotland.geojson"),
                                      columns=["code", "name"], read_geometry=False)
    layer = load_layer_def(BOUNDARIES / "council19.toml").id
    lines = ["ref,type,title,layer,area_codes"]
    lines += [f"LOIP-{code},loip,{name} LOIP,{layer},{code}"
              for code, name in zip(councils["code"], councils["name"], strict=True)]
    plans = folder / "loips.csv"
    plans.write_text("\n".join(lines) + "\n")
    pipeline.import_plans(store, plans, PlanFields())
    return store


def sweep(engine: Engine, store, ward_layer: str) -> None:
    """Widths of every small overlap of every ward, and how many each width limit classes."""
    wide_open = SliverTolerance(DEFAULT_TOLERANCE.max_share, float("inf"))
    codes = engine.layer(ward_layer).areas["code"].tolist()
    found = []
    for code in codes:
        found += [p["overlap_width_m"] for p in
                  planscape(engine, store, codes_query(engine, ward_layer, [code]),
                            wide_open)["edge_plans"]]
    print(f"{len(codes)} wards: {len(found)} overlaps under {DEFAULT_TOLERANCE.max_share:.1%} "
          f"of both the ward and the plan")
    for limit in (25, 50, 75, 100, 150):
        print(f"  narrower than {limit:>3} m: {sum(w < limit for w in found)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ward", default="S13002971", help="ward code (2022), default Govan")
    parser.add_argument("--all", action="store_true", help="also sweep every ward")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="capmap-slivers-") as tmp:
        store = build(Path(tmp))
        engine = Engine(store)
        ward_layer = load_layer_def(BOUNDARIES / "wards22.toml").id
        answer = planscape(engine, store, codes_query(engine, ward_layer, [args.ward]))
        if args.all:
            sweep(engine, store, ward_layer)
        store.close()
    print(f"ward {args.ward}: {answer['query']['area_km2']:.3f} km²; tolerance "
          f"{DEFAULT_TOLERANCE.sentence()}")
    print(f"{'plan':<34} {'class':<10} {'of ward':>9} {'of plan':>10} {'overlap m²':>11} {'width m':>8}")
    for label, rows in (("covers", answer["plans"]), ("edge only", answer["edge_plans"])):
        for p in rows:
            print(f"{p['title'][:34]:<34} {label:<10} {p['share_of_query']:>9.4%} "
                  f"{p['share_of_plan']:>10.5%} {p['overlap_km2'] * 1e6:>11,.0f} "
                  f"{p['overlap_width_m']:>8.1f}")


if __name__ == "__main__":
    main()
