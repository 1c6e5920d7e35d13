"""Batched writes of records and their assignments, on either backend.

Rows cross as columns of plain values; the backend writes a batch in one statement (executemany
of tuples on SQLite, COPY on PostGIS) with ids it reserved first, so no row waits on RETURNING.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import sqlalchemy as sa

from capmap.errors import ValidationError
from capmap.storage import schema as s

# Rows per batched write: large enough that per-statement costs vanish, small enough that a
# batch's plain values (a few hundred bytes a row) stay far below the memory a read takes.
BATCH_ROWS = 50_000

# Per layer id, the area code of each row of a batch (None: outside every area).
Assignments = dict[str, np.ndarray]


def insert_batch(conn: sa.Connection, backend: ModuleType, table: sa.Table,
                 data: dict[str, list], offset: int = 0) -> list[int]:
    """Write one batch of column-major rows (defaults filled, lengths checked); their new ids.

    `offset` is how many rows of the same write came before, for the row numbers of a refusal.
    """
    count = len(next(iter(data.values()))) if data else 0
    if not count:
        return []
    fill_defaults(table, data)
    refuse_too_long(table, data, offset)
    ids = backend.reserve_ids(conn, table, count)
    backend.write_rows(conn, table, {"id": ids, **data})
    return ids


def write_assignments(conn: sa.Connection, backend: ModuleType, record: str, ids,
                      assignments: Assignments, located: np.ndarray | None = None) -> int:
    """Write the assignment rows of one batch of `record` rows (`located`: the rows that have a
    point or an area code; the others get none); how many rows were written."""
    ids = np.asarray(ids, dtype=np.int64)
    keep = np.ones(len(ids), dtype=bool) if located is None else np.asarray(located, dtype=bool)
    kept = ids[keep].tolist()
    record_ids, layer_ids, codes = [], [], []
    for layer_id, layer_codes in assignments.items():
        record_ids += kept
        layer_ids += [layer_id] * len(kept)
        codes += [None if c is None else str(c)
                  for c in np.asarray(layer_codes, dtype=object)[keep]]
    if record_ids:
        backend.write_rows(conn, s.assignments, {
            "record": [record] * len(record_ids), "record_id": record_ids,
            "layer_id": layer_ids, "code": codes})
    return len(record_ids)


def fill_defaults(table: sa.Table, data: dict[str, list]) -> None:
    """None where a NOT NULL column has a default means "use the default"."""
    for column in table.columns:
        default = column.default
        if column.name in data and default is not None and default.is_scalar:
            values = data[column.name]
            if any(v is None for v in values):
                data[column.name] = [default.arg if v is None else v for v in values]


def refuse_too_long(table: sa.Table, data: dict[str, list], offset: int = 0) -> None:
    """Refuse text longer than its column holds: PostgreSQL would fail the write and SQLite
    would keep it, so both backends answer alike (the transaction then keeps nothing)."""
    for column in table.columns:
        limit = getattr(column.type, "length", None)
        if column.name not in data or not isinstance(column.type, sa.String) or not limit:
            continue
        values = data[column.name]
        lengths = np.fromiter((len(v) if isinstance(v, str) else 0 for v in values),
                              dtype=np.int64, count=len(values))
        long = np.flatnonzero(lengths > limit)
        if len(long):
            i = int(long[0])
            raise ValidationError(
                f"{table.name}: {column.name} holds at most {limit} characters; {len(long)} "
                f"row(s) have more, the first is row {offset + i + 1} of those to store "
                f"({values[i][:30]!r}…); nothing was stored")
