"""No anonymous answer gives away where a resident really is or how to reach them.

Pins of every status (published, pending, hidden, resolved) are imported through the real
pipeline at known exact points, each with a unique contact string. Then every public GET route
(from app.url_map, with URL parameters filled from real ids and codes) and every export format of
the pins, in both export CRSs, is requested anonymously. No body may hold a contact string, and no
pair of numbers in it (lon/lat either way round, or BNG easting/northing; read from JSON, HTML, CSV,
KML, and GeoPackage, FlatGeobuf and zipped Shapefile/CSV files opened with GDAL) may lie within
50 m of an exact pin point, measured in EPSG:27700.

The exact points are chosen at least 200 m from every coordinate the app shows anyway (area
vertices and inner points, plans, actions, responses, postcodes, other pins' points), so a hit
can only be a pin leaking.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import mapbox_vector_tile
import numpy as np
import pyogrio
import pytest
import shapely

from app.store import get_engine, get_store
from capmap.core.crs import bng_to_lonlat, lonlat_to_bng
from capmap.io.writers import EXPORT_CRS, FORMATS
from capmap.present.tiles import MAX_TILE_ZOOM
from capmap.services import pipeline
from capmap.services.exports import RECORD_LAYERS, TABLE_LAYERS
from capmap.spatial import mvt
from tests.test_roles import PUBLIC, ROUTE_ROLES

FOLLOW_GUESS = "/pins/follow/" + "A" * 43

NEAR_M = 50.0
CLEAR_M = 200.0           # seeded points are this far from every coordinate shown anyway
STATUSES = ("published", "pending", "hidden", "resolved")
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _bng(geoms) -> np.ndarray:
    xy = shapely.get_coordinates(np.asarray(geoms, dtype=object))
    e, n = lonlat_to_bng(xy[:, 0], xy[:, 1])
    return np.column_stack([e, n])


def _shown_anyway(app) -> np.ndarray:
    """BNG coordinates of everything the app draws or lists, pins' points included."""
    with app.app_context():
        store, engine = get_store(), get_engine()
        parts = []
        for state in engine.layers().values():
            parts += [_bng(state.areas.geometry.values), _bng(state.inner_points)]
        parts.append(_bng(store.plans().geometry.values))
        for frame in (store.actions(), store.responses(), store.postcodes()):
            geoms = frame.geometry.values
            parts.append(_bng(geoms[~shapely.is_missing(geoms)]))
        pins = store.pins()
        parts += [_bng(pins["geom"].values), _bng(pins["public_geom"].values)]
    return np.vstack(parts)


def _clear_spots(app, count: int) -> np.ndarray:
    """`count` BNG points inside neighbourhoods, CLEAR_M from everything shown and 1 km apart."""
    with app.app_context():
        hoods = get_engine().neighbourhoods().areas
    corners = _bng(hoods.geometry.values)
    (x0, y0), (x1, y1) = corners.min(axis=0), corners.max(axis=0)
    gx, gy = np.meshgrid(np.arange(x0, x1, 100.0), np.arange(y0, y1, 100.0))
    grid = shapely.points(gx.ravel(), gy.ravel())
    shown = shapely.STRtree(shapely.points(_shown_anyway(app)))
    (rows, _), gaps = shown.query_nearest(grid, return_distance=True, all_matches=False)
    clear = grid[rows[gaps > CLEAR_M]]
    lon, lat = bng_to_lonlat(shapely.get_x(clear), shapely.get_y(clear))
    with app.app_context():
        inside = get_engine().assign(shapely.points(lon, lat))[get_engine().neighbourhoods().layer.id]
    chosen: list[tuple[float, float]] = []
    for point, code in zip(clear, inside, strict=True):
        if code is None or (isinstance(code, float) and np.isnan(code)):
            continue
        if all(np.hypot(point.x - x, point.y - y) > 1000 for x, y in chosen):
            chosen.append((point.x, point.y))
        if len(chosen) == count:
            return np.array(chosen)
    raise AssertionError(f"only {len(chosen)} clear spots found")


@pytest.fixture
def seeded(app, tmp_path):
    """Two pins per status at clear spots, imported through the pipeline; their exact BNG points,
    contact strings, ids and neighbourhood codes."""
    spots = _clear_spots(app, 2 * len(STATUSES))
    lon, lat = bng_to_lonlat(spots[:, 0], spots[:, 1])
    statuses = [s for s in STATUSES for _ in range(2)]
    contacts = [f"privacy-probe-{s}-{i}@contact.invalid" for i, s in enumerate(statuses)]
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
                 "properties": {"ref": f"PRIV-{i}", "category": "other", "status": s, "contact": c,
                                "description": f"Privacy probe {i}", "created": "2026-02-01T10:00:00Z"}}
                for i, (x, y, s, c) in enumerate(zip(lon, lat, statuses, contacts, strict=True))]
    path = tmp_path / "probe-pins.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    with app.app_context():
        store = get_store()
        report = pipeline.import_pins(store, path)
        assert report.stored == len(features)
        pins = store.pins()
        probes = pins[pins["ref"].str.startswith("PRIV-")].sort_values("ref")
        hood = get_engine().neighbourhoods().layer.id
        codes = get_engine().assign(probes["geom"].values)[hood]
    assert np.allclose(_bng(probes["geom"].values), spots, atol=0.5)
    return {"exact": spots, "contacts": contacts, "ids": [int(i) for i in probes["id"]],
            "statuses": list(probes["status"]), "codes": sorted(set(codes)), "hood_layer": hood,
            "public": _bng(probes["public_geom"].values)}


# -- scanning bodies -----------------------------------------------------------------------------

def _near_pairs(text: str, exact: np.ndarray) -> list[str]:
    """Number pairs in `text` (adjacent, either order for lon/lat, or easting/northing) within
    NEAR_M of an exact point."""
    values = np.array([float(m) for m in NUMBER.findall(text)])
    if len(values) < 2:
        return []
    a, b = values[:-1], values[1:]
    found = []
    for x, y in ((a, b), (b, a)):
        lonlat = (x > -9) & (x < 0) & (y > 54) & (y < 61.5)
        if lonlat.any():
            e, n = lonlat_to_bng(x[lonlat], y[lonlat])
            found.append(np.column_stack([e, n, x[lonlat], y[lonlat]]))
    bng = (a > 0) & (a < 700_000) & (b > 500_000) & (b < 1_250_000)
    found.append(np.column_stack([a[bng], b[bng], a[bng], b[bng]]))
    points = np.vstack(found)
    if not len(points):
        return []
    gap = np.hypot(points[:, None, 0] - exact[None, :, 0], points[:, None, 1] - exact[None, :, 1])
    return [f"({p[2]}, {p[3]}) is {gap[i].min():.1f} m from a pin" for i, p in enumerate(points)
            if gap[i].min() < NEAR_M]


def _frame_text(path: Path) -> str:
    """Every layer of a GDAL-readable file as CSV with WKT geometry."""
    out = []
    for name, _ in pyogrio.list_layers(path):
        frame = gpd.read_file(path, layer=name)
        out.append(frame.to_wkt().to_csv() if isinstance(frame, gpd.GeoDataFrame) else frame.to_csv())
    return "\n".join(out)


def _texts(body: bytes, mimetype: str, folder: Path, url: str = "") -> list[str]:
    """What a body says, as text: files opened with GDAL, zips member by member."""
    if mimetype == "application/zip":
        texts = []
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            archive.extractall(folder)
            names = archive.namelist()
        for name in names:
            path = folder / name
            texts.append(path.read_bytes().decode("latin-1"))
            if name.endswith(".shp"):
                texts.append(_frame_text(path))
        return texts
    if mimetype == "application/vnd.mapbox-vector-tile":
        # Every vertex of every layer back in lon/lat, as the numbers a scanner can read.
        z, x, y = (int(p) for p in re.findall(r"/(\d+)/(\d+)/(\d+)\.mvt$", url)[0])
        decoded = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
        geoms = [shapely.geometry.shape(f["geometry"]) for la in decoded.values() for f in la["features"]]
        return [shapely.to_wkt(g) for g in mvt.tile_to_lonlat(np.array(geoms, dtype=object), z, x, y)]
    if mimetype in ("application/geopackage+sqlite3", "application/flatgeobuf"):
        path = folder / ("body.gpkg" if "geopackage" in mimetype else "body.fgb")
        path.write_bytes(body)
        return [body.decode("latin-1"), _frame_text(path)]
    return [body.decode("utf-8")]


def _check(client, url: str, seeded: dict, tmp_path: Path, scanned: list) -> int:
    answer = client.get(url)
    body = answer.get_data()
    answer.close()
    folder = tmp_path / f"body-{len(scanned)}"
    folder.mkdir()
    for text in _texts(body, answer.mimetype, folder, url):
        for contact in seeded["contacts"]:
            assert contact not in text, f"{url} shows a pin's contact details"
        assert "privacy-probe-" not in text, f"{url} shows a pin's contact details"
        leaks = _near_pairs(text, seeded["exact"])
        assert not leaks, f"{url} ({answer.mimetype}) gives away exact pin points: {leaks[:3]}"
    scanned.append((url, answer.status_code, answer.mimetype))
    return answer.status_code


def test_the_scanner_finds_a_pin_point_written_any_way(seeded):
    e, n = seeded["exact"][0]
    lon, lat = bng_to_lonlat([e + 30], [n])
    assert _near_pairs(f'{{"coordinates": [{lon[0]:.6f}, {lat[0]:.6f}]}}', seeded["exact"])
    assert _near_pairs(f"<td>{lat[0]:.5f}</td><td>{lon[0]:.5f}</td>", seeded["exact"])
    assert _near_pairs(f"POINT ({e + 20:.1f} {n - 20:.1f})", seeded["exact"])
    assert not _near_pairs(f"POINT ({e + 60:.1f} {n:.1f})", seeded["exact"])
    assert seeded["statuses"] == [s for s in STATUSES for _ in range(2)]
    # The public points the pins got are outside the scanner's radius: a pass is not luck.
    assert (np.hypot(*(seeded["public"] - seeded["exact"]).T) >= 75 - 0.5).all()


# -- the requests --------------------------------------------------------------------------------

def _public_requests(app, seeded: dict) -> dict[str, list[str]]:
    """For each public GET endpoint, the URLs to ask (real ids and codes)."""
    with app.app_context():
        store, engine = get_store(), get_engine()
        layers = [la.id for la in store.layers() if la.is_current]
        plans = [int(i) for i in store.plans()["id"]]
        wards = [s.layer.id for s in engine.layers().values() if s.layer.kind == "ward"]
        ward_codes = engine.assign(shapely.points(*bng_to_lonlat(*seeded["exact"].T)))[wards[0]]
        hoods = engine.neighbourhoods()
        inner = [hoods.inner_points[hoods.row_of[c]] for c in seeded["codes"]]
        names = [hoods.areas["name"].iloc[hoods.row_of[c]] for c in seeded["codes"]]
        collections = ["plans", "actions", "pins", *layers]
        versions = store.versions()
        councils = sorted(store.lpp_councils())
        frame = store.plans()
        lpps = [int(i) for i in frame[frame["type"] == "local_place_plan"]["id"]]
        # Every tile holding a pin, at the deepest zoom and two others.
        lon, lat = bng_to_lonlat(*seeded["exact"].T)
        tiles = sorted({(z, *t) for z in (6, 10, MAX_TILE_ZOOM) for x, y in zip(lon, lat, strict=True)
                        for t in mvt.tiles_covering((x, y, x, y), z)})
    ids, codes, hood = seeded["ids"], seeded["codes"], seeded["hood_layer"]
    box = "-8,54.6,-0.7,60.9"
    codes_arg = ",".join(codes)
    exports = [f"/export/pins.{fmt}?crs={crs}" for fmt, spec in FORMATS.items() for crs in EXPORT_CRS
               if crs == "EPSG:4326" or not spec.lonlat_only]
    exports += [f"/export/pins.geojson?bbox={box}", f"/export/pins.csv?area={hood}:{codes[0]}"]
    exports += [f"/export/{name}.{fmt}" for name in (*layers, *RECORD_LAYERS, *TABLE_LAYERS)
                if name != "pins" for fmt in ("geojson", "csv")]
    return {
        "static": ["/static/capmap.css", "/static/pins.js", "/static/finder.js", "/static/draw.js"],
        "assets.vendor": ["/vendor/leaflet/leaflet.js"],
        "auth.login": ["/login"],
        "public.home": ["/"], "public.health": ["/health"], "public.live": ["/health/live"],
        "finder.finder": ["/planscape"],
        "finder.search": [f"/planscape/search?q={n}" for n in names[:3]],
        "finder.choose": [f"/planscape/choose?layer={wards[0]}&code={c}" for c in sorted(set(ward_codes))],
        "finder.result": [f"/planscape/result?layer={hood}&codes={codes_arg}&format={f}"
                          for f in ("html", "csv", "geojson", "gpkg")]
                         + [f"/planscape/result?lon={p.x}&lat={p.y}" for p in inner],
        "finder.plan": [f"/plans/{i}" for i in plans],
        "finder.plan_actions": [f"/plans/{i}/actions.geojson" for i in plans],
        "editing.plan_history": [f"/plans/{i}/history.json" for i in plans],
        "editing.changes": ["/changes.json"],
        "outcomes.plan_outcomes_json": [f"/plans/{i}/outcomes.json" for i in plans],
        "outcomes.api_outcomes": [f"/api/outcomes?layer={hood}&codes={codes_arg}"]
                                 + [f"/api/outcomes?lon={p.x}&lat={p.y}" for p in inner],
        "outcomes.outcomes_csv": ["/export/outcomes.csv"],
        "lpp.index": ["/lpp/register"], "lpp.index_json": ["/lpp/register.json"],
        **{f"lpp.council{suffix.replace('.', '_')}": [f"/lpp/register/{c}{suffix}"
                                                      for c in councils]
           for suffix in ("", ".json", ".csv", ".geojson", ".gpkg")},
        **{f"lpp_prepare.plan_{what}{fmt.replace('.', '_')}": [f"/lpp/plans/{i}/{what}{fmt}"
                                                               for i in lpps]
           for what in ("regard", "notify") for fmt in ("", ".json", ".csv")},
        **{f"lpp_prepare.area_{what}{fmt.replace('.', '_')}":
           [f"/lpp/{what}{fmt}?layer={hood}&codes={codes_arg}"]
           + [f"/lpp/{what}{fmt}?lon={p.x}&lat={p.y}" for p in inner]
           for what in ("regard", "notify") for fmt in ("", ".json", ".csv")},
        "reports.plan_report": [f"/plans/{i}/report?year={y}" for i in plans for y in (2024, 2025)],
        "reports.plan_report_json": [f"/plans/{i}/report.json" for i in plans],
        "reports.plan_report_csv": [f"/plans/{i}/report.csv" for i in plans],
        "reports.plan_feed": [f"/plans/{i}/updates.atom" for i in plans],
        "reports.feed": ["/updates.atom", "/updates.atom?council=S12900001"],
        "api.api_lookup": [f"/api/lookup?lon={p.x}&lat={p.y}" for p in inner],
        "api.api_planscape": [f"/api/planscape?layer={hood}&codes={codes_arg}"]
                             + [f"/api/planscape?lon={p.x}&lat={p.y}" for p in inner],
        "api.api_layer_areas": [f"/api/layers/{la}/areas?zoom={z}&format={f}" for la in layers
                                for z in (10, 15) for f in ("geojson", "compact")],
        "api.api_plan_coverage": ["/api/coverage/plans"],
        "api.api_engagement_coverage": [f"/api/coverage/engagement?layer={la}" for la in layers],
        "api_docs.json_api_definition": ["/api/openapi.json"],
        "ogc.landing": ["/ogc?f=json", "/ogc?f=html"],
        "ogc.conformance": ["/ogc/conformance"], "ogc.api_definition": ["/ogc/api"],
        "ogc.collections": ["/ogc/collections?f=json", "/ogc/collections?f=html"],
        "ogc.collection": [f"/ogc/collections/{c}?f={f}" for c in collections for f in ("json", "html")],
        "ogc.items": [f"/ogc/collections/{c}/items?limit=10000&f={f}" for c in collections
                      for f in ("json", "html")]
                     + [f"/ogc/collections/pins/items?bbox={box}"],
        "ogc.item": [f"/ogc/collections/pins/items/{i}?f={f}" for i in ids for f in ("json", "html")],
        "exports.form": ["/export/"],
        "exports.from_form": [f"/export/file?layer=pins&format={f}" for f in FORMATS],
        "exports.download": exports,
        "pins.page": ["/pins"] + [f"/pins?area={c}" for c in codes],
        "pins.data": ["/pins/data.json", f"/pins/data.json?bbox={box}"],
        "pins.pin_json": [f"/pins/{i}.json" for i in ids],
        "follow.page": [FOLLOW_GUESS],
        "tiles.layer_tile": [f"/tiles/layers/{la}/v{versions['boundaries_version']}/{z}/{x}/{y}.mvt"
                             for la in layers for z, x, y in tiles],
        "tiles.plan_tile": [f"/tiles/plans/v{versions['plans_version']}/{z}/{x}/{y}.mvt"
                            for z, x, y in tiles],
        "tiles.layer_tilejson": [f"/tiles/layers/{la}.json" for la in layers],
        "tiles.plans_tilejson": ["/tiles/plans.json"],
    }


def test_no_anonymous_answer_shows_an_exact_pin_point_or_contact(app, client, seeded, tmp_path):
    requests = _public_requests(app, seeded)
    public_gets = {r.endpoint for r in app.url_map.iter_rules()
                   if ROUTE_ROLES[r.endpoint] == PUBLIC and "GET" in r.methods}
    assert public_gets == set(requests), "a public GET route has no requests in _public_requests"
    scanned: list = []
    for urls in requests.values():
        for url in urls:
            _check(client, url, seeded, tmp_path, scanned)
    ok = [u for u, status, _ in scanned if status in (200, 302)]
    # Everything asked was answered but the pin pages of pending and hidden pins (on the pin map
    # and in OGC alike), 404 alike, and response points, which need a staff role.
    refused = sorted({(u, s) for u, s, _ in scanned if s not in (200, 302)})
    hidden = {f"/pins/{i}.json" for i, s in zip(seeded["ids"], seeded["statuses"], strict=True)
              if s in ("pending", "hidden")}
    hidden |= {f"/ogc/collections/pins/items/{i}?f={f}" for f in ("json", "html")
               for i, s in zip(seeded["ids"], seeded["statuses"], strict=True)
               if s in ("pending", "hidden")}
    hidden |= {f"/export/responses.{f}" for f in ("geojson", "csv")}
    hidden |= {FOLLOW_GUESS}  # a token nobody was given
    assert {u for u, _ in refused} == hidden, refused
    assert len(ok) > 100, len(ok)


def test_the_published_pins_are_shown_at_their_public_points(app, client, seeded):
    data = client.get("/pins/data.json").get_json()
    shown = {p[0]: (p[1], p[2]) for p in data["points"]}
    for pin_id, status, public in zip(seeded["ids"], seeded["statuses"], seeded["public"], strict=True):
        if status in ("published", "resolved"):
            e, n = lonlat_to_bng([shown[pin_id][0]], [shown[pin_id][1]])
            assert np.hypot(e[0] - public[0], n[0] - public[1]) < 1.0
        else:
            assert pin_id not in shown


def test_the_scan_finds_the_exact_points_in_an_officers_export(app, officer, seeded, tmp_path):
    # Officers get every pin at its exact point: the same scan must see them all, in each format.
    for fmt in ("geojson", "gpkg", "csv-lonlat", "kml", "fgb"):
        answer = officer.get(f"/export/pins.{fmt}")
        body = answer.get_data()
        answer.close()
        assert answer.status_code == 200
        folder = tmp_path / fmt
        folder.mkdir()
        texts = _texts(body, answer.mimetype, folder)
        for point in seeded["exact"]:
            assert any(_near_pairs(t, point[None, :]) for t in texts), f"{fmt}: {point} not found"
