"""Records in one place: the box queries in SQL find exactly what a scan of the whole table finds,
pins only by their public point; schema 5 and its upgrade; the JSON built column by column."""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from app.store import get_engine, get_store
from capmap.core.crs import geoms_bng_to_lonlat
from capmap.core.errors import SchemaError
from capmap.core.serialise import action_json, actions_json, public_pin_json, public_pins_json
from capmap.storage import schema as s
from tests.conftest import X0, Y0
from tests.schema_versions import rewind


def _lonlat_square(i: int, j: int) -> shapely.Geometry:
    """Square (i, j) of the 1 km grid, in lon/lat."""
    box = shapely.box(X0 + i * 1000, Y0 + j * 1000, X0 + (i + 1) * 1000, Y0 + (j + 1) * 1000)
    return geoms_bng_to_lonlat(np.array([box]))[0]


def _lonlat(x: float, y: float) -> shapely.Point:
    return geoms_bng_to_lonlat(np.array([shapely.Point(x, y)]))[0]


A, B = _lonlat_square(0, 0), _lonlat_square(1, 0)
CORNER = shapely.Point(shapely.get_coordinates(A)[2])  # a vertex of A, exactly


def _pins(store) -> None:
    """P1 exactly in A but shown in B; P2 exactly in B but shown in A; P3 in A, pending; P4 shown
    on a corner of A; P5 far away."""
    exact = [_lonlat(X0 + 500, Y0 + 500), _lonlat(X0 + 1500, Y0 + 500), _lonlat(X0 + 300, Y0 + 300),
             _lonlat(X0 + 900, Y0 + 900), _lonlat(X0 + 9000, Y0 + 9000)]
    public = [_lonlat(X0 + 1600, Y0 + 400), _lonlat(X0 + 600, Y0 + 600), _lonlat(X0 + 350, Y0 + 300),
              CORNER, _lonlat(X0 + 9100, Y0 + 9000)]
    pins = gpd.GeoDataFrame(
        {"ref": [f"P{i}" for i in range(1, 6)], "category": "other",
         "description": [f"pin {i}" for i in range(1, 6)],
         "created": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
         "status": ["published", "published", "pending", "published", "published"],
         "contact": None}, geometry=exact, crs="EPSG:4326").rename_geometry("geom")
    pins["public_geom"] = public
    store.put_pins(pins)


def _full_scan(store, geometry, statuses=("published",)) -> list[str]:
    """What the planscape read before: every pin of the statuses, tested on its public point."""
    pins = store.public_pin_points(statuses)
    return sorted(pins["description"][shapely.intersects(geometry, pins["public_geom"].values)])


def test_pins_are_found_by_their_public_point_only(store):
    _pins(store)
    in_a = store.public_pins_in(A, ("published",))
    assert list(in_a["description"]) == ["pin 2", "pin 4"]  # never pin 1, whose exact point is in A
    assert list(store.public_pins_in(B, ("published",))["description"]) == ["pin 1"]
    assert list(store.public_pins_in(A, ("published", "pending"))["description"]) == [
        "pin 2", "pin 3", "pin 4"]
    assert list(in_a.columns) == ["id", "category", "description", "created", "status",
                                  "public_geom"]
    assert in_a.geometry.name == "public_geom" and "contact" not in in_a
    assert shapely.equals(in_a["public_geom"].iloc[1], CORNER)
    for geometry in (A, B, shapely.union_all([A, B]), CORNER.buffer(1e-4), _lonlat_square(5, 5)):
        for statuses in (("published",), ("published", "pending")):
            found = store.public_pins_in(geometry, statuses)
            assert sorted(found["description"]) == _full_scan(store, geometry, statuses)
    assert store.public_pins_in(shapely.Polygon(), ("published",)).empty


def test_a_page_of_the_newest_pins_and_the_count_of_all(store):
    _pins(store)
    # A shows pins 2 and 4 (published) and 3 (pending): newest first, the count of all of them.
    page, total = store.newest_public_pins_in(A, ("published", "pending"), 2)
    assert list(page["description"]) == ["pin 4", "pin 3"] and total == 3
    assert list(page.columns) == list(store.public_pins_in(A, ("published",)).columns)
    assert "contact" not in page and page.geometry.name == "public_geom"
    assert shapely.equals(page["public_geom"].iloc[0], CORNER)
    page, total = store.newest_public_pins_in(_lonlat_square(5, 5), ("published",), 2)
    assert page.empty and total == 0


def _actions(loaded) -> dict[str, int]:
    ids = loaded.plan_ids()
    rows = [("IN-A", "LP-AB", _lonlat(X0 + 200, Y0 + 200)), ("IN-B", "LP-AB", _lonlat(X0 + 1200, Y0 + 200)),
            ("EDGE-A", "LOIP", CORNER), ("WIDE-LP", "LP-AB", None),
            ("WIDE-CAP", "CAP-D", None), ("FAR", "LOIP", _lonlat(X0 + 8000, Y0 + 8000))]
    actions = gpd.GeoDataFrame(
        {"ref": [r for r, _, _ in rows], "plan_id": [ids[p] for _, p, _ in rows],
         "title": [r.lower() for r, _, _ in rows]},
        geometry=gpd.GeoSeries([g for _, _, g in rows], crs="EPSG:4326")).rename_geometry("geom")
    loaded.put_actions(actions)
    return ids


def _actions_full_scan(store, geometry, plan_ids) -> list[str]:
    """What the planscape read before: every action, located ones tested exactly."""
    actions = store.actions()
    points = actions.geometry.values
    located = ~shapely.is_missing(points)
    inside = np.zeros(len(actions), dtype=bool)
    inside[located] = shapely.intersects(geometry, points[located])
    by_plan = ~located & actions["plan_id"].isin(plan_ids).to_numpy()
    return list(actions["ref"][inside | by_plan])


def test_actions_by_box_and_by_plan(loaded):
    ids = _actions(loaded)
    assert list(loaded.actions_in(A, [ids["LP-AB"]])["ref"]) == ["IN-A", "EDGE-A", "WIDE-LP"]
    assert list(loaded.actions_in(A)["ref"]) == ["IN-A", "EDGE-A"]
    assert list(loaded.actions_in(None, [ids["CAP-D"]])["ref"]) == ["WIDE-CAP"]
    for geometry in (A, B, shapely.union_all([A, B]), _lonlat_square(1, 1), _lonlat_square(7, 7)):
        for plans in ([], [ids["LP-AB"]], list(ids.values())):
            assert list(loaded.actions_in(geometry, plans)["ref"]) == _actions_full_scan(
                loaded, geometry, plans)
    assert list(loaded.plan_actions([ids["LP-AB"]])["ref"]) == ["IN-A", "IN-B", "WIDE-LP"]
    assert loaded.plan_actions([]).empty


def test_upgrade_from_version_4_fills_the_public_coordinates(store):
    _pins(store)
    rewind(store, 4)  # no public coordinates and none of their indexes
    with pytest.raises(SchemaError, match="capmap upgrade"):
        store.check()
    assert store.upgrade() == list(range(5, s.SCHEMA_VERSION + 1))
    store.check()
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(s.pins.c.public_x, s.pins.c.public_y, s.pins.c.public_geom)
                            .order_by(s.pins.c.id)).all()
    for x, y, wkb in rows:
        assert (x, y) == tuple(shapely.get_coordinates(shapely.from_wkb(wkb))[0])
    # Schema 6 re-derives the public points from the pin key: the box query still finds what a
    # scan of the new public points finds.
    for square in (A, B):
        found = sorted(store.public_pins_in(square, ("published",))["description"])
        assert found == _full_scan(store, square)
    _pins(store)  # pins written after the upgrade get their coordinates too
    assert "pin 1" in list(store.public_pins_in(B, ("published",))["description"])
    assert store.upgrade() == []


def test_json_column_by_column_is_the_json_row_by_row(app):
    with app.app_context():
        store = get_store()
        plans = get_engine().plans().plans
        titles = dict(zip(plans["id"], plans["title"], strict=True))
        actions = store.actions()
        assert len(actions) and actions.geometry.notna().any() and actions.geometry.isna().any()
        assert actions_json(actions, titles) == [action_json(row, titles)
                                                 for _, row in actions.iterrows()]
        pins = store.public_pin_points(("published", "resolved", "pending"))
        assert len(pins)
        assert public_pins_json(pins) == [public_pin_json(row) for _, row in pins.iterrows()]


def test_sample_places_find_what_the_full_scan_found(app):
    with app.app_context():
        store, engine = get_store(), get_engine()
        hoods = engine.neighbourhoods()
        plans = engine.plans().plans
        statuses = ("published", "resolved")
        rng = np.random.default_rng(5)
        places = list(hoods.areas.geometry.values[rng.choice(len(hoods.areas), 12, replace=False)])
        places += [shapely.union_all(hoods.areas.geometry.values[:200])]
        seen_pins = seen_actions = 0
        for place in places:
            pins = store.public_pins_in(place, statuses)
            assert sorted(pins["description"]) == _full_scan(store, place, statuses)
            plan_ids = list(plans["id"][shapely.intersects(plans.geometry.values, place)])
            actions = store.actions_in(place, plan_ids)
            assert list(actions["ref"]) == _actions_full_scan(store, place, plan_ids)
            seen_pins, seen_actions = seen_pins + len(pins), seen_actions + len(actions)
        assert seen_pins and seen_actions  # the comparison was not of empty answers
