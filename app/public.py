"""Public pages."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from app.assets import map_assets
from app.store import get_store
from capmap.maps.render import Tiles
from capmap.overview import overview_map

bp = Blueprint("public", __name__)


def tiles() -> Tiles | None:
    """The configured basemap, or None."""
    url = current_app.config["TILES_URL"]
    return Tiles(url, current_app.config["TILES_ATTRIBUTION"]) if url else None


@bp.get("/")
def home():
    """The map of the area: boundary layers and plans, with the same lists below it."""
    store = get_store()
    store.check()
    parts = overview_map(store, map_assets(), tiles())
    return render_template("home.html", map=parts, layers=store.layers(),
                           plans=store.plans().drop(columns="geom").to_dict("records"))


@bp.get("/health/live")
def live():
    """Liveness: the process answers. Touches no database, so a database outage does not get
    every worker restarted; /health is the readiness check."""
    return jsonify({"status": "ok"})


@bp.get("/health")
def health():
    """Liveness and database check for load balancers."""
    store = get_store()
    return jsonify({"status": "ok", "data_version": store.data_version()})
