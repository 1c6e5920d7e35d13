"""Before a Local Place Plan is submitted: the plans its community body must have regard to
(SSI 2021/353 reg. 2) and the councillors and community councils it must send the proposed
plan to (reg. 4), for a Local Place Plan's area or any area asked about as the planscape
finder asks (?layer=&codes=, ?postcode=, ?lon=&lat=, ?geometry=, or a posted drawing or
boundary file). Each as a printable page, JSON and CSV."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import lazy_gettext as _l

from app import sentences
from app.api import sliver_tolerance
from app.costly import answer_planscape
from app.errors import for_reader
from app.finder import LINK_CHARS, request_query
from app.store import get_engine, get_store
from capmap.core import parse
from capmap.core.errors import InputError
from capmap.present.dashboards import csv_text
from capmap.services import lpp_notify, lpp_regard
from capmap.services.planscape import Query
from capmap.services.search import compact_geojson

bp = Blueprint("lpp_prepare", __name__, url_prefix="/lpp")


def _adjoin_m() -> float:
    """?adjoin_m= (metres, 0 to lpp_notify.MAX_ADJOIN_M), else the site's LPP_ADJOIN_M."""
    raw = request.args.get("adjoin_m", "")
    value = parse.number(raw, "adjoin_m")
    if value is None:
        return float(current_app.config["LPP_ADJOIN_M"])
    if not 0 <= value <= lpp_notify.MAX_ADJOIN_M:
        raise InputError(for_reader(_l("adjoin_m %(given)s; expected a number of metres from 0 to "
                                       "%(most)s", given=repr(raw.strip()[:20]),
                                       most=f"{lpp_notify.MAX_ADJOIN_M:g}")))
    return value


def _area_args(query: Query) -> dict | None:
    """The GET arguments asking about this area again, or None (a large drawn or uploaded
    polygon does not fit a link)."""
    described = query.described
    if described.get("postcode"):
        return {"postcode": described["postcode"]}
    if query.kind == "codes":
        return {"layer": described["layer"], "codes": ",".join(described["codes"])}
    if query.kind == "point":
        return {"lon": described["lon"], "lat": described["lat"]}
    text = compact_geojson(query.geometry)
    return {"geometry": text} if len(text) <= LINK_CHARS else None


def _regard(query: Query) -> dict:
    engine, store = get_engine(), get_store()
    return lpp_regard.regard_of(answer_planscape(engine, store, query, sliver_tolerance()), query)


def _notify(query: Query) -> dict:
    return lpp_notify.notification_list(get_engine(), get_store(), query, _adjoin_m(),
                                        sliver_tolerance())


def _plan(plan_id: int) -> Query:
    return lpp_regard.plan_query(get_engine(), plan_id)


def _asked() -> Query:
    return request_query(get_engine(), get_store())


def _csv(rows: list[dict], columns: list[str], name: str) -> Response:
    return Response(csv_text(rows, columns), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _links(endpoint: str, query: Query) -> dict:
    """The JSON and CSV of the same answer, and the other list of the same area."""
    if query.kind == "plan":
        plan_id = query.described["plan_id"]
        return {fmt: url_for(f"lpp_prepare.plan_{endpoint}{suffix}", plan_id=plan_id)
                for fmt, suffix in (("json", "_json"), ("csv", "_csv"), ("page", ""))}
    args = _area_args(query)
    if args is None:
        return {}
    if "adjoin_m" in request.args and endpoint == "notify":
        args["adjoin_m"] = request.args["adjoin_m"]
    return {fmt: url_for(f"lpp_prepare.area_{endpoint}{suffix}", **args)
            for fmt, suffix in (("json", "_json"), ("csv", "_csv"), ("page", ""))}


def _title(query: Query) -> str:
    """The area asked about, in words."""
    asked = {"kind": query.kind, **query.described}
    if query.kind == "plan":
        return f"{asked['title']} ({asked['ref']})"
    state = get_engine().layer(asked["layer"]) if "layer" in asked else None
    return sentences.area(asked, lambda code: str(state.names[state.row_of[code]])
                          if code in state.row_of else code)


def _regard_page(query: Query):
    report = _regard(query)
    return render_template("lpp_regard.html", r=report, query=query, title=_title(query),
                           edge_rule=sentences.sliver_rule(sliver_tolerance().described()),
                           links=_links("regard", query), other=_links("notify", query))


def _notify_page(query: Query):
    answer = _notify(query)
    return render_template("lpp_notify.html", n=answer, query=query, title=_title(query),
                           links=_links("notify", query), other=_links("regard", query))


@dataclass(frozen=True)
class _List:
    """One of the two lists, as its page, JSON and CSV (named after it, and the plan if one)."""

    answer: Callable[[Query], dict]
    page: Callable[[Query], str]
    rows: Callable[[dict], list[dict]]
    columns: list[str]
    csv_name: str


_REGARD = _List(_regard, _regard_page, lpp_regard.csv_rows, lpp_regard.CSV_COLUMNS,
                "plans_to_have_regard_to")
_NOTIFY = _List(_notify, _notify_page, lambda answer: answer["recipients"],
                lpp_notify.RECIPIENT_COLUMNS, "notification_list")


def _answer(kind: _List, fmt: str, plan_id: int | None = None):
    """`kind` for the plan `plan_id`, or for the area asked about, as "page", "json" or "csv"."""
    query = _asked() if plan_id is None else _plan(plan_id)
    if fmt == "page":
        return kind.page(query)
    answer = kind.answer(query)
    if fmt == "json":
        return jsonify(answer)
    name = kind.csv_name if plan_id is None else f"{kind.csv_name}_{plan_id}"
    return _csv(kind.rows(answer), kind.columns, name)


@bp.get("/plans/<int:plan_id>/regard")
def plan_regard(plan_id: int):
    """The plans a draft Local Place Plan must have regard to, as a printable page."""
    return _answer(_REGARD, "page", plan_id)


@bp.get("/plans/<int:plan_id>/regard.json")
def plan_regard_json(plan_id: int):
    """The plans a draft Local Place Plan must have regard to, as JSON."""
    return _answer(_REGARD, "json", plan_id)


@bp.get("/plans/<int:plan_id>/regard.csv")
def plan_regard_csv(plan_id: int):
    """The plans a draft Local Place Plan must have regard to, one row per plan."""
    return _answer(_REGARD, "csv", plan_id)


@bp.route("/regard", methods=["GET", "POST"])
def area_regard():
    """The plans to have regard to for any area asked about, as a printable page."""
    return _answer(_REGARD, "page")


@bp.get("/regard.json")
def area_regard_json():
    """The plans to have regard to for any area asked about, as JSON."""
    return _answer(_REGARD, "json")


@bp.get("/regard.csv")
def area_regard_csv():
    """The plans to have regard to for any area asked about, one row per plan."""
    return _answer(_REGARD, "csv")


@bp.get("/plans/<int:plan_id>/notify")
def plan_notify(plan_id: int):
    """Who must be sent a proposed Local Place Plan, as a printable page."""
    return _answer(_NOTIFY, "page", plan_id)


@bp.get("/plans/<int:plan_id>/notify.json")
def plan_notify_json(plan_id: int):
    """Who must be sent a proposed Local Place Plan, as JSON."""
    return _answer(_NOTIFY, "json", plan_id)


@bp.get("/plans/<int:plan_id>/notify.csv")
def plan_notify_csv(plan_id: int):
    """Who must be sent a proposed Local Place Plan, one row per recipient."""
    return _answer(_NOTIFY, "csv", plan_id)


@bp.route("/notify", methods=["GET", "POST"])
def area_notify():
    """Who must be sent a proposed Local Place Plan for any area asked about, as a page."""
    return _answer(_NOTIFY, "page")


@bp.get("/notify.json")
def area_notify_json():
    """Who must be sent a proposed Local Place Plan for any area asked about, as JSON."""
    return _answer(_NOTIFY, "json")


@bp.get("/notify.csv")
def area_notify_csv():
    """Who must be sent a proposed Local Place Plan for any area, one row per recipient."""
    return _answer(_NOTIFY, "csv")
