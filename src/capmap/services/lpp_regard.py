"""The plans a community body preparing a Local Place Plan must have regard to (SSI 2021/353
reg. 2): the planscape of the draft plan's area (or of any area asked about), Locality Plans
and the LOIP first, then the other plans, each with its overlap shares and the actions located
inside the area. Plans only touching the area's edge are listed apart, as the planscape does.
"""

from __future__ import annotations

import numpy as np

from capmap.core.errors import NotFound
from capmap.services.engine import Engine
from capmap.services.planscape import Query, planscape
from capmap.spatial.slivers import DEFAULT_TOLERANCE, SliverTolerance
from capmap.storage import Store
from capmap.storage.lpp import LPP_TYPE

# The plans reg. 2 names come first: Locality Plans, then the council's LOIP.
STATUTORY_TYPES = ("locality_plan", "loip")
CSV_COLUMNS = ["group", "ref", "title", "type", "owner", "council_code", "period_start",
               "period_end", "status", "share_of_query", "share_of_plan", "overlap_km2",
               "actions_inside", "action_refs", "edge_only", "link"]


def plan_query(engine: Engine, plan_id: int, lpp_only: bool = True) -> Query:
    """The area of a plan as a query; NotFound for an unknown plan, or (`lpp_only`) one that
    is not a Local Place Plan."""
    plans = engine.plans().plans
    rows = np.flatnonzero(plans["id"].to_numpy() == plan_id)
    if len(rows) == 0:
        raise NotFound(f"there is no plan {plan_id}; see the Local Place Plan register "
                       "at /lpp/register")
    row = plans.iloc[rows[0]]
    if lpp_only and row["type"] != LPP_TYPE:
        raise NotFound(f"plan {plan_id} ({row['ref']}) is a {row['type']}, not a Local Place "
                       "Plan; ask about any other area at /lpp/regard or /lpp/notify with "
                       "?layer=&codes=, ?postcode= or ?geometry=")
    return Query(plans.geometry.values[rows[0]], "plan", {"plan_id": int(row["id"]), "ref": row["ref"],
                                        "title": row["title"], "type": row["type"],
                                        "council_code": row["council_code"]})


def _with_actions(plans: list[dict], actions: list[dict]) -> list[dict]:
    """Each plan with its actions located inside the area, and how many of its actions have no
    place of their own (they apply to the whole plan area)."""
    located: dict[int, list[dict]] = {}
    whole: dict[int, int] = {}
    for action in actions:
        if action["located"]:
            located.setdefault(action["plan_id"], []).append(action)
        else:
            whole[action["plan_id"]] = whole.get(action["plan_id"], 0) + 1
    return [{**p, "actions_inside": located.get(p["id"], []),
             "actions_plan_wide": whole.get(p["id"], 0)} for p in plans]


def _statutory_first(plans: list[dict]) -> tuple[list[dict], list[dict]]:
    """The Locality Plans then the LOIPs, each in the planscape's order; then the others."""
    first = [p for t in STATUTORY_TYPES for p in plans if p["type"] == t]
    return first, [p for p in plans if p["type"] not in STATUTORY_TYPES]


def regard_report(engine: Engine, store: Store, query: Query,
                  slivers: SliverTolerance = DEFAULT_TOLERANCE) -> dict:
    """The "plans to have regard to" of an area: its planscape regrouped (regard_of)."""
    return regard_of(planscape(engine, store, query, slivers), query)


def regard_of(answer: dict, query: Query) -> dict:
    """A planscape answer (capmap.services.planscape.planscape) regrouped as the "plans to have regard
    to", the draft plan itself (a plan query) left out. Plain JSON-ready values."""
    itself = query.described.get("plan_id") if query.kind == "plan" else None
    covering = [p for p in answer["plans"] if p["id"] != itself]
    statutory, others = _statutory_first(_with_actions(covering, answer["actions"]))
    return {
        "query": answer["query"],
        "statutory_plans": statutory,
        "other_plans": others,
        "edge_plans": [p for p in answer["edge_plans"] if p["id"] != itself],
        "edge_tolerance": answer["edge_tolerance"],
        "counts": {"statutory_plans": len(statutory), "other_plans": len(others),
                   "actions_inside": sum(len(p["actions_inside"]) for p in statutory + others)},
    }


def csv_rows(report: dict) -> list[dict]:
    """One row per plan (statutory, other, then edge-only), for CSV_COLUMNS."""
    rows = []
    for group, plans in (("statutory", report["statutory_plans"]),
                         ("other", report["other_plans"]), ("edge_only", report["edge_plans"])):
        for p in plans:
            inside = p.get("actions_inside", [])
            rows.append({**{k: p.get(k) for k in CSV_COLUMNS}, "group": group,
                         "actions_inside": len(inside),
                         "action_refs": ";".join(a["ref"] for a in inside)})
    return rows
