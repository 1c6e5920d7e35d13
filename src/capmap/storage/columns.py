"""Adding columns in an upgrade: only those a table lacks, so an upgrade can run again."""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc


def add_missing_columns(conn: sa.Connection, table: str, columns: dict[str, str]) -> None:
    """ALTER TABLE `table` ADD each of `columns` (name: SQL type and default) it does not have."""
    with warnings.catch_warnings():  # PostGIS's geometry type is unknown to the reflection
        warnings.simplefilter("ignore", sa_exc.SAWarning)
        present = {c["name"] for c in sa.inspect(conn).get_columns(table)}
    for name, sql_type in columns.items():
        if name not in present:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}")
