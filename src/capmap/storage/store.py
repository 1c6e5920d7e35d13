"""The store: one interface over SQLite and PostGIS. GeoDataFrames and dataclasses cross it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import ModuleType

import geopandas as gpd
import numpy as np
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from capmap.core.errors import NotFound, SchemaError, StoreFull, StoreUnavailable, ValidationError
from capmap.core.folding import fold
from capmap.core.models import Layer, LayerDef
from capmap.storage import bulk, frames, migrations
from capmap.storage import schema as s
from capmap.storage.councillors import CouncillorsMixin
from capmap.storage.counts import CountsMixin
from capmap.storage.coverage import CoverageMixin
from capmap.storage.derived import DerivedMixin
from capmap.storage.edits import EditsMixin
from capmap.storage.follows import FollowsMixin
from capmap.storage.identity import IdentityMixin, new_identity
from capmap.storage.indicators import IndicatorsMixin, indicator_rows
from capmap.storage.lpp import LppMixin
from capmap.storage.moderation import ModerationMixin
from capmap.storage.names import NamesMixin
from capmap.storage.nearby import NearbyMixin
from capmap.storage.outcomes import OutcomesMixin
from capmap.storage.postcodes import PostcodesMixin
from capmap.storage.records import RecordsMixin
from capmap.storage.reports import ReportsMixin
from capmap.storage.upserts import UpsertsMixin
from capmap.storage.users import UsersMixin

AREA_COLUMNS = ["code", "name", "name_alt", "parent_code", "population", "simd_rank", "simd_decile",
                "simd_quintile", "geom"]
# Counters bumped by writes; in-memory caches key on them. data_version moves on every write.
VERSIONS = ("data_version", "boundaries_version", "plans_version")
# Writes committed by this process through any Store. Caches that read VERSIONS only now and then
# (capmap.services.engine.StoreVersions) read them again as soon as this moves: a process sees its own writes.
_local_commits = 0


def local_commits() -> int:
    """How many writes this process has committed, through any Store."""
    return _local_commits



class Store(RecordsMixin, DerivedMixin, CoverageMixin, CountsMixin, UsersMixin, ModerationMixin,
            NearbyMixin, IdentityMixin, PostcodesMixin, NamesMixin,
            FollowsMixin, IndicatorsMixin, OutcomesMixin,
            EditsMixin, UpsertsMixin, LppMixin, ReportsMixin, CouncillorsMixin):
    """A capmap database. Open one with `capmap.storage.open_store(url)`."""

    def __init__(self, url: str, engine: sa.Engine, backend: ModuleType, name: str) -> None:
        self.url = url
        self.engine = engine
        self.backend = backend
        self.name = name
        self._atomic = threading.local()  # the connection of this thread's atomic() block

    # -- connections -------------------------------------------------------------------------

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Every read and write of this store inside the block, in this thread, as one
        transaction: kept whole or not at all (an import with the derived tables it refreshes)."""
        if getattr(self._atomic, "conn", None) is not None:
            yield  # already inside one: join it
            return
        with self._write() as conn:
            self._atomic.conn = conn
            try:
                yield
            finally:
                self._atomic.conn = None

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        joined = getattr(self._atomic, "conn", None)
        if joined is not None:  # reads see the block's own uncommitted writes
            yield joined
            return
        try:
            with self.engine.connect() as conn:
                yield conn
        except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
            raise _refusal(exc, writing=False) from exc

    @contextmanager
    def _write(self, *bumps: str) -> Iterator[sa.Connection]:
        """One atomic write: everything inside commits together or not at all. Bumps
        data_version and the other `bumps` counters."""
        joined = getattr(self._atomic, "conn", None)
        if joined is not None:  # part of an atomic() block: committed with it
            yield joined
            self._bump(joined, ("data_version", *bumps))
            return
        try:
            with self.engine.connect() as conn:
                conn = conn.execution_options(capmap_write=True)
                with conn.begin():
                    yield conn
                    self._bump(conn, ("data_version", *bumps))
            _count_commit()  # after the commit, so a read prompted by it sees the write
        except (sa_exc.DBAPIError, sa_exc.TimeoutError) as exc:
            raise _refusal(exc, writing=True) from exc

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
            if version > s.SCHEMA_VERSION:
                self.check()  # refuses a schema newer than this code
            return False  # an older schema is left for an explicit `capmap upgrade`
        with self._write() as conn:
            # Today's shape in one step, recorded as the newest revision: the same shape the
            # revisions build one version at a time (tests/test_migrations.py).
            self.backend.prepare(conn)
            s.metadata.create_all(conn)
            self.backend.index(conn)
            migrations.stamp_head(conn)
            conn.execute(sa.insert(s.meta), [
                {"key": "schema_version", "value": str(s.SCHEMA_VERSION)},
                *({"key": key, "value": "0"} for key in VERSIONS),
                *new_identity(),
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
        """Run the pending revisions in order, each in its own transaction with the schema
        version it brings (a failure leaves the database at the version before); returns the
        versions applied."""
        version = self.schema_version()
        if version is None:
            raise SchemaError("the database has no capmap schema; run `capmap init`")
        if version > s.SCHEMA_VERSION:
            self.check()  # refuses a schema newer than this code
        applied = []
        for target in (v for v in migrations.versions() if v > version):
            with self._write() as conn:
                migrations.upgrade_to(conn, target, recorded=applied[-1] if applied else version)
                conn.execute(sa.update(s.meta).where(s.meta.c.key == "schema_version")
                             .values(value=str(target)))
            applied.append(target)
        return applied

    def versions(self) -> dict[str, int]:
        """The VERSIONS counters. Every worker compares them to reload its caches after a write
        by any process."""
        with self._read() as conn:
            rows = conn.execute(sa.select(s.meta.c.key, s.meta.c.value)
                                .where(s.meta.c.key.in_(VERSIONS))).all()
        return {key: int(value) for key, value in rows}

    def data_version(self) -> int:
        """A counter bumped by every write."""
        return self.versions().get("data_version", 0)

    def _bump(self, conn: sa.Connection, keys: tuple[str, ...]) -> None:
        value = sa.cast(sa.cast(s.meta.c.value, sa.Integer) + 1, sa.Text)
        conn.execute(sa.update(s.meta).where(s.meta.c.key.in_(keys)).values(value=value))

    # -- boundary layers ---------------------------------------------------------------------

    def put_layer(self, layer: LayerDef, areas: gpd.GeoDataFrame) -> Layer:
        """Store one layer vintage atomically, replacing the same vintage, and make it current.

        `areas` has the AREA_COLUMNS in EPSG:4326, codes unique and geometries valid, and a
        column of numbers for each of the layer's indicator fields.
        """
        now = datetime.now(UTC)
        rows = frames.to_rows(areas, AREA_COLUMNS)
        indicators = indicator_rows(layer.id, layer.vintage, areas,
                                    [name for name, _ in layer.indicator_fields])
        bulk.refuse_too_long(s.areas, {name: [row[name] for row in rows] for name in AREA_COLUMNS})
        with self._write("boundaries_version") as conn:
            key = (s.layers.c.layer_id == layer.id) & (s.layers.c.vintage == layer.vintage)
            conn.execute(sa.delete(s.areas).where(
                (s.areas.c.layer_id == layer.id) & (s.areas.c.vintage == layer.vintage)))
            self._put_indicators(conn, layer.id, layer.vintage, [])
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
                row["name_alt"] = row["name_alt"] or ""
                row["name_folded"], row["name_alt_folded"] = fold(row["name"]), fold(row["name_alt"])
            if rows:
                conn.execute(sa.insert(s.areas), rows)
            self._put_indicators(conn, layer.id, layer.vintage, indicators)
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
        with self._write("boundaries_version") as conn:
            conn.execute(sa.delete(s.areas).where(
                (s.areas.c.layer_id == layer_id) & (s.areas.c.vintage == vintage)))
            self._put_indicators(conn, layer_id, vintage, [])
            conn.execute(sa.delete(s.layers).where(
                (s.layers.c.layer_id == layer_id) & (s.layers.c.vintage == vintage)))

    def areas(self, layer_id: str, vintage: str | None = None,
              codes: list[str] | None = None) -> gpd.GeoDataFrame:
        """Areas of a layer vintage (current by default), optionally only the given codes, with
        a column per indicator the layer carries after the AREA_COLUMNS."""
        layer = self.layer(layer_id, vintage)
        cols = [s.areas.c[c] for c in AREA_COLUMNS]
        query = sa.select(*cols).where(
            (s.areas.c.layer_id == layer.id) & (s.areas.c.vintage == layer.vintage)
        ).order_by(s.areas.c.code)
        if codes is not None:
            query = query.where(s.areas.c.code.in_(codes))
        with self._read() as conn:
            found = frames.from_rows(conn.execute(query), AREA_COLUMNS)
        names = self.indicator_names(layer.id, layer.vintage)
        if not names:
            return found
        wide = self._indicators_wide(layer.id, layer.vintage, codes)
        out = found.merge(wide, on="code", how="left")
        for name in names:
            out[name] = out[name].astype(float) if name in out else np.nan
        return out[[*AREA_COLUMNS, *names]]


def _count_commit() -> None:
    global _local_commits
    _local_commits += 1


def _layer(row) -> Layer:
    return Layer(
        id=row["layer_id"], vintage=row["vintage"], kind=row["kind"], title=row["title"],
        licence=row["licence"], source=row["source"], area_count=row["area_count"],
        is_current=bool(row["is_current"]), imported_at=str(row["imported_at"]),
    )


# SQLite's result code and PostgreSQL's SQLSTATE for "no space left": the disk, a quota, or a
# configured size limit (SQLite's max_page_count).
SQLITE_FULL = 13
PG_DISK_FULL = "53100"


def _refusal(exc: Exception, writing: bool) -> Exception:
    """The CapmapError a database failure means to the caller (nothing of a failed write is
    kept: the transaction is rolled back), or `exc` itself when it is a bug in capmap."""
    orig = getattr(exc, "orig", None)
    if (getattr(orig, "sqlite_errorcode", None) == SQLITE_FULL
            or getattr(orig, "sqlstate", None) == PG_DISK_FULL):
        return StoreFull("the database is out of space (its disk or size limit is full); "
                         "nothing was stored")
    # Connection lost or refused, server shutting down or restarting, pool exhausted, SQLite
    # still locked after its busy timeout: all pass, so the caller may try again.
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError | sa_exc.TimeoutError) or (
            isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated):
        return StoreUnavailable("the database is not available; try again shortly")
    if writing and isinstance(exc, sa_exc.IntegrityError | sa_exc.DataError):
        reason = str(orig or exc).strip().splitlines()[0][:200]
        return ValidationError(f"the database refused the write ({orig.__class__.__name__}: "
                               f"{reason}); nothing was stored")
    return exc
