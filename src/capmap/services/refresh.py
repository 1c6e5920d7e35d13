"""Refreshing the derived tables when their inputs change: assignments and plan coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from capmap.core.models import ANY_LOCAL
from capmap.services.engine import Engine, LayerState, PlanState
from capmap.services.gaprules import is_local
from capmap.spatial.overlay import plan_shares, type_coverage
from capmap.storage import Store
from capmap.storage.bulk import BATCH_ROWS
from capmap.storage.derived import POINT_RECORDS


def refresh_assignments(store: Store, engine: Engine, layer_ids: list[str] | None = None, *,
                        batch_rows: int = BATCH_ROWS) -> dict[str, int]:
    """Re-assign every point record to the given current layers (all by default), in one
    transaction, reading and writing `batch_rows` records at a time.

    Returns rows written per layer. Assignments to layers that are no longer current are dropped.
    """
    layers = engine.layers()
    wanted = list(layer_ids or sorted(layers))
    written = dict.fromkeys(wanted, 0)
    with store.atomic():
        store.drop_assignments(keep_layers=list(layers))
        store.clear_assignments(wanted)
        for record in POINT_RECORDS:
            for points in store.point_record_batches(record, batch_rows):
                located = ~shapely.is_missing(points.geometry.values)
                if "area_code" in points:
                    located |= points["area_code"].notna().to_numpy()
                points = points[located]
                if not len(points):
                    continue
                codes = engine.assign(points.geometry.values, _column(points, "area_layer"),
                                      _column(points, "area_code"), only=wanted)
                store.add_assignments(record, points["id"].to_numpy(), codes)
                for layer_id in codes:
                    written[layer_id] += len(points)
    return written


def _column(frame: pd.DataFrame, name: str) -> np.ndarray | None:
    return frame[name].to_numpy(dtype=object) if name in frame else None


def _codes(listed) -> list[str] | None:
    text = listed if isinstance(listed, str) else ""
    return [c.strip() for c in text.split(";") if c.strip()] or None


def refresh_plan_coverage(store: Store, engine: Engine) -> int:
    """Recompute how much of each neighbourhood every plan, and every plan type together, covers;
    returns the per-plan rows written."""
    plans = engine.plans()
    total = 0
    for layer_id, state in engine.layers().items():
        if state.layer.kind != "neighbourhood":
            continue
        # Plans given as codes of this layer cover exactly those areas: no overlay needed.
        codes = [_codes(listed) if layer == layer_id else None for layer, listed in
                 zip(plans.plans["area_layer"], plans.plans["area_codes"], strict=True)]
        pairs = plan_shares(plans.bng, codes, state.areas["code"].to_numpy(), state.bng,
                            state.bng_tree)
        frame = pd.DataFrame({
            "plan_id": plans.plans["id"].to_numpy()[pairs["cover"].to_numpy()],
            "code": state.areas["code"].to_numpy()[pairs["area"].to_numpy()],
            "overlap_m2": pairs["overlap_m2"].to_numpy(),
            "share_of_area": pairs["share_of_area"].to_numpy(),
            "share_of_plan": pairs["share_of_cover"].to_numpy(),
        })
        store.replace_plan_coverage(layer_id, frame, _type_shares(plans, state))
        total += len(frame)
    return total


def _type_shares(plans: PlanState, state: LayerState) -> pd.DataFrame:
    """Per area, the share covered by the union of each plan type's plans, and under ANY_LOCAL
    by the union of every plan that is not council-wide: columns code, plan_type, share_of_area."""
    types = plans.plans["type"].to_numpy(dtype=object)
    local = shapely.union_all(plans.bng[is_local(types)])
    both = pd.concat([
        type_coverage(plans.bng, types, state.bng, state.bng_tree),
        type_coverage(np.array([local]), np.array([ANY_LOCAL], dtype=object), state.bng,
                      state.bng_tree),
    ], ignore_index=True)
    return pd.DataFrame({"code": state.areas["code"].to_numpy()[both["area"].to_numpy(dtype=int)],
                         "plan_type": both["type"].to_numpy(dtype=object),
                         "share_of_area": both["share_of_area"].to_numpy(dtype=float)})
