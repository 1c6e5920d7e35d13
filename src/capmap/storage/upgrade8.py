"""Schema 8: editing and idempotent imports, accounts scoped to councils."""

from __future__ import annotations

import sqlalchemy as sa

from capmap.storage import schema as s
from capmap.storage.columns import add_missing_columns

# Columns added to tables that exist, as (table, column, SQL type and default).
NEW_COLUMNS = (
    ("actions", "percent_complete", "INTEGER"),
    ("users", "councils", "TEXT NOT NULL DEFAULT ''"),
    ("responses", "content_key", "VARCHAR(32)"),
    ("pins", "content_key", "VARCHAR(32)"),
)
NEW_INDEXES = ("ix_responses_ref", "ix_responses_content_key", "ix_pins_ref",
               "ix_pins_content_key")


def upgrade_to_8(conn: sa.Connection) -> None:
    """Add the new columns and indexes and the change history table, where missing.
    Responses and pins stored before keep an empty content key: a file imported again after
    the upgrade is matched on refs only for them."""
    for table, column, sql_type in NEW_COLUMNS:
        add_missing_columns(conn, table, {column: sql_type})
    for table in (s.responses, s.pins):
        for index in table.indexes:
            if index.name in NEW_INDEXES:
                index.create(conn, checkfirst=True)
    s.record_changes.create(conn, checkfirst=True)
