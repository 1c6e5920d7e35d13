"""A resident's private link to follow their pin, and the emails that tell them what changed.

The token is 256 random bits shown once; the store keeps only its SHA-256, so neither the
database nor a backup opens a follow page. An email cannot carry a token nobody kept: each one
is given a new token of its own (every token of a pin opens the same page).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from capmap.core.errors import NotFound, ValidationError
from capmap.services.engine import Engine
from capmap.storage import Store
from capmap.storage.moderation import DECISIONS, PinDecision

# Decisions that send an email to a resident who asked for updates.
NOTIFIED = ("publish", "resolve")
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")
EMAIL_SHAPE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def token_hash(token: str) -> str:
    """The SHA-256 (hex) kept in place of a token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def new_follow(store: Store, pin_id: int, email: str | None = None, lang: str | None = None) -> str:
    """A new follow token for a pin (its hash stored); `email` asks for updates there, written
    in `lang`."""
    token = secrets.token_urlsafe(32)
    store.add_follow(pin_id, token_hash(token), datetime.now(UTC), email, lang)
    return token


def check_email(contact: str | None) -> str:
    """The contact given as an address for updates, checked (no header-breaking characters)."""
    value = (contact or "").strip()
    if not EMAIL_SHAPE.match(value):
        raise ValidationError(f"email updates need an email address in the contact box; got "
                              f"{value[:40]!r}, expected something like name@example.org")
    return value


def followed(store: Store, token: str) -> dict:
    """The progress of the pin a token follows (see Store.pin_progress); NotFound otherwise,
    the same for a malformed and an unknown token."""
    pin_id = store.followed_pin(token_hash(token)) if TOKEN_SHAPE.match(token or "") else None
    progress = store.pin_progress(pin_id) if pin_id is not None else None
    if progress is None:
        raise NotFound("this follow link is not known; check it was copied whole")
    return progress


@dataclass(frozen=True)
class Update:
    """What one email tells a follower: their pin's new status and the moderator's public note,
    with a new follow token, for a reader of `lang` (None when not known)."""
    pin_id: int
    status: str
    note: str
    token: str
    lang: str | None


# Writes an update's subject and body (the web app's, in the follower's language).
Letter = Callable[[Update], tuple[str, str]]


def decide_and_notify(store: Store, pin_id: int, decision: str, moderator: str, reason: str,
                      public_note: str, letter: Letter | None) -> PinDecision:
    """A moderation decision and, for those in NOTIFIED, an email queued to each address that
    asked for updates (in the same transaction), as `letter` writes it; None sends no email
    (no SMTP server configured)."""
    with store.atomic():
        made = store.decide_pin(pin_id, decision, moderator, reason, public_note)
        if decision in NOTIFIED and letter is not None:
            for email, lang in store.follow_emails(pin_id).items():
                token = new_follow(store, pin_id, lang=lang)
                subject, body = letter(Update(pin_id, DECISIONS[decision], made.public_note,
                                              token, lang))
                store.queue_mail(email, subject, body, made.at, pin_id)
    return made


def follow_page(engine: Engine, store: Store, token: str, already_planned: Callable) -> dict:
    """The follow page: the pin's progress and what covers its exact point."""
    progress = followed(store, token)
    point = store.pin(progress["id"]).geometry.iloc[0]
    found = already_planned(engine, store, point.x, point.y, progress["category"])
    return {"pin": progress, "found": found}
