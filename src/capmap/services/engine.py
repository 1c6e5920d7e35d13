"""The in-memory spatial state of a store: every current layer with its point index, and the plans,
each also in EPSG:27700 for measuring.

Boundaries and plans are read-mostly and small (Scotland: 7,000 data zones, hundreds of plans), so
each process holds them in memory and reloads when the store's boundaries or plans version moves.
Asking the database for those versions is most of the cost of a small request, so a web worker asks
at most every `check_every` seconds (StoreVersions): a write by another worker, server or command is
seen up to that late, a write by this process at once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core.crs import geoms_lonlat_to_bng
from capmap.core.errors import NotFound
from capmap.core.models import Layer
from capmap.core.serialise import json_text, plan_json
from capmap.spatial.assign import AreaIndex
from capmap.storage import Store
from capmap.storage.store import local_commits


class _Measured:
    """Geometries of `lonlat` (EPSG:4326) also kept in EPSG:27700 for measuring, made on first use."""

    lonlat: np.ndarray

    @cached_property
    def bng(self) -> np.ndarray:
        """The geometries in EPSG:27700."""
        return geoms_lonlat_to_bng(self.lonlat)

    @cached_property
    def bng_tree(self) -> shapely.STRtree:
        """An STRtree over `bng`."""
        return shapely.STRtree(self.bng)


@dataclass
class LayerState(_Measured):
    """One current boundary layer: its areas (EPSG:4326, by code) and their point index.
    `version` is the store's boundaries version read before the areas were."""

    layer: Layer
    areas: gpd.GeoDataFrame
    version: int = 0
    index: AreaIndex = field(init=False)

    def __post_init__(self) -> None:
        self.areas = self.areas.reset_index(drop=True)
        self.lonlat = self.areas.geometry.values
        self.index = AreaIndex(self.areas["code"].to_numpy(), self.lonlat)

    @cached_property
    def row_of(self) -> dict[str, int]:
        """Area code to row of `areas`."""
        return {code: i for i, code in enumerate(self.areas["code"])}

    @cached_property
    def names(self) -> np.ndarray:
        """Area names, by row of `areas`."""
        return self.areas["name"].to_numpy(dtype=object)

    @cached_property
    def area_json(self) -> list[str]:
        """Each area as the lookup answers it, {"code", "kind", "name"} in JSON, by row."""
        return [json_text({"code": code, "kind": self.layer.kind, "name": name})
                for code, name in zip(self.areas["code"], self.names, strict=True)]

    @cached_property
    def inner_points(self) -> np.ndarray:
        """A point inside each area, for records known only by an area code."""
        return shapely.point_on_surface(self.areas.geometry.values)

    @property
    def population(self) -> np.ndarray:
        """Population per area as floats (NaN unknown)."""
        return self.areas["population"].astype("Float64").to_numpy(dtype="float64",
                                                                   na_value=np.nan)


@dataclass
class PlanState(_Measured):
    """Every plan, in EPSG:4326 and EPSG:27700. `version` is the store's plans version read
    before the plans were."""

    plans: gpd.GeoDataFrame
    version: int = 0

    def __post_init__(self) -> None:
        # Prepared: a lookup tests a point against the candidate plans on every request.
        self.lonlat = np.asarray(self.plans.geometry.values, dtype=object)
        shapely.prepare(self.lonlat)

    @cached_property
    def tree(self) -> shapely.STRtree:
        """An STRtree over the lon/lat plan geometries."""
        return shapely.STRtree(self.plans.geometry.values)

    @cached_property
    def bounds(self) -> np.ndarray:
        """Each plan's lon/lat bounds (minx, miny, maxx, maxy), for a point's candidates: with
        hundreds of plans, one vector test is quicker than a tree query."""
        return shapely.bounds(self.lonlat)

    @cached_property
    def details(self) -> list[dict]:
        """What a point lookup says of each plan, by row of `plans`; copy before changing. The
        plan's list of area codes is left out: a council-wide plan lists hundreds, none of which
        a point needs (/api/planscape and the OGC plans collection give them)."""
        return [{k: v for k, v in plan_json(self.plans.iloc[i]).items() if k != "area_codes"}
                for i in range(len(self.plans))]

    @cached_property
    def details_json(self) -> list[str]:
        """`details` in JSON, encoded once per reload."""
        return [json_text(d) for d in self.details]


@dataclass(frozen=True)
class Settled:
    """What is the same at every point inside one neighbourhood (its interior): the area of each
    other layer where one area covers the whole neighbourhood and no other reaches inside it, the
    plans covering all of it, and those covering part of it (tested point by point). Computed
    from `layers` and `plans`, which a caller checks are still the current ones."""

    layers: dict[str, LayerState]
    plans: PlanState
    areas: dict[str, tuple[str, int]]  # layer id -> (code, row)
    whole: np.ndarray
    partial: np.ndarray

    @cached_property
    def lookup_pieces(self) -> tuple[str, str] | None:
        """When every layer's area is settled and no plan covers only part of the neighbourhood,
        the lookup's areas and plans in JSON, the same at every point inside: encoded once, so
        such a lookup does one point test and no other work. None otherwise."""
        if len(self.partial) or self.areas.keys() != self.layers.keys():
            return None
        areas = ",".join(f"{json_text(layer_id)}:{self.layers[layer_id].area_json[row]}"
                         for layer_id, (_, row) in sorted(self.areas.items()))
        return areas, ",".join(self.plans.details_json[i] for i in np.sort(self.whole))


def _boxes_meeting(bounds: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    return np.flatnonzero((bounds[:, 0] <= box[2]) & (bounds[:, 2] >= box[0])
                          & (bounds[:, 1] <= box[3]) & (bounds[:, 3] >= box[1]))


def _reaching_inside(geoms: np.ndarray, area: shapely.Geometry) -> np.ndarray:
    # Interiors meet: the geometries share a point, and not only on their edges.
    return shapely.intersects(geoms, area) & ~shapely.touches(geoms, area)


def settle(hoods: LayerState, code: str, layers: dict[str, LayerState], plans: PlanState) -> Settled:
    """The Settled answer inside the neighbourhood `code` of `hoods`. Exact: a point inside the
    neighbourhood is inside an area covering it, and inside no area or plan whose interior does
    not reach into it."""
    row = hoods.row_of[code]
    hood = hoods.lonlat[row]
    box = shapely.bounds(hood)
    areas = {hoods.layer.id: (code, row)}
    for layer_id, state in layers.items():
        if state is hoods:
            continue
        near = _boxes_meeting(state.index.bounds, box)
        inner = near[_reaching_inside(state.index.geoms[near], hood)]
        if len(inner) == 1 and shapely.covers(state.index.geoms[inner[0]], hood):
            code = state.index.codes[inner[0]]
            areas[layer_id] = (code, state.row_of[code])
    near = _boxes_meeting(plans.bounds, box)
    inner = near[_reaching_inside(plans.lonlat[near], hood)]
    whole = shapely.covers(plans.lonlat[inner], hood)
    return Settled(layers, plans, areas, inner[whole], inner[~whole])


class StoreVersions:
    """The store's VERSIONS counters, read from the database at most every `interval` seconds,
    and at once after a write committed by this process.

    With an interval, a write by another process (another worker or server, `capmap import`) is
    seen up to `interval` seconds late, and a database outage is noticed as late: until then,
    answers come from memory. 0 reads the counters on every call.
    """

    def __init__(self, store: Store, interval: float = 0.0) -> None:
        self.store = store
        self.interval = interval
        self._seen: tuple[int, float, dict[str, int]] | None = None  # commits, when, versions

    def get(self) -> dict[str, int]:
        """The counters, at most `interval` seconds old."""
        seen = self._seen
        # Taken before reading: a commit that lands during the read makes the next call read again.
        commits, now = local_commits(), time.monotonic()
        if seen is None or seen[0] != commits or now - seen[1] >= self.interval:
            seen = (commits, now, self.store.versions())
            self._seen = seen  # one assignment: threads never see a half-updated state
        return seen[2]


class Engine:
    """Layers and plans of a store, kept in memory and reloaded when the store changes (checked
    at most every `check_every` seconds: see StoreVersions)."""

    def __init__(self, store: Store, neighbourhood_layer: str | None = None,
                 check_every: float = 0.0) -> None:
        self.store = store
        self.neighbourhood_layer = neighbourhood_layer
        self.watch = StoreVersions(store, check_every)
        self._lock = threading.Lock()
        self._versions: dict[str, int] = {}
        self._layers: dict[str, LayerState] = {}
        self._plans: PlanState | None = None
        self._memo: dict[str, object] = {}
        self._data_memo: dict[str, tuple[int, object]] = {}

    def _current(self) -> None:
        versions = self.watch.get()
        if versions is self._versions:  # the same reading as last time: nothing can have moved
            return
        with self._lock:
            boundaries, plans = (versions.get(k) != self._versions.get(k)
                                 for k in ("boundaries_version", "plans_version"))
            if boundaries:
                self._layers = {la.id: LayerState(la, self.store.areas(la.id),
                                                  versions.get("boundaries_version", 0))
                                for la in self.store.layers() if la.is_current}
            if plans:
                self._plans = PlanState(self.store.plans(), versions.get("plans_version", 0))
            if boundaries or plans:
                self._memo = {}
            self._versions = versions

    def memo(self, key: str, compute):
        """`compute()` once per version of the store's boundaries and plans."""
        self._current()
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def data_memo(self, key: str, compute):
        """`compute()` once per version of everything in the store (its data_version): for
        summaries of the records, such as the filter options of the responses."""
        version = self.watch.get().get("data_version", 0)
        held = self._data_memo.get(key)
        if held is None or held[0] != version:
            held = (version, compute())
            self._data_memo[key] = held
        return held[1]

    def layers(self) -> dict[str, LayerState]:
        """Every current layer by id."""
        self._current()
        return self._layers

    def layer(self, layer_id: str) -> LayerState:
        """One current layer, or NotFound naming the layers there are."""
        layers = self.layers()
        if layer_id not in layers:
            raise NotFound(f"layer {layer_id!r} not found; layers are "
                           f"{', '.join(sorted(layers)) or 'none'}")
        return layers[layer_id]

    def plans(self) -> PlanState:
        """Every plan."""
        self._current()
        return self._plans

    def neighbourhoods(self) -> LayerState | None:
        """The neighbourhood layer used for population: the configured one, else the current
        layer of kind neighbourhood with the most areas."""
        layers = self.layers()
        if self.neighbourhood_layer:
            return self.layer(self.neighbourhood_layer)
        hoods = [s for s in layers.values() if s.layer.kind == "neighbourhood"]
        return max(hoods, key=lambda s: (len(s.areas), s.layer.id), default=None)

    def assign(self, points: np.ndarray, area_layers=None, area_codes=None,
               only: list[str] | None = None) -> dict[str, np.ndarray]:
        """Area code per point for every current layer (None outside).

        A record with no point but an area code of one layer gets that code there, and in other
        layers the area holding a point inside its own area (exact where layers nest). `only`
        limits the answer to some layers.
        """
        points = np.asarray(points, dtype=object).copy()
        layers = self.layers()
        own: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        missing = np.flatnonzero(shapely.is_missing(points))
        if area_codes is not None and len(missing):
            in_layer = np.asarray(area_layers, dtype=object)[missing]
            codes = np.asarray(area_codes, dtype=object)[missing]
            for layer_id, state in layers.items():
                sel = in_layer == layer_id
                rows = pd.Index(state.areas["code"]).get_indexer(codes[sel])
                found = rows >= 0
                points[missing[sel][found]] = state.inner_points[rows[found]]
                own[layer_id] = (missing[sel][found], codes[sel][found])
        out = {layer_id: state.index.assign(points) for layer_id, state in layers.items()
               if only is None or layer_id in only}
        for layer_id, (rows, codes) in own.items():
            if layer_id in out:
                out[layer_id][rows] = codes
        return out
