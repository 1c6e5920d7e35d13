"""Boundary layers as map payloads: simplified for a zoom with shared edges kept, cached until the
boundaries change."""

from __future__ import annotations

from capmap.core.cache import SharedCache
from capmap.core.errors import InputError, NotFound, ValidationError
from capmap.core.serialise import json_text
from capmap.services.engine import Engine, LayerState
from capmap.spatial.encode import compact_collection
from capmap.spatial.simplify import payload, simplify_coverage
from capmap.storage.store import AREA_COLUMNS

MIN_ZOOM, MAX_ZOOM = 0, 18
FORMATS = ("geojson", "compact")
PROPERTIES = ["code", "name", "population", "simd_quintile"]


def _layer(engine: Engine, layer_id: str, zoom: int, fmt: str) -> LayerState:
    if not MIN_ZOOM <= zoom <= MAX_ZOOM:
        raise InputError(f"zoom {zoom} is out of range; expected {MIN_ZOOM} to {MAX_ZOOM}")
    if fmt not in FORMATS:
        raise InputError(f"format {fmt!r} is not offered; expected one of {', '.join(FORMATS)}")
    try:
        return engine.layer(layer_id)
    except NotFound as exc:
        raise ValidationError(exc.message) from exc


def properties(state: LayerState) -> list[str]:
    """The properties of a layer's areas in its payloads: PROPERTIES, then its indicators."""
    return PROPERTIES + [c for c in state.areas.columns if c not in AREA_COLUMNS]


def _build(state: LayerState, zoom: int, fmt: str) -> dict:
    if fmt == "geojson":
        return payload(state.areas, zoom, properties(state))
    return compact_collection(simplify_coverage(state.areas, zoom), properties(state))


def layer_payload(engine: Engine, layer_id: str, zoom: int, fmt: str = "geojson") -> dict:
    """A layer's areas for a web map at `zoom`: RFC 7946 GeoJSON, or capmap's compact encoding."""
    state = _layer(engine, layer_id, zoom, fmt)
    return engine.memo(f"payload:{layer_id}:{zoom}:{fmt}", lambda: _build(state, zoom, fmt))


def layer_payload_json(engine: Engine, layer_id: str, zoom: int, fmt: str = "geojson",
                       shared: SharedCache | None = None) -> str:
    """`layer_payload` as JSON text (serialise.json_text), built once per boundaries version in
    this process and, with a shared cache, once for every process using it. Only the text is
    kept: encoding all Scottish data zones takes a tenth to a third of a second per request."""
    state = _layer(engine, layer_id, zoom, fmt)
    key = f"payload:{layer_id}:{zoom}:{fmt}"

    def build() -> str:
        return json_text(_build(state, zoom, fmt))

    if shared is None:
        return engine.memo(f"{key}:json", build)
    return engine.memo(f"{key}:json", lambda: shared.text(f"{key}:{state.version}", build))
