"""People who log in: officers, moderators, planners and admins. Passwords are stored hashed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from capmap.core.codes import code_problem
from capmap.core.errors import NotFound, ValidationError
from capmap.storage import schema as s

ROLES = ("officer", "moderator", "planner", "admin")


@dataclass(frozen=True)
class User:
    """A stored account (the hash never leaves the store except for checking)."""

    id: int
    username: str
    roles: frozenset[str]
    active: bool
    created: str
    last_login: str | None
    password_hash: str
    session_epoch: int = 0
    # Council codes the account is limited to; empty: every council.
    councils: frozenset[str] = frozenset()


def check_roles(roles: list[str]) -> list[str]:
    """Refuse unknown roles; at least one is needed."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise ValidationError(f"roles {unknown or roles} are not known; expected some of "
                              f"{', '.join(ROLES)}")
    return sorted(set(roles))


def check_councils(councils: list[str]) -> list[str]:
    """Council codes, stripped and each checked (capmap.core.codes); none means every council."""
    codes = sorted({c.strip() for c in councils if c and c.strip()})
    for code in codes:
        problem = code_problem(code, "council code")
        if problem:
            raise ValidationError(f"councils: {problem}")
    return codes


class UsersMixin:
    """Accounts in the Store."""

    def add_user(self, username: str, password_hash: str, roles: list[str],
                 councils: list[str] = ()) -> User:
        """Create an account (limited to `councils`, if any); a taken username is refused."""
        username = username.strip()
        if not username or len(username) > 80:
            raise ValidationError("a username needs 1 to 80 characters")
        if self._user_row(username) is not None:
            raise ValidationError(f"user {username!r} already exists")
        with self._write() as conn:
            conn.execute(sa.insert(s.users).values(
                username=username, password_hash=password_hash,
                roles=";".join(check_roles(roles)), active=True, created=datetime.now(UTC),
                councils=";".join(check_councils(list(councils)))))
        return self.user(username)

    def set_user_access(self, username: str, roles: list[str], councils: list[str]) -> User:
        """Give an account these roles and councils (empty: every council). Both are read on
        every request, so the change applies at once to its sessions."""
        self.user(username)
        values = {"roles": ";".join(check_roles(roles)),
                  "councils": ";".join(check_councils(councils))}
        with self._write() as conn:
            conn.execute(sa.update(s.users).where(s.users.c.username == username).values(**values))
        return self.user(username)

    def user(self, username: str) -> User:
        """One account by username."""
        row = self._user_row(username)
        if row is None:
            raise NotFound(f"no user {username!r}")
        return _user(row)

    def user_by_id(self, user_id: int) -> User | None:
        """One account by id, or None."""
        with self._read() as conn:
            row = conn.execute(sa.select(s.users).where(s.users.c.id == user_id)).mappings().first()
        return _user(row) if row else None

    def users(self) -> list[User]:
        """Every account, by username."""
        with self._read() as conn:
            rows = conn.execute(sa.select(s.users).order_by(s.users.c.username)).mappings().all()
        return [_user(r) for r in rows]

    def set_user_active(self, username: str, active: bool) -> User:
        """Enable or disable an account (disabled accounts cannot log in). Either way its
        sessions end: one copied before a disable never works again, even after an enable."""
        self.user(username)
        with self._write() as conn:
            conn.execute(sa.update(s.users).where(s.users.c.username == username)
                         .values(active=active, session_epoch=s.users.c.session_epoch + 1))
        return self.user(username)

    def set_password(self, username: str, password_hash: str) -> User:
        """Give an account a new password hash; every session it had ends."""
        self.user(username)
        with self._write() as conn:
            conn.execute(sa.update(s.users).where(s.users.c.username == username)
                         .values(password_hash=password_hash,
                                 session_epoch=s.users.c.session_epoch + 1))
        return self.user(username)

    def end_sessions(self, user_id: int) -> None:
        """End every session of an account (logging out ends them all, on every device)."""
        with self._write() as conn:
            conn.execute(sa.update(s.users).where(s.users.c.id == user_id)
                         .values(session_epoch=s.users.c.session_epoch + 1))

    def record_login(self, user_id: int) -> None:
        """Note the time of a successful login."""
        with self._write() as conn:
            conn.execute(sa.update(s.users).where(s.users.c.id == user_id)
                         .values(last_login=datetime.now(UTC)))

    def _user_row(self, username: str):
        with self._read() as conn:
            return conn.execute(sa.select(s.users).where(s.users.c.username == username.strip())
                                ).mappings().first()


def _user(row) -> User:
    return User(id=row["id"], username=row["username"],
                roles=frozenset(r for r in row["roles"].split(";") if r),
                active=bool(row["active"]), created=str(row["created"]),
                last_login=str(row["last_login"]) if row["last_login"] else None,
                password_hash=row["password_hash"], session_epoch=int(row["session_epoch"]),
                councils=frozenset(c for c in (row["councils"] or "").split(";") if c))
