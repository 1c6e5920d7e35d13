"""Schema 5: pins keep their public point's coordinates, written with each pin; box indexes on
SQLite and a GiST index on the public point on PostGIS; actions indexed by plan."""

import sqlalchemy as sa
from alembic import op

from capmap.storage.migrations.ddl import gist_index, on_postgis
from capmap.storage.nearby import fill_public_xy

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    with op.batch_alter_table("pins") as batch:
        batch.add_column(sa.Column("public_x", sa.Float))
        batch.add_column(sa.Column("public_y", sa.Float))
    op.create_index("ix_actions_plan", "actions", ["plan_id"])
    gist_index("ix_pins_public_geom", "pins", "public_geom")
    if not on_postgis():
        op.create_index("ix_actions_box", "actions", ["minx", "maxx", "miny", "maxy"])
        op.create_index("ix_pins_public_xy", "pins", ["status", "public_x", "public_y"])
    fill_public_xy(op.get_bind())
