"""Pins' public points under repetition: many pins at one doorstep, or at distinct spots around
it, never average back to it; knowing one pin's exact spot does not undo its neighbours; old
pins are re-derived by the schema 6 upgrade.

The squares grid's square A spans X0..X0+1000, Y0..Y0+1000 (EPSG:27700). DOOR is the centre of
a 20 m snapping square (X0 and Y0 are multiples of 20), well inside A.
"""

from __future__ import annotations

from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from capmap.core.crs import bng_to_lonlat, lonlat_to_bng
from capmap.core.policy import DEFAULT_POLICY, PinRules
from capmap.services import pins as P
from capmap.services.engine import Engine
from capmap.storage import schema as s
from tests.conftest import X0, Y0
from tests.schema_versions import rewind

DOOR = (X0 + 410.0, Y0 + 610.0)
N = 50


def _submit(store, spots_bng, rules=DEFAULT_POLICY.pins) -> np.ndarray:
    """Pins at the BNG spots through the resident's path; their public points in BNG (n x 2)."""
    engine = Engine(store)
    lon, lat = bng_to_lonlat(np.array([x for x, _ in spots_bng]), np.array([y for _, y in spots_bng]))
    ids = [P.submit_pin(store, engine, P.NewPin(float(a), float(b), "other", f"pin {i}"), rules)
           for i, (a, b) in enumerate(zip(lon, lat, strict=True))]
    pins = store.pins().set_index("id").loc[ids]
    xy = shapely.get_coordinates(pins["public_geom"].values)
    return np.column_stack(lonlat_to_bng(xy[:, 0], xy[:, 1]))


def _running_mean_distances(public: np.ndarray, target: tuple[float, float]) -> np.ndarray:
    """Distance from `target` of the mean of the first 1, 2, ..., n public points."""
    means = np.cumsum(public, axis=0) / np.arange(1, len(public) + 1)[:, None]
    return np.hypot(means[:, 0] - target[0], means[:, 1] - target[1])


def test_many_pins_on_one_doorstep_never_average_back_to_it(loaded):
    # Before: each pin was moved 75-150 m in a fresh random direction, so the mean of N of them
    # closed in on the door as 1/sqrt(N) (about 35 m at N = 10, 16 m at N = 50).
    public = _submit(loaded, [DOOR] * N)
    distances = _running_mean_distances(public, DOOR)
    assert distances.min() >= 75, f"the mean of {distances.argmin() + 1} pins is " \
                                  f"{distances.min():.0f} m from the door"
    assert distances.max() <= 150.6
    assert len(np.unique(public.round(1), axis=0)) == 1  # one public point for them all


def test_distinct_spots_around_the_doorstep_do_not_reveal_it(loaded):
    # 50 distinct spots up to 9 m from the door each way: all in the door's 20 m square, so
    # they share its public point, which lies 75-150 m from every one of them (and the door).
    rng = np.random.default_rng(7)
    spots = [(DOOR[0] + dx, DOOR[1] + dy) for dx, dy in rng.uniform(-9, 9, (N, 2))]
    public = _submit(loaded, spots)
    assert _running_mean_distances(public, DOOR).min() >= 75
    gaps = np.hypot(public[:, 0] - [x for x, _ in spots], public[:, 1] - [y for _, y in spots])
    assert gaps.min() >= 75 and gaps.max() <= 150.6


def test_one_known_pin_does_not_undo_its_neighbours(loaded):
    # An attacker who placed the pin at DOOR knows its exact spot and sees its public point, and
    # applies the same shift to the 24 pins of the squares around it. Each square's offset is its
    # own keyed draw, so the guess misses by |o_i - o_0|: for two independent offsets of 90-136 m
    # that averages about 125 m; well over the 75 m minimum for 24 of them.
    spots = [(DOOR[0] + 20 * i, DOOR[1] + 20 * j) for i in range(-2, 3) for j in range(-2, 3)]
    spots.remove(DOOR)
    public = _submit(loaded, [DOOR, *spots])
    shift = public[0] - np.array(DOOR)
    misses = np.hypot(*(public[1:] - shift - np.array(spots)).T)
    assert misses.mean() > 75 and len(np.unique(public.round(1), axis=0)) == 25


def test_grid_mode_gives_repeated_pins_one_public_point(loaded):
    public = _submit(loaded, [DOOR] * 10, PinRules(public_mode="grid", grid_m=250))
    # DOOR lies in the 250 m square from X0+250, Y0+500: its centre is X0+375, Y0+625.
    assert np.allclose(public, [(X0 + 375, Y0 + 625)] * 10, atol=0.2)


def _rewind_to_5(store, spots) -> None:
    """Pins as schema 5 stored them, moved in independent random directions; no pin key."""
    rng = np.random.default_rng(3)
    angle = rng.uniform(0, 2 * np.pi, len(spots))
    lon, lat = bng_to_lonlat(np.array([x for x, _ in spots]), np.array([y for _, y in spots]))
    plon, plat = bng_to_lonlat(np.array([x for x, _ in spots]) + 110 * np.cos(angle),
                               np.array([y for _, y in spots]) + 110 * np.sin(angle))
    pins = gpd.GeoDataFrame({"category": "other", "description": "old", "contact": None,
                             "created": datetime(2025, 1, 1, tzinfo=UTC), "status": "published"},
                            index=range(len(spots)), geometry=shapely.points(lon, lat),
                            crs="EPSG:4326").rename_geometry("geom")
    pins["public_geom"] = shapely.points(plon, plat)
    store.put_pins(pins)
    with store.engine.begin() as conn:
        conn.execute(sa.delete(s.meta).where(s.meta.c.key.in_(("pin_key", "database_id"))))
    rewind(store, 5)


def test_the_upgrade_re_derives_old_pins(loaded):
    _rewind_to_5(loaded, [DOOR] * 10)
    assert loaded.upgrade()[0] == 6  # and any later upgrades
    pins = loaded.pins()
    xy = shapely.get_coordinates(pins["public_geom"].values)
    public = np.column_stack(lonlat_to_bng(xy[:, 0], xy[:, 1]))
    assert _running_mean_distances(public, DOOR).min() >= 75
    assert np.allclose(public, public[0], atol=0.2)
    with loaded.engine.connect() as conn:  # the box columns follow the new public point
        rows = conn.execute(sa.select(s.pins.c.public_x, s.pins.c.public_y)).all()
    assert np.allclose(rows, xy)
    # A pin submitted now at the door lands on the same public point: one key for old and new.
    assert np.allclose(_submit(loaded, [DOOR]), public[0], atol=0.2)



def test_the_snapping_square_comes_from_the_settings(sample_db, tmp_path):
    from tests.test_pins import make_app

    app = make_app(sample_db, tmp_path, PIN_SNAP_M=10.0)
    with app.app_context():
        from app.pins import _rules

        assert _rules().snap_m == 10.0
    # A 100 m square does not fit between 75 and 150 m: its half diagonal (70.7 m) added inside
    # and taken off outside leaves 146.2 > 79.3.
    with pytest.raises(ValueError, match="100 m snapping square does not fit"):
        P.public_points(shapely.points([-3.2], [55.9]), PinRules(snap_m=100.0), b"k")
