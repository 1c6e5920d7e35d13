"""Residents following their pins (tokens stored as hashes) and the mail outbox."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from capmap.storage import schema as s

OUTBOX_COLUMNS = ["id", "pin_id", "recipient", "subject", "body", "status", "attempts",
                  "next_attempt", "sent_at", "last_error"]


class FollowsMixin:
    """Follow tokens and queued email in the Store."""

    def add_follow(self, pin_id: int, token_hash: str, at: datetime, email: str | None = None,
                   lang: str | None = None) -> None:
        """Keep the hash of a new follow token of a pin (and the address for updates, and the
        language the resident reads)."""
        with self._write() as conn:
            conn.execute(sa.insert(s.pin_follows).values(token_hash=token_hash, pin_id=pin_id,
                                                         created=at, email=email, lang=lang))

    def followed_pin(self, token_hash: str) -> int | None:
        """The pin a token hash follows, or None."""
        query = sa.select(s.pin_follows.c.pin_id).where(s.pin_follows.c.token_hash == token_hash)
        with self._read() as conn:
            return conn.execute(query).scalar()

    def follow_emails(self, pin_id: int) -> dict[str, str | None]:
        """The addresses that asked for updates on a pin, each with the language it last asked
        in (None when not known), in address order."""
        f = s.pin_follows.c
        query = (sa.select(f.email, f.lang).where((f.pin_id == pin_id) & f.email.is_not(None))
                 .order_by(f.created))
        with self._read() as conn:
            latest = {email: lang for email, lang in conn.execute(query)}
        return dict(sorted(latest.items()))

    def pin_progress(self, pin_id: int) -> dict | None:
        """What a pin's follower may see: category, description, created, status, and each
        decision's kind, time and public note (never the moderator, reason or contact)."""
        p, d = s.pins.c, s.pin_decisions.c
        with self._read() as conn:
            pin = conn.execute(sa.select(p.id, p.category, p.description, p.created, p.status)
                               .where(p.id == pin_id)).mappings().first()
            if pin is None:
                return None
            steps = conn.execute(sa.select(d.decision, d.at, d.public_note).where(d.pin_id == pin_id)
                                 .order_by(d.at, d.id)).mappings().all()
        return {**pin, "steps": [dict(step) for step in steps]}

    def queue_mail(self, recipient: str, subject: str, body: str, at: datetime,
                   pin_id: int | None = None) -> int:
        """Queue one message, due now; its id."""
        with self._write() as conn:
            return conn.execute(sa.insert(s.mail_outbox).values(
                pin_id=pin_id, recipient=recipient, subject=subject, body=body, status="queued",
                attempts=0, created=at, next_attempt=at, last_error="",
            ).returning(s.mail_outbox.c.id)).scalar_one()

    def claim_mail(self, now: datetime, lease_until: datetime, limit: int = 20) -> list[dict]:
        """Queued messages due by `now`, each claimed by moving its next attempt to
        `lease_until` and counting the attempt, so another sender skips it meanwhile (and a
        sender that dies leaves it to be retried then)."""
        o = s.mail_outbox.c
        due = (sa.select(*[o[c] for c in OUTBOX_COLUMNS])
               .where((o.status == "queued") & (o.next_attempt <= now)).order_by(o.id).limit(limit))
        claimed = []
        with self._write() as conn:
            for row in conn.execute(due).mappings().all():
                won = conn.execute(sa.update(s.mail_outbox).where(
                    (o.id == row["id"]) & (o.status == "queued") & (o.next_attempt <= now))
                    .values(next_attempt=lease_until, attempts=o.attempts + 1)).rowcount
                if won:
                    claimed.append({**row, "attempts": row["attempts"] + 1})
        return claimed

    def mail_sent(self, mail_id: int, at: datetime) -> None:
        """Mark a message sent; its body (which holds a follow link) is cleared."""
        with self._write() as conn:
            conn.execute(sa.update(s.mail_outbox).where(s.mail_outbox.c.id == mail_id)
                         .values(status="sent", sent_at=at, body=""))

    def mail_failed(self, mail_id: int, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: retried at `retry_at`, or given up (None; body cleared)."""
        values = {"last_error": error[:500]}
        values.update({"next_attempt": retry_at} if retry_at else {"status": "failed", "body": ""})
        with self._write() as conn:
            conn.execute(sa.update(s.mail_outbox).where(s.mail_outbox.c.id == mail_id).values(**values))

    def outbox(self, pin_id: int | None = None) -> list[dict]:
        """Messages (no bodies), oldest first: of one pin, or all."""
        o = s.mail_outbox.c
        query = sa.select(*[o[c] for c in OUTBOX_COLUMNS if c != "body"]).order_by(o.id)
        if pin_id is not None:
            query = query.where(o.pin_id == pin_id)
        with self._read() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
