"""Accounts on the web: anyone logged in changes their own password; admins create accounts,
set their roles and councils, disable or enable them and reset passwords.

A password change or reset, and disabling, end every session of the account (its session epoch
moves on, see app.auth); the person changing their own password stays logged in here.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user

from app import words
from app.auth import Account, role_required
from app.errors import for_reader
from app.store import get_store
from capmap.core.errors import CapmapError, NotFound, ValidationError
from capmap.core.passwords import check_password, hash_password, new_password
from capmap.storage.users import ROLES

bp = Blueprint("accounts", __name__)
MIN_PASSWORD = 12


def _councils(text: str) -> list[str]:
    return [c for c in text.replace(",", ";").replace("\n", ";").split(";") if c.strip()]


def check_new_password(password: str, again: str) -> str:
    """A new password: at least MIN_PASSWORD characters, typed the same twice."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(gettext("new password: %(given)s characters given; at least "
                                      "%(needed)s are needed", given=len(password),
                                      needed=MIN_PASSWORD))
    if password != again:
        raise ValidationError(gettext("repeat new password: it does not match the new password"))
    return password


@bp.route("/account/password", methods=["GET", "POST"])
@role_required(*ROLES)  # everyone with an account
def password():
    """Change your own password; your other sessions end."""
    if request.method != "POST":
        return render_template("account_password.html", error="")
    user = current_user.user
    try:
        if not check_password(user.password_hash, request.form.get("current", "")):
            raise ValidationError(gettext("current password: it is not the password of this "
                                          "account"))
        chosen = check_new_password(request.form.get("new", ""), request.form.get("again", ""))
    except ValidationError as exc:
        return render_template("account_password.html", error=exc.message), exc.status
    updated = get_store().set_password(user.username, hash_password(chosen))
    session.clear()
    session.permanent = True
    login_user(Account(updated))  # under the new epoch: only this session lives on
    flash(gettext("Your password is changed; every other session of your account has ended."))
    return redirect(url_for("accounts.password"), 303)


@bp.get("/admin/users")
@role_required("admin")
def users():
    """Every account, with a form to create one."""
    return render_template("admin_users.html", users=get_store().users(), roles=ROLES,
                           role_names=words.ROLES, error="", form={})


@bp.post("/admin/users")
@role_required("admin")
def create():
    """Create an account; its generated password is shown once."""
    form = request.form
    chosen = new_password()
    try:
        user = get_store().add_user(form.get("username", ""), hash_password(chosen),
                                    form.getlist("role"), _councils(form.get("councils", "")))
    except CapmapError as exc:
        return render_template("admin_users.html", users=get_store().users(), roles=ROLES,
                               role_names=words.ROLES, error=exc.message, form=form), exc.status
    return _shown_once(user.username, chosen, gettext("Created %(username)s.",
                                                      username=user.username))


def _shown_once(username: str, chosen: str, said: str):
    """The page showing a generated password, never stored by a cache."""
    page = render_template("admin_password.html", username=username, password=chosen, said=said)
    return page, 200, {"Cache-Control": "no-store"}


def _user_or_404(username: str):
    try:
        return get_store().user(username)
    except NotFound as exc:
        raise NotFound(for_reader(_l("there is no account %(username)s",
                                     username=repr(username)))) from exc


@bp.route("/admin/users/<username>", methods=["GET", "POST"])
@role_required("admin")
def user(username: str):
    """One account: its roles and councils."""
    account = _user_or_404(username)
    error, status = "", 200
    if request.method == "POST":
        roles = request.form.getlist("role")
        try:
            if account.id == current_user.user.id and "admin" not in roles:
                raise ValidationError(gettext("role: you cannot take the admin role from your "
                                              "own account; ask another admin"))
            get_store().set_user_access(username, roles, _councils(request.form.get("councils", "")))
        except CapmapError as exc:
            error, status = exc.message, exc.status
        else:
            flash(gettext("Saved the roles and councils of %(username)s.", username=username))
            return redirect(url_for("accounts.user", username=username), 303)
    return render_template("admin_user.html", account=account, roles=ROLES,
                           role_names=words.ROLES, error=error,
                           myself=account.id == current_user.user.id), status


@bp.post("/admin/users/<username>/active")
@role_required("admin")
def active(username: str):
    """Disable (ending its sessions) or enable an account."""
    account = _user_or_404(username)
    wanted = request.form.get("active")
    if wanted not in ("yes", "no"):
        raise ValidationError(for_reader(_l("active: %(given)s given; expected yes or no",
                                            given=repr(str(wanted)[:20]))))
    if account.id == current_user.user.id:
        raise ValidationError(for_reader(_l("active: you cannot disable your own account")))
    get_store().set_user_active(username, wanted == "yes")
    flash(gettext("Enabled %(username)s.", username=username) if wanted == "yes"
          else gettext("Disabled %(username)s.", username=username))
    return redirect(url_for("accounts.user", username=username), 303)


@bp.post("/admin/users/<username>/password")
@role_required("admin")
def reset(username: str):
    """Reset an account's password to a generated one, shown once; its sessions end."""
    _user_or_404(username)
    chosen = new_password()
    get_store().set_password(username, hash_password(chosen))
    return _shown_once(username, chosen, gettext("The password of %(username)s is reset and its "
                                                 "sessions have ended.", username=username))
