"""The notification list of proposed Local Place Plans at a national size: the real 2022 wards
(355, ../shared/realdata, see its SOURCES.md) with three or four councillors each, and the 2011
intermediate zones (1,279) standing in for Scotland's ~1,200 community council areas, which are
of the same number and size (no community council layer is in realdata). Without realdata, or
with --synthetic, a grid of 361 square wards and an offset grid of 1,225 community councils.

--plans Local Place Plans (discs of 0.8 to 2.5 km radius, 64 sides, at random places in the
wards) each get their list from capmap (lpp_notify.notification_list: the engine's STRtree per
layer, councillors read by code in SQL), one request at a time as the web asks, against a good
geopandas peer on the same data in the same run: the wards and community councils held in
GeoDataFrames with prepared geometries, councillors in a DataFrame, one sjoin (intersects for
wards, dwithin 5 m for community councils) per plan with the same overlap, sliver and
shared-boundary sums, and again as one batched sjoin over every plan. Both answers are checked
to be the same before anything is timed.

    python bench/bench_lpp_notify.py [--plans 200] [--runs 3] [--synthetic] [--postgis URL]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from common import REALDATA, best_of

from capmap.core.crs import geoms_bng_to_lonlat
from capmap.core.models import LayerDef
from capmap.io.prepare import PlanFields
from capmap.services import pipeline
from capmap.services.councillors import import_councillors
from capmap.services.engine import Engine
from capmap.services.lpp_notify import DEFAULT_ADJOIN_M, notification_list
from capmap.services.lpp_regard import plan_query
from capmap.spatial.slivers import DEFAULT_TOLERANCE, edge_only, widths
from capmap.storage import open_store
from capmap.storage.schema import metadata

WARDS = REALDATA / "wards_2022_scotland_ons2022_bsc.geojson"
COMMUNITY = REALDATA / "intermediate_zones_2011_scotland.geojson"


def _synthetic(folder: Path) -> tuple[Path, Path]:
    """361 wards of 8 km and 1,225 community councils of 4.4 km, offset so no edge lines up."""
    def grid(name: str, n: int, size: float, dx: float, prefix: str) -> Path:
        cells = [shapely.box(200_000 + dx + i * size, 650_000 + dx + j * size,
                             200_000 + dx + (i + 1) * size, 650_000 + dx + (j + 1) * size)
                 for i in range(n) for j in range(n)]
        frame = gpd.GeoDataFrame({"code": [f"{prefix}{k:05d}" for k in range(len(cells))],
                                  "name": [f"{name} {k}" for k in range(len(cells))],
                                  "council_code": "S12000001"}, geometry=cells, crs=27700)
        path = folder / f"{name}.geojson"
        frame.to_crs(4326).to_file(path, driver="GeoJSON")
        return path
    return grid("wards", 19, 8000.0, 0.0, "S139"), grid("community", 35, 4400.0, 1300.0, "CC")


def _lpps(wards: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> np.ndarray:
    """Discs (EPSG:27700) of 0.8 to 2.5 km radius centred in randomly chosen wards."""
    geoms = wards.to_crs(27700).geometry.values
    picks = rng.integers(0, len(geoms), n)
    centres = shapely.point_on_surface(geoms[picks])
    return shapely.buffer(centres, rng.uniform(800, 2500, n), quad_segs=16)


def _load(url: str, folder: Path, ward_file: Path, cc_file: Path, discs: np.ndarray,
          councillors: str) -> None:
    store = open_store(url)
    with store.engine.begin() as conn:
        metadata.drop_all(conn)
    store.init()
    for layer_id, kind, path in (("wards", "ward", ward_file), ("ccs", "community", cc_file)):
        pipeline.import_boundaries(store, LayerDef(id=layer_id, kind=kind, vintage="2026",
                                                   parent_field="council_code"), path)
    features = [{"type": "Feature", "geometry": shapely.geometry.mapping(g),
                 "properties": {"ref": f"LPP-{k}", "type": "local_place_plan",
                                "title": f"Plan {k}"}}
                for k, g in enumerate(geoms_bng_to_lonlat(discs))]
    plans = folder / "lpps.geojson"
    plans.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    pipeline.import_plans(store, plans, PlanFields())
    import_councillors(store, councillors)
    store.close()


def _councillors(wards: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = [(code, f"Councillor {code}-{k}", "", f"c{k}.{code.lower()}@example.org")
            for code in wards["code"] for k in range(int(rng.integers(3, 5)))]
    return pd.DataFrame(rows, columns=["ward_code", "name", "party", "email"])


class Peer:
    """The same lists from GeoDataFrames held in memory (EPSG:27700, prepared geometries)."""

    def __init__(self, ward_file: Path, cc_file: Path, councillors: pd.DataFrame) -> None:
        self.wards = gpd.read_file(ward_file).to_crs(27700)[["code", "geometry"]]
        self.ccs = gpd.read_file(cc_file).to_crs(27700)[["code", "geometry"]]
        for frame in (self.wards, self.ccs):
            frame["area"] = frame.area
            shapely.prepare(frame.geometry.values)
            frame.sindex  # noqa: B018 - built once, as a service holding the frames would
        self.councillors = councillors

    def _overlaps(self, lpps: gpd.GeoDataFrame, areas: gpd.GeoDataFrame, **join) -> pd.DataFrame:
        pairs = gpd.sjoin(lpps, areas, **join)
        mine = pairs.geometry.values
        theirs = areas.geometry.values[pairs["index_right"].to_numpy()]
        pieces = shapely.intersection(mine, theirs)
        pieces = np.array([_polygons(p) for p in pieces], dtype=object)
        m2 = shapely.area(pieces)
        sliver = edge_only(m2 / shapely.area(mine), m2 / pairs["area"].to_numpy(),
                           widths(pieces), DEFAULT_TOLERANCE)
        return pairs.assign(m2=m2, within=(m2 > 0) & ~sliver, mine=mine, theirs=theirs)

    def lists(self, lpps: gpd.GeoDataFrame) -> dict:
        """Per plan ref: (wards, councillors, community councils within, adjoining)."""
        wards = self._overlaps(lpps, self.wards, predicate="intersects")
        wards = wards[wards["within"]]
        people = wards[["ref", "code"]].merge(self.councillors, left_on="code",
                                              right_on="ward_code")
        ccs = self._overlaps(lpps, self.ccs, predicate="dwithin", distance=DEFAULT_ADJOIN_M)
        near = shapely.buffer(shapely.boundary(ccs["mine"].to_numpy()), DEFAULT_ADJOIN_M)
        ccs["shared"] = shapely.length(shapely.intersection(
            shapely.boundary(ccs["theirs"].to_numpy()), near))
        out = {ref: (set(), set(), set(), set()) for ref in lpps["ref"]}
        for ref, code in zip(wards["ref"], wards["code"], strict=True):
            out[ref][0].add(code)
        for ref, name in zip(people["ref"], people["name"], strict=True):
            out[ref][1].add(name)
        for ref, code, within in zip(ccs["ref"], ccs["code"], ccs["within"], strict=True):
            out[ref][2 if within else 3].add(code)
        return out


def _polygons(geom):
    if shapely.get_type_id(geom) != 7:
        return geom
    parts = shapely.get_parts(geom)
    return shapely.union_all(parts[np.isin(shapely.get_type_id(parts), (3, 6))])


def _ours(engine, store, plan_id: int) -> tuple[set, set, set, set]:
    answer = notification_list(engine, store, plan_query(engine, plan_id))
    ccs = answer["community_councils"]
    return ({w["code"] for w in answer["wards"]},
            {c["name"] for w in answer["wards"] for c in w["councillors"]},
            {c["code"] for c in ccs if c["relation"] == "within"},
            {c["code"] for c in ccs if c["relation"] == "adjoins"})


def run(url: str, folder: Path, files: tuple[Path, Path], discs: np.ndarray,
        councillors: pd.DataFrame, runs: int) -> None:
    text = councillors.to_csv(index=False)
    _load(url, folder, *files, discs, text)
    store = open_store(url)
    engine = Engine(store, check_every=1.0)  # as the app makes it (VERSION_CHECK_MS 1000)
    ids = store.plan_ids()
    refs = [f"LPP-{k}" for k in range(len(discs))]
    lpps = gpd.GeoDataFrame({"ref": refs}, geometry=list(discs), crs=27700)
    peer = Peer(*files, councillors)
    expected = peer.lists(lpps)
    ours_all = {ref: _ours(engine, store, ids[ref]) for ref in refs}  # also warms the engine
    differ = [ref for ref in refs if ours_all[ref] != expected[ref]]
    assert not differ, f"capmap and the peer differ for {differ[:5]}"
    ours, _ = best_of(lambda: [_ours(engine, store, ids[r]) for r in refs], runs)
    one_by_one, _ = best_of(lambda: [peer.lists(lpps.iloc[k:k + 1]) for k in range(len(refs))],
                            runs)
    batched, _ = best_of(lambda: peer.lists(lpps), runs)
    listed = sum(len(v[1]) + len(v[2]) + len(v[3]) for v in ours_all.values())
    adjoining = sum(len(v[3]) for v in ours_all.values())
    per = 1e3 / len(refs)
    print(f"{url.split(':')[0]}: {len(refs)} plans, {len(peer.wards)} wards, {len(peer.ccs)} "
          f"community councils, {len(councillors)} councillors; {listed} recipients "
          f"({adjoining} adjoining community councils)")
    print(f"  capmap, one plan a request: {ours * per:.2f} ms a plan")
    print(f"  geopandas sjoin, one plan at a time: {one_by_one * per:.2f} ms a plan "
          f"(capmap x{one_by_one / ours:.2f} faster)")
    print(f"  geopandas sjoin, all {len(refs)} plans batched: {batched * per:.2f} ms a plan "
          f"(capmap x{batched / ours:.2f}; a request never holds a batch)")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--synthetic", action="store_true", help="the grids, even with realdata")
    parser.add_argument("--postgis", help="an empty PostGIS database URL (its tables are dropped)")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        real = WARDS.exists() and COMMUNITY.exists() and not args.synthetic
        if not real:
            print("using synthetic grids" + ("" if args.synthetic else
                                             f" ({WARDS} or {COMMUNITY} not found)"))
        files = (WARDS, COMMUNITY) if real else _synthetic(folder)
        wards = gpd.read_file(files[0])
        discs = _lpps(wards, args.plans, rng)
        councillors = _councillors(wards, rng)
        run(f"sqlite:///{folder / 'bench.sqlite'}", folder, files, discs, councillors, args.runs)
        if args.postgis:
            run(args.postgis, folder, files, discs, councillors, args.runs)


if __name__ == "__main__":
    main()
