"""Reading untrusted geodata files into GeoDataFrames, in the file's own CRS, within limits.

GeoJSON, GeoPackage, zipped Shapefile, KML and FlatGeobuf are read through pyogrio (GDAL, locked
down by `capmap.io.gdal_env`); CSV is read with pandas. Nothing is reprojected or repaired here.
Every failure is a CapmapError whose message names the file by its base name only, never by a
path on this machine.
"""

from __future__ import annotations

import io
import logging
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from capmap.core.errors import CapmapError, InputError, TooLarge, ValidationError
from capmap.io import sniff
from capmap.io.sniff import Source

log = logging.getLogger(__name__)

MB = 1024 * 1024
# Features per pyogrio read of formats with cheap random access: the vertex limits are checked
# after each batch, so at most one batch more than the limits allow is ever held in memory.
# GeoJSON and KML are read in one go: GDAL parses the whole file at every open, so batches would
# repeat that work without bounding memory (the byte limit bounds those files instead).
BATCH_FEATURES = 100_000
_BATCHED = (".gpkg", ".fgb", ".zip")
_MULTI_LAYER = (".gpkg", ".kml")
_GEOJSON = ("GeoJSON", "GeoJSONSeq")
DRIVERS = {".geojson": _GEOJSON, ".json": _GEOJSON, ".gpkg": ("GPKG",),
           ".zip": ("ESRI Shapefile",), ".kml": ("LIBKML", "KML"), ".fgb": ("FlatGeobuf",)}
FORMAT_NAMES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage",
                ".zip": "a zipped shapefile", ".kml": "KML", ".fgb": "FlatGeobuf", ".csv": "CSV"}
NO_CRS_HINT = "give one, e.g. --crs EPSG:27700"
_AUTHORITY_CODE = re.compile(r"^(EPSG|ESRI|OGC|IGNF):[A-Za-z0-9_.]+$", re.IGNORECASE)
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/[^\s'\",;:()]+")


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on one read: bytes on disk, zip contents, features and vertices (coordinates)."""

    max_bytes: int = 200 * MB
    max_zip_entries: int = 100
    max_uncompressed_bytes: int = 500 * MB
    max_features: int = 1_000_000
    max_vertices: int = 20_000_000
    max_vertices_per_feature: int = 1_000_000
    # A CSV of point records (responses, pins, actions) is read, checked and stored in batches,
    # so its memory stays flat however long it is, and a council's archive can pass a million
    # rows: it has bounds of its own, on rows and bytes, in place of max_features and max_bytes
    # (max_vertices then bounds each batch). 20 million rows is about twenty years of a large
    # council's engagement; 4 GiB holds them at some 200 bytes a row.
    max_point_rows: int = 20_000_000
    max_point_bytes: int = 4096 * MB


DEFAULT_LIMITS = ReadLimits()


def read_vector(path: str | os.PathLike[str], *, layer: str | None = None,
                crs: str | None = None, limits: ReadLimits = DEFAULT_LIMITS) -> gpd.GeoDataFrame:
    """One layer of a local geodata file as a GeoDataFrame, in the file's own CRS.

    `crs` (an authority code such as "EPSG:27700") is used only where the file states no CRS: a
    shapefile without .prj, a CSV with a WKT column, a GeoJSON without a "crs" member (which is
    otherwise EPSG:4326 by RFC 7946). CSV geometry comes from a wkt|geometry|geom column,
    lon|lng|long|longitude with lat|latitude (EPSG:4326) or easting|northing (EPSG:27700), in
    that order of preference; rows with blank coordinates get a None geometry, and a CSV with
    none of these columns gets None geometries labelled EPSG:4326. CSV values stay text.
    """
    fallback = _parse_crs(crs)
    with _opened(path, limits) as src:
        if src.ext == ".csv":
            return _read_csv(src, fallback, limits)
        if src.ext == ".zip" and fallback is None and not src.path.with_suffix(".prj").exists():
            raise ValidationError(f"{src.name}: the shapefile has no .prj file, so it has no CRS; "
                                  f"{NO_CRS_HINT}")
        return _read_gdal(src, layer, fallback, limits)


def list_layers(path: str | os.PathLike[str], *, limits: ReadLimits = DEFAULT_LIMITS) -> list[str]:
    """The layer names in a file (one for a zipped shapefile or a CSV: its base name)."""
    with _opened(path, limits) as src:
        if src.ext == ".csv":
            return [src.path.stem]
        with _gdal_errors(src):
            return [str(name) for name in pyogrio.list_layers(str(src.path))[:, 0]]


def _opened(path: str | os.PathLike[str], limits: ReadLimits) -> AbstractContextManager[Source]:
    return sniff.opened(path, max_bytes=limits.max_bytes, max_zip_entries=limits.max_zip_entries,
                        max_uncompressed_bytes=limits.max_uncompressed_bytes)


def _parse_crs(crs: str | None) -> CRS | None:
    if crs is None:
        return None
    # Only authority codes: PROJ strings and WKT can name init files and grids on this machine.
    if not isinstance(crs, str) or not _AUTHORITY_CODE.match(crs.strip()):
        raise InputError(f"crs {crs!r} is not an authority code; expected e.g. EPSG:27700")
    try:
        return CRS.from_user_input(crs.strip())
    except CRSError:
        raise InputError(f"crs {crs!r} is not a CRS this system knows; expected e.g. "
                         "EPSG:27700") from None


def _public_message(exc: BaseException, src: Source) -> str:
    """The first line of an error with this machine's paths taken out, kept short."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    text = text.rpartition(") failed: ")[2]  # drop the SQL GDAL quotes before SQLite's reason
    text = "; ".join(dict.fromkeys(text.split("; ")))  # GDAL often repeats the reason
    for real in sorted(src.hidden, key=len, reverse=True):
        text = text.replace(real, src.hidden[real])
    text = _ABSOLUTE_PATH.sub("<path>", text)
    return text if len(text) <= 200 else text[:197] + "..."


@contextmanager
def _gdal_errors(src: Source) -> Iterator[None]:
    """Turn any pyogrio/GDAL failure into an InputError, and GDAL's warnings into log lines."""
    # GDAL's warnings describe the uploaded file, not a fault in the calling code, so they are
    # logged rather than passed on (where a warnings filter could turn them into errors).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        except CapmapError:
            raise
        except MemoryError:
            raise TooLarge(f"{src.name}: too large to read into memory") from None
        except Exception as exc:
            log.debug("reading %s failed", src.path, exc_info=True)
            raise InputError(f"{src.name} could not be read as {FORMAT_NAMES[src.ext]}: "
                             f"{_public_message(exc, src)}") from None
        finally:
            for warning in caught:
                log.debug("reading %s: %s", src.name, warning.message)


def _read_gdal(src: Source, layer: str | None, fallback: CRS | None,
               limits: ReadLimits) -> gpd.GeoDataFrame:
    with _gdal_errors(src):
        name = _choose_layer(src, layer) if src.ext in _MULTI_LAYER else None
        try:
            info = pyogrio.read_info(str(src.path), layer=name, force_feature_count=True)
        except IndexError:  # pyogrio's way of saying GDAL opened the file but found no layer
            raise InputError(f"{src.name}: no layer can be read from it as "
                             f"{FORMAT_NAMES[src.ext]}; the file is damaged or its header does "
                             "not match its content") from None
    name = info["layer_name"]
    if layer is not None and layer != name:
        raise InputError(f"{src.name}: no layer {layer!r}; the only layer is {name!r}")
    if info["driver"] not in DRIVERS[src.ext]:
        raise InputError(f"{src.name}: GDAL reads the content as {info['driver']}, not "
                         f"{FORMAT_NAMES[src.ext]}; refused")
    if info["features"] > limits.max_features:
        raise TooLarge(f"{src.name}: {info['features']:,} features; the limit is "
                       f"{limits.max_features:,}")
    file_crs = info["crs"]
    if fallback is not None and not src.states_crs:
        file_crs = None  # GDAL reports GeoJSON's default (RFC 7946); the caller knows better
    if file_crs is None and fallback is None:
        raise ValidationError(f"{src.name} has no CRS; {NO_CRS_HINT}")
    with _gdal_errors(src):
        frame = _read_any_text(src, name, info["features"], limits)
    if file_crs is None:
        frame = frame.set_crs(fallback, allow_override=True)
    return frame


def _choose_layer(src: Source, layer: str | None) -> str:
    found = pyogrio.list_layers(str(src.path))
    names = [str(name) for name in found[:, 0]]
    if layer is not None:
        if layer not in names:
            raise InputError(f"{src.name}: no layer {layer!r}; layers are {', '.join(names)}")
        return layer
    spatial = [str(name) for name, kind in found if kind is not None] or names
    if len(spatial) == 1:
        return spatial[0]
    if not spatial:
        raise InputError(f"{src.name} holds no layers")
    raise InputError(f"{src.name} holds {len(spatial)} layers; choose one (--layer): "
                     f"{', '.join(spatial[:50])}")


def _read_any_text(src: Source, layer: str, total: int, limits: ReadLimits) -> gpd.GeoDataFrame:
    """Read text as declared (UTF-8 by default), else each value as UTF-8 or Latin-1."""
    # The fallback reads the raw bytes as Latin-1 (which never fails) and then decodes each value
    # as UTF-8 where it is valid, so one bad value does not garble the rest.
    try:
        return _read_batches(src, layer, total, limits, encoding=None)
    except UnicodeDecodeError:
        log.info("%s: text is not valid in its declared encoding; reading it as Latin-1", src.name)
    if src.ext == ".zip":
        # Our private copy: a .cpg naming the wrong encoding overrides any encoding we pass.
        src.path.with_suffix(".cpg").write_text("ISO-8859-1", encoding="ascii")
        frame = _read_batches(src, layer, total, limits, encoding=None)
    else:
        frame = _read_batches(src, layer, total, limits, encoding="latin-1")
    return _utf8_where_valid(frame)


def _utf8_where_valid(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    def fix(value: object) -> object:
        if not isinstance(value, str):
            return value
        try:
            return value.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return value

    for column in frame.columns:
        if column != frame.geometry.name and frame[column].dtype.kind == "O":  # text columns
            frame[column] = frame[column].map(fix, na_action="ignore")
    return frame.rename(columns=fix)


def _read_batches(src: Source, layer: str, total: int, limits: ReadLimits,
                  encoding: str | None) -> gpd.GeoDataFrame:
    frames: list[gpd.GeoDataFrame] = []
    start = vertices = 0
    size = BATCH_FEATURES if src.ext in _BATCHED else limits.max_features + 1
    while True:
        part = pyogrio.read_dataframe(str(src.path), layer=layer, encoding=encoding,
                                      skip_features=start, max_features=size)
        vertices = _check_vertices(part.geometry.values, start, vertices, src.name, limits)
        if len(part) or not frames:
            frames.append(part)
        start += len(part)
        if len(part) < size or 0 <= total <= start:
            break
        if start >= limits.max_features:
            raise TooLarge(f"{src.name}: more than {limits.max_features:,} features; the limit "
                           f"is {limits.max_features:,}")
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _check_vertices(geoms: object, offset: int, so_far: int, name: str,
                    limits: ReadLimits) -> int:
    """The running vertex total after these geometries; TooLarge past either limit."""
    counts = shapely.get_num_coordinates(np.asarray(geoms, dtype=object))
    over = np.flatnonzero(counts > limits.max_vertices_per_feature)
    if over.size:
        row = int(over[0])
        raise TooLarge(f"{name}: feature {offset + row + 1} has {int(counts[row]):,} vertices; "
                       f"the limit per feature is {limits.max_vertices_per_feature:,}")
    total = so_far + int(counts.sum())
    if total > limits.max_vertices:
        raise TooLarge(f"{name}: more than {limits.max_vertices:,} vertices in all; the limit is "
                       f"{limits.max_vertices:,}")
    return total


# CSV: header names (compared in lower case, trimmed) that carry geometry, in order of preference.
_WKT_NAMES = ("wkt", "geometry", "geom")
_XY_NAMES = ((("lon", "lng", "long", "longitude"), ("lat", "latitude"), "EPSG:4326"),
             (("easting",), ("northing",), "EPSG:27700"))


def _read_csv(src: Source, fallback: CRS | None, limits: ReadLimits) -> gpd.GeoDataFrame:
    return csv_geometries(_csv_frame(src, limits), src.name, fallback, limits)


def csv_geometries(frame: pd.DataFrame, name: str, fallback: CRS | None, limits: ReadLimits,
                   offset: int = 0) -> gpd.GeoDataFrame:
    """A CSV's text frame with its geometry (see read_vector); `offset` is the number of data
    rows of the file before this frame, so messages name the file's own rows."""
    columns: dict[str, str] = {}
    for column in frame.columns:
        columns.setdefault(str(column).strip().lower(), column)
    wkt = next((columns[n] for n in _WKT_NAMES if n in columns), None)
    geoms = np.full(len(frame), None, dtype=object)
    crs: CRS | str | None = "EPSG:4326"  # no geometry columns: nothing to place; storage CRS
    if wkt is not None:
        if fallback is None:
            raise ValidationError(f"{name}: column {wkt!r} holds WKT, which has no CRS; "
                                  f"{NO_CRS_HINT}")
        geoms, crs = _wkt_geometries(frame[wkt], name, wkt, offset), fallback
        frame = frame.drop(columns=wkt)
    else:
        for x_names, y_names, pair_crs in _XY_NAMES:
            x = next((columns[n] for n in x_names if n in columns), None)
            y = next((columns[n] for n in y_names if n in columns), None)
            if x is None and y is None:
                continue
            if x is None or y is None:
                raise ValidationError(f"{name}: column {x or y!r} has no partner; expected "
                                      f"{'|'.join(x_names)} with {'|'.join(y_names)}")
            geoms, crs = _points(frame, x, y, name, offset), pair_crs
            break
    _check_vertices(geoms, offset, 0, name, limits)
    frame = frame.rename(columns={"geometry": "geometry_text"})  # a text column left over
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, index=frame.index), crs=crs)


def _csv_frame(src: Source, limits: ReadLimits) -> pd.DataFrame:
    """Every value as text ('' when blank), so codes such as 012345 keep their zeros."""
    text = _decode(src.path.read_bytes())
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t|", key=header.count) if any(c in header for c in ",;\t|") else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delimiter, dtype=str, keep_default_na=False,
                            na_filter=False, nrows=limits.max_features + 1)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise InputError(f"{src.name} could not be read as CSV: "
                         f"{_public_message(exc, src)}") from None
    if len(frame) > limits.max_features:
        raise TooLarge(f"{src.name}: more than {limits.max_features:,} rows; the limit is "
                       f"{limits.max_features:,}")
    return frame


def _decode(raw: bytes) -> str:
    """UTF-16 with a byte-order mark, else UTF-8, else Windows-1252, else Latin-1 (never fails)."""
    encodings = ("utf-16",) if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else ()
    for encoding in (*encodings, "utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _bad_rows(name: str, what: str, bad: np.ndarray, offset: int = 0) -> ValidationError:
    rows = np.flatnonzero(bad) + 1 + offset
    shown = ", ".join(str(r) for r in rows[:20])
    more = f" ({len(rows)} rows in all)" if len(rows) > 20 else ""
    return ValidationError(f"{name}: {what} in rows {shown}{more} (data rows counted from 1)")


def _points(frame: pd.DataFrame, x: str, y: str, name: str, offset: int = 0) -> np.ndarray:
    xs, x_blank, x_bad = _numbers(frame[x])
    ys, y_blank, y_bad = _numbers(frame[y])
    bad = x_bad | y_bad | (x_blank != y_blank)
    if bad.any():
        raise _bad_rows(name, f"coordinates {x!r}/{y!r} are not numbers", bad, offset)
    present = ~x_blank
    geoms = np.full(len(frame), None, dtype=object)
    geoms[present] = shapely.points(xs[present], ys[present])
    return geoms


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(floats, blank, bad): a value is bad when it is not blank and not a finite number."""
    text = values.astype(str).str.strip()
    blank = (text == "").to_numpy()
    numbers = pd.to_numeric(text.mask(blank), errors="coerce").to_numpy(dtype=float,
                                                                         na_value=np.nan)
    return numbers, blank, ~blank & ~np.isfinite(numbers)


def _wkt_geometries(values: pd.Series, name: str, column: str, offset: int = 0) -> np.ndarray:
    text = values.astype(str).str.strip().to_numpy(dtype=object)
    blank = text == ""
    geoms = np.full(len(text), None, dtype=object)
    geoms[~blank] = shapely.from_wkt(text[~blank], on_invalid="ignore")
    bad = ~blank & shapely.is_missing(geoms)
    if bad.any():
        raise _bad_rows(name, f"column {column!r} is not valid WKT", bad, offset)
    return geoms
