"""Schema 6: users' session epochs; a database id and pin key; every pin's public point
re-derived from its place with that key."""

import sqlalchemy as sa
from alembic import op

from capmap.storage.identity import derive_public_points
from capmap.storage.migrations.ddl import on_postgis

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    # Sessions made before the upgrade start at epoch 0 and stay valid.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_epoch", sa.Integer, nullable=False,
                                   server_default="0"))
    if not on_postgis():
        # Some schema 5 databases kept public coordinates by triggers calling Python functions
        # that no longer exist: the re-derivation below would set them off.
        op.execute("DROP TRIGGER IF EXISTS pins_public_xy_insert")
        op.execute("DROP TRIGGER IF EXISTS pins_public_xy_update")
    derive_public_points(op.get_bind())
