"""Schema upgrades through Alembic: one revision per schema version (versions/NNNN_*.py), each
building its own version's shape, run on the store's own connection (no alembic.ini).

The revision of schema version N is "%04d" % N. A database made before Alembic (a capmap_meta
schema_version, no alembic_version table) is stamped at its version's revision first, so deployed
databases keep upgrading. capmap_meta's schema_version is kept in step with alembic_version: it is
what Store.schema_version() and Store.check() read.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from capmap.core.errors import SchemaError

HERE = Path(__file__).resolve().parent
# Upgrades that leave a derived table to be filled by the pipeline (see pipeline.upgrade).
REFRESH_PLAN_COVERAGE = frozenset({4, 7})


def revision_of(version: int) -> str:
    """The Alembic revision id of a schema version."""
    return f"{version:04d}"


def _config(conn: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = conn  # what env.py runs on
    return config


def versions() -> list[int]:
    """Every schema version a revision builds, in order."""
    script = ScriptDirectory.from_config(_config())
    return sorted(int(rev.revision) for rev in script.walk_revisions())


def head() -> int:
    """The schema version of the newest revision."""
    return int(ScriptDirectory.from_config(_config()).get_current_head())


def current(conn: sa.Connection) -> int | None:
    """The version alembic_version records, or None where it has no row (or no table)."""
    revision = MigrationContext.configure(conn).get_current_revision()
    return int(revision) if revision is not None else None


def upgrade_to(conn: sa.Connection, version: int, recorded: int) -> None:
    """Run the revisions after `recorded` (the capmap_meta schema version) up to `version` in the
    open transaction; a database without alembic_version is stamped at `recorded` first."""
    stamped = current(conn)
    if stamped is None:
        command.stamp(_config(conn), revision_of(recorded))
    elif stamped != recorded:
        raise SchemaError(f"the database records schema version {recorded} in capmap_meta but "
                          f"{stamped} in alembic_version; expected the two to agree")
    command.upgrade(_config(conn), revision_of(version))


def stamp_head(conn: sa.Connection) -> None:
    """Record a schema made whole (Store.init) as at the newest revision."""
    # purge: whatever an earlier, wiped schema left in alembic_version is replaced unread.
    command.stamp(_config(conn), revision_of(head()), purge=True)
