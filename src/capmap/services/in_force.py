"""How much of each neighbourhood the plans in force today cover (capmap.services.gaprules says which).

Expiry depends on the day, so this is worked out when asked, not stored: one grouped query over
the derived per-plan coverage gives, per area, how many chosen plans reach it and their largest
share. Where one plan reaches an area that share is the answer; where several do, their union is
measured on the plans and the area held in memory (few areas: where local plans overlap)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import shapely

from capmap.services import gaprules
from capmap.services.engine import Engine, LayerState

IN_FORCE_COLUMNS = ("locality_plan_in_force", "local_plan_in_force")


def in_force_table(engine: Engine, hoods: LayerState, today: date) -> pd.DataFrame:
    """Per area code of `hoods` (the index), the share covered on `today` by Locality Plans in
    force (locality_plan_in_force) and by local plans in force (local_plan_in_force); 0 where
    none reaches. Kept for the day and the store's plans and boundaries version."""
    def compute() -> pd.DataFrame:
        plans = engine.plans().plans
        current = gaprules.in_force(plans, today)
        ids = plans["id"].to_numpy(dtype=np.int64)
        locality = current & (plans["type"].to_numpy(dtype=object) == "locality_plan")
        local = current & gaprules.is_local(plans["type"])
        codes = hoods.areas["code"]
        return pd.DataFrame({
            name: _shares(engine, hoods, [int(i) for i in ids[chosen]]).reindex(codes)
            .fillna(0.0).to_numpy(dtype=float)
            for name, chosen in zip(IN_FORCE_COLUMNS, (locality, local), strict=True)},
            index=codes.to_numpy())
    return engine.memo(f"in-force:{hoods.layer.id}:{today.isoformat()}", compute)


def _shares(engine: Engine, hoods: LayerState, plan_ids: list[int]) -> pd.Series:
    """Share of each area the union of `plan_ids` covers (only the areas they reach)."""
    grouped = engine.store.chosen_plan_shares(hoods.layer.id, plan_ids)
    share = pd.Series(grouped["max_share"].clip(upper=1.0).to_numpy(),
                      index=grouped["code"].to_numpy(), dtype=float)
    several = grouped.loc[grouped["plans"] > 1, "code"].tolist()
    if several:
        pairs = engine.store.plans_reaching(hoods.layer.id, plan_ids, several)
        for code, shared in _union_shares(engine, hoods, pairs).items():
            share[code] = shared
    return share


def _union_shares(engine: Engine, hoods: LayerState, pairs: pd.DataFrame) -> dict[str, float]:
    """Per code of `pairs` (code, plan_id), the share of the area the union of its plans covers,
    measured in EPSG:27700."""
    plans = engine.plans()
    row_of_plan = {int(i): k for k, i in enumerate(plans.plans["id"])}
    out = {}
    for code, group in pairs.groupby("code", sort=False):
        zone = hoods.bng[hoods.row_of[code]]
        rows = [row_of_plan[int(p)] for p in group["plan_id"]]
        covered = shapely.union_all(shapely.intersection(plans.bng[rows], zone))
        out[code] = min(1.0, float(shapely.area(covered) / shapely.area(zone)))
    return out
