"""Plan coverage of the 130 HSCP localities plus 300 drawn plans against the 6,976 data zones:
capmap's overlap pairs against geopandas.overlay on the same frames in the same run.

    python bench/bench_coverage.py [--runs 3]

Two sets of localities: built from whole data zones (as most Locality Plans are drawn, though from
full-resolution zones, so their edges still wander across the generalised ones), and PHS's
generalised outlines. Both tools work in EPSG:27700 on frames already projected (capmap's engine
keeps its layers projected in memory). The result compared is the share of each data zone covered by
each plan. Both sides are the minimum of --runs runs. The last row, plans given as codes, compares
two different algorithms (capmap does not overlay a plan made of whole zones) and says so.
"""

from __future__ import annotations

import argparse

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from common import best_of, realdata

from capmap.core.crs import geoms_lonlat_to_bng
from capmap.io.validate import polygon_parts
from capmap.spatial.overlay import coverage_shares, plan_shares


def bng_frame(name: str, columns: list[str]) -> gpd.GeoDataFrame:
    frame = pyogrio.read_dataframe(realdata(name), columns=columns)
    geoms = geoms_lonlat_to_bng(polygon_parts(frame.geometry.values)[0])
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=geoms, crs=27700)


def drawn_plans(zones: gpd.GeoDataFrame, n: int = 300, seed: int = 4) -> np.ndarray:
    """Freely drawn plan areas: blobs of 0.5 to 8 km across around random data zone centres,
    with irregular outlines, ignoring data zone edges."""
    rng = np.random.default_rng(seed)
    centres = shapely.centroid(zones.geometry.values[rng.integers(0, len(zones), n)])
    radii = rng.uniform(250, 4000, n)
    blobs = []
    for centre, radius in zip(centres, radii, strict=True):
        angles = np.sort(rng.uniform(0, 2 * np.pi, 24))
        r = radius * rng.uniform(0.6, 1.2, 24)
        ring = np.column_stack([centre.x + r * np.cos(angles), centre.y + r * np.sin(angles)])
        blobs.append(shapely.make_valid(shapely.Polygon(ring)))
    return np.array(blobs, dtype=object)


def capmap_shares(plans: np.ndarray, zones: np.ndarray) -> pd.DataFrame:
    pairs = coverage_shares(plans, zones)
    return pairs[["cover", "area", "share_of_area"]]


def overlay_shares(plans: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> pd.DataFrame:
    pieces = gpd.overlay(plans, zones, how="intersection", keep_geom_type=True)
    pieces["overlap"] = pieces.area
    pieces = pieces.groupby(["cover", "area"], as_index=False)["overlap"].sum()
    pieces["share_of_area"] = pieces["overlap"] / zones.area.to_numpy()[pieces["area"]]
    return pieces[pieces["overlap"] > 0][["cover", "area", "share_of_area"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each side; the min is kept")
    runs = parser.parse_args().runs
    zones = bng_frame("datazones_2011_scotland.geojson", ["code"])
    for name in ("localities_hscp_dzbuilt.geojson", "localities_hscp_phs2020.geojson"):
        print(f"-- localities from {name}, as drawn geometry")
        compare(zones, bng_frame(name, ["code"]), runs)
    print("-- localities as lists of data zone codes (how Locality Plans are usually imported; "
          "the plan area is the union of its zones). A different algorithm from the overlay: "
          "capmap takes a listed zone's share as whole without intersecting anything (only the "
          "300 drawn plans are overlaid), while geopandas.overlay intersects the union geometry; "
          "the ratio is of two algorithms, not of two implementations of one")
    compare_by_codes(zones, bng_frame("localities_hscp_dzbuilt.geojson", ["code"]), runs)


def compare_by_codes(zones: gpd.GeoDataFrame, localities: gpd.GeoDataFrame, runs: int) -> None:
    """capmap's shares for plans given as codes (no overlay for them) against overlay of the same
    plans' geometry, the union of their zones."""
    # Setup, not timed: each zone belongs to the locality holding a point inside it.
    inner = shapely.point_on_surface(zones.geometry.values)
    tree = shapely.STRtree(localities.geometry.values)
    zone_i, locality_i = tree.query(inner, predicate="within")
    members = [zones["code"].to_numpy()[zone_i[locality_i == k]].tolist()
               for k in range(len(localities))]
    unions = np.array([shapely.union_all(zones.geometry.values[zone_i[locality_i == k]])
                       for k in range(len(localities))], dtype=object)
    drawn = drawn_plans(zones)
    plans = np.concatenate([unions, drawn])
    codes = members + [None] * len(drawn)
    areas, area_codes = zones.geometry.values, zones["code"].to_numpy()
    ours_s, ours = best_of(lambda: plan_shares(plans, codes, area_codes, areas)[
        ["cover", "area", "share_of_area"]], runs)
    plan_frame = gpd.GeoDataFrame({"cover": np.arange(len(plans))}, geometry=plans, crs=27700)
    zone_frame = gpd.GeoDataFrame({"area": np.arange(len(zones))}, geometry=areas, crs=27700)
    theirs_s, theirs = best_of(lambda: overlay_shares(plan_frame, zone_frame), runs)
    report(ours_s, ours, theirs_s, theirs, ours_label="capmap (codes, no overlay)")


def compare(zones: gpd.GeoDataFrame, localities: gpd.GeoDataFrame, runs: int) -> None:
    plans = np.concatenate([localities.geometry.values, drawn_plans(zones)])
    print(f"{len(plans)} plans ({len(localities)} localities + {len(plans) - len(localities)} "
          f"drawn) against {len(zones)} data zones")
    ours_s, ours = best_of(lambda: capmap_shares(plans, zones.geometry.values), runs)
    plan_frame = gpd.GeoDataFrame({"cover": np.arange(len(plans))}, geometry=plans, crs=27700)
    zone_frame = gpd.GeoDataFrame({"area": np.arange(len(zones))}, geometry=zones.geometry.values,
                                  crs=27700)
    theirs_s, theirs = best_of(lambda: overlay_shares(plan_frame, zone_frame), runs)
    report(ours_s, ours, theirs_s, theirs)


def report(ours_s: float, ours: pd.DataFrame, theirs_s: float, theirs: pd.DataFrame,
           ours_label: str = "capmap overlay") -> None:
    """Times, ratio and the largest difference in share between the two answers."""
    merged = ours.merge(theirs, on=["cover", "area"], how="outer", suffixes=("_capmap", "_overlay"))
    missing = merged.isna().any(axis=1)
    # A pair one side finds and the other not must be a vanishing sliver.
    diff = (merged["share_of_area_capmap"].fillna(0) - merged["share_of_area_overlay"].fillna(0))
    print(f"{ours_label}: {ours_s:.2f} s, {len(ours):,} plan x zone pairs")
    print(f"geopandas.overlay: {theirs_s:.2f} s, {len(theirs):,} pairs; "
          f"{ours_label} {theirs_s / ours_s:.1f}x faster")
    print(f"largest difference in share of a zone: {np.abs(diff).max():.2e} "
          f"({int(missing.sum())} pairs found by one side only)")


if __name__ == "__main__":
    main()
