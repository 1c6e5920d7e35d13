"""The sample actions' histories over two reporting years and the one running (2024-25,
2025-26, 2026-27 to AS_OF): when each was added, its status changes and progress notes, ending
at the status and note actions.csv gives it, the last change on its `updated` day."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from capmap.sample.actions import ACTION_COLUMNS, NOTES, _day, _pick

HISTORY_COLUMNS = ("action_ref", "field", "old_value", "new_value", "at", "changed_by")
FIRST_DAY = date(2024, 4, 1)  # the first of the two reporting years
ADDED_BY = date(2025, 9, 30)  # the last day an action may be added
# The statuses an action passed through on its way to its status now (not_started first).
PATHS = {"not_started": ("not_started",),
         "in_progress": ("not_started", "in_progress"),
         "completed": ("not_started", "in_progress", "completed"),
         "stalled": ("not_started", "in_progress", "stalled"),
         "cancelled": ("not_started", "cancelled")}
OFFICERS = ("locality officer", "partnership officer", "community planning officer")
_COL = {name: i for i, name in enumerate(ACTION_COLUMNS)}


def _stamp(rng: np.random.Generator, day: date) -> str:
    """A working-hours moment of a day, in UTC (09:00 to 16:59)."""
    return f"{day.isoformat()}T{int(rng.integers(9, 17)):02d}:{int(rng.integers(0, 60)):02d}:00Z"


def _days(rng: np.random.Generator, first: date, last: date, count: int) -> list[date]:
    """`count` different days, increasing, after `first`, the last one `last` (which is more
    than 2 * `count` days after `first`); the others in the first half (work starts early and
    is reported done later)."""
    if count == 0:
        return []
    inner = rng.choice(np.arange(1, (last - first).days // 2), size=count - 1, replace=False)
    return [first + timedelta(days=int(d)) for d in sorted(inner)] + [last]


def _action_history(rng: np.random.Generator, row: list[str]) -> list[list[str]]:
    """The history rows of one sample action."""
    ref, title, status, note = (row[_COL[k]] for k in ("ref", "title", "status",
                                                        "progress_note"))
    updated = date.fromisoformat(row[_COL["updated"]])
    steps = PATHS[status][1:]
    added = min(_day(rng, FIRST_DAY, ADDED_BY), updated - timedelta(days=30 * (len(steps) + 1)))
    who = _pick(rng, OFFICERS)
    rows = [[ref, "created", "", title, _stamp(rng, added), who]]
    previous, last_note = PATHS[status][0], ""
    for step, day in zip(steps, _days(rng, added, updated, len(steps)), strict=True):
        at = _stamp(rng, day)
        rows.append([ref, "status", previous, step, at, who])
        text = note if step == status else _pick(rng, NOTES[step]).format(
            p=int(rng.integers(2, 9)) * 5)
        rows.append([ref, "progress_note", last_note, text, at, who])
        previous, last_note = step, text
    if not steps:  # not started: the note written when it was added
        rows.append([ref, "progress_note", "", note, rows[0][4], who])
    return rows


def build_history(rng: np.random.Generator, actions: list[list[str]]) -> list[list[str]]:
    """Every sample action's history rows (HISTORY_COLUMNS), action by action."""
    return [r for row in actions for r in _action_history(rng, row)]
