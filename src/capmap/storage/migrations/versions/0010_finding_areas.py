"""Schema 10: finding areas. Postcodes keep their district and sector, areas an alternative name
and both names folded (capmap.core.folding), all indexed and filled for the rows stored."""

import sqlalchemy as sa
from alembic import op

from capmap.storage.names import fold_stored_names
from capmap.storage.postcodes import fill_postcode_parts

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    with op.batch_alter_table("postcodes") as batch:
        batch.add_column(sa.Column("district", sa.String(4)))
        batch.add_column(sa.Column("sector", sa.String(6)))
    op.create_index("ix_postcodes_district", "postcodes", ["district"])
    op.create_index("ix_postcodes_sector", "postcodes", ["sector"])
    with op.batch_alter_table("areas") as batch:
        for name in ("name_alt", "name_folded", "name_alt_folded"):
            batch.add_column(sa.Column(name, sa.Text, nullable=False, server_default=""))
    op.create_index("ix_areas_name_folded", "areas", ["name_folded"])
    op.create_index("ix_areas_name_alt_folded", "areas", ["name_alt_folded"])
    fill_postcode_parts(op.get_bind())
    fold_stored_names(op.get_bind())
