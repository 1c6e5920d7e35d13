"""Officers' dashboards: engagement coverage, plan coverage and action progress, with CSVs."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app import dashboard_words, maps
from app.api import parse_filters, scope_arg
from app.auth import role_required, view_roles
from app.errors import for_reader
from app.http_cache import cacheable_response
from app.store import get_engine, get_policy, get_store
from capmap.core.errors import InputError, NotFound
from capmap.core.policy import PlanGapRules
from capmap.core.serialise import json_text, plain, point_features
from capmap.present.dashboards import (
    STATUS_COLOURS,
    csv_text,
    engagement_view,
    plans_tables,
    plans_view,
    response_options,
    scope_options,
)
from capmap.services.access import layer_councils
from capmap.services.coverage import engagement_coverage
from capmap.services.progress import action_table, located_actions, not_smart_rows
from capmap.services.scope import ScopeRequest

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")
PLAN_GAP_TABLES = ("areas", "deprived_without_locality_plan", "deprived_with_lapsed_locality_plan",
                   "without_any_plan", "past_review", "no_review_date")
# Who may open the dashboards (what they see exact is capmap.core.policy's exact-data roles).
STAFF = ("officer", "planner", "admin")
ENGAGEMENT_TABLES = ("areas", "gaps", "equity", "outreach")


def _layer() -> str:
    layer = request.args.get("layer", "").strip()
    if layer:
        return layer
    hoods = get_engine().neighbourhoods()
    if hoods is None:
        raise InputError(for_reader(_l("no neighbourhood layer is loaded; import one first")))
    return hoods.layer.id


def _engagement_settings(layer_id: str, scope: ScopeRequest) -> dict:
    """Exact figures for staff, unless their account is limited to councils the figures reach
    beyond (a council scope reaches that council only, else the layer's councils): then the
    public figures."""
    policy = get_policy()
    if scope.area and scope.area[0] == "council":
        reach = frozenset({scope.area[1]})
    else:
        try:
            reach = layer_councils(get_engine(), layer_id)
        except NotFound:
            reach = None  # engagement_coverage says which layers there are
    return {"exact": policy.sees_exact(view_roles(reach)), **policy.suppression()}


def _not_offered(table: str, offered) -> str:
    return for_reader(_l("table %(given)s is not offered; expected one of %(known)s",
                         given=repr(table), known=", ".join(offered)))


@bp.get("/engagement")
@role_required(*STAFF)
def engagement():
    """Where have we not heard from people? Rates per 1,000 by area, gaps and equity."""
    engine = get_engine()
    layers = [s.layer for s in engine.layers().values()]
    layer_id, scope = _layer(), scope_arg()
    view = engagement_view(get_store(), engine, layer_id, parse_filters(), scope=scope,
                           words=dashboard_words.equity_words(),
                           **_engagement_settings(layer_id, scope))
    described = view["report"]["scope"]
    spec = maps.choropleth(engine, view["map"], gettext("Responses per 1,000 residents"),
                           fit_values=described["kind"] != "layer")
    scope_words = {"statement": dashboard_words.scope_statement(described, view["scope_parts"]),
                   "rule": dashboard_words.scope_rule(described["rule"])}
    return render_template("dashboard_engagement.html", view=view, map=spec, layers=layers,
                           options=response_options(get_store(), engine),
                           councils=scope_options(engine), args=request.args,
                           scope_words=scope_words, threshold=get_policy().threshold)


@bp.get("/engagement.json")
@role_required(*STAFF)
def engagement_json():
    """The engagement dashboard's figures as JSON (exact for staff), with the scope they are over."""
    layer_id, scope = _layer(), scope_arg()
    return jsonify(engagement_coverage(get_store(), get_engine(), layer_id, parse_filters(),
                                       scope=scope, **_engagement_settings(layer_id, scope)))


@bp.get("/engagement.csv")
@role_required(*STAFF)
def engagement_csv():
    """One table of the engagement dashboard as CSV (?table=areas|gaps|equity|outreach)."""
    table = request.args.get("table", "areas")
    if table not in ENGAGEMENT_TABLES:
        raise InputError(_not_offered(table, ENGAGEMENT_TABLES))
    layer_id, scope = _layer(), scope_arg()
    report = engagement_coverage(get_store(), get_engine(), layer_id, parse_filters(),
                                 scope=scope, **_engagement_settings(layer_id, scope))
    rows = report[table]
    return _csv(csv_text(rows), f"engagement-{table}.csv")


def _rules() -> PlanGapRules:
    return get_policy().rules


@bp.get("/plans")
@role_required(*STAFF)
def plans():
    """Plan coverage by type, the gaps, plans past review, and action progress."""
    engine = get_engine()
    view = plans_view(get_store(), engine, _rules(), date.today())
    spec = maps.plan_cover(engine, view["map"], url_for("dashboard.plan_actions"), STATUS_COLOURS)
    return render_template("dashboard_plans.html", view=view, map=spec)


@bp.get("/plans/actions.geojson")
@role_required(*STAFF)
def plan_actions():
    """Every located action as GeoJSON points (title, status, overdue), for the plans map."""
    actions = get_store().actions()
    table = action_table(actions, get_engine().plans().plans, date.today())
    body = json_text(point_features(located_actions(actions, table),
                                    ["id", "title", "status", "overdue"]))
    return cacheable_response(body, "application/geo+json", immutable=False, max_age=60)


@bp.get("/plans.json")
@role_required(*STAFF)
def plans_json():
    """The plans dashboard's figures as JSON: coverage with the gap lists and rules, progress,
    per-plan counts with the actions missing a SMART element, and the overdue actions."""
    view = plans_tables(get_store(), get_engine(), _rules(), date.today())
    view.pop("actions")
    view["overdue"] = [{k: plain(v) for k, v in row.items()} for row in view["overdue"]]
    return jsonify(view)


@bp.get("/plans.csv")
@role_required(*STAFF)
def plans_csv():
    """Plan coverage per neighbourhood (?table=areas), the gaps, or action progress as CSV."""
    table = request.args.get("table", "areas")
    view = plans_tables(get_store(), get_engine(), _rules(), date.today())
    coverage = view["coverage"]
    tables = {name: coverage[name] for name in PLAN_GAP_TABLES}
    tables.update({"per_plan": view["per_plan"], "not_smart": not_smart_rows(view["per_plan"]),
                   "overdue": view["overdue"]})
    if table not in tables:
        raise InputError(_not_offered(table, tables))
    rows = tables[table]
    # A plan's actions missing a SMART element have their own table, not_smart.
    columns = [c for c in rows[0] if c != "not_smart_actions"] if table == "per_plan" and rows \
        else None
    return _csv(csv_text(rows, columns), f"plans-{table}.csv")


def _csv(text: str, filename: str) -> Response:
    # Column headers stay the library's English codes in every language: the files are read by
    # GIS and spreadsheet tools, and scripts name the columns.
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
