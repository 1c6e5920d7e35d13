"""Residents' pins: reading the form, placing and storing a pin, and what the public may see.

A pin keeps its exact point server-side; the public only ever sees a public point, moved by a
guaranteed minimum distance (or snapped to the centre of a grid cell), so a pin dropped on a
doorstep is never shown there. Public map data is read from `public_pin_points`, which does not
even select the exact point or the contact details.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import shapely

from capmap.core import parse
from capmap.core.crs import STORAGE_CRS, Region, bng_to_lonlat, lonlat_to_bng
from capmap.core.errors import InputError, NotFound, ValidationError
from capmap.core.models import PIN_CATEGORIES
from capmap.core.policy import DEFAULT_POLICY, PIN_PUBLIC_MODES, PUBLIC_PIN_STATUSES, PinRules
from capmap.core.serialise import actions_json
from capmap.io.prepare import prepare_pins
from capmap.services.engine import Engine, StoreVersions
from capmap.services.planscape import lookup, neighbourhood_at
from capmap.spatial import privacy
from capmap.storage import Store
from capmap.storage.moderation import DECISIONS as DECISIONS

CATEGORIES = PIN_CATEGORIES
# The action theme closest to each category, to put related actions first.
CATEGORY_THEMES = {"potholes_roads": "transport", "street_lighting": "community_safety",
                   "litter_flytipping": "environment", "antisocial_behaviour": "community_safety",
                   "green_space": "greenspace", "housing_repairs": "housing",
                   "transport": "transport"}
CELLS_ACROSS = 48  # server-side aggregation: about this many cells across the bbox


@dataclass(frozen=True)
class NewPin:
    """A resident's pin as read from the form: lon/lat in EPSG:4326."""

    lon: float
    lat: float
    category: str
    description: str
    contact: str | None = None


def _number(value: str | None, name: str, problems: list[str]) -> float | None:
    try:
        return parse.number(value, name)
    except InputError as exc:
        problems.append(exc.message)
        return None


def read_pin_form(form: Mapping[str, str], rules: PinRules = DEFAULT_POLICY.pins) -> NewPin:
    """The fields of a pin form (lon, lat, category, description, contact), checked."""
    problems: list[str] = []
    lon, lat = _number(form.get("lon"), "lon", problems), _number(form.get("lat"), "lat", problems)
    if (lon is None or lat is None) and not problems:
        problems.append("no place given: click the map, search a postcode or choose a "
                        "neighbourhood")
    category = (form.get("category") or "").strip()
    if category not in CATEGORIES:
        problems.append(f"choose a category; expected one of {', '.join(CATEGORIES)}")
    # Browsers send new lines as CR LF; count them as one character, as the page's limit does.
    description = (form.get("description") or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not description:
        problems.append("describe the problem")
    elif len(description) > rules.description_max:
        problems.append(f"the description has {len(description):,} characters; the limit is "
                        f"{rules.description_max:,}")
    contact = (form.get("contact") or "").replace("\x00", "").strip() or None
    if contact and len(contact) > rules.contact_max:
        problems.append(f"the contact details have {len(contact)} characters; the limit is "
                        f"{rules.contact_max}")
    if problems:
        raise ValidationError("; ".join(problems), details=problems)
    return NewPin(lon, lat, category, description, contact)


def postcode_place(store: Store, value: str) -> tuple[float, float, str]:
    """Lon, lat and normalised postcode of a stored postcode."""
    postcode = parse.required_postcode(value)
    point = store.postcode_point(postcode)
    if point is None:
        raise NotFound(f"postcode {postcode} is not in our list; try a neighbourhood instead")
    return point.x, point.y, postcode


def neighbourhood_place(engine: Engine, code: str) -> tuple[float, float, str]:
    """Lon, lat (a point inside the area) and name of a neighbourhood."""
    hoods = engine.neighbourhoods()
    if hoods is None or code not in hoods.row_of:
        raise NotFound(f"neighbourhood {code[:20]!r} not found")
    row = hoods.row_of[code]
    point = hoods.inner_points[row]
    return round(point.x, 6), round(point.y, 6), hoods.areas["name"].iloc[row]


def neighbourhood_choices(engine: Engine) -> list[tuple[str, str]]:
    """(code, name) of every neighbourhood, by name."""
    hoods = engine.neighbourhoods()
    if hoods is None:
        return []
    return sorted(zip(hoods.areas["code"], hoods.areas["name"], strict=True), key=lambda c: c[1])


def snap_to_grid(points: np.ndarray, grid_m: float) -> np.ndarray:
    """Lon/lat points moved to the centre of their `grid_m` square of the British National Grid."""
    xy = shapely.get_coordinates(points)
    e, n = lonlat_to_bng(xy[:, 0], xy[:, 1])
    lon, lat = bng_to_lonlat((np.floor(e / grid_m) + 0.5) * grid_m,
                             (np.floor(n / grid_m) + 0.5) * grid_m)
    return shapely.points(np.round(lon, 6), np.round(lat, 6))


def public_points(points: np.ndarray, rules: PinRules, key: bytes) -> np.ndarray:
    """The points the public sees: moved between the configured distances by the store's pin
    key (capmap.spatial.privacy), or snapped to grid cell centres. Both are functions of the
    place alone, so repeated pins at one place never average back to it."""
    if rules.public_mode == "grid":
        return snap_to_grid(points, rules.grid_m)
    if rules.public_mode != "displace":
        raise ValueError(f"public mode {rules.public_mode!r}; expected one of {PIN_PUBLIC_MODES}")
    return privacy.keyed_points(points, key, rules.offset_min_m, rules.offset_max_m,
                                rules.snap_m)


def submit_pin(store: Store, engine: Engine, pin: NewPin, rules: PinRules = DEFAULT_POLICY.pins,
               region: Region = DEFAULT_POLICY.region) -> int:
    """Store a resident's pin as pending, with its public point and area assignments; its id."""
    neighbourhood_at(engine, pin.lon, pin.lat, region)  # refuses a point in no area
    raw = gpd.GeoDataFrame(
        {"category": [pin.category], "description": [pin.description],
         "contact": [pin.contact or ""], "status": ["pending"],
         "created": [datetime.now(UTC).isoformat()]},
        geometry=[shapely.Point(pin.lon, pin.lat)], crs=STORAGE_CRS)
    # The same preparation as `capmap import pins`, so both paths store the same rows.
    pins, errors = prepare_pins(raw, "pin form", region)
    if errors.rows:
        raise ValidationError(errors.rows[0][1])
    pins["public_geom"] = public_points(pins.geometry.values, rules, store.pin_key())
    return store.put_pins(pins, engine.assign(pins.geometry.values))[0]


def already_planned(engine: Engine, store: Store, lon: float, lat: float, category: str) -> dict:
    """At a pin's exact point: the areas and covering plans, and the actions of those plans that
    cover their whole area or lie in the pin's neighbourhood (same theme first)."""
    found = lookup(engine, lon, lat)
    plan_ids = {p["id"] for p in found["plans"]}
    hoods = engine.neighbourhoods()
    code = hoods.index.lookup(lon, lat) if hoods is not None else None
    # Only this neighbourhood's located actions and the covering plans' plan-wide ones are read.
    area = hoods.areas.geometry.values[hoods.row_of[code]] if code is not None else None
    actions = store.actions_in(area, plan_ids)
    plans = engine.plans().plans
    titles = dict(zip(plans["id"], plans["title"], strict=True))
    theme = CATEGORY_THEMES.get(category)
    rows = [dict(action, related=action["theme"] == theme, nearby=action["located"])
            for action in actions_json(actions, titles)]
    rows.sort(key=lambda r: (not r["related"], not r["nearby"], r["title"]))
    return {"areas": found["areas"], "plans": found["plans"], "actions": rows}


# -- the public pin map ----------------------------------------------------------------------


@dataclass
class PublicPins:
    """Shown pins at their public points, as arrays (no exact point, no contact)."""

    frame: gpd.GeoDataFrame
    lon: np.ndarray = field(init=False)
    lat: np.ndarray = field(init=False)
    # The map's columns as plain arrays, made once per reload rather than per request: ids, and
    # indexes into CATEGORIES (unknown ones as the last, "other") and `statuses`.
    statuses: tuple[str, ...] = PUBLIC_PIN_STATUSES
    ids: np.ndarray = field(init=False)
    category: np.ndarray = field(init=False)
    status: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        xy = shapely.get_coordinates(self.frame.geometry.values)
        self.lon, self.lat = (xy[:, 0], xy[:, 1]) if len(xy) else (np.zeros(0), np.zeros(0))
        cats = {c: i for i, c in enumerate(CATEGORIES)}
        self.ids = self.frame["id"].to_numpy(dtype=np.int64)
        self.category = np.array([cats.get(c, len(cats) - 1) for c in self.frame["category"]],
                                 dtype=np.int64)
        self.status = np.array([self.statuses.index(s) for s in self.frame["status"]],
                               dtype=np.int64)


class PublicPinCache:
    """The shown pins of a store, reloaded when its data version moves (any write anywhere),
    checked at most every `check_every` seconds (see engine.StoreVersions)."""

    def __init__(self, check_every: float = 0.0,
                 statuses: tuple[str, ...] = PUBLIC_PIN_STATUSES) -> None:
        self.check_every = check_every
        self.statuses = tuple(statuses)
        self._watch: StoreVersions | None = None
        self._lock = threading.Lock()
        self._version: int | None = None
        self._pins: PublicPins | None = None

    def get(self, store: Store) -> PublicPins:
        """The current shown pins."""
        watch = self._watch
        if watch is None or watch.store is not store:
            watch = self._watch = StoreVersions(store, self.check_every)
        version = watch.get().get("data_version", 0)
        with self._lock:
            if self._pins is None or version != self._version:
                self._pins = PublicPins(store.public_pin_points(self.statuses), self.statuses)
                self._version = version
            return self._pins


def cell_size(bbox: tuple[float, float, float, float]) -> tuple[float, float]:
    """Aggregation cell width and height in degrees: a round width giving about CELLS_ACROSS
    cells across, and half that height (near square at Scottish latitudes)."""
    raw = (bbox[2] - bbox[0]) / CELLS_ACROSS
    power = 10 ** math.floor(math.log10(raw))
    width = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    return width, width / 2


def pins_payload(pins: PublicPins, bbox: tuple[float, float, float, float], max_points: int) -> dict:
    """Shown pins in the box as compact JSON: points [id, lon, lat, category, status] (indexes
    into `categories` and `statuses`), or above `max_points` counts per grid cell
    [lon, lat, count] at the mean public point of the cell."""
    inside = ((pins.lon >= bbox[0]) & (pins.lon <= bbox[2])
              & (pins.lat >= bbox[1]) & (pins.lat <= bbox[3]))
    rows = np.flatnonzero(inside)
    lon, lat = pins.lon[rows], pins.lat[rows]
    if len(rows) <= max_points:
        points = [[i, round(x, 5), round(y, 5), c, s]
                  for i, x, y, c, s in zip(pins.ids[rows].tolist(), lon.tolist(), lat.tolist(),
                                           pins.category[rows].tolist(), pins.status[rows].tolist(),
                                           strict=True)]
        return {"kind": "points", "count": len(points), "categories": list(CATEGORIES),
                "statuses": list(pins.statuses), "points": points}
    width, height = cell_size(bbox)
    keys = np.column_stack([np.floor(lon / width), np.floor(lat / height)]).astype(np.int64)
    _, cell, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    cell = cell.ravel()
    mean_lon = np.bincount(cell, weights=lon) / counts
    mean_lat = np.bincount(cell, weights=lat) / counts
    cells = [[round(float(x), 5), round(float(y), 5), int(n)]
             for x, y, n in zip(mean_lon, mean_lat, counts, strict=True)]
    return {"kind": "cells", "count": int(len(rows)), "cell": [width, height], "cells": cells}


def public_pin(pins: PublicPins, pin_id: int) -> dict:
    """One shown pin at its public point, or NotFound (the same for pending, hidden, missing)."""
    match = np.flatnonzero(pins.frame["id"].to_numpy() == pin_id)
    if not len(match):
        raise NotFound(f"no public pin {pin_id}")
    row = pins.frame.iloc[match[0]]
    return {"id": int(row["id"]), "category": row["category"],
            "category_label": CATEGORIES.get(row["category"], row["category"]),
            "description": row["description"], "created": str(row["created"])[:10],
            "status": row["status"], "lon": round(float(pins.lon[match[0]]), 5),
            "lat": round(float(pins.lat[match[0]]), 5)}


def recent_public_pins(pins: PublicPins, limit: int = 50) -> list[dict]:
    """The latest shown pins, newest first: the list that stands in for the map."""
    order = np.argsort(pins.frame["created"].to_numpy(), kind="stable")[::-1][:limit]
    return [public_pin(pins, int(pins.frame["id"].iloc[i])) for i in order]
