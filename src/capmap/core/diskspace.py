"""Telling a full disk from other failures when writing files.

An OSError says ENOSPC plainly; GDAL often does not (a GeoPackage's "Failed to commit
transaction", a Shapefile's "Cannot write feature"). So a failed write also counts as a full disk
when the filesystem it was writing to has almost nothing left, measured before what was begun is
removed.
"""

from __future__ import annotations

import os
from pathlib import Path

from capmap.core.errors import is_disk_full

LOW_WATER_BYTES = 1024 * 1024


def free_bytes(folder: Path) -> int | None:
    """Bytes free to an unprivileged writer on the filesystem holding `folder` (None if gone)."""
    try:
        stats = os.statvfs(folder)
    except OSError:
        return None
    return stats.f_bavail * stats.f_frsize


def out_of_room(exc: BaseException, folder: Path) -> bool:
    """Whether the write into `folder` that raised `exc` failed for want of space."""
    if is_disk_full(exc):
        return True
    free = free_bytes(folder)
    return free is not None and free < LOW_WATER_BYTES
