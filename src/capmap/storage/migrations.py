"""Schema upgrades, by the version they bring the database to. Each runs in its own transaction
and is safe on a database that already has part of its shape (tests build the current schema and
rewind the version)."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from capmap.models import normalise_themes
from capmap.storage import schema as s
from capmap.storage.columns import add_missing_columns
from capmap.storage.identity import upgrade_to_6
from capmap.storage.names import upgrade_names_to_10
from capmap.storage.nearby import upgrade_to_5
from capmap.storage.postcodes import upgrade_postcodes_to_10
from capmap.storage.upgrade8 import upgrade_to_8

# Upgrades that leave a derived table to be filled by the pipeline (see pipeline.upgrade).
REFRESH_PLAN_COVERAGE = frozenset({4, 7})


def _v4(conn: sa.Connection) -> None:
    """Grouped engagement counts: their index, themes stored normalised; the per-type coverage."""
    for index in s.assignments.indexes:
        index.create(conn, checkfirst=True)
    s.type_coverage.create(conn, checkfirst=True)
    r = s.responses.c
    untidy = sa.or_(*(r.themes.contains(c) for c in (" ", "\t", "\n", "\r", ";;")),
                    r.themes.startswith(";"), r.themes.endswith(";"))
    rows = conn.execute(sa.select(r.id, r.themes).where(untidy)).all()
    changed = [{"rid": rid, "tidy": normalise_themes(themes)} for rid, themes in rows
               if normalise_themes(themes) != themes]
    if changed:
        conn.execute(sa.update(s.responses).where(r.id == sa.bindparam("rid"))
                     .values(themes=sa.bindparam("tidy")), changed)


def _v10(conn: sa.Connection) -> None:
    """Finding areas: postcode districts and sectors, folded and alternative area names."""
    upgrade_postcodes_to_10(conn)
    upgrade_names_to_10(conn)
def _v11(conn: sa.Connection) -> None:
    """Residents follow their pins: follow tokens, the mail outbox, public notes on decisions."""
    s.pin_follows.create(conn, checkfirst=True)
    s.mail_outbox.create(conn, checkfirst=True)
    add_missing_columns(conn, "pin_decisions", {"public_note": "TEXT NOT NULL DEFAULT ''"})


def _v14(conn: sa.Connection) -> None:
    """Progress reports: a record's field at a moment is one probe of this index."""
    for index in s.record_changes.indexes:
        index.create(conn, checkfirst=True)


MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {
    2: lambda conn: s.users.create(conn, checkfirst=True),  # accounts
    3: lambda conn: s.pin_decisions.create(conn, checkfirst=True),  # pin moderation history
    4: _v4,
    5: upgrade_to_5,  # pins' public coordinates, box and GiST indexes for place queries
    6: upgrade_to_6,  # database id and pin key; public points re-derived from the key
    # Service plans are council-wide (capmap.gaprules): the per-type coverage is written again.
    7: lambda conn: None,
    8: upgrade_to_8,  # change history, percent complete, content keys, users' councils
    9: lambda conn: s.area_indicators.create(conn, checkfirst=True),  # indicators per area
    10: _v10,
    11: _v11,  # follow links, mail outbox, public notes
    14: _v14,  # the history's index by record, field and time (progress reports)
}
