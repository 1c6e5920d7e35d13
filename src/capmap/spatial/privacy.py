"""Moving points before they are shown in public.

A pin's public point is a keyed function of where it is, not a fresh draw per pin: the exact
point is snapped to a small square of the British National Grid, and an HMAC of that square
(keyed by a secret kept in the database, never sent to a page) gives the direction and distance
of the public point from the square's centre. Ten pins on one doorstep therefore share one public
point, and averaging them gives nothing back; a fresh random offset per pin would average back to
the doorstep (ten pins: about 35 m from it).
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import shapely

from capmap.core.crs import bng_to_lonlat, lonlat_to_bng

_UNIT = float(2**64)
# The defaults of the settings (capmap/core/settings.py), also what schema 6 re-derives old pins with.
MIN_M, MAX_M, SNAP_M = 75.0, 150.0, 20.0


def _cell_draws(key: bytes, cells: np.ndarray) -> np.ndarray:
    """Two numbers in [0, 1) per (column, row) cell, from an HMAC-SHA256 of the cell."""
    out = np.empty((len(cells), 2))
    for i, (col, row) in enumerate(cells.tolist()):
        digest = hmac.new(key, f"pin-cell:{col}:{row}".encode("ascii"), hashlib.sha256).digest()
        out[i] = (int.from_bytes(digest[:8], "big") / _UNIT,
                  int.from_bytes(digest[8:16], "big") / _UNIT)
    return out


def keyed_offset_radii(min_m: float, max_m: float, snap_m: float) -> tuple[float, float]:
    """The distances from a cell's centre that keep every point of the cell between `min_m` and
    `max_m` from its public point: the half diagonal is added inside and taken off outside."""
    if not 0 <= min_m <= max_m or snap_m <= 0:
        raise ValueError(f"need 0 <= min_m <= max_m and snap_m > 0, got {min_m}, {max_m}, "
                         f"{snap_m}")
    half_diagonal = snap_m / np.sqrt(2)
    # The half-metre margin keeps the minimum after rounding to 6 decimal places (~0.1 m).
    inner, outer = min_m + half_diagonal + 0.5, max_m - half_diagonal
    if inner > outer:
        raise ValueError(f"a {snap_m:g} m snapping square does not fit between {min_m:g} and "
                         f"{max_m:g} m; use a smaller square or a wider range")
    return inner, outer


def keyed_points(points: np.ndarray, key: bytes, min_m: float, max_m: float,
                 snap_m: float) -> np.ndarray:
    """Lon/lat points each shown `min_m` to `max_m` metres (EPSG:27700) from where they are, in a
    direction and at a distance fixed by the key and the `snap_m` square each falls in.

    A guaranteed minimum matters: clustering or a small jitter alone leaves a pin on the
    reporter's doorstep. Every point of one square gets the same public point.
    """
    if not key:
        raise ValueError("a keyed public point needs a non-empty key")
    xy = shapely.get_coordinates(points)
    if len(xy) != len(points):
        raise ValueError("every geometry must be a single point")
    inner, outer = keyed_offset_radii(min_m, max_m, snap_m)
    e, n = lonlat_to_bng(xy[:, 0], xy[:, 1])
    cells = np.column_stack([np.floor(e / snap_m), np.floor(n / snap_m)]).astype(np.int64)
    draws = _cell_draws(key, cells)
    # Uniform over the annulus area, so public points do not crowd its inner edge.
    r = np.sqrt(inner**2 + draws[:, 0] * (outer**2 - inner**2))
    theta = 2 * np.pi * draws[:, 1]
    centre_e, centre_n = (cells[:, 0] + 0.5) * snap_m, (cells[:, 1] + 0.5) * snap_m
    lon, lat = bng_to_lonlat(centre_e + r * np.cos(theta), centre_n + r * np.sin(theta))
    return shapely.points(np.round(lon, 6), np.round(lat, 6))
