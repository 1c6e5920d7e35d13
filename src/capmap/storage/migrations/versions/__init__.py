"""One Alembic revision per schema version: NNNN_what.py with revision "NNNN" (the version,
four digits) and down_revision the one before. Each builds its own version's shape with explicit
operations (never today's Table objects, which move on) and fills what its new columns need.

Adding schema version N (see README, "Adding a schema change"): change the tables in
capmap/storage/schema.py, set SCHEMA_VERSION = N there, and add versions/00NN_what.py:

    \"\"\"Schema 12: what it brings.\"\"\"

    import sqlalchemy as sa
    from alembic import op

    revision = "0012"
    down_revision = "0011"


    def upgrade() -> None:
        op.create_table("things", sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("name", sa.Text, nullable=False))
        with op.batch_alter_table("pins") as batch:  # batch: SQLite's ALTER TABLE is limited
            batch.add_column(sa.Column("colour", sa.String(20), nullable=False,
                                       server_default=""))
        op.create_index("ix_pins_colour", "pins", ["colour"])
        fill_colours(op.get_bind())  # a data step: a function of the storage module, data only

tests/test_migrations.py then proves a fresh `capmap init` and an upgrade from version 1 give
the same tables, columns and indexes on SQLite and PostGIS.
"""
