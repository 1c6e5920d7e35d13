"""The planscape: which plans cover a place, how much of it, and what they promise there.

A query is a point, a list of area codes of one layer, or a polygon. Areas are measured in
EPSG:27700. Plans come most relevant first: by how well the plan's area matches the query area
(intersection over union), so a Locality Plan drawn for exactly this neighbourhood comes before a
council-wide LOIP that also covers it; ties go to the plan covering more of the query, then title.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from capmap.crs import SCOTLAND, STORAGE_CRS, Region, check_lonlat, geoms_bng_to_lonlat, geoms_lonlat_to_bng
from capmap.engine import Engine, LayerState, PlanState, Settled, settle
from capmap.errors import InputError, NotFound, ValidationError
from capmap.io.validate import listed
from capmap.serialise import actions_json, json_text, plan_json, public_pins_json
from capmap.spatial.overlay import apportioned_population, overlap_pairs
from capmap.storage import Store

DEFAULT_MAX_KM2 = 30_000.0  # Highland, the largest council, is about 26,000 km²
# Most areas one codes query may name: every data zone of the council with most (Glasgow, 746)
# fits; all of Scotland's 6,976 does not. Checked before any geometry is touched.
MAX_CODES = 1_000


@dataclass(frozen=True)
class Query:
    """A planscape query area in EPSG:4326, and how it was asked for."""

    geometry: shapely.Geometry
    kind: str
    described: dict


def check_point(lon: float, lat: float, region: Region = SCOTLAND) -> tuple[float, float]:
    """Refuse a point that is not finite lon/lat inside the region."""
    check_lonlat((lon, lat, lon, lat), region, "point")
    return float(lon), float(lat)


def neighbourhood_at(engine: Engine, lon: float, lat: float, region: Region = SCOTLAND
                     ) -> tuple[LayerState, str]:
    """The neighbourhood layer and the code of its area holding a point inside the region;
    ValidationError for a point off the region or in no neighbourhood (sea, a loch)."""
    lon, lat = check_point(lon, lat, region)
    hoods = engine.neighbourhoods()
    if hoods is None:
        raise ValidationError("no neighbourhood layer is loaded to place a point in an area")
    code = hoods.index.lookup(lon, lat)
    if code is None:
        raise ValidationError(f"the point ({lon:.5f}, {lat:.5f}) is outside every neighbourhood "
                              f"of {hoods.layer.title or hoods.layer.id} (layer {hoods.layer.id}); "
                              "choose a place on land inside the mapped area")
    return hoods, code


def point_query(engine: Engine, lon: float, lat: float, region: Region = SCOTLAND) -> Query:
    """The neighbourhood containing a point: the area a group means by "here"."""
    lon, lat = check_point(lon, lat, region)
    hoods, code = neighbourhood_at(engine, lon, lat, region)
    geometry = hoods.areas.geometry.values[hoods.row_of[code]]
    return Query(geometry, "point", {"lon": lon, "lat": lat, "layer": hoods.layer.id,
                                     "codes": [code]})


def codes_query(engine: Engine, layer_id: str, codes: list[str], *,
                max_km2: float = DEFAULT_MAX_KM2) -> Query:
    """The union of some areas of one layer: at most MAX_CODES codes, covering at most `max_km2`
    (the areas' total in EPSG:27700), as a drawn polygon is bounded."""
    if len(codes) > MAX_CODES:
        raise InputError(f"{len(codes):,} area codes given; at most {MAX_CODES:,} can be asked "
                         "about at once (ask about a larger area by its council or ward code)")
    try:
        state = engine.layer(layer_id)
    except NotFound as exc:
        raise ValidationError(exc.message) from exc
    codes = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not codes:
        raise ValidationError("no area codes given; expected codes=CODE1,CODE2")
    unknown = [c for c in codes if c not in state.row_of]
    if unknown:
        raise ValidationError(f"codes not in layer {layer_id}: {listed(unknown)}")
    rows = [state.row_of[c] for c in codes]
    km2 = float(shapely.area(state.bng[rows]).sum()) / 1e6
    if km2 > max_km2:
        raise ValidationError(f"the {len(codes):,} areas asked about cover {km2:,.0f} km²; the "
                              f"limit is {max_km2:,.0f} km², as for a drawn polygon")
    geometry = shapely.union_all(state.areas.geometry.values[rows])
    return Query(geometry, "codes", {"layer": layer_id, "codes": codes})


def posted_query(engine: Engine, body, *, max_km2: float = DEFAULT_MAX_KM2,
                 region: Region = SCOTLAND, crs: str | None = None) -> Query:
    """A posted query, JSON text or a parsed dict: {"layer": id, "codes": [code, ...]}, or a
    GeoJSON geometry or Feature (which has a "type") as `polygon_query` reads it."""
    body = _parsed(body)
    if isinstance(body, dict) and "type" not in body:
        if "codes" not in body and "layer" not in body:
            raise InputError('expected {"layer": ..., "codes": [...]} or a GeoJSON geometry or '
                             f"Feature; got an object with keys {listed(sorted(map(str, body)))}")
        layer, codes = body.get("layer"), body.get("codes")
        if not isinstance(layer, str) or not layer.strip():
            raise InputError('layer is required with codes, e.g. {"layer": "dz11", "codes": '
                             '["S01006506"]}')
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise InputError(f"codes must be a list of area codes as strings, got "
                             f"{type(codes).__name__}" + ("" if not isinstance(codes, list)
                                                          else " with other values"))
        return codes_query(engine, layer.strip(), codes, max_km2=max_km2)
    return polygon_query(body, max_km2=max_km2, region=region, crs=crs)


def _parsed(body):
    """A JSON body as Python values (a dict or list stays as it is)."""
    if isinstance(body, str | bytes):
        try:
            return json.loads(body)
        except ValueError as exc:
            raise InputError(f"the body is not JSON ({exc.args[0][:80]})") from None
    return body


def polygon_query(body, *, max_km2: float = DEFAULT_MAX_KM2, region: Region = SCOTLAND,
                  crs: str | None = None) -> Query:
    """A drawn or uploaded polygon: a GeoJSON geometry or Feature, as text or a parsed dict, in
    lon/lat, or in British National Grid metres when `crs` is EPSG:27700."""
    geometry = _geometry(body)
    if crs not in (None, "", "EPSG:4326", "EPSG:27700"):
        raise InputError(f"crs {crs!r} is not offered; expected EPSG:4326 or EPSG:27700")
    if crs == "EPSG:27700" and np.isfinite(shapely.get_coordinates(geometry)).all():
        geometry = geoms_bng_to_lonlat(np.array([geometry]))[0]
    if shapely.get_type_id(geometry) not in (3, 6):
        raise ValidationError(f"expected a Polygon or MultiPolygon, got {geometry.geom_type}")
    if geometry.is_empty:
        raise ValidationError("the polygon is empty")
    coords = shapely.get_coordinates(geometry)
    if not np.isfinite(coords).all():
        raise ValidationError("the polygon has NaN or infinite coordinates")
    check_lonlat(geometry.bounds, region, "polygon")
    if not geometry.is_valid:
        raise ValidationError(f"the polygon is invalid: {shapely.is_valid_reason(geometry)}")
    km2 = geoms_lonlat_to_bng(np.array([geometry]))[0].area / 1e6
    if km2 > max_km2:
        raise ValidationError(f"the polygon covers {km2:,.0f} km²; the limit is {max_km2:,.0f} km²")
    return Query(geometry, "polygon", {})


def _geometry(body) -> shapely.Geometry:
    body = _parsed(body)
    if not isinstance(body, dict) or "type" not in body:
        raise InputError("expected a GeoJSON geometry or Feature object")
    if body.get("type") == "Feature":
        body = body.get("geometry")
        if not isinstance(body, dict):
            raise ValidationError("the Feature has no geometry")
    try:
        return shapely.from_geojson(json.dumps(body, allow_nan=True))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
        raise ValidationError(f"not a valid GeoJSON geometry ({str(exc)[:120]})") from None


def planscape(engine: Engine, store: Store, query: Query) -> dict:
    """Plans overlapping the query with their shares, the areas it touches, the actions and the
    published pins inside it. Plain JSON-ready values; km² in EPSG:27700."""
    q_bng = geoms_lonlat_to_bng(np.array([query.geometry]))[0]
    shapely.prepare(q_bng)
    plans = engine.plans()
    hits, pieces, overlap = plan_pieces(plans, q_bng)
    q_area = q_bng.area
    plan_area = shapely.area(plans.bng[hits])
    people = _people(engine, q_bng, pieces)
    rows = []
    for k, i in enumerate(hits):
        row = plan_json(plans.plans.iloc[i])
        row.update(
            overlap_km2=overlap[k] / 1e6, share_of_query=min(overlap[k] / q_area, 1.0),
            share_of_plan=min(overlap[k] / plan_area[k], 1.0),
            population_share=_ratio(people[k + 1], people[0]),
            match=overlap[k] / (q_area + plan_area[k] - overlap[k]),
        )
        rows.append(row)
    rows.sort(key=lambda r: (-r["match"], -r["share_of_query"], r["title"]))
    titles = dict(zip(plans.plans["id"], plans.plans["title"], strict=True))
    return {
        "query": {**query.described, "kind": query.kind, "area_km2": q_area / 1e6,
                  "population": None if np.isnan(people[0]) else round(float(people[0]), 1)},
        "plans": rows,
        "areas": _areas_touched(engine, q_bng),
        "actions": actions_json(store.actions_in(query.geometry, [r["id"] for r in rows]), titles),
        "pins": public_pins_json(store.public_pins_in(query.geometry, ("published",))),
    }


def plan_pieces(plans: PlanState, q_bng: shapely.Geometry
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of the plans overlapping a query (EPSG:27700) by a positive area, in the order
    of the plans' tree; each one's part inside the query and that part's area in m². A plan
    covering the whole query has the query itself as its part, a plan the query covers the
    whole plan: only plans crossing the query's edge are cut by an overlay."""
    hits = plans.bng_tree.query(q_bng, predicate="intersects")
    geoms = plans.bng[hits]
    shapely.prepare(geoms)  # kept on the engine's geometries: once per reload
    around = shapely.covers(geoms, q_bng)
    inside = ~around & shapely.covers(q_bng, geoms)
    pieces = np.empty(len(hits), dtype=object)
    pieces[around] = q_bng
    pieces[inside] = geoms[inside]
    cut = ~(around | inside)
    pieces[cut] = shapely.intersection(geoms[cut], q_bng)
    overlap = shapely.area(pieces)
    keep = overlap > 0
    return hits[keep], pieces[keep], overlap[keep]


def _people(engine: Engine, q_bng: shapely.Geometry, pieces: np.ndarray) -> np.ndarray:
    """Residents in the query, then in each piece: a piece that is the whole query is not
    apportioned again."""
    hoods = engine.neighbourhoods()
    if hoods is None:
        return np.full(len(pieces) + 1, np.nan)
    whole = np.array([piece is q_bng for piece in pieces], dtype=bool)
    measured = apportioned_population(np.array([q_bng, *pieces[~whole]], dtype=object),
                                      hoods.bng, hoods.population, hoods.bng_tree)
    out = np.full(len(pieces) + 1, measured[0])
    out[1:][~whole] = measured[1:]
    return out


def _ratio(part: float, whole: float) -> float | None:
    if np.isnan(part) or np.isnan(whole) or whole <= 0:
        return None
    return float(min(part / whole, 1.0))


def _areas_touched(engine: Engine, q_bng) -> dict[str, list[dict]]:
    out = {}
    for layer_id, state in sorted(engine.layers().items()):
        pairs = overlap_pairs(np.array([q_bng]), state.bng, state.bng_tree)
        pairs = pairs.sort_values(["overlap_m2"], ascending=False)
        rows = pairs["area"].to_numpy()
        m2 = pairs["overlap_m2"].to_numpy()
        shares = np.clip(m2 / shapely.area(state.bng[rows]), 0.0, 1.0)
        codes = state.areas["code"].to_numpy(dtype=object)[rows]
        kind = state.layer.kind
        out[layer_id] = [
            {"code": code, "name": name, "kind": kind, "overlap_km2": km2, "share_of_area": share}
            for code, name, km2, share in zip(codes.tolist(), state.names[rows].tolist(),
                                              (m2 / 1e6).tolist(), shares.tolist(), strict=True)
        ]
    return out


def _settled_at(engine: Engine, layers: dict[str, LayerState], plans: PlanState, lon: float,
                lat: float) -> Settled | None:
    """The Settled answer of the neighbourhood whose interior holds the point, or None (on an
    edge, outside every neighbourhood, or no neighbourhood layer)."""
    try:
        hoods = engine.neighbourhoods()
    except NotFound:
        return None
    position = hoods.index.inside(lon, lat) if hoods is not None else -1
    if position < 0:
        return None
    code = hoods.index.codes[position]
    settled = engine.memo(f"settled:{hoods.layer.id}:{code}", lambda: settle(hoods, code, layers, plans))
    if settled.layers is not layers or settled.plans is not plans:  # reloaded meanwhile
        settled = settle(hoods, code, layers, plans)
    return settled


def _at_point(engine: Engine, lon: float, lat: float
              ) -> tuple[list[tuple[str, LayerState, str, int]], PlanState, np.ndarray]:
    """At a checked point: (layer id, layer, code, row) of each current layer's area there, by
    layer id; the plans; the rows of those covering the point."""
    layers, plans = engine.layers(), engine.plans()
    return _found_at(layers, plans, _settled_at(engine, layers, plans, lon, lat), lon, lat)


def _found_at(layers: dict[str, LayerState], plans: PlanState, settled: Settled | None, lon: float,
              lat: float) -> tuple[list[tuple[str, LayerState, str, int]], PlanState, np.ndarray]:
    """`_at_point` given what is settled there: inside a neighbourhood, what is settled for all of
    it (engine.settle, once per neighbourhood) spares most point tests."""
    known = settled.areas if settled is not None else {}
    found = []
    for layer_id, state in sorted(layers.items()):
        if layer_id in known:
            found.append((layer_id, state, *known[layer_id]))
            continue
        code = state.index.lookup(lon, lat)
        if code is not None:
            found.append((layer_id, state, code, state.row_of[code]))
    if settled is not None:
        part = settled.partial
        hits = part[shapely.intersects_xy(plans.lonlat[part], lon, lat)]
        return found, plans, np.sort(np.concatenate([settled.whole, hits]))
    # A vector test of every plan's box: with hundreds of plans, quicker than a tree query.
    b = plans.bounds
    candidates = np.flatnonzero((b[:, 0] <= lon) & (b[:, 2] >= lon) & (b[:, 1] <= lat) & (b[:, 3] >= lat))
    return found, plans, candidates[shapely.intersects_xy(plans.lonlat[candidates], lon, lat)]


def lookup(engine: Engine, lon: float, lat: float, region: Region = SCOTLAND) -> dict:
    """The areas of every current layer at a point, and the plans covering it."""
    lon, lat = check_point(lon, lat, region)
    found, plans, covering = _at_point(engine, lon, lat)
    areas = {layer_id: {"code": code, "name": state.names[row], "kind": state.layer.kind}
             for layer_id, state, code, row in found}
    return {"lon": lon, "lat": lat, "areas": areas,
            "plans": [dict(plans.details[i]) for i in covering]}


def lookup_json(engine: Engine, lon: float, lat: float, region: Region = SCOTLAND) -> str:
    """`lookup` as JSON text (serialise.json_text), joined from pieces encoded once per reload:
    the same text, without encoding every plan's list of area codes on each request."""
    lon, lat = check_point(lon, lat, region)
    layers, plans = engine.layers(), engine.plans()
    settled = _settled_at(engine, layers, plans, lon, lat)
    pieces = settled.lookup_pieces if settled is not None else None
    if pieces is None:
        found, plans, covering = _found_at(layers, plans, settled, lon, lat)
        pieces = (",".join(f"{json_text(layer_id)}:{state.area_json[row]}"
                           for layer_id, state, _, row in found),
                  ",".join(plans.details_json[i] for i in covering))
    areas, covering_plans = pieces
    return (f'{{"areas":{{{areas}}},"lat":{json_text(lat)},"lon":{json_text(lon)},'
            f'"plans":[{covering_plans}]}}')


def overlap_pieces(engine: Engine, query: Query) -> gpd.GeoDataFrame:
    """The part of each plan inside the query, as polygons in EPSG:4326 with the plan's ref,
    type, title and shares: the overlaps a planner downloads."""
    q_bng = geoms_lonlat_to_bng(np.array([query.geometry]))[0]
    shapely.prepare(q_bng)
    plans = engine.plans()
    hits, pieces, overlap = plan_pieces(plans, q_bng)
    order = np.argsort(hits)
    hits, pieces, overlap = hits[order], pieces[order], overlap[order]
    chosen = plans.plans.iloc[hits]
    return gpd.GeoDataFrame(
        {"plan_id": chosen["id"].to_numpy(), "ref": chosen["ref"].to_numpy(),
         "type": chosen["type"].to_numpy(), "title": chosen["title"].to_numpy(),
         "overlap_km2": overlap / 1e6, "share_of_query": np.minimum(overlap / q_bng.area, 1.0),
         "share_of_plan": np.minimum(overlap / shapely.area(plans.bng[hits]), 1.0)},
        geometry=geoms_bng_to_lonlat(pieces), crs=STORAGE_CRS)
