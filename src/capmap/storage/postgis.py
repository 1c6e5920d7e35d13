"""PostgreSQL + PostGIS backend: geometry(Geometry, 4326) columns with GiST indexes."""

from __future__ import annotations

import psycopg
import shapely
import sqlalchemy as sa
from psycopg import sql as psql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import exc as sa_exc

from capmap.storage.schema import Geometry

# Written out in full rather than formatted: no SQL is ever built from strings.
GIST_INDEXES = (
    "CREATE INDEX IF NOT EXISTS ix_areas_geom ON areas USING gist (geom)",
    "CREATE INDEX IF NOT EXISTS ix_plans_geom ON plans USING gist (geom)",
    "CREATE INDEX IF NOT EXISTS ix_actions_geom ON actions USING gist (geom)",
    "CREATE INDEX IF NOT EXISTS ix_responses_geom ON responses USING gist (geom)",
    "CREATE INDEX IF NOT EXISTS ix_pins_geom ON pins USING gist (geom)",
    "CREATE INDEX IF NOT EXISTS ix_postcodes_geom ON postcodes USING gist (geom)",
)


def create_engine(url: str) -> sa.Engine:
    """An engine on psycopg 3, with connections checked before use so a restarted server recovers."""
    parsed = sa.engine.make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgis"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def prepare(conn: sa.Connection) -> None:
    """Make sure PostGIS is there before the tables that need it."""
    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")


def index(conn: sa.Connection) -> None:
    """GiST indexes on every geometry column (idempotent)."""
    for statement in GIST_INDEXES:
        conn.exec_driver_sql(statement)


def reserve_ids(conn: sa.Connection, table: sa.Table, count: int) -> list[int]:
    """`count` new ids from the table's own sequence, ascending. Each is nextval's, so writers
    running at the same time (a resident's pin during an import) never get the same id."""
    # The sequence's name looked up once (a subquery), not for every id taken.
    sequence = sa.select(sa.func.pg_get_serial_sequence(table.name, "id")).scalar_subquery()
    # One row holding every id: fetching a million one-value rows would cost more than taking them.
    query = (sa.select(sa.func.array_agg(sa.func.nextval(sequence)))
             .select_from(sa.func.generate_series(1, count)))
    return sorted(conn.execute(query).scalar_one())


def write_rows(conn: sa.Connection, table: sa.Table, data: dict[str, list]) -> None:
    """Insert column-major `data` (geometry columns as shapely arrays) by COPY FROM STDIN, in the
    open transaction; geometries travel as hex EWKB with SRID 4326."""
    names = list(data)
    columns = []
    for name in names:
        values = data[name]
        if isinstance(table.c[name].type, Geometry):
            values = shapely.to_wkb(shapely.set_srid(values, 4326), hex=True,
                                    include_srid=True).tolist()
        columns.append(values)
    # Identifiers composed by psycopg, which quotes them; COPY has no SQLAlchemy form.
    statement = psql.SQL("COPY {} ({}) FROM STDIN").format(
        psql.Identifier(table.name), psql.SQL(", ").join(map(psql.Identifier, names)))
    raw = conn.connection.driver_connection
    try:
        # The queued writer sends from a thread of its own, so the server takes in one block of
        # rows while the next is formatted here.
        with raw.cursor() as cursor, cursor.copy(
                statement, writer=QueuedLibpqWriter(cursor)) as copy:
            for row in zip(*columns, strict=True):
                copy.write_row(row)
    except psycopg.Error as exc:
        # As SQLAlchemy would have raised it, so the store maps it like any other failed write.
        raise sa_exc.DBAPIError.instance(statement.as_string(raw), None, exc,
                                         psycopg.Error) from exc
