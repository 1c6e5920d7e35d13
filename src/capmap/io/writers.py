"""Writing layers to files. One table says which formats exist and how each is written.

Every export carries its metadata (licence, attribution, CRS, time, filters) inside the file where
the format has a place for it: a top-level "metadata" member in GeoJSON (RFC 7946 allows foreign
members), the gpkg_metadata extension and each table's description in a GeoPackage, the header
title and description of a FlatGeobuf file, the Document description in KML. Shapefiles and CSV
have no such place, so they come as a .zip holding the data files and a README.txt; a CSV named
.csv is the plain table alone (capmap.io.outputs says which name gets which).
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from capmap.core.crs import AREA_CRS, STORAGE_CRS, epsg_of, to_area_crs
from capmap.core.csvsafe import safe_frame
from capmap.core.errors import InputError, ValidationError
from capmap.io.outputs import check_output_name, is_plain_csv

EXPORT_CRS = (STORAGE_CRS, AREA_CRS)
SHP_FIELD_CHARS = 10   # dBASE field names
SHP_TEXT_BYTES = 254   # dBASE text fields


@dataclass(frozen=True)
class Part:
    """One layer of an export: its name, frame (EPSG:4326) and geometry type (Point or Polygon;
    a layer holding some multi-part features is written as Multi throughout)."""

    name: str
    frame: gpd.GeoDataFrame
    geometry_type: str


Writer = Callable[[list[Part], Path, dict], dict]


@dataclass(frozen=True)
class Format:
    """An export format: GDAL driver, the suffix of the file handed over, and its limits."""

    driver: str
    suffix: str
    media_type: str
    writer: Writer
    lonlat_only: bool = False
    several_layers: bool = False
    points_only: bool = False
    plain_writer: Writer | None = None  # CSV: the table alone, for a name ending .csv


def check_format(name: str, crs: str = STORAGE_CRS) -> Format:
    """The Format for a name, refusing unknown names and CRSs the format cannot carry."""
    fmt = FORMATS.get(name)
    if fmt is None:
        raise InputError(f"format {name!r} is not offered; expected one of {', '.join(FORMATS)}")
    if crs not in EXPORT_CRS:
        raise InputError(f"CRS {crs!r} is not offered; expected one of {', '.join(EXPORT_CRS)}")
    if fmt.lonlat_only and crs != STORAGE_CRS:
        standard = "RFC 7946" if name == "geojson" else "the OGC KML 2.2 standard"
        raise InputError(f"{name} is lon/lat (EPSG:4326) only by its standard ({standard}); "
                         f"got {crs}; use gpkg, shp, csv or fgb for EPSG:27700")
    return fmt


def check_export(fmt_name: str, crs: str, layers: dict[str, str]) -> Format:
    """The Format for an export of `layers` (name: geometry type), refusing several layers where
    the format holds one and polygons where it holds points."""
    fmt = check_format(fmt_name, crs)
    if len(layers) > 1 and not fmt.several_layers:
        several = [n for n, f in FORMATS.items() if f.several_layers]
        raise InputError(f"{fmt_name} holds one layer; {len(layers)} were asked for "
                         f"({', '.join(layers)}); use {', '.join(several)}")
    polygons = [name for name, kind in layers.items() if kind != "Point"]
    if fmt.points_only and polygons:
        raise ValidationError(f"{fmt_name} holds points only and {', '.join(polygons)} "
                              "holds polygons; use csv (geometry as WKT)")
    return fmt


def write_frame(frame: gpd.GeoDataFrame, path: Path, fmt_name: str, layer: str,
                crs: str = STORAGE_CRS, append: bool = False) -> Path:
    """Write a stored (EPSG:4326) frame to `path` in `fmt_name`, in `crs` (BNG via OSTN15),
    with no metadata: the plain form, for callers that add their own."""
    fmt = check_format(fmt_name, crs)
    out = to_area_crs(frame) if epsg_of(crs) == 27700 else frame
    options = {"RFC7946": "YES", "WRITE_BBOX": "YES"} if fmt.driver == "GeoJSON" else {}
    pyogrio.write_dataframe(out, path, layer=layer, driver=fmt.driver, append=append,
                            layer_options=options or None)
    return path


def write_export(parts: list[Part], path: Path, fmt_name: str, crs: str, about: dict) -> dict:
    """Write `parts` to the file `path` in `fmt_name` and `crs` with the metadata `about`;
    returns `about` as written (with the Shapefile field-name mapping, if any)."""
    fmt = check_export(fmt_name, crs, {p.name: p.geometry_type for p in parts})
    check_output_name(fmt_name, path)
    writer = fmt.plain_writer if is_plain_csv(fmt_name, path) else fmt.writer
    ready = [Part(p.name, _prepared(p.frame, crs), p.geometry_type) for p in parts]
    path = Path(path)
    # Built in a fresh folder beside the target and moved into place whole: a failed export
    # leaves no partial file, and an existing GeoPackage is replaced, never added to.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".capmap-export-") as work:
        built = Path(work) / f"export{fmt.suffix}"
        about = writer(ready, built, about)
        os.replace(built, path)
    return about


def _prepared(frame: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """Dates as ISO text (every format reads it the same way), in the export CRS."""
    out = frame.copy()
    for column in out.columns:
        if column == out.geometry.name:
            continue
        values = out[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            out[column] = [None if pd.isna(v) else v.isoformat() for v in values]
        elif values.dtype == object and values.map(lambda v: isinstance(v, date)).any():
            out[column] = [v.isoformat() if isinstance(v, date) else None for v in values]
    return to_area_crs(out) if epsg_of(crs) == 27700 else out


def _write(part: Part, path: Path, driver: str, **kwargs) -> None:
    # One geometry type per layer: the Multi form only when some feature needs it.
    multi = bool(set(shapely.get_type_id(part.frame.geometry.values)) & {4, 5, 6, 7})
    pyogrio.write_dataframe(part.frame, path, layer=part.name, driver=driver,
                            geometry_type=("Multi" if multi else "") + part.geometry_type,
                            promote_to_multi=multi, **kwargs)


# -- metadata as text, rows and JSON ---------------------------------------------------------

def about_text(about: dict, indent: str = "") -> str:
    """The metadata as indented plain text (README.txt, FlatGeobuf and KML descriptions)."""
    lines = []
    for key, value in about.items():
        if isinstance(value, dict):
            lines.append(f"{indent}{key}:")
            lines.append(about_text(value, indent + "  "))
        elif isinstance(value, list):
            lines.append(f"{indent}{key}:")
            lines += [f"{indent}  - {item}" for item in value]
        else:
            lines.append(f"{indent}{key}: {value}")
    return "\n".join(line for line in lines if line)


def about_rows(about: dict, prefix: str = "") -> list[tuple[str, str]]:
    """The metadata as (key, value) rows: nested keys joined with dots, list items numbered."""
    rows: list[tuple[str, str]] = []
    for key, value in about.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows += about_rows(value, name + ".")
        elif isinstance(value, list):
            rows += [(f"{name}.{i}", str(item)) for i, item in enumerate(value, 1)]
        else:
            rows.append((name, str(value)))
    return rows


# -- one writer per format -----------------------------------------------------------------

def _geojson(parts: list[Part], path: Path, about: dict) -> dict:
    members = json.dumps({"metadata": about}, ensure_ascii=False)
    _write(parts[0], path, "GeoJSON", layer_options={
        "RFC7946": "YES", "WRITE_BBOX": "YES", "FOREIGN_MEMBERS_COLLECTION": members})
    return about


def _gpkg(parts: list[Part], path: Path, about: dict) -> dict:
    # Dataset metadata goes to the gpkg_metadata extension; each layer's DESCRIPTION becomes its
    # gpkg_contents description, which GIS software shows as the layer's abstract.
    flat = dict(about_rows(about))
    text = about_text(about)
    for i, part in enumerate(parts):
        _write(part, path, "GPKG", dataset_metadata=flat if i == 0 else None,
               layer_metadata={"IDENTIFIER": part.name, "DESCRIPTION": text})
    return about


def _fgb(parts: list[Part], path: Path, about: dict) -> dict:
    part = parts[0]
    # The packed spatial index cannot hold features without geometry (unlocated actions).
    index = "YES" if not shapely.is_missing(part.frame.geometry.values).any() else "NO"
    if index == "YES":
        about = {**about, "notes": [*about.get("notes", []),
                                    "Features are in the order of the file's spatial index."]}
    _write(part, path, "FlatGeobuf", layer_options={
        "TITLE": about.get("title", part.name), "DESCRIPTION": about_text(about),
        "SPATIAL_INDEX": index})
    return about


def _kml(parts: list[Part], path: Path, about: dict) -> dict:
    # KML keeps `id` for the Placemark's own XML id, so a record's id travels as record_id.
    part = parts[0]
    if "id" in part.frame.columns:
        about = {**about, "field_names": {part.name: {"id": "record_id"}}}
        part = Part(part.name, part.frame.rename(columns={"id": "record_id"}), part.geometry_type)
    _write(part, path, "LIBKML", dataset_options={
        "NAME": about.get("title", part.name), "DESCRIPTION": about_text(about)})
    return about


def _zipped(write_data: Callable[[list[Part], Path, dict], list[Path]]) -> Writer:
    """A writer that puts the data files and README.txt (the metadata) in one .zip."""
    def writer(parts: list[Part], path: Path, about: dict) -> dict:
        folder = path.parent / "parts"
        folder.mkdir()
        about = dict(about)
        files = write_data(parts, folder, about)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for file in files:
                archive.write(file, file.name)
            archive.writestr("README.txt", about_text(about) + "\n")
        return about
    return writer


def _plain(write_data: Callable[[list[Part], Path, dict], list[Path]]) -> Writer:
    """A writer of the one data file alone, without README.txt (a plain .csv)."""
    def writer(parts: list[Part], path: Path, about: dict) -> dict:
        folder = path.parent / "parts"
        folder.mkdir()
        about = dict(about)
        (data,) = write_data(parts, folder, about)
        os.replace(data, path)
        return about
    return writer


def _shp(parts: list[Part], folder: Path, about: dict) -> list[Path]:
    part = parts[0]
    renamed = short_names([c for c in part.frame.columns if c != part.frame.geometry.name])
    frame = _fit_dbf_text(part.frame.rename(columns=renamed))
    _write(Part(part.name, frame, part.geometry_type), folder / f"{part.name}.shp",
           "ESRI Shapefile", layer_options={"ENCODING": "UTF-8"})
    changed = {old: new for old, new in renamed.items() if old != new}
    if changed:
        about["field_names"] = {part.name: changed}
    about.setdefault("notes", []).append(
        f"Shapefile text fields hold at most {SHP_TEXT_BYTES} bytes; longer text is cut there.")
    return [folder / f"{part.name}{ext}" for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")]


def short_names(columns: list[str], limit: int = SHP_FIELD_CHARS) -> dict[str, str]:
    """Each column's name cut to `limit` characters, unique ignoring case: a clash keeps a
    shorter stem and a number (community_action_plan -> community_, then communit_1)."""
    taken = {c.lower() for c in columns if len(c) <= limit}
    out = {}
    for column in columns:
        name = column
        if len(column) > limit:
            name, n = column[:limit], 0
            while name.lower() in taken:
                n += 1
                name = f"{column[:limit - len(str(n)) - 1]}_{n}"
        taken.add(name.lower())
        out[column] = name
    return out


def _fit_dbf_text(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    for column in out.columns:
        if column != out.geometry.name and pd.api.types.is_string_dtype(out[column]):
            out[column] = [v.encode()[:SHP_TEXT_BYTES].decode(errors="ignore")
                           if isinstance(v, str) else v for v in out[column]]
    return out


def _csv_wkt(parts: list[Part], folder: Path, about: dict) -> list[Path]:
    path = folder / f"{parts[0].name}.csv"
    pyogrio.write_dataframe(safe_frame(parts[0].frame), path, driver="CSV",
                            layer_options={"GEOMETRY": "AS_WKT"})
    about["geometry"] = "WKT in the first column"
    return [path]


def _csv_xy(parts: list[Part], folder: Path, about: dict) -> list[Path]:
    frame = parts[0].frame
    x, y = ("easting", "northing") if epsg_of(frame.crs) == 27700 else ("lon", "lat")
    points = frame.geometry.values
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    missing = shapely.is_missing(points)
    table[x] = np.where(missing, np.nan, shapely.get_x(points))
    table[y] = np.where(missing, np.nan, shapely.get_y(points))
    path = folder / f"{parts[0].name}.csv"
    pyogrio.write_dataframe(safe_frame(table), path, driver="CSV")
    about["geometry"] = f"points in the columns {x} and {y} (empty where a record has no point)"
    return [path]


FORMATS: dict[str, Format] = {
    "geojson": Format("GeoJSON", ".geojson", "application/geo+json", _geojson, lonlat_only=True),
    "gpkg": Format("GPKG", ".gpkg", "application/geopackage+sqlite3", _gpkg,
                   several_layers=True),
    "shp": Format("ESRI Shapefile", ".shp.zip", "application/zip", _zipped(_shp)),
    "kml": Format("LIBKML", ".kml", "application/vnd.google-earth.kml+xml", _kml,
                  lonlat_only=True),
    "csv": Format("CSV", ".csv.zip", "application/zip", _zipped(_csv_wkt),
                  plain_writer=_plain(_csv_wkt)),
    "csv-lonlat": Format("CSV", ".csv.zip", "application/zip", _zipped(_csv_xy),
                         points_only=True, plain_writer=_plain(_csv_xy)),
    "fgb": Format("FlatGeobuf", ".fgb", "application/flatgeobuf", _fgb),
}
