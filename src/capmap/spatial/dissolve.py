"""Areas built from other areas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely


def union_by_codes(areas: gpd.GeoDataFrame, code_lists: list[list[str]]) -> tuple[
        np.ndarray, list[list[str]]]:
    """For each list of area codes, the union of those areas; also the codes not found per list."""
    by_code = dict(zip(areas["code"], areas.geometry.values, strict=True))
    geoms, missing = [], []
    for codes in code_lists:
        missing.append([c for c in codes if c not in by_code])
        found = [by_code[c] for c in codes if c in by_code]
        geoms.append(shapely.union_all(found) if found else None)
    return np.array(geoms, dtype=object), missing
