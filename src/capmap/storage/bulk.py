"""Batched writes of records and their assignments, on either backend.

Rows cross as columns of plain values; the backend writes a batch in one statement (executemany
of tuples on SQLite, COPY on PostGIS) with ids it reserved first, so no row waits on RETURNING.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pandas as pd
import sqlalchemy as sa

from capmap.core.errors import ValidationError
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
    kept = ids[keep]
    written = 0
    for layer_id, layer_codes in assignments.items():
        codes = np.asarray(layer_codes, dtype=object)[keep]
        outside = pd.isna(codes)
        codes[outside] = None
        # In (layer, code) order, the order of the table's index on them: each batch then adds
        # to a few runs of index pages instead of one page per row (twice as fast on SQLite).
        order = np.argsort(np.where(outside, "", codes).astype(str), kind="stable")
        if len(order):
            backend.write_rows(conn, s.assignments, {
                # str(): a table's name is a str subclass, which sqlite3 adapts value by value.
                "record": [str(record)] * len(order), "record_id": kept[order].tolist(),
                "layer_id": [str(layer_id)] * len(order),
                "code": [None if c is None else str(c) for c in codes[order]]})
        written += len(order)
    return written


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
        values = pd.Series(data[column.name], dtype=object)
        try:
            lengths = values.str.len()  # NaN where a value is None
        except AttributeError:  # no text at all
            continue
        long = np.flatnonzero((lengths > limit).to_numpy())
        if len(long):
            i = int(long[0])
            raise ValidationError(
                f"{table.name}: {column.name} holds at most {limit} characters; {len(long)} "
                f"row(s) have more, the first is row {offset + i + 1} of those to store "
                f"({values[i][:30]!r}…); nothing was stored")
