"""Overlaps, shares and apportioned population on squares worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from capmap.spatial.overlay import apportioned_population, coverage_shares, type_coverage
from tests.conftest import GRID_ORIGIN

X0, Y0 = GRID_ORIGIN


def _squares(squares_bng):
    return squares_bng.geometry.values


def test_a_cover_over_a_and_half_of_b(squares_bng):
    cover = np.array([shapely.box(X0, Y0, X0 + 1500, Y0 + 1000)])
    shares = coverage_shares(cover, _squares(squares_bng)).sort_values("area")
    # A (1 km²) is wholly inside; half of B (0.5 km²) is; C and D only touch the edge: no area.
    assert list(shares["area"]) == [0, 1]
    assert list(shares["overlap_m2"]) == pytest.approx([1e6, 0.5e6])
    assert list(shares["share_of_area"]) == pytest.approx([1.0, 0.5])
    assert list(shares["share_of_cover"]) == pytest.approx([2 / 3, 1 / 3])


def test_population_is_apportioned_by_area(squares_bng):
    cover = np.array([shapely.box(X0, Y0, X0 + 1500, Y0 + 1000),
                      shapely.box(X0 + 1500, Y0 + 1500, X0 + 2000, Y0 + 2000)])
    people = apportioned_population(cover, _squares(squares_bng), squares_bng["pop"].to_numpy())
    # 500 (all of A) + 600 / 2 (half of B) = 800; a quarter of D: 800 / 4 = 200.
    assert people == pytest.approx([800.0, 200.0])


def test_unknown_population_gives_nan(squares_bng):
    cover = np.array([shapely.box(X0, Y0, X0 + 1500, Y0 + 1000)])
    pop = np.array([500, np.nan, 700, 800])
    assert np.isnan(apportioned_population(cover, _squares(squares_bng), pop)[0])


def test_overlapping_plans_of_a_type_count_once(squares_bng):
    plans = np.array([shapely.box(X0, Y0, X0 + 1000, Y0 + 1000),
                      shapely.box(X0, Y0, X0 + 1000, Y0 + 500),
                      shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 250)], dtype=object)
    types = np.array(["locality_plan", "locality_plan", "service_plan"], dtype=object)
    cov = type_coverage(plans, types, _squares(squares_bng)).sort_values(["type", "area"])
    assert list(zip(cov["type"], cov["area"], strict=True)) == [("locality_plan", 0),
                                                                ("service_plan", 1)]
    assert list(cov["share_of_area"]) == pytest.approx([1.0, 0.25])


@settings(max_examples=40, deadline=None)
@given(x=st.floats(0, 1900), y=st.floats(0, 1900), w=st.floats(1, 2000), h=st.floats(1, 2000))
def test_shares_of_a_tessellation_sum_to_one(x, y, w, h):
    squares = np.array([shapely.box(X0 + i, Y0 + j, X0 + i + 1000, Y0 + j + 1000)
                        for i in (0, 1000) for j in (0, 1000)])
    cover = shapely.box(X0 + x, Y0 + y, X0 + min(x + w, 2000), Y0 + min(y + h, 2000))
    shares = coverage_shares(np.array([cover]), squares)
    assert shares["share_of_cover"].sum() == pytest.approx(1.0, abs=1e-9)
    assert ((shares["share_of_area"] >= 0) & (shares["share_of_area"] <= 1)).all()


def test_plans_given_by_codes_match_their_measured_union(squares_bng):
    from capmap.spatial.overlay import plan_shares

    areas = _squares(squares_bng)
    codes = squares_bng["code"].to_numpy()
    union_ab = shapely.union_all(areas[:2])
    drawn = shapely.box(X0 + 500, Y0, X0 + 1500, Y0 + 1000)
    covers = np.array([union_ab, drawn, union_ab], dtype=object)
    # Plan 0 is given by codes, plan 2 is the same area drawn; plan 1 is drawn across A and B.
    shares = plan_shares(covers, [["A", "B", "Z"], None, None], codes, areas)
    by_codes = shares[shares["cover"] == 0].sort_values("area")
    measured = shares[shares["cover"] == 2].sort_values("area")
    for column in ("area", "overlap_m2", "share_of_area", "share_of_cover"):
        assert list(by_codes[column]) == pytest.approx(list(measured[column]), abs=1e-9)
    assert list(shares[shares["cover"] == 1]["share_of_area"]) == pytest.approx([0.5, 0.5])
