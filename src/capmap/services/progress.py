"""Action progress: what plans promised and how far they have got (CPPs report this publicly)."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd

from capmap.core.models import ACTION_STATUSES, LEAD_TYPES
from capmap.core.serialise import plain
from capmap.services.gaprules import review_date, smart_gaps

CLOSED = ("completed", "cancelled")


def overdue(target: date | None, status: str | None, today: date) -> bool:
    """The one rule for an overdue action: its target date is before `today` and it is neither
    completed nor cancelled (a missing target is never overdue)."""
    return (target is not None and target == target and status not in CLOSED
            and target < today)


def flag_overdue(plans: pd.DataFrame, answer: dict, today: date) -> None:
    """Review and action overdue flags on a planscape answer's plans and actions, by the rules
    the plan pages and dashboards use (gaprules.review_date, `overdue`), on dates, not text."""
    by_id = plans.set_index("id", drop=False)
    for plan in answer["plans"]:
        due, _ = review_date(by_id.loc[plan["id"]])
        plan.update(review_date=plain(due), review_overdue=due is not None and due < today)
    for action in answer["actions"]:
        target = action["target_date"]
        action["overdue"] = overdue(date.fromisoformat(target[:10]) if target else None,
                                    action["status"], today)


def action_table(actions: pd.DataFrame, plans: pd.DataFrame, today: date) -> pd.DataFrame:
    """Actions with their plan's ref, type and title, and an `overdue` flag (target date past and
    not completed or cancelled)."""
    info = plans[["id", "ref", "type", "title"]].rename(
        columns={"id": "plan_id", "ref": "plan_ref", "type": "plan_type", "title": "plan_title"})
    table = actions.drop(columns="geom").merge(info, on="plan_id", how="left")
    table["overdue"] = pd.Series(
        [overdue(None if pd.isna(t) else t, s, today)
         for t, s in zip(table["target_date"], table["status"], strict=True)],
        index=table.index, dtype=bool)
    return table


def located_actions(actions: gpd.GeoDataFrame, table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The actions that have a location, with the `overdue` flag of their row in `table`
    (action_table of the same actions): the points of a map."""
    located = actions[actions.geometry.notna()].copy()
    located["overdue"] = located["id"].isin(set(table.loc[table["overdue"], "id"]))
    return located


def progress_summary(table: pd.DataFrame) -> dict:
    """Counts by status, theme and lead type; overdue count; the share led by communities."""
    total = len(table)
    by = {
        "status": {s: int((table["status"] == s).sum()) for s in ACTION_STATUSES},
        "lead_type": {t: int((table["lead_type"] == t).sum()) for t in LEAD_TYPES},
        "theme": {str(k): int(v) for k, v in table["theme"].value_counts().sort_index().items()},
    }
    return {"total": total, "overdue": int(table["overdue"].sum()), **by,
            "community_led_share": (by["lead_type"]["community"] / total) if total else None}


def per_plan(table: pd.DataFrame) -> list[dict]:
    """For each plan: actions done (completed), in progress (in progress or not started),
    stalled, cancelled and overdue; and not_smart, the count of its actions missing a SMART
    element (capmap.services.gaprules.SMART_FIELDS), listed under not_smart_actions."""
    gaps = smart_gaps(table)
    rows = []
    for (plan_id, ref, title, plan_type), group in table.groupby(
            ["plan_id", "plan_ref", "plan_title", "plan_type"], sort=True):
        status = group["status"]
        rows.append({"plan_id": plain(plan_id), "ref": ref, "title": title, "type": plan_type,
                     "actions": len(group), "done": int((status == "completed").sum()),
                     "in_progress": int(status.isin(["in_progress", "not_started"]).sum()),
                     "stalled": int((status == "stalled").sum()),
                     "cancelled": int((status == "cancelled").sum()),
                     "overdue": int(group["overdue"].sum()),
                     "not_smart": len(gaps.get(int(plan_id), [])),
                     "not_smart_actions": gaps.get(int(plan_id), [])})
    return rows


def not_smart_rows(per_plan_rows: list[dict]) -> list[dict]:
    """One row per action missing a SMART element: plan_ref, action ref and title, and the
    elements missing joined by "; " (the per-action table of the CSV)."""
    return [{"plan_ref": plan["ref"], "action_ref": action["ref"], "title": action["title"],
             "missing": "; ".join(action["missing"])}
            for plan in per_plan_rows for action in plan["not_smart_actions"]]
