"""Who must be sent a proposed Local Place Plan before it is submitted (SSI 2021/353 reg. 4):
each councillor for the area (of the wards it overlaps) and every community council whose area
is within or adjoins it.

Areas are measured in EPSG:27700. A ward or community council is "within" when it overlaps the
area beyond a sliver (capmap.spatial.slivers: boundary sets from different sources disagree by
metres along shared edges); a community council "adjoins" when it only touches the area, meets
it in a sliver, or comes within `adjoin_m` metres of it (a gap as wide as two outlines
disagree). Candidates come from each layer's spatial index (the engine's STRtree, built once
per reload) with a `dwithin` query, so a request touches only the few areas near it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from capmap.core.crs import geoms_lonlat_to_bng
from capmap.services.engine import Engine, LayerState
from capmap.services.planscape import Query
from capmap.spatial.slivers import DEFAULT_TOLERANCE, SliverTolerance, edge_only, widths
from capmap.storage import Store

DEFAULT_ADJOIN_M = 5.0
MAX_ADJOIN_M = 200.0
RECIPIENT_COLUMNS = ["recipient", "name", "party", "email", "ward_code", "ward_name",
                     "community_council_code", "relation", "share_of_query", "distance_m",
                     "shared_boundary_m"]


@dataclass(frozen=True)
class Nearby:
    """The areas of one layer within `adjoin_m` of a query (EPSG:27700), by row of the layer."""

    rows: np.ndarray
    overlap_m2: np.ndarray
    share_of_query: np.ndarray
    share_of_area: np.ndarray
    width_m: np.ndarray
    distance_m: np.ndarray
    within: np.ndarray


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """The polygons of each geometry: an intersection along a shared edge also holds lines,
    whose length would count in the perimeter and make the overlap look narrower."""
    out = geoms.copy()
    for k in np.flatnonzero(shapely.get_type_id(geoms) == 7):  # GeometryCollection
        parts = shapely.get_parts(geoms[k])
        polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[k] = shapely.union_all(polys) if len(polys) else shapely.Polygon()
    return out


def nearby_areas(state: LayerState, q_bng: shapely.Geometry, adjoin_m: float,
                 slivers: SliverTolerance) -> Nearby:
    """Areas of the layer within `adjoin_m` metres of the query, with their overlaps; `within`
    where the overlap is more than a sliver. Only areas crossing the query's edge are cut."""
    rows = state.bng_tree.query(q_bng, predicate="dwithin", distance=adjoin_m)
    rows = np.sort(rows)
    geoms = state.bng[rows]
    inside = shapely.covers(q_bng, geoms)
    around = ~inside & shapely.covers(geoms, q_bng)
    pieces = np.empty(len(rows), dtype=object)
    pieces[inside], pieces[around] = geoms[inside], q_bng
    cut = ~(inside | around)
    pieces[cut] = _polygonal(shapely.intersection(geoms[cut], q_bng))
    overlap = shapely.area(pieces)
    share_q = np.minimum(overlap / q_bng.area, 1.0) if q_bng.area > 0 else overlap * 0
    share_a = np.minimum(overlap / shapely.area(geoms), 1.0)
    width = widths(pieces)
    sliver = edge_only(share_q, share_a, width, slivers)
    distance = np.where(overlap > 0, 0.0, shapely.distance(geoms, q_bng))
    return Nearby(rows, overlap, share_q, share_a, width, distance, (overlap > 0) & ~sliver)


def _shared_m(state: LayerState, rows: np.ndarray, q_bng: shapely.Geometry,
              adjoin_m: float) -> np.ndarray:
    """Metres of each area's outline lying within `adjoin_m` of the query's outline."""
    if len(rows) == 0:
        return np.zeros(0)
    near = shapely.buffer(shapely.boundary(q_bng), max(adjoin_m, 0.01))
    shapely.prepare(near)
    return shapely.length(shapely.intersection(shapely.boundary(state.bng[rows]), near))


def _layers(layers: dict[str, LayerState], kind: str) -> list[LayerState]:
    return [state for _, state in sorted(layers.items()) if state.layer.kind == kind]


def _area_row(state: LayerState, near: Nearby, k: int) -> dict:
    row = int(near.rows[k])
    areas = state.areas
    parent = areas["parent_code"].to_numpy()[row] if "parent_code" in areas else None
    return {"layer": state.layer.id, "code": str(areas["code"].to_numpy()[row]),
            "name": str(state.names[row]),
            "council_code": None if parent is None or parent != parent else str(parent),
            "overlap_km2": float(near.overlap_m2[k]) / 1e6,
            "share_of_query": float(near.share_of_query[k]),
            "share_of_area": float(near.share_of_area[k]),
            "overlap_width_m": round(float(near.width_m[k]), 1),
            "distance_m": round(float(near.distance_m[k]), 1)}


def _largest_share(row: dict) -> tuple:
    return -row["share_of_query"], row["name"], row["code"]


def _wards(layers: dict[str, LayerState], store: Store, q_bng, slivers: SliverTolerance
           ) -> tuple[list[dict], list[dict]]:
    """The wards overlapping the area beyond a sliver with their councillors (read by code in
    SQL), and those only meeting it in a sliver, by largest share of the area."""
    wards, edge = [], []
    for state in _layers(layers, "ward"):
        near = nearby_areas(state, q_bng, 0.0, slivers)
        for k in range(len(near.rows)):
            if near.overlap_m2[k] > 0:
                (wards if near.within[k] else edge).append(_area_row(state, near, k))
    by_ward: dict[str, list[dict]] = {}
    for person in store.councillors_of(w["code"] for w in wards):
        by_ward.setdefault(person["ward_code"], []).append(
            {k: person[k] for k in ("name", "party", "email")})
    for ward in wards:
        ward["councillors"] = by_ward.get(ward["code"], [])
    return sorted(wards, key=_largest_share), sorted(edge, key=_largest_share)


def _community_councils(layers: dict[str, LayerState], q_bng, adjoin_m: float,
                        slivers: SliverTolerance) -> list[dict]:
    """Community councils within the area (beyond slivers), then those adjoining it."""
    out = []
    for state in _layers(layers, "community"):
        near = nearby_areas(state, q_bng, adjoin_m, slivers)
        shared = _shared_m(state, near.rows, q_bng, adjoin_m)
        for k in range(len(near.rows)):
            row = _area_row(state, near, k)
            row["relation"] = "within" if near.within[k] else "adjoins"
            row["shared_boundary_m"] = round(float(shared[k]), 1)
            out.append(row)
    return sorted(out, key=lambda r: (r["relation"] != "within", -r["share_of_query"],
                                      r["distance_m"], r["name"], r["code"]))


def tolerance_sentence(adjoin_m: float, slivers: SliverTolerance) -> str:
    """How "within" and "adjoins" are decided, in words, for pages and files."""
    return (f"A ward or community council is within the area when it overlaps it by more than a "
            f"sliver ({slivers.sentence()} count as slivers). A community council adjoins the "
            f"area when it touches it, meets it only in a sliver, or comes within "
            f"{adjoin_m:g} m of it.")


def notification_list(engine: Engine, store: Store, query: Query,
                      adjoin_m: float = DEFAULT_ADJOIN_M,
                      slivers: SliverTolerance = DEFAULT_TOLERANCE) -> dict:
    """The councillors (by ward) and community councils to be sent a proposed Local Place
    Plan for the query area, with the tolerances used. Plain JSON-ready values."""
    q_bng = geoms_lonlat_to_bng(np.array([query.geometry]))[0]
    shapely.prepare(q_bng)
    layers = engine.layers()  # one reading: every part of the answer from the same layers
    wards, edge_wards = _wards(layers, store, q_bng, slivers)
    councils = _community_councils(layers, q_bng, adjoin_m, slivers)
    return {
        "query": {**query.described, "kind": query.kind, "area_km2": q_bng.area / 1e6},
        "tolerance": {"adjoin_m": adjoin_m, "slivers": slivers.described(),
                      "sentence": tolerance_sentence(adjoin_m, slivers)},
        "wards": wards, "edge_wards": edge_wards, "community_councils": councils,
        "ward_layers": [s.layer.id for s in _layers(layers, "ward")],
        "community_layers": [s.layer.id for s in _layers(layers, "community")],
        "wards_without_councillors": [w["code"] for w in wards if not w["councillors"]],
        "recipients": recipients(wards, councils),
    }


def recipients(wards: list[dict], councils: list[dict]) -> list[dict]:
    """One row per councillor, then per community council: the list to send the plan to."""
    out = [{"recipient": "councillor", "name": person["name"], "party": person["party"],
            "email": person["email"], "ward_code": ward["code"], "ward_name": ward["name"],
            "community_council_code": "", "relation": "within",
            "share_of_query": ward["share_of_query"], "distance_m": 0.0, "shared_boundary_m": ""}
           for ward in wards for person in ward["councillors"]]
    out += [{"recipient": "community_council", "name": cc["name"], "party": "", "email": "",
             "ward_code": "", "ward_name": "", "community_council_code": cc["code"],
             "relation": cc["relation"], "share_of_query": cc["share_of_query"],
             "distance_m": cc["distance_m"], "shared_boundary_m": cc["shared_boundary_m"]}
            for cc in councils]
    return out
