"""OGC API - Features (Part 1, Core) over capmap's layers and records, as plain dicts.

Collections are every current boundary layer (features keyed by area code), `plans`, `actions` (those
without a location of their own have a null geometry) and `pins` (published ones only, at their
moved public point, with no contact details). Engagement responses are never a collection: the
public sees them only aggregated. Everything is served in CRS84 (lon/lat); asking for EPSG:4326
gets the same points in its lat/lon axis order. The caller passes the API's root URL and the
query parameters in and sends the dicts out, so nothing here knows about a web framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlencode

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core import parse
from capmap.core.errors import InputError, NotFound
from capmap.core.policy import PUBLIC_PIN_STATUSES
from capmap.core.serialise import plain
from capmap.services.engine import Engine, LayerState
from capmap.services.exports import public_pins
from capmap.storage import Store

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_SPEC = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
CONFORMANCE = [_SPEC + name for name in ("core", "geojson", "html", "oas30")]
RECORDS = ("plans", "actions", "pins")
OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
TYPES = {"json": "application/json", "geojson": "application/geo+json", "html": "text/html"}
DEFAULT_LIMIT, MAX_LIMIT = 100, 10_000
MAX_OFFSET = 999_999_999_999  # more features than any store holds; keeps the number small
# The names of CRS84 and EPSG:4326 a client may use in crs and bbox-crs; EPSG:4326 is lat/lon.
_LONLAT = {CRS84, CRS84.replace("http:", "https:"), "OGC:CRS84", "[OGC:CRS84]",
           "urn:ogc:def:crs:OGC:1.3:CRS84"}
EPSG4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
_LATLON = {EPSG4326, EPSG4326.replace("http:", "https:"), "EPSG:4326", "[EPSG:4326]",
           "urn:ogc:def:crs:EPSG::4326"}



@dataclass(frozen=True)
class Collection:
    """One feature collection: features in EPSG:4326 keyed by `key`, and the columns giving each
    feature's time span (`days`: those columns hold dates, each covering the whole day)."""

    id: str
    title: str
    description: str
    features: gpd.GeoDataFrame
    key: str
    time: tuple[str, str] | None = None
    days: bool = False


def collection_ids(engine: Engine) -> list[str]:
    """Every collection id: the current layers, then the record collections."""
    return [*sorted(i for i in engine.layers() if i not in RECORDS), *RECORDS]


def get_collection(engine: Engine, store: Store, collection_id: str,
                   pin_statuses: tuple[str, ...] = PUBLIC_PIN_STATUSES) -> Collection:
    """One collection (pins of `pin_statuses` only), or NotFound naming the collections there are."""
    if collection_id == "plans":
        return Collection("plans", "Plans", "Community plans: LOIPs, Locality Plans, community-led "
                          "action plans, Local Place Plans and service plans, each with its area.",
                          engine.plans().plans, "id", ("period_start", "period_end"), days=True)
    if collection_id == "actions":
        return Collection("actions", "Actions", "Actions of the plans. Only actions with a location "
                          "of their own have a geometry; the others are null.", store.actions(), "id")
    if collection_id == "pins":
        return Collection("pins", "Residents' pins", f"Pins ({', '.join(pin_statuses)}) at their "
                          "public point, moved from the exact one; no contact details.",
                          public_pins(store.pins(), pin_statuses), "id", ("created", "created"))
    layers = engine.layers()
    if collection_id in layers:
        return _layer_collection(layers[collection_id])
    raise NotFound(f"collection {collection_id!r} not found; collections are "
                   f"{', '.join(collection_ids(engine))}")


def _layer_collection(state: LayerState) -> Collection:
    layer = state.layer
    text = (f"{layer.title or layer.id}: {len(state.areas)} {layer.kind} areas, vintage "
            f"{layer.vintage}, keyed by area code.")
    if layer.licence:
        text += f" Licence: {layer.licence}"
    return Collection(layer.id, layer.title or layer.id, text, state.areas, "code")


# -- query parameters -------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemQuery:
    """An items request: page, bbox (lon/lat), datetime interval (UTC, None: open) and whether
    coordinates are answered lat/lon (crs=EPSG:4326)."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    interval: tuple[pd.Timestamp | None, pd.Timestamp | None] | None = None
    swap: bool = False


def parse_query(params: Mapping[str, str]) -> ItemQuery:
    """The items parameters of a request, or InputError saying what was wrong. Unknown
    parameters are ignored; crs and bbox-crs may only name CRS84 or EPSG:4326."""
    limit = min(_whole(params, "limit", DEFAULT_LIMIT, 1), MAX_LIMIT)
    return ItemQuery(limit=limit, offset=_whole(params, "offset", 0, 0),
                     bbox=_bbox(params.get("bbox"), params.get("bbox-crs")),
                     interval=parse.interval(params.get("datetime")),
                     swap=swap_axes(params.get("crs"), "crs"))


def swap_axes(value: str | None, name: str) -> bool:
    """False for CRS84 (or none given), True for EPSG:4326 (lat/lon), InputError otherwise."""
    if value is None or value.strip() in _LONLAT:
        return False
    if value.strip() in _LATLON:
        return True
    raise InputError(f"{name} {value[:80]!r} is not offered; this API serves only {CRS84} "
                     f"(lon/lat) and {EPSG4326} (lat/lon)")


def _whole(params: Mapping[str, str], name: str, default: int, least: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 15
            and least <= int(text) <= MAX_OFFSET):
        raise InputError(f"{name} must be a whole number from {least} to {MAX_OFFSET:,}, "
                         f"got {raw[:20]!r}")
    return int(text)


def _bbox(raw: str | None, crs: str | None) -> tuple[float, float, float, float] | None:
    """OGC API - Features' bbox: 4 or 6 numbers, lat first in EPSG:4326, across the antimeridian
    when minx is above maxx."""
    swap = swap_axes(crs, "bbox-crs")
    return None if raw is None else parse.bbox(raw, swap=swap, heights=True, wrap=True)


# -- documents --------------------------------------------------------------------------------

def _link(href: str, rel: str, kind: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": TYPES.get(kind, kind), "title": title}


def _href(url: str, params: Mapping[str, str], **changes) -> str:
    merged = {**params, **changes}
    query = urlencode({k: v for k, v in merged.items() if v is not None})
    return f"{url}?{query}" if query else url


def _pair(url: str, fmt: str, data: str = "json", params: Mapping[str, str] | None = None) -> list[dict]:
    """The self link in `fmt` and the alternate in the other format."""
    other = "html" if fmt != "html" else "json"
    names = {"json": "this document as JSON", "html": "this document as HTML"}
    kinds = {"json": data, "html": "html"}
    return [_link(_href(url, params or {}, f=fmt), "self", kinds[fmt], names[fmt]),
            _link(_href(url, params or {}, f=other), "alternate", kinds[other], names[other])]


def landing(root: str, fmt: str = "json") -> dict:
    """The landing page: what this API is and where its parts are."""
    return {
        "title": "capmap OGC API - Features",
        "description": "Boundary layers, plans, actions and residents' published pins of capmap's "
                       "community planning map, in lon/lat (CRS84).",
        "links": [*_pair(root, fmt),
                  _link(f"{root}/api?f=json", "service-desc", OPENAPI_TYPE, "the API definition"),
                  _link(f"{root}/api?f=html", "service-doc", "html", "the API documentation"),
                  _link(f"{root}/conformance?f=json", "conformance", "json",
                        "the conformance classes this API meets"),
                  _link(f"{root}/collections?f=json", "data", "json", "the collections")],
    }


def conformance(root: str, fmt: str = "json") -> dict:
    """The conformance classes this API meets."""
    return {"conformsTo": CONFORMANCE, "links": _pair(f"{root}/conformance", fmt)}


def _extent(coll: Collection) -> dict:
    geoms = np.asarray(coll.features.geometry.values, dtype=object)
    bounds = shapely.bounds(geoms)
    extent: dict = {"spatial": {"bbox": [], "crs": CRS84}}
    if len(bounds) and not np.isnan(bounds).all():
        box = [*np.nanmin(bounds[:, :2], axis=0), *np.nanmax(bounds[:, 2:], axis=0)]
        extent["spatial"]["bbox"] = [[round(float(v), 6) for v in box]]
    spans = _spans(coll)
    if spans is not None:
        start, end = spans
        first, last = start.min(), end.max()
        extent["temporal"] = {"interval": [[_instant(first), _instant(last)]],
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return extent


def collection(coll: Collection, root: str, fmt: str = "json") -> dict:
    """A collection's metadata: title, description, extent and links to its items."""
    url = f"{root}/collections/{coll.id}"
    return {
        "id": coll.id, "title": coll.title, "description": coll.description,
        "itemType": "feature", "crs": [CRS84], "extent": _extent(coll),
        "links": [*_pair(url, fmt),
                  _link(f"{url}/items?f=json", "items", "geojson", "the items as GeoJSON"),
                  _link(f"{url}/items?f=html", "items", "html", "the items as HTML")],
    }


def collections(colls: list[Collection], root: str, fmt: str = "json") -> dict:
    """Every collection's metadata."""
    return {"links": _pair(f"{root}/collections", fmt),
            "collections": [collection(c, root, fmt) for c in colls]}


# -- items ------------------------------------------------------------------------------------

def _instant(value) -> str | None:
    """A time as RFC 3339 in UTC ("Z"), or None."""
    if value is None or value is pd.NaT or pd.isna(value):
        return None
    stamp = pd.Timestamp(value)
    stamp = stamp.tz_localize(UTC) if stamp.tzinfo is None else stamp.tz_convert(UTC)
    return stamp.isoformat().replace("+00:00", "Z")


def _spans(coll: Collection) -> tuple[pd.Series, pd.Series] | None:
    """Each feature's time span as UTC timestamps, both ends inclusive (NaT: open)."""
    if coll.time is None:
        return None
    start = pd.to_datetime(coll.features[coll.time[0]], utc=True)
    end = pd.to_datetime(coll.features[coll.time[1]], utc=True)
    if coll.days:
        end = end + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return start, end


def _boxes(bbox: tuple[float, float, float, float]) -> list[tuple[float, float, float, float]]:
    """A bbox as boxes with minx <= maxx: one spanning the antimeridian (minx > maxx) is split."""
    minx, miny, maxx, maxy = bbox
    if minx <= maxx:
        return [bbox]
    return [(minx, miny, 180.0, maxy), (-180.0, miny, maxx, maxy)]


def select(coll: Collection, query: ItemQuery) -> np.ndarray:
    """Row positions of the features matching the query's bbox and datetime, in key order.

    A feature matches a bbox when its geometry intersects it (a null geometry never does; a bbox
    with minx above maxx spans the antimeridian), and a
    datetime when its time span meets it; a span open at one end is open there, and a feature
    with no time at all does not match. Collections without times ignore datetime."""
    frame = coll.features
    mask = np.ones(len(frame), dtype=bool)
    if query.bbox is not None:
        mask = np.zeros(len(frame), dtype=bool)
        geoms = np.asarray(frame.geometry.values, dtype=object)
        bounds = shapely.bounds(geoms)
        for minx, miny, maxx, maxy in _boxes(query.bbox):
            near = ((bounds[:, 0] <= maxx) & (bounds[:, 2] >= minx)
                    & (bounds[:, 1] <= maxy) & (bounds[:, 3] >= miny))
            mask[near] |= shapely.intersects(geoms[near], shapely.box(minx, miny, maxx, maxy))
    spans = _spans(coll)
    if query.interval is not None and spans is not None:
        start, end = spans
        low, high = query.interval
        timed = (start.notna() | end.notna()).to_numpy()
        before = (start.isna() | (start <= high)).to_numpy() if high is not None else True
        after = (end.isna() | (end >= low)).to_numpy() if low is not None else True
        mask &= timed & before & after
    return np.flatnonzero(mask)


def _value(value):
    if isinstance(value, datetime) and not pd.isna(value):
        return _instant(value)
    return plain(value)


def features(coll: Collection, rows: np.ndarray, swap: bool = False) -> list[dict]:
    """GeoJSON Features of the given row positions; `swap` writes lat/lon (EPSG:4326 order)."""
    frame = coll.features.iloc[rows]
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if swap:
        geoms = shapely.transform(geoms, lambda xy: xy[:, ::-1])
    names = [c for c in frame.columns if c not in (frame.geometry.name, "id")]
    keys = [_value(k) for k in frame[coll.key]]
    columns = {name: [_value(v) for v in frame[name].to_numpy(dtype=object)] for name in names}
    return [{"type": "Feature", "id": key,
             "geometry": None if geom is None else shapely.geometry.mapping(geom),
             "properties": {name: columns[name][i] for name in names}}
            for i, (key, geom) in enumerate(zip(keys, geoms, strict=True))]


def items(coll: Collection, query: ItemQuery, root: str, params: Mapping[str, str],
          fmt: str = "json") -> dict:
    """One page of a collection's items as a GeoJSON FeatureCollection, with numberMatched,
    numberReturned, timeStamp and self, alternate, next and prev links. `params` are the request's
    query parameters, kept in the links with offset and limit changed."""
    rows = select(coll, query)
    page = rows[query.offset:query.offset + query.limit]
    url = f"{root}/collections/{coll.id}/items"
    kind = "geojson" if fmt == "json" else "html"
    links = _pair(url, fmt, "geojson", params)
    if query.offset + len(page) < len(rows):
        links.append(_link(_href(url, params, f=fmt, offset=query.offset + len(page),
                                 limit=query.limit), "next", kind, "the next page"))
    if query.offset > 0:
        links.append(_link(_href(url, params, f=fmt, offset=max(0, query.offset - query.limit),
                                 limit=query.limit), "prev", kind, "the previous page"))
    links.append(_link(f"{root}/collections/{coll.id}?f={fmt}", "collection",
                       "json" if fmt == "json" else "html", "the collection"))
    return {"type": "FeatureCollection", "features": features(coll, page, query.swap),
            "numberMatched": int(len(rows)), "numberReturned": int(len(page)),
            "timeStamp": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "links": links}


def item(coll: Collection, feature_id: str, root: str, fmt: str = "json", swap: bool = False) -> dict:
    """One feature by its id, with self, alternate and collection links; NotFound otherwise."""
    keys = coll.features[coll.key].astype(str).to_numpy()
    rows = np.flatnonzero(keys == feature_id)
    if not len(rows):
        raise NotFound(f"feature {feature_id[:60]!r} not found in collection {coll.id!r}")
    feature = features(coll, rows[:1], swap)[0]
    url = f"{root}/collections/{coll.id}/items/{quote(feature_id, safe='')}"
    feature["links"] = [*_pair(url, fmt, "geojson"),
                        _link(f"{root}/collections/{coll.id}?f={fmt}", "collection",
                              "json" if fmt == "json" else "html", "the collection")]
    return feature
