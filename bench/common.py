"""Shared helpers for benchmarks: where the real data lives, and timing."""

from __future__ import annotations

import sys
import time
from pathlib import Path

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def realdata(name: str) -> Path:
    """A file of the real Scottish data, or exit 0 with a message when it is absent."""
    path = REALDATA / name
    if not path.exists():
        print(f"skipped: {path} not found (real boundary data is not part of capmap)")
        sys.exit(0)
    return path


def best_of(func, repeat: int = 3) -> tuple[float, object]:
    """The fastest wall time of `repeat` runs, in seconds, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result
