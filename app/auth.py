"""Logging in: officers, moderators, planners and admins. Residents never need an account.

Passwords are hashed with scrypt (capmap.core.passwords); sessions expire after PERMANENT_SESSION_LIFETIME; an
admin holds every role. Routes say which roles may use them with `role_required`. Failed logins are
throttled per account and per address (app.throttle).

A signed session names the account and its session epoch ("id:epoch"); logging out, a password
change and disabling move the epoch on, so a session cookie copied before any of them no longer
logs anyone in, on any device (the cookie itself cannot be taken back from whoever holds it).
"""

from __future__ import annotations

from functools import cache, wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from app import throttle
from app.errors import for_reader
from app.store import get_policy, get_store
from capmap.core.errors import NotFound
from capmap.core.passwords import check_password, hash_password
from capmap.core.policy import JSON_PREFIXES
from capmap.services.access import scoped_roles
from capmap.storage.users import ROLES, User

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"


@cache
def _dummy_hash() -> str:
    """Checking an unknown user's attempt against this keeps login time from telling which
    usernames exist."""
    return hash_password("not a real password")


class Account(UserMixin):
    """The logged-in person, as Flask-Login sees them."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.id = str(user.id)

    def get_id(self) -> str:
        """What the session keeps: the account and the epoch it was logged in under."""
        return f"{self.user.id}:{self.user.session_epoch}"

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(ROLES) if "admin" in self.user.roles else self.user.roles

    @property
    def councils(self) -> frozenset[str]:
        """The councils the account is limited to; empty: every council."""
        return self.user.councils

    @property
    def is_active(self) -> bool:
        return self.user.active


@login_manager.user_loader
def _load(session_id: str) -> Account | None:
    """The account of a session, on every request; None (logged out) for a session made before
    its account's last logout, password change or disable."""
    user_id, _, epoch = session_id.partition(":")
    if not (user_id.isdigit() and epoch.isdigit()):
        return None  # includes sessions signed before epochs existed: they log in again
    user = get_store().user_by_id(int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return Account(user)


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith(JSON_PREFIXES):
        abort(401, "log in to use this")
    flash(gettext("Please log in to see that page."))
    return redirect(url_for("auth.login", next=request.full_path))


def current_roles() -> frozenset[str]:
    """The roles of whoever makes this request (none for anonymous)."""
    return current_user.roles if current_user.is_authenticated else frozenset()


def current_councils() -> frozenset[str]:
    """The councils whoever makes this request is limited to (empty: every council)."""
    return current_user.councils if current_user.is_authenticated else frozenset()


def view_roles(view_councils: frozenset[str] | None) -> frozenset[str]:
    """The current roles as they apply to a view reaching `view_councils` (None: unknown):
    an account limited to other councils loses its exact-data roles there."""
    return scoped_roles(current_roles(), current_councils(), view_councils,
                        get_policy().exact_roles)


def has_role(*roles: str) -> bool:
    """True if the current person holds any of `roles`."""
    return bool(current_roles() & set(roles))


def role_required(*roles: str):
    """Let only people holding one of `roles` in: anonymous users are sent to log in (401 for
    JSON routes), others get 403."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not has_role(*roles):
                abort(403, for_reader(_l("this needs one of the roles: %(roles)s",
                                         roles=", ".join(roles))))
            return view(*args, **kwargs)
        wrapped.capmap_roles = roles
        return wrapped
    return decorate


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute URL an attacker could plant. Browsers read a
    backslash as a slash and drop tabs and new lines, so "/\\evil.example" would leave the site."""
    if not target or urlsplit(target).netloc or not target.startswith("/") or \
            target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        return url_for("public.home")
    return target


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form."""
    if request.method != "POST":
        return render_template("login.html")
    username = request.form.get("username", "").strip()
    password = request.form.get("password", "")
    guard = throttle.throttle()
    refusal = guard.refusal(username, request.remote_addr or "")
    if refusal is not None:
        flash(refusal.message)
        return render_template("login.html"), 429, {"Retry-After": str(refusal.retry_after)}
    user = _check(username, password)
    if user is None:
        guard.failed(username, request.remote_addr or "")
        flash(gettext("That username and password do not match an active account."))
        return render_template("login.html"), 401
    guard.succeeded(username)
    session.clear()
    session.permanent = True
    login_user(Account(user))
    get_store().record_login(user.id)
    return redirect(_safe_next(request.args.get("next")))


def _check(username: str, password: str) -> User | None:
    """The active account whose password this is, or None; as slow for unknown usernames."""
    try:
        user = get_store().user(username)
    except NotFound:
        user = None
    if user is None or not user.active:
        check_password(_dummy_hash(), password)
        return None
    return user if check_password(user.password_hash, password) else None


@bp.post("/logout")
def logout():
    """Log out (a POST, so another site cannot log people out with a link), ending every
    session of the account, copies of this one included."""
    if current_user.is_authenticated:
        get_store().end_sessions(current_user.user.id)
    logout_user()
    session.clear()
    return redirect(url_for("public.home"))


def init_app(app) -> None:
    """Install logins on the app."""
    login_manager.init_app(app)
    throttle.init_app(app)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(has_role=has_role, current_roles=current_roles,
                                 current_councils=current_councils)
