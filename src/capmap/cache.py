"""A cache of built text and tiles shared through Redis by every worker and server of one database.

Map payloads of a large layer take seconds to build (all Scottish data zones: 4 to 8 s per zoom
and format). Each worker keeps what it built in memory (Engine.memo); with a shared cache the
first worker to build a payload stores it and every other worker and server fetches it instead of
building it again. Keys carry the data version the text was built from, so an import moves every
reader to new keys at once; old keys expire after TTL_S. Redis being away never fails a request:
the text is built locally, as without the cache.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from capmap import __version__

TTL_S = 24 * 3600
TIMEOUT_S = 0.5  # a Redis that does not answer costs a request this much, then it builds locally

log = logging.getLogger(__name__)


def database_identity(url: str) -> str:
    """A short stable name for the database behind a store URL (no password): the SQLite file's
    absolute path, or PostgreSQL's host, port and database. Two sites sharing one Redis under
    the same prefix still never read each other's entries."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        place = str(Path(parsed.database or "").resolve())
    else:
        place = f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"
    return hashlib.sha256(place.encode()).hexdigest()[:16]


class SharedCache:
    """Text in Redis under `prefix:database:capmap version:key`, built once for all processes."""

    def __init__(self, redis_url: str, prefix: str, database_url: str) -> None:
        import redis  # optional: pip install capmap[redis]

        self.client = redis.Redis.from_url(redis_url, socket_timeout=TIMEOUT_S,
                                           socket_connect_timeout=TIMEOUT_S)
        self.namespace = f"{prefix}:{database_identity(database_url)}:{__version__}"

    def text(self, key: str, build: Callable[[], str]) -> str:
        """The text stored under `key`, or `build()`'s, stored for the others."""
        return self.blob(key, lambda: build().encode("utf-8")).decode("utf-8")

    def blob(self, key: str, build: Callable[[], bytes]) -> bytes:
        """The bytes stored under `key` (a vector tile), or `build()`'s, stored for the others."""
        import redis

        name = f"{self.namespace}:{key}"
        try:
            stored = self.client.get(name)
        except redis.RedisError as exc:
            log.warning("shared cache unavailable (%s); building %s here", exc, key)
            return build()
        if stored is not None:
            return stored
        data = build()
        try:
            self.client.set(name, data, ex=TTL_S)
        except redis.RedisError as exc:
            log.warning("shared cache unavailable (%s); %s not stored", exc, key)
        return data
