"""Checks and repairs between reading a file and storing it.

Whole-layer rules (boundaries): a bad code or empty geometry refuses the import, listing codes.
Row rules (plans, actions, responses, pins): a bad row is rejected with its number and reason,
and the rest are kept. Row numbers count data rows from 1.
"""

from __future__ import annotations

from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core.crs import SCOTLAND, Region, check_lonlat, to_storage
from capmap.core.errors import ValidationError

_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def require_columns(frame: pd.DataFrame, wanted: dict[str, str | None], source: str) -> None:
    """Refuse a frame missing a named field: {setting name: column name}."""
    columns = [c for c in frame.columns if c != frame.geometry.name]
    for setting, column in wanted.items():
        if column and column not in frame.columns:
            raise ValidationError(
                f"{source}: {setting} {column!r} not found; columns are {', '.join(columns)}"
            )


def listed(items: list[str], limit: int = 20) -> str:
    """A comma list of at most `limit` items, saying how many more there are."""
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(str(i) for i in items[:limit]) + more


def polygon_parts(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repair invalid geometries with make_valid, keeping only polygon parts.

    Returns the geometries (MultiPolygon where repair split them) and a mask of those repaired.
    A geometry with no polygon area left comes back empty.
    """
    geoms = np.asarray(geoms, dtype=object).copy()
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    for i in np.flatnonzero(invalid):
        fixed = shapely.make_valid(geoms[i])
        parts = [p for p in shapely.get_parts(fixed) if shapely.get_type_id(p) in _POLYGONAL]
        polys = [q for p in parts for q in shapely.get_parts(p)]
        geoms[i] = shapely.multipolygons(polys) if polys else shapely.Polygon()
    return geoms, invalid


def in_storage_crs(frame: gpd.GeoDataFrame, source: str,
                   region: Region = SCOTLAND) -> gpd.GeoDataFrame:
    """The frame in EPSG:4326, refused if its coordinates are not finite or fall off-region."""
    geoms = frame.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if present.any():
        coords = shapely.get_coordinates(geoms[present])
        if not np.isfinite(coords).all():
            raise ValidationError(f"{source}: coordinates include NaN or infinite values")
    out = to_storage(frame)
    if present.any():
        check_lonlat(tuple(shapely.total_bounds(out.geometry.values[present])), region, source)
    return out


def in_storage_crs_rows(frame: gpd.GeoDataFrame, source: str, region: Region = SCOTLAND
                        ) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """The frame in EPSG:4326 and, per row, why its geometry is off-region (None if it is not).

    For files of records kept or rejected row by row: one mistyped or swapped row is that row's
    problem. A file with no geometry in the region at all is refused whole, as in_storage_crs
    does, since then its CRS (or axis order) is wrong rather than any one row.
    """
    geoms = frame.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    reasons = np.full(len(frame), None, dtype=object)
    if not present.any():
        return to_storage(frame), reasons
    if not np.isfinite(shapely.get_coordinates(geoms[present])).all():
        raise ValidationError(f"{source}: coordinates include NaN or infinite values")
    out = to_storage(frame)
    bounds = shapely.bounds(out.geometry.values)
    inside = present & _within(bounds, region)
    if not inside.any():
        check_lonlat(tuple(shapely.total_bounds(out.geometry.values[present])), region, source)
    swapped = _within(bounds, Region(region.min_lat, region.min_lon, region.max_lat,
                                     region.max_lon))
    for i in np.flatnonzero(present & ~inside):
        reasons[i] = _off_region(bounds[i], bool(swapped[i]), region)
    return out, reasons


def _within(bounds: np.ndarray, region: Region) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return ((bounds[:, 0] >= region.min_lon) & (bounds[:, 2] <= region.max_lon)
                & (bounds[:, 1] >= region.min_lat) & (bounds[:, 3] <= region.max_lat))


def _off_region(box: np.ndarray, swapped: bool, region: Region) -> str:
    minx, miny, maxx, maxy = (float(v) for v in box)
    where = (f"point ({minx:.5f}, {miny:.5f})" if (minx, miny) == (maxx, maxy) else
             f"geometry ({minx:.4f}, {miny:.4f}, {maxx:.4f}, {maxy:.4f})")
    if swapped:
        return (f"{where} is outside {region.name} and looks swapped: it would be inside as "
                "lat/lon; give longitude first")
    return (f"{where} is outside {region.name} (lon {region.min_lon} to {region.max_lon}, "
            f"lat {region.min_lat} to {region.max_lat})")


def as_float(series: pd.Series, column: str, source: str) -> pd.Series:
    """Numbers (nullable floats); refuse text that is not a number, naming the rows."""
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() & series.notna() & (series.astype(str).str.strip() != "")
    if bad.any():
        rows = [str(i + 1) for i in np.flatnonzero(bad.to_numpy())]
        raise ValidationError(f"{source}: {column} is not a number in rows {listed(rows)}")
    return numbers.astype("Float64")


def as_int(series: pd.Series, column: str, source: str) -> pd.Series:
    """Whole numbers (nullable); refuse text that is not a number, naming the rows."""
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna() & series.notna() & (series.astype(str).str.strip() != "")
    if bad.any():
        rows = [str(i + 1) for i in np.flatnonzero(bad.to_numpy())]
        raise ValidationError(f"{source}: {column} is not a number in rows {listed(rows)}")
    return numbers.round().astype("Int64")


def parse_date(value) -> date | None:
    """An ISO date (YYYY-MM-DD) or blank; ValueError otherwise."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    return date.fromisoformat(text[:10]) if text else None


def parse_datetime(value) -> datetime | None:
    """An ISO date-time (a trailing Z means UTC) or blank; ValueError otherwise."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def text(value) -> str:
    """A clean string for an optional text field ('' for blank)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    return str(value).strip()


def texts(frame: pd.DataFrame, column: str) -> np.ndarray:
    """text() of every value of a column, vectorised ('' throughout when the column is absent)."""
    if column not in frame:
        return np.full(len(frame), "", dtype=object)
    return per_value(frame[column], text)[0]


def per_value(series: pd.Series, func) -> tuple[np.ndarray, np.ndarray]:
    """func of every value, computed once per distinct value (a file's columns repeat a few
    values many times), and a mask of the values for which func raised ValueError (None there)."""
    codes, uniques = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=False)
    results = np.empty(len(uniques), dtype=object)
    failed = np.zeros(len(uniques), dtype=bool)
    for i, value in enumerate(uniques):
        try:
            results[i] = func(value)
        except ValueError:
            failed[i] = True
    return results[codes], failed[codes]


class RowErrors:
    """Collects rejected rows: (row number from 1, reason)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str]] = []
        self.bad: set[int] = set()

    def add(self, index: int, reason: str) -> None:
        """Reject the row at 0-based position `index`."""
        if index not in self.bad:
            self.bad.add(index)
            self.rows.append((index + 1, reason))

    def add_all(self, reasons: np.ndarray) -> None:
        """Reject every row whose reason (by position) is not None."""
        for index in np.flatnonzero(pd.notna(reasons)):
            self.add(int(index), reasons[index])

    def keep_mask(self, n: int) -> np.ndarray:
        """True for rows not rejected."""
        mask = np.ones(n, dtype=bool)
        mask[list(self.bad)] = False
        return mask
