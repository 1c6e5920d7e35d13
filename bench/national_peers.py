"""The plain peers of bench_national's rows, written as someone fluent in SQL would write them.

- engagement: one grouped query per filter (counts per area code through the assignments table,
  rates and the council's pooled rate by window functions), with the covering indexes it needs;
- import: pandas read_csv + executemany of tuples into a plain SQLite table, or COPY into a plain
  PostGIS table with a geometry column (run as a subprocess: `national_peers.py import BACKEND
  URL CSV`, so its peak memory is its own);
- planscape: PostGIS overlay on BNG copies of the plans and layers (ST_Subdivide'd, GiST, ANALYZE)
  and public pins by `&&` + ST_Intersects.
"""

from __future__ import annotations

import io
import sqlite3
import sys

import sqlalchemy as sa

# Indexes the grouped queries use: counts straight from the index for every layer, and responses
# found by campaign and date.
PEER_INDEXES = (
    "CREATE INDEX IF NOT EXISTS bench_assignments_cover ON assignments "
    "(record, layer_id, code, record_id)",
    "CREATE INDEX IF NOT EXISTS bench_responses_campaign_date ON responses (campaign, date)",
)

_AREAS = """
SELECT z.code, z.population, coalesce(c.n, 0) AS responses,
       1000.0 * coalesce(c.n, 0) / nullif(z.population, 0) AS rate_per_1000,
       1000.0 * sum(CASE WHEN z.population IS NOT NULL THEN coalesce(c.n, 0) END) OVER w
         / nullif(sum(z.population) OVER w, 0) AS council_rate_per_1000
FROM areas z
JOIN layers l ON l.layer_id = z.layer_id AND l.vintage = z.vintage AND l.is_current
LEFT JOIN ({counts}) c ON c.code = z.code
WHERE z.layer_id = :layer
WINDOW w AS (PARTITION BY z.parent_code)
ORDER BY z.code
"""
_ALL = ("SELECT a.code, count(*) AS n FROM assignments a "
        "WHERE a.record = 'responses' AND a.layer_id = :layer GROUP BY a.code")
_CAMPAIGN_DATES = ("SELECT a.code, count(*) AS n FROM responses r "
                   "JOIN assignments a ON a.record = 'responses' AND a.record_id = r.id "
                   "AND a.layer_id = :layer "
                   "WHERE r.campaign = :campaign AND r.date BETWEEN :date_from AND :date_to "
                   "GROUP BY a.code")
_THEME = ("SELECT a.code, count(*) AS n FROM responses r "
          "JOIN assignments a ON a.record = 'responses' AND a.record_id = r.id "
          "AND a.layer_id = :layer "
          "WHERE ';' || r.themes || ';' LIKE '%;' || :theme || ';%' GROUP BY a.code")
COVERAGE_SQL = {name: sa.text(_AREAS.format(counts=counts)).bindparams(
    sa.bindparam("date_from", type_=sa.Date), sa.bindparam("date_to", type_=sa.Date))
    if name == "campaign+dates" else sa.text(_AREAS.format(counts=counts))
    for name, counts in (("all", _ALL), ("campaign+dates", _CAMPAIGN_DATES), ("theme", _THEME))}


def prepare_indexes(engine: sa.Engine) -> None:
    """The peer's indexes and fresh planner statistics."""
    with engine.begin() as conn:
        for statement in PEER_INDEXES:
            conn.exec_driver_sql(statement)
        conn.exec_driver_sql("ANALYZE")


def no_jit(conn: sa.Connection) -> None:
    """On PostgreSQL, no JIT compiling in this transaction: for these aggregates it costs more
    (up to a second) than it saves."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SET LOCAL jit = off"))


def coverage_rows(engine: sa.Engine, layer: str, name: str, params: dict) -> list:
    """One grouped query: (code, population, responses, rate, council rate) per area."""
    with engine.begin() as conn:
        no_jit(conn)
        return conn.execute(COVERAGE_SQL[name], {"layer": layer, **params}).fetchall()


def import_sqlite(path: str, csv: str) -> None:
    """pandas read_csv, points as WKB, executemany of tuples into a new plain table."""
    import pandas as pd
    import shapely

    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    geom = shapely.to_wkb(shapely.points(frame["lon"].astype(float), frame["lat"].astype(float)))
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE IF EXISTS peer_responses")
    conn.execute("CREATE TABLE peer_responses (ref TEXT, campaign TEXT, channel TEXT, date TEXT, "
                 "themes TEXT, age_band TEXT, lon REAL, lat REAL, geom BLOB)")
    rows = zip(frame["ref"], frame["campaign"], frame["channel"], frame["date"], frame["themes"],
               frame["age_band"], frame["lon"].astype(float), frame["lat"].astype(float), geom,
               strict=True)
    with conn:
        conn.executemany("INSERT INTO peer_responses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.close()


def import_postgis(url: str, csv: str) -> None:
    """pandas read_csv, points as hex EWKB, COPY into a new plain table with a geometry column."""
    import pandas as pd
    import psycopg
    import shapely

    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    points = shapely.set_srid(shapely.points(frame["lon"].astype(float),
                                             frame["lat"].astype(float)), 4326)
    frame["geom"] = shapely.to_wkb(points, hex=True, include_srid=True)
    frame = frame.replace({"date": {"": None}, "age_band": {"": None}})
    buffer = io.StringIO()
    frame[["ref", "campaign", "channel", "date", "themes", "age_band", "geom"]].to_csv(
        buffer, sep="\t", header=False, index=False, na_rep="\\N")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS peer_responses")
        conn.execute("CREATE TABLE peer_responses (ref text, campaign text, channel text, "
                     "date date, themes text, age_band text, geom geometry(Point, 4326))")
        with conn.cursor().copy("COPY peer_responses FROM STDIN") as copy:
            copy.write(buffer.getvalue())


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] != "import" or sys.argv[2] not in ("sqlite", "postgis"):
        sys.exit("usage: national_peers.py import sqlite|postgis PATH_OR_URL CSV")
    (import_sqlite if sys.argv[2] == "sqlite" else import_postgis)(sys.argv[3], sys.argv[4])
