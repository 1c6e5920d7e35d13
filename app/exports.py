"""Downloads for planners: the /export form and /export/<layers>.<format> files.

Each file is built in a temporary folder and streamed from disk; the folder is removed when the
response's file is closed. Who gets what is decided by
capmap.services.exports.export_view, as on the command line.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app.auth import view_roles
from app.store import get_engine, get_store
from capmap.core.diskspace import out_of_room
from capmap.core.errors import DiskFull, InputError, NotFound, is_disk_full
from capmap.io.writers import EXPORT_CRS, FORMATS
from capmap.services.access import layer_councils
from capmap.services.export_filters import parse_crs, parse_filters
from capmap.services.exports import (
    RECORD_LAYERS,
    TABLE_LAYERS,
    ExportRequest,
    ExportSettings,
    NotPermitted,
    check_request,
    describe,
    download_name,
    export,
    export_view,
)

bp = Blueprint("exports", __name__, url_prefix="/export")
PARAMS = ("crs", "bbox", "area", "plan", "theme", "from", "to", "by")
NO_ROOM = ("the server has no room left on its disk to build this file; nothing was kept. Try "
           "again later, a smaller selection, or ask the site's operator to free some space")


def _settings() -> ExportSettings:
    return ExportSettings.of(current_app.config)


def _export_request(names: str, fmt: str) -> ExportRequest:
    """The request in the URL; unknown parameters are refused, so a typo never goes unseen."""
    args = request.args
    unknown = sorted(set(args) - set(PARAMS) - {"lang"})  # lang: the page's language, as anywhere
    if unknown:
        raise InputError(f"unknown parameter {', '.join(unknown)}; expected {', '.join(PARAMS)}")
    filters = parse_filters(bbox=args.get("bbox"), area=args.get("area"), plan=args.get("plan"),
                            theme=args.get("theme"), date_from=args.get("from"),
                            date_to=args.get("to"))
    return ExportRequest(tuple(n.strip() for n in names.split(",")), fmt,
                         parse_crs(args.get("crs")), filters, by=args.get("by") or None,
                         roles=view_roles(_reach(filters)))


def _reach(filters) -> frozenset[str] | None:
    """The councils an export reaches: its area filter's, else every council of the data (a
    box filter is not looked into: None, not confined)."""
    engine = get_engine()
    if filters.area:
        try:
            return layer_councils(engine, *filters.area)
        except NotFound:
            return None  # the export itself says the area is not known
    if filters.bbox:
        return None
    hoods = engine.neighbourhoods()
    return layer_councils(engine, hoods.layer.id) if hoods is not None else None


@bp.get("/")
def form():
    """The export form: layers, format, CRS and filters."""
    layers = [la for la in get_store().layers() if la.is_current]
    names = [la.id for la in layers] + list(RECORD_LAYERS + TABLE_LAYERS)
    settings = _settings()
    views = {name: export_view(name, view_roles(_reach(parse_filters())), settings.policy)
             for name in names}
    contents = {name: describe(view, settings) for name, view in views.items()}
    return render_template("exports.html", layers=layers, views=views, contents=contents,
                           formats=FORMATS, crs_options=EXPORT_CRS)


@bp.get("/file")
def from_form():
    """The form's answer, sent on to the download address of those layers and that format."""
    names = [n for n in request.args.getlist("layer") if n]
    fmt = request.args.get("format", "")
    if not names or not fmt:
        raise InputError("choose at least one layer and a format")
    args = {k: v for k, v in request.args.items() if k in PARAMS and v.strip()}
    return redirect(url_for("exports.download", filename=f"{','.join(names)}.{fmt}", **args))


@bp.get("/<filename>")
def download(filename: str):
    """LAYER[,LAYER…].FORMAT, e.g. /export/plans.gpkg?crs=EPSG:27700&theme=health."""
    names, dot, fmt = filename.rpartition(".")
    if not dot or not names:
        raise InputError(f"give LAYER.FORMAT, e.g. plans.geojson; formats are {', '.join(FORMATS)}")
    wanted, settings = _export_request(names, fmt), _settings()
    try:
        check_request(wanted, settings.policy)
    except NotPermitted as exc:
        abort(403 if current_user.is_authenticated else 401, exc.message)
    try:
        folder = Path(tempfile.mkdtemp(prefix="capmap-export-",
                                       dir=current_app.config.get("EXPORT_TMP_DIR")))
    except OSError as exc:
        raise (DiskFull(NO_ROOM) if is_disk_full(exc) else exc) from exc
    try:
        path = folder / f"export{FORMATS[fmt].suffix}"
        export(get_store(), wanted, path, settings, get_engine())
        response = send_file(SpooledExport(path, folder), mimetype=FORMATS[fmt].media_type,
                             as_attachment=True, download_name=download_name(wanted), max_age=0)
    except Exception as exc:
        full = out_of_room(exc, folder)  # measured before the removal frees the space
        shutil.rmtree(folder, ignore_errors=True)
        if full:
            raise DiskFull(NO_ROOM) from exc
        raise
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    response.headers["Cache-Control"] = "private, no-store"
    return response


class SpooledExport(io.FileIO):
    """A built export, read from disk; closing it removes its temporary folder.

    The WSGI server closes the file when the response is done (sent, or the client gone). A
    send_file response passes the file straight through, so Response.call_on_close would never
    run: the removal hangs on the file itself.
    """

    def __init__(self, path: Path, folder: Path) -> None:
        super().__init__(path, "rb")
        self.folder = folder

    def close(self) -> None:
        """Close the file and remove its folder."""
        try:
            super().close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)
