"""Schema 9: named numbers per area of a layer vintage (SIMD domain ranks, other indicators)."""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"


def upgrade() -> None:
    op.create_table(
        "area_indicators",
        sa.Column("layer_id", sa.String(40), primary_key=True),
        sa.Column("vintage", sa.String(40), primary_key=True),
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
        sa.ForeignKeyConstraint(["layer_id", "vintage"], ["layers.layer_id", "layers.vintage"],
                                ondelete="CASCADE"))
    op.create_index("ix_area_indicators_name", "area_indicators", ["layer_id", "vintage", "name"])
