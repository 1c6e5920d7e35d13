"""Responses a browser or proxy may cache: a strong ETag, Cache-Control, 304 for a matching
If-None-Match, and gzip when the client takes it.

The ETag is a hash of the body, so it changes exactly when the bytes do. The gzipped bytes are a
different representation, so they carry the same tag with "-gz" (a strong validator names one
set of bytes); If-None-Match matches either. Each body is compressed once: the gzipped bytes are
kept, by tag, in a bounded cache shared by this process's requests.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict

from flask import Response, current_app, request

YEAR_S = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR_S}, immutable"
# Below this a gzip header and trailer (18 bytes) and the deflate blocks save next to nothing.
MIN_GZIP_BYTES = 256
GZIP_LEVEL = 6
# Gzipped bodies kept per process, in bytes (a national layer payload is a few MB gzipped).
GZIP_CACHE_BYTES = 64 * 1024 * 1024


class _GzipCache:
    """Gzipped bodies by tag, the least recently used forgotten beyond `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, tag: str, body: bytes) -> bytes:
        """`body` gzipped, compressed at most once while it stays in the cache."""
        with self._lock:
            packed = self._held.get(tag)
            if packed is not None:
                self._held.move_to_end(tag)
                return packed
        packed = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)  # mtime 0: same bytes each time
        with self._lock:
            if tag not in self._held:
                self._held[tag] = packed
                self._size += len(packed)
            while self._size > self.limit and self._held:
                self._size -= len(self._held.popitem(last=False)[1])
        return packed


_gzipped = _GzipCache(GZIP_CACHE_BYTES)


def cache_control(*, immutable: bool, max_age: int) -> str:
    """The Cache-Control value: a year and immutable, `max_age` seconds, or no-cache for 0
    (stored, but checked with the server before every use)."""
    if immutable:
        return IMMUTABLE
    return f"public, max-age={max_age}" if max_age > 0 else "no-cache"


def _wants_gzip() -> bool:
    return request.accept_encodings["gzip"] > 0


def cacheable_response(body: bytes | str, mimetype: str, *, immutable: bool = False,
                       max_age: int = 0) -> Response:
    """`body` as a response with a strong ETag and Cache-Control (see cache_control); a 304 with
    no body when If-None-Match holds its tag; gzipped when Accept-Encoding allows."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    tag = hashlib.blake2b(data, digest_size=16).hexdigest()
    packed = _wants_gzip() and len(data) >= MIN_GZIP_BYTES
    headers = {"Cache-Control": cache_control(immutable=immutable, max_age=max_age),
               "ETag": f'"{tag}-gz"' if packed else f'"{tag}"', "Vary": "Accept-Encoding"}
    asked = request.if_none_match
    if asked.contains_weak(tag) or asked.contains_weak(f"{tag}-gz"):
        return current_app.response_class(status=304, headers=headers)
    if packed:
        data = _gzipped.get(tag, data)
        headers["Content-Encoding"] = "gzip"
    return current_app.response_class(data, mimetype=mimetype, headers=headers)
