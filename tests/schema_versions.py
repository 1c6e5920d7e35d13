"""Databases at an older schema version, built by that version's own revisions, and the shape
of a database as the backend reflects it."""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import command
from sqlalchemy import exc as sa_exc

from capmap.storage import migrations
from capmap.storage import schema as s
from capmap.storage.schema import Geometry

# Geometry columns of every version (none was ever renamed or retyped).
GEOMETRY = {(t.name, c.name) for t in s.metadata.sorted_tables for c in t.c
            if isinstance(c.type, Geometry)}


def build_at(conn: sa.Connection, version: int) -> None:
    """Run the revisions 1 to `version` on an empty database, in the open transaction."""
    command.upgrade(migrations._config(conn), migrations.revision_of(version))


def wipe(conn: sa.Connection) -> None:
    """Drop every capmap table and Alembic's record."""
    s.metadata.drop_all(conn)
    conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


def rewind(store, version: int) -> None:
    """Make `store` a database at schema `version` holding the rows it holds now, less what
    that version has no column or table for: as that version would have stored them."""
    with store.engine.begin() as conn:
        rows = read_rows(conn)
        wipe(conn)
        build_at(conn, version)
        conn.execute(sa.delete(s.meta))  # the revisions' own (schema 6's identity): the store's kept
        put_rows(conn, rows)
        conn.execute(sa.update(s.meta).where(s.meta.c.key == "schema_version")
                     .values(value=str(version)))


def read_rows(conn: sa.Connection) -> dict[str, list[dict]]:
    """Every row of every capmap table of the database."""
    return {name: [dict(r) for r in conn.execute(sa.select(_table(conn, name))).mappings()]
            for name in _names(conn)}


def put_rows(conn: sa.Connection, rows: dict[str, list[dict]]) -> None:
    """Insert `rows` (table name: rows) into the tables of the database that has them, only the
    columns each has, parents first; PostgreSQL's id sequences moved on past them."""
    present = set(_names(conn))
    for table in s.metadata.sorted_tables:
        if table.name not in present or not rows.get(table.name):
            continue
        target = _table(conn, table.name)
        conn.execute(sa.insert(target), [{k: v for k, v in row.items() if k in target.c}
                                         for row in rows[table.name]])
        if conn.dialect.name == "postgresql" and "id" in target.c:
            conn.execute(sa.select(sa.func.setval(sa.func.pg_get_serial_sequence(table.name, "id"),
                                                  sa.select(sa.func.max(target.c.id))
                                                  .scalar_subquery())))


def _names(conn: sa.Connection) -> list[str]:
    known = set(s.metadata.tables)
    return [n for n in sa.inspect(conn).get_table_names() if n in known]


def _table(conn: sa.Connection, name: str) -> sa.Table:
    """The table as the database has it, geometry read and written as WKB."""
    with warnings.catch_warnings():  # PostGIS's geometry type is unknown to the reflection
        warnings.simplefilter("ignore", sa_exc.SAWarning)
        table = sa.Table(name, sa.MetaData(), autoload_with=conn)
    for column in table.c:
        if (name, column.name) in GEOMETRY:
            column.type = Geometry()
    return table


def shape(conn: sa.Connection) -> dict:
    """Every table's columns (type, nullability, server default), primary key, indexes, unique
    and check constraints and foreign keys, as the backend reflects them."""
    inspector = sa.inspect(conn)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa_exc.SAWarning)
        for name in sorted(set(inspector.get_table_names()) - {"spatial_ref_sys"}):  # PostGIS's
            out[name] = {
                "columns": {c["name"]: (str(c["type"]), c["nullable"], c.get("default"))
                            for c in inspector.get_columns(name)},
                "primary key": inspector.get_pk_constraint(name)["constrained_columns"],
                "indexes": {i["name"]: (i["column_names"], bool(i["unique"]),
                                        i.get("dialect_options", {}))
                            for i in inspector.get_indexes(name)},
                "unique": sorted(tuple(u["column_names"])
                                 for u in inspector.get_unique_constraints(name)),
                "checks": sorted((c["name"], c["sqltext"])
                                 for c in inspector.get_check_constraints(name)),
                "foreign keys": sorted((tuple(f["constrained_columns"]), f["referred_table"],
                                        tuple(f["referred_columns"]),
                                        f.get("options", {}).get("ondelete"))
                                       for f in inspector.get_foreign_keys(name)),
            }
    return out
