"""Answering costly planscape queries in a child process held to a CPU and wall-clock limit.

A drawn or uploaded polygon can be made costly to overlay while staying inside the geometry
budgets (capmap.core.budgets): thousands of holes cut across many plans. Computed in a web worker, it
would hold that worker until gunicorn killed it. So a QueryProcess keeps one long-lived child
with its own store and Engine, loaded once and reloaded when the store's versions move (read on
every query: the child sees every write the worker has made), and sends it each polygon query as
WKB. The worker waits at most `wall_seconds` for the overlay, and the child has RLIMIT_CPU
`cpu_seconds` past what it had used before that query; a child over either limit, or out of
memory, is killed and replaced, and the caller gets QueryTooCostly (503, try later).

Loading the engine (at start, or after an import) is not counted in the query's limits: the child
says when it is loaded, then starts the query's clock. Children come from the upload reader's
fork server (capmap.io.isolated): a clean interpreter with capmap imported, not a copy of the
worker's connections and caches.
"""

from __future__ import annotations

import logging
import math
import resource
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import shapely

from capmap.core.errors import CapmapError, QueryTooCostly
from capmap.io import isolated
from capmap.services.queries import Query
from capmap.spatial.slivers import SliverTolerance

log = logging.getLogger(__name__)

MB = 1024 * 1024
PLANSCAPE, OVERLAPS = "planscape", "overlaps"
_LOAD_SECONDS = 120.0  # loading the national layers and plans on a loaded machine
_EXIT_SECONDS = 2.0


@dataclass(frozen=True)
class QueryLimits:
    """Bounds on one query: wall-clock seconds the worker waits, CPU seconds the child may spend,
    and memory (MB) the child may add to its size once loaded."""

    wall_seconds: float = 5.0
    cpu_seconds: int = 5
    memory_mb: int = 2048


def too_costly(limits: QueryLimits, why: str) -> QueryTooCostly:
    return QueryTooCostly(f"this area took too long to work out ({why}); draw a simpler area, "
                          "with fewer holes, parts or corners, or ask about the neighbourhoods "
                          "it covers, and try again")


class QueryProcess:
    """One child answering planscape and overlap queries for one app, one query at a time
    (threads wait their turn, within the wall-clock limit). Started on first use; `close` ends it."""

    def __init__(self, database_url: str, neighbourhood_layer: str | None,
                 limits: QueryLimits) -> None:
        self.database_url = database_url
        self.neighbourhood_layer = neighbourhood_layer
        self.limits = limits
        self._lock = threading.Lock()
        self._child = None
        self._conn: Connection | None = None

    def planscape(self, query: Query, slivers: SliverTolerance, pin_statuses: tuple[str, ...]) -> dict:
        """capmap.services.planscape.planscape on the child's engine and store."""
        return self._ask(PLANSCAPE, query, slivers, pin_statuses)

    def overlaps(self, query: Query, slivers: SliverTolerance):
        """capmap.services.search.overlaps_frame on the child's engine."""
        return self._ask(OVERLAPS, query, slivers)

    def _ask(self, what: str, query: Query, slivers: SliverTolerance,
             pin_statuses: tuple[str, ...] = ()) -> Any:
        if not self._lock.acquire(timeout=self.limits.wall_seconds):
            raise too_costly(self.limits, "the server was busy with other areas")
        try:
            if self._child is None or not self._child.is_alive():
                self._start()
            request = (what, shapely.to_wkb(query.geometry), query.kind, dict(query.described),
                       (slivers.max_share, slivers.max_width_m), tuple(pin_statuses))
            self._conn.send(request)
            if not self._conn.poll(_LOAD_SECONDS) or self._receive() != ("loaded",):
                self._stop()
                raise CapmapError("the planscape could not load its data; try again shortly")
            if not self._conn.poll(self.limits.wall_seconds):
                self._stop()
                raise too_costly(self.limits, f"over {self.limits.wall_seconds:g} s")
            message = self._receive()
        finally:
            self._lock.release()
        return self._answer(message)

    def _answer(self, message: tuple | None) -> Any:
        if message is None:  # killed at its CPU limit, or crashed
            exitcode = self._child.exitcode if self._child is not None else None
            self._stop()
            log.warning("the query child ended without answering (exit %s)", exitcode)
            raise too_costly(self.limits, f"over {self.limits.cpu_seconds} s of computing")
        kind, value = message
        if kind == "ok":
            return value
        if kind == "error":
            raise value
        if kind == "memory":
            self._stop()
            raise too_costly(self.limits, f"over {self.limits.memory_mb:,} MB of memory")
        log.error("a planscape query failed in the query child: %s", value)
        raise CapmapError("the planscape could not be worked out for this area")

    def _receive(self) -> tuple | None:
        try:
            return self._conn.recv()
        except (EOFError, OSError):
            return None

    def _start(self) -> None:
        self._stop()
        mine, theirs = isolated.pipe()
        child = isolated.process(_serve, (theirs, self.database_url, self.neighbourhood_layer,
                                          self.limits), "capmap-query")
        child.start()
        theirs.close()
        self._child, self._conn = child, mine

    def _stop(self) -> None:
        child, conn = self._child, self._conn
        self._child = self._conn = None
        if conn is not None:
            conn.close()  # an idle child reads the end of its input and exits
        if child is not None:
            child.join(0 if child.exitcode is not None else 0.05)
            if child.is_alive():
                child.kill()
            child.join(_EXIT_SECONDS)

    def close(self) -> None:
        """End the child (a later query starts another)."""
        with self._lock:
            self._stop()


# -- in the child -------------------------------------------------------------------------------

def _serve(conn: Connection, database_url: str, neighbourhood_layer: str | None,
           limits: QueryLimits) -> None:
    from capmap.services.engine import Engine
    from capmap.storage import open_store

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    store = open_store(database_url)
    # Versions read on every query: one small read, and no answer from before the worker's write.
    engine = Engine(store, neighbourhood_layer, check_every=0.0)
    _load(engine)
    cap = isolated.vm_kib("VmSize") * 1024 + limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (cap, resource.RLIM_INFINITY))
    try:
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):
                return
            _load(engine)
            conn.send(("loaded",))
            _limit_cpu(limits.cpu_seconds)
            conn.send(_answered(engine, store, request))
    finally:
        store.close()


def _load(engine) -> None:
    """The engine's current layers and plans, read now (not counted in a query's limits)."""
    try:
        engine.plans()
        engine.neighbourhoods()
    except CapmapError:
        pass  # the query itself will meet the error and report it


def _limit_cpu(seconds: int) -> None:
    """SIGXCPU (which ends the child) once it has computed `seconds` more from now."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    resource.setrlimit(resource.RLIMIT_CPU, (used + seconds, resource.RLIM_INFINITY))


def _answered(engine, store, request: tuple) -> tuple:
    from capmap.services.planscape import planscape
    from capmap.services.search import overlaps_frame

    what, wkb, kind, described, (max_share, max_width_m), pin_statuses = request
    query = Query(shapely.from_wkb(wkb), kind, described)
    slivers = SliverTolerance(max_share, max_width_m)
    try:
        if what == PLANSCAPE:
            return ("ok", planscape(engine, store, query, slivers, pin_statuses))
        return ("ok", overlaps_frame(engine, query, slivers))
    except MemoryError:
        return ("memory", None)
    except CapmapError as exc:
        return ("error", exc)
    except Exception as exc:  # noqa: BLE001 - every failure must reach the worker as a message
        return ("failed", f"{type(exc).__name__}: {str(exc)[:300]}")


__all__ = ["OVERLAPS", "PLANSCAPE", "QueryLimits", "QueryProcess"]
