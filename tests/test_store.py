"""Store round trips, the same on SQLite and PostGIS."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pytest
import shapely

from capmap.core.errors import NotFound, SchemaError, ValidationError
from capmap.core.models import LayerDef
from capmap.storage import open_store
from capmap.storage.schema import SCHEMA_VERSION
from tests.schema_versions import rewind


def _areas(codes, offset=0.0) -> gpd.GeoDataFrame:
    geoms = [shapely.box(-3.5 + i * 0.01 + offset, 56.4, -3.49 + i * 0.01 + offset, 56.41)
             for i in range(len(codes))]
    return gpd.GeoDataFrame(
        {"code": codes, "name": [f"Area {c}" for c in codes], "parent_code": "S12000048",
         "population": [500 + i for i in range(len(codes))], "simd_rank": 1,
         "simd_decile": 1, "simd_quintile": 1},
        geometry=gpd.GeoSeries(geoms, crs="EPSG:4326"),
    ).rename_geometry("geom")


LAYER = LayerDef(id="t", kind="neighbourhood", vintage="2011", title="Test", licence="OGL")


def test_schema_version_is_recorded_and_checked(store):
    assert store.schema_version() == SCHEMA_VERSION
    assert store.init() is False  # a second init leaves the schema alone
    assert store.upgrade() == []


def test_an_empty_database_is_refused_until_init(store_url):
    st = open_store(store_url)
    try:
        with pytest.raises(SchemaError, match="capmap init"):
            st.check()
    finally:
        st.close()


def test_layer_round_trip_keeps_geometry_and_attributes(store):
    areas = _areas(["A", "B", "C"])
    layer = store.put_layer(LAYER, areas)
    assert (layer.id, layer.vintage, layer.area_count, layer.is_current) == ("t", "2011", 3, True)
    back = store.areas("t")
    assert list(back["code"]) == ["A", "B", "C"]
    assert list(back["population"]) == [500, 501, 502]
    assert list(back["parent_code"]) == ["S12000048"] * 3
    assert back.crs.to_epsg() == 4326
    assert all(shapely.equals_exact(back.geometry.values, areas.geometry.values, tolerance=0))


def test_a_new_vintage_is_added_and_becomes_current(store):
    store.put_layer(LAYER, _areas(["A", "B"]))
    store.put_layer(LayerDef(id="t", kind="neighbourhood", vintage="2022"), _areas(["X"]))
    vintages = {(la.vintage, la.is_current) for la in store.layers()}
    assert vintages == {("2011", False), ("2022", True)}
    assert list(store.areas("t")["code"]) == ["X"]
    assert list(store.areas("t", "2011")["code"]) == ["A", "B"]


def test_reimporting_a_vintage_replaces_it(store):
    store.put_layer(LAYER, _areas(["A", "B"]))
    store.put_layer(LAYER, _areas(["C"]))
    assert list(store.areas("t")["code"]) == ["C"]
    assert len(store.layers()) == 1


def test_a_failed_reimport_leaves_the_old_vintage_untouched(store):
    store.put_layer(LAYER, _areas(["A", "B"]))
    version = store.data_version()
    with pytest.raises(ValidationError, match="nothing was stored"):
        store.put_layer(LAYER, _areas(["C", "C"]))  # breaks the unique code constraint
    assert list(store.areas("t")["code"]) == ["A", "B"]
    assert store.data_version() == version


def test_unknown_layer_is_not_found(store):
    with pytest.raises(NotFound, match="'nope' not found"):
        store.areas("nope")


def _plans() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"ref": ["LP-1"], "type": ["locality_plan"], "title": ["North Locality Plan"],
         "owner": ["CPP"], "council_code": ["S12000048"], "period_start": [date(2024, 4, 1)],
         "period_end": [date(2029, 3, 31)], "review_due": [date(2026, 4, 1)],
         "status": ["adopted"], "themes": ["health;housing"], "link": [""], "summary": [""],
         "area_layer": [None], "area_codes": [None]},
        geometry=gpd.GeoSeries([shapely.box(-3.5, 56.4, -3.4, 56.5)], crs="EPSG:4326"),
    ).rename_geometry("geom")


def test_plans_actions_responses_pins_round_trip(store):
    store.put_plans(_plans())
    plan_id = store.plan_ids()["LP-1"]
    plans = store.plans()
    assert plans.loc[0, "period_start"] == date(2024, 4, 1)
    actions = gpd.GeoDataFrame(
        {"ref": ["A1", "A2"], "plan_id": [plan_id, plan_id], "title": ["Fix lights", "Food"],
         "status": ["in_progress", "completed"], "target_date": [date(2025, 1, 1), None]},
        geometry=gpd.GeoSeries([shapely.Point(-3.45, 56.45), None], crs="EPSG:4326"),
    ).rename_geometry("geom")
    store.put_actions(actions)
    back = store.actions()
    assert list(back["ref"]) == ["A1", "A2"]
    assert back.geometry.values[0].equals(shapely.Point(-3.45, 56.45))
    assert back.geometry.values[1] is None
    responses = gpd.GeoDataFrame(
        {"campaign": ["C1", "C1"], "channel": ["online", "paper"], "area_code": [None, "A"],
         "area_layer": [None, "t"]},
        geometry=gpd.GeoSeries([shapely.Point(-3.45, 56.45), None], crs="EPSG:4326"),
    ).rename_geometry("geom")
    assert len(store.put_responses(responses)) == 2
    assert list(store.responses()["area_code"].fillna("")) == ["", "A"]


def test_duplicate_plan_refs_are_refused(store):
    store.put_plans(_plans())
    with pytest.raises(ValidationError, match="refs already stored: LP-1"):
        store.put_plans(_plans())
    assert len(store.plans()) == 1


def test_every_write_bumps_the_data_version(store):
    before = store.data_version()
    store.put_plans(_plans())
    assert store.data_version() == before + 1


def test_upgrade_from_version_1_adds_accounts(store):
    rewind(store, 1)
    with pytest.raises(SchemaError, match="capmap upgrade"):
        store.check()
    assert store.upgrade() == list(range(2, SCHEMA_VERSION + 1))
    store.check()
    assert store.users() == []
