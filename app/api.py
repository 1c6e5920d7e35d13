"""The JSON API: lookups, the planscape and coverage. Every bad input is a 400 or 422 in JSON."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.costly import answer_planscape
from app.http_cache import cacheable_response
from app.store import get_engine, get_policy, get_shared_cache, get_store
from capmap.core import parse
from capmap.core.errors import InputError, UnsupportedMediaType
from capmap.present.mapdata import layer_payload_json
from capmap.services.coverage import EngagementFilters, engagement_coverage, plan_coverage
from capmap.services.outcomes import query_outcomes
from capmap.services.planscape import (
    Query,
    codes_query,
    lookup_json,
    point_query,
    posted_query,
)
from capmap.services.scope import ScopeRequest, parse_scope
from capmap.spatial.slivers import SliverTolerance

bp = Blueprint("api", __name__, url_prefix="/api")

AREAS_MAX_AGE_S = 300


def number_arg(name: str) -> float:
    """A required finite number from the query string (400 with an example otherwise)."""
    return parse.required_number(request.args.get(name), name)


def sliver_tolerance() -> SliverTolerance:
    """The configured tolerance for plans that only touch a query's edge."""
    config = current_app.config
    return SliverTolerance(float(config["SLIVER_MAX_SHARE"]), float(config["SLIVER_MAX_WIDTH_M"]))


def parse_filters() -> EngagementFilters:
    """Engagement filters from ?campaign=&channel=&theme=&from=&to= (dates as YYYY-MM-DD)."""
    return EngagementFilters(
        campaign=request.args.get("campaign") or None, channel=request.args.get("channel") or None,
        theme=request.args.get("theme") or None,
        date_from=parse.iso_date(request.args.get("from"), "from"),
        date_to=parse.iso_date(request.args.get("to"), "to"))


def scope_arg() -> ScopeRequest:
    """The engagement scope from ?council=CODE or ?scope=LAYER:CODE or ?scope=all (capmap.services.scope)."""
    return parse_scope(request.args.get("council"), request.args.get("scope"))


@bp.get("/lookup")
def api_lookup():
    """Areas of every layer and the plans at ?lon=&lat=."""
    # The text jsonify would send, joined from pieces the engine encoded once (the hot route).
    text = lookup_json(get_engine(), number_arg("lon"), number_arg("lat"), get_policy().region)
    return current_app.response_class(f"{text}\n", mimetype="application/json")


@bp.get("/planscape")
def api_planscape():
    """Plans covering ?layer=&codes=A,B or the neighbourhood at ?lon=&lat=."""
    engine = get_engine()
    return jsonify(_with_outcomes(engine, query_from_args(engine)))


def query_from_args(engine) -> Query:
    """The query in ?layer=&codes=A,B or ?lon=&lat=."""
    by_codes = "codes" in request.args or "layer" in request.args
    if by_codes and ("lon" in request.args or "lat" in request.args):
        raise InputError("give either layer and codes, or lon and lat, not both")
    if by_codes:
        layer = request.args.get("layer", "").strip()
        if not layer:
            raise InputError("layer is required with codes, e.g. ?layer=dz11&codes=S01006506")
        return codes_query(engine, layer, parse.codes(request.args.get("codes")),
                           max_km2=current_app.config["PLANSCAPE_MAX_KM2"])
    return point_query(engine, number_arg("lon"), number_arg("lat"), get_policy().region)


@bp.post("/planscape")
def api_planscape_polygon():
    """Plans covering the areas of a posted {"layer": ..., "codes": [...]} (a list too long for
    a URL), or a posted GeoJSON Polygon or MultiPolygon (geometry or Feature); lon/lat, or
    British National Grid with ?crs=EPSG:27700."""
    if not request.is_json:
        raise UnsupportedMediaType(
            f"send the query as JSON with Content-Type: application/json; got "
            f"{(request.content_type or 'no Content-Type')[:60]!r}")
    engine = get_engine()
    query = posted_query(engine, request.get_data(cache=False),
                         max_km2=current_app.config["PLANSCAPE_MAX_KM2"],
                         region=get_policy().region, crs=request.args.get("crs"))
    return jsonify(_with_outcomes(engine, query))


def _with_outcomes(engine, query) -> dict:
    """The planscape with its area's outcomes profile (capmap.services.outcomes)."""
    answer = answer_planscape(engine, get_store(), query, sliver_tolerance())
    return {**answer, "outcomes": query_outcomes(engine, get_store(), answer)}


@bp.get("/layers/<layer_id>/areas")
def api_layer_areas(layer_id: str):
    """A layer's areas simplified for ?zoom= (default 10), as GeoJSON or ?format=compact."""
    raw = request.args.get("zoom", "10")
    if not (raw.isascii() and raw.isdigit()):
        raise InputError(f"zoom must be a whole number from 0 to 18, got {raw[:20]!r}")
    text = layer_payload_json(get_engine(), layer_id, int(raw), request.args.get("format", "geojson"),
                              get_shared_cache())
    # The URL has no version: kept five minutes, then revalidated by its ETag (a 304 once
    # unchanged), so an import reaches every map within AREAS_MAX_AGE_S.
    return cacheable_response(f"{text}\n", "application/json", max_age=AREAS_MAX_AGE_S)


@bp.get("/coverage/plans")
def api_plan_coverage():
    """Plan coverage per neighbourhood and type, with the gap lists."""
    return jsonify(plan_coverage(get_engine(), get_policy().rules))


@bp.get("/coverage/engagement")
def api_engagement_coverage():
    """Engagement per area of ?layer= with optional campaign, channel, theme, from and to, over
    ?council= or ?scope= (default: the campaign's councils, or the whole layer)."""
    engine = get_engine()
    layer = request.args.get("layer", "")
    if not layer:
        hoods = engine.neighbourhoods()
        if hoods is None:
            raise InputError("layer is required, e.g. ?layer=dz11")
        layer = hoods.layer.id
    return jsonify(engagement_coverage(get_store(), engine, layer, parse_filters(),
                                       scope=scope_arg(), exact=False,
                                       **get_policy().suppression()))
