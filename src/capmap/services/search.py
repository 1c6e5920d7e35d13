"""Finding an area for the planscape: choose neighbourhoods from lists grouped by council; turn a
drawn or uploaded polygon into a query that a link can carry exactly. Search by postcode, name or
code is in capmap.services.places (re-exported here).
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core.budgets import MAX_VERTICES
from capmap.core.crs import STORAGE_CRS
from capmap.core.errors import NotFound, ValidationError
from capmap.core.models import ACTION_STATUSES
from capmap.core.serialise import plain, plan_json
from capmap.io.readers import ReadLimits, read_vector
from capmap.io.validate import in_storage_crs
from capmap.services import gaprules
from capmap.services.engine import Engine, LayerState
from capmap.services.places import (  # noqa: F401  (the finder's search, re-exported)
    KIND_ORDER,
    label_duplicates,
    postcode_query,
    search_places,
)
from capmap.services.planscape import Query, overlap_pieces, polygon_query
from capmap.services.progress import action_table, located_actions
from capmap.services.queries import refuse_odd_codes
from capmap.spatial.slivers import DEFAULT_TOLERANCE, SliverTolerance
from capmap.storage import Store

# Coordinates of drawn and uploaded polygons are kept to 6 decimals (about 0.1 m) so that a link
# holding the polygon as text asks exactly the same question again.
DECIMALS = 6
# An uploaded boundary with more vertices than this is simplified (topology kept) before it is
# asked about, by the smallest of SIMPLIFY_METRES that brings it under: a full-resolution
# coastline would otherwise cost the planscape minutes. Data zones have up to a few thousand.
QUERY_MAX_VERTICES = MAX_VERTICES
SIMPLIFY_METRES = (1, 2, 5, 10, 20, 50, 100, 200, 500)
_METRES_PER_DEGREE = 111_000  # of latitude; a degree of longitude in Scotland is shorter


# -- choosing neighbourhoods from lists ---------------------------------------------------------

def _largest(engine: Engine, kind: str) -> LayerState | None:
    states = [s for s in engine.layers().values() if s.layer.kind == kind]
    return max(states, key=lambda s: (len(s.areas), s.layer.id), default=None)


def _nesting(engine: Engine) -> dict[str, np.ndarray]:
    """Per current layer, the area holding a point inside each neighbourhood."""
    hoods = engine.neighbourhoods()
    return engine.memo("finder:nesting", lambda: engine.assign(hoods.inner_points))


def choice_groups(engine: Engine) -> dict:
    """The areas (wards, else councils) a person picks first to list the neighbourhoods in
    them, grouped by the council each is in (its parent code, else the council holding a point
    inside it), councils by name. An area whose name another area of the list shares is
    labelled with its council ("Ward 3 — Fife")."""
    hoods = engine.neighbourhoods()
    parent = _largest(engine, "ward") or _largest(engine, "council")
    if hoods is None or parent is None:
        return {"layer": None, "layer_title": None, "areas": [], "councils": []}
    inside = pd.Series(_nesting(engine)[parent.layer.id]).value_counts()
    councils = _largest(engine, "council")
    council_codes = _council_codes(engine, parent, councils)
    areas = []
    for code, name, council in zip(parent.areas["code"], parent.areas["name"], council_codes,
                                   strict=True):
        if inside.get(code, 0):
            council_name = (councils.names[councils.row_of[council]]
                            if council is not None else None)
            areas.append({"code": code, "name": name, "count": int(inside[code]),
                          "council_code": council, "council": council_name,
                          "area_kind": parent.layer.kind})
    label_duplicates(areas)
    areas.sort(key=lambda a: (str(a["name"]), a["label"], a["code"]))
    groups: dict[str | None, list[dict]] = {}
    for area in areas:
        groups.setdefault(area["council_code"], []).append(area)
    listed = [{"code": c, "name": members[0]["council"] or "Not in a council area",
               "areas": members} for c, members in groups.items()]
    listed.sort(key=lambda g: (g["code"] is None, str(g["name"])))
    return {"layer": parent.layer.id, "layer_title": parent.layer.title or parent.layer.id,
            "areas": areas, "councils": listed}


def _council_codes(engine: Engine, state: LayerState, councils: LayerState | None) -> np.ndarray:
    """The council code of each area of `state`: its parent code where that names a council,
    else the council holding its inner point (None for a council layer itself, or no councils)."""
    if councils is None or councils is state:
        return np.full(len(state.areas), None, dtype=object)

    def compute() -> np.ndarray:
        codes = state.areas["parent_code"].to_numpy(dtype=object).copy()
        unknown = np.array([c not in councils.row_of for c in codes], dtype=bool)
        if unknown.any():
            codes[unknown] = councils.index.assign(np.asarray(state.inner_points)[unknown])
        return codes

    return engine.memo(f"finder:councils:{state.layer.id}", compute)


def neighbourhood_choices(engine: Engine, layer_id: str, code: str) -> dict:
    """The neighbourhoods inside one area of `layer_id`, grouped by intermediate zone."""
    try:
        parent = engine.layer(layer_id)
    except NotFound as exc:
        raise ValidationError(exc.message) from exc
    refuse_odd_codes([code])
    if code not in parent.row_of:
        raise NotFound(f"area {code!r} is not in layer {layer_id}")
    hoods = engine.neighbourhoods()
    if hoods is None:
        raise ValidationError("no neighbourhood layer is loaded")
    nesting = _nesting(engine)
    middle = _largest(engine, "intermediate")
    groups: dict[str | None, list[dict]] = {}
    zones = nesting[middle.layer.id] if middle else np.full(len(hoods.areas), None)
    for i in np.flatnonzero(nesting[layer_id] == code):
        groups.setdefault(zones[i], []).append(
            {"code": hoods.areas["code"].iat[i], "name": hoods.areas["name"].iat[i]})
    out = []
    for zone, areas in groups.items():
        name = middle.areas["name"].iat[middle.row_of[zone]] if zone is not None else "Other"
        out.append({"layer": middle.layer.id if zone is not None else None, "code": zone,
                    "name": name, "areas": sorted(areas, key=lambda a: (str(a["name"]), a["code"]))})
    out.sort(key=lambda g: (str(g["name"]), g["code"] or ""))
    return {"parent": {"layer": layer_id, "code": code, "title": parent.layer.title or layer_id,
                       "name": parent.areas["name"].iat[parent.row_of[code]]},
            "layer": hoods.layer.id, "groups": out}


# -- drawn and uploaded polygons ----------------------------------------------------------------

def compact_geojson(geometry: shapely.Geometry) -> str:
    """A geometry as GeoJSON text with coordinates rounded to DECIMALS and no spaces."""
    rounded = shapely.transform(geometry, lambda xy: np.round(xy, DECIMALS))
    return json.dumps(shapely.geometry.mapping(rounded), separators=(",", ":"))


def drawn_query(body, *, max_km2: float, source: str = "drawn", what: str | None = None
                ) -> Query:
    """A drawn or pasted GeoJSON polygon (lon/lat), checked as the API checks it (budgets
    first), then snapped to a grid of DECIMALS so that its compact GeoJSON asks exactly the same
    question again."""
    what = what or ("the drawn area" if source == "drawn" else "the area in the link")
    first = polygon_query(body, max_km2=max_km2, what=what)
    snapped = shapely.set_precision(first.geometry, 10.0 ** -DECIMALS)
    query = polygon_query(compact_geojson(snapped), max_km2=max_km2, what=what)
    return replace(query, described={"source": source})


def upload_query(path: Path, name: str, *, limits: ReadLimits, max_km2: float) -> Query:
    """The union of the polygons of an uploaded boundary file (read safely, in the CRS it
    states, moved to lon/lat) as a query; other geometry types and empty ones are ignored.
    Coordinates that are not finite, not lon/lat or outside Scotland are refused, naming the file;
    a self-intersecting polygon is repaired (described["repaired"] counts them)."""
    frame = in_storage_crs(read_vector(path, limits=limits), name)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    geoms = shapely.force_2d(geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)])
    parts = shapely.get_parts(shapely.get_parts(geoms))
    polygons = parts[shapely.get_type_id(parts) == 3]
    if not len(polygons):
        kinds = sorted({g.geom_type for g in parts}) or ["only empty or missing geometries"]
        raise ValidationError(f"{name} holds no polygons ({', '.join(kinds)}); expected the "
                              "boundary of your area as a polygon")
    invalid = int((~shapely.is_valid(polygons)).sum())
    repaired = shapely.make_valid(polygons)
    union = shapely.union_all(shapely.get_parts(repaired)[
        np.isin(shapely.get_type_id(shapely.get_parts(repaired)), (3, 6))])
    union, metres = _within_vertex_budget(union, name)
    query = drawn_query(shapely.geometry.mapping(union), max_km2=max_km2,
                        what=f"the boundary in {name}")
    return replace(query, described={"source": "upload", "file": name, "features": len(frame),
                                     "repaired": invalid, "simplified_m": metres})


def _within_vertex_budget(geometry: shapely.Geometry, name: str) -> tuple[shapely.Geometry, int]:
    """The geometry (lon/lat), simplified if it has over QUERY_MAX_VERTICES vertices; the
    tolerance used in metres (0 when it was not simplified)."""
    if shapely.get_num_coordinates(geometry) <= QUERY_MAX_VERTICES:
        return geometry, 0
    for metres in SIMPLIFY_METRES:
        simpler = shapely.simplify(geometry, metres / _METRES_PER_DEGREE, preserve_topology=True)
        if shapely.get_num_coordinates(simpler) <= QUERY_MAX_VERTICES:
            return simpler, metres
    raise ValidationError(f"{name}: the boundary keeps more than {QUERY_MAX_VERTICES:,} vertices "
                          f"even simplified to {SIMPLIFY_METRES[-1]} m; expected the outline "
                          "of one area")


# -- what the result pages show -----------------------------------------------------------------

def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Each geometry reduced to its polygon parts: a Polygon, a MultiPolygon, or empty."""
    out = []
    for geom in geoms:
        parts = shapely.get_parts(shapely.get_parts(geom))
        parts = parts[shapely.get_type_id(parts) == 3]
        out.append(parts[0] if len(parts) == 1 else shapely.multipolygons(parts))
    return np.array(out, dtype=object)


def overlaps_frame(engine: Engine, query: Query,
                   slivers: SliverTolerance = DEFAULT_TOLERANCE) -> gpd.GeoDataFrame:
    """The part of each plan inside the query (`overlap_pieces`) as MultiPolygons, for files."""
    frame = overlap_pieces(engine, query, slivers)
    return frame.set_geometry(_polygonal(frame.geometry.values), crs=STORAGE_CRS)


def plan_page(engine: Engine, store: Store, plan_id: int, today: date) -> dict:
    """One plan for its public page: details, council name, review flag, and its actions with an
    `overdue` flag, grouped by status; NotFound for an unknown id."""
    plans = engine.plans().plans
    rows = plans[plans["id"] == plan_id]
    if rows.empty:
        raise NotFound(f"there is no plan {plan_id}; see the list of plans on the map page")
    plan = plan_json(rows.iloc[0])
    review, basis = gaprules.review_date(rows.iloc[0])
    plan.update(review_date=plain(review), review_basis=basis,
                review_overdue=review is not None and review < today,
                in_force=bool(gaprules.in_force(rows, today)[0]))
    councils = _largest(engine, "council")
    code = plan["council_code"]
    plan["council_name"] = (councils.areas["name"].iat[councils.row_of[code]]
                            if councils is not None and code in councils.row_of else None)
    actions = store.plan_actions([plan_id])
    table = action_table(actions, plans, today)
    records = [{k: plain(v) for k, v in r.items()} for r in table.to_dict("records")]
    groups = [(s, [r for r in records if r["status"] == s]) for s in ACTION_STATUSES]
    groups += [(s, [r for r in records if r["status"] == s])
               for s in sorted({r["status"] for r in records} - set(ACTION_STATUSES))]
    return {"plan": plan, "geometry": rows.iloc[0:1], "groups": [g for g in groups if g[1]],
            "actions": len(records), "overdue": sum(r["overdue"] for r in records),
            "not_smart": gaprules.smart_gaps(table).get(plan_id, []),
            "located": located_actions(actions, table)}
