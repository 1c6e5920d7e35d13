"""Moving points before they are shown in public."""

from __future__ import annotations

import numpy as np
import shapely

from capmap.crs import bng_to_lonlat, lonlat_to_bng


def displace_points(points: np.ndarray, min_m: float, max_m: float,
                    rng: np.random.Generator) -> np.ndarray:
    """Lon/lat points each moved between `min_m` and `max_m` metres in a random direction.

    The distance is measured in EPSG:27700. A guaranteed minimum matters: clustering or a small
    jitter alone leaves a pin on the reporter's doorstep.
    """
    if not 0 <= min_m <= max_m:
        raise ValueError(f"need 0 <= min_m <= max_m, got {min_m}, {max_m}")
    xy = shapely.get_coordinates(points)
    if len(xy) != len(points):
        raise ValueError("every geometry must be a single point")
    e, n = lonlat_to_bng(xy[:, 0], xy[:, 1])
    # Uniform over the annulus area, so moved points do not crowd its inner edge. The half-metre
    # margin keeps the minimum after rounding to 6 decimal places (about 0.1 m).
    inner = min_m + 0.5
    r = np.sqrt(rng.uniform(inner**2, max(max_m, inner) ** 2, len(xy)))
    theta = rng.uniform(0, 2 * np.pi, len(xy))
    lon, lat = bng_to_lonlat(e + r * np.cos(theta), n + r * np.sin(theta))
    return shapely.points(np.round(lon, 6), np.round(lat, 6))
