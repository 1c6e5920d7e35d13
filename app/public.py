"""Public pages."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from app import maps
from app.store import get_engine, get_store

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    """The map of the area: boundary layers and plans, with the same lists below it."""
    store = get_store()
    store.check()  # an old or missing schema gets its own error page, naming the command to run
    engine = get_engine()
    plans = engine.plans().plans
    return render_template("home.html", map=maps.overview(engine), layers=store.layers(),
                           plans=plans.drop(columns=plans.geometry.name).to_dict("records"))


@bp.get("/health/live")
def live():
    """Liveness: the process answers. Touches no database, so a database outage does not get
    every worker restarted; /health is the readiness check."""
    return jsonify({"status": "ok"})


@bp.get("/health")
def health():
    """Liveness and database check for load balancers."""
    store = get_store()
    return jsonify({"status": "ok", "data_version": store.data_version()})
