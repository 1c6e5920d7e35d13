"""Map descriptions: what a page's map shows, as a small JSON object that app/static/map.js builds
the map from. A description names where each layer's geometry comes from (vector tiles or a
GeoJSON URL) and how to style, label and link its features; it never holds geometry itself, so a
page stays a few kilobytes however large the layers are, and the geometry is cached by URL."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import mapping

from capmap.present.maps.style import (
    NO_DATA_COLOUR,
    PLAN_COLOURS,
    PLAN_LABELS,
    QUINTILE_COLOURS,
    area_style,
)

# Plan types drawn bottom to top, and those a map starts with hidden (a LOIP covers a whole
# council, which would tint everything else).
PLAN_ORDER = tuple(PLAN_COLOURS)
HIDDEN_PLAN_TYPES = ("loip",)
AREA_TIP = [["Area", "name"], ["Code", "code"]]
PLAN_TIP = [["Plan", "title"], ["Owner", "owner"], ["Status", "status"]]


def map_spec(bounds, layers: list[dict], basemap: dict | None, failed: str) -> dict:
    """A whole map: lon/lat `bounds` to fit, its layers bottom to top, the basemap (None for
    none) and the sentence shown if a layer's geometry cannot be fetched."""
    minx, miny, maxx, maxy = (round(float(v), 5) for v in bounds)
    return {"bounds": [minx, miny, maxx, maxy], "basemap": basemap, "layers": layers,
            "failed": failed}


SPOT_ZOOM = 16


def spot_spec(lon: float, lat: float, basemap: dict | None, failed: str) -> dict:
    """A still map of one point at street zoom (a moderator's view of a pin's exact spot)."""
    point = {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]}
    feature = {"type": "Feature", "properties": {}, "geometry": point}
    layer = {"name": "Exact point", "show": True, "data": feature, "points": True, "quiet": True,
             "colour": {"by": "status", "colours": {}, "otherwise": "#b30000"}}
    return {"view": [*point["coordinates"], SPOT_ZOOM], "still": True, "basemap": basemap,
            "layers": [layer], "failed": failed}


def basemap(url: str | None, attribution: str) -> dict | None:
    """The configured basemap tile source, or None."""
    return {"url": url, "attribution": attribution} if url else None


def quiet_outlines(name: str, tiles_url: str) -> dict:
    """A boundary layer's outlines with no tips or links, so clicks reach the map beneath."""
    return {"name": name, "show": True, "tiles": tiles_url, "source": "areas", "id": "code",
            "quiet": True, "style": {"color": "#555555", "weight": 0.6, "fill": False}}


def tiled_areas(name: str, tiles_url: str, kind: str, *, show: bool = True,
                link: str | None = None, only: list[str] | None = None) -> dict:
    """A boundary layer from its vector tiles: neighbourhoods filled by SIMD quintile, other
    kinds outlined. `link` is a URL template ({code} is replaced) that a click on an area opens;
    `only` limits the layer to those area codes."""
    layer = {"name": name, "show": show, "tiles": tiles_url, "source": "areas",
             "style": area_style(kind), "tip": AREA_TIP, "id": "code"}
    if kind == "neighbourhood":
        layer["style"] = {"color": "#555555", "weight": 0.5, "fill": True, "fillOpacity": 0.45}
        layer["fill"] = {"by": "simd_quintile", "colours": {str(k): v for k, v in
                                                            QUINTILE_COLOURS.items()},
                         "otherwise": NO_DATA_COLOUR}
    if link:
        layer["link"] = link
    if only is not None:
        layer["only"] = {"by": "code", "values": list(only)}
    return layer


def choropleth(name: str, tiles_url: str, values: dict[str, list], colours: list[str],
               tip_values: list[str]) -> dict:
    """A boundary layer from its vector tiles filled by band: `values` holds per area code
    [band index into `colours` or None, then the texts its tip shows under `tip_values`]."""
    return {"name": name, "show": True, "tiles": tiles_url, "source": "areas", "id": "code",
            "style": {"color": "#555555", "weight": 0.4, "fill": True, "fillOpacity": 0.7},
            "fill": {"by": "code", "values": values, "colours": colours,
                     "otherwise": NO_DATA_COLOUR},
            "tip": AREA_TIP, "tip_values": tip_values}


def tiled_plans(tiles_url: str, types: list[str], link: str, *,
                only: list[int] | None = None) -> list[dict]:
    """One toggleable layer per plan type present (`types`), outlined in the type's colour, from
    the plans' vector tiles; `link` is a URL template ({id} is replaced) a click opens. `only`
    limits every layer to those plan ids."""
    layers = []
    for plan_type in PLAN_ORDER:
        if plan_type not in types:
            continue
        layer = {"name": PLAN_LABELS[plan_type], "show": plan_type not in HIDDEN_PLAN_TYPES,
                 "tiles": tiles_url, "source": "plans", "id": "id",
                 "where": {"by": "type", "values": [plan_type]},
                 "style": {"color": PLAN_COLOURS[plan_type], "weight": 2, "fill": True,
                           "fillOpacity": 0.08},
                 "tip": PLAN_TIP, "link": link}
        if only is not None:
            layer["only"] = {"by": "id", "values": [int(i) for i in only]}
        layers.append(layer)
    return layers


OUTLINE_STEPS = 1000  # a drawn or uploaded outline is simplified to its extent / this
OUTLINE_STYLE = {"color": "#000000", "weight": 3, "fill": False}


def outline(name: str, geometry: shapely.Geometry) -> dict:
    """The area a user drew or uploaded, drawn as an outline. It has no URL to fetch it from
    (an upload is posted once), so it travels in the description, simplified to a thousandth of
    its extent (under a pixel of a full-screen map of it) and rounded to 1 m: a few kilobytes."""
    minx, miny, maxx, maxy = geometry.bounds
    simple = shapely.simplify(geometry, max(maxx - minx, maxy - miny) / OUTLINE_STEPS)
    rounded = shapely.transform(simple, lambda xy: np.round(xy, 5))
    return {"name": name, "show": True, "data": mapping(rounded), "style": OUTLINE_STYLE}


def outlined_areas(name: str, tiles_url: str, codes: list[str]) -> dict:
    """Some areas of a boundary layer (the ones asked about), outlined, from its vector tiles."""
    return {"name": name, "show": True, "tiles": tiles_url, "source": "areas", "id": "code",
            "style": {**OUTLINE_STYLE, "weight": 2}, "tip": AREA_TIP,
            "only": {"by": "code", "values": list(codes)}}


def points(name: str, geojson_url: str, colours: dict[str, str], tip: list[list[str]],
           *, link: str | None = None) -> dict:
    """Located records as circles coloured by their `status`; those with `overdue` true drawn
    larger in dark red."""
    layer = {"name": name, "show": True, "geojson": geojson_url, "points": True,
             "colour": {"by": "status", "colours": colours, "otherwise": "#999999"},
             "tip": tip}
    if link:
        layer["link"] = link
    return layer


def preview(name: str, geojson_url: str) -> dict:
    """Uploaded rows before they are stored: polygons and points alike, in one colour."""
    return {"name": name, "show": True, "geojson": geojson_url, "points": True,
            "style": {"color": "#d55e00", "weight": 1.5, "fillOpacity": 0.15},
            "colour": {"by": "status", "colours": {}, "otherwise": "#d55e00"}}
