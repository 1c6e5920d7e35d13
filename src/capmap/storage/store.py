"""The store: one interface over SQLite and PostGIS. GeoDataFrames and dataclasses cross it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import ModuleType

import geopandas as gpd
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError

from capmap.errors import NotFound, SchemaError, StoreUnavailable, ValidationError
from capmap.models import Layer, LayerDef
from capmap.storage import frames
from capmap.storage import schema as s

AREA_COLUMNS = ["code", "name", "parent_code", "population", "simd_rank", "simd_decile",
                "simd_quintile", "geom"]
PLAN_COLUMNS = ["id", "ref", "type", "title", "owner", "council_code", "period_start",
                "period_end", "review_due", "status", "themes", "link", "summary", "area_layer",
                "area_codes", "geom"]
ACTION_COLUMNS = ["id", "ref", "plan_id", "title", "description", "theme", "lead", "lead_type",
                  "partners", "resources", "measure", "target_date", "status", "progress_note",
                  "updated", "geom"]
RESPONSE_COLUMNS = ["id", "ref", "campaign", "channel", "date", "themes", "area_layer",
                    "area_code", "age_band", "geom"]
PIN_COLUMNS = ["id", "ref", "category", "description", "created", "status", "contact", "geom",
               "public_geom"]

INSERT_CHUNK = 5000
Progress = Callable[[int, int], None]

# Schema upgrades, by the version they bring the database to. Each runs in its own transaction.
MIGRATIONS: dict[int, object] = {}


class Store:
    """A capmap database. Open one with `capmap.storage.open_store(url)`."""

    def __init__(self, url: str, engine: sa.Engine, backend: ModuleType, name: str) -> None:
        self.url = url
        self.engine = engine
        self.backend = backend
        self.name = name

    # -- connections -------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except OperationalError as exc:
            raise StoreUnavailable("the database is not available; try again shortly") from exc

    @contextmanager
    def _write(self) -> Iterator[sa.Connection]:
        """One atomic write: everything inside commits together or not at all."""
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(capmap_write=True)
                with conn.begin():
                    yield conn
                    self._bump_data_version(conn)
        except OperationalError as exc:
            raise StoreUnavailable("the database is not available; try again shortly") from exc
        except IntegrityError as exc:
            raise ValidationError("the database refused the write "
                                  f"({exc.orig.__class__.__name__}); nothing was stored") from exc

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()

    # -- schema ------------------------------------------------------------------------------

    def schema_version(self) -> int | None:
        """The recorded schema version, or None for an empty database."""
        with self._read() as conn:
            if not sa.inspect(conn).has_table(s.meta.name):
                return None
            value = conn.execute(
                sa.select(s.meta.c.value).where(s.meta.c.key == "schema_version")
            ).scalar()
        return int(value) if value is not None else None

    def init(self) -> bool:
        """Create the schema in an empty database; True if it was created, False if present."""
        version = self.schema_version()
        if version is not None:
            self.check()
            return False
        with self._write() as conn:
            self.backend.prepare(conn)
            s.metadata.create_all(conn)
            self.backend.index(conn)
            conn.execute(sa.insert(s.meta), [
                {"key": "schema_version", "value": str(s.SCHEMA_VERSION)},
                {"key": "data_version", "value": "0"},
            ])
        return True

    def check(self) -> None:
        """Refuse to work on a missing schema or one at another version."""
        version = self.schema_version()
        if version is None:
            raise SchemaError("the database has no capmap schema; run `capmap init`")
        if version < s.SCHEMA_VERSION:
            raise SchemaError(
                f"the database schema is version {version}, this capmap needs "
                f"{s.SCHEMA_VERSION}; run `capmap upgrade`"
            )
        if version > s.SCHEMA_VERSION:
            raise SchemaError(
                f"the database schema is version {version}, newer than this capmap "
                f"({s.SCHEMA_VERSION}); upgrade capmap"
            )

    def upgrade(self) -> list[int]:
        """Apply pending migrations in order; returns the versions applied."""
        version = self.schema_version()
        if version is None:
            raise SchemaError("the database has no capmap schema; run `capmap init`")
        applied = []
        for target in sorted(v for v in MIGRATIONS if v > version):
            with self._write() as conn:
                MIGRATIONS[target](conn)
                conn.execute(sa.update(s.meta).where(s.meta.c.key == "schema_version")
                             .values(value=str(target)))
            applied.append(target)
        return applied

    def data_version(self) -> int:
        """A counter bumped by every write; caches key on it to reload after any change."""
        with self._read() as conn:
            value = conn.execute(
                sa.select(s.meta.c.value).where(s.meta.c.key == "data_version")
            ).scalar()
        return int(value or 0)

    def _bump_data_version(self, conn: sa.Connection) -> None:
        value = sa.cast(s.meta.c.value, sa.Integer) + 1
        conn.execute(sa.update(s.meta).where(s.meta.c.key == "data_version")
                     .values(value=sa.cast(value, sa.Text)))

    # -- boundary layers ---------------------------------------------------------------------

    def put_layer(self, layer: LayerDef, areas: gpd.GeoDataFrame) -> Layer:
        """Store one layer vintage atomically, replacing the same vintage, and make it current.

        `areas` has the AREA_COLUMNS in EPSG:4326, codes unique and geometries valid.
        """
        now = datetime.now(UTC)
        rows = frames.to_rows(areas, AREA_COLUMNS)
        with self._write() as conn:
            key = (s.layers.c.layer_id == layer.id) & (s.layers.c.vintage == layer.vintage)
            conn.execute(sa.delete(s.areas).where(
                (s.areas.c.layer_id == layer.id) & (s.areas.c.vintage == layer.vintage)))
            conn.execute(sa.delete(s.layers).where(key))
            conn.execute(sa.update(s.layers).where(s.layers.c.layer_id == layer.id)
                         .values(is_current=False))
            conn.execute(sa.insert(s.layers).values(
                layer_id=layer.id, vintage=layer.vintage, kind=layer.kind,
                title=layer.title or layer.id, licence=layer.licence, source=layer.source,
                area_count=len(rows), is_current=True, imported_at=now,
            ))
            for row in rows:
                row["layer_id"], row["vintage"] = layer.id, layer.vintage
            if rows:
                conn.execute(sa.insert(s.areas), rows)
        return self.layer(layer.id, layer.vintage)

    def layers(self) -> list[Layer]:
        """Every stored layer vintage, current ones first within each layer."""
        with self._read() as conn:
            result = conn.execute(sa.select(s.layers).order_by(
                s.layers.c.layer_id, s.layers.c.is_current.desc(), s.layers.c.vintage))
            return [_layer(row) for row in result.mappings()]

    def layer(self, layer_id: str, vintage: str | None = None) -> Layer:
        """One layer vintage (the current one when `vintage` is None)."""
        for layer in self.layers():
            if layer.id == layer_id and (layer.vintage == vintage if vintage else layer.is_current):
                return layer
        known = sorted({f"{la.id}" for la in self.layers()})
        wanted = f"{layer_id} vintage {vintage}" if vintage else layer_id
        raise NotFound(f"layer {wanted!r} not found; layers are {', '.join(known) or 'none'}")

    def delete_layer(self, layer_id: str, vintage: str) -> None:
        """Remove one layer vintage and its areas."""
        self.layer(layer_id, vintage)
        with self._write() as conn:
            conn.execute(sa.delete(s.areas).where(
                (s.areas.c.layer_id == layer_id) & (s.areas.c.vintage == vintage)))
            conn.execute(sa.delete(s.layers).where(
                (s.layers.c.layer_id == layer_id) & (s.layers.c.vintage == vintage)))

    def areas(self, layer_id: str, vintage: str | None = None,
              codes: list[str] | None = None) -> gpd.GeoDataFrame:
        """Areas of a layer vintage (current by default), optionally only the given codes."""
        layer = self.layer(layer_id, vintage)
        cols = [s.areas.c[c] for c in AREA_COLUMNS]
        query = sa.select(*cols).where(
            (s.areas.c.layer_id == layer.id) & (s.areas.c.vintage == layer.vintage)
        ).order_by(s.areas.c.code)
        if codes is not None:
            query = query.where(s.areas.c.code.in_(codes))
        with self._read() as conn:
            return frames.from_rows(conn.execute(query), AREA_COLUMNS)

    # -- plans, actions, responses, pins, postcodes ------------------------------------------

    def put_plans(self, plans: gpd.GeoDataFrame) -> int:
        """Add plans; refs must be new (a duplicate is refused with the refs listed)."""
        self._refuse_existing(s.plans, plans["ref"])
        return self._insert(s.plans, plans, PLAN_COLUMNS[1:])

    def plans(self) -> gpd.GeoDataFrame:
        """Every plan, by id."""
        return self._select(s.plans, PLAN_COLUMNS)

    def plan_ids(self) -> dict[str, int]:
        """Plan ref to id."""
        with self._read() as conn:
            return dict(conn.execute(sa.select(s.plans.c.ref, s.plans.c.id)).all())

    def put_actions(self, actions: gpd.GeoDataFrame) -> int:
        """Add actions (plan_id already resolved); refs must be new."""
        self._refuse_existing(s.actions, actions["ref"])
        return self._insert(s.actions, actions, ACTION_COLUMNS[1:])

    def actions(self) -> gpd.GeoDataFrame:
        """Every action, by id; geometry None where the action has no location of its own."""
        return self._select(s.actions, ACTION_COLUMNS)

    def put_responses(self, responses: gpd.GeoDataFrame,
                      progress: Progress | None = None) -> int:
        """Add engagement responses; `progress(done, total)` is called as chunks are written."""
        return self._insert(s.responses, responses, RESPONSE_COLUMNS[1:], progress=progress)

    def responses(self) -> gpd.GeoDataFrame:
        """Every engagement response, by id."""
        return self._select(s.responses, RESPONSE_COLUMNS)

    def put_pins(self, pins: gpd.GeoDataFrame) -> int:
        """Add pins; each row has its exact `geom` and its displaced `public_geom`."""
        return self._insert(s.pins, pins, PIN_COLUMNS[1:], geom_cols=("geom", "public_geom"))

    def pins(self) -> gpd.GeoDataFrame:
        """Every pin with exact location and contact: for server-side use only."""
        return self._select(s.pins, PIN_COLUMNS, geom_cols=("geom", "public_geom"))

    def put_postcodes(self, postcodes: gpd.GeoDataFrame) -> int:
        """Add or replace postcode points (`postcode`, `geom`)."""
        with self._write() as conn:
            conn.execute(sa.delete(s.postcodes).where(
                s.postcodes.c.postcode.in_(list(postcodes["postcode"]))))
            rows = frames.to_rows(postcodes, ["postcode", "geom"])
            if rows:
                conn.execute(sa.insert(s.postcodes), rows)
        return len(rows)

    def postcodes(self) -> gpd.GeoDataFrame:
        """Every postcode point."""
        return self._select(s.postcodes, ["postcode", "geom"], order="postcode")

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables."""
        tables = (s.layers, s.areas, s.plans, s.actions, s.responses, s.pins, s.postcodes)
        with self._read() as conn:
            return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in tables}

    # -- helpers -----------------------------------------------------------------------------

    def _insert(self, table: sa.Table, frame: gpd.GeoDataFrame, columns: list[str],
                geom_cols: tuple[str, ...] = ("geom",), progress: Progress | None = None) -> int:
        rows = frames.to_rows(frame, [c for c in columns if c not in geom_cols], geom_cols)
        defaults = {c.name: c.default.arg for c in table.columns
                    if c.default is not None and c.default.is_scalar}
        for row in rows:
            for name, value in defaults.items():
                if row.get(name) is None:
                    row[name] = value
        with self._write() as conn:
            for start in range(0, len(rows), INSERT_CHUNK):
                conn.execute(sa.insert(table), rows[start:start + INSERT_CHUNK])
                if progress:
                    progress(min(start + INSERT_CHUNK, len(rows)), len(rows))
        return len(rows)

    def _select(self, table: sa.Table, columns: list[str], geom_cols: tuple[str, ...] = ("geom",),
                order: str = "id") -> gpd.GeoDataFrame:
        query = sa.select(*[table.c[c] for c in columns]).order_by(table.c[order])
        with self._read() as conn:
            return frames.from_rows(conn.execute(query), columns, geom_cols)

    def _refuse_existing(self, table: sa.Table, refs) -> None:
        refs = [str(r) for r in refs]
        with self._read() as conn:
            found = conn.execute(sa.select(table.c.ref).where(table.c.ref.in_(refs))).scalars()
            taken = sorted(found)
        if taken:
            raise ValidationError(
                f"{table.name}: refs already stored: {', '.join(taken[:20])}"
                + (f" and {len(taken) - 20} more" if len(taken) > 20 else ""),
            )


def _layer(row) -> Layer:
    return Layer(
        id=row["layer_id"], vintage=row["vintage"], kind=row["kind"], title=row["title"],
        licence=row["licence"], source=row["source"], area_count=row["area_count"],
        is_current=bool(row["is_current"]), imported_at=str(row["imported_at"]),
    )
