"""Finding a place by what a person types: a full or partial postcode, a place or area name
(accents, case and punctuation folded, on the name or its Gaelic or English alternative), or an
area code. Every match is found in SQL (capmap.storage.postcodes, capmap.storage.names); only
the matches cross into Python.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace

from capmap.core import parse
from capmap.core.errors import InputError, NotFound
from capmap.services.engine import Engine
from capmap.services.planscape import DEFAULT_MAX_KM2, Query, codes_query, point_query
from capmap.storage import Store

MAX_TEXT = 100
DECIMALS = 6
# Larger kinds first when matches are equally good.
KIND_ORDER = ("council", "ward", "locality", "intermediate", "community", "neighbourhood")
_POSTCODE_START = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?( [0-9]?[A-Z]{0,2})?$")
# How a partial postcode's answer is measured, said on the page and in JSON.
PARTIAL_MEASURE = ("the neighbourhoods holding at least one of its postcodes (each postcode by "
                   "its point)")


def search_places(engine: Engine, store: Store, text: str, limit: int = 50) -> list[dict]:
    """Postcodes, then areas of every current layer, matching `text`: an exact postcode, a
    postcode district or sector, and codes first, then names (or alternative names) equal to
    it, starting with it, with a word starting with it, holding it, folded; then postcodes
    starting with it. Each match has kind (postcode, postcode_area or area), layer, code, name,
    label (the name, with its council when another match has the same name) and lon/lat."""
    wanted = " ".join(str(text).split())[:MAX_TEXT]
    if len(wanted) < 2:
        raise InputError("type at least 2 characters: a postcode, a place or neighbourhood name, "
                         "or an area code")
    full = parse.postcode(wanted)
    exact, starting = [], []
    if full:
        exact = [_postcode_match(p, x, y, True) for p, x, y in store.postcodes_starting(full, 1)
                 if p == full]
    elif (part := parse.partial_postcode(wanted)) and (groups := store.postcode_groups(*part)):
        exact = [_partial_match(part, groups)]
    if not full and _POSTCODE_START.match(wanted.upper()):
        starting = [_postcode_match(p, x, y, False)
                    for p, x, y in store.postcodes_starting(wanted.upper(), limit)]
    return label_duplicates(exact + _area_matches(engine, store, wanted, limit) + starting)[:limit]


def _postcode_match(postcode: str, lon: float, lat: float, exact: bool) -> dict:
    return {"kind": "postcode", "layer": None, "layer_title": "Postcode", "area_kind": "postcode",
            "code": postcode, "name": postcode, "lon": round(lon, DECIMALS),
            "lat": round(lat, DECIMALS), "exact": exact}


def _partial_match(part: tuple[str, str], groups: list[dict]) -> dict:
    count = sum(g["postcodes"] for g in groups)
    lon = sum(g["lon"] * g["postcodes"] for g in groups) / count
    lat = sum(g["lat"] * g["postcodes"] for g in groups) / count
    what = "district" if part[0] == "district" else "sector"
    return {"kind": "postcode_area", "layer": None, "layer_title": f"Postcode {what}",
            "area_kind": f"postcode {what}", "code": part[1], "name": part[1],
            "postcodes": count, "sectors": [g["sector"] for g in groups],
            "lon": round(lon, DECIMALS), "lat": round(lat, DECIMALS), "exact": True}


def _area_matches(engine: Engine, store: Store, text: str, limit: int) -> list[dict]:
    rows = store.search_areas(text, limit)
    layers = engine.layers()
    kinds = {k: n for n, k in enumerate(KIND_ORDER)}
    rows.sort(key=lambda r: (r["rank"], kinds.get(r["kind"], 9), r["name"], r["code"]))
    found = []
    for row in rows:
        state = layers.get(row["layer_id"])
        if state is None or row["code"] not in state.row_of:
            continue  # a layer imported since the engine last reloaded
        point = state.inner_points[state.row_of[row["code"]]]
        found.append({
            "kind": "area", "layer": row["layer_id"], "layer_title": state.layer.title or row["layer_id"],
            "area_kind": row["kind"], "code": row["code"], "name": row["name"],
            "name_alt": row["name_alt"] or None, "council": row["parent_name"],
            "exact": row["rank"] == 0, "lon": round(float(point.x), DECIMALS),
            "lat": round(float(point.y), DECIMALS)})
    return found


def label_duplicates(matches: list[dict]) -> list[dict]:
    """Each match with a `label`: its name, and where another match of the same kind has the
    same name, the council it is in ("Ward 3 — Fife"), else its code."""
    seen = Counter((m["area_kind"], m["name"]) for m in matches)
    for match in matches:
        twin = seen[(match["area_kind"], match["name"])] > 1
        context = match.get("council") or match["code"]
        match["label"] = f"{match['name']} — {context}" if twin else match["name"]
    return matches


def postcode_query(engine: Engine, store: Store, text: str, *,
                   max_km2: float = DEFAULT_MAX_KM2) -> Query:
    """The area of a postcode: a full postcode's neighbourhood (the one holding its point); a
    district's or sector's neighbourhoods (every one holding one of its postcodes). NotFound
    if no such postcode is stored."""
    full = parse.postcode(text)
    if full:
        found = [r for r in store.postcodes_starting(full, 1) if r[0] == full]
        if not found:
            raise NotFound(f"postcode {full} is not in our postcode list; try a place name or "
                           "choose your neighbourhood from the list")
        query = point_query(engine, found[0][1], found[0][2])
        return replace(query, described={**query.described, "postcode": full})
    part = parse.partial_postcode(text)
    if part is None:
        raise InputError(f"{str(text)[:20]!r} is not a postcode, a postcode district or a "
                         "sector; expected e.g. G51 2AB, G51 or G51 2")
    return _partial_query(engine, store, part, max_km2)


def _partial_query(engine: Engine, store: Store, part: tuple[str, str], max_km2: float) -> Query:
    points = store.postcode_points(*part)
    hoods = engine.neighbourhoods()
    if not len(points):
        raise NotFound(f"no postcode of {part[0]} {part[1]} is in our postcode list")
    if hoods is None:
        raise NotFound("no neighbourhood layer is loaded to place the postcodes in")
    codes = hoods.index.assign_xy(points[:, 0], points[:, 1])
    held = sorted({c for c in codes if c is not None})
    if not held:
        raise NotFound(f"the postcodes of {part[1]} fall in no neighbourhood")
    query = codes_query(engine, hoods.layer.id, held, max_km2=max_km2)
    return replace(query, described={
        **query.described, "postcode": part[1], "postcode_part": part[0],
        "postcodes": int(len(points)), "outside": int(sum(c is None for c in codes)),
        "measure_partial": PARTIAL_MEASURE})
