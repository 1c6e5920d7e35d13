"""Which area of a layer each point falls in: vectorised, never a Python loop over points.

The rule, the same whatever the backend: a point belongs to the area whose polygon contains it.
A point on a boundary shared by several areas (or, where a layer's areas overlap, inside several)
goes to the one with the smallest code in plain string order; PostGIS gives the same answer with
`ST_Intersects(area, point)` and `min(code)`. A point in no area (sea, a loch cut out as a hole) gets
no code and counts as outside.

Candidates come from a uniform grid over the layer's extent, held as flat numpy arrays: binning a
million points is arithmetic, with no point geometries built, so the only GEOS work left is the
prepared point-in-polygon test on the few candidates each point has.
"""

from __future__ import annotations

import numpy as np
import shapely

# The grid aims for cells about the size of a typical area's bounding box, within these limits.
MAX_CELLS = 4_000_000
MAX_CELL_PAIRS = 20_000_000


class AreaIndex:
    """The polygons of one layer, prepared for point-in-polygon tests, with their codes."""

    def __init__(self, codes, geoms) -> None:
        codes = np.asarray(codes, dtype=object)
        order = np.argsort(codes.astype(str), kind="stable")
        # Sorted by code, so "smallest code wins" is "smallest position wins".
        self.codes = codes[order]
        self.geoms = np.asarray(geoms, dtype=object)[order]
        shapely.prepare(self.geoms)
        self.bounds = shapely.bounds(self.geoms)
        self._grid = _Grid(self.bounds) if len(self.geoms) else None

    def __len__(self) -> int:
        return len(self.codes)

    def positions(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """For lon/lat arrays, the position of each point's area in `codes`, or -1 outside."""
        x = np.asarray(x, dtype="float64")
        y = np.asarray(y, dtype="float64")
        none = len(self.codes)
        best = np.full(len(x), none, dtype=np.int64)
        if len(x) == 0 or self._grid is None:
            return np.full(len(x), -1, dtype=np.int64)
        point_i, area_i = self._grid.candidates(x, y)
        b = self.bounds[area_i]
        px, py = x[point_i], y[point_i]
        in_box = (px >= b[:, 0]) & (px <= b[:, 2]) & (py >= b[:, 1]) & (py <= b[:, 3])
        point_i, area_i, px, py = point_i[in_box], area_i[in_box], px[in_box], py[in_box]
        # Grouped by area, each prepared polygon meets its points in one run: far faster in GEOS.
        by_area = np.argsort(area_i, kind="stable")
        point_i, area_i, px, py = point_i[by_area], area_i[by_area], px[by_area], py[by_area]
        inside = shapely.contains_xy(self.geoms[area_i], px, py)
        np.minimum.at(best, point_i[inside], area_i[inside])
        # Points on an edge are in no interior: test the rest with the boundary included.
        rest = best[point_i] == none
        edge = shapely.intersects_xy(self.geoms[area_i[rest]], px[rest], py[rest])
        np.minimum.at(best, point_i[rest][edge], area_i[rest][edge])
        best[best == none] = -1
        return best

    def assign_xy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """For lon/lat arrays, each point's area code (None outside every area)."""
        pos = self.positions(x, y)
        out = np.full(len(pos), None, dtype=object)
        found = pos >= 0
        out[found] = self.codes[pos[found]]
        return out

    def assign(self, points) -> np.ndarray:
        """Each point geometry's area code (None outside, or for a missing point)."""
        points = np.asarray(points, dtype=object)
        present = ~shapely.is_missing(points)
        x = np.full(len(points), np.nan)
        y = np.full(len(points), np.nan)
        if present.any():
            coords = shapely.get_coordinates(points[present])
            if len(coords) != present.sum():
                raise ValueError("assign takes single points only")
            x[present], y[present] = coords[:, 0], coords[:, 1]
        return self.assign_xy(x, y)

    def inside(self, lon: float, lat: float) -> int:
        """The position in `codes` of the area whose interior holds the point (the smallest code
        if several), or -1: outside every area, or only on edges."""
        if self._grid is None:
            return -1
        candidates = self._grid.cell_areas(float(lon), float(lat))
        hit = shapely.contains_xy(self.geoms[candidates], lon, lat)
        return int(candidates[hit.argmax()]) if hit.any() else -1

    def lookup(self, lon: float, lat: float) -> str | None:
        """The code of the area at one lon/lat point, or None. Candidates come from the grid
        cell, in plain arithmetic: this runs on every map click, where an STRtree query of one
        point costs more in numpy wrapping than the test itself."""
        if self._grid is None:
            return None
        candidates = self._grid.cell_areas(float(lon), float(lat))
        if len(candidates) == 0:
            return None
        hit = shapely.contains_xy(self.geoms[candidates], lon, lat)
        if not hit.any():
            hit = shapely.intersects_xy(self.geoms[candidates], lon, lat)
        return self.codes[candidates[hit][0]] if hit.any() else None


class _Grid:
    """A uniform grid over area bounding boxes: cell -> areas, as CSR arrays."""

    def __init__(self, bounds: np.ndarray) -> None:
        self.x0, self.y0 = bounds[:, 0].min(), bounds[:, 1].min()
        width = max(bounds[:, 2].max() - self.x0, 1e-9)
        height = max(bounds[:, 3].max() - self.y0, 1e-9)
        cw = max(np.median(bounds[:, 2] - bounds[:, 0]), width / 4096, 1e-9)
        ch = max(np.median(bounds[:, 3] - bounds[:, 1]), height / 4096, 1e-9)
        while True:
            self.nx = int(np.ceil(width / cw)) or 1
            self.ny = int(np.ceil(height / ch)) or 1
            self.cw, self.ch = width / self.nx, height / self.ny
            ix0, iy0 = self._cell(bounds[:, 0], bounds[:, 1])
            ix1, iy1 = self._cell(bounds[:, 2], bounds[:, 3])
            spans = (ix1 - ix0 + 1) * (iy1 - iy0 + 1)
            if self.nx * self.ny <= MAX_CELLS and spans.sum() <= MAX_CELL_PAIRS:
                break
            cw, ch = cw * 2, ch * 2
        area_of_pair = np.repeat(np.arange(len(bounds)), spans)
        k = np.arange(spans.sum()) - np.repeat(np.cumsum(spans) - spans, spans)
        cols = np.repeat(ix1 - ix0 + 1, spans)
        cell = (np.repeat(iy0, spans) + k // cols) * self.nx + np.repeat(ix0, spans) + k % cols
        order = np.argsort(cell, kind="stable")
        self.areas = area_of_pair[order]
        self.start = np.searchsorted(cell[order], np.arange(self.nx * self.ny + 1))

    def _cell(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        ix = np.clip(((x - self.x0) / self.cw).astype(np.int64), 0, self.nx - 1)
        iy = np.clip(((y - self.y0) / self.ch).astype(np.int64), 0, self.ny - 1)
        return ix, iy

    def cell_areas(self, x: float, y: float) -> np.ndarray:
        """The areas (ascending) whose grid cell holds one point: what `candidates` gives it."""
        if not (self.x0 <= x <= self.x0 + self.nx * self.cw and self.y0 <= y <= self.y0 + self.ny * self.ch):
            return self.areas[:0]  # also NaN
        ix = min(max(int((x - self.x0) / self.cw), 0), self.nx - 1)
        iy = min(max(int((y - self.y0) / self.ch), 0), self.ny - 1)
        cell = iy * self.nx + ix
        return self.areas[self.start[cell]:self.start[cell + 1]]

    def candidates(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point index, area index) pairs whose grid cell holds both."""
        inside = np.isfinite(x) & np.isfinite(y)
        inside &= (x >= self.x0) & (x <= self.x0 + self.nx * self.cw)
        inside &= (y >= self.y0) & (y <= self.y0 + self.ny * self.ch)
        points = np.flatnonzero(inside)
        ix, iy = self._cell(x[points], y[points])
        cell = iy * self.nx + ix
        first, count = self.start[cell], self.start[cell + 1] - self.start[cell]
        point_i = np.repeat(points, count)
        k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        return point_i, self.areas[np.repeat(first, count) + k]
