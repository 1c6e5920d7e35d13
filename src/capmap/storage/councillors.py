"""Councillors by ward in the store: the wards a file names checked against the current ward
layers in one grouped query, an import replacing the councillors of its wards in one
transaction, and the councillors of some wards read by code."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa

from capmap.storage import schema as s

COUNCILLOR_COLUMNS = ("ward_code", "name", "party", "email")
# Codes per IN (...) list: well under SQLite's bound-parameter limit.
CODES_PER_QUERY = 500


def _chunks(codes: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(codes), CODES_PER_QUERY):
        yield codes[start:start + CODES_PER_QUERY]


class CouncillorsMixin:
    """The councillors table in the Store."""

    def ward_councils(self, codes: Iterable[str]) -> dict[str, str | None]:
        """Of `codes`, those of an area in a current layer of kind ward, with the ward's
        parent (council) code; codes of no ward are left out."""
        a, layers = s.areas.c, s.layers.c
        found: dict[str, str | None] = {}
        with self._read() as conn:
            for chunk in _chunks(sorted(set(codes))):
                query = (sa.select(a.code, sa.func.min(a.parent_code))
                         .join(s.layers, (layers.layer_id == a.layer_id)
                               & (layers.vintage == a.vintage))
                         .where(layers.is_current.is_(True), layers.kind == "ward",
                                a.code.in_(chunk))
                         .group_by(a.code))
                found.update({code: parent for code, parent in conn.execute(query)})
        return found

    def replace_councillors(self, rows: list[dict]) -> int:
        """Store `rows` (COUNCILLOR_COLUMNS) as the whole list of councillors of each ward they
        name: that ward's earlier councillors are removed in the same transaction."""
        wards = sorted({r["ward_code"] for r in rows})
        now = datetime.now(UTC)
        with self._write() as conn:
            for chunk in _chunks(wards):
                conn.execute(sa.delete(s.councillors).where(s.councillors.c.ward_code.in_(chunk)))
            if rows:
                conn.execute(sa.insert(s.councillors),
                             [{**{c: r.get(c, "") for c in COUNCILLOR_COLUMNS}, "updated_at": now}
                              for r in rows])
        return len(rows)

    def councillors_of(self, ward_codes: Iterable[str]) -> list[dict]:
        """The councillors of the wards `ward_codes`, by ward code, then name."""
        c = s.councillors.c
        out: list[dict] = []
        with self._read() as conn:
            for chunk in _chunks(sorted(set(ward_codes))):
                query = (sa.select(*(c[k] for k in COUNCILLOR_COLUMNS)).where(c.ward_code.in_(chunk))
                         .order_by(c.ward_code, c.name, c.id))
                out += [dict(r) for r in conn.execute(query).mappings()]
        return sorted(out, key=lambda r: (r["ward_code"], r["name"]))

    def councillor_count(self) -> int:
        """How many councillors are stored."""
        with self._read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(s.councillors))
                       .scalar())
