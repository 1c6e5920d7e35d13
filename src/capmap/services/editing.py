"""Officers and planners keeping plans and actions up to date: the fields a person may change,
checked from a form's text, written with their history; removing a plan or an action.

Text that cannot be read as its field's type is a 400 (InputError); a value that breaks a rule
(a status not in the list, a percentage over 100, an empty title) a 422 (ValidationError). Each
message names the field and the value given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from capmap.core import parse
from capmap.core.errors import CapmapError, InputError, ValidationError
from capmap.core.models import ACTION_STATUSES
from capmap.services.engine import Engine
from capmap.services.refresh import refresh_plan_coverage
from capmap.storage import Store
from capmap.storage.edits import Change


@dataclass(frozen=True)
class Field:
    """One editable field: its label, how its text is read, and the longest text it takes."""

    label: str
    read: Callable[[str, str], object]
    max_length: int = 2000


def _text(name: str, value: str) -> str:
    return value.strip()


def _required(name: str, value: str) -> str:
    if not value.strip():
        raise ValidationError(f"{name}: an empty value is not allowed; give some text")
    return value.strip()


def _date(name: str, value: str) -> date | None:
    return parse.iso_date(value, name)


def _percent(name: str, value: str) -> int | None:
    if not value.strip():
        return None
    try:
        number = int(value.strip())
    except ValueError:
        raise InputError(f"{name}: {value.strip()[:40]!r} is not a whole number; expected 0 "
                         "to 100, or nothing") from None
    if not 0 <= number <= 100:
        raise ValidationError(f"{name}: {number} is not between 0 and 100")
    return number


def _action_status(name: str, value: str) -> str:
    status = value.strip()
    if status not in ACTION_STATUSES:
        raise ValidationError(f"{name}: {status[:40]!r} is not a status; expected one of "
                              f"{', '.join(ACTION_STATUSES)}")
    return status


PLAN_FIELDS: dict[str, Field] = {
    "title": Field("Title", _required, 300),
    "summary": Field("Summary", _text, 4000),
    "status": Field("Status", _text, 30),
    "review_due": Field("Review due", _date),
}
ACTION_FIELDS: dict[str, Field] = {
    "status": Field("Status", _action_status),
    "percent_complete": Field("Percentage complete", _percent),
    "progress_note": Field("Progress note", _text, 2000),
    "target_date": Field("Target date", _date),
    "lead": Field("Lead", _text, 300),
    "resources": Field("Resources", _text, 1000),
}
FIELDS = {"plan": PLAN_FIELDS, "action": ACTION_FIELDS}


def read_form(record: str, form: Mapping[str, str]) -> dict:
    """The values of the fields of `record` ("plan" or "action") present in `form`, checked;
    every problem is reported at once (the first decides the status, the rest are details)."""
    values, problems = {}, []
    for name, spec in FIELDS[record].items():
        if name not in form:
            continue
        raw = form[name]
        if len(raw) > spec.max_length:
            problems.append(ValidationError(f"{name}: {len(raw)} characters given; at most "
                                            f"{spec.max_length}"))
            continue
        try:
            values[name] = spec.read(name, raw)
        except CapmapError as exc:
            problems.append(exc)
    if problems:
        first = problems[0]
        raise type(first)(first.message, details=[p.message for p in problems[1:]])
    return values


def edit(store: Store, record: str, record_id: int, form: Mapping[str, str], changed_by: str
         ) -> list[Change]:
    """Check the form and write the changes of one plan or action; the changes kept."""
    values = read_form(record, form)
    touch = {"updated": date.today()} if record == "action" else None
    return store.change_record(record, record_id, values, changed_by, touch=touch)


def remove(store: Store, record: str, record_id: int, changed_by: str) -> list[Change]:
    """Remove a plan (with its actions) or an action; the coverage tables follow a plan's
    removal in the same transaction."""
    with store.atomic():
        removed = store.remove_record(record, record_id, changed_by)
        if record == "plan":
            refresh_plan_coverage(store, Engine(store))
    return removed


def change_json(change: Change, with_people: bool) -> dict:
    """A history row as JSON; who made it only for staff (`with_people`)."""
    row = {"record": change.record, "record_id": change.record_id, "ref": change.ref,
           "plan_id": change.plan_id, "field": change.field, "old": change.old_value,
           "new": change.new_value, "source": change.source, "at": change.at.isoformat()}
    if with_people:
        row["by"] = change.changed_by
    return row
