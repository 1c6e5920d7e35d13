"""Schema 8: plans' and actions' change history, actions' percent complete, content keys for
idempotent imports, accounts scoped to councils. Responses and pins stored before keep an empty
content key: a file imported again after the upgrade is matched on refs only for them."""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    with op.batch_alter_table("actions") as batch:
        batch.add_column(sa.Column("percent_complete", sa.Integer))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("councils", sa.Text, nullable=False, server_default=""))
    for table in ("responses", "pins"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("content_key", sa.String(32)))
        op.create_index(f"ix_{table}_ref", table, ["ref"])
        op.create_index(f"ix_{table}_content_key", table, ["content_key"])
    op.create_table(
        "record_changes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("record", sa.String(10), nullable=False),
        sa.Column("record_id", sa.Integer, nullable=False),
        sa.Column("ref", sa.String(60), nullable=False),
        sa.Column("plan_id", sa.Integer, nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("old_value", sa.Text),
        sa.Column("new_value", sa.Text),
        sa.Column("changed_by", sa.String(80), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("record IN ('plan', 'action')", name="ck_change_record"))
    op.create_index("ix_record_changes_plan_at", "record_changes", ["plan_id", "at"])
    op.create_index("ix_record_changes_at", "record_changes", ["at"])
