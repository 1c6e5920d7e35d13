"""One error handler: a CapmapError as JSON for API and export routes, as HTML elsewhere."""

from flask import Flask, jsonify, render_template, request
from flask.globals import request_ctx
from flask_babel import force_locale
from markupsafe import escape
from werkzeug.exceptions import HTTPException, SecurityError

from app.i18n import HTML_LANG, language
from app.messages import public
from app.words import HTTP_MESSAGES, HTTP_TITLES
from capmap.core.errors import CapmapError, DiskFull, QueryTooCostly, StoreUnavailable, is_disk_full
from capmap.core.policy import JSON_PREFIXES

# Seconds a client (or load balancer) should wait before asking again while the database is away.
RETRY_AFTER = 5


def wants_json() -> bool:
    """Whether the answer to this request is JSON: API routes, .json files, or a client asking."""
    return (request.path.startswith(JSON_PREFIXES) or request.path.endswith(".json")
            or request.accept_mimetypes.best == "application/json")


def for_reader(text) -> str:
    """An error message of the app's own (a lazy_gettext text) for the exception it raises: in
    the reader's language when the answer is a page, in English when it is JSON."""
    if wants_json():
        with force_locale("en"):
            return str(text)
    return str(text)


def _answer(status: int, title: str, message: str):
    if wants_json():
        return jsonify({"error": title, "message": message}), status
    # A page speaks the reader's language: the status's own words, the message by its shape.
    if status in HTTP_TITLES:
        title = str(HTTP_TITLES[status])
    message = public(message)
    try:
        if request_ctx.url_adapter is None:  # a refused Host: no link can be built for the page
            raise CapmapError("no links")
        return render_template("error.html", status=status, title=title, message=message), status
    except CapmapError:
        # The page itself needs the database (the logged-in user's roles, in the navigation):
        # answer with a bare page rather than a second error.
        return (f"<!doctype html><html lang=\"{HTML_LANG.get(language(), 'en-GB')}\">"
                f"<title>{status} {escape(title)} · capmap</title>"
                f"<h1>{status} {escape(title)}</h1><p>{escape(message)}</p></html>"), status


def http_answer(exc: HTTPException):
    """An HTTP error as JSON or HTML, keeping the exception's own headers (Allow on a 405,
    Retry-After on a 429), not its HTML content type."""
    description = exc.description or exc.name
    if description == type(exc).description and exc.code in HTTP_MESSAGES and not wants_json():
        description = str(HTTP_MESSAGES[exc.code])  # werkzeug's default, in the reader's language
    body, status = _answer(exc.code or 500, exc.name, description)
    kept = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return body, status, kept


def register(app: Flask) -> None:
    """Install the handlers on `app`."""

    @app.errorhandler(CapmapError)
    def capmap_error(exc: CapmapError):
        if exc.status >= 500:
            app.logger.error("%s: %s", type(exc).__name__, exc.message)
        body, status = _answer(exc.status, type(exc).__name__, exc.message)
        if isinstance(exc, (StoreUnavailable, QueryTooCostly)):
            return body, status, {"Retry-After": str(RETRY_AFTER)}
        return body, status

    @app.errorhandler(SecurityError)
    def untrusted_host(exc: SecurityError):
        # The host is not echoed: the point is that no client-chosen host reaches a page.
        return _answer(400, "Bad Request", "this site does not answer to the host name in the "
                       "request; its operator lists the names it answers to in TRUSTED_HOSTS")

    app.register_error_handler(HTTPException, http_answer)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if is_disk_full(exc):  # a write this code did not foresee: still not a 500
            return capmap_error(DiskFull("the server has no room left on its disk; nothing "
                                         "was kept. Try again later"))
        app.logger.exception("unhandled error")
        return _answer(500, "Internal Server Error", "Something went wrong on our side.")
