"""Schema 12: the register of Local Place Plans (capmap.services.lpp_register)."""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "lpp_register",
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("community_body", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("proposed_on", sa.Date),
        sa.Column("submitted_on", sa.Date),
        sa.Column("validated_on", sa.Date),
        sa.Column("registered_on", sa.Date),
        sa.Column("not_registered_on", sa.Date),
        sa.Column("removed_on", sa.Date),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('proposed', 'submitted', 'validated', 'registered', "
                           "'not_registered', 'removed')", name="ck_lpp_status"))
    op.create_index("ix_lpp_register_status", "lpp_register", ["status"])
