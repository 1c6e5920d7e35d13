"""What a database knows about itself, made once when it is created: its identity (a random id
that shared caches key on, so a database recreated at the same path never reads the old one's
entries) and the key that places pins' public points (never sent to a page or an export)."""

from __future__ import annotations

import secrets

import shapely
import sqlalchemy as sa

from capmap.spatial import privacy
from capmap.storage import schema as s

DATABASE_ID = "database_id"
PIN_KEY = "pin_key"


def new_identity() -> list[dict[str, str]]:
    """Fresh meta rows: a random database id and pin key."""
    return [{"key": DATABASE_ID, "value": secrets.token_hex(16)},
            {"key": PIN_KEY, "value": secrets.token_hex(32)}]


def _meta(conn: sa.Connection, key: str) -> str | None:
    return conn.execute(sa.select(s.meta.c.value).where(s.meta.c.key == key)).scalar()


def derive_public_points(conn: sa.Connection) -> None:
    """Schema 6's data step: a database id and pin key for a database made before them, and
    every pin's public point re-derived from its place with that key (the settings' defaults),
    replacing the per-pin random offsets that repeated pins at one place averaged away."""
    missing = [row for row in new_identity() if _meta(conn, row["key"]) is None]
    if missing:
        conn.execute(sa.insert(s.meta), missing)
    key = bytes.fromhex(_meta(conn, PIN_KEY))
    p = s.pins.c
    rows = conn.execute(sa.select(p.id, p.geom)).all()
    if not rows:
        return
    exact = shapely.from_wkb([bytes(wkb) for _, wkb in rows])
    public = privacy.keyed_points(exact, key, privacy.MIN_M, privacy.MAX_M, privacy.SNAP_M)
    conn.execute(sa.update(s.pins).where(p.id == sa.bindparam("pid")).values(
        public_geom=sa.bindparam("public"), public_x=sa.bindparam("x"), public_y=sa.bindparam("y")),
        [{"pid": pid, "public": shapely.to_wkb(point), "x": float(x), "y": float(y)}
         for (pid, _), point, x, y in zip(rows, public, shapely.get_x(public),
                                          shapely.get_y(public), strict=True)])


class IdentityMixin:
    """The database id and pin key of a Store."""

    def database_id(self) -> str:
        """The random id made when this database was created (or upgraded to schema 6)."""
        return self._identity(DATABASE_ID)

    def pin_key(self) -> bytes:
        """The secret that places pins' public points."""
        return bytes.fromhex(self._identity(PIN_KEY))

    def _identity(self, key: str) -> str:
        # Read each time (one primary-key lookup): a database recreated under a running process
        # must be seen as the new one it is.
        with self._read() as conn:
            value = _meta(conn, key)
        if value is None:
            self.check()  # an old schema: says to run `capmap upgrade`
            raise LookupError(f"capmap_meta has no {key}")
        return value

__all__ = ["IdentityMixin", "derive_public_points", "new_identity"]
