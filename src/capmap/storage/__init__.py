"""Storage: `open_store(url)` picks SQLite or PostGIS behind one interface."""

from __future__ import annotations

import os

from capmap.core.errors import ConfigError
from capmap.storage import postgis, sqlite
from capmap.storage.store import Store

DEFAULT_URL = "sqlite:///instance/capmap.sqlite"


def database_url(url: str | None = None) -> str:
    """The URL given, else CAPMAP_DATABASE_URL, else the embedded default."""
    return url or os.environ.get("CAPMAP_DATABASE_URL") or DEFAULT_URL


def open_store(url: str | None = None) -> Store:
    """Open (not create) the store at a `sqlite:///path` or `postgresql://…` URL."""
    url = database_url(url)
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme == "sqlite":
        return Store(url, sqlite.create_engine(url), sqlite, "sqlite")
    if scheme in ("postgresql", "postgres", "postgis"):
        return Store(url, postgis.create_engine(url), postgis, "postgis")
    raise ConfigError(
        f"database URL scheme {scheme!r} is not supported; expected sqlite:///path or "
        "postgresql://user@host/db"
    )


__all__ = ["DEFAULT_URL", "Store", "database_url", "open_store"]
