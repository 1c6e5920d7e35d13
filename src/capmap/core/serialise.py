"""Records as plain JSON-ready dicts, for the API and pages. Public shapes only: a pin here never
carries its contact details or exact location."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping


def plain(value):
    """A JSON-ready scalar: ISO dates, None for missing, Python numbers."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    """The rows of a frame as dicts of `plain` values, converted a column at a time (a national
    table has 7,000 rows of ten columns: value by value was most of a coverage answer's time)."""
    names = [str(name) for name in frame.columns]
    columns = [_plain_column(frame[name]) for name in frame.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _plain_column(column: pd.Series) -> list:
    """`plain` of each value of a column; whole numeric columns at once."""
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return column.tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return [None if v != v else v for v in column.tolist()]  # NaN is not equal to itself
    if dtype.kind == "M":  # Python datetimes format many times faster than Timestamps
        return [plain(v) for v in column.array.to_pydatetime()]
    if isinstance(dtype, pd.Int64Dtype):
        return [None if v is None else int(v) for v in column.to_numpy(dtype=object, na_value=None)]
    return [v if type(v) is str else plain(v) for v in column.to_numpy(dtype=object)]


# One encoder: json.dumps with options builds a new one on every call, which costs more than
# encoding a short value.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def json_text(value) -> str:
    """JSON as the web app sends it: keys sorted, no spaces, non-ASCII escaped."""
    return _ENCODER.encode(value)


def _split(value) -> list[str]:
    text = plain(value) or ""
    return [t.strip() for t in str(text).split(";") if t.strip()]


def plan_json(row) -> dict:
    """A plan's details (no geometry)."""
    keys = ("id", "ref", "type", "title", "owner", "council_code", "period_start", "period_end",
            "review_due", "status", "link", "summary", "area_layer")
    out = {k: plain(row[k]) for k in keys}
    out["themes"] = _split(row["themes"])
    out["area_codes"] = _split(row["area_codes"])
    return out


ACTION_KEYS = ("id", "ref", "plan_id", "title", "description", "theme", "lead", "lead_type",
               "partners", "resources", "measure", "target_date", "status", "progress_note",
               "updated")


def action_json(row, plan_titles: dict[int, str]) -> dict:
    """An action with its plan's title; `located` says whether it has a point of its own."""
    out = {k: plain(row[k]) for k in ACTION_KEYS}
    out["plan_title"] = plan_titles.get(out["plan_id"], "")
    geom = row["geom"]
    out["located"] = geom is not None
    out["lon"], out["lat"] = (geom.x, geom.y) if geom is not None else (None, None)
    return out


def public_pin_json(row) -> dict:
    """A published pin at its moved point, without contact details."""
    point = row["public_geom"]
    return {"id": plain(row["id"]), "category": row["category"],
            "description": row["description"], "created": plain(row["created"]),
            "status": row["status"], "lon": point.x, "lat": point.y}


def _xy(points: np.ndarray) -> list[tuple[float | None, float | None]]:
    """(x, y) of each point, (None, None) where there is none."""
    out: list[tuple[float | None, float | None]] = [(None, None)] * len(points)
    located = np.flatnonzero(~shapely.is_missing(points))
    for i, (x, y) in zip(located.tolist(), shapely.get_coordinates(points[located]).tolist(),
                         strict=True):
        out[i] = (x, y)
    return out


def actions_json(actions: pd.DataFrame, plan_titles: dict[int, str]) -> list[dict]:
    """`action_json` of every row of an actions frame (geometry `geom`), column by column."""
    columns = {k: _plain_column(actions[k]) for k in ACTION_KEYS}
    xy = _xy(np.asarray(actions["geom"].values, dtype=object))
    rows = []
    for i in range(len(actions)):
        out = {k: values[i] for k, values in columns.items()}
        out["plan_title"] = plan_titles.get(out["plan_id"], "")
        out["located"] = xy[i][0] is not None
        out["lon"], out["lat"] = xy[i]
        rows.append(out)
    return rows


def public_pins_json(pins: pd.DataFrame) -> list[dict]:
    """`public_pin_json` of every row of a frame of public pin columns, column by column."""
    xy = shapely.get_coordinates(np.asarray(pins["public_geom"].values, dtype=object)).tolist()
    columns = [_plain_column(pins[k]) for k in ("id", "category", "description", "created", "status")]
    return [{"id": i, "category": c, "description": d, "created": t, "status": s, "lon": x, "lat": y}
            for i, c, d, t, s, (x, y) in zip(*columns, xy, strict=True)]


def point_features(frame: pd.DataFrame, columns: list[str]) -> dict:
    """A GeoJSON FeatureCollection of a frame's located points (its active geometry) with
    `columns` as properties, coordinates rounded to 1 m (5 decimals): for map overlays."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    values = {k: _plain_column(frame[k]) for k in columns}
    features = []
    for i, (x, y) in enumerate(_xy(geoms)):
        if x is None:
            continue
        features.append({"type": "Feature", "properties": {k: v[i] for k, v in values.items()},
                         "geometry": {"type": "Point", "coordinates": [round(x, 5), round(y, 5)]}})
    return {"type": "FeatureCollection", "features": features}


def geometry_features(frame: pd.DataFrame) -> dict:
    """A GeoJSON FeatureCollection of a frame's geometries with no properties, coordinates
    rounded to 1 m (5 decimals): an import preview's map."""
    geoms = shapely.transform(np.asarray(frame.geometry.values, dtype=object),
                              lambda xy: np.round(xy, 5))
    return {"type": "FeatureCollection",
            "features": [{"type": "Feature", "properties": {}, "geometry": mapping(g)}
                         for g in geoms]}
