"""The embedded default backend: SQLite in WAL mode, one writer at a time via BEGIN IMMEDIATE."""

from __future__ import annotations

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

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        write = conn.get_execution_options().get("capmap_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def prepare(conn: sa.Connection) -> None:
    """Nothing extra: SQLite needs no extension and bbox columns stand in for a spatial index."""


def index(conn: sa.Connection) -> None:
    """No spatial index in SQLite: areas are held in memory with an STRtree instead."""
