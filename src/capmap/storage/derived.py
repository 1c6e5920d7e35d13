"""Derived tables: point assignments, refreshed when their inputs change."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import sqlalchemy as sa

from capmap.storage import bulk, frames
from capmap.storage import schema as s

POINT_RECORDS = {"responses": s.responses, "pins": s.pins, "actions": s.actions}


class DerivedMixin:
    """Assignments of the Store."""

    def point_record_batches(self, record: str, rows: int = bulk.BATCH_ROWS
                             ) -> Iterator[pd.DataFrame]:
        """Ids and locations of a point record table (`responses`, `pins` or `actions`) in
        batches of at most `rows`, by id: columns id, geom, and for responses also area_layer,
        area_code. Each batch is a new query from the last id seen, so nothing stays open
        between batches."""
        table = POINT_RECORDS[record]
        extra = ["area_layer", "area_code"] if record == "responses" else []
        cols = ["id", "geom", *extra]
        last = 0
        while True:
            query = (sa.select(*[table.c[c] for c in cols]).where(table.c.id > last)
                     .order_by(table.c.id).limit(rows))
            with self._read() as conn:
                batch = frames.from_rows(conn.execute(query), cols)
            if len(batch):
                yield batch
            if len(batch) < rows:
                return
            last = int(batch["id"].iloc[-1])

    def clear_assignments(self, layer_ids: list[str]) -> None:
        """Remove every assignment to these layers (before they are written again)."""
        with self._write() as conn:
            conn.execute(sa.delete(s.assignments).where(s.assignments.c.layer_id.in_(layer_ids)))

    def add_assignments(self, record: str, ids, assignments: dict[str, np.ndarray]) -> int:
        """Write the assignments of some `record` rows: {layer id: code per id}; rows written."""
        with self._write() as conn:
            return bulk.write_assignments(conn, self.backend, record, ids, assignments)

    def drop_assignments(self, keep_layers: list[str]) -> None:
        """Remove assignments to layers no longer current."""
        with self._write() as conn:
            conn.execute(sa.delete(s.assignments).where(
                s.assignments.c.layer_id.not_in(keep_layers)))

    def assigned_codes(self, record: str, layer_id: str) -> pd.DataFrame:
        """Columns record_id, code (None: outside) for every row of `record` in `layer_id`."""
        a = s.assignments.c
        query = (sa.select(a.record_id, a.code)
                 .where((a.record == record) & (a.layer_id == layer_id)).order_by(a.record_id))
        with self._read() as conn:
            rows = conn.execute(query).all()
        return pd.DataFrame({"record_id": pd.Series([r[0] for r in rows], dtype="int64"),
                             "code": pd.Series([r[1] for r in rows], dtype=object)})

    def assigned_layers(self) -> dict[str, int]:
        """Rows per layer in the assignments table."""
        a = s.assignments.c
        with self._read() as conn:
            rows = conn.execute(sa.select(a.layer_id, sa.func.count()).group_by(a.layer_id))
            return dict(rows.all())
