"""Exports for planners: what each name gives whom, the filters, and the metadata every file
carries. The command line (operators: full access) and the web share all of it.

Contact details given with residents' pins are never exported, whoever asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core.crs import STORAGE_CRS
from capmap.core.errors import CapmapError, InputError, ValidationError
from capmap.core.policy import DEFAULT_POLICY, Policy, from_settings
from capmap.core.settings import DEFAULTS
from capmap.io.writers import FORMATS, Part, check_export, write_export
from capmap.services.coverage import EngagementFilters, engagement_coverage, plan_coverage
from capmap.services.engine import Engine
from capmap.services.export_filters import ExportFilters, filtered
from capmap.services.scope import DEFAULT_SCOPE, ScopeRequest
from capmap.storage import Store

RECORD_LAYERS = ("plans", "actions", "responses", "pins")
TABLE_LAYERS = ("plan_coverage", "engagement")
DEFAULT_LICENCE = DEFAULTS["EXPORT_LICENCE"]
PIN_COLUMNS = ["id", "category", "description", "created", "status"]
# Per kind of layer: its geometry type, and the filters it takes.
KINDS: dict[str, tuple[str, frozenset[str]]] = {
    "areas": ("Polygon", frozenset({"bbox", "area"})),
    "plans": ("Polygon", frozenset({"bbox", "area", "plan", "theme", "dates"})),
    "actions": ("Point", frozenset({"bbox", "area", "plan", "theme", "dates"})),
    "responses": ("Point", frozenset({"bbox", "area", "theme", "dates"})),
    "pins": ("Point", frozenset({"bbox", "area", "dates"})),
    "plan_coverage": ("Polygon", frozenset({"bbox", "area"})),
    "engagement": ("Polygon", frozenset({"bbox", "area", "theme", "dates"})),
}


class NotPermitted(CapmapError):
    """The person asking may not have this export."""

    status = 403


@dataclass(frozen=True)
class View:
    """What one export name gives one person: the kind of layer, whether exact, or why not."""

    name: str
    kind: str
    exact: bool
    refused: str = ""


def export_view(name: str, roles: Iterable[str], policy: Policy = DEFAULT_POLICY) -> View:
    """Who gets what. The policy's exact-data roles: everything exact. Everyone else: areas,
    plans, actions and plan coverage; public pins at their public points; engagement per area
    with small counts suppressed; no response points."""
    exact = policy.sees_exact(roles)
    kind = name if name in RECORD_LAYERS + TABLE_LAYERS else "areas"
    refused = ""
    if kind == "responses" and not exact:
        refused = ("engagement responses at their points need the officer, planner or admin "
                   "role; the engagement export gives responses per area to everyone")
    return View(name, kind, exact, refused)


@dataclass(frozen=True)
class ExportRequest:
    """One export: layer names, format, CRS, filters, the layer engagement counts by (default
    the neighbourhood layer) and the roles of whoever asks (none: the public view)."""

    names: tuple[str, ...]
    fmt: str = "geojson"
    crs: str = STORAGE_CRS
    filters: ExportFilters = field(default_factory=ExportFilters)
    by: str | None = None
    roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class ExportSettings:
    """Settings of a deployment: the licence of its own data and the publication rules."""

    licence: str = DEFAULT_LICENCE
    source: str = "capmap: community planning data of this deployment"
    policy: Policy = DEFAULT_POLICY

    @classmethod
    def of(cls, values) -> ExportSettings:
        """The export settings of a settings mapping (capmap.core.settings, or the app's config)."""
        return cls(licence=values["EXPORT_LICENCE"], policy=from_settings(values))


def check_request(request: ExportRequest, policy: Policy = DEFAULT_POLICY) -> list[View]:
    """The views of a request, refusing bad names, refused views and filters that apply to none
    of its layers."""
    if not request.names or not all(n.strip() for n in request.names):
        raise InputError("name at least one layer: a boundary layer id, "
                         f"{', '.join(RECORD_LAYERS + TABLE_LAYERS)}")
    views = [export_view(n, request.roles, policy) for n in dict.fromkeys(request.names)]
    for view in views:
        if view.refused:
            raise NotPermitted(view.refused)
    check_export(request.fmt, request.crs, {v.name: KINDS[v.kind][0] for v in views})
    takes = set().union(*(KINDS[v.kind][1] for v in views))
    unused = sorted(request.filters.given() - takes)
    if unused:
        raise ValidationError(f"filter {', '.join(unused)} does not apply to "
                              f"{', '.join(request.names)}; they take {', '.join(sorted(takes))}")
    if request.by and not any(v.kind == "engagement" for v in views):
        raise ValidationError("by (the layer engagement counts by) applies to engagement only")
    return views


def download_name(request: ExportRequest) -> str:
    """The file name offered for a request, e.g. plans-actions-bng.gpkg."""
    crs = "-bng" if request.crs != STORAGE_CRS else ""
    return "-".join(dict.fromkeys(request.names)) + crs + FORMATS[request.fmt].suffix


def export(store: Store, request: ExportRequest, path: Path,
           settings: ExportSettings = ExportSettings(), engine: Engine | None = None) -> dict:
    """Write the export to the file `path`; returns its metadata, with feature counts."""
    views = check_request(request, settings.policy)
    engine = engine or Engine(store)
    parts, attribution, stored = [], [], [la for la in store.layers() if la.is_current]
    for view in views:
        frame, where, layers = BUILDERS[view.kind](store, engine, view, request, settings)
        frame = filtered(frame, where, view.kind, request.filters, engine)
        parts.append(Part(view.name, frame, KINDS[view.kind][0]))
        attribution += [f"{la.title or la.id} ({la.id}, {la.vintage}): "
                        f"{la.licence or 'no licence recorded'}"
                        for la in stored if la.id in layers]
    about = {
        "title": f"capmap export: {', '.join(p.name for p in parts)}",
        "source": settings.source,
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "crs": request.crs + (" (British National Grid, from lon/lat through OSTN15)"
                              if request.crs != STORAGE_CRS else " (lon/lat)"),
        "licence": settings.licence,
        "attribution": list(dict.fromkeys(attribution)) or ["none: capmap data only"],
        "filters": request.filters.describe() or "none",
        "layers": {p.name: {"features": len(p.frame), "contents": describe(v, settings)}
                   for p, v in zip(parts, views, strict=True)},
        "notes": ["Contact details given with residents' pins are never exported."
                  ] if any(v.kind == "pins" for v in views) else [],
    }
    return write_export(parts, path, request.fmt, request.crs, about)


def export_layer(store: Store, name: str, path: Path, fmt: str, crs: str = STORAGE_CRS,
                 roles: frozenset[str] = DEFAULT_POLICY.exact_roles) -> int:
    """Write one layer to a file with its metadata; returns the number of features written."""
    about = export(store, ExportRequest((name,), fmt, crs, roles=roles), path)
    return about["layers"][name]["features"]


def describe(view: View, settings: ExportSettings) -> str:
    """What a layer of an export holds, in a sentence for its metadata."""
    return {
        "areas": f"areas of boundary layer {view.name}",
        "plans": "community plans and their areas",
        "actions": "plan actions at their own points; actions with no point of their own have "
                   "no geometry (they belong to their plan's area)",
        "responses": "engagement responses at their points; those known only by an area code "
                     "have no geometry and carry area_layer and area_code",
        "pins": "residents' pins of every status at their exact points" if view.exact else
                f"residents' pins ({', '.join(settings.policy.public_statuses)}) at their public "
                "points, moved away from the exact points, which are never published",
        "plan_coverage": "per neighbourhood, the share covered by each plan type (0 to 1, by "
                         "area, so also of residents apportioned by area), with gap flags",
        "engagement": "responses per area, rates per 1,000 residents and gaps" + (
            "" if view.exact else f"; counts of 1 to {settings.policy.threshold - 1} are withheld "
            "(responses and rates empty, suppressed true)"),
    }[view.kind]


# -- the frame behind each kind: (frame, where for spatial filters or None, layers it uses) ---

Built = tuple[gpd.GeoDataFrame, np.ndarray | None, set[str]]


def public_pins(pins: gpd.GeoDataFrame, statuses: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Public pins (`statuses`) at their moved points, with no contact details and no exact
    location."""
    shown = pins[pins["status"].isin(statuses)]
    return gpd.GeoDataFrame(
        shown[PIN_COLUMNS].copy(),
        geometry=gpd.GeoSeries(shown["public_geom"].values, crs=STORAGE_CRS, index=shown.index),
    )


def _pins(store: Store, engine: Engine, view: View, request, settings) -> Built:
    pins = store.pins()
    if not view.exact:
        return public_pins(pins, settings.policy.public_statuses), None, set()
    return gpd.GeoDataFrame(pins[[*PIN_COLUMNS, "geom"]], geometry="geom"), None, set()


def _plans(store: Store, engine: Engine, view: View, request, settings) -> Built:
    plans = store.plans()
    return plans, None, set(plans["area_layer"].dropna())


def _actions(store: Store, engine: Engine, view: View, request, settings) -> Built:
    actions = store.actions()
    plans = engine.plans().plans.set_index("id").geometry
    where = actions.geometry.values.copy()
    missing = shapely.is_missing(where)
    where[missing] = plans.reindex(actions["plan_id"][missing]).values
    return actions, where, set()


def _responses(store: Store, engine: Engine, view: View, request, settings) -> Built:
    responses, layers = store.responses(), engine.layers()
    where = responses.geometry.values.copy()
    for i in np.flatnonzero(shapely.is_missing(where)):
        state = layers.get(responses["area_layer"].iat[i])
        row = state.row_of.get(responses["area_code"].iat[i]) if state else None
        where[i] = state.areas.geometry.iat[row] if row is not None else None
    return responses, where, set()


def _with_geometry(table: pd.DataFrame, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    geoms = areas.set_index("code").geometry.reindex(table["code"]).values
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS,
                                                          index=table.index))


def _plan_coverage(store: Store, engine: Engine, view: View, request, settings) -> Built:
    coverage = plan_coverage(engine, settings.policy.rules)
    table = pd.DataFrame(coverage["areas"])
    for flag in ("deprived_without_locality_plan", "without_any_plan"):
        table[flag] = table["code"].isin({row["code"] for row in coverage[flag]})
    hoods = engine.layer(coverage["layer"])
    return _with_geometry(table, hoods.areas), None, {coverage["layer"]}


def _engagement(store: Store, engine: Engine, view: View, request: ExportRequest,
                settings: ExportSettings) -> Built:
    hoods = engine.neighbourhoods()
    layer_id = request.by or (hoods.layer.id if hoods else None)
    if not layer_id:
        raise ValidationError("no neighbourhood layer is loaded; give the layer to count by")
    f = request.filters
    # An area filter is also the scope: rates, gaps and council rates are over its areas.
    result = engagement_coverage(
        store, engine, layer_id, EngagementFilters(theme=f.theme, date_from=f.date_from,
                                                   date_to=f.date_to),
        scope=ScopeRequest(area=f.area) if f.area else DEFAULT_SCOPE, exact=view.exact,
        **settings.policy.suppression())
    rows = pd.DataFrame(result["areas"])
    hidden = rows["responses"].map(lambda v: isinstance(v, str)).astype(bool)
    table = rows[["code", "name", "parent_code"]].copy()
    for column in ("population", "simd_quintile"):
        table[column] = rows[column].astype("Int64")
    table["responses"] = rows["responses"].mask(hidden).astype("Int64")
    table["suppressed"] = hidden
    for column in ("rate_per_1000", "council_rate_per_1000"):
        table[column] = pd.to_numeric(rows[column]).astype(float)
    table["gap"] = rows["gap"].astype(bool)
    table["unheard"] = rows["unheard"].astype("Int64")
    return _with_geometry(table, engine.layer(layer_id).areas), None, {layer_id}


def _areas(store: Store, engine: Engine, view: View, request, settings) -> Built:
    return store.areas(view.name), None, {view.name}


BUILDERS: dict[str, Callable[..., Built]] = {
    "areas": _areas, "plans": _plans, "actions": _actions, "responses": _responses,
    "pins": _pins, "plan_coverage": _plan_coverage, "engagement": _engagement}


def layer_frame(store: Store, name: str, roles: Iterable[str] = frozenset(),
                policy: Policy = DEFAULT_POLICY) -> gpd.GeoDataFrame:
    """The frame behind an export name as `roles` may have it (anonymous by default), unfiltered."""
    request = ExportRequest((name,), roles=frozenset(roles))
    view = check_request(request, policy)[0]
    settings = ExportSettings(policy=policy)
    return BUILDERS[view.kind](store, Engine(store), view, request, settings)[0]


# -- filters -----------------------------------------------------------------------------------

