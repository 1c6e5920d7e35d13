"""Exports: every format in both CRSs read back with GDAL, who gets what, filters, metadata,
bad parameters and temporary files, through the library, the web and the command line."""

from __future__ import annotations

import io
import json
import math
import zipfile
from pathlib import Path
from urllib.parse import unquote

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from capmap.cli import cli
from capmap.core.crs import STORAGE_CRS
from capmap.core.errors import InputError, NotFound, ValidationError
from capmap.core.policy import EXACT_ROLES
from capmap.io.writers import FORMATS, check_format, short_names
from capmap.services.coverage import engagement_coverage
from capmap.services.engine import Engine
from capmap.services.export_filters import parse_filters
from capmap.services.exports import (
    ExportRequest,
    NotPermitted,
    export,
    export_view,
)
from capmap.storage import open_store
from tests.conftest import X0, Y0, lonlat_of

BOTH = ("EPSG:4326", "EPSG:27700")
CASES = [(fmt, crs) for fmt in FORMATS for crs in BOTH
         if not (FORMATS[fmt].lonlat_only and crs != STORAGE_CRS)]


def read_back(path: Path, fmt: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """An exported file as GDAL reads it (CSV from inside its .zip)."""
    if fmt.startswith("csv"):
        with zipfile.ZipFile(path) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".csv"))
        xy = {"X_POSSIBLE_NAMES": "lon,easting", "Y_POSSIBLE_NAMES": "lat,northing"}
        return pyogrio.read_dataframe(f"/vsizip/{path}/{name}", **(xy if fmt == "csv-lonlat" else {}))
    return pyogrio.read_dataframe(path, layer=layer)


def readme(path: Path) -> str:
    """The README.txt inside an exported .zip."""
    with zipfile.ZipFile(path) as archive:
        return archive.read("README.txt").decode()


def _write(store, tmp_path: Path, names, fmt="geojson", crs=STORAGE_CRS, **filters) -> tuple:
    path = tmp_path / f"out{FORMATS[fmt].suffix}"
    request = ExportRequest(tuple(names), fmt, crs, parse_filters(**filters), roles=EXACT_ROLES)
    return path, export(store, request, path)


def _bng(geoms) -> np.ndarray:
    from capmap.core.crs import geoms_lonlat_to_bng

    return geoms_lonlat_to_bng(np.asarray(geoms, dtype=object))


# -- formats ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "crs"), CASES)
def test_every_format_and_crs_reads_back(loaded, tmp_path, fmt, crs):
    path, about = _write(loaded, tmp_path, ["responses"], fmt, crs)
    back = read_back(path, fmt)
    ids = back["record_id" if fmt == "kml" else "id"].astype(int).to_numpy()
    back = back.iloc[np.argsort(ids, kind="stable")]  # FlatGeobuf keeps its spatial index order
    assert len(back) == 21 == about["layers"]["responses"]["features"]
    assert list(back["campaign"]).count("C2") == 6
    # The six responses known only by area code C have no point.
    assert int(back.geometry.isna().sum()) == 6
    first = shapely.force_2d(back.geometry.values[0])
    first = _bng([first])[0] if crs == STORAGE_CRS else first
    assert first.distance(shapely.Point(X0 + 100, Y0 + 100)) < 0.05
    if fmt == "csv-lonlat":
        return
    path, about = _write(loaded, tmp_path, ["squares"], fmt, crs)
    back = read_back(path, fmt).sort_values("code")
    assert len(back) == 4 == about["layers"]["squares"]["features"]
    assert list(back["code"]) == ["A", "B", "C", "D"]
    assert int(back["population"].iloc[0]) == 500
    if fmt.startswith("csv"):
        assert f"crs: {crs}" in readme(path)
    else:
        assert back.crs.to_epsg() == int(crs[5:])
    first = shapely.force_2d(back.geometry.values[0])
    first = _bng([first])[0] if crs == STORAGE_CRS else first
    assert shapely.hausdorff_distance(first, shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)) < 0.05


def test_lonlat_only_formats_refuse_bng():
    for name in ("geojson", "kml"):
        with pytest.raises(InputError, match="lon/lat"):
            check_format(name, "EPSG:27700")


def test_csv_lonlat_columns_name_the_crs(loaded, tmp_path):
    path, _ = _write(loaded, tmp_path, ["responses"], "csv-lonlat", "EPSG:27700")
    back = read_back(path, "csv-lonlat")
    assert {"easting", "northing"} <= set(back.columns) and "lon" not in back.columns
    assert abs(float(back["easting"].iloc[0]) - (X0 + 100)) < 0.05
    with pytest.raises(ValidationError, match="points only"):
        _write(loaded, tmp_path, ["squares"], "csv-lonlat")


def test_gpkg_holds_several_layers_with_metadata(loaded, tmp_path):
    path, _ = _write(loaded, tmp_path, ["squares", "plans", "responses", "plan_coverage"], "gpkg",
                     "EPSG:27700")
    layers = dict(pyogrio.list_layers(path))
    assert list(layers) == ["squares", "plans", "responses", "plan_coverage"]
    counts = {name: pyogrio.read_info(path, layer=name)["features"] for name in layers}
    assert counts == {"squares": 4, "plans": 3, "responses": 21, "plan_coverage": 4}
    info = pyogrio.read_info(path, layer="plans")
    assert info["crs"] == "EPSG:27700"
    meta = info["dataset_metadata"]
    assert meta["licence"] == "Open Government Licence v3.0"
    assert "squares" in meta["attribution.1"] and meta["layers.responses.features"] == "21"
    assert "licence: Open Government Licence v3.0" in info["layer_metadata"]["DESCRIPTION"]
    shares = read_back(path, "gpkg", "plan_coverage").set_index("code")
    assert shares.loc["A", "locality_plan"] == pytest.approx(1.0)
    assert bool(shares.loc["C", "deprived_without_locality_plan"]) is False


def test_only_gpkg_takes_several_layers(loaded, tmp_path):
    with pytest.raises(InputError, match="holds one layer"):
        _write(loaded, tmp_path, ["squares", "plans"], "shp")


def test_shapefile_zip_has_its_files_readme_and_field_mapping(loaded, tmp_path):
    path, about = _write(loaded, tmp_path, ["plan_coverage"], "shp", "EPSG:27700")
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
    assert names == sorted(["README.txt"] + [f"plan_coverage{e}" for e in
                                             (".shp", ".shx", ".dbf", ".prj", ".cpg")])
    text = readme(path)
    assert "community_action_plan: community_" in text and "Open Government Licence" in text
    assert about["field_names"]["plan_coverage"]["deprived_without_locality_plan"] == "deprived_w"
    back = read_back(path, "shp")
    assert all(len(c) <= 10 for c in back.columns) and "community_" in back.columns


def test_short_names_are_unique_and_deterministic():
    names = short_names(["community_action_plan", "community_other", "Community_", "id"])
    assert names == {"community_action_plan": "communit_1", "community_other": "communit_2",
                     "Community_": "Community_", "id": "id"}
    assert short_names(["community_action_plan", "community_other"]) == {
        "community_action_plan": "community_", "community_other": "communit_1"}


def test_metadata_travels_in_each_format(loaded, tmp_path):
    path, _ = _write(loaded, tmp_path, ["squares"], "geojson", theme=None, bbox="-4,56,-3,57")
    body = json.loads(path.read_text())
    assert body["metadata"]["licence"] == "Open Government Licence v3.0"
    assert body["metadata"]["filters"] == {"bbox": "-4,56,-3,57 (lon/lat)"}
    assert body["metadata"]["crs"].startswith("EPSG:4326")
    path, _ = _write(loaded, tmp_path, ["squares"], "fgb", "EPSG:27700")
    assert "OSTN15" in pyogrio.read_info(path)["layer_metadata"]["DESCRIPTION"]
    path, _ = _write(loaded, tmp_path, ["squares"], "kml")
    assert "<description>title: capmap export: squares" in path.read_text()
    path, _ = _write(loaded, tmp_path, ["squares"], "csv", theme=None)
    assert "generated:" in readme(path) and "WKT" in readme(path)


# -- who gets what ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "roles", "kind", "exact", "refused"), [
    ("dz11", set(), "areas", False, False),
    ("pins", set(), "pins", False, False),
    ("pins", {"moderator"}, "pins", False, False),
    ("pins", {"planner"}, "pins", True, False),
    ("responses", set(), "responses", False, True),
    ("responses", {"moderator"}, "responses", False, True),
    ("responses", {"officer"}, "responses", True, False),
    ("engagement", set(), "engagement", False, False),
    ("engagement", {"admin"}, "engagement", True, False),
])
def test_export_view(name, roles, kind, exact, refused):
    view = export_view(name, roles)
    assert (view.kind, view.exact, bool(view.refused)) == (kind, exact, refused)


def test_library_refuses_responses_to_anonymous(loaded, tmp_path):
    request = ExportRequest(("responses",), roles=frozenset())
    with pytest.raises(NotPermitted, match="engagement export"):
        export(loaded, request, tmp_path / "r.geojson")


def fetch(client, url: str) -> tuple[int, bytes, dict]:
    """Status, body and headers of a GET, with the response closed (its file released)."""
    with client.get(url) as answer:
        return answer.status_code, answer.get_data(), dict(answer.headers)


def _features(client, url: str) -> list[dict]:
    status, body, _ = fetch(client, url)
    assert status == 200, body
    return json.loads(body)["features"]


def test_anonymous_pins_are_the_public_ones_at_public_points_without_contact(app, client):
    text = fetch(client, "/export/pins.geojson")[1].decode()
    features = json.loads(text)["features"]
    store = open_store(app.config["DATABASE_URL"])
    pins = store.pins().set_index("id")
    store.close()
    # Resolved pins are public on the pin map, and so in the export too (capmap.core.policy).
    public = pins[pins["status"].isin(["published", "resolved"])]
    assert (pins["status"] == "resolved").any()
    assert sorted(f["properties"]["id"] for f in features) == sorted(public.index)
    assert "contact" not in text and "@example.org" not in text
    for feature in features:
        point = shapely.geometry.shape(feature["geometry"])
        pin = pins.loc[feature["properties"]["id"]]
        assert feature["properties"]["status"] in ("published", "resolved")
        assert point.distance(pin["public_geom"]) < 1e-6
        assert point.distance(pin["geom"]) > 1e-4  # degrees: tens of metres away


def test_officer_pins_are_all_exact_still_without_contact(app, officer):
    text = fetch(officer, "/export/pins.geojson")[1].decode()
    features = json.loads(text)["features"]
    store = open_store(app.config["DATABASE_URL"])
    pins = store.pins().set_index("id")
    store.close()
    assert len(features) == len(pins) and "@example.org" not in text
    for feature in features[:50]:
        point = shapely.geometry.shape(feature["geometry"])
        assert point.distance(pins.loc[feature["properties"]["id"], "geom"]) < 1e-6


def test_responses_need_a_role(client, moderator, officer, planner, admin):
    status, body, _ = fetch(client, "/export/responses.geojson")
    assert status == 401 and "engagement export" in json.loads(body)["message"]
    assert fetch(moderator, "/export/responses.geojson")[0] == 403
    for person in (officer, planner, admin):
        assert len(_features(person, "/export/responses.geojson")) == 5000


def test_officer_gets_exact_response_points(app, officer):
    features = _features(officer, "/export/responses.geojson?theme=health")
    store = open_store(app.config["DATABASE_URL"])
    responses = store.responses().set_index("id")
    store.close()
    for feature in features[:100]:
        stored = responses.loc[feature["properties"]["id"], "geom"]
        if feature["geometry"] is None:
            assert stored is None
        else:
            assert shapely.geometry.shape(feature["geometry"]).distance(stored) < 1e-6
        assert "health" in feature["properties"]["themes"].split(";")


def test_engagement_is_suppressed_for_anonymous_and_exact_for_officers(app, client, officer):
    public = {f["properties"]["code"]: f["properties"]
              for f in _features(client, "/export/engagement.geojson")}
    exact = {f["properties"]["code"]: f["properties"]
             for f in _features(officer, "/export/engagement.geojson")}
    store = open_store(app.config["DATABASE_URL"])
    truth = {r["code"]: r for r in engagement_coverage(store, Engine(store), "sample_dz",
                                                         exact=True)["areas"]}
    store.close()
    small = [c for c, r in truth.items() if r["responses"] < 5]
    assert any(truth[c]["responses"] for c in small), "the sample should hold areas with 1 to 4"
    for code in small:
        assert public[code]["suppressed"] is True and public[code]["responses"] is None
        assert public[code]["rate_per_1000"] is None
        assert exact[code]["responses"] == truth[code]["responses"]
    assert not any(p["suppressed"] for p in exact.values())
    for code in (c for c, r in truth.items() if r["responses"] >= 5):  # to the nearest 5
        assert public[code]["responses"] == 5 * math.floor(truth[code]["responses"] / 5 + 0.5)


# -- filters ---------------------------------------------------------------------------------

def _bbox_around(x0: float, y0: float, x1: float, y1: float) -> str:
    corners = [lonlat_of(x, y) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
    lons, lats = zip(*corners, strict=True)
    return f"{min(lons)},{min(lats)},{max(lons)},{max(lats)}"


def test_filters_bbox_area_theme_dates(loaded, tmp_path):
    def count(names=("responses",), **filters) -> int:
        return _write(loaded, tmp_path, names, **filters)[1]["layers"][names[0]]["features"]

    assert count(bbox=_bbox_around(X0 + 50, Y0 + 50, X0 + 500, Y0 + 500)) == 3
    assert count(area="squares:D") == 12          # the six coded to C only touch D's edge
    assert count(area="squares:C") == 6           # known by area code: counted in that area
    assert count(names=("squares",), area="squares:A") == 1
    assert count(theme="health") == 9 and count(theme="housing") == 12
    assert count(date_from="2025-02-01", date_to="2025-02-28") == 12
    assert count(date_to="2025-01-31") == 3
    assert count(names=("plans",), theme="health") == 0
    about = _write(loaded, tmp_path, ["engagement"], theme="housing")[1]
    assert about["filters"] == {"theme": "housing"}


def test_engagement_theme_counts_only_those_responses(loaded, tmp_path):
    path, _ = _write(loaded, tmp_path, ["engagement"], theme="housing")
    rows = read_back(path, "geojson").set_index("code")
    assert int(rows.loc["D", "responses"]) == 12 and int(rows.loc["A", "responses"]) == 0


def test_plan_and_date_filters_on_plans_and_actions(app, client):
    store = open_store(app.config["DATABASE_URL"])
    plans, actions = store.plans(), store.actions()
    store.close()
    assert len(_features(client, "/export/plans.geojson?plan=1,2")) == 2
    own = _features(client, "/export/actions.geojson?plan=1")
    assert len(own) == int((actions["plan_id"] == 1).sum())
    assert {f["properties"]["plan_id"] for f in own} == {1}
    due = _features(client, "/export/actions.geojson?from=2026-01-01&to=2026-12-31")
    assert due and all("2026-01-01" <= f["properties"]["target_date"] <= "2026-12-31" for f in due)
    running = _features(client, "/export/plans.geojson?from=2030-01-01")
    ends = {p.id: p.period_end for p in plans.itertuples()}
    assert running and all(ends[f["properties"]["id"]] is None
                           or ends[f["properties"]["id"]].isoformat() >= "2030-01-01"
                           for f in running)
    themed = _features(client, "/export/plans.geojson?theme=health")
    assert themed and all("health" in f["properties"]["themes"].split(";") for f in themed)


@pytest.mark.parametrize(("query", "status", "words"), [
    ("plans.geojson?crs=EPSG:27700", 400, "lon/lat"),
    ("plans.kml?crs=27700", 400, "lon/lat"),
    ("plans.xls", 400, "not offered"),
    ("plans.geojson?crs=EPSG:3857", 400, "not offered"),
    ("plans.geojson?bbox=1,2,3", 400, "4 numbers"),
    ("plans.geojson?bbox=310000,720000,311000,721000", 400, "lon/lat"),
    ("plans.geojson?bbox=-3,57,-4,56", 400, "minimum"),
    ("plans.geojson?from=2025-13-01", 400, "YYYY-MM-DD"),
    ("plans.geojson?from=20250101", 400, "'20250101' is not a date; expected YYYY-MM-DD"),
    ("plans.geojson?to=2025-W01-1", 400, "YYYY-MM-DD"),
    ("plans.geojson?from=2025-02-01&to=2025-01-01", 422, "after"),
    ("plans.geojson?area=nowhere", 400, "LAYER:CODE"),
    ("plans.geojson?area=sample_dz:NOPE", 422, "NOPE"),
    ("plans.geojson?area=nolayer:X", 422, "nolayer"),
    ("plans.geojson?plan=abc", 400, "plan must be ids"),
    ("plans.geojson?plan=%C2%B2", 400, "plan must be ids"),
    ("plans.geojson?plan=9999", 422, "9999"),
    ("sample_dz.geojson?theme=health", 422, "does not apply"),
    ("pins.geojson?theme=health", 422, "does not apply"),
    ("plans.geojson?by=sample_dz", 422, "engagement only"),
    ("plans.geojson?bboxx=1", 400, "unknown parameter"),
    ("plans.csv-lonlat", 422, "points only"),
    ("plans,actions.shp", 400, "holds one layer"),
    ("nolayer.geojson", 404, "nolayer"),
    ("engagement.geojson?by=nolayer", 422, "nolayer"),
    ("plans", 400, "LAYER.FORMAT"),
])
def test_bad_parameters_answer_json(client, query, status, words):
    got, body, headers = fetch(client, f"/export/{query}")
    assert got == status, body
    assert headers["Content-Type"] == "application/json" and words in json.loads(body)["message"]


# -- the web ---------------------------------------------------------------------------------

def test_download_is_built_in_a_temporary_folder_removed_on_close(app, client, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    app.config["EXPORT_TMP_DIR"] = str(spool)
    answer = client.get("/export/plans,actions.gpkg?crs=EPSG:27700")
    assert answer.status_code == 200
    assert len(list(spool.iterdir())) == 1
    assert answer.headers["Content-Disposition"] == \
        "attachment; filename=plans-actions-bng.gpkg"
    assert answer.mimetype == "application/geopackage+sqlite3"
    data = answer.get_data()
    answer.close()
    assert list(spool.iterdir()) == []
    copy = tmp_path / "copy.gpkg"
    copy.write_bytes(data)
    assert [name for name, _ in pyogrio.list_layers(copy)] == ["plans", "actions"]
    assert fetch(client, "/export/nolayer.gpkg")[0] == 404
    assert list(spool.iterdir()) == []


def test_zip_downloads_open_in_gdal(client, tmp_path):
    _, body, headers = fetch(client, "/export/sample_wards.shp?crs=27700")
    path = tmp_path / "w.shp.zip"
    path.write_bytes(body)
    assert headers["Content-Disposition"].endswith("sample_wards-bng.shp.zip")
    back = read_back(path, "shp")
    assert len(back) == 10 and back.crs.to_epsg() == 27700
    assert "Fictional data generated by capmap" in readme(path)


def test_configured_licence_is_written(app, client):
    app.config["EXPORT_LICENCE"] = "Test licence 1.0"
    body = json.loads(fetch(client, "/export/plans.geojson")[1])
    assert body["metadata"]["licence"] == "Test licence 1.0"
    assert any("sample_dz" in line for line in body["metadata"]["attribution"])


def test_form_page_and_its_redirect(client, officer):
    page = fetch(client, "/export/")[1].decode()
    assert "Export layers" in page and "csv-lonlat" in page
    refusal = "engagement responses at their points need"
    assert refusal in page and refusal not in fetch(officer, "/export/")[1].decode()
    status, _, headers = fetch(client, "/export/file?layer=plans&layer=sample_dz&format=gpkg"
                                       "&crs=EPSG:27700&theme=&bbox=")
    assert status == 302
    assert unquote(headers["Location"]) == "/export/plans,sample_dz.gpkg?crs=EPSG:27700"
    assert fetch(client, headers["Location"])[0] == 200
    assert fetch(client, "/export/file?format=gpkg")[0] == 400


# -- the command line ------------------------------------------------------------------------

def test_cli_exports_with_full_access_and_filters(sample_db, tmp_path):
    runner, db = CliRunner(), f"sqlite:///{sample_db}"
    out = tmp_path / "r.csv.zip"
    result = runner.invoke(cli, ["--db", db, "export", "responses", "--format", "csv-lonlat",
                                 "-o", str(out), "--theme", "housing", "--from", "2025-01-01",
                                 "--crs", "EPSG:27700"])
    assert result.exit_code == 0, result.output
    back = read_back(out, "csv-lonlat")
    assert len(back) and all("housing" in t.split(";") for t in back["themes"])
    assert f"wrote {len(back)} features of responses" in result.output
    out = tmp_path / "all.gpkg"
    result = runner.invoke(cli, ["--db", db, "export", "pins,engagement,plan_coverage",
                                 "--format", "gpkg", "-o", str(out), "--licence", "Mine"])
    assert result.exit_code == 0, result.output
    assert pyogrio.read_info(out, layer="pins")["features"] == 500
    assert pyogrio.read_info(out, layer="pins")["dataset_metadata"]["licence"] == "Mine"
    assert "contact" not in pyogrio.read_info(out, layer="pins")["fields"]


def test_cli_bad_filter_is_one_line(sample_db, tmp_path):
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{sample_db}", "export", "plans",
                                      "-o", str(tmp_path / "x.geojson"), "--bbox", "1,2"])
    assert result.exit_code == 1 and result.output.startswith("Error: bbox must be")
    assert not (tmp_path / "x.geojson").exists() and list(tmp_path.iterdir()) == []


def test_failed_export_leaves_no_file(loaded, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(NotFound):
        _write(loaded, folder, ["nolayer"], "gpkg")
    assert list(folder.iterdir()) == []


def test_writing_over_an_existing_geopackage_replaces_it(loaded, tmp_path):
    _write(loaded, tmp_path, ["squares", "plans"], "gpkg")
    path, _ = _write(loaded, tmp_path, ["responses"], "gpkg")
    assert [name for name, _ in pyogrio.list_layers(path)] == ["responses"]


def test_bytes_stream_is_a_valid_geojson(client):
    body = json.load(io.BytesIO(fetch(client, "/export/sample_council.geojson")[1]))
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 1
    assert body["bbox"][0] < -3
