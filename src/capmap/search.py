"""Finding an area for the planscape: search by postcode, place name or code; choose neighbourhoods
from lists; turn a drawn or uploaded polygon into a query that a link can carry exactly.

Names and codes are matched in memory (layers are already held by the Engine). Postcodes are read
from the store once per data version and kept as a sorted array, so a lookup is a binary search.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.budgets import MAX_VERTICES
from capmap.crs import STORAGE_CRS
from capmap.engine import Engine, LayerState
from capmap.errors import InputError, NotFound, ValidationError
from capmap.io.readers import ReadLimits, read_vector
from capmap.io.validate import in_storage_crs
from capmap.models import ACTION_STATUSES
from capmap.planscape import Query, overlap_pieces, point_query, polygon_query
from capmap.progress import action_table, located_actions
from capmap.queries import refuse_odd_codes
from capmap.serialise import plain, plan_json
from capmap.spatial.slivers import DEFAULT_TOLERANCE, SliverTolerance
from capmap.storage import Store

MAX_TEXT = 100
# Coordinates of drawn and uploaded polygons are kept to 6 decimals (about 0.1 m) so that a link
# holding the polygon as text asks exactly the same question again.
DECIMALS = 6
# An uploaded boundary with more vertices than this is simplified (topology kept) before it is
# asked about, by the smallest of SIMPLIFY_METRES that brings it under: a full-resolution
# coastline would otherwise cost the planscape minutes. Data zones have up to a few thousand.
QUERY_MAX_VERTICES = MAX_VERTICES
SIMPLIFY_METRES = (1, 2, 5, 10, 20, 50, 100, 200, 500)
_METRES_PER_DEGREE = 111_000  # of latitude; a degree of longitude in Scotland is shorter
# Larger kinds first when matches are equally good.
KIND_ORDER = ("council", "ward", "locality", "intermediate", "community", "neighbourhood")
_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
_POSTCODE_START = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9]?[A-Z]{0,2}$")


def normalise_postcode(text: str) -> str | None:
    """A full UK postcode in its stored form ("xs12ab" -> "XS1 2AB"), or None if `text` is not one."""
    packed = "".join(str(text).split()).upper()
    return f"{packed[:-3]} {packed[-3:]}" if _POSTCODE.match(packed) else None


@dataclass(frozen=True)
class _Postcodes:
    packed: np.ndarray  # postcodes without spaces, sorted
    stored: np.ndarray
    lon: np.ndarray
    lat: np.ndarray


_cache: dict[str, tuple[int, _Postcodes]] = {}
_cache_lock = threading.Lock()


def _postcodes(store: Store) -> _Postcodes:
    """The store's postcodes, reloaded when its data version moves."""
    version = store.data_version()
    with _cache_lock:
        held = _cache.get(store.url)
        if held and held[0] == version:
            return held[1]
    frame = store.postcodes()
    packed = frame["postcode"].str.replace(" ", "", regex=False).to_numpy(dtype=str)
    order = np.argsort(packed, kind="stable")
    points = frame.geometry.values[order]
    table = _Postcodes(packed[order], frame["postcode"].to_numpy(dtype=str)[order],
                       shapely.get_x(points), shapely.get_y(points))
    with _cache_lock:
        _cache[store.url] = (version, table)
    return table


def _postcode_matches(store: Store, text: str, limit: int) -> list[dict]:
    packed = "".join(text.split()).upper()
    if len(packed) < 2 or not _POSTCODE_START.match(packed):
        return []
    table = _postcodes(store)
    start = int(np.searchsorted(table.packed, packed, side="left"))
    stop = int(np.searchsorted(table.packed, packed + "\U0010ffff", side="left"))
    rows = range(start, min(stop, start + limit))
    return [{"kind": "postcode", "layer": None, "layer_title": "Postcode", "area_kind": "postcode",
             "code": str(table.stored[i]), "name": str(table.stored[i]),
             "lon": round(float(table.lon[i]), DECIMALS), "lat": round(float(table.lat[i]), DECIMALS),
             "exact": bool(table.packed[i] == packed)} for i in rows]


def postcode_query(engine: Engine, store: Store, text: str) -> Query:
    """The neighbourhood holding a postcode's point; NotFound if the postcode is not stored."""
    postcode = normalise_postcode(text)
    if postcode is None:
        raise InputError(f"{str(text)[:20]!r} is not a full postcode; expected e.g. XS1 2AB")
    match = [m for m in _postcode_matches(store, postcode, 1) if m["exact"]]
    if not match:
        raise NotFound(f"postcode {postcode} is not in our postcode list; try a place name or "
                       "choose your neighbourhood from the list")
    query = point_query(engine, match[0]["lon"], match[0]["lat"])
    return replace(query, described={**query.described, "postcode": postcode})


def _lowered(engine: Engine, layer_id: str, state: LayerState) -> tuple[pd.Series, pd.Series]:
    return engine.memo(f"search:{layer_id}", lambda: (
        state.areas["name"].fillna("").astype(str).str.lower(),
        state.areas["code"].astype(str).str.upper()))


def _area_matches(engine: Engine, text: str) -> list[dict]:
    needle = text.lower()
    word_start = re.compile(r"(?:^|[\s\-(/,.'])" + re.escape(needle))
    found = []
    for layer_id, state in engine.layers().items():
        names, codes = _lowered(engine, layer_id, state)
        rank = np.full(len(names), 9)
        rank[names.str.contains(needle, regex=False).to_numpy()] = 4
        rank[names.str.contains(word_start).to_numpy()] = 3
        rank[names.str.startswith(needle).to_numpy()] = 2
        rank[(names == needle).to_numpy()] = 1
        rank[(codes == text.upper()).to_numpy()] = 0
        points = state.inner_points
        for i in np.flatnonzero(rank < 9):
            found.append({
                "kind": "area", "layer": layer_id, "layer_title": state.layer.title or layer_id,
                "area_kind": state.layer.kind, "code": state.areas["code"].iat[i],
                "name": state.areas["name"].iat[i], "exact": bool(rank[i] == 0),
                "lon": round(float(points[i].x), DECIMALS), "lat": round(float(points[i].y), DECIMALS),
                "rank": int(rank[i])})
    kinds = {k: n for n, k in enumerate(KIND_ORDER)}
    found.sort(key=lambda m: (m["rank"], kinds.get(m["area_kind"], 9), m["name"], m["code"]))
    for match in found:
        del match["rank"]
    return found


def search_places(engine: Engine, store: Store, text: str, limit: int = 50) -> list[dict]:
    """Postcodes, then areas of every current layer, matching `text`: exact postcodes and codes
    first, then names equal to it, starting with it, with a word starting with it, containing it
    (case-insensitive). Each match has kind (postcode or area), layer, code, name, lon/lat."""
    wanted = " ".join(str(text).split())[:MAX_TEXT]
    if len(wanted) < 2:
        raise InputError("type at least 2 characters: a postcode, a place or neighbourhood name, "
                         "or an area code")
    postcodes = _postcode_matches(store, wanted, limit)
    exact = [m for m in postcodes if m["exact"]]
    return (exact + _area_matches(engine, wanted) + [m for m in postcodes if not m["exact"]])[:limit]


# -- choosing neighbourhoods from lists ---------------------------------------------------------

def _largest(engine: Engine, kind: str) -> LayerState | None:
    states = [s for s in engine.layers().values() if s.layer.kind == kind]
    return max(states, key=lambda s: (len(s.areas), s.layer.id), default=None)


def _nesting(engine: Engine) -> dict[str, np.ndarray]:
    """Per current layer, the area holding a point inside each neighbourhood."""
    hoods = engine.neighbourhoods()
    return engine.memo("finder:nesting", lambda: engine.assign(hoods.inner_points))


def choice_groups(engine: Engine) -> dict:
    """The areas (wards, else councils) a person picks first to list the neighbourhoods in them."""
    hoods = engine.neighbourhoods()
    parent = _largest(engine, "ward") or _largest(engine, "council")
    if hoods is None or parent is None:
        return {"layer": None, "layer_title": None, "areas": []}
    inside = pd.Series(_nesting(engine)[parent.layer.id]).value_counts()
    areas = [{"code": c, "name": n, "count": int(inside.get(c, 0))}
             for c, n in zip(parent.areas["code"], parent.areas["name"], strict=True)]
    areas.sort(key=lambda a: (str(a["name"]), a["code"]))
    return {"layer": parent.layer.id, "layer_title": parent.layer.title or parent.layer.id,
            "areas": [a for a in areas if a["count"]]}


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
    plan["review_overdue"] = bool(plan["review_due"] and plan["review_due"] < today.isoformat())
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
            "located": located_actions(actions, table)}
