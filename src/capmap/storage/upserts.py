"""What an import finds already stored, and updating those rows in place.

Rows are matched by `ref`. Responses and pins may have none: each of their rows carries a content
key (a digest of every stored field), and a row without a ref whose content matches one stored
before the import counts as already stored, as many times as it is stored (so a file imported
twice matches row for row, and two identical rows in one file are both kept the first time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa

from capmap.storage import bulk, frames
from capmap.storage import schema as s
from capmap.storage.bulk import Assignments

TABLES = {"plans": s.plans, "actions": s.actions, "responses": s.responses, "pins": s.pins}
# The fields a content key digests. A pin's moderation status is not among them: moderating a
# pin does not make its row new, and an import never changes it.
KEYED_FIELDS = {
    "responses": ("campaign", "channel", "date", "themes", "area_layer", "area_code", "age_band"),
    "pins": ("category", "description", "created", "contact"),
}
# Bound values per IN list: under SQLite's limit on variables in one statement.
CHUNK = 10_000


def content_keys(kind: str, frame: gpd.GeoDataFrame) -> list[str]:
    """The content key of each row: 32 hex digits of a BLAKE2b digest of its KEYED_FIELDS and
    its point (WKB, as stored)."""
    data = frames.to_columns(frame, list(KEYED_FIELDS[kind]), geom_cols=(), bbox_from=None)
    columns = list(data.values())
    geoms = np.asarray(frame.geometry.to_numpy(), dtype=object)
    wkbs = shapely.to_wkb(geoms, include_srid=False)
    keys = []
    for i in range(len(frame)):
        digest = hashlib.blake2b(digest_size=16)
        for column in columns:
            digest.update(repr(column[i]).encode() + b"\x1f")
        digest.update(wkbs[i] or b"")
        keys.append(digest.hexdigest())
    return keys


def _chunks(values: list) -> Iterable[list]:
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]


class UpsertsMixin:
    """Matching and updating imported rows in the Store."""

    def last_id(self, kind: str) -> int:
        """The highest id of a record table (0 when empty): rows at or below it were stored
        before an import that starts now."""
        table = TABLES[kind]
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0)

    def stored_refs(self, kind: str, refs: list[str], up_to: int | None = None
                    ) -> dict[str, tuple[int, str | None]]:
        """Of these refs, those stored (with id at most `up_to`): ref -> (id, content key or
        None for plans and actions)."""
        table = TABLES[kind]
        key = table.c.content_key if "content_key" in table.c else sa.null()
        found: dict[str, tuple[int, str | None]] = {}
        wanted = sorted({r for r in refs if r})
        with self._read() as conn:
            for part in _chunks(wanted):
                query = sa.select(table.c.ref, table.c.id, key).where(table.c.ref.in_(part))
                if up_to is not None:
                    query = query.where(table.c.id <= up_to)
                found.update({ref: (rid, ck) for ref, rid, ck in conn.execute(query)})
        return found

    def stored_key_counts(self, kind: str, keys: list[str], up_to: int) -> dict[str, int]:
        """How many rows stored with id at most `up_to` have each of these content keys."""
        table = TABLES[kind]
        counts: dict[str, int] = {}
        with self._read() as conn:
            for part in _chunks(sorted(set(keys))):
                query = (sa.select(table.c.content_key, sa.func.count())
                         .where(table.c.content_key.in_(part) & (table.c.id <= up_to))
                         .group_by(table.c.content_key))
                counts.update(dict(conn.execute(query).all()))
        return counts

    def update_points(self, kind: str, ids: list[int], frame: gpd.GeoDataFrame,
                      columns: list[str], assignments: Assignments) -> int:
        """Overwrite `columns` and the point of the response or pin rows `ids` (frame row i
        holds id i) and write their assignments again; how many rows."""
        table = TABLES[kind]
        geom_cols = ("geom", "public_geom") if kind == "pins" else ("geom",)
        plain = [c for c in columns if c not in geom_cols]
        data = frames.to_columns(frame, plain, geom_cols)
        for col in geom_cols:
            data[col] = list(shapely.to_wkb(data[col], include_srid=False))
        bulk.fill_defaults(table, data)
        bulk.refuse_too_long(table, data)
        names = list(data)
        rows = [{"rid": rid, **{f"v_{n}": data[n][i] for n in names}}
                for i, rid in enumerate(ids)]
        with self._write() as conn:
            if rows:
                conn.execute(sa.update(table).where(table.c.id == sa.bindparam("rid"))
                             .values({n: sa.bindparam(f"v_{n}") for n in names}), rows)
        self.replace_assignments(kind, ids, frame, assignments)
        return len(rows)

    def replace_assignments(self, kind: str, ids: list[int], frame: gpd.GeoDataFrame,
                            assignments: Assignments) -> None:
        """Write again the assignments of point records `ids` (frame row i holds id i)."""
        located = ~shapely.is_missing(np.asarray(frame.geometry.to_numpy(), dtype=object))
        if "area_code" in frame:
            located |= frame["area_code"].notna().to_numpy()
        with self._write() as conn:
            for part in _chunks(ids):
                conn.execute(sa.delete(s.assignments).where(
                    (s.assignments.c.record == kind) & s.assignments.c.record_id.in_(part)))
            bulk.write_assignments(conn, self.backend, kind, ids, assignments, located)

    def update_records(self, record: str, updates: list[tuple[int, dict]], changed_by: str,
                       source: str = "import") -> int:
        """Set the values of plans or actions (record "plan" or "action") found by ref,
        keeping their history; how many rows changed."""
        with self._write("plans_version") as conn:
            changes = self.write_changes(conn, record, updates, changed_by, source)
        return len({c.record_id for c in changes})
