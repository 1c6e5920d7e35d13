"""`capmap users …`: accounts for officers, moderators, planners and admins."""

from __future__ import annotations

import sys

import click

from capmap.cli.common import store_of
from capmap.core.passwords import hash_password, new_password
from capmap.storage.users import ROLES


@click.group()
def users() -> None:
    """Accounts for officers, moderators, planners and admins."""


@users.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="A role to give (repeat for several).")
@click.option("--council", "councils", multiple=True,
              help="A council code the account is limited to (repeat for several; none: all).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input "
              "instead of generating one.")
@click.pass_context
def users_add(ctx: click.Context, username: str, roles: tuple[str, ...],
              councils: tuple[str, ...], password_stdin: bool) -> None:
    """Create an account; prints a generated password once unless one is given on stdin."""
    password = _password(password_stdin)
    user = store_of(ctx).add_user(username, hash_password(password), list(roles), list(councils))
    click.echo(f"created {user.username} ({', '.join(sorted(user.roles))})")
    if not password_stdin:
        click.echo(f"password: {password}")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input "
              "instead of generating one.")
@click.pass_context
def users_set_password(ctx: click.Context, username: str, password_stdin: bool) -> None:
    """Give an account a new password and end all its sessions; prints a generated password
    once unless one is given on stdin."""
    password = _password(password_stdin)
    store_of(ctx).set_password(username, hash_password(password))
    click.echo(f"new password set for {username}; its sessions have ended")
    if not password_stdin:
        click.echo(f"password: {password}")


@users.command("set-access")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="A role to give (repeat for several); the roles given replace the old ones.")
@click.option("--council", "councils", multiple=True,
              help="A council code the account is limited to (repeat; none: every council).")
@click.pass_context
def users_set_access(ctx: click.Context, username: str, roles: tuple[str, ...],
                     councils: tuple[str, ...]) -> None:
    """Set an account's roles and councils."""
    user = store_of(ctx).set_user_access(username, list(roles), list(councils))
    click.echo(f"{user.username}: {', '.join(sorted(user.roles))}; councils "
               f"{', '.join(sorted(user.councils)) or 'all'}")


def _password(from_stdin: bool) -> str:
    password = sys.stdin.readline().rstrip("\n") if from_stdin else new_password()
    if len(password) < 12:
        raise click.ClickException("a password needs at least 12 characters")
    return password


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List accounts with their roles and state."""
    for user in store_of(ctx).users():
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username:<24} {','.join(sorted(user.roles)):<32} {state:<9} "
                   f"councils {','.join(sorted(user.councils)) or 'all'} "
                   f"last login {user.last_login or 'never'}")


def _set_active(name: str, active: bool, help_text: str) -> None:
    @users.command(name, help=help_text)
    @click.argument("username")
    @click.pass_context
    def command(ctx: click.Context, username: str) -> None:
        store_of(ctx).set_user_active(username, active)
        click.echo(f"{name}d {username}")


_set_active("disable", False, "Stop an account from logging in and end its sessions (its history "
            "is kept).")
_set_active("enable", True, "Let a disabled account log in again.")


