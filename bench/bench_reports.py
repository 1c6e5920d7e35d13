"""Progress reports and feeds at national scale on PostGIS: 1,000 plans in 32 councils, 100,000
actions, about a million history rows over four reporting years; one plan's report for
2025-26 (capmap.services.reports.progress_report) and the Atom feeds (all plans, one council, one plan)
against a plain grouped-SQL peer on the same database in the same run (PostgreSQL's DISTINCT ON
per action and moment, a join and a GROUP BY; a LIMIT over the history for the feeds); the
peer's statuses are checked equal to capmap's.

    python bench/bench_reports.py --postgis postgresql://postgres@127.0.0.1:5432/capmap_bench \
        [--plans 1000 --actions-per-plan 100 --runs 5]
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa
from common import best_of

from capmap.services.feeds import atom_feed
from capmap.services.reports import ReportingYear, progress_report
from capmap.storage import bulk, open_store
from capmap.storage import schema as s

COUNCILS = [f"S12{i:06d}" for i in range(1, 33)]
STEPS = ("in_progress", "stalled", "in_progress", "stalled", "in_progress", "stalled",
         "in_progress", "completed")
FIRST = datetime(2022, 4, 1, tzinfo=UTC)
SPAN_S = int((datetime(2026, 11, 1, tzinfo=UTC) - FIRST).total_seconds())
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _plans(store, count: int) -> list[int]:
    boxes = [shapely.box(-4 + i % 40 * 0.01, 55 + i // 40 * 0.01, -3.99 + i % 40 * 0.01,
                         55.01 + i // 40 * 0.01) for i in range(count)]
    frame = gpd.GeoDataFrame({"ref": [f"P{i:05d}" for i in range(count)], "type": "locality_plan",
                              "title": [f"Plan {i}" for i in range(count)], "owner": "CPP",
                              "council_code": [COUNCILS[i % 32] for i in range(count)],
                              "status": "", "themes": "", "link": "", "summary": ""},
                             geometry=boxes, crs=4326).rename_geometry("geom")
    return store.put_plans(frame)


def _histories(rng, action_ids, plan_of) -> tuple[list[str], dict[str, list]]:
    """Each action's final status and its history rows: added, then 0-8 status changes each
    with a progress note, at random moments from April 2022 to November 2026."""
    status, cols = [], {k: [] for k in ("record_id", "plan_id", "field", "old_value",
                                         "new_value", "at")}
    for aid, plan in zip(action_ids, plan_of, strict=True):
        k = int(rng.integers(0, 9))
        moments = np.sort(rng.integers(0, SPAN_S, size=k + 1))
        rows = [("created", None, f"Action {aid}")]
        previous = "not_started"
        for step in STEPS[:k]:
            rows += [("status", previous, step), ("progress_note", None, f"{step} note")]
            previous = step
        status.append(previous)
        times = [moments[0]] + [m for m in moments[1:] for _ in range(2)]
        for (field, old, new), at in zip(rows, times, strict=True):
            for key, value in zip(cols, (aid, plan, field, old, new,
                                         FIRST + timedelta(seconds=int(at))), strict=True):
                cols[key].append(value)
    return status, cols


def build(url: str, plans: int, per_plan: int) -> tuple[object, list[int]]:
    store = open_store(url)
    with store.engine.begin() as conn:
        s.metadata.drop_all(conn)
    store.init()
    start = time.perf_counter()
    plan_ids = _plans(store, plans)
    count = plans * per_plan
    plan_of = np.repeat(plan_ids, per_plan).tolist()
    ids = list(range(1, count + 1))
    status, history = _histories(np.random.default_rng(7), ids, plan_of)
    with store._write() as conn:  # the rows as if imported before additions were kept
        for at in range(0, count, bulk.BATCH_ROWS):
            part = slice(at, at + bulk.BATCH_ROWS)
            n = len(ids[part])
            blank = {c: [""] * n for c in ("description", "theme", "lead", "lead_type",
                                           "partners", "resources", "measure",
                                           "progress_note")}
            bulk.insert_batch(conn, store.backend, s.actions, {**blank,
                "ref": [f"A{i}" for i in ids[part]], "plan_id": plan_of[part],
                "title": [f"Action {i}" for i in ids[part]], "status": status[part],
                "target_date": [datetime(2024, 1, 1).date() + timedelta(days=i % 1500)
                                for i in ids[part]], "geom": [None] * len(ids[part])})
        rows = len(history["field"])
        for at in range(0, rows, bulk.BATCH_ROWS):
            part = {k: v[at:at + bulk.BATCH_ROWS] for k, v in history.items()}
            n = len(part["field"])
            bulk.insert_batch(conn, store.backend, s.record_changes, {
                **part, "record": ["action"] * n, "ref": [f"A{i}" for i in part["record_id"]],
                "changed_by": ["bench"] * n, "source": ["import"] * n})
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    print(f"built {plans:,} plans, {count:,} actions, {rows + plans:,} history rows "
          f"in {time.perf_counter() - start:.0f} s")
    return store, plan_ids


PEER_STATUS = """
SELECT a.id, CASE WHEN born.at >= :t THEN NULL
                  ELSE COALESCE(last.new_value, nxt.old_value, a.status) END AS status
FROM actions a
LEFT JOIN (SELECT DISTINCT ON (record_id) record_id, new_value FROM record_changes
           WHERE plan_id = :p AND record = 'action' AND field = 'status' AND at < :t
           ORDER BY record_id, at DESC, id DESC) last ON last.record_id = a.id
LEFT JOIN (SELECT DISTINCT ON (record_id) record_id, old_value FROM record_changes
           WHERE plan_id = :p AND record = 'action' AND field = 'status' AND at >= :t
           ORDER BY record_id, at, id) nxt ON nxt.record_id = a.id
LEFT JOIN (SELECT record_id, min(at) AS at FROM record_changes
           WHERE plan_id = :p AND record = 'action' AND field = 'created'
           GROUP BY record_id) born ON born.record_id = a.id
WHERE a.plan_id = :p"""
PEER_REPORT = f"""
WITH was AS ({PEER_STATUS.replace(':t', ':t0')}), now AS ({PEER_STATUS.replace(':t', ':t1')})
SELECT was.status, now.status, count(*) FROM was JOIN now USING (id)
GROUP BY was.status, now.status"""
PEER_NOTES = """SELECT ref, new_value, at FROM record_changes WHERE plan_id = :p
AND at >= :t0 AND at < :t1 AND field IN ('status', 'progress_note', 'created', 'removed')
ORDER BY at, id"""
PEER_FEED = """SELECT c.*, p.title, p.owner FROM record_changes c LEFT JOIN plans p
ON p.id = c.plan_id {where} ORDER BY c.at DESC, c.id DESC LIMIT 50"""


def peer_report(store, plan: int, year: ReportingYear):
    args = {"p": plan, "t0": year.start(), "t1": year.end()}
    with store.engine.connect() as conn:
        moves = conn.execute(sa.text(PEER_REPORT), args).all()
        per_action = conn.execute(sa.text(PEER_STATUS), {"p": plan, "t": year.end()}).all()
        conn.execute(sa.text(PEER_NOTES), args).all()
    return sorted(moves, key=str), per_action


def capmap_feed(store, **where):
    with store.one_read():  # as app/reports.py does
        if "council" in where:
            assert where["council"] in store.councils_with_plans()
        rows = store.feed_changes(limit=50, **where)
    return atom_feed(rows, feed_id="urn:uuid:0", title="t", self_url="http://x/", page_url="http://x/",
                     plan_url=lambda i: f"http://x/plans/{i}", database_id="bench")


def peer_feed(store, where: str = "", **args):
    with store.engine.connect() as conn:
        return conn.execute(sa.text(PEER_FEED.format(where=where)), args).all()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgis", required=True)
    parser.add_argument("--plans", type=int, default=1000)
    parser.add_argument("--actions-per-plan", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    store, plan_ids = build(args.postgis, args.plans, args.actions_per_plan)
    plan, year = plan_ids[len(plan_ids) // 2], ReportingYear(2025)
    ours_s, report = best_of(lambda: progress_report(store, plan, year, NOW), args.runs)
    peer_s, (moves, _) = best_of(lambda: peer_report(store, plan, year), args.runs)
    mine = sorted(((m["from"], m["to"], m["actions"]) for m in report["moves"]), key=str)
    theirs = [(a, b, n) for a, b, n in moves if b is not None and a != b]
    assert mine == sorted(theirs, key=str), (mine, theirs)
    print(f"report of one plan ({report['totals']['actions']} actions, "
          f"{len(report['changes']) + len(report['notes'])} changes in the year): capmap "
          f"{ours_s * 1000:.1f} ms, peer {peer_s * 1000:.1f} ms, ratio {ours_s / peer_s:.2f}")
    council = COUNCILS[5]
    for name, ours, peer in (
            ("feed, all plans", lambda: capmap_feed(store), lambda: peer_feed(store)),
            ("feed, one council", lambda: capmap_feed(store, council=council),
             lambda: peer_feed(store, "WHERE p.council_code = :c", c=council)),
            ("feed, one plan", lambda: capmap_feed(store, plan_id=plan),
             lambda: peer_feed(store, "WHERE c.plan_id = :p", p=plan))):
        ours_s, _ = best_of(ours, args.runs)
        peer_s, _ = best_of(peer, args.runs)
        print(f"{name}: capmap {ours_s * 1000:.1f} ms (with the Atom XML), peer "
              f"{peer_s * 1000:.1f} ms, ratio {ours_s / peer_s:.2f}")
    store.close()


if __name__ == "__main__":
    main()
