"""Security headers, with a Content-Security-Policy that runs only this app's script files.

No page carries an inline script (a map's description travels as data in an attribute, read by
app/static/map.js), so the policy allows scripts from this origin only: an injected <script>,
inline handler or javascript: URL is refused by the browser.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app


def _tile_origin() -> str:
    url = current_app.config.get("TILES_URL") or ""
    parts = urlsplit(url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in url else parts.netloc
    return f"{parts.scheme}://{host}" if parts.scheme and host else ""


def _headers(response):
    policy = (
        "default-src 'self'; script-src 'self'; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: {_tile_origin()}".rstrip() + "; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    response.headers.setdefault("Content-Security-Policy", policy)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response."""
    app.after_request(_headers)
