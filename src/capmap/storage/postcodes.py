"""Postcodes in the store: points keyed by the full postcode, with their district and sector
indexed, so a full postcode is a key lookup, a typed prefix a range on the key, and a partial
postcode (district or sector) one grouped query. Nothing reads the whole table per request."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import sqlalchemy as sa

from capmap.core.folding import postcode_parts
from capmap.storage import frames
from capmap.storage import schema as s

# Postcodes named per DELETE ... IN (...): well under SQLite's limit on bound parameters.
DELETE_CHUNK = 5_000
# The most postcodes a partial postcode's answer reads (a district holds at most a few thousand).
MAX_PARTIAL_POINTS = 20_000


class PostcodesMixin:
    """Postcode queries of the Store."""

    def put_postcodes(self, postcodes: gpd.GeoDataFrame) -> int:
        """Add or replace postcode points (`postcode` upper case with one space, `geom`), each
        with its district and sector, in one batched write (executemany on SQLite, COPY on
        PostGIS); how many were written."""
        codes = [str(c) for c in postcodes["postcode"]]
        if not codes:
            return 0
        data = frames.to_columns(postcodes, ["postcode"])
        parts = [postcode_parts(c) for c in codes]
        data["district"] = [d for d, _ in parts]
        data["sector"] = [sector for _, sector in parts]
        with self._write() as conn:
            for start in range(0, len(codes), DELETE_CHUNK):
                conn.execute(sa.delete(s.postcodes).where(
                    s.postcodes.c.postcode.in_(codes[start:start + DELETE_CHUNK])))
            self.backend.write_rows(conn, s.postcodes, data)
        return len(codes)

    def postcodes(self) -> gpd.GeoDataFrame:
        """Every postcode point (for exports and tests, never a request)."""
        query = sa.select(s.postcodes.c.postcode, s.postcodes.c.geom).order_by(s.postcodes.c.postcode)
        with self._read() as conn:
            return frames.from_rows(conn.execute(query), ["postcode", "geom"])

    def postcodes_starting(self, prefix: str, limit: int) -> list[tuple[str, float, float]]:
        """At most `limit` stored postcodes starting with `prefix` (stored form, upper case),
        in order, with their lon/lat: a range on the primary key."""
        c = s.postcodes.c
        query = (sa.select(c.postcode, c.minx, c.miny)
                 .where((c.postcode >= prefix) & (c.postcode < prefix + "\x7f"))
                 .order_by(c.postcode).limit(limit))
        with self._read() as conn:
            return [(p, float(x), float(y)) for p, x, y in conn.execute(query)]

    def postcode_groups(self, part: str, value: str) -> list[dict]:
        """For a district ("G51") its sectors, for a sector ("G51 2") itself: each with how many
        postcodes it holds and their centroid (mean lon/lat); grouped SQL on the indexed column."""
        c = s.postcodes.c
        column = c.district if part == "district" else c.sector
        query = (sa.select(c.sector, sa.func.count(), sa.func.avg(c.minx), sa.func.avg(c.miny))
                 .where(column == value).group_by(c.sector).order_by(c.sector))
        with self._read() as conn:
            return [{"sector": sector, "postcodes": int(n), "lon": float(x), "lat": float(y)}
                    for sector, n, x, y in conn.execute(query)]

    def postcode_points(self, part: str, value: str) -> np.ndarray:
        """The lon/lat points of the postcodes of a district or sector (at most
        MAX_PARTIAL_POINTS), as an (n, 2) array."""
        c = s.postcodes.c
        column = c.district if part == "district" else c.sector
        query = sa.select(c.minx, c.miny).where(column == value).limit(MAX_PARTIAL_POINTS)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return np.array(rows, dtype="float64").reshape(-1, 2)


def fill_postcode_parts(conn: sa.Connection) -> None:
    """Schema 10's data step: the district and sector of every postcode stored without them."""
    c = s.postcodes.c
    codes = conn.execute(sa.select(c.postcode).where(c.district.is_(None))).scalars().all()
    if codes:
        rows = [{"pc": code, "d": d, "sec": sector}
                for code in codes for d, sector in [postcode_parts(code)]]
        conn.execute(sa.update(s.postcodes).where(c.postcode == sa.bindparam("pc"))
                     .values(district=sa.bindparam("d"), sector=sa.bindparam("sec")), rows)
