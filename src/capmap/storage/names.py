"""Finding areas by name in SQL: every area keeps its name and its alternative name folded
(capmap.core.folding), so a search is one query over the current layers on either backend, ranked
there, and only the matches cross into Python."""

from __future__ import annotations

import sqlalchemy as sa

from capmap.core.folding import fold
from capmap.storage import schema as s

# Rank of a match: 0 its code, 1 a name equal to the text, 2 a name starting with it, 3 a word of
# a name starting with it, 4 a name holding it (each on the name or the alternative name).
RANKS = ("code", "name", "name start", "word start", "within name")


class NamesMixin:
    """Name search of the Store."""

    def search_areas(self, text: str, limit: int) -> list[dict]:
        """Areas of every current layer whose code is `text` or whose name or alternative name
        holds it folded, best first (rank, then layer, name, code), at most `limit`: code,
        name, name_alt, layer_id, kind, parent_code, parent_name (the name of the area of a
        current council layer with the parent code, if any) and rank."""
        needle = fold(text)
        a, layers = s.areas.c, s.layers.c
        rank = _rank(a.name_folded, needle, a.name_alt_folded)
        code_hit = a.code == str(text).strip().upper()
        rank = sa.case((code_hit, 0), else_=rank)
        matches = code_hit | (a.name_folded.contains(needle) if needle else sa.false()) | (
            a.name_alt_folded.contains(needle) if needle else sa.false())
        parent = _parent_names().subquery()
        ranked = rank.label("rank")
        query = (sa.select(a.code, a.name, a.name_alt, a.layer_id, layers.kind, a.parent_code,
                           parent.c.parent_name, ranked)
                 .join(s.layers, (layers.layer_id == a.layer_id) & (layers.vintage == a.vintage))
                 .outerjoin(parent, parent.c.parent_code == a.parent_code)
                 .where(layers.is_current.is_(True) & matches)
                 .order_by(ranked, a.layer_id, a.name, a.code).limit(limit))
        with self._read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]


def _rank(name: sa.ColumnElement, needle: str, alt: sa.ColumnElement) -> sa.ColumnElement:
    """The best rank of the folded name or alternative name against the folded needle. Folded
    text holds only letters, digits and single spaces: the needle has no LIKE wildcard."""
    if not needle:
        return sa.literal(9)
    cases = []
    for column in (name, alt):
        cases.append(sa.case((column == needle, 1), (column.startswith(needle), 2),
                             ((" " + column).contains(" " + needle), 3),
                             (column.contains(needle), 4), else_=9))
    return sa.case((cases[0] <= cases[1], cases[0]), else_=cases[1])


def _parent_names() -> sa.Select:
    """(parent_code, parent_name) of every area of a current council layer: the council an
    area's parent code names. One row per code (the smallest name, should two layers hold it)."""
    a, layers = s.areas.c, s.layers.c
    return (sa.select(a.code.label("parent_code"), sa.func.min(a.name).label("parent_name"))
            .join(s.layers, (layers.layer_id == a.layer_id) & (layers.vintage == a.vintage))
            .where(layers.is_current.is_(True) & (layers.kind == "council")).group_by(a.code))


def fold_stored_names(conn: sa.Connection) -> None:
    """Schema 10's data step: the folded name and alternative name of every stored area."""
    a = s.areas.c
    rows = conn.execute(sa.select(a.id, a.name, a.name_alt)).all()
    changed = [{"aid": aid, "nf": fold(name), "af": fold(alt)} for aid, name, alt in rows]
    if changed:
        conn.execute(sa.update(s.areas).where(a.id == sa.bindparam("aid")).values(
            name_folded=sa.bindparam("nf"), name_alt_folded=sa.bindparam("af")), changed)
