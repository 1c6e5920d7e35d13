"""Vector tiles of the boundary layers and the plans, at URLs that carry the data version.

A tile URL names the boundaries (or plans) version it was cut from, so its answer never changes
and is cached for a year as immutable. A page built before an import asks for an old version:
it is redirected (302, not cached) to the same tile of the current one. The TileJSON documents
(for QGIS, MapLibre and the like) name the current URL template and are revalidated on each use.
Boundaries and plans are public, as /api/layers/<id>/areas is: no route here needs a login.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for

from app.http_cache import cacheable_response
from app.store import get_engine, get_shared_cache
from capmap.core.serialise import json_text
from capmap.present.tiles import (
    boundary_tile,
    check_tile,
    layer_tile_version,
    layer_tilejson,
    plan_tile,
    plans_tilejson,
    plans_version,
)

bp = Blueprint("tiles", __name__, url_prefix="/tiles")

MVT = "application/vnd.mapbox-vector-tile"
_ORIGIN_TILE = "/0/0/0.mvt"
_TEMPLATE = "/{z}/{x}/{y}.mvt"


def _template(endpoint: str, external: bool = False, **values) -> str:
    """The URL template of an endpoint's tiles, with literal {z}/{x}/{y} (url_for would escape
    the braces, so the origin tile's URL is built and its tail swapped)."""
    url = url_for(endpoint, z=0, x=0, y=0, _external=external, **values)
    return url.removesuffix(_ORIGIN_TILE) + _TEMPLATE


def layer_tiles_url(layer_id: str, external: bool = False) -> str:
    """The tiles of a boundary layer at its current version, e.g. /tiles/layers/dz11/v7/{z}/{x}/{y}.mvt."""
    version = layer_tile_version(get_engine(), layer_id)
    return _template("tiles.layer_tile", external, layer_id=layer_id, version=version)


def plan_tiles_url(external: bool = False) -> str:
    """The plan tiles at the current plans version, e.g. /tiles/plans/v3/{z}/{x}/{y}.mvt."""
    return _template("tiles.plan_tile", external, version=plans_version(get_engine()))


def _moved(url: str):
    answer = redirect(url, code=302)
    answer.headers["Cache-Control"] = "no-cache"
    return answer


@bp.get("/layers/<layer_id>/v<int:version>/<int:z>/<int:x>/<int:y>.mvt")
def layer_tile(layer_id: str, version: int, z: int, x: int, y: int):
    """One tile of a boundary layer (MVT layer "areas")."""
    check_tile(z, x, y)
    engine = get_engine()
    current = layer_tile_version(engine, layer_id)
    if version != current:
        return _moved(url_for(".layer_tile", layer_id=layer_id, version=current, z=z, x=x, y=y))
    tile = boundary_tile(engine, layer_id, z, x, y, get_shared_cache())
    return cacheable_response(tile, MVT, immutable=True)


@bp.get("/plans/v<int:version>/<int:z>/<int:x>/<int:y>.mvt", endpoint="plan_tile")
def plan_tile_view(version: int, z: int, x: int, y: int):
    """One tile of the plans (MVT layer "plans")."""
    check_tile(z, x, y)
    engine = get_engine()
    current = plans_version(engine)
    if version != current:
        return _moved(url_for(".plan_tile", version=current, z=z, x=x, y=y))
    return cacheable_response(plan_tile(engine, z, x, y, get_shared_cache()), MVT, immutable=True)


@bp.get("/layers/<layer_id>.json", endpoint="layer_tilejson")
def layer_tilejson_view(layer_id: str):
    """TileJSON 3.0.0 of a boundary layer's tiles."""
    document = layer_tilejson(get_engine(), layer_id, layer_tiles_url(layer_id, external=True))
    return cacheable_response(json_text(document), "application/json")


@bp.get("/plans.json", endpoint="plans_tilejson")
def plans_tilejson_view():
    """TileJSON 3.0.0 of the plan tiles."""
    document = plans_tilejson(get_engine(), plan_tiles_url(external=True))
    return cacheable_response(json_text(document), "application/json")


def init_app(app: Flask) -> None:
    """Register the routes, and the URL helpers for templates."""
    app.register_blueprint(bp)
    app.add_template_global(layer_tiles_url)
    app.add_template_global(plan_tiles_url)
