"""Byte-stable writers for the sample data set: GeoJSON and CSV with fixed key order and precision.

GDAL writers are not used here: their number formatting and member order vary between versions, and
the sample files must come out identical on every machine.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import shapely
from shapely.geometry.base import BaseGeometry

from capmap.core.csvsafe import safe_cell

BNG_DECIMALS = 1
LONLAT_DECIMALS = 6
BNG_CRS_MEMBER = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}


def _ring(coords: Iterable[Sequence[float]], decimals: int) -> str:
    return "[" + ",".join(f"[{x:.{decimals}f},{y:.{decimals}f}]" for x, y in coords) + "]"


def _polygon(poly: shapely.Polygon, decimals: int) -> str:
    rings = [poly.exterior, *poly.interiors]
    return "[" + ",".join(_ring(r.coords, decimals) for r in rings) + "]"


def geometry_json(geom: BaseGeometry, decimals: int) -> str:
    """GeoJSON text of a Point, Polygon or MultiPolygon with coordinates at fixed decimals."""
    if isinstance(geom, shapely.Point):
        return f'{{"type": "Point", "coordinates": [{geom.x:.{decimals}f},{geom.y:.{decimals}f}]}}'
    # RFC 7946: exterior rings counter-clockwise, holes clockwise.
    geom = shapely.orient_polygons(geom, exterior_cw=False)
    if isinstance(geom, shapely.Polygon):
        return f'{{"type": "Polygon", "coordinates": {_polygon(geom, decimals)}}}'
    if isinstance(geom, shapely.MultiPolygon):
        parts = ",".join(_polygon(p, decimals) for p in geom.geoms)
        return f'{{"type": "MultiPolygon", "coordinates": [{parts}]}}'
    raise TypeError(f"cannot write {geom.geom_type}; expected Point, Polygon or MultiPolygon")


def write_geojson(
    path: Path,
    name: str,
    features: Sequence[tuple[dict, BaseGeometry]],
    *,
    bng: bool,
) -> Path:
    """Write (properties, geometry) pairs as a FeatureCollection, one feature a line.

    With bng=True coordinates are EPSG:27700 metres at 0.1 m and a legacy "crs" member names
    EPSG:27700 (GDAL reads it); otherwise they are RFC 7946 lon/lat at 6 decimals with no crs member.
    """
    decimals = BNG_DECIMALS if bng else LONLAT_DECIMALS
    head = ['{', '"type": "FeatureCollection",', f'"name": {json.dumps(name)},']
    if bng:
        head.append(f'"crs": {json.dumps(BNG_CRS_MEMBER)},')
    head.append('"features": [')
    lines = [
        '{"type": "Feature", "properties": '
        + json.dumps(props, ensure_ascii=False)
        + ', "geometry": '
        + geometry_json(geom, decimals)
        + "}"
        for props, geom in features
    ]
    text = "\n".join(head) + "\n" + ",\n".join(lines) + "\n]\n}\n"
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    """Write a UTF-8 CSV with "\\n" line endings; None becomes an empty field."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([safe_cell(h) for h in header])
        for row in rows:
            writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return path


def fmt(value: float, decimals: int) -> str:
    """A coordinate as fixed-decimal text (the CSV counterpart of the GeoJSON formatting)."""
    return f"{value:.{decimals}f}"
