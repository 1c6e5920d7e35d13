"""One error handler: a CapmapError as JSON for API and export routes, as HTML elsewhere."""

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from capmap.errors import CapmapError

JSON_PREFIXES = ("/api/", "/ogc", "/export")


def _wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES) or request.accept_mimetypes.best == "application/json"


def _answer(status: int, title: str, message: str):
    if _wants_json():
        return jsonify({"error": title, "message": message}), status
    return render_template("error.html", status=status, title=title, message=message), status


def register(app: Flask) -> None:
    """Install the handlers on `app`."""

    @app.errorhandler(CapmapError)
    def capmap_error(exc: CapmapError):
        if exc.status >= 500:
            app.logger.error("%s: %s", type(exc).__name__, exc.message)
        return _answer(exc.status, type(exc).__name__, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _answer(exc.code or 500, exc.name, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error")
        return _answer(500, "Internal Server Error", "Something went wrong on our side.")
