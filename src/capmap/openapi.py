"""OpenAPI 3.0 documents, as dicts: one for the OGC API - Features under /ogc, one for the JSON API
under /api. Both are written by hand from the routes, so they say exactly what capmap answers."""

from __future__ import annotations

from capmap.ogc import DEFAULT_LIMIT, MAX_LIMIT

VERSION = "0.1.0"
_ERROR = {"type": "object", "required": ["error", "message"],
          "properties": {"error": {"type": "string", "description": "the kind of error"},
                         "message": {"type": "string", "description": "what was wrong"}}}
_OBJECT = {"type": "object"}


def _param(name: str, where: str, description: str, schema: dict, required: bool = False,
           **extra) -> dict:
    return {"name": name, "in": where, "description": description, "required": required,
            "schema": schema, **extra}


def _error(description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}}


def _ok(description: str, *types: str, schema: dict | None = None) -> dict:
    return {"description": description,
            "content": {t: {"schema": schema or _OBJECT} for t in types or ("application/json",)}}


def _get(summary: str, op_id: str, params: list, ok: dict, *codes: int) -> dict:
    responses = {"200": ok, **{str(c): {"$ref": f"#/components/responses/{c}"} for c in codes}}
    return {"summary": summary, "operationId": op_id, "parameters": params, "responses": responses}


def _refs(*names: str) -> list[dict]:
    return [{"$ref": f"#/components/parameters/{n}"} for n in names]


def _ogc_parameters(collection_ids: list[str]) -> dict:
    crs = {"type": "string", "format": "uri",
           "enum": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                    "http://www.opengis.net/def/crs/EPSG/0/4326"]}
    return {
        "f": _param("f", "query", "the format of the answer (wins over the Accept header)",
                    {"type": "string", "enum": ["json", "html"]}),
        "collectionId": _param("collectionId", "path", "a collection id",
                               {"type": "string", "enum": collection_ids}, True),
        "featureId": _param("featureId", "path", "a feature id: an area code, or a record id",
                            {"type": "string"}, True),
        "limit": _param("limit", "query", "the page size", {
            "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
            style="form", explode=False),
        "offset": _param("offset", "query", "features to skip",
                         {"type": "integer", "minimum": 0, "default": 0}),
        "bbox": _param("bbox", "query", "minx,miny,maxx,maxy in lon/lat (CRS84); items whose "
                       "geometry intersects it", {"type": "array", "minItems": 4, "maxItems": 6,
                                                  "items": {"type": "number"}},
                       style="form", explode=False),
        "bbox-crs": _param("bbox-crs", "query", "the CRS of bbox (CRS84 by default)", crs),
        "crs": _param("crs", "query", "the CRS of the answer (CRS84 by default)", crs),
        "datetime": _param("datetime", "query", "an RFC 3339 instant or interval a/b, ../b, a/..; "
                           "plans by their period, pins by when they were made",
                           {"type": "string"}, style="form", explode=False),
    }


def ogc_document(root: str, collection_ids: list[str]) -> dict:
    """The OpenAPI 3.0 definition of the OGC API - Features served at `root`."""
    doc_types = ("application/json", "text/html")
    geo_types = ("application/geo+json", "text/html")
    paths = {
        "/": {"get": _get("landing page", "getLandingPage", _refs("f"),
                          _ok("the landing page", *doc_types), 400)},
        "/conformance": {"get": _get("conformance classes", "getConformance", _refs("f"),
                                     _ok("the conformance classes", *doc_types), 400)},
        "/api": {"get": _get("this API definition", "getApi", _refs("f"), _ok(
            "the definition", "application/vnd.oai.openapi+json;version=3.0", "text/html"), 400)},
        "/collections": {"get": _get("the collections", "getCollections", _refs("f"),
                                     _ok("every collection", *doc_types), 400)},
        "/collections/{collectionId}": {"get": _get(
            "one collection", "describeCollection", _refs("collectionId", "f"),
            _ok("the collection", *doc_types), 400, 404)},
        "/collections/{collectionId}/items": {"get": _get(
            "a page of a collection's items", "getFeatures",
            _refs("collectionId", "bbox", "bbox-crs", "crs", "datetime", "limit", "offset", "f"),
            _ok("a GeoJSON FeatureCollection with numberMatched, numberReturned and next/prev "
                "links", *geo_types), 400, 404)},
        "/collections/{collectionId}/items/{featureId}": {"get": _get(
            "one feature", "getFeature", _refs("collectionId", "featureId", "crs", "f"),
            _ok("a GeoJSON Feature", *geo_types), 400, 404)},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "capmap OGC API - Features", "version": VERSION,
                 "description": "Boundary layers, plans, actions and published pins, in CRS84.",
                 "license": {"name": "AGPL-3.0-or-later"}},
        "servers": [{"url": root}],
        "paths": paths,
        "components": {"parameters": _ogc_parameters(collection_ids),
                       "schemas": {"error": _ERROR}, "responses": _responses()},
    }


def _responses() -> dict:
    return {"400": _error("bad input: the message says what was given and what was expected"),
            "404": _error("no such collection, feature or layer"),
            "422": _error("the input was read but breaks a rule (unknown layer or code, a "
                          "point in no area, an invalid or too large polygon)")}


def _number(name: str, text: str) -> dict:
    return _param(name, "query", text, {"type": "number"})


def _text(name: str, text: str, **schema) -> dict:
    return _param(name, "query", text, {"type": "string", **schema})


def api_document(root: str) -> dict:
    """The OpenAPI 3.0 definition of the JSON API under `root`/api."""
    lonlat = [_number("lon", "longitude (EPSG:4326)"), _number("lat", "latitude (EPSG:4326)")]
    geojson = {"type": "object", "description": "a GeoJSON Polygon or MultiPolygon, geometry or "
               "Feature", "required": ["type"]}
    post = _get("the plans covering a posted polygon", "planscapePolygon",
                [_text("crs", "the CRS of the polygon", enum=["EPSG:4326", "EPSG:27700"])],
                _ok("the planscape of the polygon"), 400, 422)
    post["requestBody"] = {"required": True, "content": {"application/json": {"schema": geojson}}}
    engagement = [_text("layer", "a layer id (default: the neighbourhood layer)"),
                  _text("campaign", "only this campaign"), _text("channel", "only this channel"),
                  _text("theme", "only this theme"),
                  _text("from", "responses on or after this date", format="date"),
                  _text("to", "responses on or before this date", format="date")]
    paths = {
        "/api/lookup": {"get": _get("the areas of every layer and the plans at a point", "lookup",
                                    [{**p, "required": True} for p in lonlat],
                                    _ok("areas by layer and plans"), 400, 422)},
        "/api/planscape": {
            "get": _get("the plans covering areas (layer and codes) or the neighbourhood at a "
                        "point (lon and lat)", "planscape",
                        [_text("layer", "a layer id, with codes"),
                         _text("codes", "area codes, comma-separated"), *lonlat],
                        _ok("plans, areas, actions and pins of the query"), 400, 422),
            "post": post},
        "/api/layers/{layer_id}/areas": {"get": _get(
            "a layer simplified for a web-map zoom", "layerAreas",
            [_param("layer_id", "path", "a layer id", {"type": "string"}, True),
             _param("zoom", "query", "web-map zoom", {"type": "integer", "minimum": 0,
                                                      "maximum": 18, "default": 10}),
             _text("format", "geojson or compact", enum=["geojson", "compact"])],
            _ok("the layer's areas"), 400, 422)},
        "/api/coverage/plans": {"get": _get(
            "plan coverage per neighbourhood and plan type, with gap lists", "planCoverage", [],
            _ok("coverage and gaps"), 422)},
        "/api/coverage/engagement": {"get": _get(
            "engagement per area: responses, rates per 1,000, gaps and the SIMD summary",
            "engagementCoverage", engagement, _ok("engagement by area"), 400, 422)},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "capmap JSON API", "version": VERSION,
                 "description": "Lookups, the planscape and coverage. Bad input is answered with "
                                "400 or 422 and a JSON message.",
                 "license": {"name": "AGPL-3.0-or-later"}},
        "servers": [{"url": root}],
        "paths": paths,
        "components": {"schemas": {"error": _ERROR}, "responses": _responses()},
    }
