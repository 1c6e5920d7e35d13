"""The Local Place Plan register at a national size: 32 councils with --per-council plans each
(20: 640 entries, more than Scotland is likely to hold), every plan at one of the stages. Times
the index's counts per council and status (grouped SQL) and one council's public register against
the peer that reads the whole register with its geometry into pandas and groups it there, on
SQLite and, with --postgis, PostGIS, in the same run.

    python bench/bench_lpp_register.py [--per-council 20] [--runs 5] [--postgis postgresql://…]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import date
from pathlib import Path

import shapely
from common import best_of
from shapely.geometry import mapping

from capmap.io.prepare import PlanFields
from capmap.services import lpp_register, pipeline
from capmap.storage import open_store
from capmap.storage.schema import metadata

COUNCILS = [f"S12{900001 + i}" for i in range(32)]
PATHS = [["submitted"], ["proposed"], ["submitted", "validated", "registered"],
         ["submitted", "not_registered"], ["submitted", "validated", "registered", "removed"]]
TODAY = date(2026, 11, 1)


def _plans_file(folder: Path, per_council: int) -> Path:
    """Drawn Local Place Plans: 1 km squares with a few hundred vertices each, in Scotland."""
    features = []
    for c, council in enumerate(COUNCILS):
        for n in range(per_council):
            x, y = -4.5 + 0.05 * n, 55.8 + 0.03 * c
            square = shapely.Point(x, y).buffer(0.006, quad_segs=64)
            features.append({"type": "Feature", "geometry": mapping(square), "properties": {
                "ref": f"LPP-{c}-{n}", "type": "local_place_plan", "title": f"Plan {c}-{n}",
                "owner": f"Community council {c}-{n}", "council_code": council}})
    path = folder / "plans.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _steps(per_council: int) -> list[dict[str, str]]:
    rows = []
    for c in range(len(COUNCILS)):
        for n in range(per_council):
            for day, to in enumerate(PATHS[(c + n) % len(PATHS)], start=1):
                reason = "a reason" if to in lpp_register.NEEDS_REASON else ""
                rows.append({"plan_ref": f"LPP-{c}-{n}", "to": to, "on": f"2026-01-{day:02d}",
                             "reason": reason})
    return rows


def _peer_counts(store) -> dict:
    """The whole register read into pandas (geometry and all), grouped there."""
    frame = store.lpp_frame()
    return frame.groupby(["council_code", "status"]).size().to_dict()


def run(url: str, folder: Path, per_council: int, runs: int) -> None:
    store = open_store(url)
    with store.engine.begin() as conn:
        metadata.drop_all(conn)
    store.init()
    pipeline.import_plans(store, _plans_file(folder, per_council), PlanFields())
    lpp_register.take_steps(store, _steps(per_council), "bench", today=TODAY)
    ours = {(c, s): n for c, s, n in store.lpp_counts()}
    assert ours == _peer_counts(store), "the grouped counts differ from the peer's"
    counts, _ = best_of(store.lpp_counts, runs)
    peer, _ = best_of(lambda: _peer_counts(store), runs)
    one, _ = best_of(lambda: store.lpp_entries(COUNCILS[0], lpp_register.PUBLIC_STATUSES), runs)
    one_peer, _ = best_of(lambda: store.lpp_frame().query(
        "council_code == @COUNCILS[0] and status in ('registered', 'removed')"), runs)
    kind = url.split(":")[0]
    print(f"{kind}: {sum(ours.values())} entries; counts per council and status "
          f"{counts * 1e3:.1f} ms vs whole register in pandas {peer * 1e3:.1f} ms "
          f"(x{peer / counts:.1f}); one council's public register {one * 1e3:.1f} ms vs "
          f"{one_peer * 1e3:.1f} ms (x{one_peer / one:.1f})")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-council", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--postgis", help="an empty PostGIS database URL (its tables are dropped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        run(f"sqlite:///{folder / 'bench.sqlite'}", folder, args.per_council, args.runs)
        if args.postgis:
            run(args.postgis, folder, args.per_council, args.runs)


if __name__ == "__main__":
    main()
