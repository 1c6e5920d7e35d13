"""Security headers, with a Content-Security-Policy that runs only this app's scripts.

Map pages carry inline scripts (folium writes the map's set-up code into the page), so each
response gets a fresh nonce and only script tags carrying it run: an injected <script> has no
nonce and is refused by the browser.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, current_app, g
from markupsafe import Markup

_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)([^>]*)>", re.IGNORECASE)


def csp_nonce() -> str:
    """This response's script nonce."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def nonced(html: str) -> Markup:
    """Trusted HTML (a rendered folium map) with this response's nonce on its inline scripts."""
    return Markup(_INLINE_SCRIPT.sub(lambda m: f'<script nonce="{csp_nonce()}"{m.group(1)}>',
                                     str(html)))


def _tile_origin() -> str:
    url = current_app.config.get("TILES_URL") or ""
    parts = urlsplit(url.replace("{s}", "a"))
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in url else parts.netloc
    return f"{parts.scheme}://{host}" if parts.scheme and host else ""


def _headers(response):
    policy = (
        f"default-src 'self'; script-src 'self' 'nonce-{csp_nonce()}'; "
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
    """Add the headers to every response and the nonce helpers to templates."""
    app.after_request(_headers)
    app.jinja_env.globals.update(csp_nonce=csp_nonce)
    app.jinja_env.filters["nonced"] = nonced
