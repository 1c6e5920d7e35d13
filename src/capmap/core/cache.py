"""A cache of built text and tiles shared through Redis by every worker and server of one database.

Map payloads of a large layer take seconds to build (all Scottish data zones: 4 to 8 s per zoom
and format). Each worker keeps what it built in memory (Engine.memo); with a shared cache the
first worker to build a payload stores it and every other worker and server fetches it instead of
building it again. Keys carry the database's identity (a random id made when it was created, so a
database deleted and made again at the same place never reads the old one's entries, though its
version counters start again from 0) and the data version the text was built from, so an import
moves every reader to new keys at once; old keys expire after TTL_S. Redis being away never fails
a request: the text is built locally, as without the cache.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from capmap import __version__

TTL_S = 24 * 3600
TIMEOUT_S = 0.5  # a Redis that does not answer costs a request this much, then it builds locally

log = logging.getLogger(__name__)


class SharedCache:
    """Text in Redis under `prefix:database id:capmap version:key`, built once for all processes.
    `database_id` reads the id (Store.database_id) when a key is made: a database recreated
    under a running process is seen as the new one."""

    def __init__(self, redis_url: str, prefix: str, database_id: Callable[[], str]) -> None:
        import redis  # optional: pip install capmap[redis]

        self.client = redis.Redis.from_url(redis_url, socket_timeout=TIMEOUT_S,
                                           socket_connect_timeout=TIMEOUT_S)
        self.prefix = prefix
        self.database_id = database_id

    def name(self, key: str) -> str:
        """The Redis key of `key` for the current database."""
        return f"{self.prefix}:{self.database_id()}:{__version__}:{key}"

    def text(self, key: str, build: Callable[[], str]) -> str:
        """The text stored under `key`, or `build()`'s, stored for the others."""
        return self.blob(key, lambda: build().encode("utf-8")).decode("utf-8")

    def blob(self, key: str, build: Callable[[], bytes]) -> bytes:
        """The bytes stored under `key` (a vector tile), or `build()`'s, stored for the others."""
        import redis

        name = self.name(key)
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
