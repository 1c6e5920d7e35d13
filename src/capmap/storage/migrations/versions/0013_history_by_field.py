"""Schema 13: progress reports read one record's field as it stood at a moment (the last change
before it) through one probe of this index."""

from alembic import op

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.create_index("ix_record_changes_field_at", "record_changes",
                    ["record", "record_id", "field", "at"])
