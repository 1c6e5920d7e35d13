"""The planscape: which plans cover a place, how much of it, and what they promise there.

A query (capmap.services.queries) is a point, a list of area codes of one layer, or a polygon. Areas are
measured in EPSG:27700. Plans whose overlap is only a sliver along the query's edge, where two
boundary sets disagree by metres (capmap.spatial.slivers), are listed apart as `edge_plans`.
Plans come most relevant first: by how well the plan's area matches the query area (intersection
over union), so a Locality Plan drawn for exactly this neighbourhood comes before a council-wide
LOIP that also covers it; ties go to the plan covering more of the query, then title.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core.crs import SCOTLAND, STORAGE_CRS, Region, geoms_bng_to_lonlat, geoms_lonlat_to_bng
from capmap.core.errors import NotFound
from capmap.core.policy import PUBLIC_PIN_STATUSES
from capmap.core.serialise import actions_json, json_text, plan_json, public_pins_json
from capmap.services.engine import Engine, LayerState, PlanState, Settled, settle
from capmap.services.queries import (
    DEFAULT_MAX_KM2,
    MAX_CODES,
    Query,
    check_point,
    codes_query,
    neighbourhood_at,
    point_query,
    polygon_query,
    posted_query,
)
from capmap.spatial.overlay import apportioned_people
from capmap.spatial.query_overlay import (
    LayerOverlap,
    layer_overlap,
    plan_area_overlaps,
    query_pieces,
)
from capmap.spatial.slivers import DEFAULT_TOLERANCE, SliverTolerance, edge_only, widths
from capmap.storage import Store

# The queries (capmap.services.queries) are answered here, and may be imported from here.
__all__ = ["DEFAULT_MAX_KM2", "MAX_CODES", "Query", "check_point", "codes_query", "lookup",
           "lookup_json", "neighbourhood_at", "overlap_pieces", "plan_pieces", "planscape",
           "point_query", "polygon_query", "posted_query"]

# What a share of the query is measured over. Boundary layers differ in how they treat water: the
# data zones leave out the Clyde and the large lochs, wards run to the middle of a river. A share
# of the whole query would then depend on the layer the query came from (the Govan ward, whose
# boundary takes in the Clyde, showed Glasgow's LOIP at 91 %). So every share and overlap is
# measured on land: the part inside the neighbourhood layer, whose areas tile the land only.
# A large area can hold tens of thousands of pins: the answer lists the newest and counts all
# (the pins map and its tiles show every one).
PINS_LISTED = 500

LAND_MEASURE = ("land: the part inside the neighbourhood layer ({layer}), which leaves out the "
                "sea, large lochs and rivers")
AREA_MEASURE = "area: no neighbourhood layer is loaded to tell land from water"


def planscape(engine: Engine, store: Store, query: Query,
              slivers: SliverTolerance = DEFAULT_TOLERANCE,
              pin_statuses: tuple[str, ...] = PUBLIC_PIN_STATUSES) -> dict:
    """Plans overlapping the query with their shares, the areas it touches, the actions and the
    public pins (`pin_statuses`) inside it. Plain JSON-ready values; km² in EPSG:27700. Overlaps and shares
    are of land (LAND_MEASURE) where a neighbourhood layer is loaded. Plans only touching the
    query's edge (`slivers`) are listed apart in `edge_plans`, and their actions are left out."""
    q_bng = geoms_lonlat_to_bng(np.array([query.geometry]))[0]
    shapely.prepare(q_bng)
    plans = engine.plans()
    hits, pieces, overlap = plan_pieces(plans, q_bng)
    # Touching the edge is a matter of the overlap's shape, so it is judged on whole areas (a
    # neighbouring council's strip across a river has almost no land either way).
    width = widths(pieces)
    edge = edge_only(*_whole_shares(plans, hits, overlap, q_bng), width, slivers)
    q_pieces = query_pieces(q_bng)
    covers = {layer_id: layer_overlap(q_pieces, state.bng, state.bng_tree)
              for layer_id, state in engine.layers().items()}
    people, land = _measured(engine, store, plans, hits, pieces, q_bng, covers)
    hoods = engine.neighbourhoods()
    if hoods is not None:
        q_area, overlap = land[0], land[1:]
        plan_area = _plan_land(engine, store, hoods.layer.id)[hits]
        measure = LAND_MEASURE.format(layer=hoods.layer.id)
    else:
        q_area, plan_area, measure = q_bng.area, shapely.area(plans.bng[hits]), AREA_MEASURE
    share_q = np.array([_ratio(o, q_area) or 0.0 for o in overlap])
    share_p = np.array([_ratio(o, a) or 0.0 for o, a in zip(overlap, plan_area, strict=True)])
    rows = []
    for k, i in enumerate(hits):
        row = plan_json(plans.plans.iloc[i])
        row.update(
            overlap_km2=overlap[k] / 1e6, share_of_query=float(share_q[k]),
            share_of_plan=float(share_p[k]), population_share=_ratio(people[k + 1], people[0]),
            match=_ratio(overlap[k], q_area + plan_area[k] - overlap[k]) or 0.0,
            overlap_width_m=round(float(width[k]), 1), edge_only=bool(edge[k]),
        )
        rows.append(row)
    rows.sort(key=lambda r: (-r["match"], -r["share_of_query"], r["title"]))
    covering = [r for r in rows if not r["edge_only"]]
    titles = dict(zip(plans.plans["id"], plans.plans["title"], strict=True))
    return {
        "query": {**query.described, "kind": query.kind, "area_km2": q_bng.area / 1e6,
                  "land_km2": None if hoods is None else q_area / 1e6, "measure": measure,
                  "population": None if np.isnan(people[0]) else round(float(people[0]), 1)},
        "plans": covering,
        "edge_plans": [r for r in rows if r["edge_only"]],
        "edge_tolerance": slivers.described(),
        "areas": _areas_touched(engine, covers),
        "actions": actions_json(store.actions_in(query.geometry, [r["id"] for r in covering]),
                                titles),
        **_pins(store, query.geometry, pin_statuses),
    }


def _pins(store: Store, geometry: shapely.Geometry, statuses: tuple[str, ...]) -> dict:
    """The newest PINS_LISTED public pins inside, and how many there are."""
    pins, total = store.newest_public_pins_in(geometry, statuses, PINS_LISTED)
    return {"pins": public_pins_json(pins), "pins_total": total}


def _plan_land(engine: Engine, store: Store, layer_id: str) -> np.ndarray:
    """Each plan's land (m²), by the engine's plan rows: the sum of its overlaps with the
    neighbourhoods, read from the plan coverage table (grouped SQL, once per reload); a plan
    the table does not hold yet (its coverage not refreshed) counts its whole area."""
    def compute() -> np.ndarray:
        sums = store.plan_overlap_sums(layer_id)
        plans = engine.plans()
        ids = plans.plans["id"].to_numpy()
        return np.array([sums.get(int(i), area) for i, area in zip(ids, shapely.area(plans.bng),
                                                                    strict=True)])
    return engine.memo(f"planscape:land:{layer_id}", compute)


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


def _measured(engine: Engine, store: Store, plans: PlanState, hits: np.ndarray,
              pieces: np.ndarray, q_bng: shapely.Geometry, covers: dict[str, LayerOverlap]
              ) -> tuple[np.ndarray, np.ndarray]:
    """Residents and land (m², inside the neighbourhoods) in the query, then in each piece (the
    part of plan `hits[k]` inside the query), summed over the neighbourhoods it meets: a piece
    that is the whole query is not measured again. NaN for both without a neighbourhood layer."""
    hoods = engine.neighbourhoods()
    if hoods is None:
        nothing = np.full(len(pieces) + 1, np.nan)
        return nothing, nothing
    cover = covers[hoods.layer.id]
    measured = np.flatnonzero([piece is not q_bng for piece in pieces])
    stored = _stored_overlaps(engine, store, hoods)
    plan_k, rows, m2 = plan_area_overlaps(
        plans.bng[hits[measured]], hoods.bng, cover,
        lambda at, area_rows: stored(hits[measured][at], area_rows))
    slot = np.concatenate([np.zeros(len(cover.rows), dtype=np.int64), measured[plan_k] + 1])
    rows, m2 = np.concatenate([cover.rows, rows]), np.concatenate([cover.m2, m2])
    people = apportioned_people(slot, rows, m2, hoods, len(pieces) + 1)
    land = np.bincount(slot, weights=m2, minlength=len(pieces) + 1).astype("float64")
    whole = np.setdiff1d(np.arange(len(pieces)), measured) + 1
    people[whole], land[whole] = people[0], land[0]
    return people, land


def _stored_overlaps(engine: Engine, store: Store, hoods: LayerState):
    """A function of (plan rows, area rows of `hoods`) giving each plan's overlap (m²) with the
    whole area as the plan coverage table holds it (read once per reload), NaN where it holds
    none (an area the plan does not reach, or coverage not yet refreshed)."""
    def compute() -> tuple[np.ndarray, np.ndarray]:
        frame = store.plan_coverage(hoods.layer.id)
        plan_row = pd.Index(engine.plans().plans["id"]).get_indexer(frame["plan_id"])
        area_row = pd.Index(hoods.areas["code"]).get_indexer(frame["code"])
        known = (plan_row >= 0) & (area_row >= 0)
        keys = plan_row[known].astype(np.int64) * len(hoods.areas) + area_row[known]
        order = np.argsort(keys)
        return keys[order], frame["overlap_m2"].to_numpy()[known][order]
    keys, m2 = engine.memo(f"planscape:coverage:{hoods.layer.id}", compute)

    def stored(plan_rows: np.ndarray, area_rows: np.ndarray) -> np.ndarray:
        wanted = np.asarray(plan_rows, dtype=np.int64) * len(hoods.areas) + area_rows
        at = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        found = (keys[at] == wanted) if len(keys) else np.zeros(len(wanted), dtype=bool)
        return np.where(found, m2[at] if len(keys) else np.nan, np.nan)
    return stored


def _ratio(part: float, whole: float) -> float | None:
    if np.isnan(part) or np.isnan(whole) or whole <= 0:
        return None
    return float(min(part / whole, 1.0))


def _largest_first(values: np.ndarray) -> np.ndarray:
    """The order pandas' sort_values(ascending=False) gives `values` (no NaN), ties included."""
    backwards = np.arange(len(values))[::-1]
    return backwards[values[::-1].argsort(kind="quicksort")][::-1]


def _areas_touched(engine: Engine, covers: dict[str, LayerOverlap]) -> dict[str, list[dict]]:
    out = {}
    for layer_id, state in sorted(engine.layers().items()):
        order = _largest_first(covers[layer_id].m2)
        rows, m2 = covers[layer_id].rows[order], covers[layer_id].m2[order]
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


def _whole_shares(plans, hits: np.ndarray, overlap: np.ndarray, q_bng: shapely.Geometry
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each overlap's share of the whole query and of the whole plan, land and water alike."""
    return (np.minimum(overlap / q_bng.area, 1.0),
            np.minimum(overlap / shapely.area(plans.bng[hits]), 1.0))


def overlap_pieces(engine: Engine, query: Query,
                   slivers: SliverTolerance = DEFAULT_TOLERANCE) -> gpd.GeoDataFrame:
    """The part of each plan inside the query, as polygons in EPSG:4326 with the plan's ref,
    type, title, shares, width (m) and whether it only touches the query's edge (`slivers`):
    the overlaps a planner downloads."""
    q_bng = geoms_lonlat_to_bng(np.array([query.geometry]))[0]
    shapely.prepare(q_bng)
    plans = engine.plans()
    hits, pieces, overlap = plan_pieces(plans, q_bng)
    order = np.argsort(hits)
    hits, pieces, overlap = hits[order], pieces[order], overlap[order]
    chosen = plans.plans.iloc[hits]
    share_q, share_p = _whole_shares(plans, hits, overlap, q_bng)
    width = widths(pieces)
    return gpd.GeoDataFrame(
        {"plan_id": chosen["id"].to_numpy(), "ref": chosen["ref"].to_numpy(),
         "type": chosen["type"].to_numpy(), "title": chosen["title"].to_numpy(),
         "overlap_km2": overlap / 1e6, "share_of_query": share_q, "share_of_plan": share_p,
         "overlap_width_m": np.round(width, 1),
         "edge_only": edge_only(share_q, share_p, width, slivers)},
        geometry=geoms_bng_to_lonlat(pieces), crs=STORAGE_CRS)
