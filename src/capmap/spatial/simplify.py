"""Web map payloads: a boundary layer simplified for one zoom level, neighbours still meeting exactly.

A boundary layer is a coverage: polygons that tile an area with no overlaps and with every shared edge
made of the same vertices in both neighbours. Simplifying each polygon on its own moves each copy of a
shared edge differently and opens slivers of gap and overlap between neighbours, so the layer is
simplified as one coverage (`shapely.coverage_simplify`, GEOS >= 3.12), in metres in the British
National Grid, and its lon/lat coordinates are then rounded vertex by vertex: a vertex shared by
several polygons is rounded once, the same way in each, so shared edges stay identical.

Every non-empty area comes back non-empty and valid, however small, so it stays on the map and
clickable: simplification keeps at least a triangle, rounding backs off to more decimals where it
would collapse or fold a polygon, and anything that still came out empty gets its unsimplified
geometry back. Islands smaller than the simplification tolerance that touch no other area are
dropped from multi-part areas (the largest part always stays).
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping

from capmap.core.crs import STORAGE_CRS, geoms_bng_to_lonlat, geoms_lonlat_to_bng, to_storage
from capmap.core.errors import ValidationError

# Web Mercator ground resolution at zoom 0 (256-pixel tiles), metres per pixel on the equator.
EQUATOR_PIXEL_M = 156543.03
# Mercator pixels shrink with cos(latitude); 56°N is central Scotland (Edinburgh, Glasgow, Perth).
REFERENCE_LAT = 56.0
# Metres in one degree of latitude. A degree of longitude is shorter (about 62 km at 56°N), so
# rounding error in latitude is the larger one and sets the number of decimals.
METRES_PER_DEGREE = 111_320.0
MAX_DECIMALS = 7
_UNROUNDED = MAX_DECIMALS + 1  # a vertex level that keeps full precision
_POLYGONAL = {"Polygon", "MultiPolygon"}
PREVIEW_STEPS = 10_000  # an import preview's geometries are simplified to its extent / this


def pixel_m(zoom: int) -> float:
    """Size of one screen pixel in metres at a Web Mercator zoom level, at 56°N."""
    return EQUATOR_PIXEL_M * math.cos(math.radians(REFERENCE_LAT)) / 2**zoom


def tolerance_m(zoom: int) -> float:
    """Simplification tolerance in metres for a zoom level: half a screen pixel at 56°N."""
    # Half a pixel: detail smaller than that cannot be seen, and a line moved by less than half a
    # pixel is drawn on the same pixels. coverage_simplify uses Visvalingam-Whyatt, where the
    # tolerance is the square root of the largest triangle area removed, so vertices usually move
    # by less than the tolerance. At zoom 6 this is about 680 m, at zoom 12 about 11 m.
    return pixel_m(zoom) / 2


def decimals_for(zoom: int) -> int:
    """Decimal places of lon/lat whose rounding error (half a step) stays under a tenth of a pixel."""
    allowed_m = pixel_m(zoom) / 10
    half_step_m = METRES_PER_DEGREE / 2
    decimals = math.ceil(math.log10(half_step_m / allowed_m))
    return min(max(decimals, 0), MAX_DECIMALS)


def simplify_coverage(frame: gpd.GeoDataFrame, zoom: int) -> gpd.GeoDataFrame:
    """A copy of a polygon layer (EPSG:4326) simplified and rounded for a zoom; neighbours still meet."""
    # Steps: repair invalid polygons (make_valid, polygon parts kept); to BNG; coverage simplification
    # (or the fallback of _simplify_bng when the layer is not a valid coverage); drop islands too small
    # to see; back to lon/lat; round (_round_coverage). Missing and empty geometries pass through.
    frame = to_storage(frame)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    active = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    others = {g.geom_type for g in geoms[active]} - _POLYGONAL
    if others:
        raise ValidationError(f"simplify_coverage: expected Polygon or MultiPolygon geometries, "
                              f"found {', '.join(sorted(others))}")
    out = frame.copy()
    if not active.any():
        return out
    source = _polygonal(geoms[active])
    tolerance = tolerance_m(zoom)
    bng = _simplify_bng(geoms_lonlat_to_bng(source), tolerance)
    bng = _drop_islets(bng, tolerance**2)
    rounded = _round_coverage(geoms_bng_to_lonlat(bng), decimals_for(zoom))
    out_geoms = geoms.copy()
    out_geoms[active] = _never_empty(rounded, source)
    out.geometry.values[:] = out_geoms
    return out.set_crs(STORAGE_CRS, allow_override=True)


def simplified_for_preview(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with its geometries simplified to its extent / PREVIEW_STEPS (about a tenth of
    a pixel of a 1,000 px map): an upload may hold millions of vertices, which a page would
    otherwise carry whole."""
    present = frame.geometry.notna() & ~frame.geometry.is_empty
    if not present.any():
        return frame
    minx, miny, maxx, maxy = frame[present].total_bounds
    tolerance = max(maxx - minx, maxy - miny) / PREVIEW_STEPS
    return frame.set_geometry(shapely.simplify(frame.geometry.values, tolerance))


def payload(frame: gpd.GeoDataFrame, zoom: int, properties: list[str]) -> dict:
    """GeoJSON FeatureCollection (RFC 7946, lon/lat) of the layer simplified for a zoom, for json.dumps."""
    missing = [name for name in properties if name not in frame.columns]
    if missing:
        raise ValidationError(f"payload: properties {missing} not found; columns are "
                              f"{[c for c in frame.columns if c != frame.geometry.name]}")
    simple = simplify_coverage(frame, zoom)
    # RFC 7946 asks for exterior rings anticlockwise and holes clockwise.
    geoms = shapely.orient_polygons(np.asarray(simple.geometry.values, dtype=object))
    table = simple[properties].astype(object)
    records = table.where(table.notna(), None).to_dict("records")
    features = [
        {"type": "Feature", "properties": props, "geometry": None if geom is None else mapping(geom)}
        for props, geom in zip(records, geoms, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def coverage_defects(geoms: np.ndarray, reference_union: shapely.Geometry | None = None) -> dict:
    """Overlaps and gaps between neighbours of an EPSG:4326 polygon array, measured in m² (EPSG:27700)."""
    # overlap_pairs counts pairs of polygons whose interiors meet and overlap_m2 is the area they
    # share; both are exactly zero for a coverage. A gap is a hole in the union that does not meet a
    # hole of `reference_union` (the unsimplified layer, EPSG:4326), so lochs and enclaves that were
    # holes already are not counted; a notch open to the outside cannot be told apart from a
    # simplified coastline and is not counted either. Topology is worked out in lon/lat, where the
    # rounded coordinates are exact, and only areas in metres.
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    meet = shapely.relate_pattern(geoms[left], geoms[right], "T********")
    overlaps = shapely.intersection(geoms[left[meet]], geoms[right[meet]])
    union = shapely.union_all(geoms)
    holes = _new_holes(union, reference_union)
    return {
        "overlap_m2": _area_m2(overlaps),
        "overlap_pairs": int(meet.sum()),
        "gap_m2": _area_m2(holes),
        "gaps": len(holes),
        "union_m2": _area_m2(np.array([union], dtype=object)),
    }


def _area_m2(geoms: np.ndarray) -> float:
    """Total area in square metres of EPSG:4326 geometries, measured in EPSG:27700."""
    return float(shapely.area(geoms_lonlat_to_bng(geoms)).sum()) if len(geoms) else 0.0


def _new_holes(union: shapely.Geometry, reference: shapely.Geometry | None) -> np.ndarray:
    """The holes of `union`, as polygons, that do not meet a hole of `reference` (all when None)."""
    holes = _holes(union)
    if reference is None or not len(holes):
        return holes
    old = _holes(reference)
    if not len(old):
        return holes
    return holes[shapely.area(shapely.intersection(holes, shapely.union_all(old))) == 0]


def _holes(geom: shapely.Geometry) -> np.ndarray:
    """The interior rings of a polygonal geometry, as polygons."""
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 3]
    rings = [shapely.Polygon(ring) for part in parts for ring in part.interiors]
    return np.array(rings, dtype=object)


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Invalid polygons repaired with make_valid, keeping only their polygon parts."""
    out = geoms.copy()
    bad = ~shapely.is_valid(out)
    for i in np.flatnonzero(bad):
        # get_parts twice: a repaired geometry can be a collection holding a multipolygon
        parts = shapely.get_parts(shapely.get_parts(shapely.make_valid(out[i])))
        polys = parts[shapely.get_type_id(parts) == 3]
        out[i] = shapely.multipolygons(polys) if len(polys) else out[i]
    return out


def _broken(geoms: np.ndarray) -> np.ndarray:
    """True for polygons that are invalid or have edges that break the coverage (overlap, mismatch)."""
    edges = shapely.coverage_invalid_edges(geoms)
    return ~shapely.is_valid(geoms) | ~(shapely.is_missing(edges) | shapely.is_empty(edges))


def _simplify_bng(geoms: np.ndarray, tolerance: float) -> np.ndarray:
    """Coverage simplification in metres; members that break the coverage are left as they are."""
    broken = _broken(geoms)
    if not broken.any():
        return shapely.coverage_simplify(geoms, tolerance, simplify_boundary=True)
    # Not a valid coverage: the polygons that overlap a neighbour or do not match its vertices stay
    # unsimplified, and the rest is simplified only along edges shared between two of the rest.
    # Their outline (which holds every edge shared with an unsimplified polygon, and the coastline)
    # keeps its vertices, so no gap opens; the payload is larger than for a valid coverage.
    out = geoms.copy()
    if (~broken).any():
        out[~broken] = shapely.coverage_simplify(geoms[~broken], tolerance, simplify_boundary=False)
    return out


def _drop_islets(geoms: np.ndarray, min_area: float) -> np.ndarray:
    """Polygons without their small islands: parts under `min_area` m² that touch no other polygon."""
    # Generalisation for the zoom: an island smaller than the triangles simplification removes
    # (tolerance²) cannot be seen. Only parts that meet no other polygon go, so no neighbour loses an
    # edge, and a polygon's largest part always stays, so no area disappears from the map.
    parts, owner = shapely.get_parts(geoms, return_index=True)
    area = shapely.area(parts)
    small = area < min_area
    if not small.any():
        return geoms
    largest = np.zeros(len(parts), dtype=bool)
    order = np.lexsort((-area, owner))
    firsts = np.r_[True, owner[order][1:] != owner[order][:-1]]
    largest[order[firsts]] = True
    candidates = np.flatnonzero(small & ~largest)
    hit_part, hit_geom = shapely.STRtree(geoms).query(parts[candidates], predicate="intersects")
    touches_other = np.zeros(len(parts), dtype=bool)
    foreign = owner[candidates[hit_part]] != hit_geom
    touches_other[candidates[hit_part[foreign]]] = True
    drop = np.zeros(len(parts), dtype=bool)
    drop[candidates] = ~touches_other[candidates]
    if not drop.any():
        return geoms
    out = geoms.copy()
    for i in np.unique(owner[drop]):
        kept = parts[(owner == i) & ~drop]
        out[i] = shapely.multipolygons(kept) if geoms[i].geom_type == "MultiPolygon" else kept[0]
    return out


def _round_coverage(geoms: np.ndarray, decimals: int) -> np.ndarray:
    """Coordinates rounded vertex by vertex, with extra decimals where rounding would break a polygon."""
    # Every occurrence of a vertex gets the same number of decimals, so shared edges stay identical.
    # Rounding can collapse a small polygon, fold an edge across a neighbour's, or pinch the mouth of
    # an inlet shut (two coasts that did not meet now touch, enclosing sea as a false gap). The
    # vertices of every polygon that rounding broke get one more decimal, in all polygons that share
    # them, until none is broken, with full precision as the last step. Polygons that were broken
    # before rounding are not chased.
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    _, vertex = np.unique(coords, axis=0, return_inverse=True)
    vertex = vertex.ravel()
    places = np.full(vertex.max() + 1 if len(vertex) else 0, decimals)
    before = _broken(geoms)
    exact = not before.any()
    union_before = _union(geoms, exact)
    while True:
        out = shapely.transform(geoms, lambda _c: _round_rows(coords, places[vertex]))
        broken = _broken(out) & ~before
        if not broken.any():
            broken = _pinched(out, union_before, exact)
        grow = np.unique(vertex[broken[owner]])
        grow = grow[places[grow] < _UNROUNDED]
        if not len(grow):
            break
        places[grow] += 1
    still = ~shapely.is_valid(out)
    out[still] = _polygonal(out[still])
    return shapely.remove_repeated_points(out)


def _pinched(geoms: np.ndarray, union_before: shapely.Geometry, exact: bool) -> np.ndarray:
    """True for polygons on the edge of a hole in their union that `union_before` does not have."""
    holes = _new_holes(_union(geoms, exact), union_before)
    flags = np.zeros(len(geoms), dtype=bool)
    if len(holes):
        flags[shapely.STRtree(geoms).query(holes, predicate="intersects")[1]] = True
    return flags


def _union(geoms: np.ndarray, coverage: bool) -> shapely.Geometry:
    """The union of polygons; the fast coverage union when they are known to form a coverage."""
    if not coverage:
        return shapely.union_all(geoms)
    # The coverage union leaves a pinched inlet as a self-touching ring; make_valid turns that into
    # the hole it encloses.
    return shapely.make_valid(shapely.coverage_union_all(geoms))


def _round_rows(coords: np.ndarray, places: np.ndarray) -> np.ndarray:
    """Each row of coordinates rounded to its own number of decimal places."""
    out = coords.copy()
    for p in np.unique(places):
        if p < _UNROUNDED:
            rows = places == p
            out[rows] = np.round(coords[rows], int(p))
    return out


def _never_empty(result: np.ndarray, source: np.ndarray) -> np.ndarray:
    """The result, with any polygon that came out empty replaced by its unsimplified geometry."""
    # An area must stay on the map and clickable at every zoom, however small. Coverage
    # simplification keeps at least a triangle per ring and rounding backs off to more decimals
    # rather than collapse a polygon, so this only guards against the unforeseen.
    out = result.copy()
    empty = shapely.is_missing(out) | shapely.is_empty(out) | (shapely.area(out) == 0)
    out[empty] = source[empty]
    return out
