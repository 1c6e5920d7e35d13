"""Changing and removing plans and actions, each change kept in record_changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import shapely
import sqlalchemy as sa

from capmap.core.errors import NotFound
from capmap.storage import schema as s

TABLES = {"plan": s.plans, "action": s.actions}
# The field of the history row a removal writes (old value: the record's title).
REMOVED = "removed"
# The field of the history row an addition writes (new value: the record's title): when the
# record began, so a report knows which actions a plan had at a moment. Records added before
# these rows were kept have none and count as there from the start.
CREATED = "created"
# Who an addition by an import names.
IMPORTER = "import"
# Fields whose change moves a plan's area: the derived coverage must be refreshed.
AREA_FIELDS = frozenset({"geom", "area_layer", "area_codes"})
# The history fields of the Local Place Plan register (capmap.storage.lpp): lpp_status, …
REGISTER_PREFIX = "lpp_"


@dataclass(frozen=True)
class Change:
    """One field of one plan or action changed (values as text; None: empty)."""

    record: str
    record_id: int
    ref: str
    plan_id: int
    field: str
    old_value: str | None
    new_value: str | None
    changed_by: str
    source: str
    at: datetime


def as_text(value) -> str | None:
    """A field value as the history keeps it: dates in ISO form, geometry as WKT rounded to
    6 decimals (about 0.1 m), None or "" as None."""
    if value is None or value == "":
        return None
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return shapely.to_wkt(shapely.from_wkb(bytes(value)), rounding_precision=6)
    if isinstance(value, shapely.Geometry):
        return shapely.to_wkt(value, rounding_precision=6)
    return str(value)


class EditsMixin:
    """Edits of plans and actions in the Store."""

    def record(self, record: str, record_id: int) -> dict:
        """One plan or action as a dict of its columns (geometry as WKB); NotFound if absent."""
        table = TABLES[record]
        with self._read() as conn:
            row = conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
        if row is None:
            raise NotFound(f"there is no {record} {record_id}")
        return dict(row)

    def change_record(self, record: str, record_id: int, values: dict, changed_by: str,
                      source: str = "web", touch: dict | None = None) -> list[Change]:
        """Set `values` ({column: value}) on one plan or action and keep a history row for each
        field whose value changes; the changes (none if every value was already so). `touch`:
        values also written, without history, when anything changed (an action's `updated`)."""
        self.record(record, record_id)
        with self._write("plans_version") as conn:
            return self.write_changes(conn, record, [(record_id, values)], changed_by, source,
                                      touch)

    def write_changes(self, conn: sa.Connection, record: str, updates: list[tuple[int, dict]],
                      changed_by: str, source: str, touch: dict | None = None) -> list[Change]:
        """Within an open write: update each (id, values) and write its history rows."""
        table = TABLES[record]
        now = datetime.now(UTC)
        changes: list[Change] = []
        for record_id, values in updates:
            row = conn.execute(sa.select(table).where(table.c.id == record_id)).mappings().first()
            if row is None:
                raise NotFound(f"there is no {record} {record_id}")
            differ = {k: v for k, v in values.items() if as_text(row[k]) != as_text(v)}
            if not differ:
                continue
            if "geom" in differ:
                differ.update(_bbox(differ["geom"]))
                if isinstance(differ["geom"], shapely.Geometry):
                    differ["geom"] = shapely.to_wkb(differ["geom"])
            conn.execute(sa.update(table).where(table.c.id == record_id)
                         .values(**differ, **(touch or {})))
            plan_id = row["plan_id"] if record == "action" else row["id"]
            changes += [Change(record, record_id, row["ref"], plan_id, k, as_text(row[k]),
                               as_text(v), changed_by, source, now)
                        for k, v in differ.items() if k in values]
        if changes:
            conn.execute(sa.insert(s.record_changes), [change_row(c) for c in changes])
        return changes

    def remove_record(self, record: str, record_id: int, changed_by: str,
                      source: str = "web") -> list[Change]:
        """Remove a plan (with its actions) or an action, keeping a history row for each."""
        row = self.record(record, record_id)
        now = datetime.now(UTC)
        plan_id = row["plan_id"] if record == "action" else row["id"]
        removed = [Change(record, record_id, row["ref"], plan_id, REMOVED, row["title"], None,
                          changed_by, source, now)]
        a = s.actions.c
        with self._write("plans_version") as conn:
            if record == "plan":
                actions = conn.execute(sa.select(a.id, a.ref, a.title)
                                       .where(a.plan_id == record_id)).all()
                removed += [Change("action", aid, ref, plan_id, REMOVED, title, None,
                                   changed_by, source, now) for aid, ref, title in actions]
                conn.execute(sa.delete(s.actions).where(a.plan_id == record_id))
                conn.execute(sa.delete(s.plan_coverage)
                             .where(s.plan_coverage.c.plan_id == record_id))
            action_ids = [c.record_id for c in removed if c.record == "action"]
            if action_ids:
                conn.execute(sa.delete(s.assignments).where(
                    (s.assignments.c.record == "actions")
                    & s.assignments.c.record_id.in_(action_ids)))
            conn.execute(sa.delete(TABLES[record]).where(TABLES[record].c.id == record_id))
            conn.execute(sa.insert(s.record_changes), [change_row(c) for c in removed])
        return removed

    def changes(self, plan_id: int | None = None, since: datetime | None = None,
                until: datetime | None = None, limit: int = 500, *, register: bool = True,
                only_register: bool = False) -> list[Change]:
        """History rows, newest first: of one plan (its actions included) and/or of a period
        (`since` inclusive, `until` exclusive), at most `limit`. `register` False leaves out
        the Local Place Plan register's rows (fields REGISTER_PREFIX…: their earlier stages are
        the planning authority's working record); `only_register` keeps only those."""
        c = s.record_changes.c
        query = sa.select(s.record_changes)
        if not register:
            query = query.where(~c.field.startswith(REGISTER_PREFIX, autoescape=True))
        if only_register:
            query = query.where(c.field.startswith(REGISTER_PREFIX, autoescape=True))
        if plan_id is not None:
            query = query.where(c.plan_id == plan_id)
        if since is not None:
            query = query.where(c.at >= since)
        if until is not None:
            query = query.where(c.at < until)
        query = query.order_by(c.at.desc(), c.id.desc()).limit(limit)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [Change(r["record"], r["record_id"], r["ref"], r["plan_id"], r["field"],
                       r["old_value"], r["new_value"], r["changed_by"], r["source"],
                       _aware(r["at"])) for r in rows]


def creation_rows(record: str, ids: list[int], data: dict[str, list], changed_by: str,
                  at: datetime) -> dict[str, list]:
    """The history rows (column-major) of records just added: `data` holds their ref, title
    and, for actions, plan_id."""
    count = len(ids)
    plan_ids = data["plan_id"] if record == "action" else ids
    return {"record": [record] * count, "record_id": list(ids), "ref": list(data["ref"]),
            "plan_id": [int(p) for p in plan_ids], "field": [CREATED] * count,
            "old_value": [None] * count, "new_value": list(data["title"]),
            "changed_by": [changed_by] * count, "source": ["import"] * count,
            "at": [at] * count}


def _bbox(geom) -> dict:
    """The bbox columns of a geometry (WKB or shapely; None gives NULLs)."""
    shape = shapely.from_wkb(bytes(geom)) if isinstance(geom, bytes | memoryview) else geom
    if shape is None or shape.is_empty:
        return dict.fromkeys(("minx", "miny", "maxx", "maxy"))
    return dict(zip(("minx", "miny", "maxx", "maxy"), map(float, shape.bounds), strict=True))


def _aware(at: datetime) -> datetime:
    """SQLite hands timestamps back without their zone: they were written in UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def change_row(change: Change) -> dict:
    """A history row as the record_changes table takes it."""
    return {"record": change.record, "record_id": change.record_id, "ref": change.ref,
            "plan_id": change.plan_id, "field": change.field, "old_value": change.old_value,
            "new_value": change.new_value, "changed_by": change.changed_by,
            "source": change.source, "at": change.at}
