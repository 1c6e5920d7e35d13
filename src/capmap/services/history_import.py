"""Importing the history of actions kept before capmap (a spreadsheet of status changes and
progress notes), so progress reports can look back over years before the import.

A CSV of action_ref, field (created, status or progress_note), old_value, new_value, at (ISO
8601; UTC unless a zone is given) and optionally changed_by. It is refused whole, every bad row
listed, unless each row names a stored action, a known field and a real status, and each
action's rows, oldest first, chain (a change's old status is the status before it) and end at
the action's status and note now. A `created` row states when the action really began: it
replaces the addition the action's own import wrote.
"""

from __future__ import annotations

import csv
import time
from datetime import UTC, datetime
from pathlib import Path

from capmap.core.errors import RowsRejected, ValidationError
from capmap.core.models import ACTION_STATUSES, ImportReport
from capmap.storage import Store
from capmap.storage.edits import CREATED, IMPORTER

COLUMNS = ("action_ref", "field", "old_value", "new_value", "at")
FIELDS = (CREATED, "status", "progress_note")
MAX_ROWS = 2_000_000


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text.strip())
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def _read(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError(f"{path.name}: no column {', '.join(missing)}; columns are "
                                  f"{', '.join(reader.fieldnames or [])}")
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) > MAX_ROWS:
                raise ValidationError(f"{path.name}: more than {MAX_ROWS:,} rows")
    return rows


def _row_problem(row: dict, actions: dict) -> str | None:
    if row["action_ref"] not in actions:
        return f"action_ref {row['action_ref'][:40]!r} is not a stored action"
    if row["field"] not in FIELDS:
        return f"field {row['field'][:40]!r} is not one of {', '.join(FIELDS)}"
    if row["field"] == "status" and row["new_value"] not in ACTION_STATUSES:
        return f"status {row['new_value'][:40]!r} is not one of {', '.join(ACTION_STATUSES)}"
    try:
        row["at"] = _moment(row["at"])
    except ValueError:
        return f"at {row['at'][:40]!r} is not a date and time; expected e.g. 2025-04-02T10:00Z"
    return None


def _chain_problems(rows: list[tuple[int, dict]], action: dict) -> list[tuple[int, str]]:
    """An action's rows (numbered, oldest first) must chain and end where the action is now."""
    problems, last = [], {}
    for number, row in rows:
        field = row["field"]
        if field == "status" and field in last and (row["old_value"] or None) != last[field]:
            problems.append((number, f"{row['action_ref']}: status was {last[field]!r} before "
                             f"this change, not {row['old_value']!r}"))
        last[field] = row["new_value"] or None
    for field, now in (("status", action["status"]), ("progress_note", action["progress_note"])):
        if field in last and last[field] != (now or None):
            problems.append((rows[-1][0], f"{rows[0][1]['action_ref']}: the history ends with "
                             f"{field} {last[field]!r} but the action's {field} is {now!r}"))
    return problems


def import_history(store: Store, path: str | Path) -> ImportReport:
    """Store the history rows of a CSV (see the module); nothing is stored if any row is bad."""
    start, path = time.perf_counter(), Path(path)
    rows = _read(path)
    actions = store.actions_by_ref(sorted({r["action_ref"] for r in rows}))
    report = ImportReport(what=f"history {path.name}", read=len(rows))
    by_action: dict[str, list[tuple[int, dict]]] = {}
    for number, row in enumerate(rows, start=1):
        problem = _row_problem(row, actions)
        if problem:
            report.rejected.append((number, problem))
        else:
            by_action.setdefault(row["action_ref"], []).append((number, row))
    for ref, numbered in by_action.items():
        numbered.sort(key=lambda item: (item[1]["at"], item[0]))
        report.rejected += _chain_problems(numbered, actions[ref])
    if report.rejected:
        report.rejected.sort()
        raise RowsRejected(f"{path.name}: {len(report.rejected)} rows rejected; nothing was "
                           "stored", report)
    stored = [{**row, "record_id": actions[row["action_ref"]]["id"],
               "plan_id": actions[row["action_ref"]]["plan_id"],
               "changed_by": (row.get("changed_by") or IMPORTER)[:80]} for row in rows]
    report.stored = store.put_history(stored)
    report.seconds = time.perf_counter() - start
    return report
