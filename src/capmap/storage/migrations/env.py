"""Alembic's environment: run on the connection capmap hands over (Config.attributes), inside
the transaction it opened; batch mode on SQLite, whose ALTER TABLE cannot do everything."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
