"""Residents' pins: the public pin map and form (`bp`), and the moderation queue (`moderation`).

Abuse guards on the one public write (POST /pins): a per-IP rate limit (Flask-Limiter; counters
in RATELIMIT_STORAGE_URI, which must be shared, e.g. redis://, when several workers run), the
global MAX_CONTENT_LENGTH, CSRF, and a honeypot field. Behind a reverse proxy, wrap the app in
werkzeug's ProxyFix so the limit sees the client's address, not the proxy's.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import current_user

from app import follow, i18n, maps, words
from app.auth import role_required
from app.errors import wants_json
from app.store import get_engine, get_policy, get_store
from capmap.core import parse
from capmap.core.errors import CapmapError, ValidationError
from capmap.core.models import PIN_STATUSES
from capmap.core.policy import PinRules
from capmap.services import follow as F
from capmap.services import pins as P
from capmap.services.planscape import lookup

bp = Blueprint("pins", __name__)
moderation = Blueprint("moderation", __name__, url_prefix="/moderate")

# Settings of this blueprint and their defaults; instance config, CAPMAP_* variables and
# test_config override them (create_app has applied those before init_app runs).
HONEYPOT = "website"


def _rules() -> PinRules:
    return get_policy().pins


def _public_pins() -> P.PublicPins:
    return current_app.extensions["capmap_pin_cache"].get(get_store())


def _form_page(form: dict, errors: list[str], status: int = 200, place: str = ""):
    engine = get_engine()
    return render_template(
        "pins.html", form=form, errors=errors, place=place, categories=words.categories(),
        neighbourhoods=P.neighbourhood_choices(engine), map=maps.pins(engine),
        recent=P.recent_public_pins(_public_pins()), rules=_rules(),
        mail_on=follow.mail_on()), status


@bp.get("/pins")
def page():
    """The public pin map and the form; ?postcode= or ?area= places the pin without the map."""
    form = {k: request.args.get(k, "") for k in ("lon", "lat", "category")}
    try:
        if request.args.get("postcode", "").strip():
            lon, lat, postcode = P.postcode_place(get_store(), request.args["postcode"])
            form.update(lon=f"{lon:.6f}", lat=f"{lat:.6f}")
            return _form_page(form, [], place=gettext("postcode %(postcode)s", postcode=postcode))
        if request.args.get("area", "").strip():
            lon, lat, name = P.neighbourhood_place(get_engine(), request.args["area"].strip())
            form.update(lon=f"{lon:.6f}", lat=f"{lat:.6f}")
            return _form_page(form, [], place=name)
    except CapmapError as exc:
        return _form_page(form, [exc.message], exc.status)
    return _form_page(form, [])


@bp.post("/pins")
def submit():
    """Store a resident's pin as pending; 201 with what already covers the spot, 422 if refused."""
    form = {k: request.form.get(k, "") for k in ("lon", "lat", "category", "description",
                                                   "contact", "updates")}
    if request.form.get(HONEYPOT, "").strip():
        # Filled by a bot (people never see the field): look accepted, store nothing.
        return render_template("pins_thanks.html", found=None, categories=words.categories()), 201
    try:
        pin = P.read_pin_form(form, _rules())
        email = F.check_email(pin.contact) if form["updates"] and follow.mail_on() else None
        engine, store = get_engine(), get_store()
        with store.atomic():  # the pin and its follow link, or neither
            pin_id = P.submit_pin(store, engine, pin, _rules(), get_policy().region)
            token = F.new_follow(store, pin_id, email, i18n.language())
    except ValidationError as exc:
        return _form_page(form, exc.details or [exc.message], 422)
    found = P.already_planned(engine, store, pin.lon, pin.lat, pin.category)
    response = current_app.make_response((render_template(
        "pins_thanks.html", found=found, pin=pin, categories=words.categories(), rules=_rules(),
        follow_url=follow.link_for(token), emailed=bool(email)), 201))
    return follow.private(response)


@bp.get("/pins/data.json")
def data():
    """Shown pins in ?bbox=minlon,minlat,maxlon,maxlat at their public points; counts per grid
    cell when there are more than PIN_MAX_POINTS."""
    try:
        raw = request.args.get("bbox")
        bbox = parse.bbox(raw) if raw else get_policy().region.bounds  # blank: the whole region
    except CapmapError as exc:
        return jsonify(exc.to_dict()), exc.status
    payload = P.pins_payload(_public_pins(), bbox, int(current_app.config["PIN_MAX_POINTS"]))
    response = jsonify(payload)
    response.headers["Cache-Control"] = "public, max-age=30"
    return response


@bp.get("/pins/<int:pin_id>.json")
def pin_json(pin_id: int):
    """One shown pin at its public point (404 alike for pending, hidden and missing pins)."""
    try:
        return jsonify(P.public_pin(_public_pins(), pin_id))
    except CapmapError as exc:
        return jsonify(exc.to_dict()), exc.status


# -- moderation ------------------------------------------------------------------------------


def _queue(status: str, error: str = "", code: int = 200):
    if status not in PIN_STATUSES:
        abort(404)
    page_no = max(request.args.get("page", 1, type=int) or 1, 1)
    size = int(current_app.config["MODERATION_PAGE_SIZE"])
    store = get_store()
    pins = store.pins_with_status(status, limit=size + 1, offset=(page_no - 1) * size)
    return render_template(
        "moderate.html", pins=pins.head(size).to_dict("records"), more=len(pins) > size,
        page=page_no, status=status, counts=store.pin_status_counts(), error=error,
        categories=words.categories()), code


@moderation.get("")
@role_required("moderator")
def queue():
    """The moderation queue: pins of one status (?status=pending by default), oldest first."""
    return _queue(request.args.get("status", "pending"))


@moderation.get("/pins/<int:pin_id>")
@role_required("moderator")
def pin_page(pin_id: int, error: str = "", code: int = 200):
    """One pin with its exact point, contact details and every decision on it."""
    store = get_store()
    pin = store.pin(pin_id).iloc[0].to_dict()
    try:
        areas = lookup(get_engine(), pin["geom"].x, pin["geom"].y)["areas"]
    except CapmapError:
        areas = {}
    return render_template(
        "moderate_pin.html", pin=pin, areas=areas, history=store.pin_decisions(pin_id),
        mails=store.outbox(pin_id),
        categories=words.categories(), error=error), code


@moderation.post("/pins/<int:pin_id>")
@role_required("moderator")
def decide(pin_id: int):
    """Publish, hide (with a reason) or resolve a pin; the decision is kept with who and when."""
    decision = request.form.get("decision", "")
    back = request.form.get("back", "")
    try:
        F.decide_and_notify(get_store(), pin_id, decision, current_user.user.username,
                            request.form.get("reason", ""), request.form.get("public_note", ""),
                            follow.letter if follow.mail_on() else None)
    except ValidationError as exc:
        if back == "pin":
            return pin_page(pin_id, exc.message, 422)
        return _queue(request.form.get("status", "pending"),
                      gettext("Pin %(pin)s: %(error)s", pin=pin_id, error=exc.message), 422)
    flash(gettext("Pin %(pin)s: %(status)s.", pin=pin_id,
                  status=words.word(P.DECISIONS[decision], words.PIN_STATUSES)))
    if back == "pin":
        return redirect(url_for("moderation.pin_page", pin_id=pin_id), 303)
    return redirect(url_for("moderation.queue", status=request.form.get("status", "pending")), 303)


def _too_many(exc):
    if wants_json():
        return jsonify({"error": "Too Many Requests", "message": "too many reports from your "
                        "connection; please wait a little and try again"}), 429
    return render_template("pins_limited.html", limit=getattr(exc, "description", "")), 429


def init_app(app: Flask) -> None:
    """The rate limiter (one per app), the blueprints and the 429 page."""
    limiter = Limiter(get_remote_address, app=app, storage_uri=app.config["RATELIMIT_STORAGE_URI"])
    limiter.limit(lambda: current_app.config["PIN_RATE_LIMIT"], methods=["POST"])(bp)
    app.extensions["capmap_pin_limiter"] = limiter
    app.extensions["capmap_pin_cache"] = P.PublicPinCache(
        float(app.config["VERSION_CHECK_MS"]) / 1000, app.extensions["capmap_policy"].public_statuses)
    app.register_blueprint(bp)
    app.register_blueprint(moderation)
    app.register_error_handler(429, _too_many)
