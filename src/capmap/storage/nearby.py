"""Records in one place: published pins at their public points, and actions, read by bounding box
in SQL (box columns on SQLite, GiST indexes on PostGIS) and then tested exactly in shapely, so a
request about one place reads that place's rows, not the whole table.

Pins are found by their public (moved) point only: its own columns and index, never the exact
point's `geom` or its box, so no query can tell where a pin really is.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa

from capmap.core.crs import STORAGE_CRS
from capmap.storage import frames
from capmap.storage import schema as s
from capmap.storage.moderation import PUBLIC_PIN_COLUMNS
from capmap.storage.records import ACTION_COLUMNS

Box = tuple[float, float, float, float]


class NearbyMixin:
    """Store queries for the records inside a lon/lat geometry."""

    def public_pins_in(self, geometry: shapely.Geometry, statuses: Iterable[str]) -> gpd.GeoDataFrame:
        """Pins of `statuses` whose public point is in or on `geometry` (EPSG:4326), by id, with
        PUBLIC_PIN_COLUMNS (no exact point, no contact); the geometry column is `public_geom`."""
        names = [c for c in PUBLIC_PIN_COLUMNS if c != "public_geom"]
        columns, inside = self._public_inside(geometry, statuses, names)
        return _public_frame(names, columns, inside)

    def newest_public_pins_in(self, geometry: shapely.Geometry, statuses: Iterable[str],
                              limit: int) -> tuple[gpd.GeoDataFrame, int]:
        """The newest `limit` of public_pins_in (by id, newest first) and how many there are in
        all: a large area lists a page of pins, while only ids and points of the rest are read."""
        columns, inside = self._public_inside(geometry, statuses, ["id"])
        total = len(inside)
        chosen = [columns[0][i] for i in inside[::-1][:limit]]
        if not chosen:
            return _public_frame([c for c in PUBLIC_PIN_COLUMNS if c != "public_geom"],
                                 None, inside[:0]), total
        names = [c for c in PUBLIC_PIN_COLUMNS if c != "public_geom"]
        pins = s.pins
        query = (sa.select(*[pins.c[c] for c in names], pins.c.public_x, pins.c.public_y)
                 .where(pins.c.id.in_(chosen)).order_by(pins.c.id.desc()))
        with self._read() as conn:
            rows = conn.execute(query).all()
        picked = list(zip(*rows, strict=True))
        return _public_frame(names, picked, np.arange(len(rows))), total

    def _public_inside(self, geometry: shapely.Geometry, statuses: Iterable[str],
                       names: list[str]) -> tuple[list, np.ndarray]:
        """`names` and the public x, y of the pins of `statuses` in the geometry's box, as
        columns, and the positions of those whose public point is in or on the geometry."""
        box = _box(geometry)
        pins = s.pins
        if box is None:
            near = sa.false()
        elif self.name == "postgis":
            near = pins.c.public_geom.op("&&")(_envelope(box))
        else:
            near = pins.c.public_x.between(box[0], box[2]) & pins.c.public_y.between(box[1], box[3])
        # The public point is read as its coordinates (exact copies, written with the pin): the
        # exact test needs no geometry parsing, and rows outside are dropped before pandas.
        query = (sa.select(*[pins.c[c] for c in names], pins.c.public_x, pins.c.public_y)
                 .where(pins.c.status.in_(list(statuses)) & near).order_by(pins.c.id))
        with self._read() as conn:
            rows = conn.execute(query).all()
        columns = list(zip(*rows, strict=True)) if rows else [()] * (len(names) + 2)
        x, y = (np.array(c, dtype="float64") for c in columns[-2:])
        shapely.prepare(geometry)
        return columns, np.flatnonzero(shapely.intersects_xy(geometry, x, y))

    def actions_in(self, geometry: shapely.Geometry | None, plan_ids: Iterable[int] = ()
                   ) -> gpd.GeoDataFrame:
        """Actions with a location of their own in or on `geometry` (EPSG:4326; None: nowhere),
        and those with none that belong to the plans `plan_ids` (placed by their plan's area);
        by id, with ACTION_COLUMNS."""
        acts, ids = s.actions, sorted({int(i) for i in plan_ids})
        box = _box(geometry)
        by_plan = acts.c.geom.is_(None) & acts.c.plan_id.in_(ids)
        if box is None:
            where = by_plan
        elif self.name == "postgis":
            where = acts.c.geom.op("&&")(_envelope(box)) | by_plan
        else:
            where = ((acts.c.minx <= box[2]) & (acts.c.maxx >= box[0]) & (acts.c.miny <= box[3])
                     & (acts.c.maxy >= box[1])) | by_plan
        found = self._actions_where(where)
        points = found.geometry.values
        located = ~shapely.is_missing(points)
        keep = ~located
        if located.any():
            shapely.prepare(geometry)
            keep[located] = shapely.intersects(geometry, points[located])
        return found[keep].reset_index(drop=True)

    def plan_actions(self, plan_ids: Iterable[int]) -> gpd.GeoDataFrame:
        """Every action of the plans `plan_ids`, located or not, by id, with ACTION_COLUMNS."""
        return self._actions_where(s.actions.c.plan_id.in_(sorted({int(i) for i in plan_ids})))

    def _actions_where(self, where) -> gpd.GeoDataFrame:
        query = (sa.select(*[s.actions.c[c] for c in ACTION_COLUMNS]).where(where)
                 .order_by(s.actions.c.id))
        with self._read() as conn:
            return frames.from_rows(_tuples(conn.execute(query)), ACTION_COLUMNS)


def _tuples(result: sa.CursorResult) -> list[tuple]:
    """The rows as plain tuples: pandas reads thousands of them many times faster than Rows."""
    return [tuple(row) for row in result.all()]


def _box(geometry: shapely.Geometry) -> Box | None:
    """The lon/lat bounds of a geometry, or None when it is empty (it holds nothing)."""
    bounds = shapely.bounds(geometry)
    if geometry is None or not np.isfinite(bounds).all():
        return None
    return tuple(float(b) for b in bounds)


def _envelope(box: Box):
    """The box as a PostGIS polygon in EPSG:4326, for `&&` against a GiST index."""
    return sa.func.ST_MakeEnvelope(box[0], box[1], box[2], box[3], 4326)


def fill_public_xy(conn: sa.Connection) -> None:
    """Schema 5's data step: the public point's coordinates of every pin stored without them."""
    p = s.pins.c
    rows = conn.execute(sa.select(p.id, p.public_geom).where(p.public_x.is_(None))).all()
    if rows:
        public = shapely.from_wkb([bytes(wkb) for _, wkb in rows])
        conn.execute(sa.update(s.pins).where(p.id == sa.bindparam("pid")).values(
            public_x=sa.bindparam("x"), public_y=sa.bindparam("y")),
            [{"pid": pid, "x": float(x), "y": float(y)} for (pid, _), x, y in
             zip(rows, shapely.get_x(public), shapely.get_y(public), strict=True)])


def _public_frame(names: list[str], columns: list | None, inside: np.ndarray) -> gpd.GeoDataFrame:
    """The rows at positions `inside` of `columns` (`names`, then public x and y) as a frame of
    PUBLIC_PIN_COLUMNS."""
    columns = columns or [()] * (len(names) + 2)
    x, y = (np.array(c, dtype="float64") for c in columns[-2:])
    data = {name: [values[i] for i in inside] for name, values in zip(names, columns, strict=False)}
    points = gpd.GeoSeries(shapely.points(x[inside], y[inside]), crs=STORAGE_CRS)
    return gpd.GeoDataFrame({**data, "public_geom": points}, geometry="public_geom",
                            crs=STORAGE_CRS)[PUBLIC_PIN_COLUMNS]
