"""PostgreSQL + PostGIS backend: geometry(Geometry, 4326) columns with GiST indexes."""

from __future__ import annotations

import psycopg
import shapely
import sqlalchemy as sa
from psycopg import sql as psql
from sqlalchemy import event
from sqlalchemy import exc as sa_exc

from capmap.storage.schema import Geometry

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


# Binary COPY types of the schema's column types: no text to format here or parse there.
# Geometry goes as EWKB bytes, which PostGIS reads in binary COPY as it does in WKB input. Date-
# times are left to text COPY, where a time without a zone is read as it is by an INSERT.
_BINARY_TYPES = ((sa.Integer, "int4"), (sa.Float, "float8"), (sa.String, "text"),
                 (sa.Date, "date"), (Geometry, "bytea"))


def write_rows(conn: sa.Connection, table: sa.Table, data: dict[str, list]) -> None:
    """Insert column-major `data` (geometry columns as shapely arrays, SRID 4326 given to them
    here) by COPY FROM STDIN in the open transaction: binary where every column has a binary
    type above, else text with geometries as hex EWKB."""
    names = list(data)
    types = [_binary_type(table.c[name].type) for name in names]
    binary = None not in types
    columns = []
    for name in names:
        values = data[name]
        if isinstance(table.c[name].type, Geometry):
            values = shapely.to_wkb(shapely.set_srid(values, 4326), hex=not binary,
                                    include_srid=True).tolist()
        columns.append(values)
    # Identifiers composed by psycopg, which quotes them; COPY has no SQLAlchemy form.
    statement = psql.SQL("COPY {} ({}) FROM STDIN" + (" (FORMAT BINARY)" if binary else "")).format(
        psql.Identifier(table.name), psql.SQL(", ").join(map(psql.Identifier, names)))
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            if binary:
                copy.set_types(types)
            for row in zip(*columns, strict=True):
                copy.write_row(row)
    except psycopg.Error as exc:
        # As SQLAlchemy would have raised it, so the store maps it like any other failed write.
        raise sa_exc.DBAPIError.instance(statement.as_string(raw), None, exc,
                                         psycopg.Error) from exc


def _binary_type(column_type: sa.types.TypeEngine) -> str | None:
    return next((name for kind, name in _BINARY_TYPES if isinstance(column_type, kind)), None)
