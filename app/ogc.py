"""OGC API - Features under /ogc (JSON, GeoJSON and HTML), and the JSON API's OpenAPI definition
at /api/openapi.json.

Each resource answers in the format of ?f=json or ?f=html when given (it wins), else by the Accept
header, JSON unless HTML is preferred. Errors use the app's JSON shape {"error", "message"}: 400
for bad parameters, 404 for an unknown collection or feature.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request, url_for

from app.store import get_engine, get_policy, get_store
from capmap.core.errors import InputError
from capmap.publish import ogc
from capmap.publish.openapi import api_document, ogc_document

bp = Blueprint("ogc", __name__, url_prefix="/ogc")
api_docs_bp = Blueprint("api_docs", __name__)

_JSON_TYPES = ("application/json", "application/geo+json", ogc.OPENAPI_TYPE)


def _statuses() -> tuple[str, ...]:
    return get_policy().public_statuses


def _format() -> str:
    """json or html: ?f= first, then the Accept header."""
    asked = request.args.get("f")
    if asked is not None:
        wanted = asked.strip().lower()
        if wanted in ("json", "geojson"):
            return "json"
        if wanted == "html":
            return "html"
        raise InputError(f"f must be json or html, got {asked[:20]!r}")
    best = request.accept_mimetypes.best_match([*_JSON_TYPES, "text/html"], default="application/json")
    return "html" if best == "text/html" else "json"


def _root() -> str:
    return url_for("ogc.landing", _external=True).rstrip("/")


def _params() -> dict[str, str]:
    return {key: request.args[key] for key in request.args}


def _answer(body: dict, fmt: str, template: str, content_type: str = "application/json", **page):
    if fmt == "html":
        return render_template(template, body=body, **page)
    return Response(json.dumps(body, separators=(",", ":")), content_type=content_type)


@bp.get("")
@bp.get("/")
def landing():
    """The landing page."""
    fmt = _format()
    return _answer(ogc.landing(_root(), fmt), fmt, "ogc_landing.html")


@bp.get("/conformance")
def conformance():
    """The conformance classes."""
    fmt = _format()
    return _answer(ogc.conformance(_root(), fmt), fmt, "ogc_conformance.html")


@bp.get("/api")
def api_definition():
    """The OpenAPI 3.0 definition of this API (service-desc), or its HTML page (service-doc)."""
    fmt = _format()
    body = ogc_document(_root(), ogc.collection_ids(get_engine()))
    return _answer(body, fmt, "ogc_api.html", ogc.OPENAPI_TYPE, root=_root())


@bp.get("/collections")
def collections():
    """Every collection."""
    fmt = _format()
    engine, store = get_engine(), get_store()
    colls = [ogc.get_collection(engine, store, cid, _statuses()) for cid in ogc.collection_ids(engine)]
    return _answer(ogc.collections(colls, _root(), fmt), fmt, "ogc_collections.html")


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    """One collection's metadata."""
    fmt = _format()
    coll = ogc.get_collection(get_engine(), get_store(), collection_id, _statuses())
    return _answer(ogc.collection(coll, _root(), fmt), fmt, "ogc_collection.html")


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    """A page of a collection's items: ?bbox=, ?datetime=, ?limit=, ?offset=."""
    fmt = _format()
    coll = ogc.get_collection(get_engine(), get_store(), collection_id, _statuses())
    query = ogc.parse_query(request.args)
    body = ogc.items(coll, query, _root(), _params(), fmt)
    columns = list(body["features"][0]["properties"]) if body["features"] else []
    return _answer(body, fmt, "ogc_items.html", "application/geo+json", coll=coll,
                   query=query, columns=columns)


@bp.get("/collections/<collection_id>/items/<feature_id>")
def item(collection_id: str, feature_id: str):
    """One feature."""
    fmt = _format()
    swap = ogc.swap_axes(request.args.get("crs"), "crs")
    coll = ogc.get_collection(get_engine(), get_store(), collection_id, _statuses())
    body = ogc.item(coll, feature_id, _root(), fmt, swap)
    return _answer(body, fmt, "ogc_item.html", "application/geo+json", coll=coll)


@api_docs_bp.get("/api/openapi.json")
def json_api_definition():
    """The OpenAPI 3.0 definition of the JSON API under /api."""
    body = api_document(url_for("public.home", _external=True).rstrip("/"), sorted(get_engine().layers()),
                        get_policy().region)
    return Response(json.dumps(body), content_type=ogc.OPENAPI_TYPE)
