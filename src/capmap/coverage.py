"""Plan coverage and engagement coverage, composed from the store and the spatial functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
import shapely

from capmap.engine import Engine
from capmap.errors import NotFound, ValidationError
from capmap.models import PLAN_TYPES
from capmap.serialise import plain, plan_json
from capmap.spatial import engagement
from capmap.spatial.overlay import type_coverage
from capmap.storage import Store


@dataclass(frozen=True)
class PlanGapRules:
    """What counts as a gap in plan coverage."""

    quintile: int = 1               # SIMD quintiles up to this one count as deprived
    locality_share: float = 0.5     # a Locality Plan must cover at least this share of the area
    min_share: float = 0.01         # below this share, a plan's overlap is a drawing sliver
    council_wide: tuple[str, ...] = ("loip",)  # types that cover every area by definition


def plan_coverage(engine: Engine, rules: PlanGapRules = PlanGapRules(),
                  today: date | None = None) -> dict:
    """Per neighbourhood and plan type, the share of area (and so, apportioning by area, of
    population) covered; the gap lists; and plans past their review date."""
    hoods = engine.neighbourhoods()
    plans = engine.plans().plans
    if hoods is None:
        raise ValidationError("no neighbourhood layer is loaded")
    shares = _type_shares(engine, rules.council_wide)
    table = hoods.areas[["code", "name", "population", "simd_quintile"]].copy()
    for plan_type in PLAN_TYPES:
        table[plan_type] = shares.get(plan_type, np.zeros(len(table)))
    local = [t for t in PLAN_TYPES if t not in rules.council_wide]
    table["any_local_plan"] = shares.get("__local__", np.zeros(len(table)))
    deprived = table["simd_quintile"].fillna(99).astype(int) <= rules.quintile
    no_locality = deprived & (table["locality_plan"] < rules.locality_share)
    no_plan = table["any_local_plan"] < rules.min_share
    today = today or date.today()
    overdue = plans[plans["review_due"].notna() & (plans["review_due"] < today)]
    return {
        "layer": hoods.layer.id,
        "types": list(PLAN_TYPES),
        "local_types": local,
        "rules": rules.__dict__,
        "areas": _records(table),
        "deprived_without_locality_plan": _records(table[no_locality]),
        "without_any_plan": _records(table[no_plan]),
        "past_review": [plan_json(row) for _, row in overdue.iterrows()],
    }


def _type_shares(engine: Engine, council_wide: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Share of each neighbourhood covered per plan type, and by any plan that is not council-wide
    (key "__local__"); remembered until the boundaries or plans change."""
    def compute() -> dict[str, np.ndarray]:
        hoods, plans = engine.neighbourhoods(), engine.plans()
        types = plans.plans["type"].to_numpy(dtype=object)
        local = np.isin(types, [t for t in PLAN_TYPES if t not in council_wide])
        cov = type_coverage(plans.bng, types, hoods.bng, hoods.bng_tree)
        out = {}
        for plan_type, group in cov.groupby("type"):
            share = np.zeros(len(hoods.areas))
            share[group["area"].to_numpy()] = group["share_of_area"].to_numpy()
            out[plan_type] = share
        union = shapely.union_all(plans.bng[local]) if local.any() else shapely.Polygon()
        whole = type_coverage(np.array([union]), np.array(["__local__"]), hoods.bng,
                              hoods.bng_tree)
        share = np.zeros(len(hoods.areas))
        share[whole["area"].to_numpy()] = whole["share_of_area"].to_numpy()
        out["__local__"] = share
        return out

    return engine.memo(f"type_shares:{','.join(council_wide)}", compute)


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict("records")]


@dataclass(frozen=True)
class EngagementFilters:
    """Which responses count: all of them when every field is None."""

    campaign: str | None = None
    channel: str | None = None
    theme: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def engagement_coverage(store: Store, engine: Engine, layer_id: str,
                        filters: EngagementFilters = EngagementFilters(), *, exact: bool = False,
                        gap_ratio: float = 0.5, threshold: int = 5) -> dict:
    """Responses per area of a layer with rates, gaps and the equity summary by SIMD quintile.

    Unless `exact`, counts under `threshold` show as "<5" and their rates are withheld.
    """
    try:
        state = engine.layer(layer_id)
    except NotFound as exc:
        raise ValidationError(exc.message) from exc
    responses = store.responses()
    codes = store.assigned_codes("responses", layer_id)
    responses = responses.merge(codes, left_on="id", right_on="record_id", how="left")
    chosen = engagement.filter_responses(
        responses, campaign=filters.campaign, channel=filters.channel, theme=filters.theme,
        date_from=filters.date_from, date_to=filters.date_to)
    by_area = engagement.engagement_by_area(state.areas, chosen["code"], gap_ratio=gap_ratio)
    equity = engagement.equity_by_quintile(by_area)
    gaps = engagement.gap_list(by_area)
    outreach = engagement.outreach_list(by_area)
    q1_ratio = engagement.q1_rate_ratio(by_area)
    if not exact:
        by_area, gaps, outreach = (engagement.suppress(f, threshold)
                                   for f in (by_area, gaps, outreach))
    return {
        "layer": layer_id,
        "filters": {k: plain(v) for k, v in filters.__dict__.items()},
        "exact": exact,
        "responses": int(len(chosen)),
        "outside": int(chosen["code"].isna().sum()),
        "q1_rate_ratio": q1_ratio,
        "areas": _records(by_area),
        "equity": _records(equity),
        "gaps": _records(gaps),
        "outreach": _records(outreach),
    }
