"""The planscape finder: "which plans cover our area?" for community groups, its result pages with
downloads, and a public page per plan.

A group finds its area by clicking the map, searching (postcode, name, code), ticking
neighbourhoods in a list, drawing a polygon, or uploading a boundary file; every way that needs the
map has one that does not. Every result is a GET URL where it can be (a drawn or uploaded polygon
travels as compact GeoJSON in ?geometry= when small enough; the tick list posts its codes, a
council's being too many for a URL, and a short list is sent on to its GET URL), so it can be
shared and reproduced.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from werkzeug.utils import secure_filename

from app import maps, sentences
from app.api import number_arg, sliver_tolerance
from app.costly import answer_overlaps, answer_planscape
from app.editing import sees_register_history
from app.errors import for_reader
from app.http_cache import cacheable_response
from app.imports import reader_limits
from app.store import get_engine, get_policy, get_store
from capmap.core import parse
from capmap.core.crs import STORAGE_CRS
from capmap.core.errors import InputError
from capmap.core.models import ACTION_STATUSES
from capmap.core.serialise import json_text, point_features
from capmap.io import isolated
from capmap.io.writers import FORMATS as FILE_FORMATS
from capmap.io.writers import Part, write_export
from capmap.present.dashboards import STATUS_COLOURS, csv_text
from capmap.present.maps.style import PLAN_LABELS
from capmap.services.engine import Engine
from capmap.services.outcomes import plan_outcomes, query_outcomes
from capmap.services.planscape import Query, codes_query, point_query
from capmap.services.progress import flag_overdue
from capmap.services.search import (
    KIND_ORDER,
    QUERY_MAX_VERTICES,
    choice_groups,
    compact_geojson,
    drawn_query,
    neighbourhood_choices,
    plan_page,
    postcode_query,
    search_places,
    upload_query,
)
from capmap.services.uploads import web_limits

bp = Blueprint("finder", __name__)
OUTPUTS = ("html", "csv", "geojson", "gpkg")
QUERY_ARGS = ("lon", "lat", "layer", "codes", "postcode", "geometry")
UPLOAD_EXTENSIONS = (".geojson", ".json", ".gpkg", ".zip", ".kml")
LINK_CHARS = 6000     # a polygon longer than this as GeoJSON is not put in a link
FORM_CHARS = 400_000  # ... nor in a download form (Flask reads at most 500 kB of form fields)
CSV_COLUMNS = ["ref", "title", "type", "owner", "council_code", "period_start", "period_end",
               "review_due", "status", "share_of_query", "share_of_plan", "population_share",
               "overlap_km2", "overlap_width_m", "edge_only", "link", "page"]


@bp.get("/planscape")
def finder():
    """The finder: search, the map to click or draw on, upload, and the lists of areas."""
    engine = get_engine()
    return render_template("finder.html", map=maps.finder(engine), groups=choice_groups(engine),
                           extensions=UPLOAD_EXTENSIONS,
                           max_mb=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024))


@bp.get("/planscape/search")
def search():
    """Places matching ?q=; straight to the result for an exact postcode or code, or one match."""
    text = request.args.get("q", "")
    matches = search_places(get_engine(), get_store(), text)
    if matches and (matches[0]["exact"] or len(matches) == 1):
        return redirect(_match_url(matches[0]))
    message = None
    if not matches:
        postcode = parse.postcode(text) or (parse.partial_postcode(text) or (None, None))[1]
        message = (gettext("Postcode %(postcode)s is not in our postcode list.", postcode=postcode)
                   if postcode else
                   gettext("No postcode, place or area matches “%(text)s”.", text=text.strip()[:100]))
    for match in matches:
        match["url"] = _match_url(match)
    return render_template("finder_search.html", q=text, matches=matches,
                           message=message), 200 if matches else 404


def _match_url(match: dict) -> str:
    if match["kind"] in ("postcode", "postcode_area"):
        return url_for("finder.result", postcode=match["code"])
    return url_for("finder.result", layer=match["layer"], codes=match["code"])


@bp.get("/planscape/choose")
def choose():
    """The neighbourhoods in one area (?layer=&code=, a ward), to tick and ask about together."""
    layer, code = request.args.get("layer", "").strip(), request.args.get("code", "").strip()
    if not layer or not code:
        return redirect(url_for("finder.finder", _anchor="choose"))
    return render_template("finder_choose.html",
                           choices=neighbourhood_choices(get_engine(), layer, code))


@bp.route("/planscape/result", methods=["GET", "POST"])
def result():
    """The plans covering the area asked for, as a page or (?format=) csv, geojson or gpkg."""
    output = (request.values.get("format") or "html").strip().lower()
    if output not in OUTPUTS:
        raise InputError(for_reader(_l("format %(given)s is not offered; expected one of %(known)s",
                                       given=repr(output[:20]), known=", ".join(OUTPUTS))))
    engine, store = get_engine(), get_store()
    query = request_query(engine, store)
    link = _short_link(query)
    if link:  # a short tick list: answered at its GET link, which can be shared
        return redirect(link, 303)
    if output in ("geojson", "gpkg"):
        return _overlaps_file(engine, query, output)
    answer = answer_planscape(engine, store, query, sliver_tolerance())
    if output == "csv":
        return Response(csv_text(_csv_rows(answer), CSV_COLUMNS), mimetype="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="planscape.csv"'})
    return render_template("finder_result.html", **_result_view(engine, query, answer))


def _short_link(query: Query) -> str | None:
    """For a posted tick list whose page (no ?format=) fits a link, that GET link; else None."""
    if request.method != "POST" or query.kind != "codes" or request.form.get("format"):
        return None
    params = {"layer": query.described["layer"], "codes": ",".join(query.described["codes"])}
    url = url_for("finder.result", **params)
    return url if len(url) <= LINK_CHARS else None


def request_query(engine: Engine, store) -> Query:
    """The query the request asks: an upload or drawn polygon (POST); else ?geometry=,
    ?postcode=, ?layer=&codes= (repeated or comma-separated) or ?lon=&lat=."""
    max_km2 = current_app.config["PLANSCAPE_MAX_KM2"]
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is not None and upload.filename:
            return _uploaded(upload, max_km2)
        if "codes" in request.form or "layer" in request.form:  # the tick list, or its downloads
            return _codes(engine, request.form, max_km2)
        text = request.form.get("geometry", "").strip()
        if not text:
            raise InputError(for_reader(_l("no area given: draw a polygon on the map, paste a "
                                           "GeoJSON polygon, or choose a boundary file to upload")))
        return drawn_query(text, max_km2=max_km2)
    args = request.args
    if args.get("geometry", "").strip():
        return drawn_query(args["geometry"], max_km2=max_km2, source="link")
    if args.get("postcode", "").strip():
        return postcode_query(engine, store, args["postcode"], max_km2=max_km2)
    if "codes" in args or "layer" in args:
        return _codes(engine, args, max_km2)
    if "lon" in args or "lat" in args:
        return point_query(engine, number_arg("lon"), number_arg("lat"), get_policy().region)
    raise InputError(for_reader(_l("say which area: search for it, click the map, or give "
                                   "?postcode=, ?layer=&codes=, ?lon=&lat= or ?geometry=")))


def _codes(engine: Engine, fields, max_km2: float) -> Query:
    """A codes query from ?layer=&codes= or the same posted fields (codes repeated or
    comma-separated); without a layer, codes are neighbourhood codes."""
    codes = parse.codes(fields.getlist("codes"))
    hoods = engine.neighbourhoods()
    layer = fields.get("layer", "").strip() or (hoods.layer.id if hoods else "")
    return codes_query(engine, layer, codes, max_km2=max_km2)


def _uploaded(upload, max_km2: float) -> Query:
    """Save the upload in a private temporary folder, read it as a query in a child process held
    to the upload limits, remove the folder."""
    name = secure_filename(upload.filename or "")
    if not name.lower().endswith(UPLOAD_EXTENSIONS):
        raise InputError(for_reader(_l(
            "choose a boundary file ending in %(endings)s (a shapefile as a .zip of its .shp, "
            ".shx, .dbf and .prj)", endings=", ".join(UPLOAD_EXTENSIONS))))
    folder = Path(tempfile.mkdtemp(prefix="capmap-finder-"))
    try:
        path = folder / name
        upload.save(path)
        limits = web_limits(current_app.config["MAX_CONTENT_LENGTH"])
        call = partial(upload_query, path, name, limits=limits, max_km2=max_km2)
        return isolated.run(call, name=name, folder=folder, limits=reader_limits()).value
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _overlaps_file(engine: Engine, query: Query, output: str) -> Response:
    """The overlaps written to a temporary file, read back, the file removed, then sent."""
    spec = FILE_FORMATS[output]
    about = {"title": "Plans overlapping an area (capmap planscape)", "crs": STORAGE_CRS,
             "created": datetime.now(UTC).isoformat(timespec="seconds"),
             "query": dict(query.described),
             "notes": ["One feature per plan: the part of the plan's area inside the area asked "
                       "about. Shares are measured in EPSG:27700.",
                       f"edge_only marks plans that only touch the area's edge: "
                       f"{sliver_tolerance().sentence()}."]}
    folder = Path(tempfile.mkdtemp(prefix="capmap-finder-"))
    try:
        path = folder / f"planscape-overlaps{spec.suffix}"
        frame = answer_overlaps(engine, query, sliver_tolerance())
        write_export([Part("overlaps", frame, "Polygon")], path,
                     output, STORAGE_CRS, about)
        body = path.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Response(body, mimetype=spec.media_type, headers={
        "Content-Disposition": f'attachment; filename="planscape-overlaps{spec.suffix}"'})


def _csv_rows(answer: dict) -> list[dict]:
    """The covering plans, then those only touching the edge (marked by `edge_only`)."""
    rows = []
    for plan in [*answer["plans"], *answer["edge_plans"]]:
        row = {k: plan.get(k) for k in CSV_COLUMNS}
        for k in ("share_of_query", "share_of_plan", "population_share", "overlap_km2"):
            row[k] = None if row[k] is None else round(float(row[k]), 4)
        row["page"] = url_for("finder.plan", plan_id=plan["id"], _external=True)
        rows.append(row)
    return rows


def _links(query: Query) -> dict:
    """How the result can be asked again: a GET `url` with `downloads` URLs per format, else
    `form` (the fields, for POST download forms), else neither (too large to carry); `kind`
    says what was too long for a link (a polygon or a list of codes)."""
    if request.method == "GET":
        params = {k: request.args.getlist(k) for k in QUERY_ARGS if k in request.args}
    elif query.kind == "codes":  # the tick list: a link while it fits, else download forms
        params = {"layer": query.described["layer"], "codes": ",".join(query.described["codes"])}
        if len(url_for("finder.result", _external=True, **params)) > LINK_CHARS:
            return {"url": None, "downloads": None, "form": list(params.items()), "kind": "codes"}
    else:
        text = compact_geojson(query.geometry)
        if len(text) > LINK_CHARS:
            return {"url": None, "downloads": None, "kind": "polygon",
                    "form": [("geometry", text)] if len(text) <= FORM_CHARS else None}
        params = {"geometry": text}
    return {"url": url_for("finder.result", _external=True, **params), "form": None,
            "downloads": {f: url_for("finder.result", format=f, **params) for f in OUTPUTS[1:]},
            "lpp": {"regard": url_for("lpp_prepare.area_regard", **params),
                    "notify": url_for("lpp_prepare.area_notify", **params)}}


def _result_view(engine: Engine, query: Query, answer: dict) -> dict:
    flag_overdue(engine.plans().plans, answer, date.today())
    layers = engine.layers()
    touched = [{"layer": layers[k].layer, "areas": v} for k, v in answer["areas"].items() if v]
    touched.sort(key=lambda t: (_kind_rank(t["layer"].kind), t["layer"].id))
    return {"result": answer, "map": maps.result(engine, query, [p["id"] for p in answer["plans"]]),
            "areas": touched, "links": _links(query),
            "max_vertices": QUERY_MAX_VERTICES,
            "title": _describe(engine, answer), "themes": _by_theme(answer["actions"]),
            "statuses": ACTION_STATUSES, "labels": PLAN_LABELS,
            "edge_rule": sentences.sliver_rule(sliver_tolerance().described()),
            "outcomes": query_outcomes(engine, get_store(), answer),
            "outcomes_json": _outcomes_link(query)}


def _outcomes_link(query: Query) -> str | None:
    """/api/outcomes for the same area, when it is a point or a list of codes short enough for
    a link (a polygon's profile comes in the planscape JSON of a POST to /api/planscape)."""
    asked = query.described
    if query.kind == "point":
        return url_for("outcomes.api_outcomes", lon=asked["lon"], lat=asked["lat"])
    if query.kind == "codes":
        url = url_for("outcomes.api_outcomes", layer=asked["layer"], codes=",".join(asked["codes"]))
        return url if len(url) <= LINK_CHARS else None
    return None


def _kind_rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def _by_theme(actions: list[dict]) -> list[tuple[str, list[dict]]]:
    """Actions per theme (alphabetical), each theme's in the order of ACTION_STATUSES."""
    order = {s: i for i, s in enumerate(ACTION_STATUSES)}
    themes: dict[str, list[dict]] = {}
    for action in actions:
        themes.setdefault(action["theme"] or "other", []).append(action)
    return [(theme, sorted(items, key=lambda a: (order.get(a["status"], 99), a["title"])))
            for theme, items in sorted(themes.items())]


def _describe(engine: Engine, answer: dict) -> str:
    """The area asked about, in words."""
    asked = answer["query"]
    names = {a["code"]: a["name"] for a in answer["areas"].get(asked.get("layer"), [])}
    return sentences.area(asked, lambda code: names.get(code, code))


HISTORY_SHOWN = 50  # the rest in /plans/<id>/history.json


@bp.get("/plans/<int:plan_id>")
def plan(plan_id: int):
    """A plan's public page: its area, details, and its actions by status with progress."""
    engine = get_engine()
    page = plan_page(engine, get_store(), plan_id, date.today())
    spec = maps.plan(engine, plan_id, page["geometry"].total_bounds, STATUS_COLOURS)
    history = get_store().changes(plan_id=plan_id, limit=HISTORY_SHOWN,
                                  register=sees_register_history(page["plan"]["council_code"]))
    return render_template("plan.html", page=page, plan=page["plan"], map=spec, labels=PLAN_LABELS,
                           history=history, outcomes=_plan_outcomes(engine, plan_id))


def _plan_outcomes(engine: Engine, plan_id: int) -> dict | None:
    """The plan's outcomes profile; None when no neighbourhood layer gives residents."""
    if engine.neighbourhoods() is None:
        return None
    return plan_outcomes(engine, get_store(), plan_id)


@bp.get("/plans/<int:plan_id>/actions.geojson")
def plan_actions(plan_id: int):
    """A plan's located actions as GeoJSON points (title, status, overdue), for its map."""
    page = plan_page(get_engine(), get_store(), plan_id, date.today())
    body = json_text(point_features(page["located"], ["id", "title", "status", "overdue"]))
    return cacheable_response(body, "application/geo+json", immutable=False, max_age=60)
