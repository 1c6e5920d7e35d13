"""One query area (EPSG:27700) measured against a boundary layer and the plans, touching few vertices.

Areas are first sorted with prepared predicates: an area the query covers overlaps by its own size,
one it only touches by nothing; only areas the query's edge crosses are cut, each against the few
pieces of the query near it (capmap.spatial.pieces), not against the whole query. A plan's part of
the query is measured area by area the same way: inside an area the query covers, the plan's
overlap with that area is the one the plan coverage holds (computed once per reload), and an area
wholly inside the plan adds its own overlap with the query; only areas crossed by both the
query's and the plan's edge need a three-way cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from capmap.spatial.pieces import subdivide


@dataclass(frozen=True)
class QueryPieces:
    """A prepared query and its pieces, with their STRtree."""

    geom: shapely.Geometry
    pieces: np.ndarray
    tree: shapely.STRtree


def query_pieces(q: shapely.Geometry) -> QueryPieces:
    shapely.prepare(q)
    pieces = subdivide(q)
    return QueryPieces(q, pieces, shapely.STRtree(pieces))


@dataclass(frozen=True)
class LayerOverlap:
    """The areas of a layer a query overlaps by a positive area: their rows, the overlap (m²),
    whether the query covers each (`inner`); for the others, the pieces of query ∩ area, those
    of rows[k] at positions part_start[k] to part_start[k + 1] of `parts`."""

    rows: np.ndarray
    m2: np.ndarray
    inner: np.ndarray
    parts: np.ndarray
    part_start: np.ndarray


def layer_overlap(q: QueryPieces, areas: np.ndarray, tree: shapely.STRtree) -> LayerOverlap:
    """How the query overlaps the areas (EPSG:27700, with their STRtree)."""
    rows = tree.query(q.geom, predicate="intersects")
    rows = rows[~shapely.touches(q.geom, areas[rows])]
    inner = shapely.covers(q.geom, areas[rows])
    m2 = np.empty(len(rows))
    m2[inner] = shapely.area(areas[rows[inner]])
    edge = np.flatnonzero(~inner)
    at, piece = q.tree.query(areas[rows[edge]], predicate="intersects")
    parts = _cut(q.pieces[piece], areas[rows[edge[at]]])
    part_m2 = shapely.area(parts)
    m2[edge] = np.bincount(at, weights=part_m2, minlength=len(edge))
    keep, kept_parts = m2 > 0, part_m2 > 0
    part_of = (np.cumsum(keep) - 1)[edge[at[kept_parts]]]
    order = np.argsort(part_of, kind="stable")
    return LayerOverlap(rows[keep], m2[keep], inner[keep], parts[kept_parts][order],
                        np.searchsorted(part_of[order], np.arange(keep.sum() + 1)))


def plan_area_overlaps(plans: np.ndarray, areas: np.ndarray, cover: LayerOverlap,
                       known) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each plan's part of the query measured per area of the layer: (plan position in `plans`,
    area row, m² of plan ∩ query ∩ area), for the areas of `cover` (layer_overlap of the query).
    `known(plan positions, area rows)` gives the stored overlap of a plan with a whole area (NaN
    where not stored); it answers for the areas the query covers."""
    # The plans are the prepared side of every test: a test costs little for the prepared
    # shape, and a council-wide plan has thousands of vertices.
    shapely.prepare(plans)
    plan_i, spot = shapely.STRtree(areas[cover.rows]).query(plans, predicate="intersects")
    zone = areas[cover.rows[spot]]
    meeting = ~shapely.touches(plans[plan_i], zone)
    spot, plan_i, zone = spot[meeting], plan_i[meeting], zone[meeting]
    m2 = np.where(shapely.covers(plans[plan_i], zone), cover.m2[spot], np.nan)
    inner = np.isnan(m2) & cover.inner[spot]
    m2[inner] = known(plan_i[inner], cover.rows[spot[inner]])
    missing = np.flatnonzero(np.isnan(m2) & cover.inner[spot])  # coverage not refreshed
    m2[missing] = shapely.area(_cut(plans[plan_i[missing]], zone[missing]))
    m2[np.isnan(m2)] = _three_way(plans, plan_i, spot, np.flatnonzero(np.isnan(m2)), cover)
    keep = m2 > 0
    return plan_i[keep], cover.rows[spot[keep]], m2[keep]


def _three_way(plans, plan_i, spot, pairs: np.ndarray, cover: LayerOverlap) -> np.ndarray:
    """m² of plan ∩ query ∩ area for the (plan_i, spot) `pairs`: each plan cut by the pieces of
    query ∩ area."""
    first, count = cover.part_start[spot[pairs]], np.diff(cover.part_start)[spot[pairs]]
    pair = np.repeat(np.arange(len(pairs)), count)
    part = np.repeat(first - np.cumsum(count) + count, count) + np.arange(len(pair))
    m2 = shapely.area(_cut(plans[plan_i[pairs[pair]]], cover.parts[part]))
    return np.bincount(pair, weights=m2, minlength=len(pairs))


def _cut(geoms: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """geoms[k] ∩ shapes[k], as an object array even when there are none."""
    out = np.empty(len(shapes), dtype=object)
    if len(shapes):
        out[:] = shapely.intersection(geoms, shapes)
    return out
