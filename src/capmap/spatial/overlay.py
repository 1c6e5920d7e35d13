"""Overlaps between plans, query areas and boundary layers, measured in EPSG:27700 (m²).

All functions take shapely geometry arrays already in the British National Grid. Pairs come from an
STRtree in one vectorised query, and prepared predicates settle most of them without an overlay.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely


def overlap_arrays(covers: np.ndarray, areas: np.ndarray, areas_tree: shapely.STRtree | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`overlap_pairs` as three arrays (cover, area, overlap_m2), without a DataFrame: what a
    single request measuring a few geometries spends least on."""
    tree = areas_tree or shapely.STRtree(areas)
    cover_i, area_i = tree.query(covers, predicate="intersects")
    shapely.prepare(covers)
    # Cheap prepared tests settle most pairs: neighbours that only touch share no area; an area
    # the cover covers overlaps by its own size. Only pairs that cross an edge are intersected.
    touching = shapely.touches(covers[cover_i], areas[area_i])
    cover_i, area_i = cover_i[~touching], area_i[~touching]
    whole = shapely.covers(covers[cover_i], areas[area_i])
    overlap = np.empty(len(cover_i))
    overlap[whole] = shapely.area(areas[area_i[whole]])
    cut = ~whole
    overlap[cut] = shapely.area(shapely.intersection(covers[cover_i[cut]], areas[area_i[cut]]))
    keep = overlap > 0
    return cover_i[keep], area_i[keep], overlap[keep]


def overlap_pairs(covers: np.ndarray, areas: np.ndarray,
                  areas_tree: shapely.STRtree | None = None) -> pd.DataFrame:
    """Every (cover, area) pair that overlaps with positive area.

    Columns: cover (position in `covers`), area (position in `areas`), overlap_m2. Geometries in
    EPSG:27700 and valid.
    """
    cover_i, area_i, overlap = overlap_arrays(covers, areas, areas_tree)
    return pd.DataFrame({"cover": cover_i, "area": area_i, "overlap_m2": overlap})


def coverage_shares(covers: np.ndarray, areas: np.ndarray,
                    areas_tree: shapely.STRtree | None = None) -> pd.DataFrame:
    """overlap_pairs plus share_of_area (overlap / area) and share_of_cover (overlap / cover)."""
    pairs = overlap_pairs(covers, areas, areas_tree)
    pairs["share_of_area"] = _share(pairs["overlap_m2"], shapely.area(areas)[pairs["area"]])
    pairs["share_of_cover"] = _share(pairs["overlap_m2"], shapely.area(covers)[pairs["cover"]])
    return pairs


def _share(part, whole) -> np.ndarray:
    """part / whole clipped to 0..1 (floating noise can push a full cover a hair over 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.clip(np.asarray(part) / np.asarray(whole), 0.0, 1.0)


def apportioned_population(geoms: np.ndarray, areas: np.ndarray, population: np.ndarray,
                           areas_tree: shapely.STRtree | None = None) -> np.ndarray:
    """People in each geometry, apportioning each area's population by the share of its area
    inside. NaN where it touches an area of unknown population."""
    cover_i, area_i, overlap = overlap_arrays(geoms, areas, areas_tree)
    return _apportioned(cover_i, area_i, overlap, areas, population, len(geoms))


def apportioned_people(cover_i: np.ndarray, area_i: np.ndarray, overlap: np.ndarray, layer,
                       count: int) -> np.ndarray:
    """`apportioned_population` from pairs already measured (overlap_arrays) against a layer
    with `bng` geometries and `population`."""
    return _apportioned(cover_i, area_i, overlap, layer.bng, layer.population, count)


def _apportioned(cover_i, area_i, overlap, areas, population, count: int) -> np.ndarray:
    pop = np.asarray(population, dtype="float64")[area_i]
    weights = overlap / shapely.area(areas[area_i])
    # float64 even with no pairs: numpy's bincount of nothing is integer, which cannot hold NaN.
    total = np.bincount(cover_i, weights=np.nan_to_num(pop) * weights,
                        minlength=count).astype("float64")
    unknown = np.bincount(cover_i, weights=np.isnan(pop).astype(float),
                          minlength=count) > 0
    total[unknown] = np.nan
    return total


def type_coverage(plan_geoms: np.ndarray, plan_types: np.ndarray, areas: np.ndarray,
                  areas_tree: shapely.STRtree | None = None) -> pd.DataFrame:
    """Share of each area covered by the union of the plans of each type.

    Columns: area (position), type, share_of_area. Overlapping plans of one type count once.
    """
    types = sorted(set(plan_types))
    unions = np.array([shapely.union_all(plan_geoms[np.asarray(plan_types) == t]) for t in types],
                      dtype=object)
    shares = coverage_shares(unions, areas, areas_tree)
    return pd.DataFrame({"area": shares["area"].to_numpy(),
                         "type": np.asarray(types, dtype=object)[shares["cover"].to_numpy()],
                         "share_of_area": shares["share_of_area"].to_numpy()})


def plan_shares(covers: np.ndarray, cover_codes: list[list[str] | None], area_codes: np.ndarray,
                areas: np.ndarray, areas_tree: shapely.STRtree | None = None) -> pd.DataFrame:
    """coverage_shares for plans, where a plan given as a list of this layer's area codes covers
    exactly those areas (share 1 each, no overlay needed); the others are measured as geometry.

    Columns as coverage_shares. Codes not in `area_codes` are ignored.
    """
    by_codes = np.array([bool(codes) for codes in cover_codes], dtype=bool)
    drawn = np.flatnonzero(~by_codes)
    parts = []
    if len(drawn):
        measured = coverage_shares(covers[drawn], areas, areas_tree)
        measured["cover"] = drawn[measured["cover"].to_numpy()]
        parts.append(measured)
    lookup = pd.Index(area_codes)
    sizes = shapely.area(areas)
    for cover in np.flatnonzero(by_codes):
        positions = lookup.get_indexer(list(dict.fromkeys(cover_codes[cover])))
        positions = positions[positions >= 0]
        overlap = sizes[positions]
        parts.append(pd.DataFrame({"cover": cover, "area": positions, "overlap_m2": overlap,
                                   "share_of_area": 1.0,
                                   "share_of_cover": overlap / overlap.sum() if len(overlap) else []}))
    columns = {"cover": "int64", "area": "int64", "overlap_m2": "float64",
               "share_of_area": "float64", "share_of_cover": "float64"}
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()})
    return pd.concat(parts, ignore_index=True)[list(columns)].astype(columns)
