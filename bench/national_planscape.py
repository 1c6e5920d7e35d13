"""The PostGIS peer of the planscape: the same overlay on BNG copies of the plans and layers.

Setup (not timed) copies a capmap store's current layers, plans and public pins into tables of
their own schema, transformed to EPSG:27700 (ST_Transform) and cut with ST_Subdivide, with GiST
indexes and ANALYZE. A query then answers, like capmap's planscape: each plan's overlap with the
query area, the area of each layer's zones it touches, the population inside it and inside each
plan's part (apportioned by area of the data zones), and the public pins inside.
"""

from __future__ import annotations

import numpy as np
import psycopg
import shapely
import sqlalchemy as sa

from capmap.core.policy import PUBLIC_PIN_STATUSES

SETUP = (
    "DROP TABLE IF EXISTS peer_areas, peer_area_pieces, peer_plans, peer_plan_pieces, peer_pins, "
    "peer_no_pins",
    "CREATE TABLE peer_areas AS SELECT layer_id, code, population, "
    "ST_Transform(ST_GeomFromWKB(wkb, 4326), 27700) AS geom FROM peer_in_areas",
    "ALTER TABLE peer_areas ADD COLUMN area_m2 float8",
    "UPDATE peer_areas SET area_m2 = ST_Area(geom)",
    "CREATE TABLE peer_area_pieces AS SELECT layer_id, code, population, area_m2, "
    "ST_Subdivide(geom, 128) AS geom FROM peer_areas",
    "CREATE TABLE peer_plans AS SELECT id, ST_Transform(ST_GeomFromWKB(wkb, 4326), 27700) AS geom "
    "FROM peer_in_plans",
    "ALTER TABLE peer_plans ADD COLUMN area_m2 float8",
    "UPDATE peer_plans SET area_m2 = ST_Area(geom)",
    "CREATE TABLE peer_plan_pieces AS SELECT id, ST_Subdivide(geom, 128) AS geom FROM peer_plans",
    "CREATE TABLE peer_pins AS SELECT id, category, description, created, "
    "ST_Transform(ST_GeomFromWKB(wkb, 4326), 27700) AS geom FROM peer_in_pins",
    "CREATE INDEX ON peer_areas USING gist (geom)",
    "CREATE INDEX ON peer_areas (layer_id, code)",
    "CREATE INDEX ON peer_area_pieces USING gist (geom)",
    "CREATE INDEX ON peer_plan_pieces USING gist (geom)",
    "CREATE INDEX ON peer_pins USING gist (geom)",
    "CREATE TABLE peer_no_pins AS SELECT * FROM peer_pins LIMIT 0",
    "CREATE INDEX ON peer_no_pins USING gist (geom)",
    "DROP TABLE peer_in_areas, peer_in_plans, peer_in_pins",
    "ANALYZE",
)

Q_POINT = sa.text(
    "CREATE TEMP TABLE peer_q ON COMMIT DROP AS SELECT geom AS g FROM peer_areas "
    "WHERE layer_id = :layer AND ST_Intersects(geom, ST_Transform("
    "ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 27700)) LIMIT 1")
Q_CODES = sa.text(
    "CREATE TEMP TABLE peer_q ON COMMIT DROP AS SELECT ST_Union(geom) AS g FROM peer_areas "
    "WHERE layer_id = :layer AND code IN :codes").bindparams(sa.bindparam("codes", expanding=True))
Q_POLYGON = sa.text(
    "CREATE TEMP TABLE peer_q ON COMMIT DROP AS "
    "SELECT ST_Transform(ST_GeomFromWKB(:wkb, 4326), 27700) AS g")
# The query area cut like the tables (pieces of at most 128 vertices): every intersection is
# then of two small shapes; the pieces do not overlap, so areas add up.
Q_PIECES = sa.text(
    "CREATE TEMP TABLE peer_qp ON COMMIT DROP AS SELECT ST_Subdivide(g, 128) AS g FROM peer_q")
PLANS = sa.text(
    "SELECT p.id, sum(ST_Area(ST_Intersection(p.geom, q.g))) AS overlap "
    "FROM peer_plan_pieces p, peer_qp q WHERE ST_Intersects(p.geom, q.g) GROUP BY p.id")
AREAS = sa.text(
    "SELECT a.layer_id, a.code, sum(ST_Area(ST_Intersection(a.geom, q.g))) AS overlap "
    "FROM peer_area_pieces a, peer_qp q WHERE ST_Intersects(a.geom, q.g) "
    "GROUP BY a.layer_id, a.code")
PEOPLE = sa.text(
    "WITH zq AS MATERIALIZED (SELECT a.population, a.area_m2, ST_Intersection(a.geom, q.g) AS g "
    "FROM peer_area_pieces a, peer_qp q WHERE a.layer_id = :layer AND ST_Intersects(a.geom, q.g)) "
    "SELECT p.id, sum(zq.population * ST_Area(ST_Intersection(p.geom, zq.g)) / zq.area_m2) "
    "FROM peer_plan_pieces p JOIN zq ON ST_Intersects(p.geom, zq.g) GROUP BY p.id "
    "UNION ALL SELECT NULL, sum(population * ST_Area(g) / area_m2) FROM zq")
PINS = sa.text(
    "SELECT p.id, p.category, p.description, p.created FROM peer_pins p, peer_q q "
    "WHERE p.geom && q.g AND ST_Intersects(p.geom, q.g) ORDER BY p.id")
NO_PINS = sa.text(
    "SELECT p.id, p.category, p.description, p.created FROM peer_no_pins p, peer_q q "
    "WHERE p.geom && q.g AND ST_Intersects(p.geom, q.g) ORDER BY p.id")


def _copy(raw, table: str, columns: str, rows) -> None:
    """COPY rows (tuples; geometry as hex WKB in the last column) into a new staging table."""
    raw.execute(f"CREATE TABLE {table} ({columns})")  # fixed names from this module
    with raw.cursor().copy(f"COPY {table} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def setup(url: str, store) -> None:
    """Copy the store's layers, plans and published pins into the peer's BNG tables at `url`."""
    with psycopg.connect(url, autocommit=True) as raw:
        raw.execute("DROP TABLE IF EXISTS peer_in_areas, peer_in_plans, peer_in_pins")
        areas = []
        for layer in store.layers():
            if layer.is_current:
                frame = store.areas(layer.id)
                wkb = shapely.to_wkb(frame.geometry.values, hex=True)
                pops = [None if p != p or p is None else int(p) for p in frame["population"]]
                areas += zip([layer.id] * len(frame), frame["code"], pops, wkb, strict=True)
        _copy(raw, "peer_in_areas", "layer_id text, code text, population float8, wkb bytea",
              ((a, b, c, bytes.fromhex(d)) for a, b, c, d in areas))
        plans = store.plans()
        _copy(raw, "peer_in_plans", "id int, wkb bytea",
              zip(plans["id"].tolist(), shapely.to_wkb(plans.geometry.values), strict=True))
        pins = store.public_pin_points(PUBLIC_PIN_STATUSES)  # published and resolved, as capmap
        _copy(raw, "peer_in_pins", "id int, category text, description text, "
              "created timestamptz, wkb bytea",
              zip(pins["id"].tolist(), pins["category"], pins["description"], pins["created"],
                  shapely.to_wkb(pins["public_geom"].values), strict=True))
        for statement in SETUP:
            raw.execute(statement)


def ready(engine: sa.Engine) -> bool:
    """Whether the peer's tables are there."""
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT to_regclass('peer_no_pins')")).scalar() is not None


def planscape(engine: sa.Engine, kind: str, value, layer: str = "dz11", pins: bool = True) -> dict:
    """The overlay for a point (lon, lat), codes (a list) or a polygon (a shapely geometry in
    lon/lat): plans with overlap m², share of query and plan, population share; areas; public
    pins inside (from an empty table when not `pins`)."""
    with engine.begin() as conn:
        # Short queries: JIT compiling would cost more than it saves.
        conn.execute(sa.text("SET LOCAL jit = off"))
        if kind == "point":
            conn.execute(Q_POINT, {"layer": layer, "lon": value[0], "lat": value[1]})
        elif kind == "codes":
            conn.execute(Q_CODES, {"layer": layer, "codes": list(value)})
        else:
            conn.execute(Q_POLYGON, {"wkb": shapely.to_wkb(value)})
        conn.execute(Q_PIECES)
        conn.execute(sa.text("ANALYZE peer_qp"))  # a few rows: the planner must know it
        q_area = conn.execute(sa.text("SELECT ST_Area(g) FROM peer_q")).scalar_one()
        plan_area = dict(conn.execute(sa.text(
            "SELECT p.id, p.area_m2 FROM peer_plans p")).fetchall())
        overlaps = [(i, m2) for i, m2 in conn.execute(PLANS).fetchall() if m2 > 0]
        people = dict(conn.execute(PEOPLE, {"layer": layer}).fetchall())
        areas = conn.execute(AREAS).fetchall()
        found = conn.execute(PINS if pins else NO_PINS).fetchall()
    whole = people.get(None) or np.nan
    plans = [{"id": i, "overlap_km2": m2 / 1e6, "share_of_query": min(m2 / q_area, 1.0),
              "share_of_plan": min(m2 / plan_area[i], 1.0),
              "population_share": min(people.get(i, 0.0) / whole, 1.0) if whole > 0 else None,
              "match": m2 / (q_area + plan_area[i] - m2)} for i, m2 in overlaps]
    plans.sort(key=lambda r: -r["match"])
    return {"area_km2": q_area / 1e6, "plans": plans, "areas": len(areas), "pins": len(found)}
