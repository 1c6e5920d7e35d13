"""Schema 15: the language a resident followed their pin in, so the emails about it are written in
that language (NULL for follows made before: English, the interface's default)."""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    with op.batch_alter_table("pin_follows") as batch:
        batch.add_column(sa.Column("lang", sa.String(8)))
