"""capmap at Scotland's scale: the national layers, ~200 plans, 500 actions, 100,000 pins and
10k / 100k / 1M generated responses, each row beside a plain peer measured in the same run.

    .venv/bin/python bench/bench_national.py [--sizes 10000,100000,1000000]
        [--backends sqlite,postgis] [--postgis postgresql://postgres@127.0.0.1/capmap_bench]
        [--runs 3] [--import-runs N] [--quick] [--rebuild] [--reimport]
        [--rows import,engagement,dashboard,plans,planscape] [--json results.json]

Rows (min of --runs on both sides; ratio = ours / peer, lower is better):
- engagement coverage (the function and GET /api/coverage/engagement) per size, unfiltered, by
  campaign + dates and by theme, against the grouped SQL query answering the same question on the
  same database through the same driver; and time at the largest size over time at the smallest;
- GET /dashboard/engagement at the largest size (logged in as an officer), same peer;
- GET /dashboard/plans as a first request (a new app) and its CSVs, against reading the derived
  plan_coverage table with grouped SQL;
- `capmap import responses` (CLI subprocess, with peak memory) against pandas + executemany
  (SQLite) or COPY (PostGIS) into a plain table; run when a database is built (or --reimport);
- the planscape of a point, a 2 km circle and Glasgow (by its zones' codes and as its polygon),
  with 100,000 published pins and with none, against the PostGIS overlay on BNG copies.

Databases are cached under /tmp/capmap_bench_national (keyed by the builder's parameters); PostGIS
uses one schema per database in the --postgis database. Needs ../shared/realdata; exits 0 without.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

import national
import national_peers as peers
import national_rows as rows_mod
from national_data import BuildParams
from national_report import Bench

DEFAULT_PG = os.environ.get("CAPMAP_BENCH_POSTGIS_URL")
GROUPS = ("import", "engagement", "dashboard", "plans", "planscape")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="response counts, comma separated")
    parser.add_argument("--backends", default="sqlite,postgis", help="sqlite and/or postgis")
    parser.add_argument("--postgis", default=DEFAULT_PG,
                        help="a PostGIS database for the postgis backend and the planscape peer "
                             "(schemas nat_* replaced); also CAPMAP_BENCH_POSTGIS_URL")
    parser.add_argument("--runs", type=int, default=3, help="runs per side; the minimum is kept")
    parser.add_argument("--import-runs", type=int, default=None,
                        help="runs of the 1M-scale import rows (default: --runs)")
    parser.add_argument("--quick", action="store_true", help="10k responses only: a smoke run")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached databases")
    parser.add_argument("--reimport", action="store_true",
                        help="measure the import rows on cached databases too (re-imports)")
    parser.add_argument("--rows", default=",".join(GROUPS),
                        help=f"which groups of rows, comma separated (default all: "
                             f"{','.join(GROUPS)})")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    args.rows = {g.strip() for g in args.rows.split(",") if g.strip()}
    unknown = args.rows - set(GROUPS)
    if unknown:
        parser.error(f"--rows: unknown {', '.join(sorted(unknown))}; expected {', '.join(GROUPS)}")
    args.sizes = [10_000] if args.quick else sorted(int(s) for s in args.sizes.split(","))
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "postgis" in args.backends and not args.postgis:
        print("postgis: not run (give --postgis URL or CAPMAP_BENCH_POSTGIS_URL)")
        args.backends.remove("postgis")
    if args.postgis:  # the peers connect with psycopg itself, which reads libpq URLs only
        args.postgis = args.postgis.replace("postgresql+psycopg://", "postgresql://", 1)
    return args


def run_backend(backend: str, args, params: BuildParams, bench: Bench) -> None:
    """Build (or reuse) the databases of one backend and measure every row on them."""
    built = {}
    for size in args.sizes:
        try:
            print(f"{backend}: database with {size:,} responses ...", flush=True)
            built[size] = national.build(backend, size, params, postgis=args.postgis,
                                         rebuild=args.rebuild)
            peers.prepare_indexes(rows_mod.engine_of(built[size].url))
            print(f"  {'built' if built[size].built_now else 'cached'}: "
                  f"{_timings(built[size].timings)}", flush=True)
        except Exception as exc:  # noqa: BLE001 - a failed build skips its rows, not the bench
            bench.failed(backend, size, "build", exc)
    if not built:
        return
    wanted = args.rows
    for size, db in built.items():
        if "import" in wanted and (db.built_now or args.reimport):
            bench.guard(backend, size, "import", lambda db=db: rows_mod.import_rows(bench, db))
    for size, db in built.items():
        if "engagement" in wanted:
            bench.guard(backend, size, "engagement",
                        lambda db=db: rows_mod.engagement_rows(bench, db))
    bench.scaling(backend, min(built), max(built))
    largest, smallest = built[max(built)], built[min(built)]
    if "dashboard" in wanted:
        bench.guard(backend, largest.size, "dashboard",
                    lambda: rows_mod.dashboard_row(bench, largest))
    if "plans" in wanted:
        bench.guard(backend, smallest.size, "plans", lambda: rows_mod.plans_rows(bench, smallest))
    if "planscape" in wanted:
        bench.guard(backend, smallest.size, "planscape",
                    lambda: rows_mod.planscape_rows(bench, smallest, params))


def _timings(timings: dict) -> str:
    return ", ".join(f"{k} {v:.1f}{' MB' if 'MB' in k else ' s'}" for k, v in timings.items())


def main() -> int:
    args = parse_args()
    if not national.realdata_present():
        return 0
    params = BuildParams()
    bench = Bench(args.runs, args.import_runs or args.runs, args.postgis,
                           national.params_key(params))
    for backend in args.backends:
        try:
            run_backend(backend, args, params, bench)
        except Exception:  # noqa: BLE001 - report and go on to the next backend
            traceback.print_exc()
    bench.print_table()
    if args.json:
        args.json.write_text(json.dumps(bench.as_json(args), indent=1))
        print(f"rows written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
