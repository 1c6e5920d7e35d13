"""Sending the mail outbox through an SMTP server, with retries and a record of failures.

Messages are queued in the store with the change they report and sent here, never in a
request: a slow or failing SMTP server delays email, not moderation.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from capmap.storage import Store


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send (app settings SMTP_*, MAIL_*)."""

    host: str
    port: int = 587
    user: str | None = None
    password: str | None = None
    sender: str = "capmap@localhost"
    starttls: bool = True
    timeout_s: float = 10.0
    max_attempts: int = 5
    retry_s: float = 300.0  # doubled after each failed attempt


def send_due(store: Store, smtp: SmtpSettings, now: datetime | None = None) -> dict[str, int]:
    """Send the queued messages that are due: counts of sent, retried and failed."""
    now = now or datetime.now(UTC)
    claimed = store.claim_mail(now, now + timedelta(seconds=smtp.timeout_s * 6 + 60))
    counts = {"sent": 0, "retried": 0, "failed": 0}
    if not claimed:
        return counts
    try:
        connection = _connect(smtp)
    except (OSError, smtplib.SMTPException) as exc:
        for mail in claimed:
            counts[_failed(store, smtp, mail, f"connecting: {exc}", now)] += 1
        return counts
    with connection:
        for mail in claimed:
            try:
                connection.send_message(_message(smtp, mail))
            except (OSError, smtplib.SMTPException) as exc:
                counts[_failed(store, smtp, mail, str(exc), now)] += 1
                continue
            store.mail_sent(mail["id"], datetime.now(UTC))
            counts["sent"] += 1
    return counts


def _connect(smtp: SmtpSettings) -> smtplib.SMTP:
    connection = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
    if smtp.starttls:
        connection.starttls(context=ssl.create_default_context())
    if smtp.user:
        connection.login(smtp.user, smtp.password or "")
    return connection


def _message(smtp: SmtpSettings, mail: dict) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = smtp.sender, mail["recipient"], mail["subject"]
    message.set_content(mail["body"])
    return message


def _failed(store: Store, smtp: SmtpSettings, mail: dict, error: str, now: datetime) -> str:
    """Record a failure: retry later with a doubled wait, or give up after max_attempts."""
    if mail["attempts"] >= smtp.max_attempts:
        store.mail_failed(mail["id"], error, None)
        return "failed"
    wait = smtp.retry_s * 2 ** (mail["attempts"] - 1)
    store.mail_failed(mail["id"], error, now + timedelta(seconds=wait))
    return "retried"
