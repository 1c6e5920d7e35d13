"""Keeping plans and actions up to date on the web: edit forms, removal, and the history.

Officers, planners and admins edit; planners and admins remove. An account limited to councils
acts only on plans of those councils (403 elsewhere). Every form works without JavaScript.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import words
from app.auth import current_councils, current_roles, role_required
from app.errors import for_reader
from app.store import get_store
from capmap.core.errors import InputError, NotFound, ValidationError
from capmap.core.models import ACTION_STATUSES
from capmap.services import editing
from capmap.services.access import EDIT_ROLES, REMOVE_ROLES, may_edit

bp = Blueprint("editing", __name__)
HISTORY_ROWS = 200


def _plan_of(record: str, record_id: int) -> dict:
    """The plan a record belongs to (the record itself for a plan); 404 if there is none."""
    store = get_store()
    row = store.record(record, record_id)
    return row if record == "plan" else store.record("plan", row["plan_id"])


def _check_scope(plan: dict, needed=EDIT_ROLES) -> None:
    if not may_edit(current_roles(), current_councils(), plan["council_code"], needed):
        abort(403, for_reader(_l("your account may not change plans of council %(council)s; "
                                 "it is limited to %(councils)s",
                                 council=plan["council_code"] or _l("(none recorded)"),
                                 councils=", ".join(sorted(current_councils())))))


def _form(record: str, record_id: int):
    store = get_store()
    row = store.record(record, record_id)
    plan = row if record == "plan" else store.record("plan", row["plan_id"])
    _check_scope(plan)
    error, details, status = "", [], 200
    if request.method == "POST":
        try:
            changes = editing.edit(store, record, record_id, request.form,
                                   current_user.user.username)
        except (InputError, ValidationError) as exc:
            error, details, status = exc.message, exc.details, exc.status
            row = {**row, **request.form.to_dict()}  # show what was typed, to be put right
        else:
            flash(ngettext("%(num)s change saved.", "%(num)s changes saved.", len(changes))
                  if changes else gettext("Nothing was changed."))
            return redirect(url_for("finder.plan", plan_id=plan["id"]), 303)
    may_remove = may_edit(current_roles(), current_councils(), plan["council_code"],
                          REMOVE_ROLES)
    return render_template("edit_record.html", record=record, row=row, plan=plan,
                           fields=editing.FIELDS[record], field_labels=words.EDIT_FIELDS,
                           statuses=ACTION_STATUSES, action_statuses=words.ACTION_STATUSES,
                           error=error, details=details, may_remove=may_remove), status


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@role_required(*EDIT_ROLES)
def edit_plan(plan_id: int):
    """Change a plan's title, summary, status and review date."""
    return _form("plan", plan_id)


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@role_required(*EDIT_ROLES)
def edit_action(action_id: int):
    """Change an action's status, progress, percentage complete, target date, lead and
    resources."""
    return _form("action", action_id)


def _remove(record: str, record_id: int):
    plan = _plan_of(record, record_id)
    _check_scope(plan, REMOVE_ROLES)
    if request.form.get("confirm") != "yes":
        given = repr(request.form.get("confirm", "")[:20])
        raise ValidationError(for_reader(
            _l("confirm: %(given)s given; tick the box to confirm the plan is to be removed",
               given=given) if record == "plan" else
            _l("confirm: %(given)s given; tick the box to confirm the action is to be removed",
               given=given)))
    removed = editing.remove(get_store(), record, record_id, current_user.user.username)
    flash(_removed(record, removed[0].ref, len(removed) - 1))
    if record == "plan":
        return redirect(url_for("public.home"), 303)
    return redirect(url_for("finder.plan", plan_id=plan["id"]), 303)


def _removed(record: str, ref: str, actions: int) -> str:
    """What a removal says it did: the record, and for a plan the actions that went with it."""
    if record == "action":
        return gettext("Removed action %(ref)s.", ref=ref)
    if not actions:
        return gettext("Removed plan %(ref)s.", ref=ref)
    return ngettext("Removed plan %(ref)s and its %(num)s action.",
                    "Removed plan %(ref)s and its %(num)s actions.", actions, ref=ref)


@bp.post("/plans/<int:plan_id>/remove")
@role_required(*REMOVE_ROLES)
def remove_plan(plan_id: int):
    """Remove a plan and its actions (kept in the history)."""
    return _remove("plan", plan_id)


@bp.post("/actions/<int:action_id>/remove")
@role_required(*REMOVE_ROLES)
def remove_action(action_id: int):
    """Remove an action (kept in the history)."""
    return _remove("action", action_id)


def _staff() -> bool:
    return bool(set(current_roles()) & set(EDIT_ROLES))


def sees_register_history(council_code: str | None) -> bool:
    """Whether the person asking sees the Local Place Plan register's history rows of a plan
    of this council (None: of any plan, as in a period's changes): its staff do; the public
    sees the register itself (/lpp/register)."""
    if council_code is None:
        return _staff() and not current_councils()
    return may_edit(current_roles(), current_councils(), council_code)


@bp.get("/plans/<int:plan_id>/history.json")
def plan_history(plan_id: int):
    """Every change to a plan and its actions, newest first (who made it: staff only; the
    register's rows: the council's staff only)."""
    store = get_store()
    try:
        council = store.record("plan", plan_id)["council_code"]
    except NotFound:
        council = None  # a removed plan: its history outlives it
    changes = store.changes(plan_id=plan_id, limit=HISTORY_ROWS,
                            register=sees_register_history(council))
    if not changes:
        store.record("plan", plan_id)  # 404 for a plan that never was
    return jsonify({"plan_id": plan_id,
                    "changes": [editing.change_json(c, _staff()) for c in changes]})


def _moment(name: str) -> datetime | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{name}: {raw[:40]!r} is not a date or time; expected ISO 8601, e.g. "
                         "2026-04-01 or 2026-04-01T09:00:00+00:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.get("/changes.json")
def changes():
    """Changes to every plan and action in a period (?since= inclusive, ?until= exclusive,
    ISO dates; UTC unless a zone is given), newest first, at most HISTORY_ROWS."""
    rows = get_store().changes(since=_moment("since"), until=_moment("until"),
                               limit=HISTORY_ROWS, register=sees_register_history(None))
    return jsonify({"changes": [editing.change_json(c, _staff()) for c in rows]})


@bp.app_template_global("may_change")
def may_change(council_code: str | None, remove: bool = False) -> bool:
    """For pages: may the current person edit (or remove) a record of this council?"""
    return may_edit(current_roles(), current_councils(), council_code,
                    REMOVE_ROLES if remove else EDIT_ROLES)
