"""The overview map of everything stored: boundary layers and plans by type."""

from __future__ import annotations

import shapely

from capmap.maps.render import Assets, MapParts, Tiles, add_boundaries, add_plans, base_map, render
from capmap.storage import Store

# Drawn bottom to top; intermediate zones start hidden to keep the first view readable.
LAYER_ORDER = ("neighbourhood", "intermediate", "locality", "community", "ward", "council")
HIDDEN_KINDS = ("intermediate", "locality", "community")


def overview_map(store: Store, assets: Assets, tiles: Tiles | None) -> MapParts:
    """A map of every current boundary layer and every plan, fitted to what is stored."""
    layers = [la for la in store.layers() if la.is_current]
    layers.sort(key=lambda la: LAYER_ORDER.index(la.kind))
    frames = [(la, store.areas(la.id)) for la in layers]
    plans = store.plans()
    bounds = _bounds([f.geometry.values for _, f in frames] + [plans.geometry.values])
    fmap = base_map(bounds, assets, tiles)
    for layer, areas in frames:
        add_boundaries(fmap, layer.title or layer.id, layer.kind, areas,
                       show=layer.kind not in HIDDEN_KINDS)
    add_plans(fmap, plans)
    return render(fmap)


def _bounds(geometry_arrays) -> tuple[float, float, float, float]:
    boxes = [shapely.total_bounds(g) for g in geometry_arrays if len(g)]
    if not boxes:
        return (-7.6, 54.6, -0.7, 60.9)  # Scotland, for an empty store
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))
