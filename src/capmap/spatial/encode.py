"""A compact encoding of map payloads: coordinates as integers, each ring delta-encoded.

GeoJSON spends about 16 bytes on every vertex ("[-4.123,56.789],"); as whole numbers of the
rounding step, stored as differences from the previous vertex, most vertices take 5 or 6. capmap's
maps decode it in a few lines of script. Each feature carries its own scale (a power of ten),
the finest its coordinates need, so decoding restores exactly the rounded coordinates.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from capmap.core.errors import ValidationError

MAX_DECIMALS = 7


def decimals_needed(coords: np.ndarray) -> int:
    """The fewest decimal places that represent every coordinate exactly (at most 7)."""
    for places in range(MAX_DECIMALS + 1):
        if np.allclose(np.round(coords, places), coords, rtol=0, atol=1e-12):
            return places
    return MAX_DECIMALS


def _rings(polygon: shapely.Polygon, scale: float) -> list[list[int]]:
    rings = []
    for ring in (polygon.exterior, *polygon.interiors):
        q = np.round(np.asarray(ring.coords)[:-1] * scale).astype(np.int64)
        q[1:] -= q[:-1].copy()
        rings.append(q.ravel().tolist())
    return rings


def encode_geometry(geom: shapely.Geometry | None) -> dict | None:
    """{"scale": 10**d, "multi": bool, "polygons": [[ring, …], …]} where a ring is
    [x0, y0, dx1, dy1, …] in units of 1/scale degree, closing vertex left out. None for a
    missing geometry."""
    if geom is None or geom.is_empty:
        return None
    if shapely.get_type_id(geom) not in (3, 6):
        raise ValidationError(f"only polygons are encoded, not {geom.geom_type}")
    scale = 10 ** decimals_needed(shapely.get_coordinates(geom))
    parts = shapely.get_parts(geom)
    return {"scale": scale, "multi": geom.geom_type == "MultiPolygon",
            "polygons": [_rings(p, scale) for p in parts]}


def compact_collection(frame: gpd.GeoDataFrame, properties: list[str]) -> dict:
    """The frame (already simplified and rounded, EPSG:4326) as a compact collection:
    {"type": "CompactFeatureCollection", "properties": names, "features":
    [{"values": [...], "geometry": encoded}, …]}."""
    missing = [p for p in properties if p not in frame.columns]
    if missing:
        raise ValidationError(f"properties {missing} not found")
    table = frame[properties].astype(object)
    values = table.where(table.notna(), None).to_numpy().tolist()
    geoms = shapely.orient_polygons(np.asarray(frame.geometry.values, dtype=object))
    return {"type": "CompactFeatureCollection", "properties": properties,
            "features": [{"values": v, "geometry": encode_geometry(g)}
                         for v, g in zip(values, geoms, strict=True)]}


def decode_geometry(encoded: dict | None) -> shapely.Geometry | None:
    """The inverse of encode_geometry (used by tests; the browser has its own decoder)."""
    if encoded is None:
        return None
    scale = encoded["scale"]
    polygons = []
    for rings in encoded["polygons"]:
        coords = [np.cumsum(np.asarray(r, dtype=np.int64).reshape(-1, 2), axis=0) / scale
                  for r in rings]
        polygons.append(shapely.Polygon(coords[0], coords[1:]))
    return shapely.MultiPolygon(polygons) if encoded["multi"] else polygons[0]
