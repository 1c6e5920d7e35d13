"""The register of Local Place Plans (Town and Country Planning (Scotland) Act 1997 schedule 19
para. 3; The Town and Country Planning (Local Place Plans) (Scotland) Regulations 2021, SSI
2021/353, regs 6-8): the steps an entry moves through, checked before anything is written.

A community body proposes a plan and submits it; the planning authority checks it is valid
(validated) and must then register it, or decides it is not valid and gives its reasons (not
registered; a revised plan may be submitted again); a registered plan may later be removed, with
the reason and the date. The public register shows registered plans and those removed from it:
the earlier stages, and plans never registered, are the authority's working record (staff of the
council see them).

A step that the entry's current status does not allow is a 409 (TransitionRefused); a step that
breaks a rule (no reason where one is needed, a date in the future or before the last step) a
422; text that is not a date a 400.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from capmap.core import parse
from capmap.core.errors import CapmapError, InputError, NotFound, ValidationError
from capmap.storage import Store
from capmap.storage.edits import Change

LPP_TYPE = "local_place_plan"
STATUSES = ("proposed", "submitted", "validated", "registered", "not_registered", "removed")
PUBLIC_STATUSES = ("registered", "removed")
LABELS = {"proposed": "Proposed", "submitted": "Submitted", "validated": "Validated",
          "registered": "Registered", "not_registered": "Not registered",
          "removed": "Removed from the register"}
# The steps allowed from each status; None: the plan has no entry yet (a council may first hear
# of a plan when it is proposed to it, or only when it is submitted).
TRANSITIONS: dict[str | None, tuple[str, ...]] = {
    None: ("proposed", "submitted"),
    "proposed": ("submitted",),
    "submitted": ("validated", "not_registered"),
    "validated": ("registered",),  # a valid plan must be registered (sch. 19 para. 3(2))
    "not_registered": ("submitted",),
    "registered": ("removed",),
    "removed": (),
}
# Reasons the authority must give: why a plan is not valid (para. 3(3)), why it is removed.
NEEDS_REASON = frozenset({"not_registered", "removed"})
DATE_COLUMNS = {status: f"{status}_on" for status in STATUSES}
REASON_CHARS = 2000
BODY_CHARS = 300


class TransitionRefused(CapmapError):
    """A step the entry's current status does not allow."""

    status = 409


@dataclass(frozen=True)
class Step:
    """One step asked for: the status to move to, its date, the reason (where one is needed)
    and, for a new entry, the community body ("": the plan's owner)."""

    to: str
    on: date
    reason: str = ""
    community_body: str = ""


def allowed_from(status: str | None) -> tuple[str, ...]:
    """The statuses an entry at `status` (None: no entry) may move to."""
    return TRANSITIONS[status]


def _allowed_text(status: str | None) -> str:
    allowed = allowed_from(status)
    return ", ".join(allowed) if allowed else "none (removal is final)"


def _last_step(entry: Mapping) -> tuple[str, date] | None:
    dated = [(entry[column], status) for status, column in DATE_COLUMNS.items()
             if entry.get(column) is not None]
    if not dated:
        return None
    on, status = max(dated)
    return status, on


def _check_date(step: Step, entry: Mapping | None, today: date) -> None:
    if step.on > today:
        raise ValidationError(f"on: {step.on.isoformat()} is in the future; a step is recorded "
                              f"when it has happened (today is {today.isoformat()})")
    last = _last_step(entry) if entry else None
    if last and step.on < last[1]:
        raise ValidationError(f"on: {step.on.isoformat()} is before the entry's last step "
                              f"({last[0]} on {last[1].isoformat()}); give that date or later")


def _check_reason(step: Step) -> str:
    reason = step.reason.strip()
    if step.to in NEEDS_REASON and not reason:
        raise ValidationError(f"reason: none given; moving to {step.to} needs the reason the "
                              "authority gives")
    if step.to not in NEEDS_REASON and reason:
        raise ValidationError(f"reason: {reason[:40]!r} given, but only "
                              f"{' and '.join(sorted(NEEDS_REASON))} keep a reason")
    if len(reason) > REASON_CHARS:
        raise ValidationError(f"reason: {len(reason)} characters given; at most {REASON_CHARS}")
    return reason


def next_values(plan: Mapping, entry: Mapping | None, step: Step, today: date) -> dict:
    """The register columns that change when `plan` (a plans row) takes `step` from `entry`
    (its register row; None: none yet). Refuses a plan of another type (422), a status not in
    STATUSES (422), a step not allowed from the current status (409), a missing or needless
    reason and a date in the future or before the last step (422)."""
    if plan["type"] != LPP_TYPE:
        raise ValidationError(f"plan {plan['ref']} is a {plan['type']}; only plans of type "
                              f"{LPP_TYPE} have register entries")
    if step.to not in STATUSES:
        raise ValidationError(f"to: {step.to[:40]!r} is not a register status; expected one of "
                              f"{', '.join(STATUSES)}")
    status = entry["status"] if entry else None
    if step.to not in allowed_from(status):
        now = f"is {status}" if status else "has no register entry yet"
        raise TransitionRefused(f"plan {plan['ref']} {now}: it cannot move to {step.to}; "
                                f"allowed: {_allowed_text(status)}")
    values = {"status": step.to, DATE_COLUMNS[step.to]: step.on, "reason": _check_reason(step)}
    _check_date(step, entry, today)
    if status == "not_registered":  # submitted again: the refusal stays in the history
        values["not_registered_on"] = None
    if entry is None:
        values["community_body"] = _community_body(plan, step)
    return values


def _community_body(plan: Mapping, step: Step) -> str:
    body = (step.community_body or plan.get("owner") or "").strip()
    if not body:
        raise ValidationError("community_body: none given and the plan records no owner; give "
                              "the community body that prepared the plan")
    if len(body) > BODY_CHARS:
        raise ValidationError(f"community_body: {len(body)} characters given; at most "
                              f"{BODY_CHARS}")
    return body


def read_step(form: Mapping[str, str], today: date) -> Step:
    """A step from a form's or a file's text: to, on (YYYY-MM-DD; empty: today), reason,
    community_body."""
    on = parse.iso_date(form.get("on"), "on") or today
    return Step((form.get("to") or "").strip(), on, form.get("reason") or "",
                form.get("community_body") or "")


def public(entry: Mapping) -> bool:
    """Whether the public register shows this entry."""
    return entry["status"] in PUBLIC_STATUSES


def check_council_code(code: str, known: set[str]) -> str:
    """`code` if the register knows that council, else a 404 naming what was given."""
    if code not in known:
        raise NotFound(f"council {code[:40]!r} has no Local Place Plan register here; councils "
                       f"known: {', '.join(sorted(known)) or 'none'}")
    return code


def take_step(store: Store, plan_id: int, step: Step, changed_by: str, source: str = "web",
              today: date | None = None) -> list[Change]:
    """Check and write one step of a plan's register entry; the history rows written."""
    today = today or date.today()
    return store.lpp_step(plan_id, lambda plan, entry: next_values(plan, entry, step, today),
                          changed_by, source)


STEP_COLUMNS = ("plan_ref", "to", "on", "reason", "community_body")


def take_steps(store: Store, rows: Iterable[Mapping[str, str]], changed_by: str,
               source: str = "import", today: date | None = None) -> int:
    """Steps from a table (STEP_COLUMNS; plan_ref names the plan), in order, all or none: a
    refused row names its line (the header is line 1) and nothing is kept. The steps taken."""
    today = today or date.today()
    taken = 0
    with store.atomic():
        for line, row in enumerate(rows, start=2):
            try:
                plan = store.lpp_plan((row.get("plan_ref") or "").strip())
                take_step(store, plan["id"], read_step(row, today), changed_by, source, today)
            except CapmapError as exc:
                raise type(exc)(f"line {line}: {exc.message}; nothing was kept") from None
            taken += 1
    return taken


def steps_from_csv(text: str) -> list[dict[str, str]]:
    """The rows of a register steps CSV (STEP_COLUMNS; plan_ref and to required, the others
    may be left out); a missing column is a 400 naming the columns found."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    found = [name.strip() for name in reader.fieldnames or []]
    missing = [c for c in ("plan_ref", "to") if c not in found]
    if missing:
        raise InputError(f"register steps: column {', '.join(missing)} not found; columns are "
                         f"{', '.join(found) or 'none'}; expected {', '.join(STEP_COLUMNS)}")
    return [{(k or "").strip(): v or "" for k, v in row.items()} for row in reader]
