"""Residents follow their pins: private links (hash only stored), public notes, and email
updates through a real local SMTP server (aiosmtpd), on both backends and over the web."""

from __future__ import annotations

import shutil
import socket
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from app import create_app
from app.follow import smtp_settings
from app.store import get_engine
from capmap.core.errors import NotFound
from capmap.services import follow as F
from capmap.services import mail
from capmap.services import pins as P
from capmap.services.engine import Engine
from capmap.storage import schema as s
from tests.conftest import X0, Y0, logged_in, lonlat_of
from tests.schema_versions import rewind


class Inbox:
    """An aiosmtpd handler keeping what it receives; `refuse` answers 451 to every message."""

    def __init__(self, refuse: bool = False) -> None:
        self.messages: list = []
        self.refuse = refuse

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 try again later"
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def _settings(port: int, **extra) -> mail.SmtpSettings:
    return mail.SmtpSettings(host="127.0.0.1", port=port, starttls=False, timeout_s=5, **extra)


def _pin(store, contact="res@example.org") -> int:
    lon, lat = lonlat_of(X0 + 500, Y0 + 500)  # in square A
    return P.submit_pin(store, Engine(store), P.NewPin(lon, lat, "street_lighting",
                                                       "Lamp out on the corner", contact))


def _letter(update: F.Update) -> tuple[str, str]:
    """A plain letter, so the library's part is tested apart from the app's words."""
    return (f"{update.pin_id} {update.status} {update.lang}",
            f"{update.note}\nhttp://capmap.test/pins/follow/{update.token}")


def test_only_the_hash_of_a_token_is_kept(loaded):
    pin_id = _pin(loaded)
    token = F.new_follow(loaded, pin_id, "res@example.org")
    with loaded.engine.connect() as conn:
        rows = conn.execute(sa.select(s.pin_follows)).mappings().all()
    assert [r["token_hash"] for r in rows] == [F.token_hash(token)] and token not in str(rows)
    assert F.followed(loaded, token)["status"] == "pending"
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "short", "../../etc"):
        with pytest.raises(NotFound):
            F.followed(loaded, wrong)


def test_a_decision_queues_an_email_with_a_new_link_and_keeps_notes_apart(loaded, smtp_server):
    inbox, port = smtp_server
    pin_id = _pin(loaded)
    F.new_follow(loaded, pin_id, "res@example.org", "gd")
    F.decide_and_notify(loaded, pin_id, "hide", "morag", "names a neighbour", "Please report "
                        "this by phone", _letter)  # hiding sends nothing
    F.decide_and_notify(loaded, pin_id, "publish", "morag", "", "Passed to street lighting", _letter)
    queued = loaded.outbox(pin_id)
    assert [(m["status"], m["recipient"]) for m in queued] == [("queued", "res@example.org")]
    assert mail.send_due(loaded, _settings(port)) == {"sent": 1, "retried": 0, "failed": 0}
    (to, message), = inbox.messages
    assert to == ["res@example.org"] and message["Subject"] == f"{pin_id} published gd"
    body = message.get_content()
    assert "Passed to street lighting" in body and "names a neighbour" not in body
    token = body.split("/pins/follow/")[1].split()[0]
    progress = F.followed(loaded, token)  # the emailed link opens the same pin
    assert progress["id"] == pin_id and progress["status"] == "published"
    assert [(st["decision"], st["public_note"]) for st in progress["steps"]] == [
        ("hide", "Please report this by phone"), ("publish", "Passed to street lighting")]
    assert "reason" not in progress["steps"][0] and "moderator" not in progress["steps"][0]
    sent, = loaded.outbox(pin_id)
    assert sent["status"] == "sent" and sent["attempts"] == 1
    assert mail.send_due(loaded, _settings(port)) == {"sent": 0, "retried": 0, "failed": 0}


def test_a_failing_server_is_retried_then_given_up_with_the_error(loaded):
    refusing = Inbox(refuse=True)
    controller = Controller(refusing, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        pin_id = _pin(loaded)
        F.new_follow(loaded, pin_id, "res@example.org")
        F.decide_and_notify(loaded, pin_id, "resolve", "morag", "", "", _letter)
        smtp = _settings(controller.port, max_attempts=2, retry_s=60)
        now = datetime.now(UTC)
        assert mail.send_due(loaded, smtp, now) == {"sent": 0, "retried": 1, "failed": 0}
        # Not due again until 60 s later (the first wait), then the second attempt gives up.
        assert mail.send_due(loaded, smtp, now + timedelta(seconds=30))["retried"] == 0
        assert mail.send_due(loaded, smtp, now + timedelta(seconds=61)) == {
            "sent": 0, "retried": 0, "failed": 1}
    finally:
        controller.stop()
    failed, = loaded.outbox(pin_id)
    assert failed["status"] == "failed" and failed["attempts"] == 2
    assert "451" in failed["last_error"]
    # Nothing listening at all: recorded as a connection failure, moderation unaffected.
    F.decide_and_notify(loaded, pin_id, "publish", "morag", "", "", _letter)
    counts = mail.send_due(loaded, _settings(_free_port()))
    assert counts == {"sent": 0, "retried": 1, "failed": 0}
    assert "connecting" in loaded.outbox(pin_id)[-1]["last_error"]
    assert loaded.pin(pin_id)["status"].iloc[0] == "published"


def _mail_app(sample_db, tmp_path, port: int):
    db = tmp_path / "capmap.sqlite"
    shutil.copy(sample_db, db)
    return create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                       "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                       "INSTANCE_PATH": str(tmp_path / "instance"), "SMTP_HOST": "127.0.0.1",
                       "SMTP_PORT": port, "SMTP_STARTTLS": False, "MAIL_SEND_EVERY_S": 0})


def _pin_form(app, contact: str = "not an address") -> dict:
    with app.app_context():
        engine = get_engine()
        lon, lat, _ = P.neighbourhood_place(engine, P.neighbourhood_choices(engine)[0][0])
    return {"lon": lon, "lat": lat, "category": "street_lighting", "description": "Lamp out",
            "contact": contact, "updates": "1"}


def _followed_pin(app, answer) -> int:
    page = answer.get_data(as_text=True)
    url = page.split('id="follow-link" type="text" readonly value="')[1].split('"')[0]
    return app.extensions["capmap_store"].followed_pin(F.token_hash(url.rsplit("/", 1)[1]))


def test_the_follow_page_over_the_web(sample_db, tmp_path, smtp_server):
    """Drop a pin asking for email, open its link, see the moderator's decision there, and
    get the email: the journey of the browser test, without a browser."""
    inbox, port = smtp_server
    app = _mail_app(sample_db, tmp_path, port)
    client = app.test_client()
    hood = app.test_client().get("/pins").get_data(as_text=True)
    assert 'name="updates"' in hood
    form = _pin_form(app)
    refused = client.post("/pins", data=form)
    assert refused.status_code == 422 and "expected something like" in refused.get_data(as_text=True)
    answer = client.post("/pins", data={**form, "contact": "res@example.org"})
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    page = answer.get_data(as_text=True)
    url = page.split('id="follow-link" type="text" readonly value="')[1].split('"')[0]
    path = url.split("localhost", 1)[-1]
    followed = client.get(path)
    assert followed.status_code == 200
    assert followed.headers["Cache-Control"] == "no-store"
    assert "noindex" in followed.headers["X-Robots-Tag"]
    assert followed.headers["Referrer-Policy"] == "no-referrer"
    text = followed.get_data(as_text=True)
    assert "waiting for a moderator" in text and "res@example.org" not in text
    store = app.extensions["capmap_store"]
    pin_id = store.followed_pin(F.token_hash(path.rsplit("/", 1)[1]))
    moderator = logged_in(app, "morag", ["moderator"])
    decided = moderator.post(f"/moderate/pins/{pin_id}", data={
        "decision": "publish", "public_note": "Sent to the lighting team", "back": "pin"})
    assert decided.status_code == 303
    text = client.get(path).get_data(as_text=True)
    assert "on the public map" in text and "Sent to the lighting team" in text
    assert "morag" not in text
    with app.app_context():
        assert mail.send_due(store, smtp_settings(app.config))["sent"] == 1
    (to, message), = inbox.messages
    assert to == ["res@example.org"]
    assert message["Subject"] == f"Your report {pin_id}: on the public map"
    body = message.get_content().splitlines()
    assert body[:5] == [f"Your report {pin_id} is now on the public map.", "",
                        "The moderator's note:", "Sent to the lighting team", ""]
    assert body[5] == "Follow it, and see the plans and actions that cover the spot, at"
    assert body[6].startswith("http://localhost/pins/follow/") and body[6].endswith("?lang=en")
    assert client.get("/pins/follow/" + "x" * 43).status_code == 404
    store.close()


def test_each_follower_is_written_to_in_their_own_language(sample_db, tmp_path, smtp_server):
    """A resident who followed in Gaelic gets Gaelic, one who followed in English gets English,
    whatever language the moderator reads; each link opens in its follower's language."""
    inbox, port = smtp_server
    app = _mail_app(sample_db, tmp_path, port)
    gaelic = _followed_pin(app, app.test_client().post(
        "/pins?lang=gd", data=_pin_form(app, "ceit@example.org")))
    english = _followed_pin(app, app.test_client().post(
        "/pins", data=_pin_form(app, "kate@example.org")))
    moderator = logged_in(app, "morag", ["moderator"])
    for pin_id in (gaelic, english):
        decided = moderator.post(f"/moderate/pins/{pin_id}?lang=gd", data={
            "decision": "resolve", "public_note": "Chaidh an lampa a chàradh", "back": "pin"})
        assert decided.status_code == 303
    with app.app_context():
        assert mail.send_due(app.extensions["capmap_store"], smtp_settings(app.config))["sent"] == 2
    letters = {to[0]: message for to, message in inbox.messages}
    ceit, kate = letters["ceit@example.org"], letters["kate@example.org"]
    assert ceit["Subject"] == f"D’ aithris {gaelic}: fuasgailte"
    body = ceit.get_content().splitlines()
    assert body[0] == f"Tha d’ aithris {gaelic} fuasgailte a-nis."
    assert body[2:4] == ["Nòta a’ mhodaratair:", "Chaidh an lampa a chàradh"]
    assert body[6].endswith("?lang=gd")
    opened = app.test_client().get(body[6].split("localhost", 1)[1])
    assert opened.status_code == 200 and '<html lang="gd"' in opened.get_data(as_text=True)
    assert kate["Subject"] == f"Your report {english}: resolved"
    assert kate.get_content().splitlines()[0] == f"Your report {english} is now resolved."
    app.extensions["capmap_store"].close()


def test_the_latest_language_of_an_address_is_the_one_written_in(loaded):
    pin_id = _pin(loaded)
    F.new_follow(loaded, pin_id, "b@example.org")  # followed before languages were kept
    F.new_follow(loaded, pin_id, "a@example.org", "en")
    F.new_follow(loaded, pin_id, "a@example.org", "gd")
    F.new_follow(loaded, pin_id, None, "en")  # a link with no address
    assert loaded.follow_emails(pin_id) == {"a@example.org": "gd", "b@example.org": None}


def test_upgrade_to_15_keeps_follows_without_a_language(loaded):
    pin_id = _pin(loaded)
    token = F.new_follow(loaded, pin_id, "res@example.org")
    rewind(loaded, 14)
    assert "lang" not in {c["name"] for c in sa.inspect(loaded.engine).get_columns("pin_follows")}
    assert loaded.upgrade() == [15]
    assert loaded.follow_emails(pin_id) == {"res@example.org": None}
    assert F.followed(loaded, token)["id"] == pin_id


def test_upgrade_to_11_adds_follows_outbox_and_public_notes(store):
    rewind(store, 6)
    inspector = sa.inspect(store.engine)
    assert "pin_follows" not in inspector.get_table_names()
    assert 11 in store.upgrade()
    assert store.upgrade() == []  # and again: nothing left to do
    inspector = sa.inspect(store.engine)
    assert {"pin_follows", "mail_outbox"} <= set(inspector.get_table_names())
    assert "public_note" in {c["name"] for c in inspector.get_columns("pin_decisions")}
