"""Geometry for the sample data set: the council outline, its tessellation and contiguous regions.

All coordinates are EPSG:27700 metres. The tessellation is built as one noded, snap-rounded set of
lines (grid 0.1 m) that is then polygonized, so neighbouring cells share exactly the same vertices
and stay valid once written at 0.1 m.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

GRID = 0.1  # metres; every output vertex lies on this grid
CENTRE = (297000.0, 711000.0)  # land around the Ochil Hills, clear of the Forth and the Tay
SEMI_AXES = (19500.0, 16800.0)


@dataclass(frozen=True)
class Place:
    """An invented settlement: name, offset from CENTRE in metres, density peak and spread."""

    name: str
    dx: float
    dy: float
    weight: float
    sigma: float

    @property
    def xy(self) -> tuple[float, float]:
        """The settlement centre in EPSG:27700 metres."""
        return CENTRE[0] + self.dx, CENTRE[1] + self.dy


PLACES = (
    Place("Kirkton", 6500, -5500, 28.0, 1700),
    Place("Balmore", -9000, 3500, 22.0, 1300),
    Place("Dunrath", 8500, 8000, 20.0, 1100),
    Place("Easter Glen", -2500, -10500, 14.0, 800),
    Place("Cairnfoot", -14500, -6000, 6.0, 500),
    Place("Westermuir", -16000, 7500, 5.0, 450),
    Place("Auchenbrae", -3000, 9500, 5.0, 500),
    Place("Craigdrum", 14000, -1500, 12.0, 750),
    Place("Tollmuir", 1500, 1000, 5.0, 500),
    Place("Brackenhill", 15000, 10500, 4.0, 450),
    Place("Kinbrae", -7500, -13500, 4.0, 450),
    Place("Ardlaw", 3000, 13500, 4.0, 450),
)
RURAL_DENSITY = 0.18e-6  # cells per square metre away from settlements


def make_outline(rng: np.random.Generator) -> shapely.Polygon:
    """An irregular, star-shaped council outline about 40 km by 35 km, vertices on the 0.1 m grid."""
    n = 160
    t = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    r = np.ones(n)
    for k in range(2, 7):
        r += rng.uniform(0.015, 0.06) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    for k in range(7, 16):
        r += rng.uniform(0.0, 0.012) * np.cos(k * t + rng.uniform(0, 2 * np.pi))
    r *= 1.0 + rng.normal(0.0, 0.006, n)
    x = np.round(CENTRE[0] + SEMI_AXES[0] * r * np.cos(t), 1)
    y = np.round(CENTRE[1] + SEMI_AXES[1] * r * np.sin(t), 1)
    outline = shapely.Polygon(np.column_stack([x, y]))
    if not outline.is_valid:
        raise RuntimeError("sample outline is not a valid polygon")
    return outline


def _density(xy: np.ndarray) -> np.ndarray:
    """Cells per square metre at each point: a rural floor plus a Gaussian peak per settlement."""
    rho = np.full(len(xy), RURAL_DENSITY)
    for p in PLACES:
        px, py = p.xy
        d2 = (xy[:, 0] - px) ** 2 + (xy[:, 1] - py) ** 2
        rho += p.weight * 1e-6 * np.exp(-d2 / (2.0 * p.sigma**2))
    return rho


def _candidates(rng: np.random.Generator, outline: shapely.Polygon, size: int) -> np.ndarray:
    """Candidate seed points drawn from a mixture of uniform (rural) and settlement Gaussians."""
    minx, miny, maxx, maxy = outline.bounds
    area = outline.area
    weights = np.array([RURAL_DENSITY * area] + [p.weight * 2 * np.pi * p.sigma**2 * 1e-6
                                                 for p in PLACES])
    comp = rng.choice(len(weights), size=size, p=weights / weights.sum())
    out = np.column_stack([rng.uniform(minx, maxx, size), rng.uniform(miny, maxy, size)])
    normal = rng.normal(0.0, 1.0, (size, 2))
    for i, p in enumerate(PLACES, start=1):
        pick = comp == i
        out[pick] = np.asarray(p.xy) + normal[pick] * p.sigma
    return out


def make_seeds(rng: np.random.Generator, outline: shapely.Polygon, count: int) -> np.ndarray:
    """`count` seed points inside the outline, spaced by the local density (Poisson-disc style)."""
    inner = outline.buffer(-60.0)
    accepted = np.empty((count, 2))
    n = 0
    while n < count:
        cand = _candidates(rng, outline, 4000)
        cand = cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])]
        spacing = 0.85 / np.sqrt(_density(cand))
        for (x, y), s in zip(cand, spacing, strict=True):
            if n and np.min((accepted[:n, 0] - x) ** 2 + (accepted[:n, 1] - y) ** 2) < s * s:
                continue
            accepted[n] = (x, y)
            n += 1
            if n == count:
                break
    return accepted


def tessellate(seeds: np.ndarray, outline: shapely.Polygon) -> list[shapely.Polygon]:
    """Voronoi cells of the seeds clipped to the outline, one polygon per seed, in seed order."""
    points = shapely.multipoints(seeds)
    frame = shapely.box(*outline.buffer(10000.0).bounds)
    edges = shapely.voronoi_polygons(points, extend_to=frame, only_edges=True)
    inner = shapely.intersection(edges, outline)
    lines = shapely.union(inner, outline.exterior, grid_size=GRID)
    pieces = list(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    tree = shapely.STRtree(pieces)
    piece_idx, seed_idx = tree.query(shapely.points(seeds), predicate="within")[::-1]
    owner = np.full(len(pieces), -1)
    owner[piece_idx] = seed_idx
    if len(set(piece_idx.tolist())) != len(seeds):
        raise RuntimeError("sample tessellation: a cell holds more than one seed")
    return _absorb_orphans(pieces, owner, len(seeds))


def _absorb_orphans(pieces: list, owner: np.ndarray, count: int) -> list[shapely.Polygon]:
    """Merge pieces cut off from their seed (by a concave outline) into the longest-shared neighbour."""
    owner = owner.copy()
    while (owner < 0).any():
        for i in np.flatnonzero(owner < 0):
            shared = [
                (shapely.intersection(pieces[i].boundary, pieces[j].boundary).length, j)
                for j in range(len(pieces))
                if owner[j] >= 0 and pieces[i].touches(pieces[j])
            ]
            if shared:
                owner[i] = owner[max(shared)[1]]
    cells = []
    for s in range(count):
        members = [pieces[i] for i in np.flatnonzero(owner == s)]
        cell = members[0] if len(members) == 1 else shapely.union_all(members, grid_size=GRID)
        if not isinstance(cell, shapely.Polygon) or not cell.is_valid:
            raise RuntimeError(f"sample tessellation: cell {s} is not one valid polygon")
        cells.append(cell)
    return cells


def adjacency(polys: list) -> list[list[int]]:
    """For each polygon, the sorted indices of polygons sharing a boundary of 1 m or more."""
    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="touches")
    keep = left < right
    left, right = left[keep], right[keep]
    bounds = shapely.boundary(np.asarray(polys, dtype=object))
    shared = shapely.length(shapely.intersection(bounds[left], bounds[right]))
    adj: list[list[int]] = [[] for _ in polys]
    for a, b in zip(left[shared >= 1.0], right[shared >= 1.0], strict=True):
        adj[int(a)].append(int(b))
        adj[int(b)].append(int(a))
    return [sorted(a) for a in adj]


def centroids(polys: list) -> np.ndarray:
    """Centroid coordinates (n x 2) of a list of polygons."""
    return shapely.get_coordinates(shapely.centroid(np.asarray(polys, dtype=object)))


def points_in(
    rng: np.random.Generator, poly: shapely.Geometry, count: int, margin: float = 1.0
) -> np.ndarray:
    """`count` random points (n x 2) inside a polygon, rounded to 0.1 m and at least `margin` in."""
    inner = poly.buffer(-margin) if margin > 0 else poly
    if inner.is_empty:
        inner = poly
    minx, miny, maxx, maxy = inner.bounds
    found = np.empty((0, 2))
    while len(found) < count:
        need = max(8, 3 * (count - len(found)))
        cand = np.round(np.column_stack([rng.uniform(minx, maxx, need),
                                         rng.uniform(miny, maxy, need)]), 1)
        cand = cand[shapely.contains_xy(inner, cand[:, 0], cand[:, 1])]
        found = np.vstack([found, cand])
    return found[:count]


def blob(
    rng: np.random.Generator, xy: tuple[float, float], radius: float, clip: shapely.Polygon
) -> shapely.Polygon:
    """An irregular star-shaped polygon around xy, clipped to `clip`, vertices on the 0.1 m grid."""
    m = int(rng.integers(14, 22))
    t = (np.arange(m) + rng.uniform(-0.35, 0.35, m)) * (2.0 * np.pi / m)
    r = np.ones(m) + rng.normal(0.0, 0.06, m)
    for k in (1, 2, 3):
        r += rng.uniform(0.03, 0.12) * np.cos(k * t + rng.uniform(0.0, 2.0 * np.pi))
    ring = np.round(np.column_stack([xy[0] + radius * r * np.cos(t),
                                     xy[1] + radius * r * np.sin(t)]), 1)
    shape = shapely.intersection(shapely.Polygon(ring), clip, grid_size=GRID)
    parts = sorted(shapely.get_parts(shape), key=lambda p: -p.area)
    if not parts or not parts[0].is_valid:
        raise RuntimeError(f"sample blob at {xy} is empty or invalid")
    return parts[0]
