"""The embedded default backend: SQLite in WAL mode, one writer at a time via BEGIN IMMEDIATE."""

from __future__ import annotations

import struct
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

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
        # The pins trigger (INDEXES) reads a public point's coordinates with these.
        dbapi_conn.create_function("capmap_point_x", 1, point_x, deterministic=True)
        dbapi_conn.create_function("capmap_point_y", 1, point_y, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        write = conn.get_execution_options().get("capmap_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _point_xy(wkb: bytes | None) -> tuple[float, float] | None:
    """(x, y) of a 2D WKB Point in either byte order; None for anything else or NULL."""
    if wkb is None or len(wkb) != 21 or wkb[0] not in (0, 1):
        return None
    order = "<" if wkb[0] == 1 else ">"
    kind, x, y = struct.unpack(order + "Idd", bytes(wkb[1:]))
    return (x, y) if kind == 1 and x == x and y == y else None  # x != x: NaN, an empty point


def point_x(wkb: bytes | None) -> float | None:
    """The x (longitude) of a WKB point, for SQL."""
    xy = _point_xy(wkb)
    return xy[0] if xy else None


def point_y(wkb: bytes | None) -> float | None:
    """The y (latitude) of a WKB point, for SQL."""
    xy = _point_xy(wkb)
    return xy[1] if xy else None


# Bounding-box columns stand in for a spatial index: a box query is a range on one indexed column,
# the others tested inside the index. Pins are found by their public point, never the exact one.
# Written out in full rather than formatted: no SQL is ever built from strings.
INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_actions_box ON actions (minx, maxx, miny, maxy)",
    "CREATE INDEX IF NOT EXISTS ix_pins_public_xy ON pins (status, public_x, public_y)",
    # A writer that fills public_x / public_y itself spares the trigger's second write per row.
    "CREATE TRIGGER IF NOT EXISTS pins_public_xy_insert AFTER INSERT ON pins "
    "WHEN NEW.public_x IS NULL OR NEW.public_y IS NULL BEGIN "
    "UPDATE pins SET public_x = capmap_point_x(NEW.public_geom), "
    "public_y = capmap_point_y(NEW.public_geom) WHERE id = NEW.id; END",
    "CREATE TRIGGER IF NOT EXISTS pins_public_xy_update AFTER UPDATE OF public_geom ON pins BEGIN "
    "UPDATE pins SET public_x = capmap_point_x(NEW.public_geom), "
    "public_y = capmap_point_y(NEW.public_geom) WHERE id = NEW.id; END",
)


def prepare(conn: sa.Connection) -> None:
    """Nothing extra: SQLite needs no extension and bbox columns stand in for a spatial index."""


def index(conn: sa.Connection) -> None:
    """The box indexes and the trigger keeping pins' public coordinates (idempotent). Areas and
    plans are held in memory with an STRtree instead."""
    for statement in INDEXES:
        conn.exec_driver_sql(statement)
