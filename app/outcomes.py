"""Outcomes by plan area as JSON and CSV: a plan's profile, a queried area's, and every plan's
(capmap.services.outcomes). The plan page and the finder result show the same profiles in HTML."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from app.api import query_from_args, sliver_tolerance
from app.store import get_engine, get_policy, get_store
from capmap.present.dashboards import csv_text
from capmap.services.outcomes import all_plan_outcomes, plan_outcomes, query_outcomes
from capmap.services.planscape import planscape

bp = Blueprint("outcomes", __name__)


@bp.get("/plans/<int:plan_id>/outcomes.json")
def plan_outcomes_json(plan_id: int):
    """A plan's outcomes profile against its council and Scotland."""
    return jsonify(plan_outcomes(get_engine(), get_store(), plan_id))


@bp.get("/api/outcomes")
def api_outcomes():
    """The outcomes profile of ?layer=&codes=A,B or of the neighbourhood at ?lon=&lat=, each
    neighbourhood weighted by its population times the share of it inside the area."""
    engine = get_engine()
    query = query_from_args(engine)
    answer = planscape(engine, get_store(), query, sliver_tolerance(), get_policy().public_statuses)
    return jsonify({"query": answer["query"],
                    "outcomes": query_outcomes(engine, get_store(), answer)})


@bp.get("/export/outcomes.csv")
def outcomes_csv():
    """Every plan's outcomes profile beside its council's and Scotland's, one row a plan."""
    rows, columns = all_plan_outcomes(get_engine(), get_store())
    return Response(csv_text(rows, columns), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="outcomes.csv"'})
