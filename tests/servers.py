"""Real servers for fault tests: capmap under gunicorn as `capmap serve` runs it, a private
PostgreSQL cluster that a test may stop and start, and a browser-like HTTP client with cookies."""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, build_opener

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Only a deadline for a server that never comes up; no test asserts on time.
START_DEADLINE_S = 90


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Answer:
    """An HTTP answer: status, headers and body text."""

    status: int
    headers: dict
    text: str


class Browser:
    """An HTTP client with its own cookies (its own session), like one resident's browser."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()))

    def request(self, path: str, form: dict | None = None, timeout: float = 20) -> Answer:
        """GET `path`, or POST `form` to it; HTTP errors are answers too."""
        data = urlencode(form).encode() if form is not None else None
        try:
            with self.opener.open(self.base + path, data, timeout=timeout) as response:
                return Answer(response.status, dict(response.headers), response.read().decode())
        except HTTPError as exc:
            return Answer(exc.code, dict(exc.headers), exc.read().decode())

    def csrf_token(self, path: str = "/pins") -> str:
        """The CSRF token of the form at `path` (bound to this client's session cookie)."""
        page = self.request(path).text
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@dataclass
class Gunicorn:
    """capmap served by gunicorn in its own process group (master and workers)."""

    url: str
    process: subprocess.Popen
    log: Path

    def workers(self) -> set[int]:
        """Process ids of the master's worker processes."""
        pids = set()
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # the parent pid
                pids.add(int(Path(stat).parent.name))
        return pids

    def kill(self) -> None:
        """SIGKILL the whole process group: master and workers die at once, mid-request."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """A clean stop (SIGTERM), then SIGKILL if it lingers."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def gunicorn(database_url: str, folder: Path, workers: int = 2, **settings: str) -> Iterator[Gunicorn]:
    """`capmap --db URL serve --workers N` on a free port, with CAPMAP_<settings> in its
    environment and its instance folder in `folder`; stopped on exit."""
    port = free_port()
    env = {**os.environ, "CAPMAP_INSTANCE_PATH": str(folder / "instance"), "CAPMAP_TILES_URL": "",
           **{f"CAPMAP_{key}": value for key, value in settings.items()}}
    env.pop("CAPMAP_DATABASE_URL", None)
    log = folder / f"gunicorn-{port}.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from capmap.cli import main; main()", "--db", database_url,
             "serve", "--port", str(port), "--workers", str(workers)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Gunicorn(f"http://127.0.0.1:{port}", process, log)
    try:
        _wait_until_up(server, workers)
        yield server
    finally:
        server.stop()


def _wait_until_up(server: Gunicorn, workers: int) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.process.returncode}:\n{server.log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])), 1):
                if len(server.workers()) == workers:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not come up:\n{server.log.read_text()}")


def require(reason: str) -> None:
    """Skip with the reason, or fail when CAPMAP_REQUIRE_POSTGIS is set (as in CI)."""
    if os.environ.get("CAPMAP_REQUIRE_POSTGIS"):
        pytest.fail(reason + " (CAPMAP_REQUIRE_POSTGIS is set)")
    pytest.skip(reason)


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries (CAPMAP_PG_BIN, else /usr/lib/postgresql/*/bin)."""
    given = os.environ.get("CAPMAP_PG_BIN")
    found = [Path(given)] if given else sorted(
        (Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    return next((p for p in found if (p / "initdb").exists() and (p / "pg_ctl").exists()), None)


@dataclass
class PrivatePostgres:
    """A PostgreSQL cluster of this test alone: stop and start it at will."""

    bin: Path
    data: Path
    port: int
    as_user: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/capmap"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = (f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), "-o", options,
                  "-l", str(self.data / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Stop at once, as a crash or a pulled plug would (`pg_ctl stop -m immediate`)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), "-m", "immediate",
                  "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """initdb a cluster in a temporary folder, start it on a free port and create the `capmap`
    database with PostGIS. Run as the `postgres` user when we are root (PostgreSQL refuses
    root). Skips when PostgreSQL is not installed (fails under CAPMAP_REQUIRE_POSTGIS)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        require("PostgreSQL server binaries (initdb, pg_ctl) not found under /usr/lib/postgresql")
    as_user: list[str] = []
    data = Path(tempfile.mkdtemp(prefix="capmap-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(data)
            require("running as root and there is no postgres user to run a private cluster as")
        os.chown(data, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    cluster = PrivatePostgres(bin_dir, data, free_port(), as_user)
    try:
        cluster._run(str(bin_dir / "initdb"), "-D", str(data / "db"), "-U", "postgres",
                     "--auth=trust", "-E", "UTF8", "--no-sync")
        cluster.start()
        subprocess.run([str(bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U",
                        "postgres", "-qc", "CREATE DATABASE capmap"], check=True, capture_output=True)
        yield cluster
    finally:
        try:
            cluster.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def redis_url(required: bool = True) -> Iterator[str | None]:
    """A Redis to share rate limits in: CAPMAP_TEST_REDIS_URL (default the local one on 6379), else
    a private redis-server on a free port. None when not `required`."""
    if not required:
        yield None
        return
    try:
        import redis
    except ImportError:
        require("the redis package is not installed (pip install capmap[redis])")
    url = os.environ.get("CAPMAP_TEST_REDIS_URL", "redis://127.0.0.1:6379")
    if _redis_answers(redis, url):
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        require(f"Redis not reachable at {url} and no redis-server to start (apt-get install redis-server)")
    port = free_port()
    process = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_DEADLINE_S
        while not _redis_answers(redis, url):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server on port {port} did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def _redis_answers(redis, url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False
