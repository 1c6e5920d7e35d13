"""`capmap serve`: the worker timeout is a setting, passed to gunicorn."""

from __future__ import annotations

from pathlib import Path

from tests.servers import Browser, gunicorn


def _arguments(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def test_the_worker_timeout_comes_from_configuration(tmp_path, sample_db):
    url = f"sqlite:///{sample_db}"
    with gunicorn(url, tmp_path, workers=1) as server:
        args = _arguments(server.process.pid)
        assert args[args.index("--timeout") + 1] == "30"  # the default
        assert Browser(server.url).request("/health/live").status == 200
    with gunicorn(url, tmp_path, workers=1, WORKER_TIMEOUT="75") as server:
        args = _arguments(server.process.pid)
        assert args[args.index("--timeout") + 1] == "75"
        assert Browser(server.url).request("/health").status == 200
