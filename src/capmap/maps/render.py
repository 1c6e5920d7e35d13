"""Folium maps with every asset served by capmap itself. Folium is used only in this package."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.maps.style import NO_DATA_COLOUR, PLAN_COLOURS, PLAN_LABELS, area_style, quintile_fill

# About 1 m at Scotland's latitudes: finer than a screen pixel at any zoom the maps allow.
DISPLAY_DECIMALS = 5
PREVIEW_STEPS = 10_000  # an import preview's geometries are simplified to its extent / this
# folium's header brings a viewport meta with user-scalable=no and maximum-scale=1, which stops
# people zooming the page (WCAG 1.4.4; axe's meta-viewport rule). The pages set their own viewport.
_VIEWPORT_META = re.compile(r"<meta\s+name=\"viewport\"[^>]*>\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Assets:
    """Where the page loads Leaflet and jQuery from (capmap's own static routes)."""

    leaflet_js: str
    leaflet_css: str
    jquery_js: str


@dataclass(frozen=True)
class Tiles:
    """A basemap tile source; None everywhere a map takes one means no basemap."""

    url: str
    attribution: str


@dataclass(frozen=True)
class MapParts:
    """A rendered map split for embedding in a page: head links, the map div, its script."""

    header: str
    html: str
    script: str


def base_map(bounds: tuple[float, float, float, float], assets: Assets,
             tiles: Tiles | None) -> folium.Map:
    """An empty map fitted to lon/lat `bounds`, loading assets only from capmap's own URLs."""
    fmap = folium.Map(tiles=None, control_scale=True, zoom_control=True)
    fmap.default_js = [("leaflet", assets.leaflet_js), ("jquery", assets.jquery_js)]
    fmap.default_css = [("leaflet_css", assets.leaflet_css)]
    if tiles:
        folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, name="Basemap",
                         control=False).add_to(fmap)
    minx, miny, maxx, maxy = bounds
    fmap.fit_bounds([[miny, minx], [maxy, maxx]])
    return fmap


def display_frame(frame: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """The columns a map shows, text HTML-escaped (folium tooltips insert raw HTML), coordinates
    rounded to DISPLAY_DECIMALS."""
    out = gpd.GeoDataFrame(
        {c: frame[c].map(_escape) for c in columns},
        geometry=shapely.transform(frame.geometry.values,
                                   lambda xy: np.round(xy, DISPLAY_DECIMALS)),
        crs=frame.crs,
    )
    return out


def map_text(value: str) -> str:
    """Text for a folium map, HTML-escaped, with its braces as character references: folium
    renders each element's output again as a Jinja template, so a name holding "{{ … }}" would
    otherwise run on the server. The browser shows the references as the braces they stand for."""
    return html.escape(value).replace("{", "&#123;").replace("}", "&#125;")


def _escape(value):
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, str):
        return map_text(value)
    if isinstance(value, np.generic):
        return value.item()
    return map_text(str(value)) if not isinstance(value, int | float) else value


def add_boundaries(fmap: folium.Map, name: str, kind: str, areas: gpd.GeoDataFrame,
                   show: bool = True) -> None:
    """Outline a boundary layer; neighbourhoods are filled by SIMD quintile where known."""
    shown = display_frame(areas, ["code", "name", "simd_quintile"])
    if kind == "neighbourhood":
        def style(feature):
            return {"color": "#555555", "weight": 0.5, "fillOpacity": 0.45,
                    "fillColor": quintile_fill(feature["properties"]["simd_quintile"] or None)}
    else:
        def style(_feature):
            return area_style(kind)
    folium.GeoJson(
        shown, name=map_text(name), style_function=style, show=show,
        tooltip=folium.GeoJsonTooltip(fields=["name", "code"], aliases=["Area", "Code"]),
    ).add_to(fmap)


def add_plans(fmap: folium.Map, plans: gpd.GeoDataFrame) -> None:
    """One toggleable layer per plan type, outlined in the type's colour."""
    for plan_type, colour in PLAN_COLOURS.items():
        subset = plans[plans["type"] == plan_type]
        if subset.empty:
            continue
        shown = display_frame(subset, ["title", "owner", "status"])
        folium.GeoJson(
            shown, name=PLAN_LABELS[plan_type], show=plan_type != "loip",
            style_function=lambda _f, c=colour: {"color": c, "weight": 2, "fillOpacity": 0.08},
            tooltip=folium.GeoJsonTooltip(fields=["title", "owner", "status"],
                                          aliases=["Plan", "Owner", "Status"]),
        ).add_to(fmap)


def render(fmap: folium.Map) -> MapParts:
    """Render the map for embedding in a capmap page."""
    folium.LayerControl(collapsed=False).add_to(fmap)
    root = fmap.get_root()
    root.render()
    return MapParts(header=_VIEWPORT_META.sub("", root.header.render()), html=root.html.render(),
                    script=root.script.render())


def add_choropleth(fmap: folium.Map, frame: gpd.GeoDataFrame, value: str, bins: list[float],
                   colours: list[str], name: str, fields: list[str], aliases: list[str]) -> None:
    """Areas filled by which of `bins` their `value` falls in (grey where unknown)."""
    shown = display_frame(frame, sorted(set(fields) | {value}))

    def style(feature):
        v = feature["properties"][value]
        fill = NO_DATA_COLOUR
        if isinstance(v, int | float):
            fill = colours[min(sum(v >= b for b in bins[1:]), len(colours) - 1)]
        return {"color": "#555555", "weight": 0.4, "fillOpacity": 0.7, "fillColor": fill}

    folium.GeoJson(shown, name=map_text(name), style_function=style,
                   tooltip=folium.GeoJsonTooltip(fields=fields, aliases=aliases)).add_to(fmap)


def add_action_markers(fmap: folium.Map, actions: gpd.GeoDataFrame, colours: dict[str, str]) -> None:
    """Located actions as circles coloured by status; overdue ones larger and dark red."""
    shown = display_frame(actions, ["title", "status"])
    group = folium.FeatureGroup(name="Actions with a location")
    for (_, row), late in zip(shown.iterrows(), actions["overdue"], strict=True):
        folium.CircleMarker(
            [row.geometry.y, row.geometry.x], radius=6 if late else 4,
            color="#b30000" if late else colours.get(row["status"], "#999999"),
            fill=True, fill_opacity=0.9,
            tooltip=f"{row['title']} ({row['status']}{', overdue' if late else ''})",
        ).add_to(group)
    group.add_to(fmap)


def simplified_for_preview(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with its geometries simplified to its extent / PREVIEW_STEPS (about a tenth of
    a pixel of a 1,000 px map): an upload may hold millions of vertices, which a page would
    otherwise carry whole."""
    present = frame.geometry.notna() & ~frame.geometry.is_empty
    if not present.any():
        return frame
    minx, miny, maxx, maxy = frame[present].total_bounds
    tolerance = max(maxx - minx, maxy - miny) / PREVIEW_STEPS
    return frame.set_geometry(shapely.simplify(frame.geometry.values, tolerance))


def preview_map(frame: gpd.GeoDataFrame, assets: Assets, tiles: Tiles | None,
                limit: int = 2000) -> MapParts | None:
    """The first `limit` geometries of an import preview on a map (None when none are located)."""
    located = frame[frame.geometry.notna() & ~frame.geometry.is_empty].head(limit)
    if located.empty:
        return None
    located = simplified_for_preview(located)
    fmap = base_map(tuple(located.total_bounds), assets, tiles)
    folium.GeoJson(display_frame(located, []), name="Preview",
                   style_function=lambda _f: {"color": "#d55e00", "weight": 1.5,
                                              "fillOpacity": 0.15}).add_to(fmap)
    return render(fmap)
