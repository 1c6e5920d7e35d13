"""The sample council's statistical geography: neighbourhoods, intermediate zones, wards and SIMD.

Neighbourhoods (data-zone-like) nest in intermediate zones, which nest in wards; every higher area
is the exact union of its members, so populations and geometries add up.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import shapely

from capmap.sample.geo import (
    GRID,
    PLACES,
    Place,
    adjacency,
    centroids,
    make_outline,
    make_seeds,
    tessellate,
)
from capmap.sample.regions import (
    grow_regions,
    is_contiguous,
    kmeans_seeds,
    rebalance,
    repair_sizes,
)

COUNCIL_CODE = "S12900001"
COUNCIL_NAME = "Glenarden"
N_NEIGHBOURHOODS = 620
N_IZ = 112
N_WARDS = 10
NATIONAL_ZONES = 6976  # ranks are national-style: 1..6976, 1 = most deprived
Q1_SHARE = 0.22

# Deprivation hot spots: (locality name, place, dx, dy from the place centre, strength, spread m).
HOTSPOTS = (
    ("Kirkton East", "Kirkton", 1300, 400, 1.0, 1200),
    ("Kirkton South West", "Kirkton", -1500, -1300, 0.85, 900),
    ("Balmore", "Balmore", 400, -700, 0.95, 1100),
    ("Dunrath", "Dunrath", -600, 500, 0.9, 1000),
    ("Craigdrum", "Craigdrum", 0, 300, 0.8, 1400),
)
COMPASS = ("East", "North East", "North", "North West", "West", "South West", "South", "South East")
SUFFIXES = ("Park", "Mains", "Muir", "Bank", "Brae", "Burnside", "Haugh", "Mill", "Toll")
DISTRICTS = (
    "Broomfield", "Gallowhill", "Newmains", "Hillfoot", "Millbank", "Whinnyknowe", "Sunnyside",
    "Bowhouse", "Lochside", "Craigend", "Woodside", "Eastfield", "Mossend", "Laverockhall",
    "Muirhouses", "Thornybank", "Glebe", "Hawthornden", "Corsehill", "Windygates", "Boghall",
    "Cowdenhill", "Pitcairlie", "Smiddyhill", "Lintmill", "Quarrybrae", "Fernieside", "Heatherlea",
    "Bankhead", "Crossgates", "Ryehill", "Mortonhall", "Gowanbank", "Kilnford", "Stanely",
    "Tannochbrae", "Whitemoss", "Orchardton", "Burnbrae", "Drumlanrig Park",
)


@dataclass
class Geography:
    """Everything the other sample builders need about the council's areas (EPSG:27700)."""

    council: shapely.Polygon
    cells: list[shapely.Polygon]
    codes: list[str]
    names: list[str]
    population: np.ndarray
    rank: np.ndarray
    iz_of: np.ndarray
    adj: list[list[int]]
    iz_polys: list[shapely.Polygon]
    iz_codes: list[str]
    iz_names: list[str]
    ward_of_iz: np.ndarray
    ward_polys: list[shapely.Polygon]
    ward_codes: list[str]
    ward_names: list[str]
    hotspots: list[tuple[str, float, float]]


SIMD_DOMAINS = ("income", "employment", "health", "education", "access", "crime", "housing")


def domain_ranks(rng: np.random.Generator, rank: np.ndarray) -> dict[str, np.ndarray]:
    """SIMD-style domain ranks per neighbourhood: the overall rank plus noise of its own per
    domain, kept in 1..6976 (not unique). Access varies most: in SIMD it is the domain least
    tied to the others, remote places being short of services rather than of income."""
    spread = {"access": 2500.0}
    return {name: np.clip(np.rint(rank + rng.normal(0.0, spread.get(name, 600.0), len(rank))),
                          1, NATIONAL_ZONES).astype(int) for name in SIMD_DOMAINS}


def decile(rank: int) -> int:
    """SIMD-style decile of a national rank (1 = most deprived 10 %)."""
    return -(-rank * 10 // NATIONAL_ZONES)


def quintile(rank: int) -> int:
    """SIMD-style quintile of a national rank (1 = most deprived 20 %)."""
    return -(-rank * 5 // NATIONAL_ZONES)


def _place(name: str) -> Place:
    return next(p for p in PLACES if p.name == name)


def _unions(polys: list, labels: np.ndarray, count: int) -> list[shapely.Polygon]:
    out = []
    for r in range(count):
        merged = shapely.union_all([polys[i] for i in np.flatnonzero(labels == r)], grid_size=GRID)
        if not isinstance(merged, shapely.Polygon) or not merged.is_valid:
            raise RuntimeError(f"sample geography: region {r} is not one valid polygon")
        out.append(merged)
    return out


def _reading_order(xy: np.ndarray, primary: np.ndarray | None = None) -> np.ndarray:
    """Indices sorted by an optional primary key, then north-to-south 3 km bands, then west-east."""
    band = -np.floor(xy[:, 1] / 3000.0)
    keys = [xy[:, 0], band] if primary is None else [xy[:, 0], band, primary]
    return np.lexsort(keys)


def _rank_cells(rng: np.random.Generator, xy: np.ndarray) -> np.ndarray:
    """National-style SIMD ranks: a smooth field of hot spots plus noise, then ranked."""
    score = rng.normal(0.0, 0.12, len(xy))
    for _ in range(4):  # a gentle, large-scale rural pattern under the hot spots
        kx, ky = rng.normal(0.0, 1.0 / 9000.0, 2)
        score += 0.06 * np.cos(kx * xy[:, 0] + ky * xy[:, 1] + rng.uniform(0.0, 2.0 * np.pi))
    for _, place, dx, dy, strength, spread in HOTSPOTS:
        px, py = _place(place).xy
        d2 = (xy[:, 0] - px - dx) ** 2 + (xy[:, 1] - py - dy) ** 2
        score += strength * np.exp(-d2 / (2.0 * spread**2))
    n = len(xy)
    n_q1 = round(Q1_SHARE * n)
    q1_top = NATIONAL_ZONES // 5
    low = np.sort(rng.choice(np.arange(1, q1_top + 1), n_q1, replace=False))
    high = np.sort(rng.choice(np.arange(q1_top + 1, NATIONAL_ZONES + 1), n - n_q1, replace=False))
    ranks = np.empty(n, dtype=int)
    ranks[np.argsort(-score, kind="stable")] = np.concatenate([low, high])
    return ranks


def _name_groups(xy: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Names for areas (settlement plus Central, a compass point or a suffix; or a district name)
    and the index in PLACES of each area's nearest settlement."""
    centres = np.array([p.xy for p in PLACES])
    near = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    names = [""] * len(xy)
    districts = iter(DISTRICTS)
    for k, place in enumerate(PLACES):
        members = np.flatnonzero(near == k)
        d = np.hypot(xy[members, 0] - centres[k, 0], xy[members, 1] - centres[k, 1])
        used: set[str] = set()
        spare = iter([f"{place.name} {s}" for s in SUFFIXES])
        for pos, i in enumerate(members[np.argsort(d, kind="stable")]):
            if len(members) == 1:
                names[i] = place.name
                continue
            angle = np.arctan2(xy[i, 1] - centres[k, 1], xy[i, 0] - centres[k, 0])
            word = "Central" if pos == 0 else COMPASS[int(np.round(angle / (np.pi / 4))) % 8]
            name = f"{place.name} {word}"
            if name in used:
                name = next(spare, None) or next(districts)
            used.add(name)
            names[i] = name
    return names, near


def _ward_names(iz_place: np.ndarray, ward_of_iz: np.ndarray, ward_xy: np.ndarray) -> list[str]:
    """Ward names from the settlements nearest to their intermediate zones."""
    place_names = [p.name for p in PLACES]
    tops = []
    for w in range(len(ward_xy)):
        counts = Counter(place_names[iz_place[i]] for i in np.flatnonzero(ward_of_iz == w))
        tops.append(sorted(counts.items(), key=lambda kv: (-kv[1], place_names.index(kv[0]))))
    leads = [top[0][0] for top in tops]
    names: list[str] = []
    for w, top in enumerate(tops):
        second = f" and {top[1][0]}" if len(top) > 1 and top[1][1] > 1 else ""
        sharing = [v for v in range(len(tops)) if leads[v] == leads[w]]
        if len(sharing) == 1:
            name = leads[w] + second
        else:
            cx, cy = ward_xy[sharing].mean(axis=0)
            angle = np.arctan2(ward_xy[w, 1] - cy, ward_xy[w, 0] - cx)
            name = f"{leads[w]} {COMPASS[int(np.round(angle / (np.pi / 4))) % 8]}"
            if name in names:
                name += second or " Rural"
        names.append(name)
    if len(set(names)) != len(names):
        raise RuntimeError(f"sample geography: ward names repeat: {names}")
    return names


def _group(
    rng: np.random.Generator,
    polys: list,
    adj: list[list[int]],
    weight: np.ndarray,
    k: int,
    sizes: tuple[int, int] | None,
) -> np.ndarray:
    """Contiguous groups of polygons: k-means seeds, balanced growth, optional size repair."""
    xy = centroids(polys)
    labels = grow_regions(adj, xy, weight, kmeans_seeds(rng, xy, k, weight))
    labels = rebalance(labels, adj, weight)
    if sizes is not None:
        labels = repair_sizes(labels, adj, *sizes)
    for r in range(labels.max() + 1):
        if not is_contiguous(list(np.flatnonzero(labels == r)), adj):
            raise RuntimeError(f"sample geography: group {r} is not contiguous")
    return labels


def _inverse(order: np.ndarray) -> np.ndarray:
    inv = np.empty(len(order), dtype=int)
    inv[order] = np.arange(len(order))
    return inv


def _nest(
    rng: np.random.Generator, cells: list, adj: list[list[int]], pop: np.ndarray
) -> tuple[np.ndarray, list[shapely.Polygon], np.ndarray, list[shapely.Polygon]]:
    """Intermediate zones of 4 to 8 cells, then population-balanced wards of zones (unordered)."""
    iz = _group(rng, cells, adj, np.ones(len(cells)), N_IZ, (4, 8))
    iz_polys = _unions(cells, iz, int(iz.max()) + 1)
    ward = _group(rng, iz_polys, adjacency(iz_polys), np.bincount(iz, pop), N_WARDS, None)
    return iz, iz_polys, ward, _unions(iz_polys, ward, N_WARDS)


def build_geography(rng: np.random.Generator) -> Geography:
    """Outline, tessellation, nesting, codes, names, populations and SIMD ranks, in code order."""
    outline = make_outline(rng)
    cells0 = tessellate(make_seeds(rng, outline, N_NEIGHBOURHOODS), outline)
    adj0 = adjacency(cells0)
    pop0 = np.clip(np.round(rng.normal(780.0, 115.0, len(cells0))), 505, 995).astype(int)
    iz0, iz_polys0, ward0, ward_polys0 = _nest(rng, cells0, adj0, pop0)

    ward_order = _reading_order(centroids(ward_polys0))
    ward_rank = _inverse(ward_order)
    iz_order = _reading_order(centroids(iz_polys0), ward_rank[ward0])
    iz_rank = _inverse(iz_order)
    cell_order = _reading_order(centroids(cells0), iz_rank[iz0])
    cell_rank = _inverse(cell_order)

    cells = [cells0[i] for i in cell_order]
    iz_of = iz_rank[iz0[cell_order]]
    iz_polys = [iz_polys0[i] for i in iz_order]
    ward_of_iz = ward_rank[ward0[iz_order]]
    ward_polys = [ward_polys0[i] for i in ward_order]
    iz_names, iz_place = _name_groups(centroids(iz_polys))
    names = []
    for i in range(len(cells)):
        names.append(f"{iz_names[iz_of[i]]} - {int((iz_of[:i] == iz_of[i]).sum()) + 1:02d}")
    council = shapely.union_all(ward_polys, grid_size=GRID)
    if not isinstance(council, shapely.Polygon) or not council.is_valid:
        raise RuntimeError("sample geography: the council is not one valid polygon")
    return Geography(
        council=council,
        cells=cells,
        codes=[f"S019{i + 1:05d}" for i in range(len(cells))],
        names=names,
        population=pop0[cell_order],
        rank=_rank_cells(rng, centroids(cells)),
        iz_of=iz_of,
        adj=[sorted(int(cell_rank[j]) for j in adj0[i]) for i in cell_order],
        iz_polys=iz_polys,
        iz_codes=[f"S029{i + 1:05d}" for i in range(len(iz_polys))],
        iz_names=iz_names,
        ward_of_iz=ward_of_iz,
        ward_polys=ward_polys,
        ward_codes=[f"S139{i + 1:05d}" for i in range(len(ward_polys))],
        ward_names=_ward_names(iz_place, ward_of_iz, centroids(ward_polys)),
        hotspots=[(name, _place(place).xy[0] + dx, _place(place).xy[1] + dy)
                  for name, place, dx, dy, _, _ in HOTSPOTS],
    )
