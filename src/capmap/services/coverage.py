"""Plan coverage and engagement coverage, composed from the store and the spatial functions."""

from __future__ import annotations

from datetime import date

import pandas as pd

from capmap.core.errors import NotFound, ValidationError
from capmap.core.models import ALL_RESPONSES, ANY_LOCAL, PLAN_TYPES, EngagementFilters
from capmap.core.policy import DEFAULT_POLICY, PlanGapRules
from capmap.core.serialise import plain, plan_json, records
from capmap.services import gaprules
from capmap.services.engine import Engine, LayerState
from capmap.services.in_force import in_force_table
from capmap.services.scope import DEFAULT_SCOPE, ScopeRequest, resolve_scope
from capmap.spatial import disclosure, engagement
from capmap.storage import Store

__all__ = ["EngagementFilters", "engagement_coverage", "plan_coverage"]


def plan_coverage(engine: Engine, rules: PlanGapRules = DEFAULT_POLICY.rules,
                  today: date | None = None) -> dict:
    """Per neighbourhood and plan type, the share of area (and so, apportioning by area, of
    population) covered by the plans on record (the derived coverage table, written when plans or
    neighbourhoods change), and by the plans in force on `today` (capmap.services.in_force); the gap lists
    by the rules of capmap.services.gaprules; and the plans past their review date."""
    hoods = engine.neighbourhoods()
    plans = engine.plans().plans
    if hoods is None:
        raise ValidationError("no neighbourhood layer is loaded")
    today = today or date.today()
    table = engine.memo(f"type-shares:{hoods.layer.id}", lambda: _type_table(engine.store, hoods))
    table = table.join(in_force_table(engine, hoods, today), on="code")
    deprived = table["simd_quintile"].fillna(99).astype(int) <= rules.quintile
    no_locality = deprived & (table["locality_plan_in_force"] < rules.locality_share)
    lapsed = no_locality & (table["locality_plan"] >= rules.locality_share)
    no_plan = table["local_plan_in_force"] < rules.min_share
    past, undated = gaprules.review_flags(plans, today)
    return {
        "layer": hoods.layer.id,
        "today": today.isoformat(),
        "types": list(PLAN_TYPES),
        "local_types": [t for t in PLAN_TYPES if t not in gaprules.COUNCIL_WIDE_TYPES],
        "rules": {**rules.__dict__, **gaprules.describe()},
        "areas": records(table),
        "deprived_without_locality_plan": records(table[no_locality]),
        "deprived_with_lapsed_locality_plan": records(table[lapsed]),
        "without_any_plan": records(table[no_plan]),
        "past_review": [_reviewed(row) for _, row in past.iterrows()],
        "no_review_date": [_reviewed(row) for _, row in undated.iterrows()],
    }


def _reviewed(row) -> dict:
    """A plan's details with when its review is due and why (capmap.services.gaprules.review_date)."""
    return {**plan_json(row), "review_date": plain(row["review_date"]),
            "review_basis": row["review_basis"]}


def _type_table(store: Store, hoods: LayerState) -> pd.DataFrame:
    """The neighbourhoods (code, name, population, simd_quintile) with one column per plan type
    and ANY_LOCAL: the share of each covered, 0 where nothing of that type reaches."""
    shares = store.type_coverage(hoods.layer.id).pivot(
        index="code", columns="plan_type", values="share_of_area")
    table = hoods.areas[["code", "name", "population", "simd_quintile"]].copy()
    for column in (*PLAN_TYPES, ANY_LOCAL):
        found = shares[column] if column in shares else pd.Series(dtype=float)
        table[column] = found.reindex(table["code"]).fillna(0.0).to_numpy(dtype=float)
    return table


def _tally(counts: dict[str, int], outside: int, codes: set[str]) -> tuple[dict, tuple]:
    """The counts of the areas in `codes`, and (all responses, in scope, outside every area,
    in the layer's other areas) from a layer's response counts per area code."""
    outside = int(outside)
    inside = {code: n for code, n in counts.items() if code in codes}
    elsewhere = int(sum(counts.values()) - sum(inside.values()))
    heard = int(sum(inside.values()))
    return inside, (heard + elsewhere + outside, heard, outside, elsewhere)


def _exact_tables(by_area: pd.DataFrame) -> tuple:
    """(areas, equity, gaps, outreach, q1_rate_ratio) as counted."""
    return (by_area, engagement.equity_by_quintile(by_area), engagement.gap_list(by_area),
            engagement.outreach_list(by_area), engagement.q1_rate_ratio(by_area))


def _public_tables(areas: pd.DataFrame, inside: dict, by_area: pd.DataFrame, gap_ratio: float,
                   threshold: int, round_to: int) -> tuple:
    """(areas, equity, gaps, outreach, q1_rate_ratio) as published (capmap.spatial.disclosure)."""
    shown = disclosure.public_by_area(areas, inside, gap_ratio=gap_ratio,
                                      threshold=threshold, base=round_to)
    return (shown, disclosure.public_equity(by_area, threshold, round_to),
            engagement.gap_list(shown), engagement.outreach_list(shown),
            disclosure.public_q1_ratio(by_area, threshold, round_to))


def engagement_coverage(store: Store, engine: Engine, layer_id: str,
                        filters: EngagementFilters = ALL_RESPONSES, *,
                        scope: ScopeRequest = DEFAULT_SCOPE, exact: bool = False,
                        gap_ratio: float = 0.5, threshold: int = 5, round_to: int = 5) -> dict:
    """Responses per area of a layer with rates, gaps and the equity summary by SIMD quintile,
    over the areas of `scope` only (capmap.services.scope: an area of any layer, the whole layer, or by
    default with a campaign selected the councils it ran in).

    The counts are one grouped query (Store.response_counts). Unless `exact`, every count is
    published as capmap.spatial.disclosure says (under `threshold` withheld as "<5", others
    rounded to the nearest `round_to`) and every figure derived from published counts only.
    `responses` counts every response matching the filters: `in_scope` in the scope's areas,
    `outside_scope` in the layer's other areas, `outside` outside every area of the layer.
    """
    try:
        state = engine.layer(layer_id)
    except NotFound as exc:
        raise ValidationError(exc.message) from exc
    engagement.check_dates(filters.date_from, filters.date_to)
    counts = store.response_counts(layer_id, filters)
    outside = counts.pop(None, 0)
    chosen = resolve_scope(store, engine, state, scope, filters, counts)
    inside, figures = _tally(counts, outside, set(chosen.areas["code"]))
    by_area = engagement.engagement_from_counts(chosen.areas, inside, gap_ratio=gap_ratio)
    if exact:
        tables = _exact_tables(by_area)
    else:
        tables = _public_tables(chosen.areas, inside, by_area, gap_ratio, threshold, round_to)
        figures = tuple(disclosure.shown_count(n, threshold, round_to) for n in figures)
    areas, equity, gaps, outreach, q1_ratio = tables
    return {
        "layer": layer_id,
        "filters": {k: plain(v) for k, v in filters.__dict__.items()},
        "scope": chosen.describe(state),
        "exact": exact,
        "responses": figures[0],
        "in_scope": figures[1],
        "outside": figures[2],
        "outside_scope": figures[3],
        "q1_rate_ratio": q1_ratio,
        "areas": records(areas),
        "equity": records(equity),
        "gaps": records(gaps),
        "outreach": records(outreach),
    }
