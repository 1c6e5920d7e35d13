"""Imports end to end: file -> reader -> checks -> store, on both backends."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from capmap.core.crs import lonlat_to_bng
from capmap.core.errors import ValidationError
from capmap.core.models import LayerDef
from capmap.core.policy import PinRules
from capmap.io.prepare import PlanFields
from capmap.services import pipeline
from tests.conftest import GRID_ORIGIN, lonlat_of

SQUARES = LayerDef(id="squares", kind="neighbourhood", vintage="2026",
                   population_field="pop", parent_field="council")


def _gpkg(frame: gpd.GeoDataFrame, tmp_path, name="squares.gpkg"):
    path = tmp_path / name
    frame.to_file(path, layer="squares", driver="GPKG")
    return path


def test_bng_geopackage_is_stored_in_lonlat(store, squares_bng, tmp_path):
    report = pipeline.import_boundaries(store, SQUARES, _gpkg(squares_bng, tmp_path))
    assert (report.read, report.stored, report.repaired, report.rejected) == (4, 4, [], [])
    areas = store.areas("squares")
    assert list(areas["population"]) == [500, 600, 700, 800]
    assert list(areas["parent_code"]) == ["S12000048"] * 4
    # Square A's south-west corner is the grid origin; it comes back where OSTN15 puts it.
    corner = np.array(lonlat_of(*GRID_ORIGIN))
    vertices = shapely.get_coordinates(areas.geometry.values[0])
    assert np.abs(vertices - corner).sum(axis=1).min() < 1e-9
    # And the squares still measure 1 km² each in BNG.
    e, n = lonlat_to_bng(*shapely.get_coordinates(areas.geometry.values[0]).T)
    assert shapely.Polygon(np.column_stack([e, n])).area == pytest.approx(1e6, rel=1e-6)


def test_invalid_geometry_is_repaired_and_reported(store, squares_bng, tmp_path):
    x, y = GRID_ORIGIN
    bowtie = shapely.Polygon([(x, y), (x + 1000, y + 1000), (x + 1000, y), (x, y + 1000)])
    squares_bng.loc[1, "geometry"] = bowtie
    report = pipeline.import_boundaries(store, SQUARES, _gpkg(squares_bng, tmp_path))
    assert report.repaired == ["B"]
    b = store.areas("squares", codes=["B"]).geometry.values[0]
    assert b.is_valid and b.geom_type == "MultiPolygon" and len(b.geoms) == 2


def test_duplicate_codes_are_refused_and_nothing_is_stored(store, squares_bng, tmp_path):
    squares_bng.loc[3, "code"] = "A"
    with pytest.raises(ValidationError, match="duplicate codes A"):
        pipeline.import_boundaries(store, SQUARES, _gpkg(squares_bng, tmp_path))
    assert store.layers() == []


def test_empty_geometry_is_refused_with_its_code(store, squares_bng, tmp_path):
    squares_bng.loc[2, "geometry"] = shapely.Polygon()
    with pytest.raises(ValidationError, match="empty geometries for codes C"):
        pipeline.import_boundaries(store, SQUARES, _gpkg(squares_bng, tmp_path))
    assert store.counts()["areas"] == 0


def test_missing_code_field_lists_the_columns(store, squares_bng, tmp_path):
    layer = LayerDef(id="squares", kind="ward", code_field="ward_code")
    with pytest.raises(ValidationError, match="code field 'ward_code' not found; columns are code"):
        pipeline.import_boundaries(store, layer, _gpkg(squares_bng, tmp_path))


def test_a_file_without_crs_needs_one(store, squares_bng, tmp_path):
    path = tmp_path / "squares.csv"
    squares_bng.assign(wkt=squares_bng.geometry.to_wkt()).drop(columns="geometry").to_csv(
        path, index=False)
    with pytest.raises(ValidationError, match="no CRS"):
        pipeline.import_boundaries(store, SQUARES, path)
    layer = LayerDef(**{**SQUARES.__dict__, "crs": "EPSG:27700"})
    assert pipeline.import_boundaries(store, layer, path).stored == 4


def test_swapped_lonlat_is_refused(store, squares_bng, tmp_path):
    lonlat = squares_bng.to_crs(4326)
    swapped = lonlat.set_geometry(shapely.transform(lonlat.geometry.values, lambda c: c[:, ::-1]))
    path = tmp_path / "swapped.geojson"
    swapped.to_file(path, driver="GeoJSON")
    with pytest.raises(ValidationError, match="wrong order"):
        pipeline.import_boundaries(store, SQUARES, path)


def test_bng_labelled_as_lonlat_is_refused(store, squares_bng, tmp_path):
    path = tmp_path / "liar.geojson"
    squares_bng.set_crs(4326, allow_override=True).to_file(path, driver="GeoJSON")
    with pytest.raises(ValidationError, match="not lon/lat"):
        pipeline.import_boundaries(store, SQUARES, path)


def _plans_csv(tmp_path, rows: list[str]):
    path = tmp_path / "plans.csv"
    path.write_text("ref,type,title,owner,layer,area_codes\n" + "\n".join(rows) + "\n")
    return path


def test_plans_from_area_codes_are_unions(store, squares_bng, tmp_path):
    pipeline.import_boundaries(store, SQUARES, _gpkg(squares_bng, tmp_path))
    path = _plans_csv(tmp_path, [
        "LP-1,locality_plan,South,CPP,squares,A;B",
        "LP-2,locality_plan,Lost,CPP,squares,A;Z",
        "LP-3,nonsense,Bad type,CPP,squares,C",
    ])
    report = pipeline.import_plans(store, path, PlanFields())
    assert report.stored == 1
    assert report.rejected == [(2, "area codes not in layer squares: Z"),
                               (3, "plan type 'nonsense' is not one of loip, locality_plan, "
                                   "community_action_plan, local_place_plan, service_plan, other "
                                   "(or a known alias of one)")]
    plan = store.plans().iloc[0]
    areas = store.areas("squares", codes=["A", "B"])
    assert plan["area_codes"] == "A;B"
    assert plan["geom"].symmetric_difference(shapely.union_all(areas.geometry.values)).area < 1e-12


def test_responses_by_point_and_by_code_with_bad_rows_rejected(store, squares_bng, tmp_path):
    pipeline.import_boundaries(store, SQUARES, _gpkg(squares_bng, tmp_path))
    path = tmp_path / "responses.csv"
    path.write_text(
        "campaign,channel,date,easting,northing,area_code\n"
        "C1,online,2025-03-01,310500,720500,\n"
        "C1,paper,2025-03-02,,,D\n"
        "C1,carrier pigeon,2025-03-02,310500,720500,\n"
        "C1,event,not a date,310500,720500,\n"
        "C1,event,2025-03-03,,,\n"
        "C1,event,2025-03-03,,,NOPE\n"
    )
    report = pipeline.import_responses(store, path)
    assert (report.read, report.stored) == (6, 2)
    assert [row for row, _ in report.rejected] == [3, 4, 5, 6]
    assert "carrier pigeon" in report.rejected[0][1]
    stored = store.responses()
    assert list(stored["area_code"].fillna("-")) == ["-", "D"]
    assert list(stored["area_layer"].fillna("-")) == ["-", "squares"]


def test_pins_get_a_public_point_at_least_the_minimum_away(store, tmp_path):
    lon, lat = lonlat_of(310_500, 720_500)
    pins = gpd.GeoDataFrame({"category": ["litter"] * 50, "description": ["bags"] * 50},
                            geometry=[shapely.Point(lon, lat)] * 50, crs=4326)
    path = tmp_path / "pins.geojson"
    pins.to_file(path, driver="GeoJSON")
    options = pipeline.ImportOptions(pins=PinRules(offset_min_m=100.0, offset_max_m=200.0))
    assert pipeline.import_pins(store, path, options=options).stored == 50
    stored = store.pins()
    exact = shapely.get_coordinates(stored["geom"].values)
    public = shapely.get_coordinates(stored["public_geom"].values)
    e1, n1 = lonlat_to_bng(exact[:, 0], exact[:, 1])
    e2, n2 = lonlat_to_bng(public[:, 0], public[:, 1])
    moved = np.hypot(e2 - e1, n2 - n1)
    assert moved.min() >= 100.0 and moved.max() <= 200.5
    assert set(stored["status"]) == {"pending"}


def test_actions_need_a_stored_plan(store, squares_bng, tmp_path):
    pipeline.import_boundaries(store, SQUARES, _gpkg(squares_bng, tmp_path))
    pipeline.import_plans(store, _plans_csv(tmp_path, ["LP-1,locality_plan,S,CPP,squares,A"]),
                          PlanFields())
    lon, lat = lonlat_of(310_500, 720_500)
    path = tmp_path / "actions.csv"
    path.write_text(
        "ref,plan_ref,title,status,lead_type,target_date,lon,lat\n"
        f"A1,LP-1,Fix the lights,in_progress,community,2026-01-01,{lon},{lat}\n"
        "A2,LP-9,Orphan,in_progress,community,2026-01-01,,\n"
        "A3,LP-1,Bad status,finished,community,2026-01-01,,\n"
    )
    report = pipeline.import_actions(store, path)
    assert report.stored == 1
    assert report.rejected == [(2, "plan_ref 'LP-9' is not a stored plan"),
                               (3, "action status 'finished' is not one of not_started, "
                                   "in_progress, completed, stalled, cancelled (or a known "
                                   "alias of one)")]
    assert store.actions().iloc[0]["geom"].equals_exact(shapely.Point(lon, lat), 1e-9)
