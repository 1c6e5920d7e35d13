"""Outcomes by plan area, after the Community Planning Outcomes Profile: for a plan's area or a
queried area, its residents, the share of them living in SIMD quintile 1 and decile 1 data zones,
and population-weighted mean SIMD rank and indicator values (the SIMD domain ranks, or any number
the neighbourhood layer carries), beside the same for its council and for the whole layer.

Where a plan or query cuts a neighbourhood, the neighbourhood counts with its population times
the share of its area inside (residents are taken to be spread evenly over it): for a plan, the
share stored in plan_coverage; for a query, the share of each neighbourhood the planscape overlay
reports in its `areas` (share_of_area). Sums come from grouped SQL (capmap.storage.outcomes).
"""

from __future__ import annotations

from capmap.core.errors import NotFound
from capmap.services.engine import Engine
from capmap.storage import Store
from capmap.storage.outcomes import SUM_KEYS, WHOLE

MEASURES = ("residents", "quintile_1_share", "decile_1_share", "simd_rank")


def _profile(sums: dict | None) -> dict | None:
    """Plain figures from a group's sums; None where a share has no residents to be over."""
    if sums is None:
        return None

    def ratio(part: float, whole: float) -> float | None:
        return part / whole if whole > 0 else None
    return {
        "residents": round(sums["residents"], 1), "areas": int(sums["areas"]),
        "areas_cut": int(sums["cut"]),
        "quintile_1_share": ratio(sums["quintile_1"], sums["quintile_known"]),
        "decile_1_share": ratio(sums["decile_1"], sums["decile_known"]),
        "simd_rank": ratio(sums["rank_sum"], sums["rank_residents"]),
        "indicators": {name: ratio(total, residents)
                       for name, (total, residents) in sorted(sums["indicators"].items())},
    }


def _added(groups: list[tuple[float, dict]]) -> dict | None:
    """Σ factor × sums over groups (every sum is linear in the weights)."""
    if not groups:
        return None
    out = {k: 0.0 for k in SUM_KEYS}
    indicators: dict[str, list[float]] = {}
    for factor, sums in groups:
        for k in SUM_KEYS:
            if k not in ("areas", "cut"):
                out[k] += factor * sums[k]
        out["areas"] += sums["areas"]
        out["cut"] += 1 if factor < WHOLE else sums["cut"]
        for name, (total, residents) in sums["indicators"].items():
            held = indicators.setdefault(name, [0.0, 0.0])
            held[0] += factor * total
            held[1] += factor * residents
    out["indicators"] = indicators
    return out


def _baselines(engine: Engine, store: Store, layer_id: str) -> dict:
    """Per council (parent code) sums, and Scotland's (the whole layer), once per reload."""
    def compute() -> dict:
        by_parent = store.area_outcome_sums(layer_id, "parent")
        return {"councils": by_parent,
                "scotland": _added([(1.0, sums) for sums in by_parent.values()])}
    return engine.memo(f"outcomes:baselines:{layer_id}", compute)


def _council_name(engine: Engine, code: str | None) -> str | None:
    councils = [s for s in engine.layers().values() if s.layer.kind == "council"]
    for state in sorted(councils, key=lambda s: (-len(s.areas), s.layer.id)):
        if code in state.row_of:
            return str(state.areas["name"].iat[state.row_of[code]])
    return None


def _hoods(engine: Engine):
    hoods = engine.neighbourhoods()
    if hoods is None:
        raise NotFound("no neighbourhood layer is loaded, so there are no residents to profile")
    return hoods


def _answer(engine: Engine, store: Store, layer_id: str, sums: dict | None,
            council: str | None) -> dict:
    base = _baselines(engine, store, layer_id)
    area = _profile(sums)
    return {"layer": layer_id, "area": area, "over": over_sentence(area),
            "council": None if council is None else {
                "code": council, "name": _council_name(engine, council),
                **(_profile(base["councils"].get(council)) or {})},
            "scotland": _profile(base["scotland"]),
            "indicators": sorted(store.indicator_names(layer_id))}


def plan_outcomes(engine: Engine, store: Store, plan_id: int) -> dict:
    """A plan's profile against its council's and the whole layer's; NotFound for an unknown
    plan."""
    plans = engine.plans().plans
    rows = plans[plans["id"] == plan_id]
    if rows.empty:
        raise NotFound(f"there is no plan {plan_id}; see the list of plans on the map page")
    layer_id = _hoods(engine).layer.id
    sums = store.plan_outcome_sums(layer_id, [plan_id]).get(plan_id)
    council = rows["council_code"].iat[0]
    return _answer(engine, store, layer_id, sums, council if isinstance(council, str) else None)


def query_outcomes(engine: Engine, store: Store, answer: dict) -> dict | None:
    """A planscape answer's profile: each neighbourhood it reaches weighted by its population
    times the share of its area inside the query (the answer's `areas`); against the council
    holding most of those residents. None without a neighbourhood layer."""
    hoods = engine.neighbourhoods()
    if hoods is None:
        return None
    layer_id = hoods.layer.id
    shares = {a["code"]: float(a["share_of_area"]) for a in answer["areas"].get(layer_id, [])
              if a["share_of_area"] > 0}
    per_code = store.area_outcome_sums(layer_id, "code", sorted(shares))
    sums = _added([(min(shares[code], 1.0), s) for code, s in sorted(per_code.items())])
    parents = hoods.areas["parent_code"].to_numpy(dtype=object)
    residents: dict[str, float] = {}
    for code, s in per_code.items():
        parent = parents[hoods.row_of[code]]
        if isinstance(parent, str):
            residents[parent] = residents.get(parent, 0.0) + shares[code] * s["residents"]
    council = max(sorted(residents), key=lambda c: residents[c], default=None)
    return _answer(engine, store, layer_id, sums, council)


def over_sentence(area: dict | None) -> str:
    """What the figures are over, in words."""
    if area is None or area["areas"] == 0:
        return "no data zones with a population are covered"
    zones = "data zone" if area["areas"] == 1 else "data zones"
    text = (f"over {area['residents']:,.0f} residents of {area['areas']:,} {zones}; "
            "ranks are population-weighted means (1 = most deprived)")
    cut = area["areas_cut"]
    if cut:
        text += (f"; {cut:,} {'zone' if cut == 1 else 'zones'} cut by the boundary "
                 f"{'is' if cut == 1 else 'are'} apportioned by area (residents counted in "
                 "proportion to the share of a zone's area inside)")
    return text


def _measure_columns(indicators: list[str]) -> list[str]:
    return [*MEASURES[1:], *(f"indicator:{name}" for name in indicators)]


def _value(profile: dict | None, measure: str):
    if profile is None:
        return None
    if measure.startswith("indicator:"):
        return profile["indicators"].get(measure.split(":", 1)[1])
    return profile.get(measure)


def outcome_columns(indicators: list[str]) -> list[str]:
    """The columns of the all-plans table: each measure for the plan, its council, Scotland."""
    cols = ["plan_id", "ref", "title", "type", "council_code", "residents", "data_zones",
            "zones_cut"]
    for measure in _measure_columns(indicators):
        name = measure.replace("indicator:", "")
        cols += [name, f"council_{name}", f"scotland_{name}"]
    return cols


def all_plan_outcomes(engine: Engine, store: Store) -> tuple[list[dict], list[str]]:
    """Every plan's profile beside its council's and Scotland's, as table rows and columns: one
    grouped query for all plans, one (memoised) for the councils."""
    layer_id = _hoods(engine).layer.id
    indicators = sorted(store.indicator_names(layer_id))
    base = _baselines(engine, store, layer_id)
    scotland = _profile(base["scotland"])
    sums = store.plan_outcome_sums(layer_id)
    rows = []
    for plan in engine.plans().plans.sort_values("ref").itertuples(index=False):
        area = _profile(sums.get(int(plan.id)))
        council_code = plan.council_code if isinstance(plan.council_code, str) else None
        council = _profile(base["councils"].get(council_code)) if council_code else None
        row = {"plan_id": int(plan.id), "ref": plan.ref, "title": plan.title, "type": plan.type,
               "council_code": council_code,
               "residents": None if area is None else area["residents"],
               "data_zones": 0 if area is None else area["areas"],
               "zones_cut": 0 if area is None else area["areas_cut"]}
        for measure in _measure_columns(indicators):
            name = measure.replace("indicator:", "")
            for prefix, profile in (("", area), ("council_", council), ("scotland_", scotland)):
                value = _value(profile, measure)
                row[f"{prefix}{name}"] = None if value is None else round(value, 4)
        rows.append(row)
    return rows, outcome_columns(indicators)
