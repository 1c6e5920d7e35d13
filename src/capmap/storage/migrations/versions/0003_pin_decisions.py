"""Schema 3: every moderation decision on a pin."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "pin_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pin_id", sa.Integer, sa.ForeignKey("pins.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("moderator", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("decision IN ('publish', 'hide', 'resolve')", name="ck_pin_decision"))
    op.create_index("ix_pin_decisions_pin", "pin_decisions", ["pin_id"])
