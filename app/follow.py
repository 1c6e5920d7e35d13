"""A resident's private follow page, and the thread that sends the mail outbox.

Why a thread in each app process rather than a separate command: the SMTP settings live in the
app's config with every other setting, and there is nothing more to deploy or forget. Several
workers and servers share the outbox safely, since each message is claimed in the database
before it is sent (capmap.services.mail); a worker that dies mid-send leaves its claim to expire.
"""

from __future__ import annotations

import logging
import threading

from flask import Blueprint, Flask, current_app, render_template, url_for
from flask_babel import force_locale, gettext

from app import i18n, words
from app.store import get_engine, get_store
from capmap.services import follow as F
from capmap.services import mail
from capmap.services import pins as P

bp = Blueprint("follow", __name__)
log = logging.getLogger(__name__)


@bp.get("/pins/follow/<token>")
def page(token: str):
    """The pin's status changes with the moderator's notes, and what covers the spot."""
    view = F.follow_page(get_engine(), get_store(), token, P.already_planned)
    response = current_app.make_response(render_template("pin_follow.html", categories=words.categories(),
                                                         **view))
    private(response)
    return response


def private(response):
    """Headers of a page holding a follow link: never cached, indexed or sent as a referrer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def mail_on() -> bool:
    """Whether email updates are offered (an SMTP server is configured)."""
    return bool(current_app.config["SMTP_HOST"])


def link_for(token: str, lang: str | None = None) -> str:
    """A follow page's absolute URL; opening in `lang` when given."""
    return url_for("follow.page", token=token, lang=lang, _external=True)


def letter(update: F.Update) -> tuple[str, str]:
    """The subject and body of an update, in the language the resident followed in (English
    when not known), never the moderator's; its link opens the follow page in that language."""
    lang = update.lang if update.lang in i18n.LANGUAGES else i18n.DEFAULT
    with force_locale(lang):
        status = words.follow_status(update.status)
        subject = gettext("Your report %(pin)s: %(status)s", pin=update.pin_id, status=status)
        lines = [gettext("Your report %(pin)s is now %(status)s.", pin=update.pin_id, status=status), ""]
        if update.note:
            lines += [gettext("The moderator's note:"), update.note, ""]
        lines += [gettext("Follow it, and see the plans and actions that cover the spot, at"),
                  link_for(update.token, lang if update.lang else None), "",
                  gettext("Keep this link to yourself: anyone holding it can see your report's "
                          "progress.")]
    return subject, "\n".join(lines)


def smtp_settings(config) -> mail.SmtpSettings:
    """The SMTP_* and MAIL_* settings."""
    return mail.SmtpSettings(
        host=config["SMTP_HOST"], port=int(config["SMTP_PORT"]), user=config["SMTP_USER"],
        password=config["SMTP_PASSWORD"], sender=config["SMTP_FROM"],
        starttls=bool(config["SMTP_STARTTLS"]), timeout_s=float(config["SMTP_TIMEOUT_S"]),
        max_attempts=int(config["MAIL_MAX_ATTEMPTS"]), retry_s=float(config["MAIL_RETRY_S"]))


def _send_forever(app: Flask, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        try:
            with app.app_context():
                mail.send_due(get_store(), smtp_settings(app.config))
        except Exception:  # noqa: BLE001 - the sender must outlive a lost database
            log.exception("sending the mail outbox failed; trying again in %s s", every)


def init_app(app: Flask) -> None:
    """The blueprint, and the sender thread when SMTP_HOST and MAIL_SEND_EVERY_S are set."""
    app.register_blueprint(bp)
    every = float(app.config["MAIL_SEND_EVERY_S"])
    if app.config["SMTP_HOST"] and every > 0:
        stop = threading.Event()
        thread = threading.Thread(target=_send_forever, args=(app, every, stop), daemon=True,
                                  name="capmap-mail")
        app.extensions["capmap_mail_stop"] = stop
        thread.start()
