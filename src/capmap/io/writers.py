"""Writing layers to files. One table says which formats exist and how each is written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio

from capmap.crs import AREA_CRS, STORAGE_CRS, epsg_of, to_area_crs
from capmap.errors import InputError


@dataclass(frozen=True)
class Format:
    """An export format: GDAL driver, file extension, and the CRSs it may carry."""

    driver: str
    extension: str
    media_type: str
    lonlat_only: bool = False


FORMATS: dict[str, Format] = {
    "geojson": Format("GeoJSON", ".geojson", "application/geo+json", lonlat_only=True),
    "gpkg": Format("GPKG", ".gpkg", "application/geopackage+sqlite3"),
}
EXPORT_CRS = (STORAGE_CRS, AREA_CRS)


def check_format(name: str, crs: str = STORAGE_CRS) -> Format:
    """The Format for a name, refusing unknown names and CRSs the format cannot carry."""
    fmt = FORMATS.get(name)
    if fmt is None:
        raise InputError(f"format {name!r} is not offered; expected one of {', '.join(FORMATS)}")
    if crs not in EXPORT_CRS:
        raise InputError(f"CRS {crs!r} is not offered; expected one of {', '.join(EXPORT_CRS)}")
    if fmt.lonlat_only and crs != STORAGE_CRS:
        raise InputError(f"{name} is lon/lat (EPSG:4326) only by its standard (RFC 7946)")
    return fmt


def write_frame(frame: gpd.GeoDataFrame, path: Path, fmt_name: str, layer: str,
                crs: str = STORAGE_CRS, append: bool = False) -> Path:
    """Write a stored (EPSG:4326) frame to `path` in `fmt_name`, in `crs` (BNG via OSTN15)."""
    fmt = check_format(fmt_name, crs)
    out = to_area_crs(frame) if epsg_of(crs) == 27700 else frame
    options = {"RFC7946": "YES", "WRITE_BBOX": "YES"} if fmt.driver == "GeoJSON" else {}
    pyogrio.write_dataframe(out, path, layer=layer, driver=fmt.driver, append=append,
                            layer_options=options or None)
    return path
