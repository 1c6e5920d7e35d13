"""Browser fixtures: capmap served live on 127.0.0.1 and Debian's Chromium driven by Playwright.

Browser tests skip with the reason when Playwright or Chromium is missing, and fail instead when
CAPMAP_REQUIRE_BROWSER is set (CI sets it), as PostGIS tests do with CAPMAP_REQUIRE_POSTGIS. No
browser is ever downloaded: Playwright launches the system Chromium (CAPMAP_CHROMIUM, default
/usr/bin/chromium). Every page records each request it makes; a request to any host but 127.0.0.1
is aborted and fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from capmap.core.passwords import hash_password
from capmap.storage import open_store
from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("CAPMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_HOST = "127.0.0.1"
# High enough for every pin the suite posts from 127.0.0.1, low enough to stay a real limit.
PIN_RATE_LIMIT = "20 per minute"
TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> None:
    """Skip with the reason, or fail when CAPMAP_REQUIRE_BROWSER is set."""
    if os.environ.get("CAPMAP_REQUIRE_BROWSER"):
        pytest.fail(reason + " (CAPMAP_REQUIRE_BROWSER is set)")
    pytest.skip(reason)


@dataclass
class LiveServer:
    """capmap served in a thread: its base URL, its Flask app and its database URL."""

    url: str
    app: object
    database_url: str
    users: set[str] = field(default_factory=set)

    def add_user(self, username: str, roles: list[str]) -> str:
        """Create an account (password PASSWORD) once; its username."""
        if username not in self.users:
            store = open_store(self.database_url)
            try:
                store.add_user(username, hash_password(PASSWORD), roles)
            finally:
                store.close()
            self.users.add(username)
        return username


@pytest.fixture(scope="session")
def live_server(sample_db, tmp_path_factory) -> Iterator[LiveServer]:
    """capmap on 127.0.0.1 (a free port) over a private copy of the sample data, with CSRF on."""
    from app import create_app

    folder = tmp_path_factory.mktemp("live")
    url = sample_copy(sample_db, folder)
    app = create_app(live_config(url, folder))
    with serving(app) as base:
        yield LiveServer(base, app, url)


def sample_copy(sample_db: Path, folder: Path) -> str:
    """The URL of a private copy of the sample database in `folder`."""
    db = folder / "capmap.sqlite"
    shutil.copy(sample_db, db)
    return f"sqlite:///{db}"


def live_config(url: str, folder: Path) -> dict:
    """The app settings of a browser-test server: no tiles, CSRF on, its own instance folder."""
    return {"DATABASE_URL": url, "TILES_URL": "", "SECRET_KEY": "browser-test-secret",
            "WTF_CSRF_ENABLED": True, "INSTANCE_PATH": str(folder / "instance"),
            "PIN_RATE_LIMIT": PIN_RATE_LIMIT,
            # Each journey asks for many planscapes and exports from one address.
            "QUERY_RATE_LIMIT": "100000 per minute"}


@contextmanager
def serving(app) -> Iterator[str]:
    """`app` served from a thread on a free port of 127.0.0.1: its base URL. Afterwards the
    server is stopped and the app's store closed."""
    server = make_server(LOCAL_HOST, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="capmap-live", daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        if "capmap_store" in app.extensions:
            app.extensions["capmap_store"].close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless Debian Chromium, launched once per run."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    manager = sync_playwright().start()
    try:
        chromium = manager.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    except Error as exc:
        manager.stop()
        _unavailable(f"Chromium at {CHROMIUM} did not start: {str(exc).splitlines()[0]}")
    yield chromium
    chromium.close()
    manager.stop()


@dataclass
class Traffic:
    """What a page asked for: every URL, the ones refused for leaving 127.0.0.1, and browser
    errors (console errors, uncaught exceptions, dialogs)."""

    requests: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)

    def expect_error(self, text: str) -> None:
        """Let console errors containing `text` pass (an answer the test provokes on purpose)."""
        self.expected.append(text)

    def console(self, message) -> None:
        """Keep a console error, unless expected or about the favicon (capmap has none)."""
        if message.type != "error":
            return
        source = (message.location or {}).get("url", "")
        if source.endswith("/favicon.ico") or any(e in message.text for e in self.expected):
            return
        self.errors.append(f"console: {message.text} ({source})")


def _is_local(url: str) -> bool:
    """True for 127.0.0.1 and for URLs that make no network request (data:, blob:, about:)."""
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname == LOCAL_HOST


@pytest.fixture
def traffic() -> Traffic:
    """The record of the test's page traffic."""
    return Traffic()


def new_page(browser, traffic: Traffic, **context_args):
    """A page in a fresh context that records traffic into `traffic` and aborts foreign requests."""
    context = browser.new_context(**context_args)
    context.set_default_timeout(TIMEOUT_MS)

    def guard(route) -> None:
        """Let 127.0.0.1 through; refuse and record anything else."""
        url = route.request.url
        if _is_local(url):
            route.continue_()
        else:
            traffic.foreign.append(url)
            route.abort("blockedbyclient")

    context.route(re.compile(r".*"), guard)
    page = context.new_page()
    page.on("request", lambda request: traffic.requests.append(request.url))
    page.on("console", traffic.console)
    page.on("pageerror", lambda exc: traffic.errors.append(f"uncaught: {exc}"))

    def dismiss(dialog) -> None:
        """Record and close any alert, confirm or prompt."""
        traffic.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", dismiss)
    return page


@pytest.fixture
def page(browser, live_server, traffic) -> Iterator[object]:
    """A fresh page (its own cookies) that fails the test if it requests a host other than
    127.0.0.1, opens a dialog, or hits a script error or a Content-Security-Policy refusal."""
    page = new_page(browser, traffic, base_url=live_server.url, viewport={"width": 1280, "height": 900})
    yield page
    page.context.close()
    problems = []
    if traffic.foreign:
        problems.append(f"requests left 127.0.0.1: {traffic.foreign}")
    if traffic.dialogs:
        problems.append(f"dialogs opened: {traffic.dialogs}")
    if traffic.errors:
        problems.append(f"browser errors: {traffic.errors}")
    if problems:
        pytest.fail("; ".join(problems))


def log_in(page, live_server: LiveServer, username: str, roles: list[str]) -> None:
    """Create the account if needed and log in through the real login form."""
    live_server.add_user(username, roles)
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("button", name=f"Log out {username}").is_visible()
