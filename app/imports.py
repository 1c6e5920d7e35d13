"""Imports through the web, for admins: upload, see the preview and validation report, confirm."""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.utils import secure_filename

from app import maps, words
from app.auth import role_required
from app.errors import for_reader
from app.http_cache import cacheable_response
from app.store import get_policy, get_store
from capmap.core.diskspace import out_of_room
from capmap.core.errors import DiskFull, InputError, ValidationError
from capmap.core.models import LAYER_KINDS, PLAN_TYPES
from capmap.core.serialise import geometry_features, json_text, plain
from capmap.io.isolated import ChildLimits
from capmap.services.existing import IMPORT_USER
from capmap.services.uploads import (
    KINDS,
    PLAN_FIELD_SETTINGS,
    ROW_KINDS,
    clean_settings,
    import_isolated,
    purge_stale,
    web_limits,
)

bp = Blueprint("imports", __name__, url_prefix="/admin/import")
PREVIEW_ROWS = 10
PREVIEW_MAP_ROWS = 2000  # the preview map shows the first rows' geometry, simplified
PREVIEW_FILE = "preview.geojson"
SETTINGS_FILE = "settings.json"
EXTENSIONS = (".geojson", ".json", ".gpkg", ".zip", ".kml", ".fgb", ".csv")


def _upload_dir() -> Path:
    return Path(current_app.instance_path) / "uploads"


NO_ROOM = _l("the server has no room left on its disk to keep the upload; nothing was kept. "
             "Try again later, or ask the site's operator to free some space")
LOSSES = _l("this vintage lacks columns the layer's current vintage has (listed in the preview); "
            "nothing was stored. Tick the box confirming the loss to import it anyway")
GONE = _l("that upload is not waiting for confirmation: it was used already, or expired "
          "unconfirmed (previews are kept for UPLOAD_MAX_AGE_S seconds); upload it again")


def _pending(token: str) -> dict:
    pending = session.get("imports", {}).get(token)
    if pending is None or not token.isalnum():
        abort(404, for_reader(GONE))
    return pending


def purge_stale_uploads(app) -> None:
    """Remove previews older than UPLOAD_MAX_AGE_S (at start-up and before each upload)."""
    removed = purge_stale(Path(app.instance_path) / "uploads", float(app.config["UPLOAD_MAX_AGE_S"]))
    if removed:
        app.logger.info("removed %d unconfirmed upload(s) older than %ss", removed,
                        app.config["UPLOAD_MAX_AGE_S"])


def reader_limits() -> ChildLimits:
    """The limits on the child process that reads an upload (see capmap/core/settings.py)."""
    config = current_app.config
    return ChildLimits(memory_mb=int(config["UPLOAD_MEMORY_LIMIT_MB"]),
                       cpu_seconds=int(config["UPLOAD_CPU_SECONDS"]),
                       wall_seconds=float(config["UPLOAD_TIMEOUT_SECONDS"]),
                       file_mb=int(config["UPLOAD_FILE_LIMIT_MB"]))


def _settings(pending: dict) -> dict:
    """An upload's settings, kept beside it (the session cookie holds only its token), with
    the site's aliases (IMPORT_ALIASES_FILE) for the kinds checked row by row."""
    settings = json.loads((_upload_dir() / pending["token"] / SETTINGS_FILE).read_text())
    aliases = current_app.config.get("IMPORT_ALIASES_FILE")
    if aliases and pending["kind"] in ROW_KINDS:
        settings["site_aliases"] = Path(aliases).read_text(encoding="utf-8")
    return settings


def _run(pending: dict, preview: bool, allow_losses: bool = False):
    who = current_user.user.username if not preview else IMPORT_USER
    path = _upload_dir() / pending["token"] / pending["filename"]
    limits = web_limits(current_app.config["MAX_CONTENT_LENGTH"])
    return import_isolated(get_store(), pending["kind"], path, _settings(pending),
                           limits=limits, child=reader_limits(), preview=preview,
                           allow_losses=allow_losses, changed_by=who, region=get_policy().region)


@bp.get("")
@role_required("admin")
def form():
    """The upload form."""
    return render_template("import_form.html", kinds=KINDS, import_kinds=words.IMPORT_KINDS,
                           layer_kinds=LAYER_KINDS, layer_kind_names=words.LAYER_KINDS,
                           plan_types=PLAN_TYPES, extensions=EXTENSIONS,
                           plan_fields=PLAN_FIELD_SETTINGS, plan_columns=words.PLAN_COLUMNS)


@bp.post("")
@role_required("admin")
def upload():
    """Keep the upload aside, read and check it, and show what would be stored."""
    kind = request.form.get("kind", "")
    settings = clean_settings(kind, request.form.to_dict())
    upload = request.files.get("file")
    filename = secure_filename(upload.filename or "") if upload else ""
    if not filename or not filename.lower().endswith(EXTENSIONS):
        raise InputError(for_reader(_l("choose a file ending in one of %(extensions)s",
                                       extensions=", ".join(EXTENSIONS))))
    purge_stale_uploads(current_app)
    token = secrets.token_hex(16)
    folder = _upload_dir() / token
    pending = {"token": token, "kind": kind, "filename": filename}
    try:
        folder.mkdir(parents=True)
        upload.save(folder / filename)
        (folder / SETTINGS_FILE).write_text(json.dumps(settings))
        report = _run(pending, preview=True)
    except Exception as exc:
        # Measured before the removal frees the space; an error that says so (the reader's
        # DiskFull, an OSError) or a disk left all but full.
        full = isinstance(exc, DiskFull) or out_of_room(exc, folder.parent)
        shutil.rmtree(folder, ignore_errors=True)
        if full:
            raise DiskFull(for_reader(NO_ROOM)) from exc
        raise
    pending["losses"] = bool(report.losses)
    session.setdefault("imports", {})[token] = pending
    session.modified = True
    frame = report.preview
    rows = [{k: plain(v) for k, v in r.items()}
            for r in frame.drop(columns=frame.geometry.name).head(PREVIEW_ROWS).to_dict("records")]
    located = frame[frame.geometry.notna() & ~frame.geometry.is_empty].head(PREVIEW_MAP_ROWS)
    described = None
    if len(located):
        # Kept beside the upload (and removed with it) for the preview map to fetch.
        (folder / PREVIEW_FILE).write_text(json_text(geometry_features(located)))
        described = maps.preview(located.total_bounds,
                                 url_for("imports.preview_geometry", token=token))
    return render_template("import_preview.html", pending=pending, report=report, rows=rows,
                           total=len(frame), map=described, import_kinds=words.IMPORT_KINDS)


@bp.get("/<token>/preview.geojson")
@role_required("admin")
def preview_geometry(token: str):
    """The simplified geometry of a pending upload's first rows, for its preview map."""
    _pending(token)
    path = _upload_dir() / token / PREVIEW_FILE
    if not path.is_file():
        abort(404, for_reader(_l("this upload has no located rows to map")))
    return cacheable_response(path.read_bytes(), "application/geo+json", immutable=False,
                              max_age=0)


@bp.post("/<token>")
@role_required("admin")
def decide(token: str):
    """Confirm (store it, as the CLI would) or cancel a previewed upload."""
    pending = _pending(token)
    confirm = request.form.get("action") == "confirm"
    allow_losses = request.form.get("confirm_losses") == "yes"
    if confirm and pending.get("losses") and not allow_losses:
        # Refused before anything changes: the upload stays pending for a confirmed retry.
        raise ValidationError(for_reader(LOSSES))
    session["imports"].pop(token)
    session.modified = True
    if not (_upload_dir() / token / pending["filename"]).exists():
        abort(404, for_reader(GONE))  # purged while it waited
    try:
        if not confirm:
            return redirect(url_for("imports.form"))
        report = _run(pending, preview=False, allow_losses=allow_losses)
    finally:
        shutil.rmtree(_upload_dir() / token, ignore_errors=True)
    return render_template("import_done.html", report=report, pending=pending,
                           import_kinds=words.IMPORT_KINDS)
