"""PostgreSQL + PostGIS backend: geometry(Geometry, 4326) columns with GiST indexes."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event

# Written out in full rather than formatted: no SQL is ever built from strings.
GIST_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_areas_geom ON areas USING gist (geom)",
    "CREATE INDEX IF NOT EXISTS ix_plans_geom ON plans USING gist (geom)",
    "CREATE INDEX IF NOT EXISTS ix_actions_geom ON actions USING gist (geom)",
    "CREATE INDEX IF NOT EXISTS ix_responses_geom ON responses USING gist (geom)",
    "CREATE INDEX IF NOT EXISTS ix_pins_geom ON pins USING gist (geom)",
    "CREATE INDEX IF NOT EXISTS ix_pins_public_geom ON pins USING gist (public_geom)",
    "CREATE INDEX IF NOT EXISTS ix_postcodes_geom ON postcodes USING gist (geom)",
)


# Keeps pins' public_x / public_y, as the SQLite trigger does (schema.pins).
PIN_TRIGGER = (
    "CREATE OR REPLACE FUNCTION capmap_pin_public_xy() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN NEW.public_x := ST_X(NEW.public_geom); NEW.public_y := ST_Y(NEW.public_geom); "
    "RETURN NEW; END $$",
    "DROP TRIGGER IF EXISTS pins_public_xy ON pins",
    "CREATE TRIGGER pins_public_xy BEFORE INSERT OR UPDATE OF public_geom ON pins "
    "FOR EACH ROW EXECUTE FUNCTION capmap_pin_public_xy()",
)


def create_engine(url: str) -> sa.Engine:
    """An engine on psycopg 3, with connections checked before use so a restarted server recovers."""
    parsed = sa.engine.make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgis"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 5})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # capmap's queries are short grouped counts and index lookups: JIT compiling them costs
        # 0.3 to 1.3 s on national data and never pays back.
        with dbapi_conn.cursor() as cur:
            cur.execute("SET jit = off")
        dbapi_conn.commit()

    return engine


def prepare(conn: sa.Connection) -> None:
    """Make sure PostGIS is there before the tables that need it."""
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")


def index(conn: sa.Connection) -> None:
    """GiST indexes on every geometry column and the pins trigger (idempotent)."""
    for statement in GIST_INDEXES + PIN_TRIGGER:
        conn.exec_driver_sql(statement)
