"""The costliest accepted planscape queries, before and after a change, and against PostGIS.

On the national data (bench/national.py's cached SQLite database): the planscape() of this checkout
against the planscape module of an earlier commit (`--before`, loaded from git into this process,
so both run on one engine with the same layers in memory), and the PostGIS peer of the same
overlay (bench/national_planscape.py: ST_Subdivide pieces, GiST) when `--postgis` is given. Each
side runs the same shapes `--runs` times; the best CPU and wall seconds are printed, with the
ratios, and the largest relative difference between the answers before and after; then the
overlay alone (plans cut by the query, people and land, areas touched: the planscape less its
actions and pins), before and after.

    .venv/bin/python bench/bench_overlay.py [--before eac5e32] [--runs 3] [--postgis URL]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
import national_planscape as peer  # noqa: E402
from bench_attacks import _per, circle, holed_square, many_parts  # noqa: E402
from national import build, pg_url, realdata_present, reset_schema  # noqa: E402
from national_data import BuildParams  # noqa: E402

from capmap.core.budgets import MAX_PARTS, MAX_RINGS, MAX_VERTICES  # noqa: E402
from capmap.core.crs import geoms_lonlat_to_bng  # noqa: E402
from capmap.services import planscape as after
from capmap.services.engine import Engine  # noqa: E402
from capmap.spatial.query_overlay import layer_overlap, query_pieces  # noqa: E402
from capmap.storage import open_store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def shapes() -> dict[str, shapely.Geometry]:
    """The worst shapes the budgets accept (as bench_attacks.py sends them), and a plain one."""
    return {
        "square 0.6 deg, no holes": holed_square(0, 0.6),
        f"square 0.6 deg, {MAX_RINGS - 1} holes": holed_square(MAX_RINGS - 1, 0.6,
                                                               _per(MAX_RINGS - 1)),
        f"{MAX_PARTS} parts over 1 deg": many_parts(MAX_PARTS, 1.0, _per(MAX_PARTS)),
        f"circle r 0.5 deg, {MAX_VERTICES - 1:,} vertices": circle(MAX_VERTICES - 1, 0.5),
    }


def module_at(commit: str):
    """src/capmap/planscape.py as it was at `commit`, imported under another name."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:src/capmap/planscape.py"],
                          check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "planscape_before.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location("planscape_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def best(run, runs: int) -> tuple[float, float, object]:
    """Best CPU and wall seconds of `runs` calls, and the last answer."""
    cpu_s, wall_s = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        answer = run()
        cpu_s.append(time.process_time() - cpu)
        wall_s.append(time.perf_counter() - wall)
    return min(cpu_s), min(wall_s), answer


def numbers(answer: dict) -> dict[str, float]:
    """Every measured figure of a planscape answer, by a name saying what it is."""
    out = {f"query {k}": answer["query"][k] for k in ("area_km2", "land_km2", "population")}
    for row in answer["plans"] + answer["edge_plans"]:
        for k in ("overlap_km2", "share_of_query", "share_of_plan", "population_share", "match"):
            out[f"plan {row['id']} {k}"] = row[k]
    for layer_id, areas in answer["areas"].items():
        for area in areas:
            for k in ("overlap_km2", "share_of_area"):
                out[f"{layer_id} {area['code']} {k}"] = area[k]
    return out


def largest_difference(old: dict, new: dict) -> str:
    """The largest relative difference between two answers' figures, or what one lacks."""
    a, b = numbers(old), numbers(new)
    if a.keys() != b.keys():
        return f"DIFFERENT FIGURES: {sorted(a.keys() ^ b.keys())[:5]}"
    worst = 0.0
    for key, x in a.items():
        y = b[key]
        if x is None or y is None:
            if x != y:
                return f"DIFFERENT: {key} {x} / {y}"
            continue
        worst = max(worst, abs(x - y) / max(abs(x), abs(y), 1e-300))
    return f"max rel diff {worst:.1e}"


def overlay_before(module, engine, store, q_bng) -> None:
    """The overlay of the earlier planscape alone: plan pieces, people and land, areas touched."""
    _, pieces, _ = module.plan_pieces(engine.plans(), q_bng)
    module._measured(engine, q_bng, pieces)
    module._areas_touched(engine, q_bng)


def overlay_after(engine, store, q_bng) -> None:
    """The same for this checkout's planscape."""
    plans = engine.plans()
    hits, pieces, _ = after.plan_pieces(plans, q_bng)
    q_pieces = query_pieces(q_bng)
    covers = {layer_id: layer_overlap(q_pieces, state.bng, state.bng_tree)
              for layer_id, state in engine.layers().items()}
    after._measured(engine, store, plans, hits, pieces, q_bng, covers)
    after._areas_touched(engine, covers)


def peer_sql(postgis: str | None, store):
    if not postgis:
        return None
    url = pg_url(postgis, "overlay_peer")
    reset_schema(postgis, "overlay_peer")
    peer.setup(url, store)
    return open_store(url).engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="eac5e32")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgis", help="a PostGIS database URL for the peer")
    args = parser.parse_args()
    if not realdata_present():
        return
    store = open_store(build("sqlite", 10_000, BuildParams()).url)
    before = module_at(args.before)
    engine = Engine(store)
    sql = peer_sql(args.postgis, store)
    small = shapely.box(-4.30, 55.83, -4.29, 55.84)
    for module in (before, after):  # warm: every layer in EPSG:27700, the stored coverage read
        module.planscape(engine, store, after.polygon_query(json.dumps(
            shapely.geometry.mapping(small))))
    print(f"planscape, national data, best of {args.runs} (CPU s / wall s); before = "
          f"{args.before}")
    for label, shape in shapes().items():
        query = after.polygon_query(json.dumps(shapely.geometry.mapping(shape)))
        old_cpu, old_wall, old = best(lambda q=query: before.planscape(engine, store, q), args.runs)
        new_cpu, new_wall, new = best(lambda q=query: after.planscape(engine, store, q), args.runs)
        line = (f"{label:<34} before {old_cpu:5.2f}/{old_wall:5.2f}  after {new_cpu:5.2f}/"
                f"{new_wall:5.2f}  after/before {new_cpu / old_cpu:4.2f}x CPU")
        if sql is not None:
            _, peer_wall, _ = best(lambda s=shape: peer.planscape(sql, "polygon", s), args.runs)
            line += f"  PostGIS {peer_wall:5.2f} wall, after/PostGIS {new_wall / peer_wall:4.2f}x"
        print(f"{line}  {largest_difference(old, new)}", flush=True)
        q_bng = geoms_lonlat_to_bng(np.array([query.geometry]))[0]
        shapely.prepare(q_bng)
        old_cpu, old_wall, _ = best(lambda q=q_bng: overlay_before(before, engine, store, q),
                                    args.runs)
        new_cpu, new_wall, _ = best(lambda q=q_bng: overlay_after(engine, store, q), args.runs)
        print(f"{'  the overlay alone':<34} before {old_cpu:5.2f}/{old_wall:5.2f}  after "
              f"{new_cpu:5.2f}/{new_wall:5.2f}  after/before {new_cpu / old_cpu:4.2f}x CPU",
              flush=True)


if __name__ == "__main__":
    main()
