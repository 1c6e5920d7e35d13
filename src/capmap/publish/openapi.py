"""OpenAPI 3.0 documents, as dicts: one for the OGC API - Features under /ogc, one for the JSON API
under /api. Both are written by hand from the routes and say exactly what capmap accepts and
answers: the bounds, enums and patterns of every parameter are the ones the routes enforce, and
tests/test_openapi_fuzz.py holds the app to both documents."""

from __future__ import annotations

from capmap import __version__
from capmap.core.codes import CODE_RULE
from capmap.core.crs import SCOTLAND, Region
from capmap.core.parse import DATE_PATTERN, TIME_PATTERN
from capmap.present.mapdata import FORMATS, MAX_ZOOM, MIN_ZOOM
from capmap.publish.ogc import CRS84, DEFAULT_LIMIT, EPSG4326, MAX_LIMIT, MAX_OFFSET
from capmap.publish.openapi_schemas import api_schemas, ogc_schemas
from capmap.services.planscape import MAX_CODES

_LICENCE = {"name": "AGPL-3.0-or-later"}


def _param(name: str, where: str, description: str, schema: dict, required: bool = False,
           **extra) -> dict:
    return {"name": name, "in": where, "description": description, "required": required,
            "schema": schema, **extra}


def _schema(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _ok(description: str, schema: str, *types: str) -> dict:
    """A 200 answer: `schema` for every JSON type; an HTML page is a string."""
    content = {t: {"schema": {"type": "string"} if t == "text/html" else _schema(schema)}
               for t in types or ("application/json",)}
    return {"description": description, "content": content}


def _get(summary: str, op_id: str, params: list, ok: dict, *codes: int) -> dict:
    responses = {"200": ok, **{str(c): {"$ref": f"#/components/responses/{c}"} for c in codes}}
    return {"summary": summary, "operationId": op_id, "parameters": params, "responses": responses}


def _refs(*names: str) -> list[dict]:
    return [{"$ref": f"#/components/parameters/{n}"} for n in names]


def _responses() -> dict:
    def error(description: str) -> dict:
        return {"description": description,
                "content": {"application/json": {"schema": _schema("error")}}}

    return {"400": error("bad input: the message says what was given and what was expected"),
            "404": error("no such collection, feature or layer"),
            "413": error("the body is larger than the query budget"),
            "415": error("the body is not sent as JSON (Content-Type: application/json)"),
            "422": error("the input was read but breaks a rule (a code not in the layer, a point "
                         "in no area, an invalid or too large polygon, one over the vertex, ring "
                         "or part budget)"),
            "429": {**error("too many expensive queries from this address; wait the seconds in "
                            "Retry-After"),
                    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}}}


# -- OGC API - Features ------------------------------------------------------------------------

def _ogc_parameters(collection_ids: list[str]) -> dict:
    crs = {"type": "string", "format": "uri", "enum": [CRS84, EPSG4326]}
    instant = f"({DATE_PATTERN}|{TIME_PATTERN})"
    end = f"({DATE_PATTERN}|{TIME_PATTERN}|\\.\\.)?"
    return {
        "f": _param("f", "query", "the format of the answer (wins over the Accept header)",
                    {"type": "string", "enum": ["json", "html"]}),
        "collectionId": _param("collectionId", "path", "a collection id",
                               {"type": "string", "enum": collection_ids}, True),
        "featureId": _param("featureId", "path", "a feature id: an area code, or a record id",
                            {"type": "string"}, True),
        "limit": _param("limit", "query", f"the page size; a larger value is served as {MAX_LIMIT}",
                        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                         "default": DEFAULT_LIMIT}, style="form", explode=False),
        "offset": _param("offset", "query", "features to skip",
                         {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}),
        "bbox": _param("bbox", "query", "minx,miny,maxx,maxy (or minx,miny,minz,maxx,maxy,maxz) "
                       "in lon/lat (CRS84), or in lat/lon when bbox-crs is EPSG:4326; longitudes "
                       "-180 to 180, latitudes -90 to 90, miny not above maxy; a box with minx "
                       "above maxx spans the antimeridian. Items whose geometry intersects it.",
                       {"type": "array", "items": {"type": "number"},
                        "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}]},
                       style="form", explode=False),
        "bbox-crs": _param("bbox-crs", "query", "the CRS of bbox (CRS84 by default)", crs),
        "crs": _param("crs", "query", "the CRS of the answer (CRS84 by default)", crs),
        "datetime": _param("datetime", "query", "an RFC 3339 date or date-time, or an interval a/b, "
                           "../b or a/.. whose start is not after its end; plans by their period, "
                           "pins by when they were made",
                           {"type": "string", "pattern": f"^({instant}|{end}/{end})$"},
                           style="form", explode=False),
    }


def ogc_document(root: str, collection_ids: list[str]) -> dict:
    """The OpenAPI 3.0 definition of the OGC API - Features served at `root`."""
    doc_types = ("application/json", "text/html")
    geo_types = ("application/geo+json", "text/html")
    paths = {
        "/": {"get": _get("landing page", "getLandingPage", _refs("f"),
                          _ok("the landing page", "landingPage", *doc_types), 400)},
        "/conformance": {"get": _get("conformance classes", "getConformance", _refs("f"),
                                     _ok("the conformance classes", "confClasses", *doc_types), 400)},
        "/api": {"get": _get("this API definition", "getApi", _refs("f"), _ok(
            "the definition", "openapi", "application/vnd.oai.openapi+json;version=3.0", "text/html"),
            400)},
        "/collections": {"get": _get("the collections", "getCollections", _refs("f"),
                                     _ok("every collection", "collections", *doc_types), 400)},
        "/collections/{collectionId}": {"get": _get(
            "one collection", "describeCollection", _refs("collectionId", "f"),
            _ok("the collection", "collection", *doc_types), 400, 404)},
        "/collections/{collectionId}/items": {"get": _get(
            "a page of a collection's items", "getFeatures",
            _refs("collectionId", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "f"),
            _ok("a GeoJSON FeatureCollection with numberMatched, numberReturned and next/prev "
                "links", "featureCollection", *geo_types), 400, 404)},
        "/collections/{collectionId}/items/{featureId}": {"get": _get(
            "one feature", "getFeature", _refs("collectionId", "featureId", "crs", "f"),
            _ok("a GeoJSON Feature", "feature", *geo_types), 400, 404)},
    }
    responses = {c: r for c, r in _responses().items() if c in ("400", "404")}
    return {
        "openapi": "3.0.3",
        "info": {"title": "capmap OGC API - Features", "version": __version__, "license": _LICENCE,
                 "description": "Boundary layers, plans, actions and public pins, in CRS84. "
                                "Query parameters not named here are ignored."},
        "servers": [{"url": root}],
        "paths": paths,
        "components": {"parameters": _ogc_parameters(collection_ids), "schemas": ogc_schemas(),
                       "responses": responses},
    }


# -- JSON API ------------------------------------------------------------------------------------

def _lonlat(region: Region) -> dict[str, dict]:
    return {"lon": {"type": "number", "minimum": region.min_lon, "maximum": region.max_lon,
                    "description": f"longitude (EPSG:4326) in {region.name}"},
            "lat": {"type": "number", "minimum": region.min_lat, "maximum": region.max_lat,
                    "description": f"latitude (EPSG:4326) in {region.name}"}}


def _either_or(*pairs: tuple[str, str, dict, dict]) -> dict:
    """One of several pairs of query parameters, both of a pair and nothing else."""
    return {"oneOf": [{"type": "object", "required": [a, b], "additionalProperties": False,
                       "properties": {a: sa, b: sb}} for a, b, sa, sb in pairs]}


def _polygon_body() -> dict:
    position = {"type": "array", "minItems": 2, "maxItems": 3, "items": {"type": "number"}}
    polygon = {"type": "array", "minItems": 1,
               "items": {"type": "array", "minItems": 4, "items": position}}
    geometries = [{"type": "object", "required": ["type", "coordinates"],
                   "properties": {"type": {"type": "string", "enum": ["Polygon"]}, "coordinates": polygon}},
                  {"type": "object", "required": ["type", "coordinates"],
                   "properties": {"type": {"type": "string", "enum": ["MultiPolygon"]},
                                  "coordinates": {"type": "array", "minItems": 1, "items": polygon}}}]
    feature = {"type": "object", "required": ["type", "geometry"],
               "properties": {"type": {"type": "string", "enum": ["Feature"]},
                              "geometry": {"oneOf": geometries},
                              "properties": {"type": "object", "nullable": True}}}
    return {"description": "a GeoJSON Polygon or MultiPolygon, as a geometry or a Feature; rings "
                           "closed and valid, inside the region, no larger than the configured limit",
            "oneOf": [*geometries, feature]}


# What capmap.core.codes allows in a code, as a regular-expression character class.
_CODE_CHARS = "-A-Za-z0-9_./"  # "-" first, so that appending ", " stays a set


def _codes_body(layer: dict) -> dict:
    return {"description": f"the union of at most {MAX_CODES:,} areas of one layer, no larger "
                           "than the configured limit (as a polygon)",
            "type": "object", "required": ["layer", "codes"], "additionalProperties": False,
            "properties": {"layer": layer, "codes": {"type": "array", "minItems": 1,
                                                     "maxItems": MAX_CODES,
                                                     "items": {"type": "string", "pattern":
                                                               f"^ *[{_CODE_CHARS}]* *$"}}}}


# capmap.core.parse.iso_date: YYYY-MM-DD only (not 20250101 nor 2025-W01-1), or empty.
_DAY = {"oneOf": [{"type": "string", "format": "date", "pattern": f"^{DATE_PATTERN}$",
                   "description": "a date as YYYY-MM-DD"}, {"type": "string", "maxLength": 0}]}


def _codes_param() -> dict:
    return {"type": "string", "pattern": f"^[{_CODE_CHARS}, ]*[{_CODE_CHARS}][{_CODE_CHARS}, ]*$",
            "description": f"area codes of the layer, comma-separated ({CODE_RULE})"}


def _area_param(layer: dict, lonlat: dict[str, dict]) -> dict:
    """GET /api/planscape's area: layer and codes, or lon and lat."""
    return _param("area", "query", "either layer and codes (the union of those areas) or lon and "
                  "lat (the neighbourhood containing the point)",
                  _either_or(("layer", "codes", layer, _codes_param()),
                             ("lon", "lat", lonlat["lon"], lonlat["lat"])),
                  True, style="form", explode=True)


def _planscape_post(layer: dict) -> dict:
    """POST /api/planscape: a list of codes or a polygon in the body."""
    post = _get("the plans covering posted areas of a layer (a list of codes too long for a "
                "URL) or a posted polygon", "planscapePolygon",
                [_param("crs", "query", "the CRS of a polygon (EPSG:4326 by default)",
                        {"type": "string", "enum": ["EPSG:4326", "EPSG:27700"]})],
                _ok("the planscape of the areas or the polygon", "planscape"), 400, 413, 415, 422,
                429)
    polygon = _polygon_body()
    post["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
        "description": f"either {_codes_body(layer)['description']}, or {polygon['description']}",
        "oneOf": [_codes_body(layer), *polygon["oneOf"]]}}}}
    return post


def _engagement_params(layer_ids: list[str]) -> list[dict]:
    """The filters of /api/coverage/engagement (capmap.services.engagement)."""
    day, text = _DAY, {"type": "string"}
    return [_param("layer", "query", "a layer id (empty or absent: the neighbourhood layer)",
                   {"type": "string", "enum": [*layer_ids, ""]}),
            _param("campaign", "query", "only this campaign", text),
            _param("channel", "query", "only this channel", text),
            _param("theme", "query", "only this theme", text),
            _param("from", "query", "responses on or after this date (empty: no limit)", day),
            _param("to", "query", "responses on or before this date, not before from (empty: no "
                   "limit)", day)]


def _api_paths(layer_ids: list[str], region: Region) -> dict:
    lonlat = _lonlat(region)
    layer = {"type": "string", "enum": layer_ids}
    return {
        "/api/lookup": {"get": _get(
            "the areas of every layer and the plans at a point (each plan without its list of area "
            "codes)", "lookup",
            [_param(n, "query", s["description"], s, True) for n, s in lonlat.items()],
            _ok("areas by layer and plans", "lookup"), 400, 422)},
        "/api/planscape": {
            "get": _get("the plans covering areas (layer and codes) or the neighbourhood at a "
                        "point (lon and lat)", "planscape", [_area_param(layer, lonlat)],
                        _ok("plans, areas, actions and pins of the query", "planscape"), 400, 422,
                        429),
            "post": _planscape_post(layer)},
        "/api/layers/{layer_id}/areas": {"get": _get(
            "a layer simplified for a web-map zoom", "layerAreas",
            [_param("layer_id", "path", "a layer id", layer, True),
             _param("zoom", "query", "web-map zoom", {"type": "integer", "minimum": MIN_ZOOM,
                                                      "maximum": MAX_ZOOM, "default": 10}),
             _param("format", "query", "the payload's form", {"type": "string", "enum": list(FORMATS)})],
            _ok("the layer's areas", "layerAreas"), 400, 422)},
        "/api/coverage/plans": {"get": _get(
            "plan coverage per neighbourhood and plan type, with gap lists", "planCoverage", [],
            _ok("coverage and gaps", "planCoverage"), 422)},
        "/api/coverage/engagement": {"get": _get(
            "engagement per area: responses, rates per 1,000, gaps and the SIMD summary",
            "engagementCoverage", _engagement_params(layer_ids),
            _ok("engagement by area", "engagement"), 400, 422)},
    }


def api_document(root: str, layer_ids: list[str], region: Region = SCOTLAND) -> dict:
    """The OpenAPI 3.0 definition of the JSON API under `root`/api, for the current layers."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "capmap JSON API", "version": __version__, "license": _LICENCE,
                 "description": "Lookups, the planscape and coverage. Bad input is answered with "
                                "400 or 422 and a JSON message."},
        "servers": [{"url": root}],
        "paths": _api_paths(layer_ids, region),
        "components": {"schemas": api_schemas(), "responses": _responses()},
    }
