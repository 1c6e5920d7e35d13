"""The demo data set: a fictional council, Glenarden, with its areas, plans and engagement.

`generate(out_dir)` writes every file of `sample_geodata/` byte for byte the same on every machine:
one fixed seed per part, no clock, coordinates written at fixed precision by our own writers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely

from capmap.sample.actions import ACTION_COLUMNS, build_actions
from capmap.sample.areas import (
    COUNCIL_CODE,
    COUNCIL_NAME,
    Geography,
    build_geography,
    decile,
    domain_ranks,
    quintile,
)
from capmap.sample.community import (
    COUNCILLOR_COLUMNS,
    build_community_councils,
    build_councillors,
)
from capmap.sample.history import HISTORY_COLUMNS, build_history
from capmap.sample.io import write_csv, write_geojson
from capmap.sample.people import (
    POSTCODE_COLUMNS,
    RESPONSE_COLUMNS,
    build_pins,
    build_postcodes,
    build_responses,
)
from capmap.sample.plans import PLAN_COLUMNS, Plan, build_plans, to_lonlat
from capmap.sample.readme import readme_text
from capmap.sample.register import STEP_COLUMNS, build_register

SEED = 20251
AREA_LAYER = "sample_dz"  # the boundary layer id that plans_by_area.csv codes refer to


Entry = tuple[Path, str, int, tuple[str, ...]]  # a written file, its CRS, rows and columns


def _geojson(out: Path, name: str, features: list, bng: bool) -> Entry:
    """Write one GeoJSON layer and describe it for the README."""
    path = write_geojson(out / f"{name}.geojson", name, features, bng=bng)
    return path, "EPSG:27700" if bng else "EPSG:4326", len(features), tuple(features[0][0])


def _csv(out: Path, name: str, crs: str, header: tuple[str, ...], rows: list) -> Entry:
    """Write one CSV table and describe it for the README."""
    return write_csv(out / f"{name}.csv", header, rows), crs, len(rows), tuple(header)


def _rng(part: int) -> np.random.Generator:
    """A generator for one part of the data set, so editing one part leaves the others alone."""
    return np.random.default_rng([SEED, part])


def _write_areas(out: Path, geo: Geography, domains: dict[str, np.ndarray]) -> list[Entry]:
    """council, neighbourhoods (with SIMD domain ranks), intermediate_zones and wards GeoJSON
    (EPSG:27700)."""
    iz_pop = np.bincount(geo.iz_of, geo.population).astype(int)
    ward_pop = np.bincount(geo.ward_of_iz, iz_pop).astype(int)
    council = [({"code": COUNCIL_CODE, "name": COUNCIL_NAME}, geo.council)]
    cells = []
    for i, cell in enumerate(geo.cells):
        rank = int(geo.rank[i])
        props = {"code": geo.codes[i], "name": geo.names[i], "iz_code": geo.iz_codes[geo.iz_of[i]],
                 "council_code": COUNCIL_CODE, "population": int(geo.population[i]),
                 "simd_rank": rank, "simd_decile": decile(rank), "simd_quintile": quintile(rank),
                 **{f"{name}_rank": int(ranks[i]) for name, ranks in domains.items()}}
        cells.append((props, cell))
    izs = [({"code": geo.iz_codes[i], "name": geo.iz_names[i], "council_code": COUNCIL_CODE,
             "ward_code": geo.ward_codes[geo.ward_of_iz[i]], "population": int(iz_pop[i])}, poly)
           for i, poly in enumerate(geo.iz_polys)]
    wards = [({"code": geo.ward_codes[i], "name": geo.ward_names[i], "council_code": COUNCIL_CODE,
               "population": int(ward_pop[i])}, poly) for i, poly in enumerate(geo.ward_polys)]
    return [
        _geojson(out, "council", council, bng=True),
        _geojson(out, "neighbourhoods", cells, bng=True),
        _geojson(out, "intermediate_zones", izs, bng=True),
        _geojson(out, "wards", wards, bng=True),
    ]


def _write_plans(out: Path, by_area: list[Plan], drawn: list[Plan]) -> list[Entry]:
    """plans.geojson (EPSG:4326) and plans_by_area.csv (neighbourhood codes)."""
    features = [(p.record(), to_lonlat(p.area)) for p in drawn]
    rows = [[*p.record().values(), AREA_LAYER, ";".join(p.codes)] for p in by_area]
    return [
        _geojson(out, "plans", features, bng=False),
        _csv(out, "plans_by_area", "none (neighbourhood codes)",
             (*PLAN_COLUMNS, "layer", "area_codes"), rows),
    ]


def generate(out_dir: Path) -> list[Path]:
    """Write the whole sample data set into out_dir (created if missing); return the file paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    geo = build_geography(_rng(1))
    by_area, drawn = build_plans(_rng(2), geo)
    actions = build_actions(_rng(3), by_area + drawn)
    responses = build_responses(_rng(4), geo, {p.ref: p.area for p in drawn})
    pins = build_pins(_rng(5), geo)
    postcodes = build_postcodes(_rng(6), geo)
    pin_features = [(props, shapely.Point(xy)) for props, xy in pins]
    domains = domain_ranks(_rng(7), geo.rank)
    entries = _write_areas(out, geo, domains) + _write_plans(out, by_area, drawn) + [
        _csv(out, "actions", "EPSG:4326 (lon, lat)", ACTION_COLUMNS, actions),
        _csv(out, "responses", "EPSG:27700 (easting, northing)", RESPONSE_COLUMNS, responses),
        _geojson(out, "pins", pin_features, bng=False),
        _csv(out, "postcodes", "EPSG:27700 (easting, northing)", POSTCODE_COLUMNS, postcodes),
        _csv(out, "lpp_register", "none (plan refs)", STEP_COLUMNS, build_register()),
        _csv(out, "action_history", "none (action refs)", HISTORY_COLUMNS,
             build_history(_rng(40), actions)),
        _geojson(out, "community_councils", build_community_councils(_rng(41), geo), bng=True),
        _csv(out, "councillors", "none (ward codes)", COUNCILLOR_COLUMNS,
             build_councillors(_rng(42), geo)),
    ]
    readme = out / "README.md"
    files = [(path.name, crs, rows, cols) for path, crs, rows, cols in entries]
    readme.write_text(readme_text(files), encoding="utf-8", newline="\n")
    return [entry[0] for entry in entries] + [readme]
