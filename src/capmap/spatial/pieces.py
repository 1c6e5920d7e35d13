"""A geometry cut into small pieces, so that an overlay only meets the vertices near each other.

An intersection costs about as much as the vertices of both shapes, however little of them meet:
a data zone of a few hundred vertices cut against a 20,000-vertex query pays for all 20,000. Cut
into polygons of at most PIECE_VERTICES vertices (halving a box along its longer side until each
piece is small, as ST_Subdivide does), a zone meets only the few pieces near it, found through an
STRtree of the pieces. The pieces do not overlap and together make up the geometry, so their
areas add up to its area (to float rounding).
"""

from __future__ import annotations

import numpy as np
import shapely

PIECE_VERTICES = 1024
# Halving 30 times makes a box a billionth of its size: past that a piece is kept as it is.
_MAX_DEPTH = 30
_POLYGON = 3


def subdivide(geom: shapely.Geometry, max_vertices: int = PIECE_VERTICES) -> np.ndarray:
    """The polygons of `geom` (polygonal, valid), each cut until it has at most `max_vertices`
    vertices; lines and points left by a cut (no area) are dropped."""
    todo = _polygons(np.array([geom], dtype=object))
    done = []
    for depth in range(_MAX_DEPTH + 1):
        small = shapely.get_num_coordinates(todo) <= max_vertices
        if depth == _MAX_DEPTH:
            small[:] = True
        done.append(todo[small])
        todo = todo[~small]
        if not len(todo):
            break
        todo = _polygons(shapely.intersection(np.concatenate([todo, todo]), _halves(todo)))
    return np.concatenate(done)


def _halves(geoms: np.ndarray) -> np.ndarray:
    """Two boxes per geometry, its bounds cut across the longer side: all the first halves,
    then all the second."""
    x0, y0, x1, y1 = shapely.bounds(geoms).T
    wide = (x1 - x0) >= (y1 - y0)
    mid_x, mid_y = np.where(wide, (x0 + x1) / 2, x1), np.where(wide, y1, (y0 + y1) / 2)
    first = shapely.box(x0, y0, mid_x, mid_y)
    second = shapely.box(np.where(wide, mid_x, x0), np.where(wide, y0, mid_y), x1, y1)
    return np.concatenate([first, second])


def _polygons(geoms: np.ndarray) -> np.ndarray:
    """The non-empty polygons in `geoms`, multi-part geometries and collections taken apart."""
    while True:
        parts = shapely.get_parts(geoms)
        kinds = shapely.get_type_id(parts)
        if len(parts) == len(geoms) and (kinds == shapely.get_type_id(geoms)).all():
            break  # nothing left to take apart
        geoms = parts
    return parts[(kinds == _POLYGON) & ~shapely.is_empty(parts)]
