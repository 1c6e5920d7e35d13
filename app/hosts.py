"""Which Host headers the site answers to, and the base of the absolute links it writes.

Absolute links (OGC API, OpenAPI, the finder's share links) are built from the request's host;
left open, any client could have them point elsewhere by sending another Host header (or, behind
a trusting proxy, X-Forwarded-Host), and a shared cache would keep those links for everyone.
TRUSTED_HOSTS (Flask's own check) refuses other hosts with 400; PUBLIC_BASE_URL, when set,
is the base of every absolute link whatever the request's host, and its host is trusted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app
from flask.globals import request_ctx

from capmap.core.errors import ConfigError


def _host_list(value) -> list[str] | None:
    """TRUSTED_HOSTS as a list: a list, or a comma-separated string (CAPMAP_TRUSTED_HOSTS)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [h.strip() for h in value.split(",") if h.strip()]
    return [str(h).strip() for h in value]


def _base_parts(base: str):
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"PUBLIC_BASE_URL {base[:80]!r} is not an http(s) address like "
                          "https://maps.example.scot or https://example.scot/capmap")
    return parts


def init_app(app: Flask) -> None:
    """Check the settings once and install the link base."""
    hosts = _host_list(app.config["TRUSTED_HOSTS"])
    base = (app.config["PUBLIC_BASE_URL"] or "").strip()
    if base:
        parts = _base_parts(base)
        hosts = None if hosts is None else [*hosts, parts.hostname]
        app.before_request(_links_from_public_base)
    app.config["TRUSTED_HOSTS"] = hosts


def _links_from_public_base() -> None:
    """Build this request's links on PUBLIC_BASE_URL (the route was matched already)."""
    parts = urlsplit(current_app.config["PUBLIC_BASE_URL"].strip())
    request_ctx.url_adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme)
