"""Schema 14: the councillors of each ward, for a proposed Local Place Plan's notification list
(capmap.services.lpp_notify)."""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    op.create_table(
        "councillors",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("ward_code", sa.String(40), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("party", sa.Text, nullable=False, server_default=""),
        sa.Column("email", sa.Text, nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False))
    op.create_index("ix_councillors_ward_code", "councillors", ["ward_code"])
