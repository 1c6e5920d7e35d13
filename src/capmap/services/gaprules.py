"""The gap rules of plan coverage, in one place: which plans count as coverage today, which are
"local", when a plan is due for review and what makes an action SMART. The pipeline (the
derived per-type coverage), the web pages, the API and the exports all ask here.

Why these rules: a CPP must have Locality Plans where outcomes are poorest, review its plans
(community plans about every five years) and publish SMART actions. An expired plan, a draft or
a council-wide plan does not meet the duty for a neighbourhood, so none of them counts."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from capmap.core.serialise import plain

# Plans that cover their whole council by definition: the LOIP, and service plans (children's
# services plans, health and social care strategic plans are council-wide; the type vocabulary
# has one service_plan for them). The rest are "local" plans.
COUNCIL_WIDE_TYPES = ("loip", "service_plan")
# Plans written by communities themselves: due for review REVIEW_YEARS after adoption.
COMMUNITY_LED_TYPES = ("community_action_plan", "local_place_plan")
REVIEW_YEARS = 5
# Statuses of a plan in force, compared case-folded with spaces and hyphens as "_". A blank
# status is in force (nothing says otherwise; the period still applies); draft, consultation,
# expired, superseded, withdrawn and any other word are not.
IN_FORCE_STATUSES = ("", "adopted", "approved", "current", "active", "published", "in_force",
                     "under_review")
# The parts of a SMART action capmap can check: who leads, how it is measured, by when, with what.
SMART_FIELDS = ("lead", "measure", "target_date", "resources")


def folded_status(status: object) -> str:
    """A plan status as compared: stripped, lower case, spaces and hyphens as "_"."""
    text = status if isinstance(status, str) else ""
    return "_".join(text.strip().lower().replace("-", " ").split())


def in_force(plans: pd.DataFrame, today: date) -> np.ndarray:
    """Per plan (columns status, period_end), whether it counts as coverage on `today`: a status
    in IN_FORCE_STATUSES and a period not ended before today (no end: open)."""
    status = np.array([folded_status(s) in IN_FORCE_STATUSES for s in plans["status"]],
                      dtype=bool)
    ended = np.array([_day(end) is not None and _day(end) < today for end in plans["period_end"]],
                     dtype=bool)
    return status & ~ended


def is_local(types: pd.Series | np.ndarray) -> np.ndarray:
    """Per plan type, whether it is a local plan (not council-wide)."""
    return ~np.isin(np.asarray(types, dtype=object), COUNCIL_WIDE_TYPES)


def add_years(day: date, years: int) -> date:
    """`day` `years` later; 29 February becomes 28 February in a year that has none."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def review_date(plan) -> tuple[date | None, str]:
    """When a plan (a row with type, period_start, period_end, review_due) is due for review,
    and why: its review_due; else for a community-led plan REVIEW_YEARS after its start; else at
    the end of its period; else REVIEW_YEARS after its start; else (None, "unknown")."""
    due, start, end = (_day(plan[k]) for k in ("review_due", "period_start", "period_end"))
    if due is not None:
        return due, "review_due"
    if start is not None and plan["type"] in COMMUNITY_LED_TYPES:
        return add_years(start, REVIEW_YEARS), f"{REVIEW_YEARS} years after period_start"
    if end is not None:
        return end, "period_end"
    if start is not None:
        return add_years(start, REVIEW_YEARS), f"{REVIEW_YEARS} years after period_start"
    return None, "unknown"


def review_flags(plans: pd.DataFrame, today: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The plans past review on `today` and the plans whose review cannot be dated, each with
    columns review_date and review_basis added."""
    dated = [review_date(row) for _, row in plans.iterrows()]
    table = plans.assign(review_date=[d for d, _ in dated], review_basis=[b for _, b in dated])
    known = table["review_date"].notna()
    past = known & table["review_date"].map(lambda d: d is not None and d < today).astype(bool)
    return table[past], table[~known]


def missing_smart(action) -> list[str]:
    """The SMART_FIELDS an action (a row) leaves empty."""
    return [name for name in SMART_FIELDS if _blank(action[name])]


def smart_gaps(actions: pd.DataFrame) -> dict[int, list[dict]]:
    """Per plan id, its actions missing a SMART element: ref, title and the fields missing."""
    out: dict[int, list[dict]] = {}
    for _, row in actions.iterrows():
        missing = missing_smart(row)
        if missing:
            out.setdefault(int(row["plan_id"]), []).append(
                {"id": plain(row["id"]), "ref": row["ref"], "title": row["title"],
                 "missing": missing})
    return out


def describe() -> dict:
    """The rules as the JSON answers state them."""
    return {"council_wide": list(COUNCIL_WIDE_TYPES), "in_force_statuses": list(IN_FORCE_STATUSES),
            "community_led": list(COMMUNITY_LED_TYPES), "review_years": REVIEW_YEARS,
            "smart_fields": list(SMART_FIELDS)}


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return bool(pd.isna(value))


def _day(value: object) -> date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.date() if isinstance(value, pd.Timestamp) else value
