"""The embedded default backend: SQLite in WAL mode, one writer at a time via BEGIN IMMEDIATE."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from sqlalchemy import event

from capmap.storage.schema import Geometry

BUSY_TIMEOUT_MS = 30_000


def create_engine(url: str) -> sa.Engine:
    """An engine whose connections use WAL, a busy timeout and foreign keys.

    Python's sqlite3 would open transactions lazily with a plain BEGIN, so a reader that later writes
    can deadlock with another writer. We take over BEGIN: writes start with BEGIN IMMEDIATE, which
    takes the write lock up front and waits up to the busy timeout instead of failing.
    """
    path = sa.engine.make_url(url).database
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")  # BUSY_TIMEOUT_MS
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        write = conn.get_execution_options().get("capmap_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


# Bounding-box columns stand in for a spatial index: a box query is a range on one indexed column,
# the others tested inside the index. Pins are found by their public point, never the exact one.
# Written out in full rather than formatted: no SQL is ever built from strings.
INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_actions_box ON actions (minx, maxx, miny, maxy)",
    "CREATE INDEX IF NOT EXISTS ix_pins_public_xy ON pins (status, public_x, public_y)",
)


def prepare(conn: sa.Connection) -> None:
    """Nothing extra: SQLite needs no extension and bbox columns stand in for a spatial index."""


def index(conn: sa.Connection) -> None:
    """The box indexes (idempotent). Areas and
    plans are held in memory with an STRtree instead."""
    for statement in INDEXES:
        conn.exec_driver_sql(statement)


def reserve_ids(conn: sa.Connection, table: sa.Table, count: int) -> list[int]:
    """`count` new ids for `table`, ascending from max(id) + 1: safe because every write holds
    SQLite's one write lock (BEGIN IMMEDIATE) until it commits, as SQLite itself numbers rows."""
    top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    return list(range(top + 1, top + 1 + count))


def write_rows(conn: sa.Connection, table: sa.Table, data: dict[str, list]) -> None:
    """Insert column-major `data` (geometry columns as shapely arrays) by one executemany of
    plain tuples, with the statement SQLAlchemy compiles for these columns."""
    statement = sa.insert(table).compile(dialect=conn.dialect, column_keys=list(data))
    columns = []
    for name in statement.positiontup:  # the order of the statement's "?" parameters
        column, values = table.c[name], data[name]
        if isinstance(column.type, Geometry):
            values = shapely.to_wkb(values, include_srid=False).tolist()
        else:
            # Dates and times as SQLAlchemy's SQLite types store (and read back) them.
            bind = column.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
            values = _bound(values, bind) if bind else values
        columns.append(values)
    conn.exec_driver_sql(statement.string, list(zip(*columns, strict=True)))


def _bound(values: list, bind) -> list:
    """bind() of every value, once per distinct value (dates repeat), None kept."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    if not len(uniques):
        return list(values)
    bound = np.array([bind(v) for v in uniques] + [None], dtype=object)  # code -1: None
    return bound[codes].tolist()
