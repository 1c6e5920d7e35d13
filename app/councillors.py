"""The councillors of each ward, imported by staff from a CSV (ward_code, name, party, email):
checked whole, stored all or nothing, replacing the councillors of the wards the file names.
They make up the councillors of a proposed Local Place Plan's notification list."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import gettext

from app.auth import current_councils, role_required
from app.store import get_store
from capmap.core.errors import CapmapError, InputError
from capmap.services import councillors
from capmap.services.access import EDIT_ROLES
from capmap.storage.councillors import COUNCILLOR_COLUMNS

bp = Blueprint("councillors", __name__, url_prefix="/admin/import/councillors")


def _text() -> str:
    # Its messages are shown on the form's page (never as JSON), in the reader's language.
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise InputError(gettext("no file chosen; expected a CSV of councillors (%(columns)s)",
                                 columns=", ".join(COUNCILLOR_COLUMNS)))
    if not upload.filename.lower().endswith(".csv"):
        raise InputError(gettext("%(file)s is not a .csv file; expected a CSV of councillors "
                                 "(%(columns)s)", file=repr(upload.filename[:80]),
                                 columns=", ".join(COUNCILLOR_COLUMNS)))
    try:
        return upload.read().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(gettext("%(file)s is not UTF-8 text; save the CSV as UTF-8 and upload "
                                 "it again", file=repr(upload.filename[:80]))) from None


@bp.route("", methods=["GET", "POST"])
@role_required(*EDIT_ROLES)
def form():
    """The upload form; a posted CSV is stored whole or, with its problems shown, not at all."""
    store = get_store()
    error, details, status, stored = "", [], 200, None
    if request.method == "POST":
        try:
            stored = councillors.import_councillors(store, _text(), current_councils())
        except CapmapError as exc:
            error, details, status = exc.message, exc.details, exc.status
    return render_template("councillors_import.html", columns=COUNCILLOR_COLUMNS, error=error,
                           details=details, stored=stored,
                           total=store.councillor_count()), status
