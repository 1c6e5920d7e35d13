"""Public progress reports (Community Empowerment (Scotland) Act 2015, Part 2): per plan and
reporting year, its actions by status with the change since the last report, the overdue ones,
the progress notes and status changes of the year, all rebuilt from the history.

Scottish public bodies report on financial years: reporting year 2025 ("2025-26") runs from
1 April 2025 to 31 March 2026, in Scotland's time (Europe/London: the year ends at midnight BST,
23:00 UTC on 31 March). "Status at the end of the year" is the status at that midnight; "the
last report" is the year before. A year still running is reported to now, and its overdue
actions are those overdue today; a finished year's are those whose target passed by its end
(progress.overdue as on 1 April). Who made a change is shown to staff only; the public see the
kind of change's author ("council officer" for the web, "data import").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from capmap.core.errors import InputError
from capmap.core.models import ACTION_STATUSES
from capmap.services.progress import overdue
from capmap.storage import Store
from capmap.storage.edits import REMOVED, Change
from capmap.storage.reports import as_date

SCOTLAND = ZoneInfo("Europe/London")
FIRST_YEAR = 2016  # Part 2 of the 2015 Act: the first Locality Plans and LOIPs, 2016-17
PUBLIC_AUTHORS = {"web": "council officer", "import": "data import"}
RULE = ("Reporting years are financial years, 1 April to 31 March (Europe/London time); year "
        "2025 is 2025-26. Status at the end of a year is the last status change before 1 April "
        "00:00, else the status before the first change after it, else the status now; the "
        "change since the last report compares it with the end of the year before. Overdue: "
        "target date passed by the year's end (today for the year in progress) and neither "
        "completed nor cancelled.")


@dataclass(frozen=True)
class ReportingYear:
    """One financial year: `year` 2025 is 1 April 2025 to 31 March 2026."""

    year: int

    @property
    def label(self) -> str:
        return f"{self.year}-{(self.year + 1) % 100:02d}"

    def start(self) -> datetime:
        """1 April, 00:00 in Scotland, as UTC."""
        return datetime.combine(date(self.year, 4, 1), time(), SCOTLAND).astimezone(UTC)

    def end(self) -> datetime:
        """The next 1 April, 00:00 in Scotland, as UTC (exclusive)."""
        return ReportingYear(self.year + 1).start()

    def last_day(self) -> date:
        return date(self.year + 1, 3, 31)


def year_of(moment: datetime) -> ReportingYear:
    """The reporting year holding a moment."""
    local = moment.astimezone(SCOTLAND)
    return ReportingYear(local.year if local.month >= 4 else local.year - 1)


def parse_year(text: str | None, now: datetime) -> ReportingYear:
    """?year=: a whole number from FIRST_YEAR to the year now running; blank: the last year
    finished. InputError (400) naming what was given otherwise."""
    current = year_of(now)
    if text is None or not text.strip():
        return ReportingYear(current.year - 1)
    raw = text.strip()
    if not raw.isascii() or not raw.isdigit():
        raise InputError(f"year: {raw[:20]!r} is not a year; expected the year a reporting "
                         f"year starts in, e.g. {current.year - 1} for "
                         f"{ReportingYear(current.year - 1).label}")
    if not FIRST_YEAR <= int(raw) <= current.year:
        raise InputError(f"year: {int(raw)} is out of range; expected {FIRST_YEAR} to "
                         f"{current.year} ({current.label} is the year now running)")
    return ReportingYear(int(raw))


def progress_report(store: Store, plan_id: int, year: ReportingYear, now: datetime,
                    with_people: bool = False) -> dict:
    """A plan's progress report for a reporting year (see the module's rules); NotFound for an
    unknown plan."""
    complete = year.end() <= now
    end = year.end() if complete else now
    on = year.end().astimezone(SCOTLAND).date() if complete else now.astimezone(SCOTLAND).date()
    with store.one_read():
        plan = store.record("plan", plan_id)
        rows = store.actions_at(plan_id, year.start(), end)
        changes = store.period_changes(plan_id, year.start(), end)
    moves = sorted({(r["previous"], r["status"], r["pair_count"]) for r in rows},
                   key=lambda m: (m[0] or "", m[1] or ""))
    actions = [_action_row(r, on) for r in rows if r["status"] is not None]
    return {
        "plan": {k: plan[k] for k in ("id", "ref", "title", "type", "owner", "council_code")},
        "year": {"year": year.year, "label": year.label, "start": year.start().isoformat(),
                 "end": year.end().isoformat(), "last_day": year.last_day().isoformat(),
                 "complete": complete, "as_of": end.isoformat(), "overdue_on": on.isoformat()},
        "rule": RULE,
        "statuses": status_counts(moves),
        "moves": [{"from": was, "to": now_, "actions": n} for was, now_, n in moves
                  if now_ is not None and was != now_],
        "actions": actions,
        "overdue": [a for a in actions if a["overdue"]],
        "notes": [_change_row(c, with_people) for c in changes if c.field == "progress_note"
                  and c.new_value],
        "changes": [_change_row(c, with_people) for c in changes if c.field != "progress_note"],
        "totals": _totals(actions, moves, changes),
    }


def status_counts(moves: list[tuple[str | None, str | None, int]]) -> list[dict]:
    """Per status: actions at the end of the year before, at the end of this one, the change."""
    seen = {s for was, now, _ in moves for s in (was, now) if s is not None}
    order = [*ACTION_STATUSES, *sorted(seen - set(ACTION_STATUSES))]
    rows = []
    for status in order:
        before = sum(n for was, _, n in moves if was == status)
        after = sum(n for _, now, n in moves if now == status)
        rows.append({"status": status, "previous": before, "current": after,
                     "change": after - before})
    return rows


def _action_row(row: dict, on: date) -> dict:
    target = as_date(row["target_date"])
    return {"id": row["id"], "ref": row["ref"], "title": row["title"], "theme": row["theme"],
            "lead": row["lead"], "lead_type": row["lead_type"],
            "target_date": target.isoformat() if target else None,
            "previous": row["previous"], "status": row["status"],
            "moved": row["previous"] != row["status"],
            "overdue": overdue(target, row["status"], on)}


def _change_row(change: Change, with_people: bool) -> dict:
    return {"record": change.record, "ref": change.ref, "field": change.field,
            "old": change.old_value, "new": change.new_value, "at": change.at.isoformat(),
            "by": change.changed_by if with_people
            else PUBLIC_AUTHORS.get(change.source, "council officer")}


def _totals(actions: list[dict], moves: list, changes: list[Change]) -> dict:
    return {"actions": len(actions), "overdue": sum(a["overdue"] for a in actions),
            "moved": sum(a["moved"] for a in actions),
            "added": sum(n for was, now, n in moves if was is None and now is not None),
            "removed": sum(c.field == REMOVED and c.record == "action" for c in changes),
            "notes": sum(c.field == "progress_note" and bool(c.new_value) for c in changes)}


REPORT_COLUMNS = ["plan_ref", "year", "action_ref", "title", "theme", "lead", "lead_type",
                  "target_date", "status_previous_year_end", "status_year_end", "moved",
                  "overdue", "notes_in_year"]


def report_rows(report: dict) -> list[dict]:
    """One CSV row per action of the report (REPORT_COLUMNS)."""
    notes: dict[str, int] = {}
    for note in report["notes"]:
        notes[note["ref"]] = notes.get(note["ref"], 0) + 1
    return [{"plan_ref": report["plan"]["ref"], "year": report["year"]["label"],
             "action_ref": a["ref"], "title": a["title"], "theme": a["theme"], "lead": a["lead"],
             "lead_type": a["lead_type"], "target_date": a["target_date"],
             "status_previous_year_end": a["previous"] or "(not yet added)",
             "status_year_end": a["status"], "moved": "yes" if a["moved"] else "no",
             "overdue": "yes" if a["overdue"] else "no", "notes_in_year": notes.get(a["ref"], 0)}
            for a in report["actions"]]

