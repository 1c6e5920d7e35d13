"""Planscape queries: a point (its neighbourhood), a list of area codes of one layer, or a
drawn or uploaded polygon, each checked and bounded before any work; a posted body is either a
list of codes or a GeoJSON polygon. The query geometry is kept in EPSG:4326."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import shapely

from capmap.core.budgets import check_geometry, check_json_text
from capmap.core.codes import code_reasons
from capmap.core.crs import SCOTLAND, Region, check_lonlat, geoms_bng_to_lonlat, geoms_lonlat_to_bng
from capmap.core.errors import InputError, NotFound, ValidationError
from capmap.io.validate import listed
from capmap.services.engine import Engine, LayerState

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


def refuse_odd_codes(codes: list[str]) -> None:
    """A 400 for a code holding a character no code may hold (an invisible one, a look-alike
    letter), naming it: such a code would otherwise read as "not in the layer"."""
    problem = next((p for p in code_reasons(codes) if p), None)
    if problem:
        raise InputError(problem)


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
    # Spaces around codes are dropped; any other character a code may not hold is refused.
    codes = list(dict.fromkeys(c.strip(" ") for c in codes if c.strip(" ")))
    refuse_odd_codes(codes)
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
        other = sorted(map(str, set(body) - {"layer", "codes"}))
        if other:
            raise InputError(f'a codes query has only "layer" and "codes"; got also {listed(other)}')
        layer, codes = body.get("layer"), body.get("codes")
        if not isinstance(layer, str) or not layer:
            raise InputError('layer is required with codes, e.g. {"layer": "dz11", "codes": '
                             '["S01006506"]}')
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise InputError(f"codes must be a list of area codes as strings, got "
                             f"{type(codes).__name__}" + ("" if not isinstance(codes, list)
                                                          else " with other values"))
        return codes_query(engine, layer, codes, max_km2=max_km2)
    return polygon_query(body, max_km2=max_km2, region=region, crs=crs)


def _parsed(body, what: str = "the body"):
    """A JSON body as Python values (a dict or list stays as it is); text is measured against
    the JSON budgets before it is parsed."""
    if isinstance(body, str | bytes):
        check_json_text(body, what)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise InputError(f"{what} is not JSON ({exc.args[0][:80]})") from None
    return body


def polygon_query(body, *, max_km2: float = DEFAULT_MAX_KM2, region: Region = SCOTLAND,
                  crs: str | None = None, what: str = "the polygon") -> Query:
    """A drawn or uploaded polygon: a GeoJSON geometry or Feature, as text or a parsed dict, in
    lon/lat, or in British National Grid metres when `crs` is EPSG:27700. Its vertices, rings
    and parts are counted against capmap.core.budgets before anything else is done with it."""
    if crs not in (None, "", "EPSG:4326", "EPSG:27700"):
        raise InputError(f"crs {crs!r} is not offered; expected EPSG:4326 or EPSG:27700")
    geometry = _geometry(body, "the body" if what == "the polygon" else what)
    if shapely.get_type_id(geometry) not in (3, 6):
        raise ValidationError(f"expected a Polygon or MultiPolygon, got {geometry.geom_type}")
    check_geometry(geometry, what)
    if crs == "EPSG:27700" and np.isfinite(shapely.get_coordinates(geometry)).all():
        geometry = geoms_bng_to_lonlat(np.array([geometry]))[0]
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


def _geometry(body, what: str) -> shapely.Geometry:
    body = _parsed(body, what)
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
