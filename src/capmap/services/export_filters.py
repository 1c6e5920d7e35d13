"""Export filters: parsed from request parameters, then applied to a layer's frame.

bbox and area test geometry (lon/lat); plan, theme and dates test attributes. A filter that does not
apply to a kind of layer is left to the caller to refuse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core import parse
from capmap.core.crs import STORAGE_CRS
from capmap.core.errors import NotFound, ValidationError
from capmap.services.engine import Engine


@dataclass(frozen=True)
class ExportFilters:
    """Which features an export keeps; everything when no field is set."""

    bbox: tuple[float, float, float, float] | None = None   # lon/lat
    area: tuple[str, str] | None = None                     # (layer id, code)
    plans: tuple[int, ...] = ()
    theme: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def given(self) -> set[str]:
        """Names of the filters set: bbox, area, plan, theme, dates."""
        values = {"bbox": self.bbox, "area": self.area, "plan": self.plans, "theme": self.theme,
                  "dates": self.date_from or self.date_to}
        return {name for name, value in values.items() if value}

    def describe(self) -> dict[str, str]:
        """The filters set, as text for the metadata."""
        out = {"bbox": self.bbox and ",".join(f"{v:g}" for v in self.bbox) + " (lon/lat)",
               "area": self.area and " ".join(self.area),
               "plan": ",".join(map(str, self.plans)), "theme": self.theme,
               "from": self.date_from and self.date_from.isoformat(),
               "to": self.date_to and self.date_to.isoformat()}
        return {k: v for k, v in out.items() if v}


def parse_filters(*, bbox: str | None = None, area: str | None = None, plan: str | None = None,
                  theme: str | None = None, date_from: str | None = None,
                  date_to: str | None = None) -> ExportFilters:
    """Filters from text as typed on a command line or in a URL; 400 or 422 when malformed."""
    start, end = parse.iso_date(date_from, "from"), parse.iso_date(date_to, "to")
    if start and end and start > end:
        raise ValidationError(f"from {start} is after to {end}; give from on or before to")
    return ExportFilters(bbox=parse.bbox(bbox) if bbox else None,
                         area=parse.layer_code(area) if area else None,
                         plans=parse.ids(plan, "plan") if plan else (), theme=(theme or "").strip() or None,
                         date_from=start, date_to=end)


def parse_crs(raw: str | None) -> str:
    """EPSG:4326 or EPSG:27700 from "4326", "epsg:27700" and the like (default EPSG:4326)."""
    text = (raw or "").strip().upper().removeprefix("EPSG:")
    return f"EPSG:{text}" if text else STORAGE_CRS


def filtered(frame: gpd.GeoDataFrame, where: np.ndarray | None, kind: str,
              filters: ExportFilters, engine: Engine) -> gpd.GeoDataFrame:
    geoms = frame.geometry.values if where is None else where
    keep = np.ones(len(frame), dtype=bool)
    if filters.bbox:
        keep &= shapely.intersects(geoms, shapely.box(*filters.bbox))
    if filters.area:
        shape = area_shape(engine, *filters.area)
        # Interiors must meet: a neighbouring area sharing only an edge is not in the area.
        keep &= shapely.intersects(geoms, shape) & ~shapely.touches(geoms, shape)
    if filters.plans and kind in ("plans", "actions"):
        known = set(engine.plans().plans["id"])
        unknown = [p for p in filters.plans if p not in known]
        if unknown:
            raise ValidationError(f"plan {', '.join(map(str, unknown))} not found")
        keep &= frame["id" if kind == "plans" else "plan_id"].isin(filters.plans).to_numpy()
    if filters.theme and kind in ("plans", "actions", "responses"):
        column = frame["theme" if kind == "actions" else "themes"]
        keep &= np.array([isinstance(v, str) and filters.theme in
                          {t.strip() for t in v.split(";")} for v in column], dtype=bool)
    if (filters.date_from or filters.date_to) and kind in ("plans", "actions", "responses",
                                                           "pins"):
        keep &= _in_dates(frame, kind, filters.date_from, filters.date_to)
    return frame[keep]


def area_shape(engine: Engine, layer_id: str, code: str) -> shapely.Geometry:
    try:
        state = engine.layer(layer_id)
    except NotFound as exc:
        raise ValidationError(f"area filter: {exc.message}") from exc
    row = state.row_of.get(code)
    if row is None:
        raise ValidationError(f"area filter: code {code!r} is not in layer {layer_id}")
    shape = state.areas.geometry.iat[row]
    shapely.prepare(shape)
    return shape


def _day(value: object) -> date | None:
    if value is None or pd.isna(value):
        return None
    return value.date() if isinstance(value, datetime) else value


def _in_dates(frame: pd.DataFrame, kind: str, start: date | None, end: date | None) -> np.ndarray:
    """Plans whose period meets [start, end] (a missing start or end is open; a plan with
    neither is dropped); other records whose date falls in it (none: dropped)."""
    low, high = date.min, date.max
    if kind == "plans":
        spans = [(_day(a), _day(b)) for a, b in zip(frame["period_start"], frame["period_end"],
                                                      strict=True)]
    else:
        column = {"actions": "target_date", "responses": "date", "pins": "created"}[kind]
        spans = [(_day(v), _day(v)) for v in frame[column]]
    return np.array([(a or b) is not None and (a or low) <= (end or high)
                     and (b or high) >= (start or low) for a, b in spans], dtype=bool)
