"""Public progress reports per plan and reporting year (page, JSON, CSV) and Atom feeds of plan
updates (capmap.services.reports, capmap.services.feeds). Who made a change is shown to staff only."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, render_template, request, url_for

from app.auth import current_roles
from app.http_cache import cacheable_response
from app.store import get_store
from capmap.core.codes import code_problem
from capmap.core.errors import InputError, NotFound
from capmap.present.dashboards import csv_text
from capmap.services.access import EDIT_ROLES
from capmap.services.feeds import atom_feed, feed_id
from capmap.services.reports import (
    FIRST_YEAR,
    REPORT_COLUMNS,
    parse_year,
    progress_report,
    report_rows,
    year_of,
)

bp = Blueprint("reports", __name__)
FEED_ENTRIES = 50
YEARS_OFFERED = 6  # the years the page's chooser lists, up to the one running
FEED_MAX_AGE = 60  # seconds a feed reader may keep a feed before asking (ETag: 304 then)


def _report(plan_id: int) -> dict:
    now = datetime.now(UTC)
    year = parse_year(request.args.get("year"), now)
    staff = bool(set(current_roles()) & set(EDIT_ROLES))
    return progress_report(get_store(), plan_id, year, now, with_people=staff)


@bp.get("/plans/<int:plan_id>/report")
def plan_report(plan_id: int):
    """A plan's printable progress report for ?year= (the financial year starting then)."""
    report = _report(plan_id)
    current = year_of(datetime.now(UTC)).year
    offered = set(range(max(FIRST_YEAR, current - YEARS_OFFERED + 1), current + 1))
    return render_template("report.html", report=report,
                           years=sorted(offered | {report["year"]["year"]}))


@bp.get("/plans/<int:plan_id>/report.json")
def plan_report_json(plan_id: int):
    """The progress report as JSON."""
    return jsonify(_report(plan_id))


@bp.get("/plans/<int:plan_id>/report.csv")
def plan_report_csv(plan_id: int):
    """The progress report's actions, one row each, through the CSV formula guard."""
    report = _report(plan_id)
    name = f"progress-{report['plan']['ref']}-{report['year']['label']}.csv"
    return Response(csv_text(report_rows(report), REPORT_COLUMNS), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _feed(rows: list[dict], title: str, page_url: str) -> Response:
    database_id = get_store().database_id()
    key = request.path + (f"?council={request.args['council']}" if "council" in request.args
                          else "")
    body = atom_feed(rows, feed_id=feed_id(database_id, key),
                     title=title, self_url=request.url, page_url=page_url,
                     plan_url=lambda i: url_for("finder.plan", plan_id=i, _external=True),
                     database_id=database_id)
    return cacheable_response(body, "application/atom+xml", max_age=FEED_MAX_AGE)


@bp.get("/plans/<int:plan_id>/updates.atom")
def plan_feed(plan_id: int):
    """Atom feed of a plan's updates (its actions included), newest first."""
    with get_store().one_read():
        plan = get_store().record("plan", plan_id)
        rows = get_store().feed_changes(plan_id=plan_id, limit=FEED_ENTRIES)
        return _feed(rows, f"Updates to {plan['title']}",
                     url_for("finder.plan", plan_id=plan_id, _external=True))


@bp.get("/updates.atom")
def feed():
    """Atom feed of updates to every plan, or to the plans of ?council=CODE."""
    council = request.args.get("council", "").strip() or None
    if council is not None:
        problem = code_problem(council, "council")
        if problem:
            raise InputError(problem)
    with get_store().one_read():
        if council is not None and council not in get_store().councils_with_plans():
            raise NotFound(f"council: no plan names council {council!r}")
        rows = get_store().feed_changes(council=council, limit=FEED_ENTRIES)
        title = f"Updates to the plans of council {council}" if council else "Updates to plans"
        return _feed(rows, title, url_for("public.home", _external=True))
