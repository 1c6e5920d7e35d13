"""Rate limits on the expensive public reads: the planscape (API and finder) and the exports.

Each of these requests measures a polygon against every plan and area, or builds a file, so an
anonymous client sending them in a loop could keep every worker busy. Requests are counted per
client address (behind a proxy, PROXY_FIX_X_FOR makes that the resident's, not the proxy's) in
one fixed window per limit of QUERY_RATE_LIMIT, shared by the routes of EXPENSIVE. Counters live
in memory per process unless a shared store is configured: RATELIMIT_STORAGE_URI when it is not
memory://, else CACHE_REDIS_URL, so every worker and server counts together. Over the limit the
answer is 429 with Retry-After; a store that cannot be reached lets requests through (a cache
outage must not stop the planscape), as RATELIMIT_SWALLOW_ERRORS does for pins.
"""

from __future__ import annotations

import logging
import math
import time

import limits
from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from app.errors import for_reader, http_answer

log = logging.getLogger(__name__)

EXPENSIVE = frozenset({"api.api_planscape", "api.api_planscape_polygon", "finder.result",
                       "exports.download"})


def storage_uri(config) -> str:
    """Where rate-limit counters are kept: the rate-limit store, else the shared cache's Redis,
    else this process's memory."""
    configured = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if configured != "memory://":
        return configured
    return config.get("CACHE_REDIS_URL") or "memory://"


class QueryLimiter:
    """Counts expensive requests per client address and refuses those over the limit."""

    def __init__(self, app: Flask) -> None:
        self.uri = storage_uri(app.config)
        self.limiter = FixedWindowRateLimiter(storage_from_string(self.uri))
        self.prefix = f"{app.config.get('RATELIMIT_KEY_PREFIX', 'capmap')}:query"

    def check(self) -> None:
        """Count this request if its route is expensive; TooManyRequests with Retry-After once
        the client is over any of the limits."""
        if request.endpoint not in EXPENSIVE:
            return
        client = request.remote_addr or "unknown"
        for item in limits.parse_many(current_app.config["QUERY_RATE_LIMIT"]):
            try:
                allowed = self.limiter.hit(item, self.prefix, client)
                reset = (0.0 if allowed else
                         self.limiter.get_window_stats(item, self.prefix, client).reset_time)
            except Exception as exc:  # noqa: BLE001 - any store failure: let the request through
                log.warning("rate-limit store %s unavailable (%s); not counting", self.uri, exc)
                return
            if not allowed:
                wait = max(1, math.ceil(reset - time.time()))
                raise _too_many(item, wait)


class QueryRateLimited(TooManyRequests):
    """A client over QUERY_RATE_LIMIT (its own class, so the pins' 429 page does not take it)."""


def _too_many(item: limits.RateLimitItem, wait: int) -> QueryRateLimited:
    return QueryRateLimited(for_reader(_l(
        "too many planscape queries or exports from your address (at most %(limit)s); try "
        "again in %(wait)s s", limit=item, wait=wait)), retry_after=wait)


def init_app(app: Flask) -> None:
    """Check every request against the limits before its view runs."""
    limiter = QueryLimiter(app)
    app.extensions["capmap_query_limiter"] = limiter
    app.before_request(limiter.check)
    app.register_error_handler(QueryRateLimited, http_answer)
