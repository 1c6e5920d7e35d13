"""Slivers: overlaps that only touch a query's edge.

Boundary layers from different sources and vintages (2022 wards, 2011 data zones, council areas)
disagree along shared edges by metres, so a ward in one council "overlaps" the council across the
river by a thin strip. Such an overlap is set apart from the plans that cover the query when it is
small against both the query and the plan, and thin: all three, so a narrow plan that is a real
part of a small query (a 10 m path that is 30 % of it) still counts as covering it.

Width is the width of the rectangle with the overlap's area and perimeter: exact for a strip or a
square, and smaller for a ragged or broken strip (its perimeter grows), which is what a
disagreement between two outlines looks like. Geometries are in EPSG:27700 (metres).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

# Defaults of the settings SLIVER_MAX_SHARE and SLIVER_MAX_WIDTH_M (capmap/core/settings.py). Published
# boundaries are often generalised (ONS "BSC" wards to 200 m), which moves edges by tens of
# metres: measured on the 2022 wards against council areas built from data zones, 181 of the 183
# overlaps of a ward with another council that are under 0.5 % of both are narrower than 100 m,
# only 112 narrower than 50 m (bench/check_slivers.py --all).
MAX_SHARE = 0.005
MAX_WIDTH_M = 100.0


@dataclass(frozen=True)
class SliverTolerance:
    """An overlap is edge-only when it is below `max_share` of the query AND of the plan, and
    narrower than `max_width_m` metres."""

    max_share: float = MAX_SHARE
    max_width_m: float = MAX_WIDTH_M

    def __post_init__(self) -> None:
        if not 0 <= self.max_share <= 1:
            raise ValueError(f"sliver max share {self.max_share!r}; expected a fraction from 0 to 1")
        if self.max_width_m < 0:
            raise ValueError(f"sliver max width {self.max_width_m!r} m; expected 0 or more")

    def described(self) -> dict:
        """The tolerance as JSON-ready values, to be stated beside the lists it splits."""
        return {"max_share": self.max_share, "max_width_m": self.max_width_m}

    def sentence(self) -> str:
        """The tolerance in words, for pages and file notes."""
        return (f"overlaps below {self.max_share:.1%} of the area asked about and of the plan, "
                f"and narrower than {self.max_width_m:g} m")


DEFAULT_TOLERANCE = SliverTolerance()


def widths(pieces: np.ndarray) -> np.ndarray:
    """The width in metres of each polygonal geometry: the short side of the rectangle with its
    area A and perimeter P, (P/2 - sqrt((P/2)^2 - 4A)) / 2; P/4 where no rectangle has both
    (a compact shape such as a disc). 0 for an empty geometry."""
    area = shapely.area(pieces)
    half = shapely.length(pieces) / 2
    root = np.sqrt(np.maximum(half * half - 4 * area, 0.0))
    return (half - root) / 2


def edge_only(share_of_query: np.ndarray, share_of_plan: np.ndarray, width_m: np.ndarray,
              tolerance: SliverTolerance) -> np.ndarray:
    """True where an overlap only touches the query's edge (see SliverTolerance)."""
    return ((np.asarray(share_of_query) < tolerance.max_share)
            & (np.asarray(share_of_plan) < tolerance.max_share)
            & (np.asarray(width_m) < tolerance.max_width_m))
