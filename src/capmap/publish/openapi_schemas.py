"""JSON Schemas (OpenAPI 3.0 dialect) of what capmap answers: the bodies of the OGC API - Features
and of the JSON API. They name every member a client may rely on; members not named may be added
later, so objects stay open."""

from __future__ import annotations

_STRING = {"type": "string"}
_NUMBER = {"type": "number"}
_COUNT = {"type": "integer", "minimum": 0}
_SHARE = {"type": "number", "minimum": 0, "nullable": True}


def _obj(required: list[str], nullable: bool = False, **properties) -> dict:
    schema = {"type": "object", "required": required, "properties": properties}
    return {**schema, "nullable": True} if nullable else schema


def _list(items: dict, **extra) -> dict:
    return {"type": "array", "items": items, **extra}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


ERROR = _obj(["error", "message"], error={**_STRING, "description": "the kind of error"},
             message={**_STRING, "description": "what was wrong"})
LINK = _obj(["href", "rel"], href=_STRING, rel=_STRING, type=_STRING, title=_STRING)
GEOMETRY = _obj(["type"], nullable=True, type={"type": "string", "enum": [
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon",
    "GeometryCollection"]}, coordinates={"type": "array"}, geometries={"type": "array"})


def ogc_schemas() -> dict:
    """The schemas of the OGC API - Features answers, by name."""
    links = _list(_ref("link"))
    feature = _obj(["type", "geometry", "properties"], type={"type": "string", "enum": ["Feature"]},
                   id={"oneOf": [_STRING, {"type": "integer"}]}, geometry=_ref("geometry"),
                   properties={"type": "object", "nullable": True}, links=links)
    extent = _obj(["spatial"], spatial=_obj(["bbox"], bbox=_list(_list(_NUMBER, minItems=4, maxItems=6)),
                                            crs=_STRING),
                  temporal=_obj(["interval"], interval=_list(_list(
                      {"type": "string", "format": "date-time", "nullable": True},
                      minItems=2, maxItems=2)), trs=_STRING))
    collection = _obj(["id", "links"], id=_STRING, title=_STRING, description=_STRING,
                      itemType=_STRING, crs=_list(_STRING), extent=extent, links=links)
    return {
        "error": ERROR, "link": LINK, "geometry": GEOMETRY,
        "landingPage": _obj(["links"], title=_STRING, description=_STRING, links=links),
        "confClasses": _obj(["conformsTo"], conformsTo=_list(_STRING), links=links),
        "collection": collection,
        "collections": _obj(["links", "collections"], links=links, collections=_list(_ref("collection"))),
        "feature": feature,
        "featureCollection": _obj(
            ["type", "features", "numberMatched", "numberReturned", "timeStamp", "links"],
            type={"type": "string", "enum": ["FeatureCollection"]}, features=_list(_ref("feature")),
            numberMatched=_COUNT, numberReturned=_COUNT,
            timeStamp={"type": "string", "format": "date-time"}, links=links),
        "openapi": _obj(["openapi", "info", "paths"], openapi=_STRING, info={"type": "object"},
                        paths={"type": "object"}),
    }


def _planscape_schema() -> dict:
    """The answer of /api/planscape: the plans covering a query, and what else lies in it."""
    touched = _obj(["code", "name", "kind", "overlap_km2", "share_of_area"], code=_STRING, name=_STRING,
                   kind=_STRING, overlap_km2=_NUMBER, share_of_area=_SHARE)
    # A plan's overlap with a planscape query; edge_only: it only touches the query's edge.
    overlap = _obj(["overlap_km2", "share_of_query", "share_of_plan", "overlap_width_m", "edge_only"],
                   overlap_km2=_NUMBER, share_of_query=_SHARE, share_of_plan=_SHARE,
                   overlap_width_m={"type": "number", "minimum": 0}, edge_only={"type": "boolean"})
    return _obj(
        ["query", "plans", "edge_plans", "edge_tolerance", "areas", "actions", "pins",
         "pins_total"],
        query=_obj(["kind", "area_km2"], kind={"type": "string", "enum": ["point", "codes", "polygon"]},
                   area_km2=_NUMBER, layer=_STRING, codes=_list(_STRING)),
        plans=_list({"allOf": [_ref("plan"), overlap]}),
        edge_plans=_list({"allOf": [_ref("plan"), overlap]}),
        edge_tolerance=_obj(["max_share", "max_width_m"], max_share=_SHARE, max_width_m=_NUMBER),
        areas={"type": "object", "additionalProperties": _list(touched)},
        actions=_list(_obj(["id", "plan_id", "title", "located"], id={"type": "integer"},
                           plan_id={"type": "integer"}, title=_STRING, located={"type": "boolean"})),
        pins=_list(_obj(["id", "lon", "lat"], id={"type": "integer"}, lon=_NUMBER, lat=_NUMBER)),
        pins_total={"type": "integer", "minimum": 0})


def _layer_areas_schema() -> dict:
    """The answer of /api/layers/{layer_id}/areas, in either of its formats."""
    geojson_areas = _obj(["type", "features"], type={"type": "string", "enum": ["FeatureCollection"]},
                         features=_list(_obj(["type", "geometry", "properties"],
                                             type={"type": "string", "enum": ["Feature"]},
                                             geometry=_ref("geometry"),
                                             properties={"type": "object"})))
    compact_areas = _obj(["type", "properties", "features"],
                         type={"type": "string", "enum": ["CompactFeatureCollection"]},
                         properties=_list(_STRING),
                         features=_list(_obj(["geometry", "values"], geometry={"type": "object"},
                                             values={"type": "array"})))
    return {"oneOf": [geojson_areas, compact_areas]}


def _engagement_schema() -> dict:
    """The answer of /api/coverage/engagement."""
    # Counts under SUPPRESS_BELOW (0 included) are published as "<N", others rounded.
    count = {"oneOf": [_COUNT, {"type": "string", "pattern": "^<[0-9]+$"}]}
    engaged = _obj(["code", "name", "population", "responses", "gap"], code=_STRING, name=_STRING,
                   responses=count, gap={"type": "boolean"},
                   population={"type": "integer", "minimum": 0, "nullable": True},
                   rate_per_1000=_SHARE)
    return _obj(
        ["layer", "filters", "responses", "outside", "areas", "equity", "gaps", "outreach"],
        layer=_STRING, filters={"type": "object"}, responses=count, outside=count,
        areas=_list(engaged), gaps=_list(engaged), outreach=_list(engaged),
        equity=_list({"type": "object"}))


def api_schemas() -> dict:
    """The schemas of the JSON API answers, by name."""
    plan = _obj(["id", "ref", "type", "title"], id={"type": "integer"}, ref=_STRING, type=_STRING,
                title=_STRING, themes=_list(_STRING), area_codes=_list(_STRING))
    area = _obj(["code", "name", "kind"], code=_STRING, name=_STRING, kind=_STRING)
    return {
        "error": ERROR, "geometry": GEOMETRY, "plan": plan,
        "lookup": _obj(["lon", "lat", "areas", "plans"], lon=_NUMBER, lat=_NUMBER,
                       areas={"type": "object", "additionalProperties": area},
                       plans=_list(_ref("plan"))),
        "planscape": _planscape_schema(),
        "layerAreas": _layer_areas_schema(),
        "planCoverage": _obj(
            ["layer", "types", "areas", "deprived_without_locality_plan", "without_any_plan",
             "past_review"], layer=_STRING, types=_list(_STRING), rules={"type": "object"},
            areas=_list(_obj(["code", "name"], code=_STRING, name=_STRING)),
            deprived_without_locality_plan=_list({"type": "object"}),
            without_any_plan=_list({"type": "object"}), past_review=_list({"type": "object"})),
        "engagement": _engagement_schema(),
    }
