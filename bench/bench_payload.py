"""Web map payload of all 6,976 real data zones against a plain folium embed of the same layer.

The peer is what a first folium map does: `folium.GeoJson(layer)` of the unsimplified layer, with every
column, rendered into the map's HTML. capmap sends the layer simplified as one coverage for zoom 6 (all
of Scotland on one screen, about 1.4 km a pixel at 56°N), rounded to the zoom's precision, with only
the properties a map needs. Both are measured as gzip bytes (level 9), which is what crosses the
wire. Gaps and overlaps between neighbours are measured on the simplified layer and must be zero.

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

from capmap.io.validate import polygon_parts
from capmap.spatial.encode import compact_collection, decode_geometry
from capmap.spatial.simplify import coverage_defects, payload, simplify_coverage

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


def vertices(frame: gpd.GeoDataFrame) -> int:
    """Number of coordinates in a layer."""
    return int(shapely.get_num_coordinates(frame.geometry.values).sum())


def compare(label: str, frame: gpd.GeoDataFrame, zoom: int, repeat: int) -> None:
    """Print the payload for one zoom against the folium embed, with gaps, overlaps and times."""
    peer_s, html = best_of(lambda: folium_html(frame), repeat)
    ours_s, text = best_of(lambda: json.dumps(payload(frame, zoom, PROPERTIES)), repeat)
    peer_gz, ours_gz = gz(html), gz(text)
    simple = simplify_coverage(frame, zoom)
    defects = coverage_defects(simple.geometry.values, shapely.union_all(frame.geometry.values))
    code_only = gz(json.dumps(payload(frame, zoom, ["code"]), separators=(",", ":")))
    compact_s, compact = best_of(lambda: json.dumps(compact_collection(
        simplify_coverage(frame, zoom), PROPERTIES), separators=(",", ":")), repeat)
    decoded = [decode_geometry(f["geometry"]) for f in json.loads(compact)["features"]]
    oriented = shapely.orient_polygons(np.asarray(simple.geometry.values, dtype=object))
    exact = all(a.equals_exact(b, 1e-9) for a, b in zip(decoded, oriented, strict=True))
    print(f"{label}, zoom {zoom}: {len(frame)} areas, vertices {vertices(frame):,} -> "
          f"{vertices(simple):,}")
    print(f"  folium.GeoJson map HTML: {len(html):,} B, gzip {peer_gz:,} B, {peer_s:.2f} s")
    print(f"  capmap payload {PROPERTIES}: {len(text):,} B, gzip {ours_gz:,} B, {ours_s:.2f} s; "
          f"ratio {ours_gz / peer_gz:.3f} (target <= 0.1)")
    print(f"  (['code'] only, compact JSON: gzip {code_only:,} B, ratio {code_only / peer_gz:.3f})")
    print(f"  capmap compact encoding {PROPERTIES}: gzip {gz(compact):,} B, {compact_s:.2f} s; "
          f"ratio {gz(compact) / peer_gz:.3f}; decodes to the same geometry: {exact}")
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
