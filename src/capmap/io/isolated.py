"""Running the reading of an untrusted upload in a child process held to limits.

A hostile file can make a parser ask for gigabytes, spin for minutes or crash outright. The web
routes therefore read uploads (GDAL, and the geometry work on what was read) in a child process
with a memory cap (RLIMIT_AS, counted from the child's size at start), a CPU-time cap
(RLIMIT_CPU), a cap on the size of any file it writes (RLIMIT_FSIZE) and a wall-clock timeout.
The child's result comes back pickled over a pipe; a child that fails, is killed or dies becomes
a CapmapError naming the limit, and the caller stores nothing.

Children come from multiprocessing's "forkserver": a clean interpreter, started once per process
with the readers imported, that forks one child per upload. A web worker starts it as its app is
made (`prestart`), so no upload waits for it. A plain fork of a web worker would
copy its database connections, its caches (so the cap would have to count them) and any locks
other threads hold; a fresh interpreter per upload ("spawn") pays 1.5 to 2.5 s of imports each time.

This isolates resources, not privileges: the child runs as the same user.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import re
import resource
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from capmap.core.errors import CapmapError, DiskFull, InputError, TooLarge, ValidationError, is_disk_full

log = logging.getLogger(__name__)

MB = 1024 * 1024
# Imported once by the fork server, so each child starts with the readers already loaded.
PRELOAD = ["capmap.services.uploads", "capmap.services.search"]
STDERR_NAME = ".reader-stderr"
_M_ARENA_MAX = -8  # glibc's mallopt parameter
_EXIT_SECONDS = 5.0
_START_SECONDS = 120.0
_warm_lock = threading.Lock()
# What a memory failure looks like when it surfaces as text (GDAL, GEOS, the C++ runtime).
_MEMORY_WORDS = ("memoryerror", "bad_alloc", "out of memory", "not enough memory",
                 "cannot allocate memory", "failed to allocate", "malloc")
NO_ROOM_TO_READ = ("the server has no room left on its disk to unpack and read the file; nothing "
                   "was kept. Try again later, or ask the site's operator to free some space")
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/[^\s'\",;:()]+")


@dataclass(frozen=True)
class ChildLimits:
    """Bounds on one child: memory it may add to its start-up size, CPU seconds, wall seconds,
    and the largest file it may write."""

    memory_mb: int = 1024
    cpu_seconds: int = 20
    wall_seconds: float = 25.0
    file_mb: int = 512


@dataclass(frozen=True)
class Outcome:
    """A child's result and what it cost: peak memory above its start-up size, and seconds."""

    value: Any
    peak_mb: float
    seconds: float


_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)
_warming: threading.Thread | None = None


def prestart() -> threading.Thread:
    """Start this process's fork server now, in the background: its interpreter and the PRELOAD
    imports (1.5 to 2.5 s idle, far more on a loaded machine), then one idle child through it. A
    web worker calls this as its app is made, so its first upload pays none of that. Once per
    process; the thread it runs in is returned (join it to wait until the reader is ready)."""
    global _warming
    with _warm_lock:
        if _warming is None:
            _warming = threading.Thread(target=_warm, name="capmap-reader-start", daemon=True)
            _warming.start()
    return _warming


def _warm() -> None:
    try:
        child = _context.Process(target=_idle, name="capmap-reader-start", daemon=True)
        child.start()
        child.join(_START_SECONDS)
    except Exception as exc:  # noqa: BLE001 - the first upload will start it, and say why
        log.warning("the upload reader did not start ahead of time: %s", exc)


def _idle() -> None:
    """The warm-up child's work: none."""


def pipe() -> tuple[Connection, Connection]:
    """A two-way pipe for a child made by `process`."""
    return _context.Pipe(duplex=True)


def process(target: Callable[..., None], args: tuple, name: str):
    """A daemon child of this process's fork server (not started), running target(*args)."""
    return _context.Process(target=target, args=args, name=name, daemon=True)


def run(call: Callable[[], Any], *, name: str, folder: Path, limits: ChildLimits) -> Outcome:
    """call() in a child process held to `limits`, with `folder` (private to this upload) as its
    temporary directory; `call` is a module-level function or a functools.partial of one.

    A CapmapError in the child is raised here; a child over a limit, killed or crashed raises
    TooLarge or ValidationError naming `name` and the limit."""
    start = time.perf_counter()
    receive, send = _context.Pipe(duplex=False)
    child = _context.Process(target=_child, args=(send, call, limits, str(folder)),
                             name="capmap-reader", daemon=True)
    child.start()
    send.close()
    timed_out = not receive.poll(limits.wall_seconds)
    try:
        message = None if timed_out else _receive(receive)
    finally:
        receive.close()
        if message is not None:
            child.join(_EXIT_SECONDS)  # it has answered; give it a moment to exit by itself
        if child.is_alive():
            child.kill()
        child.join()
    seconds = time.perf_counter() - start
    if message is None:
        if timed_out:
            raise TooLarge(f"{name}: reading it took longer than {limits.wall_seconds:g} s; "
                           "the limit was reached and reading was stopped")
        raise _death(name, child.exitcode, _stderr_tail(folder), limits)
    kind, value, peak_mb = message
    log.info("read %s in a child: %s, peak %.0f MB above start, %.2f s", name, kind, peak_mb,
             seconds)
    if kind == "ok":
        return Outcome(value, peak_mb, seconds)
    if kind == "memory":
        raise _too_much_memory(name, limits)
    if kind == "error":
        raise value
    log.error("reading %s failed unexpectedly in the child: %s", name, value)
    # Never show a path on this machine (the upload's folder is in most such messages).
    shown = _ABSOLUTE_PATH.sub("<path>", value.replace(str(folder), "."))
    raise ValidationError(f"{name} could not be read: {shown}")


def _receive(conn: Connection) -> tuple | None:
    """The child's message, or None when it died before sending one."""
    try:
        return conn.recv()
    except (EOFError, OSError):
        return None


def _too_much_memory(name: str, limits: ChildLimits) -> TooLarge:
    return TooLarge(f"{name}: the file needs more than {limits.memory_mb:,} MB of memory to read; "
                    "the limit was reached and reading was stopped")


def _death(name: str, exitcode: int | None, stderr: str, limits: ChildLimits) -> CapmapError:
    """The error for a child that ended without answering."""
    if exitcode == -signal.SIGXCPU:
        return TooLarge(f"{name}: reading it needed more than {limits.cpu_seconds} s of CPU "
                        "time; the limit was reached and reading was stopped")
    if _about_memory(stderr):
        return _too_much_memory(name, limits)
    how = _signal_name(exitcode)
    log.error("the reader of %s ended with %s; its last output: %s", name, how, stderr[-500:])
    return ValidationError(f"{name} could not be read: the reader stopped ({how}), as it does "
                           "on a damaged or hostile file; nothing was stored")


def _about_memory(text: str) -> bool:
    lowered = text.lower()
    return any(word in lowered for word in _MEMORY_WORDS)


def _signal_name(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal {-exitcode}"
    return f"exit status {exitcode}"


def _stderr_tail(folder: Path) -> str:
    try:
        with (folder / STDERR_NAME).open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 4096))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


# -- in the child -------------------------------------------------------------------------------

def vm_kib(field: str) -> int:
    """A VmXxx line of /proc/self/status, in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _hold_to(limits: ChildLimits, folder: str) -> int:
    """Apply the limits to this process; its address-space size at start, in KiB."""
    # Messages from C libraries go to a file the parent reads if the child dies (bounded below).
    err = os.open(os.path.join(folder, STDERR_NAME), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(err, 2)
    os.close(err)
    # Temporary files (an unpacked shapefile) go in the upload's private folder.
    os.environ["TMPDIR"] = os.environ["CPL_TMPDIR"] = folder
    tempfile.tempdir = folder
    # A write past RLIMIT_FSIZE then fails with EFBIG instead of killing the child silently.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_mb * MB, limits.file_mb * MB))
    # SIGXCPU at the soft limit (it kills: no handler runs inside C code), SIGKILL 1 s later.
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    # One malloc arena: threads the child starts (the OSTN15 transformation runs a thread pool)
    # would otherwise each reserve 64 MB of address space that the cap would count.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 1)
    start_kib = vm_kib("VmSize")
    cap = start_kib * 1024 + limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    return start_kib


def _failure(exc: Exception, peak_mb: float) -> tuple:
    """The message for a call that raised `exc`."""
    if is_disk_full(exc):  # the upload's folder filled up while unpacking or converting
        return ("error", DiskFull(NO_ROOM_TO_READ), peak_mb)
    if isinstance(exc, CapmapError):
        # A reader's message may report that GDAL or GEOS ran out of memory under the cap.
        memory = not isinstance(exc, TooLarge) and _about_memory(exc.message)
        return ("memory", None, peak_mb) if memory else ("error", exc, peak_mb)
    text = f"{type(exc).__name__}: {str(exc)[:200]}"
    return ("memory" if _about_memory(text) else "failed", text, peak_mb)


def _child(conn: Connection, call: Callable[[], Any], limits: ChildLimits, folder: str) -> None:
    start_kib = _hold_to(limits, folder)

    def peak_mb() -> float:
        return (vm_kib("VmPeak") - start_kib) / 1024

    try:
        message: tuple = ("ok", call(), peak_mb())
    except MemoryError:
        message = ("memory", None, peak_mb())
    except Exception as exc:  # noqa: BLE001 - every failure must reach the parent as a message
        message = _failure(exc, peak_mb())
    try:
        conn.send(message)
    except MemoryError:
        conn.send(("memory", None, peak_mb()))
    except Exception as exc:  # noqa: BLE001 - an error that does not pickle still gets through
        conn.send(("error", InputError(str(getattr(exc, "message", exc))[:300]), peak_mb()))
    finally:
        conn.close()


__all__ = ["ChildLimits", "Outcome", "pipe", "prestart", "process", "run", "vm_kib"]
