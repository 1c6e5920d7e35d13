"""GeoDataFrames to database rows and back. Geometry crosses as WKB in EPSG:4326."""

from __future__ import annotations

from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core.crs import STORAGE_CRS

# Values every database driver binds as they are.
_PLAIN_TYPES = {str, int, float, bool, bytes, type(None), date, datetime}


def to_rows(frame: pd.DataFrame, columns: list[str], geom_cols: tuple[str, ...] = ("geom",),
            bbox_from: str | None = "geom") -> list[dict]:
    """Rows ready for an INSERT: geometries as WKB, bbox columns filled, NaN as NULL."""
    data = {}
    for col in columns:
        values = frame[col].to_numpy(dtype=object) if col in frame else np.full(len(frame), None)
        data[col] = [None if _missing(v) else _plain(v) for v in values]
    for col in geom_cols:
        geoms = np.asarray(frame[col].to_numpy(), dtype=object)
        data[col] = list(shapely.to_wkb(geoms, include_srid=False))
    if bbox_from:
        bounds = shapely.bounds(np.asarray(frame[bbox_from].to_numpy(), dtype=object))
        for i, name in enumerate(("minx", "miny", "maxx", "maxy")):
            data[name] = [None if np.isnan(b) else float(b) for b in bounds[:, i]]
    keys = list(data)
    return [dict(zip(keys, row, strict=True)) for row in zip(*data.values(), strict=True)]


def to_columns(frame: pd.DataFrame, columns: list[str], geom_cols: tuple[str, ...] = ("geom",),
               bbox_from: str | None = "geom") -> dict[str, list]:
    """Column-major values for a batched write: Python scalars with None for missing values,
    geometry columns as arrays of shapely geometries (EPSG:4326), bbox columns filled."""
    data: dict[str, list] = {}
    for col in columns:
        data[col] = _plain_list(frame[col]) if col in frame else [None] * len(frame)
    for col in geom_cols:
        data[col] = np.asarray(frame[col].to_numpy(), dtype=object)
    if bbox_from:
        bounds = shapely.bounds(np.asarray(frame[bbox_from].to_numpy(), dtype=object))
        for i, name in enumerate(("minx", "miny", "maxx", "maxy")):
            column = bounds[:, i].astype(object)
            column[np.isnan(bounds[:, i])] = None
            data[name] = column.tolist()
    return data


def _plain_list(series: pd.Series) -> list:
    """A column as Python values (numpy and pandas scalars converted), missing values as None."""
    if series.dtype.kind == "M":
        # The index's method: the Series one warns on pandas 2 and changed its return in 3.
        values = np.asarray(pd.DatetimeIndex(series).to_pydatetime(), dtype=object)
    else:
        values = series.astype(object).to_numpy()
    missing = pd.isna(values)
    if missing.any():
        values = values.copy()
        values[missing] = None
    if series.dtype.kind == "O" and not set(map(type, values)) <= _PLAIN_TYPES:
        return [_plain(v) for v in values]
    return values.tolist()


def _missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and np.isnan(value)


def _plain(value):
    """numpy scalars to Python ones, so every DB driver binds them."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def from_rows(rows, columns: list[str], geom_cols: tuple[str, ...] = ("geom",),
              geometry: str = "geom") -> gpd.GeoDataFrame:
    """A GeoDataFrame in EPSG:4326 from result rows whose geometry columns hold WKB."""
    rows = list(rows)
    frame = pd.DataFrame.from_records(rows, columns=columns) if rows else pd.DataFrame(
        {c: pd.Series(dtype=object) for c in columns}
    )
    for col in geom_cols:
        wkb = np.array([bytes(v) if v is not None else None for v in frame[col]], dtype=object)
        frame[col] = gpd.GeoSeries(shapely.from_wkb(wkb), index=frame.index, crs=STORAGE_CRS)
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=STORAGE_CRS)
