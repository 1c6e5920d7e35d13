"""Web map payload of all 6,976 real data zones against the plain way to send a simplified layer.

The peer is what a careful developer would write without capmap: `shapely.coverage_simplify` of
the layer in British National Grid at the same tolerance (so neighbours still meet), back to
lon/lat, coordinates rounded to the same number of decimals (numpy rounding, vertex by vertex, so
shared vertices stay shared), as compact GeoJSON with the same properties. capmap sends the layer
simplified as one coverage for the zoom (6: all of Scotland on one screen, about 1.4 km a pixel at
56°N), rounded to the zoom's precision, with islets dropped and rounding that never breaks a polygon.
Both are measured as gzip bytes (level 9), which is what crosses the wire; gaps and overlaps between
neighbours are measured on both answers. A plain folium embed of the raw layer (every column,
unsimplified) is printed for information only.

    PYTHONPATH=src python bench/bench_payload.py
"""

from __future__ import annotations

import gzip
import json

import folium
import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from common import best_of, realdata

from capmap.core.crs import geoms_bng_to_lonlat, geoms_lonlat_to_bng
from capmap.io.validate import polygon_parts
from capmap.spatial.encode import compact_collection, decode_geometry
from capmap.spatial.simplify import coverage_defects, decimals_for, payload, simplify_coverage, tolerance_m

SCOTLAND_ZOOM = 6
PROPERTIES = ["code", "name"]
GLASGOW = "S12000049"


def repaired(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The layer with invalid geometries mended as capmap's import mends them."""
    out = frame.copy()
    out.geometry.values[:] = polygon_parts(out.geometry.values)[0]
    return out


def gz(text: str) -> int:
    """Size in bytes of text once gzipped."""
    return len(gzip.compress(text.encode("utf-8"), compresslevel=9))


def folium_html(frame: gpd.GeoDataFrame) -> str:
    """A folium map with the layer embedded whole as GeoJson, rendered to HTML."""
    bounds = frame.total_bounds
    fmap = folium.Map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2],
                      zoom_start=SCOTLAND_ZOOM, tiles=None)
    folium.GeoJson(frame).add_to(fmap)
    return fmap.get_root().render()


def peer_payload(frame: gpd.GeoDataFrame, zoom: int) -> tuple[str, np.ndarray]:
    """coverage_simplify in BNG at capmap's tolerance, rounded lon/lat, compact GeoJSON text;
    and the peer's geometries."""
    bng = geoms_lonlat_to_bng(np.asarray(frame.geometry.values, dtype=object))
    simple = shapely.coverage_simplify(bng, tolerance_m(zoom))
    decimals = decimals_for(zoom)
    geoms = shapely.transform(geoms_bng_to_lonlat(simple), lambda xy: np.round(xy, decimals))
    features = [{"type": "Feature", "properties": {p: frame[p].iloc[i] for p in PROPERTIES},
                 "geometry": json.loads(g)} for i, g in enumerate(shapely.to_geojson(geoms))]
    text = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    return text, geoms


def vertices(frame: gpd.GeoDataFrame) -> int:
    """Number of coordinates in a layer."""
    return int(shapely.get_num_coordinates(frame.geometry.values).sum())


def compare(label: str, frame: gpd.GeoDataFrame, zoom: int, repeat: int) -> None:
    """Print the payload for one zoom against the coverage_simplify peer, with gaps, overlaps and
    times (and the folium embed for information)."""
    folium_s, html = best_of(lambda: folium_html(frame), repeat)
    peer_s, (peer_text, peer_geoms) = best_of(lambda: peer_payload(frame, zoom), repeat)
    ours_s, text = best_of(lambda: json.dumps(payload(frame, zoom, PROPERTIES)), repeat)
    peer_gz, ours_gz = gz(peer_text), gz(text)
    simple = simplify_coverage(frame, zoom)
    whole = shapely.union_all(frame.geometry.values)
    defects = coverage_defects(simple.geometry.values, whole)
    # Plain rounding can break a polygon (a ring crossing itself): counted, then mended to measure
    # the gaps and overlaps at all.
    peer_invalid = int((~shapely.is_valid(peer_geoms)).sum())
    peer_defects = coverage_defects(shapely.make_valid(peer_geoms), whole)
    code_only = gz(json.dumps(payload(frame, zoom, ["code"]), separators=(",", ":")))
    compact_s, compact = best_of(lambda: json.dumps(compact_collection(
        simplify_coverage(frame, zoom), PROPERTIES), separators=(",", ":")), repeat)
    decoded = [decode_geometry(f["geometry"]) for f in json.loads(compact)["features"]]
    oriented = shapely.orient_polygons(np.asarray(simple.geometry.values, dtype=object))
    exact = all(a.equals_exact(b, 1e-9) for a, b in zip(decoded, oriented, strict=True))
    print(f"{label}, zoom {zoom}: {len(frame)} areas, vertices {vertices(frame):,} -> "
          f"{vertices(simple):,}")
    print(f"  peer coverage_simplify + rounded GeoJSON: {len(peer_text):,} B, gzip {peer_gz:,} B, "
          f"{peer_s:.2f} s; invalid after rounding {peer_invalid}, gaps {peer_defects['gaps']}, "
          f"overlapping pairs {peer_defects['overlap_pairs']}")
    print(f"  capmap payload {PROPERTIES}: {len(text):,} B, gzip {ours_gz:,} B, {ours_s:.2f} s; "
          f"ratio of gzip bytes {ours_gz / peer_gz:.3f}, of time {ours_s / peer_s:.2f}")
    print(f"  (for information, folium.GeoJson of the raw layer: gzip {gz(html):,} B, "
          f"{folium_s:.2f} s)")
    print(f"  (['code'] only, compact JSON: gzip {code_only:,} B)")
    print(f"  capmap compact encoding {PROPERTIES}: gzip {gz(compact):,} B, {compact_s:.2f} s; "
          f"ratio to the peer {gz(compact) / peer_gz:.3f}; decodes to the same geometry: {exact}")
    print(f"  gaps {defects['gaps']} ({defects['gap_m2']:.3f} m²), overlapping pairs "
          f"{defects['overlap_pairs']} ({defects['overlap_m2']:.3f} m²); union area "
          f"{defects['union_m2'] / 1e6:,.1f} km²")


def main() -> None:
    scotland = repaired(pyogrio.read_dataframe(realdata("datazones_2011_scotland.geojson")))
    compare("All Scottish data zones", scotland, SCOTLAND_ZOOM, repeat=3)
    glasgow = scotland[scotland["council_code"] == GLASGOW].reset_index(drop=True)
    for zoom in (9, 12):
        compare(f"Glasgow ({GLASGOW}) data zones, for information", glasgow, zoom, repeat=3)
    fullres = realdata("datazones_2011_glasgow_fullres.geojson")
    glasgow_full = repaired(pyogrio.read_dataframe(fullres))
    for zoom in (9, 12):
        compare("Glasgow data zones at full resolution, for information", glasgow_full, zoom, repeat=3)


if __name__ == "__main__":
    main()
