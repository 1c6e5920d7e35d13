"""Throttling failed logins, per account and per address.

Only failures count. A success clears its account's failures (the person has shown they know the
password) but not its address's: one valid account must not reset an address's budget for
guessing at others. While either is over its limit the login is answered 429 with Retry-After,
and the password is not checked at all, so a guess made then tells nothing.

Counters live in RATELIMIT_STORAGE_URI (memory:// per process by default; redis:// shares them
between every worker and server, as it must when several run).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import Flask, current_app
from flask_babel import ngettext
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


@dataclass(frozen=True)
class Refusal:
    """Why a login is held back and for how many seconds."""

    message: str
    retry_after: int


class LoginThrottle:
    """Failed-login counters for one app."""

    def __init__(self, storage_uri: str, per_account: str, per_address: str, prefix: str,
                 swallow_errors: bool) -> None:
        self.limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self.limits = {"account": parse_many(per_account), "address": parse_many(per_address)}
        self.prefix = prefix
        self.swallow_errors = swallow_errors

    def _keys(self, username: str, address: str) -> dict[str, str]:
        # Usernames are compared as typed elsewhere; here case and spaces are folded, so
        # "Admin " and "admin" share one budget.
        return {"account": username.strip().casefold(), "address": address or "unknown"}

    def refusal(self, username: str, address: str) -> Refusal | None:
        """A Refusal when the account or the address has failed too often lately."""
        for kind, key in self._keys(username, address).items():
            for limit in self.limits[kind]:
                if not self._guarded(self.limiter.test, limit, key, kind):
                    stats = self.limiter.get_window_stats(limit, self.prefix, "login", kind, key)
                    wait = max(1, math.ceil(stats.reset_time - time.time()))
                    return Refusal(_message(kind, wait), wait)
        return None

    def failed(self, username: str, address: str) -> None:
        """Count a failed login against the account and the address."""
        for kind, key in self._keys(username, address).items():
            for limit in self.limits[kind]:
                self._guarded(self.limiter.hit, limit, key, kind)

    def succeeded(self, username: str) -> None:
        """Forget the account's failures."""
        key = self._keys(username, "")["account"]
        for limit in self.limits["account"]:
            self._guarded(self.limiter.clear, limit, key, "account")

    def _guarded(self, call, limit, key: str, kind: str):
        """`call` on the counter; with RATELIMIT_SWALLOW_ERRORS a lost store lets logins through."""
        try:
            return call(limit, self.prefix, "login", kind, key)
        except Exception:  # a Redis outage surfaces as that client's own errors
            if not self.swallow_errors:
                raise
            current_app.logger.warning("login throttle store unavailable; not counting")
            return True


def _message(kind: str, wait: int) -> str:
    """Why the login is held back and for how long, in the reader's language."""
    minutes = math.ceil(wait / 60)
    if kind == "account":
        if wait < 90:
            return ngettext("Too many failed logins for this account. Try again in %(num)s "
                            "second.", "Too many failed logins for this account. Try again in "
                            "%(num)s seconds.", wait)
        return ngettext("Too many failed logins for this account. Try again in %(num)s minute.",
                        "Too many failed logins for this account. Try again in %(num)s minutes.",
                        minutes)
    if wait < 90:
        return ngettext("Too many failed logins for your connection. Try again in %(num)s "
                        "second.", "Too many failed logins for your connection. Try again in "
                        "%(num)s seconds.", wait)
    return ngettext("Too many failed logins for your connection. Try again in %(num)s minute.",
                    "Too many failed logins for your connection. Try again in %(num)s minutes.",
                    minutes)


def init_app(app: Flask) -> None:
    """One throttle per app, on the rate-limit store."""
    config = app.config
    app.extensions["capmap_login_throttle"] = LoginThrottle(
        config["RATELIMIT_STORAGE_URI"], config["LOGIN_LIMIT_PER_ACCOUNT"],
        config["LOGIN_LIMIT_PER_ADDRESS"], config["RATELIMIT_KEY_PREFIX"],
        str(config["RATELIMIT_SWALLOW_ERRORS"]).lower() not in ("false", "0", "no"))


def throttle() -> LoginThrottle:
    """This app's login throttle."""
    return current_app.extensions["capmap_login_throttle"]
