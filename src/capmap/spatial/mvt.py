"""Geometry of Mapbox Vector Tiles (spec 2.1): lon/lat to tile coordinates, cutting one tile,
encoding it, and checking decoded tiles for gaps and overlaps.

Coordinates go to "world units" once per zoom: Web Mercator scaled so that each tile of the zoom is
EXTENT units wide, y down, rounded to whole units. Rounding there, vertex by vertex, rounds a vertex
shared by neighbours the same way in each of them, so shared edges stay identical in every tile;
moving to one tile is then a whole-number shift, which is exact. A unit is 1/16 of a screen pixel
(a tile is drawn 256 px wide), finer than anything simplified for the zoom can show.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import mapbox_vector_tile
import numpy as np
import shapely
from mapbox_vector_tile.encoder import on_invalid_geometry_make_valid

EXTENT = 4096
# Each tile carries what lies within BUFFER units of its edges (64 units = 4 px): a stroke drawn on
# an area's outline at the tile edge then has its neighbour tile's data to meet, and the clip line
# lies outside the drawn tile, so nothing the clip does is ever seen.
BUFFER = 64
MAX_LAT = 85.05112878  # Web Mercator's edge: the world is square there
# Geometries reach the encoder already in tile coordinates, y down, so it neither quantises (its
# quantize_bounds transforms vertex by vertex in Python, per tile) nor flips.
ENCODE_OPTIONS = {"extents": EXTENT, "y_coord_down": True,
                  # Rounding can fold a ring on itself; pyclipper mends it in whole units.
                  "on_invalid_geometry": on_invalid_geometry_make_valid}


def world_scale(zoom: int) -> int:
    """World units across the whole Web Mercator square at a zoom."""
    return EXTENT * 2**zoom


def lonlat_to_world(coords: np.ndarray, zoom: int) -> np.ndarray:
    """(n, 2) lon/lat (EPSG:4326) as world units of the zoom (EPSG:3857 scaled, y down), unrounded."""
    scale = world_scale(zoom)
    lat = np.radians(np.clip(coords[:, 1], -MAX_LAT, MAX_LAT))
    x = (coords[:, 0] + 180.0) / 360.0 * scale
    y = (1.0 - np.arcsinh(np.tan(lat)) / math.pi) / 2.0 * scale
    return np.column_stack([x, y])


def world_to_lonlat(coords: np.ndarray, zoom: int) -> np.ndarray:
    """The inverse of lonlat_to_world."""
    scale = world_scale(zoom)
    lon = coords[:, 0] / scale * 360.0 - 180.0
    lat = np.degrees(np.arctan(np.sinh(math.pi * (1.0 - 2.0 * coords[:, 1] / scale))))
    return np.column_stack([lon, lat])


def to_world(geoms: np.ndarray, zoom: int, *, rounded: bool = True) -> np.ndarray:
    """Lon/lat geometries in world units of a zoom, rounded to whole units vertex by vertex."""
    if rounded:
        out = shapely.transform(geoms, lambda c: np.round(lonlat_to_world(c, zoom)))
        return shapely.remove_repeated_points(out)
    return shapely.transform(geoms, lambda c: lonlat_to_world(c, zoom))


def to_tile(world: np.ndarray | shapely.Geometry, x: int, y: int):
    """World-unit geometries in the coordinates of tile (x, y) of their zoom (a whole-unit shift)."""
    offset = np.array([x * EXTENT, y * EXTENT], dtype=float)
    return shapely.transform(world, lambda c: c - offset)


def tiles_covering(bounds: Sequence[float], zoom: int) -> list[tuple[int, int]]:
    """(x, y) of every tile of a zoom meeting lon/lat bounds (minlon, minlat, maxlon, maxlat)."""
    corners = lonlat_to_world(np.array([[bounds[0], bounds[3]], [bounds[2], bounds[1]]]), zoom)
    last = 2**zoom - 1
    (x0, y0), (x1, y1) = np.clip(np.floor(corners / EXTENT).astype(int), 0, last)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def tile_bounds_lonlat(zoom: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The lon/lat bounds of the drawn tile zoom/x/y (no buffer): minlon, minlat, maxlon, maxlat."""
    corners = world_to_lonlat(np.array([[x, y + 1], [x + 1, y]], dtype=float) * EXTENT, zoom)
    return (*corners[0], *corners[1])


def tile_box(x: int, y: int) -> tuple[float, float, float, float]:
    """The world-unit bounds of tile (x, y) with its buffer: minx, miny, maxx, maxy."""
    return (x * EXTENT - BUFFER, y * EXTENT - BUFFER,
            (x + 1) * EXTENT + BUFFER, (y + 1) * EXTENT + BUFFER)


def polygons_only(geoms: np.ndarray) -> np.ndarray:
    """Each geometry's polygon parts (a clip can leave lines and points where outlines touch the
    box), as a Polygon or MultiPolygon; None where nothing polygonal is left."""
    out = np.empty(len(geoms), dtype=object)
    simple = np.isin(shapely.get_type_id(geoms), (3, 6))
    out[simple] = geoms[simple]
    for i in np.flatnonzero(~simple):
        parts = shapely.get_parts(shapely.get_parts(geoms[i]))
        polys = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
        out[i] = None if not len(polys) else polys[0] if len(polys) == 1 else shapely.multipolygons(polys)
    empty = shapely.is_missing(out) | shapely.is_empty(out)
    out[empty] = None
    return out


def cut_tile(world: np.ndarray, tree: shapely.STRtree, x: int, y: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows of `world` (whole world units, indexed by `tree`) meeting tile (x, y) and their
    geometry in that tile's coordinates, clipped to the buffered tile, rows in ascending order."""
    box = tile_box(x, y)
    rows = np.sort(tree.query(shapely.box(*box)))
    if not len(rows):
        return rows, np.empty(0, dtype=object)
    local = to_tile(world[rows], x, y)
    bounds = shapely.bounds(local)
    lo, hi = -BUFFER, EXTENT + BUFFER
    inside = (bounds[:, 0] >= lo) & (bounds[:, 1] >= lo) & (bounds[:, 2] <= hi) & (bounds[:, 3] <= hi)
    # Every area is clipped to the same box by the robust overlay (OverlayNG); a vertex the clip
    # adds lies on the box line, outside the drawn tile, and is rounded by the encoder.
    clip = shapely.box(lo, lo, hi, hi)
    local[~inside] = shapely.intersection(local[~inside], clip)
    local = polygons_only(local)
    kept = ~shapely.is_missing(local)
    return rows[kept], local[kept]


def encode_layer(name: str, geoms: Sequence, properties: Sequence[dict]) -> bytes:
    """One MVT layer of polygons in tile coordinates (y down, whole units); b"" when it has none:
    a tile of no layers, as PostGIS's ST_AsMVT sends for no rows, which map clients draw as empty."""
    features = [{"geometry": g, "properties": p} for g, p in zip(geoms, properties, strict=True)]
    if not features:
        return b""
    return mapbox_vector_tile.encode({"name": name, "features": features},
                                     default_options=ENCODE_OPTIONS)


def decode_polygons(tile: bytes, layer: str) -> tuple[list[dict], np.ndarray]:
    """The features of one layer of a tile: their properties and shapely polygons in tile
    coordinates (y down, as stored)."""
    decoded = mapbox_vector_tile.decode(tile, default_options={"y_coord_down": True})
    features = decoded.get(layer, {}).get("features", [])
    geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in features], dtype=object)
    return [f["properties"] for f in features], geoms


def tile_to_lonlat(geoms: np.ndarray, zoom: int, x: int, y: int) -> np.ndarray:
    """Geometries in the coordinates of tile (zoom, x, y) as lon/lat."""
    return shapely.transform(geoms, lambda c: world_to_lonlat(c + (x * EXTENT, y * EXTENT), zoom))


def tile_defects(geoms: np.ndarray, reference: shapely.Geometry, *, width: float = 0.0) -> dict:
    """Overlaps between the interiors of the polygons of one decoded tile (tile coordinates), and
    gaps: what `reference` (the union of the areas before they went to whole units, in the same
    coordinates) covers and the polygons do not. Only the drawn tile [0, EXTENT]² is judged. With
    `width`, a defect counts only where some of it is wider than `width` units (it survives a
    negative buffer of width / 2)."""
    square = shapely.box(0, 0, EXTENT, EXTENT)
    geoms = shapely.intersection(np.asarray(geoms, dtype=object), square)
    geoms = geoms[~shapely.is_empty(geoms)]
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    meet = shapely.relate_pattern(geoms[left[keep]], geoms[right[keep]], "2********")
    overlaps = _wider_than(shapely.intersection(geoms[left[keep][meet]], geoms[right[keep][meet]]),
                           width)
    missing = shapely.difference(shapely.intersection(reference, square), shapely.union_all(geoms))
    gaps = _wider_than(shapely.get_parts(missing), width)
    return {"overlaps": len(overlaps), "overlap_units2": float(shapely.area(overlaps).sum()),
            "gaps": len(gaps), "gap_units2": float(shapely.area(gaps).sum())}


def _wider_than(geoms: np.ndarray, width: float) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    if not len(geoms):
        return geoms
    geoms = geoms[shapely.area(geoms) > 0]
    if width <= 0 or not len(geoms):
        return geoms
    return geoms[~shapely.is_empty(shapely.buffer(geoms, -width / 2))]
