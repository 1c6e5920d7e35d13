"""Polygon queries (drawn, uploaded, posted) answered where a CPU limit applies.

Such a query can cost seconds of overlay however well it keeps to the geometry budgets, so it is
computed in this app's query child (capmap.services.query_process), and a query over QUERY_TIMEOUT_S or
QUERY_CPU_SECONDS answers 503 with Retry-After while the worker goes on serving. Points and
lists of codes are areas the site already holds, of bounded cost: they are answered here.
QUERY_ISOLATION = False computes everything in the worker (development only: nothing bounds it).
"""

from __future__ import annotations

import threading
import weakref

from flask import Flask, current_app

from app.store import get_policy
from capmap.services.engine import Engine
from capmap.services.planscape import Query, planscape
from capmap.services.query_process import QueryLimits, QueryProcess
from capmap.services.search import overlaps_frame
from capmap.spatial.slivers import SliverTolerance
from capmap.storage import Store

_KEY = "capmap_query_process"
_start_lock = threading.Lock()


def answer_planscape(engine: Engine, store: Store, query: Query,
                     slivers: SliverTolerance) -> dict:
    """capmap.services.planscape.planscape for `query`, bounded when it is a polygon."""
    statuses = get_policy().public_statuses
    child = _child_for(query)
    if child is None:
        return planscape(engine, store, query, slivers, statuses)
    return child.planscape(query, slivers, statuses)


def answer_overlaps(engine: Engine, query: Query, slivers: SliverTolerance):
    """The overlaps a planner downloads (capmap.services.search.overlaps_frame), bounded likewise."""
    child = _child_for(query)
    if child is None:
        return overlaps_frame(engine, query, slivers)
    return child.overlaps(query, slivers)


def _child_for(query: Query) -> QueryProcess | None:
    if query.kind != "polygon" or not current_app.config["QUERY_ISOLATION"]:
        return None
    return query_process(current_app._get_current_object())


def query_process(app: Flask) -> QueryProcess:
    """This app's query child, made on first use and ended with the app (or `close_query_process`)."""
    with _start_lock:
        child = app.extensions.get(_KEY)
        if child is None:
            config = app.config
            limits = QueryLimits(wall_seconds=float(config["QUERY_TIMEOUT_S"]),
                                 cpu_seconds=int(config["QUERY_CPU_SECONDS"]),
                                 memory_mb=int(config["QUERY_MEMORY_MB"]))
            child = QueryProcess(config["DATABASE_URL"], config["NEIGHBOURHOOD_LAYER"], limits)
            app.extensions[_KEY] = child
            weakref.finalize(app, child.close)
    return child


def close_query_process(app: Flask) -> None:
    """End the app's query child, if it has one."""
    child = app.extensions.pop(_KEY, None)
    if child is not None:
        child.close()
