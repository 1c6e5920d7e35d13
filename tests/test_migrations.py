"""Schema upgrades through Alembic: every revision builds its own version's shape, a fresh init
gives exactly what upgrading from version 1 gives, and a database made by version 1 (the code at
schema 1, tests/data/make_schema_v1.sh) upgrades with its rows and their derived values."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from capmap.core.crs import lonlat_to_bng
from capmap.core.errors import SchemaError
from capmap.services import pipeline
from capmap.spatial import privacy
from capmap.storage import migrations, open_store
from capmap.storage import schema as s
from tests.schema_versions import build_at, put_rows, read_rows, shape, wipe

V1_DUMP = Path(__file__).parent / "data" / "schema_v1.sql"


def _v1_rows() -> dict[str, list[dict]]:
    """The rows of the database version 1 made, read from its dump."""
    engine = sa.create_engine("sqlite://", poolclass=sa.pool.StaticPool)
    with engine.begin() as conn:
        conn.connection.executescript(V1_DUMP.read_text())
    with engine.connect() as conn:
        rows = read_rows(conn)
    engine.dispose()
    return rows


def _made_by_version_1(store_url: str) -> None:
    """The database version 1 made: its own SQL on SQLite; on PostGIS, revision 1's DDL with the
    same rows."""
    if store_url.startswith("sqlite"):
        path = sa.engine.make_url(store_url).database
        with sqlite3.connect(path) as conn:
            conn.executescript(V1_DUMP.read_text())
        return
    store = open_store(store_url)
    with store.engine.begin() as conn:
        build_at(conn, 1)
        conn.exec_driver_sql("DROP TABLE alembic_version")  # as version 1 left it: no Alembic
        put_rows(conn, _v1_rows())
    store.close()


def test_the_revisions_are_one_per_schema_version():
    assert migrations.versions() == list(range(1, s.SCHEMA_VERSION + 1))
    assert migrations.head() == s.SCHEMA_VERSION


def test_init_gives_the_shape_the_upgrade_from_version_1_gives(store_url):
    store = open_store(store_url)
    try:
        store.init()
        with store.engine.connect() as conn:
            fresh = shape(conn)
        with store.engine.begin() as conn:
            wipe(conn)
        _made_by_version_1(store_url)
        assert store.schema_version() == 1
        assert pipeline.upgrade(store) == list(range(2, s.SCHEMA_VERSION + 1))
        with store.engine.connect() as conn:
            upgraded = shape(conn)
    finally:
        store.close()
    assert sorted(upgraded) == sorted(fresh)
    for table in fresh:
        assert upgraded[table] == fresh[table], table
    assert sorted(fresh) == sorted([*s.metadata.tables, "alembic_version"])
    # The backend's own indexes (capmap.storage.sqlite and postgis) are part of the shape.
    spatial = "ix_pins_public_geom" if "postgresql" in store_url else "ix_pins_public_xy"
    assert spatial in fresh["pins"]["indexes"]


@pytest.fixture
def upgraded(store_url):
    """The database version 1 made, upgraded to the newest schema."""
    _made_by_version_1(store_url)
    store = open_store(store_url)
    with pytest.raises(SchemaError, match="version 1, this capmap needs"):
        store.check()
    assert pipeline.upgrade(store) == list(range(2, s.SCHEMA_VERSION + 1))
    store.check()
    yield store
    store.close()


def test_the_rows_of_version_1_survive_the_upgrade(upgraded):
    assert list(upgraded.areas("squares")["code"]) == ["A", "B", "C", "D"]
    assert list(upgraded.areas("squares")["population"]) == [500, 600, 700, 800]
    assert list(upgraded.plans()["ref"]) == ["LP-AB"]
    assert list(upgraded.plan_actions(upgraded.plans()["id"])["ref"]) == ["ACT1"]
    assert sorted(upgraded.pins()["description"]) == ["pin 1", "pin 2"]
    assert upgraded.users() == []
    versions = upgraded.versions()
    assert (versions["boundaries_version"], versions["plans_version"]) == (1, 2)
    assert versions["data_version"] > 11  # every upgrade step is a write: caches reload
    with upgraded.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(s.plan_coverage)).scalar() == 2


def test_the_upgrade_derives_what_later_versions_keep(upgraded):
    with upgraded.engine.connect() as conn:
        themes = conn.execute(sa.select(s.responses.c.themes).order_by(s.responses.c.id)).scalars()
        assert list(themes) == ["Health;housing", "transport"]  # schema 4 tidied " Health ;;housing;"
        names = conn.execute(sa.select(s.areas.c.name_folded, s.areas.c.name_alt_folded)
                             .order_by(s.areas.c.code)).all()
        parts = conn.execute(sa.select(s.postcodes.c.postcode, s.postcodes.c.district,
                                       s.postcodes.c.sector).order_by(s.postcodes.c.postcode)).all()
    assert names == [("baile aird", ""), ("square b", ""), ("st ninian s", ""), ("square d", "")]
    assert parts == [("PH1 5AB", "PH1", "PH1 5"), ("PH2 7XY", "PH2", "PH2 7")]
    # Schema 4 and 7: the per-type coverage written after the upgrade (A and B, the plan's).
    shares = upgraded.type_coverage("squares")
    local = shares[shares["plan_type"] == "locality_plan"].sort_values("code")
    assert list(zip(local["code"], local["share_of_area"], strict=True)) == [("A", 1.0), ("B", 1.0)]
    assert [r["username"] for r in upgraded.users()] == []


def test_the_upgrade_places_version_1_pins_with_the_new_key(upgraded):
    pins = upgraded.pins().sort_values("id")
    exact = pins.geometry.values
    public = pins["public_geom"].values
    ex, ey = lonlat_to_bng(shapely.get_x(exact), shapely.get_y(exact))
    px, py = lonlat_to_bng(shapely.get_x(public), shapely.get_y(public))
    moved = np.hypot(px - ex, py - ey)
    # Each public point is 75 to 150 m from the 20 m square's centre the pin falls in.
    assert ((moved >= privacy.MIN_M - 15) & (moved <= privacy.MAX_M + 15)).all()
    again = privacy.keyed_points(exact, upgraded.pin_key(), privacy.MIN_M, privacy.MAX_M,
                                 privacy.SNAP_M)
    assert shapely.equals_exact(public, again, tolerance=1e-9).all()
    with upgraded.engine.connect() as conn:  # schema 5's coordinates follow the public point
        xy = conn.execute(sa.select(s.pins.c.public_x, s.pins.c.public_y)
                          .order_by(s.pins.c.id)).all()
    assert np.allclose(xy, shapely.get_coordinates(public))
    assert len(upgraded.database_id()) == 32


def test_a_database_of_an_unknown_later_version_is_refused(store):
    with store.engine.begin() as conn:
        conn.execute(sa.update(s.meta).where(s.meta.c.key == "schema_version")
                     .values(value=str(s.SCHEMA_VERSION + 1)))
    with pytest.raises(SchemaError, match="newer than this capmap"):
        store.upgrade()


def test_capmap_meta_and_alembic_version_must_agree(store):
    with store.engine.begin() as conn:
        conn.execute(sa.update(s.meta).where(s.meta.c.key == "schema_version").values(value="9"))
    with pytest.raises(SchemaError,
                       match=f"9 in capmap_meta but {s.SCHEMA_VERSION} in alembic_version"):
        store.upgrade()
