"""The Local Place Plan register on the web: the councils, each council's register with its map
(geometry from the plans' tiles), JSON, CSV, GeoJSON and GeoPackage, and the form that moves an
entry on. The public sees registered and removed entries; officers, planners and admins of the
council see every stage and change it (an account limited to other councils gets a 403)."""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app import i18n, maps, words
from app.auth import current_councils, current_roles, role_required
from app.errors import for_reader
from app.exports import SpooledExport
from app.store import get_engine, get_store
from capmap.core.errors import CapmapError
from capmap.io.writers import FORMATS, Part, write_export
from capmap.present.dashboards import csv_text
from capmap.services import lpp_register as rules
from capmap.services import lpp_views
from capmap.services.access import EDIT_ROLES, may_edit
from capmap.services.exports import DEFAULT_LICENCE

bp = Blueprint("lpp", __name__, url_prefix="/lpp")
HISTORY_ROWS = 200


def _staff_of(council_code: str | None) -> bool:
    """Whether the person asking sees every stage of this council's register and changes it."""
    return may_edit(current_roles(), current_councils(), council_code)


def _register(council_code: str) -> dict:
    return lpp_views.council_register(get_engine(), get_store(), council_code,
                                      _staff_of(council_code))


@bp.get("/register")
def index():
    """Every council with its Local Place Plans on the register."""
    rows = lpp_views.register_index(get_engine(), get_store(), _staff_of)
    return render_template("lpp_register_index.html", councils=rows, labels=words.LPP_STATUSES)


@bp.get("/register.json")
def index_json():
    """The councils and their counts per status shown, as JSON."""
    rows = lpp_views.register_index(get_engine(), get_store(), _staff_of)
    return jsonify({"councils": rows, "public_statuses": list(rules.PUBLIC_STATUSES)})


@bp.get("/register/<council_code>")
def council(council_code: str):
    """One council's register: a map of the land the plans relate to, and the table."""
    register = _register(council_code)
    return render_template("lpp_register.html", r=register, labels=words.LPP_STATUSES,
                           map=maps.lpp_register(get_engine(), register))


@bp.get("/register/<council_code>.json")
def council_json(council_code: str):
    """One council's register as JSON."""
    return jsonify(_register(council_code))


@bp.get("/register/<council_code>.csv")
def council_csv(council_code: str):
    """One council's register as CSV (cells guarded against spreadsheet formulas)."""
    rows, columns = lpp_views.csv_rows(_register(council_code))
    return Response(csv_text(rows, columns), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="lpp_register_{council_code}.csv"'})


def _gis_file(council_code: str, fmt: str):
    register = _register(council_code)  # 404 for an unknown council before any file is made
    frame = lpp_views.register_frame(get_store(), council_code, register["all_stages"])
    about = {"title": f"Local Place Plan register of {register['council_name']}",
             "statuses": ", ".join(register["statuses_shown"]), "licence": DEFAULT_LICENCE,
             "exported": datetime.now(UTC).isoformat(timespec="seconds")}
    folder = Path(tempfile.mkdtemp(prefix="capmap-lpp-",
                                   dir=current_app.config.get("EXPORT_TMP_DIR")))
    try:
        path = folder / f"lpp_register{FORMATS[fmt].suffix}"
        write_export([Part("lpp_register", frame, "Polygon")], path, fmt, "EPSG:4326", about)
        answer = send_file(SpooledExport(path, folder), mimetype=FORMATS[fmt].media_type,
                           as_attachment=True, max_age=0,
                           download_name=f"lpp_register_{council_code}{FORMATS[fmt].suffix}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    answer.headers["Cache-Control"] = "private, no-store"
    return answer


@bp.get("/register/<council_code>.geojson")
def council_geojson(council_code: str):
    """One council's register with the land each plan relates to, as GeoJSON (EPSG:4326)."""
    return _gis_file(council_code, "geojson")


@bp.get("/register/<council_code>.gpkg")
def council_gpkg(council_code: str):
    """One council's register with the land each plan relates to, as a GeoPackage."""
    return _gis_file(council_code, "gpkg")


@bp.route("/plans/<int:plan_id>/register", methods=["GET", "POST"])
@role_required(*EDIT_ROLES)
def step(plan_id: int):
    """Move a Local Place Plan's register entry on (or start one): the step, its date and the
    reason where one is needed. Each change is kept in the plan's history."""
    store = get_store()
    plan = store.record("plan", plan_id)
    if not _staff_of(plan["council_code"]):
        abort(403, for_reader(_l(
            "your account may not change the register of council %(council)s; it is limited "
            "to %(councils)s", council=plan["council_code"] or _l("(none recorded)"),
            councils=", ".join(sorted(current_councils())))))
    error, details, status, typed = "", [], 200, {}
    if request.method == "POST":
        try:
            step = rules.read_step(request.form, date.today())
            rules.take_step(store, plan_id, step, current_user.user.username)
        except CapmapError as exc:
            error, details, status = exc.message, exc.details, exc.status
            typed = request.form.to_dict()  # shown again, to be put right
        else:
            flash(gettext("%(ref)s: %(status)s on %(day)s.", ref=plan["ref"],
                          status=words.word(step.to, words.LPP_STATUSES).lower(), day=i18n.day(step.on)))
            return redirect(url_for("lpp.council", council_code=plan["council_code"]), 303)
    entry = store.lpp_entry(plan_id)
    history = store.changes(plan_id=plan_id, limit=HISTORY_ROWS, only_register=True)
    return render_template("lpp_register_step.html", plan=plan, entry=entry, typed=typed,
                           allowed=rules.allowed_from(entry["status"] if entry else None),
                           needs_reason=rules.NEEDS_REASON, labels=words.LPP_STATUSES, error=error,
                           details=details, history=history,
                           today=date.today().isoformat()), status
