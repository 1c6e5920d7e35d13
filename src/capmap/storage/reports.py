"""Progress reports from the history: each action's status as it stood at a moment, the changes
of a period, and the feed of plan updates, as grouped SQL on both backends.

An action's status at a moment T is rebuilt from record_changes, never from a copy: the new
value of its last status change before T; else, if it changed after T, the old value of its
first change after T; else its status now. An action whose creation row is at or after T did
not exist yet (NULL). Each of these is one probe of ix_record_changes_field_at (record,
record_id, field, at), so a plan's report costs its actions' count of probes, whatever the size
of the history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import sqlalchemy as sa

from capmap.storage import bulk
from capmap.storage import schema as s
from capmap.storage.edits import CREATED, REMOVED, Change, _aware

# Fields of the history a public report or feed shows. Geometry and area codes changes are
# named but their values (long WKT) are left out.
REPORT_FIELDS = ("status", "progress_note", CREATED, REMOVED)
REF_CHUNK = 900  # values per IN list (SQLite allows 999 bound parameters a statement)


def _probe(a: sa.Table, field: str):
    """The history rows of one field of the action row `a` (a correlated subquery's base)."""
    rc = s.record_changes.alias()
    return rc, (rc.c.record == "action") & (rc.c.record_id == a.c.id) & (rc.c.field == field)


def status_at(a: sa.Table, moment: datetime):
    """SQL: the status of action row `a` at `moment` (UTC), NULL if it did not exist yet."""
    at_type = s.record_changes.c.at.type
    when = sa.bindparam(None, moment, type_=at_type)
    rc, is_status = _probe(a, "status")
    before = (sa.select(rc.c.new_value).where(is_status, rc.c.at < when)
              .order_by(rc.c.at.desc(), rc.c.id.desc()).limit(1).scalar_subquery())
    rc2, is_status2 = _probe(a, "status")
    after = (sa.select(rc2.c.old_value).where(is_status2, rc2.c.at >= when)
             .order_by(rc2.c.at, rc2.c.id).limit(1).scalar_subquery())
    rc3, is_created = _probe(a, CREATED)
    born = sa.select(sa.func.min(rc3.c.at)).where(is_created).scalar_subquery()
    return sa.case((born >= when, sa.null()),
                   else_=sa.func.coalesce(before, after, a.c.status))


class ReportsMixin:
    """Grouped history queries for progress reports and feeds."""

    @contextmanager
    def one_read(self) -> Iterator[None]:
        """The reads inside share one connection and transaction (one pool checkout and its
        ping, not one per query). For reads only."""
        if getattr(self._atomic, "conn", None) is not None:
            yield
            return
        with self._read() as conn, conn.begin():
            self._atomic.conn = conn
            try:
                yield
            finally:
                self._atomic.conn = None

    def actions_at(self, plan_id: int, previous: datetime, end: datetime) -> list[dict]:
        """Each action of a plan now, by ref: its fields, `previous` and `status`, its status at
        the two moments (None where it did not exist yet), and `pair_count`, how many of the
        plan's actions share that pair (a window count: the moves, grouped in the same query)."""
        a = s.actions.alias("a")
        inner = (sa.select(a.c.id, a.c.ref, a.c.title, a.c.theme, a.c.lead, a.c.lead_type,
                           a.c.target_date, status_at(a, previous).label("previous"),
                           status_at(a, end).label("status"))
                 .where(a.c.plan_id == plan_id).subquery())
        pair = sa.func.count().over(partition_by=[inner.c.previous, inner.c.status])
        query = sa.select(inner, pair.label("pair_count")).order_by(inner.c.ref)
        with self._read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def period_changes(self, plan_id: int, start: datetime, end: datetime,
                       fields: tuple[str, ...] = REPORT_FIELDS, limit: int = 5000
                       ) -> list[Change]:
        """A plan's history rows of `fields` from `start` (inclusive) to `end` (exclusive),
        oldest first, at most `limit` (ix_record_changes_plan_at)."""
        c = s.record_changes.c
        query = (sa.select(s.record_changes)
                 .where(c.plan_id == plan_id, c.at >= start, c.at < end, c.field.in_(fields))
                 .order_by(c.at, c.id).limit(limit))
        with self._read() as conn:
            return [_change(r) for r in conn.execute(query).mappings()]

    def feed_changes(self, plan_id: int | None = None, council: str | None = None,
                     limit: int = 50) -> list[dict]:
        """The newest history rows (all plans, one plan, or the plans of one council), each
        with its plan's title and owner (None for a plan since removed), newest first."""
        c, p = s.record_changes.c, s.plans.c
        query = (sa.select(s.record_changes, p.title.label("plan_title"),
                           p.owner.label("plan_owner"), p.council_code)
                 .select_from(s.record_changes.outerjoin(s.plans, p.id == c.plan_id)))
        if plan_id is not None:
            query = query.where(c.plan_id == plan_id)
        if council is not None:
            query = query.where(p.council_code == council)
        query = query.order_by(c.at.desc(), c.id.desc()).limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [{**dict(r), "at": _aware(r["at"])} for r in rows]

    def councils_with_plans(self) -> list[str]:
        """The council codes plans name, sorted."""
        p = s.plans.c
        with self._read() as conn:
            return list(conn.execute(sa.select(p.council_code).distinct()
                                     .where(p.council_code.is_not(None))
                                     .order_by(p.council_code)).scalars())


    def actions_by_ref(self, refs: list[str]) -> dict[str, dict]:
        """The stored actions among `refs`: id, plan_id, status and progress_note by ref."""
        a = s.actions.c
        found: dict[str, dict] = {}
        with self._read() as conn:
            for start in range(0, len(refs), REF_CHUNK):
                query = (sa.select(a.ref, a.id, a.plan_id, a.status, a.progress_note)
                         .where(a.ref.in_(refs[start:start + REF_CHUNK])))
                found.update({r["ref"]: dict(r) for r in conn.execute(query).mappings()})
        return found

    def put_history(self, rows: list[dict]) -> int:
        """Add history rows of actions (record_id, plan_id, action_ref, field, old_value,
        new_value, at, changed_by) in one transaction; an action given a creation row loses the
        one its import wrote. How many rows were stored."""
        c = s.record_changes.c
        born = sorted({r["record_id"] for r in rows if r["field"] == CREATED})
        with self._write("plans_version") as conn:
            for start in range(0, len(born), REF_CHUNK):
                conn.execute(sa.delete(s.record_changes).where(
                    c.record == "action", c.field == CREATED, c.source == "import",
                    c.record_id.in_(born[start:start + REF_CHUNK])))
            for start in range(0, len(rows), bulk.BATCH_ROWS):
                part = rows[start:start + bulk.BATCH_ROWS]
                bulk.insert_batch(conn, self.backend, s.record_changes, {
                    "record": ["action"] * len(part), "record_id": [r["record_id"] for r in part],
                    "ref": [r["action_ref"] for r in part],
                    "plan_id": [r["plan_id"] for r in part],
                    "field": [r["field"] for r in part],
                    "old_value": [r["old_value"] or None for r in part],
                    "new_value": [r["new_value"] or None for r in part],
                    "changed_by": [r["changed_by"] for r in part],
                    "source": ["import"] * len(part), "at": [r["at"] for r in part]})
        return len(rows)


def _change(r) -> Change:
    return Change(r["record"], r["record_id"], r["ref"], r["plan_id"], r["field"],
                  r["old_value"], r["new_value"], r["changed_by"], r["source"], _aware(r["at"]))


def as_date(value) -> date | None:
    """A date column's value (SQLite may hand back text for a computed column)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
