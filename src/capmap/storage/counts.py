"""Grouped counts of engagement responses, computed where the data is.

Every response has one assignment row per current layer (its area code, NULL when outside every
area), written with the response and rewritten when a layer is imported. So counting responses per
area is a GROUP BY over the assignments index; filters on the responses pick their ids first. No
request reads the responses into Python.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from capmap.core.models import ALL_RESPONSES, EngagementFilters
from capmap.storage import schema as s


class _position(FunctionElement):
    """The 1-based position of a text inside another, 0 if absent (case-sensitive on both
    backends, unlike SQLite's LIKE)."""

    type = sa.Integer()
    inherit_cache = True


@compiles(_position)
def _sqlite_position(element, compiler, **kw) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_position, "postgresql")
def _pg_position(element, compiler, **kw) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"


def _has_theme(themes: sa.ColumnElement, theme: str) -> sa.ColumnElement[bool]:
    """Whether a stored `a;b;c` theme list holds `theme` as one whole element."""
    if not theme or ";" in theme or theme != theme.strip():
        return sa.false()  # no stored element is empty, holds ";" or starts or ends with a space
    wrapped = sa.literal(";") + themes + sa.literal(";")
    return _position(wrapped, sa.literal(f";{theme};")) > 0


def response_conditions(filters: EngagementFilters) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions on the responses table for the filters given."""
    r = s.responses.c
    out = []
    if filters.campaign is not None:
        out.append(r.campaign == filters.campaign)
    if filters.channel is not None:
        out.append(r.channel == filters.channel)
    if filters.theme is not None:
        out.append(_has_theme(r.themes, filters.theme))
    if filters.date_from is not None:
        out.append(r.date >= filters.date_from)
    if filters.date_to is not None:
        out.append(r.date <= filters.date_to)
    return out


class CountsMixin:
    """Grouped counts over the responses and their assignments."""

    def response_counts(self, layer_id: str, filters: EngagementFilters = ALL_RESPONSES
                        ) -> dict[str | None, int]:
        """Responses matching `filters` per area code of `layer_id`; key None counts those outside
        every area of the layer. Codes without responses are absent."""
        a = s.assignments.c
        conditions = response_conditions(filters)
        query = sa.select(a.code, sa.func.count()).where(
            a.record == "responses", a.layer_id == layer_id).group_by(a.code)
        if conditions:
            # A semi-join, not a JOIN: SQLite would walk the code index and fetch each response
            # at random; this way the matching ids come first (by an index where one serves) and
            # each probes the assignments' primary key. PostgreSQL hashes either form.
            chosen = sa.select(s.responses.c.id).where(*conditions)
            query = query.where(a.record_id.in_(chosen))
        with self._read() as conn:
            return {code: int(n) for code, n in conn.execute(query)}

    def response_options(self) -> dict[str, list[str]]:
        """The campaigns, channels and themes present in the responses, sorted."""
        r = s.responses.c
        # One pass over the table: the distinct combinations are few.
        query = sa.select(r.campaign, r.channel, r.themes).distinct()
        with self._read() as conn:
            rows = conn.execute(query).all()
        themes = {t.strip() for _, _, listed in rows if listed for t in listed.split(";")}
        return {"campaigns": sorted({c for c, _, _ in rows if c}),
                "channels": sorted({c for _, c, _ in rows if c}),
                "themes": sorted(t for t in themes if t)}
