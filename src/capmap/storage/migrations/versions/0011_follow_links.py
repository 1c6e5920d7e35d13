"""Schema 11: residents follow their pins: follow links, the mail outbox, moderators' public
notes on decisions."""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    op.create_table(
        "pin_follows",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("pin_id", sa.Integer, sa.ForeignKey("pins.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("email", sa.Text))
    op.create_index("ix_pin_follows_pin", "pin_follows", ["pin_id"])
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pin_id", sa.Integer, sa.ForeignKey("pins.id", ondelete="CASCADE")),
        sa.Column("recipient", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text, nullable=False))
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["status", "next_attempt"])
    with op.batch_alter_table("pin_decisions") as batch:
        batch.add_column(sa.Column("public_note", sa.Text, nullable=False, server_default=""))
