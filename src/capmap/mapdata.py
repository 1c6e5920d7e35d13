"""Boundary layers as map payloads: simplified for a zoom with shared edges kept, cached until the
boundaries change."""

from __future__ import annotations

from capmap.engine import Engine
from capmap.errors import InputError, NotFound, ValidationError
from capmap.spatial.encode import compact_collection
from capmap.spatial.simplify import payload, simplify_coverage

MIN_ZOOM, MAX_ZOOM = 0, 18
FORMATS = ("geojson", "compact")
PROPERTIES = ["code", "name", "population", "simd_quintile"]


def layer_payload(engine: Engine, layer_id: str, zoom: int, fmt: str = "geojson") -> dict:
    """A layer's areas for a web map at `zoom`: RFC 7946 GeoJSON, or capmap's compact encoding."""
    if not MIN_ZOOM <= zoom <= MAX_ZOOM:
        raise InputError(f"zoom {zoom} is out of range; expected {MIN_ZOOM} to {MAX_ZOOM}")
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not offered; expected one of {', '.join(FORMATS)}")
    try:
        state = engine.layer(layer_id)
    except NotFound as exc:
        raise ValidationError(exc.message) from exc

    def build() -> dict:
        if fmt == "geojson":
            return payload(state.areas, zoom, PROPERTIES)
        return compact_collection(simplify_coverage(state.areas, zoom), PROPERTIES)

    return engine.memo(f"payload:{layer_id}:{zoom}:{fmt}", build)
