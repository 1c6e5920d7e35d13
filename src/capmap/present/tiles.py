"""Mapbox Vector Tiles (spec 2.1, extent 4096) of the boundary layers and the plans, encoded in
Python from the engine's layers, so the SQLite and PostGIS backends send the same bytes.

Boundary tiles are cut from the same coverage simplification as /api/layers/<id>/areas
(simplify_coverage for the tile's zoom), so neighbours meet with no gap or overlap at every zoom;
the simplified layer goes to whole tile units once per zoom (capmap.spatial.mvt), which keeps
shared vertices shared. Plans overlap one another, so each is simplified on its own (Douglas-Peucker
keeping its topology) by the same half-pixel tolerance.

Tiles stop at zoom MAX_TILE_ZOOM; a map shows deeper zooms by enlarging those (maxNativeZoom).
Zoom 14 tiles are simplified to 2.7 m and hold whole units of 0.33 m at 56°N; enlarged to zoom 18
a unit is one pixel, and 2.7 m is finer than the published boundary layers are drawn (the 2011
data zones' vertices are tens of metres apart).

Built tiles are kept in a bounded LRU per process, and with a SharedCache for every process; keys
carry the data version they were cut from, so an import moves every reader to new keys at once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from capmap.core.cache import SharedCache
from capmap.core.errors import InputError
from capmap.services.engine import Engine, LayerState, PlanState
from capmap.spatial.mvt import EXTENT, cut_tile, encode_layer, polygons_only, to_world
from capmap.spatial.simplify import simplify_coverage

MAX_TILE_ZOOM = 14
AREAS_LAYER, PLANS_LAYER = "areas", "plans"
# Tiles kept per process: a tile of data zones is 5 to 60 KB, so about 100 MB at most.
LRU_TILES = 4096
# Plans are simplified by half a screen pixel (a tile is drawn 256 px wide), as boundary layers
# are (simplify.tolerance_m), here in tile units, which are the same size at every latitude.
PLAN_TOLERANCE_UNITS = EXTENT / 256 / 2
PLAN_FIELDS = ("id", "title", "type", "owner", "status")


class TileLRU:
    """The last `size` tiles asked for, by key; safe to share between threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._tiles: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        """The tile under `key`, marked as used, or None."""
        with self._lock:
            tile = self._tiles.get(key)
            if tile is not None:
                self._tiles.move_to_end(key)
            return tile

    def put(self, key: str, tile: bytes) -> None:
        """Keep `tile`, forgetting the least recently used beyond `size`."""
        with self._lock:
            self._tiles[key] = tile
            self._tiles.move_to_end(key)
            while len(self._tiles) > self.size:
                self._tiles.popitem(last=False)


@dataclass(frozen=True)
class Cut:
    """A layer ready for cutting at one zoom: geometries in whole world units (spatial.mvt), their
    STRtree, and each feature's tile properties, by row."""

    world: np.ndarray
    tree: shapely.STRtree
    properties: list[dict]


def check_tile(z: int, x: int, y: int) -> None:
    """InputError unless z/x/y names a tile capmap serves."""
    if not 0 <= z <= MAX_TILE_ZOOM:
        raise InputError(f"tile zoom {z} is out of range; expected 0 to {MAX_TILE_ZOOM} "
                         f"(deeper zooms enlarge zoom {MAX_TILE_ZOOM} tiles)")
    last = 2**z - 1
    if not (0 <= x <= last and 0 <= y <= last):
        raise InputError(f"tile {z}/{x}/{y} is outside the map; at zoom {z} x and y run from 0 "
                         f"to {last}")


def layer_tile_version(engine: Engine, layer_id: str) -> int:
    """The boundaries version a layer's tiles are cut from (NotFound for an unknown layer)."""
    return engine.layer(layer_id).version


def plans_version(engine: Engine) -> int:
    """The plans version the plan tiles are cut from."""
    return engine.plans().version


def boundary_tile(engine: Engine, layer_id: str, z: int, x: int, y: int,
                  shared: SharedCache | None = None) -> bytes:
    """Tile z/x/y of a boundary layer: MVT layer "areas", one feature per area meeting the tile,
    with code, name and (neighbourhood layers) simd_quintile; b"" for a tile with none."""
    check_tile(z, x, y)
    state = engine.layer(layer_id)

    def build() -> bytes:
        cut = area_cut(engine, state, z)
        rows, geoms = cut_tile(cut.world, cut.tree, x, y)
        return encode_layer(AREAS_LAYER, geoms, [cut.properties[i] for i in rows])

    return _cached(engine, f"tile:{AREAS_LAYER}:{layer_id}:{state.version}:{z}/{x}/{y}", build, shared)


def plan_tile(engine: Engine, z: int, x: int, y: int, shared: SharedCache | None = None) -> bytes:
    """Tile z/x/y of the plans: MVT layer "plans", one feature per plan meeting the tile, with
    id, title, type, owner and status; b"" for a tile with none."""
    check_tile(z, x, y)
    plans = engine.plans()

    def build() -> bytes:
        cut = plan_cut(engine, plans, z)
        rows, geoms = cut_tile(cut.world, cut.tree, x, y)
        return encode_layer(PLANS_LAYER, geoms, [cut.properties[i] for i in rows])

    return _cached(engine, f"tile:{PLANS_LAYER}:{plans.version}:{z}/{x}/{y}", build, shared)


def _cached(engine: Engine, key: str, build: Callable[[], bytes], shared: SharedCache | None) -> bytes:
    lru = engine.memo("tiles:lru", lambda: TileLRU(LRU_TILES))
    tile = lru.get(key)
    if tile is None:
        tile = shared.blob(key, build) if shared is not None else build()
        lru.put(key, tile)
    return tile


def simplified_areas(engine: Engine, state: LayerState, zoom: int):
    """The layer's coverage simplification for a zoom (simplify_coverage), once per version."""
    return engine.memo(f"simplified:{state.layer.id}:{zoom}",
                       lambda: simplify_coverage(state.areas, zoom))


def area_cut(engine: Engine, state: LayerState, zoom: int) -> Cut:
    """A boundary layer's Cut for a zoom, once per boundaries version."""
    def build() -> Cut:
        simple = simplified_areas(engine, state, zoom)
        world = _mended(to_world(np.asarray(simple.geometry.values, dtype=object), zoom))
        return Cut(world, shapely.STRtree(world), area_properties(state))

    return engine.memo(f"tiles:cut:{state.layer.id}:{zoom}", build)


def plan_cut(engine: Engine, plans: PlanState, zoom: int) -> Cut:
    """The plans' Cut for a zoom, once per plans version."""
    def build() -> Cut:
        world = to_world(plans.lonlat, zoom, rounded=False)
        world = shapely.simplify(world, PLAN_TOLERANCE_UNITS, preserve_topology=True)
        world = _mended(shapely.remove_repeated_points(shapely.transform(world, np.round)))
        return Cut(world, shapely.STRtree(world), plan_properties(plans))

    return engine.memo(f"tiles:plans:{plans.version}:{zoom}", build)


def _mended(world: np.ndarray) -> np.ndarray:
    """Polygons that rounding to whole units folded, made valid (their polygon parts) once per
    zoom rather than in every tile; those that vanished (narrower than a unit) are dropped."""
    bad = ~(shapely.is_missing(world) | shapely.is_valid(world))
    out = world.copy()
    if bad.any():
        out[bad] = polygons_only(shapely.make_valid(world[bad]))
    return out


def _clean(record: dict) -> dict:
    """A feature's properties without missing values, numbers as plain ints (MVT has no null)."""
    out = {}
    for key, value in record.items():
        if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            continue
        out[key] = int(value) if isinstance(value, (int, float, np.integer, np.floating)) else str(value)
    return out


def area_fields(state: LayerState) -> list[str]:
    """The properties of a layer's tile features."""
    return ["code", "name"] + (["simd_quintile"] if state.layer.kind == "neighbourhood" else [])


def area_properties(state: LayerState) -> list[dict]:
    """Each area's tile properties, by row of `state.areas`."""
    table = state.areas[area_fields(state)].astype(object)
    return [_clean(r) for r in table.to_dict("records")]


def plan_properties(plans: PlanState) -> list[dict]:
    """Each plan's tile properties, by row of `plans.plans`."""
    table = plans.plans[list(PLAN_FIELDS)].astype(object)
    return [_clean(r) for r in table.to_dict("records")]


def layer_tilejson(engine: Engine, layer_id: str, tiles_url: str) -> dict:
    """TileJSON 3.0.0 of a boundary layer's tiles at `tiles_url` (an absolute {z}/{x}/{y} URL)."""
    state = engine.layer(layer_id)
    fields = {"code": "String: the area's code", "name": "String: the area's name"}
    if "simd_quintile" in area_fields(state):
        fields["simd_quintile"] = "Number: SIMD quintile, 1 the most deprived (absent if unknown)"
    return _tilejson(state.layer.title or layer_id, state.layer.licence, tiles_url,
                     state.areas.geometry.values, AREAS_LAYER, fields)


def plans_tilejson(engine: Engine, tiles_url: str) -> dict:
    """TileJSON 3.0.0 of the plan tiles at `tiles_url`."""
    fields = {"id": "Number: the plan's id, as in /plans/<id>", "title": "String",
              "type": "String: the kind of plan", "owner": "String", "status": "String"}
    return _tilejson("Plans", None, tiles_url, engine.plans().lonlat, PLANS_LAYER, fields)


def _tilejson(name: str, attribution: str | None, url: str, geoms, layer: str, fields: dict) -> dict:
    geoms = np.asarray(geoms, dtype=object)
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    bounds = [float(b) for b in shapely.total_bounds(geoms)] if len(geoms) else [-180, -85, 180, 85]
    out = {"tilejson": "3.0.0", "name": name, "scheme": "xyz", "tiles": [url],
           "minzoom": 0, "maxzoom": MAX_TILE_ZOOM, "bounds": bounds,
           "vector_layers": [{"id": layer, "fields": fields, "minzoom": 0, "maxzoom": MAX_TILE_ZOOM}]}
    if attribution:
        out["attribution"] = attribution
    return out
