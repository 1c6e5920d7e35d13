"""Leaflet and jQuery served by capmap itself from their PyPI packages: no CDN at run time."""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.jquery
import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from flask import Blueprint, abort, send_from_directory, url_for

from capmap.maps.render import Assets

bp = Blueprint("assets", __name__, url_prefix="/vendor")

PACKAGES = {
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "jquery": Path(xstatic.pkg.jquery.BASE_DIR),
    "markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR),
}


@bp.get("/<package>/<path:filename>")
def vendor(package: str, filename: str):
    """A file of a vendored package (send_from_directory refuses paths outside it)."""
    folder = PACKAGES.get(package)
    if folder is None:
        abort(404)
    return send_from_directory(folder, filename, max_age=86400)


def map_assets() -> Assets:
    """The asset URLs for folium maps."""
    return Assets(
        leaflet_js=url_for("assets.vendor", package="leaflet", filename="leaflet.js"),
        leaflet_css=url_for("assets.vendor", package="leaflet", filename="leaflet.css"),
        jquery_js=url_for("assets.vendor", package="jquery", filename="jquery.min.js"),
    )
