"""The map descriptions of capmap's pages (capmap.present.maps.spec), with this app's URLs: which layers
each page's map shows and where their geometry, links and tiles are served."""

from __future__ import annotations

from flask import current_app, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app import words
from app.store import get_policy
from app.tiles import layer_tiles_url, plan_tiles_url
from capmap.present.maps import spec
from capmap.services.engine import Engine, LayerState
from capmap.services.queries import Query

# Boundary layers drawn bottom to top; intermediate zones, localities and community council
# areas start hidden to keep the first view readable.
LAYER_ORDER = ("neighbourhood", "intermediate", "locality", "community", "ward", "council")
HIDDEN_KINDS = ("intermediate", "locality", "community")
# Marked for the catalogues here, looked up when a map is described (the request's language).
FAILED = _l("Part of the map could not be loaded; the lists on this page hold the same information.")
YOUR_AREA = _l("Your area")
ACTIONS = _l("Actions with a location")
PREVIEW = _l("Rows to import")
ACTION_TIP = [["Action", "title"], ["Status", "status"]]


def basemap() -> dict | None:
    """The configured basemap, or None."""
    config = current_app.config
    return spec.basemap(config["TILES_URL"], config["TILES_ATTRIBUTION"])


def _map(bounds, layers: list[dict]) -> dict:
    return _translated(spec.map_spec(bounds, layers, basemap(), gettext(FAILED)))


def _translated(described: dict) -> dict:
    """The map's layer names and tips in the request's language, and the words for the codes
    its tips show (map.js looks them up): the library writes them in English."""
    statuses = {**words.ACTION_STATUSES, **words.PLAN_STATUSES, **words.PIN_STATUSES}
    codes = {"status": {k: str(v) for k, v in statuses.items()}}
    for layer in described["layers"]:
        layer["name"] = words.label(layer["name"])
        if "tip" in layer:
            layer["tip"] = [[words.label(name), field] for name, field in layer["tip"]]
            layer["words"] = {f: codes[f] for _, f in layer["tip"] if f in codes}
        if "tip_values" in layer:
            layer["tip_values"] = [words.label(name) for name in layer["tip_values"]]
    return described


def current_layers(engine: Engine, kinds=LAYER_ORDER) -> list[LayerState]:
    """The current boundary layers of `kinds`, bottom to top."""
    shown = [s for s in engine.layers().values() if s.layer.kind in kinds]
    return sorted(shown, key=lambda s: (LAYER_ORDER.index(s.layer.kind), s.layer.id))


def extent(engine: Engine, states: list[LayerState]) -> tuple[float, float, float, float]:
    """The lon/lat box around the layers (Scotland when there are none)."""
    boxes = [engine.memo(f"bounds:{s.layer.id}", lambda s=s: tuple(s.areas.total_bounds))
             for s in states if len(s.areas)]
    if not boxes:
        return get_policy().region.bounds  # nothing loaded: the whole region
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


def area_link(layer_id: str) -> str:
    """The URL template of the planscape of one area of a layer ({code} filled in by the map)."""
    return url_for("finder.result", layer=layer_id) + "&codes={code}"


def plan_link() -> str:
    return url_for("finder.plan", plan_id=0).removesuffix("0") + "{id}"


def plan_types(engine: Engine) -> list[str]:
    return engine.memo("plan-types", lambda: sorted(set(engine.plans().plans["type"])))


def areas_layer(state: LayerState, *, show: bool = True, link: bool = True,
                only: list[str] | None = None) -> dict:
    layer = state.layer
    return spec.tiled_areas(layer.title or layer.id, layer_tiles_url(layer.id), layer.kind,
                            show=show, link=area_link(layer.id) if link else None, only=only)


def plans_layers(engine: Engine, only: list[int] | None = None) -> list[dict]:
    """Plans from their tiles, a layer per type: every plan, or those of ids `only`."""
    types = plan_types(engine)
    if only is not None:
        plans = engine.plans().plans
        types = sorted(set(plans.loc[plans["id"].isin(only), "type"]))
    return spec.tiled_plans(plan_tiles_url(), types, plan_link(), only=only)


def overview(engine: Engine) -> dict:
    """The home page: every current boundary layer and every plan."""
    states = current_layers(engine)
    layers = [areas_layer(s, show=s.layer.kind not in HIDDEN_KINDS) for s in states]
    return _map(extent(engine, states), layers + plans_layers(engine))


def finder(engine: Engine) -> dict:
    """The finder's map to click or draw on: council and ward outlines, no links (a click asks
    about the neighbourhood there)."""
    states = current_layers(engine, ("ward", "council"))
    return _map(extent(engine, states), [areas_layer(s, link=False) for s in states])


def result(engine: Engine, query: Query, plan_ids: list[int]) -> dict:
    """A finder result: the area asked about over the plans that cover it."""
    layers = plans_layers(engine, only=plan_ids)
    if query.kind in ("codes", "point"):
        layer_id = query.described["layer"]
        layers.append(spec.outlined_areas(YOUR_AREA, layer_tiles_url(layer_id),
                                          query.described["codes"]))
    else:
        layers.append(spec.outline(YOUR_AREA, query.geometry))
    return _map(query.geometry.bounds, layers)


def plan(engine: Engine, plan_id: int, bounds, statuses: dict[str, str]) -> dict:
    """A plan's page: its area (from the plans' tiles) and its located actions."""
    layers = plans_layers(engine, only=[plan_id])
    for layer in layers:
        layer["show"] = True  # a LOIP's own page shows it
        layer.pop("link")
    layers.append(spec.points(ACTIONS, url_for("finder.plan_actions", plan_id=plan_id),
                              statuses, ACTION_TIP))
    return _map(bounds, layers)


def choropleth(engine: Engine, values: dict, name: str, *, fit_values: bool = False) -> dict:
    """A layer filled from values per area code (capmap.present.dashboards.choropleth), fitted to the
    areas given values when `fit_values` (a scope), else to the whole layer."""
    layer, bounds = _filled(engine, values, name, fit_values)
    return _map(bounds, [layer])


def _filled(engine: Engine, values: dict, name: str, fit_values: bool) -> tuple[dict, tuple]:
    state = engine.layer(values["layer"])
    layer = spec.choropleth(name, layer_tiles_url(state.layer.id), values["values"],
                            values["colours"], values["tip_values"])
    bounds = extent(engine, [state])
    if fit_values and values["values"]:
        chosen = state.areas[state.areas["code"].isin(list(values["values"]))]
        bounds = tuple(float(v) for v in chosen.total_bounds)
    return layer, bounds


def plan_cover(engine: Engine, values: dict, actions_url: str, statuses: dict[str, str]) -> dict:
    """The plans dashboard: neighbourhoods by local plan cover, the plans, located actions."""
    cover, bounds = _filled(engine, values, gettext("Coverage by local plans"), False)
    actions = spec.points(ACTIONS, actions_url, statuses, ACTION_TIP, link=None)
    return _map(bounds, [cover, *plans_layers(engine), actions])


def pins(engine: Engine) -> dict:
    """The public pin map: neighbourhood outlines to place a pin by (pins.js adds the pins)."""
    hoods = engine.neighbourhoods()
    if hoods is None:
        return _map(get_policy().region.bounds, [])
    layer = spec.quiet_outlines(hoods.layer.title or hoods.layer.id, layer_tiles_url(hoods.layer.id))
    return _map(extent(engine, [hoods]), [layer])


def spot(lon: float, lat: float) -> dict:
    """A moderator's still map of a pin's exact point."""
    return _translated(spec.spot_spec(lon, lat, basemap(), gettext(FAILED)))


def preview(bounds, geojson_url: str) -> dict:
    """An import preview: the upload's first rows, simplified, by URL."""
    return _map(bounds, [spec.preview(PREVIEW, geojson_url)])


LPP_GROUPS = ((_l("Registered Local Place Plans"), ("registered",), "#1b7837"),
              (_l("Removed from the register"), ("removed",), "#767676"),
              (_l("Not yet registered (staff only)"), ("proposed", "submitted", "validated",
                                                  "not_registered"), "#b35806"))


def lpp_register(engine: Engine, register: dict) -> dict:
    """A council's Local Place Plan register: the council's outline and the land each entry
    relates to (from the plans' tiles), a layer per group of statuses shown."""
    councils = [s for s in current_layers(engine, ("council",))
                if register["council_code"] in set(s.areas["code"])]
    layers = [areas_layer(s, link=False, only=[register["council_code"]]) for s in councils]
    for name, statuses, colour in LPP_GROUPS:
        ids = [e["plan_id"] for e in register["entries"] if e["status"] in statuses]
        if not ids:
            continue
        for layer in spec.tiled_plans(plan_tiles_url(), ["local_place_plan"], plan_link(),
                                      only=ids):
            layer.update(name=name, show=True)
            layer["style"] = {**layer["style"], "color": colour}
            layers.append(layer)
    bounds = register["bounds"] or extent(engine, councils)
    return _map(bounds, layers)
