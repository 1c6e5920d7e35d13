"""Leaflet and Leaflet.markercluster served by capmap itself from their PyPI packages (no CDN at
run time); Leaflet.VectorGrid, which has no such package, is vendored in app/static/vendor."""

from __future__ import annotations

from pathlib import Path

import xstatic.pkg.leaflet
import xstatic.pkg.leaflet_markercluster
from flask import Blueprint, abort, send_from_directory

bp = Blueprint("assets", __name__, url_prefix="/vendor")

PACKAGES = {
    "leaflet": Path(xstatic.pkg.leaflet.BASE_DIR),
    "markercluster": Path(xstatic.pkg.leaflet_markercluster.BASE_DIR),
}


@bp.get("/<package>/<path:filename>")
def vendor(package: str, filename: str):
    """A file of a vendored package (send_from_directory refuses paths outside it)."""
    folder = PACKAGES.get(package)
    if folder is None:
        abort(404)
    return send_from_directory(folder, filename, max_age=86400)
