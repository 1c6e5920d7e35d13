"""Coordinate reference systems: storage in lon/lat, areas measured in the British National Grid.

BNG <-> lon/lat goes through OSTN15 (the `convertbng` package), which the Ordnance Survey gives as
accurate to about 0.1 m; pyproj without its OSTN15 grid file uses a Helmert transform that is 1 to 3 m
off across Scotland. Points outside OSTN15's extent (far offshore) fall back to pyproj.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from convertbng.cutil import convert_bng, convert_lonlat
from pyproj import CRS, Transformer

from capmap.core.errors import ValidationError

STORAGE_CRS = "EPSG:4326"
AREA_CRS = "EPSG:27700"
STORAGE_EPSG = 4326
BNG_EPSG = 27700


@dataclass(frozen=True)
class Region:
    """A lon/lat box that every stored coordinate must fall in (default: Scotland with a margin)."""

    min_lon: float = -9.5
    min_lat: float = 54.4
    max_lon: float = -0.4
    max_lat: float = 61.1
    name: str = "Scotland"

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat)."""
        return self.min_lon, self.min_lat, self.max_lon, self.max_lat

    def contains(self, bounds: tuple[float, float, float, float]) -> bool:
        """True when a (minx, miny, maxx, maxy) lon/lat box lies inside the region."""
        minx, miny, maxx, maxy = bounds
        return (
            minx >= self.min_lon
            and maxx <= self.max_lon
            and miny >= self.min_lat
            and maxy <= self.max_lat
        )


SCOTLAND = Region()

_helmert_to_lonlat = Transformer.from_crs(BNG_EPSG, STORAGE_EPSG, always_xy=True)
_helmert_to_bng = Transformer.from_crs(STORAGE_EPSG, BNG_EPSG, always_xy=True)


def epsg_of(crs: object) -> int | None:
    """The EPSG code of a CRS-like value, or None when it has none."""
    if crs is None:
        return None
    return CRS.from_user_input(crs).to_epsg()


def bng_to_lonlat(eastings: np.ndarray, northings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:27700 metres to EPSG:4326 degrees through OSTN15, pyproj outside its extent."""
    e = np.ascontiguousarray(eastings, dtype="float64")
    n = np.ascontiguousarray(northings, dtype="float64")
    lon, lat = convert_lonlat(e, n)
    return _fill_outside(lon, lat, e, n, _helmert_to_lonlat)


def lonlat_to_bng(lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4326 degrees to EPSG:27700 metres through OSTN15, pyproj outside its extent."""
    lo = np.ascontiguousarray(lons, dtype="float64")
    la = np.ascontiguousarray(lats, dtype="float64")
    e, n = convert_bng(lo, la)
    return _fill_outside(e, n, lo, la, _helmert_to_bng)


def _fill_outside(x, y, src_x, src_y, fallback: Transformer):
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    missing = (np.isnan(x) | np.isnan(y)) & ~(np.isnan(src_x) | np.isnan(src_y))
    if missing.any():
        x[missing], y[missing] = fallback.transform(src_x[missing], src_y[missing])
    return x, y


def _apply(geoms: np.ndarray, func) -> np.ndarray:
    def xy(coords: np.ndarray) -> np.ndarray:
        if len(coords) == 0:
            return coords
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, xy)


def geoms_bng_to_lonlat(geoms: np.ndarray) -> np.ndarray:
    """Shapely geometries in EPSG:27700 to EPSG:4326 (OSTN15)."""
    return _apply(np.asarray(geoms), bng_to_lonlat)


def geoms_lonlat_to_bng(geoms: np.ndarray) -> np.ndarray:
    """Shapely geometries in EPSG:4326 to EPSG:27700 (OSTN15)."""
    return _apply(np.asarray(geoms), lonlat_to_bng)


def to_storage(gdf):
    """A GeoDataFrame in any CRS, returned in EPSG:4326 (BNG through OSTN15)."""
    epsg = epsg_of(gdf.crs)
    if epsg == STORAGE_EPSG:
        return gdf
    if epsg == BNG_EPSG:
        out = gdf.copy()
        out.geometry.values[:] = geoms_bng_to_lonlat(gdf.geometry.values)
        return out.set_crs(STORAGE_CRS, allow_override=True)
    return gdf.to_crs(STORAGE_CRS)


def to_area_crs(gdf):
    """A GeoDataFrame in EPSG:4326 (or any CRS) returned in EPSG:27700 for measuring areas."""
    epsg = epsg_of(gdf.crs)
    if epsg == BNG_EPSG:
        return gdf
    if epsg == STORAGE_EPSG:
        out = gdf.copy()
        out.geometry.values[:] = geoms_lonlat_to_bng(gdf.geometry.values)
        return out.set_crs(AREA_CRS, allow_override=True)
    return gdf.to_crs(AREA_CRS)


def check_lonlat(bounds: tuple[float, float, float, float], region: Region = SCOTLAND,
                 source: str = "input") -> None:
    """Refuse lon/lat bounds that are really projected metres, swapped lat/lon, or off-region."""
    minx, miny, maxx, maxy = bounds
    if not all(math.isfinite(v) for v in (minx, miny, maxx, maxy)):  # plain floats: no numpy
        raise ValidationError(f"{source}: coordinates include NaN or infinite values")
    if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
        raise ValidationError(
            f"{source}: coordinates run to ({minx:.0f}, {miny:.0f}, {maxx:.0f}, {maxy:.0f}), "
            "which is not lon/lat; projected metres such as British National Grid need "
            "the CRS stated (for example --crs EPSG:27700)"
        )
    swapped = Region(region.min_lat, region.min_lon, region.max_lat, region.max_lon)
    if not region.contains(bounds) and swapped.contains(bounds):
        raise ValidationError(
            f"{source}: coordinates look like lat/lon in the wrong order (x from {minx:.3f} to "
            f"{maxx:.3f}, y from {miny:.3f} to {maxy:.3f}); expected longitude first, as "
            "GeoJSON (RFC 7946) requires"
        )
    if not region.contains(bounds):
        raise ValidationError(
            f"{source}: coordinates ({minx:.3f}, {miny:.3f}, {maxx:.3f}, {maxy:.3f}) fall outside "
            f"{region.name} (lon {region.min_lon} to {region.max_lon}, "
            f"lat {region.min_lat} to {region.max_lat})"
        )

