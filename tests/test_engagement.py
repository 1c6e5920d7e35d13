"""Engagement coverage: rates, council rates, gaps, SIMD equity, outreach, suppression and filters."""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from capmap.core.errors import ValidationError
from capmap.core.serialise import records
from capmap.spatial.disclosure import public_by_area, published
from capmap.spatial.engagement import (
    engagement_by_area,
    equity_by_quintile,
    filter_responses,
    gap_list,
    outreach_list,
    q1_rate_ratio,
)

A, B, C, D = "S01000001", "S01000002", "S01000003", "S01000004"


def four_areas() -> gpd.GeoDataFrame:
    """A and B in council C1, C and D in C2; unit squares in EPSG:27700 (geometry is ignored)."""
    return gpd.GeoDataFrame({
        "code": [D, B, C, A],  # deliberately unsorted
        "name": ["Dee", "Bee", "Sea", "Ay"],
        "parent_code": ["S12000002", "S12000001", "S12000002", "S12000001"],
        "population": pd.array([500, 1000, 2000, 1000], dtype="Int64"),
        "simd_quintile": pd.array([5, 2, 1, 1], dtype="Int64"),
    }, geometry=[shapely.box(i, 0, i + 1, 1) for i in range(4)], crs=27700)


def four_codes() -> pd.Series:
    """A: 2 responses, B: 10, C: 30, D: 0; two outside every area, three in an area not in the layer."""
    return pd.Series([A] * 2 + [B] * 10 + [C] * 30 + [None, np.nan] + ["S01999999"] * 3)


@pytest.fixture
def by_area() -> pd.DataFrame:
    return engagement_by_area(four_areas(), four_codes())


def test_counts_rates_and_council_rates_by_hand(by_area):
    assert list(by_area.columns) == ["code", "name", "parent_code", "population", "simd_quintile",
                                     "responses", "rate_per_1000", "council_rate_per_1000", "gap", "unheard"]
    assert list(by_area["code"]) == [A, B, C, D]
    assert list(by_area["responses"]) == [2, 10, 30, 0]  # None, NaN and S01999999 counted nowhere
    # Rates: 2/1000, 10/1000, 30/2000, 0/500 per resident, times 1000.
    assert list(by_area["rate_per_1000"]) == pytest.approx([2.0, 10.0, 15.0, 0.0])
    # C1 = (2 + 10) / (1000 + 1000) * 1000 = 6; C2 = (30 + 0) / (2000 + 500) * 1000 = 12.
    assert list(by_area["council_rate_per_1000"]) == pytest.approx([6.0, 6.0, 12.0, 12.0])
    # Gap with ratio 0.5: A 2 < 3 yes; B 10 < 3 no; C 15 < 6 no; D 0 < 6 yes.
    assert list(by_area["gap"]) == [True, False, False, True]
    # Unheard: 1000 - 2, 1000 - 10, 2000 - 30, 500 - 0.
    assert list(by_area["unheard"]) == [998, 990, 1970, 500]
    assert not isinstance(by_area, gpd.GeoDataFrame)


def test_gap_ratio_changes_the_flags():
    # Ratio 0.1: A 2 < 0.6 no; D 0 < 1.2 yes.  Ratio 2: B 10 < 12 yes as well; C 15 < 24 yes.
    assert list(engagement_by_area(four_areas(), four_codes(), gap_ratio=0.1)["gap"]) == [False] * 3 + [True]
    assert list(engagement_by_area(four_areas(), four_codes(), gap_ratio=2)["gap"]) == [True] * 4
    with pytest.raises(ValidationError, match="gap_ratio"):
        engagement_by_area(four_areas(), four_codes(), gap_ratio=-1)


def test_missing_parent_uses_the_whole_layer_and_missing_population_has_no_rate():
    areas = pd.DataFrame({
        "code": ["X1", "X2", "X3", "X4"], "name": ["a", "b", "c", "d"],
        "parent_code": ["P", "P", None, "P"],
        "population": pd.array([1000, 3000, 1000, None], dtype="Int64"),
        "simd_quintile": pd.array([None] * 4, dtype="Int64"),
    })
    out = engagement_by_area(areas, ["X1"] * 4 + ["X3"] * 1 + ["X4"] * 7)
    # P pools X1 and X2 only (X4 has no population): 4 / 4000 * 1000 = 1.
    # The layer pools X1, X2, X3: (4 + 0 + 1) / 5000 * 1000 = 1.
    assert list(out["council_rate_per_1000"]) == pytest.approx([1.0, 1.0, 1.0, 1.0])
    assert math.isnan(out["rate_per_1000"].iloc[3])
    assert list(out["gap"]) == [False, True, False, False]  # X2: 0 < 0.5; X4 rate unknown
    assert out["unheard"].isna().tolist() == [False, False, False, True]
    assert out["responses"].iloc[3] == 7


def test_zero_population_has_no_rate_and_unheard_floors_at_zero():
    areas = pd.DataFrame({"code": ["Z1", "Z2"], "name": ["a", "b"], "parent_code": [None, None],
                          "population": pd.array([0, 3], dtype="Int64"),
                          "simd_quintile": pd.array([1, 1], dtype="Int64")})
    out = engagement_by_area(areas, ["Z1", "Z2", "Z2", "Z2", "Z2"])
    assert math.isnan(out["rate_per_1000"].iloc[0]) and not out["gap"].iloc[0]
    assert list(out["unheard"]) == [0, 0]


def test_bad_areas_are_rejected():
    areas = four_areas()
    with pytest.raises(ValidationError, match="missing column.*population"):
        engagement_by_area(areas.drop(columns="population"), [])
    with pytest.raises(ValidationError, match="unique.*S01000001"):
        engagement_by_area(pd.concat([areas, areas.iloc[[3]]]), [])
    areas["simd_quintile"] = pd.array([0, 1, 2, 3], dtype="Int64")
    with pytest.raises(ValidationError, match="1 to 5.*got 0"):
        engagement_by_area(areas, [])


def test_equity_by_quintile_by_hand(by_area):
    eq = equity_by_quintile(by_area)
    assert list(eq.columns) == ["quintile", "areas", "population", "responses", "rate_per_1000",
                                "share_of_population", "share_of_responses"]
    assert list(eq["quintile"]) == [1, 2, 5]
    assert list(eq["areas"]) == [2, 1, 1]
    assert list(eq["population"]) == [3000, 1000, 500]
    assert list(eq["responses"]) == [32, 10, 0]
    # Q1: 32 / 3000 * 1000; Q2: 10 / 1000 * 1000; Q5: 0.
    assert list(eq["rate_per_1000"]) == pytest.approx([32 / 3, 10.0, 0.0])
    # Of 4500 residents and 42 responses.
    assert list(eq["share_of_population"]) == pytest.approx([2 / 3, 2 / 9, 1 / 9])
    assert list(eq["share_of_responses"]) == pytest.approx([16 / 21, 5 / 21, 0.0])
    assert eq["share_of_population"].sum() == pytest.approx(1.0)
    assert eq["share_of_responses"].sum() == pytest.approx(1.0)


def test_q1_rate_ratio_by_hand(by_area):
    # (32 / 3000) / (42 / 4500) = 8 / 7: the most deprived fifth is heard from a little more.
    assert q1_rate_ratio(by_area) == pytest.approx(8 / 7)


def test_no_quintiles_gives_an_empty_equity_table_and_no_ratio(by_area):
    wards = by_area.assign(simd_quintile=pd.array([None] * 4, dtype="Int64"))
    eq = equity_by_quintile(wards)
    assert eq.empty and list(eq.columns)[0] == "quintile"
    assert q1_rate_ratio(wards) is None
    assert q1_rate_ratio(by_area[by_area["simd_quintile"] != 1]) is None
    silent = engagement_by_area(four_areas(), [])
    assert q1_rate_ratio(silent) is None
    assert equity_by_quintile(silent)["share_of_responses"].isna().all()


def test_gap_list_sorts_by_unheard(by_area):
    assert list(gap_list(by_area)["code"]) == [A, D]  # 998 then 500 unheard
    assert list(gap_list(by_area, limit=1)["code"]) == [A]
    ties = by_area.assign(unheard=pd.array([5, 5, 5, 5], dtype="Int64"))
    assert list(gap_list(ties)["code"]) == [A, D]
    with pytest.raises(ValidationError, match="limit"):
        gap_list(by_area, limit=-1)


def test_outreach_list_takes_the_lowest_rates_in_deprived_quintiles(by_area):
    assert list(outreach_list(by_area)["code"]) == [A, C]  # quintile 1: rates 2 then 15
    assert list(outreach_list(by_area, quintile=2)["code"]) == [A, B, C]
    assert list(outreach_list(by_area, quintile=5, limit=2)["code"]) == [D, A]
    with pytest.raises(ValidationError, match="quintile must be 1 to 5; got 6"):
        outreach_list(by_area, quintile=6)


def test_equal_rates_list_the_most_unheard_first():
    areas = pd.DataFrame({"code": ["E1", "E2"], "name": ["a", "b"], "parent_code": ["P", "P"],
                          "population": pd.array([100, 900], dtype="Int64"),
                          "simd_quintile": pd.array([1, 1], dtype="Int64")})
    assert list(outreach_list(engagement_by_area(areas, []))["code"]) == ["E2", "E1"]


def test_the_public_table_withholds_small_counts_and_rounds_the_rest():
    counts = {A: 2, B: 10, C: 30}  # D: 0
    out = public_by_area(four_areas(), counts, gap_ratio=0.5, threshold=5, base=5)
    assert list(out["responses"]) == ["<5", 10, 30, "<5"]  # 0 is withheld too
    assert [type(v) for v in out["responses"]] == [str, int, int, str]
    assert records(out[["rate_per_1000"]]) == [{"rate_per_1000": v} for v in (None, 10.0, 15.0, None)]
    # Councils from their published counts: C1 12 -> 10 over 2000 people = 5.0; C2 30 over 2500.
    assert list(out["council_rate_per_1000"]) == pytest.approx([5.0, 5.0, 12.0, 12.0])
    # Withheld areas are gaps only when 4 responses would still be one: A 4.0 < 2.5 no,
    # D 4/500 = 8.0 < 6 no. B 10 < 2.5 no; C 15 < 6 no.
    assert list(out["gap"]) == [False, False, False, False]
    assert out["unheard"].isna().tolist() == [True, False, False, True]
    assert list(out["unheard"].dropna()) == [990, 1970]


@pytest.mark.parametrize(("count", "threshold", "base", "shown"), [
    (0, 5, 5, None), (4, 5, 5, None), (5, 5, 5, 5), (7, 5, 5, 5), (8, 5, 5, 10), (12, 5, 5, 10),
    (13, 5, 5, 15), (9, 10, 5, None), (10, 10, 5, 10), (1, 1, 1, 1), (149, 5, 10, 150),
])
def test_published_boundaries(count, threshold, base, shown):
    assert published(count, threshold, base) == shown


def test_published_refuses_bad_settings():
    with pytest.raises(ValidationError, match="threshold"):
        published(3, 0, 5)
    with pytest.raises(ValidationError, match="base"):
        published(3, 5, True)


def responses_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "campaign": ["loip", "loip", "parks", "loip", None],
        "channel": ["online", "paper", "online", "event", "online"],
        "themes": ["health;housing", "healthcare", "parks; health ", None, "housing"],
        "date": [dt.date(2024, 1, 1), dt.date(2024, 1, 31), None, dt.date(2024, 2, 1), dt.date(2024, 1, 15)],
    }, index=[10, 11, 12, 13, 14])


def test_filters_match_exactly():
    frame = responses_frame()
    assert list(filter_responses(frame).index) == [10, 11, 12, 13, 14]
    assert list(filter_responses(frame, campaign="loip").index) == [10, 11, 13]
    assert list(filter_responses(frame, channel="online").index) == [10, 12, 14]
    assert list(filter_responses(frame, theme="health").index) == [10, 12]  # not "healthcare"
    assert list(filter_responses(frame, theme="healthcare").index) == [11]
    assert list(filter_responses(frame, campaign="loip", channel="online", theme="housing").index) == [10]


def test_date_bounds_are_inclusive_and_undated_responses_drop_out():
    frame = responses_frame()
    jan = filter_responses(frame, date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 1, 31))
    assert list(jan.index) == [10, 11, 14]
    assert list(filter_responses(frame, date_from=dt.date(2024, 1, 31)).index) == [11, 13]
    assert list(filter_responses(frame, date_to=dt.date(2024, 1, 1)).index) == [10]
    one_day = filter_responses(frame, date_from=dt.date(2024, 2, 1), date_to=dt.date(2024, 2, 1))
    assert list(one_day.index) == [13]


def test_datetimes_compare_by_day():
    frame = responses_frame().assign(date=pd.to_datetime(["2024-01-01 09:00", "2024-01-31 23:59", None,
                                                          "2024-02-01 00:00", "2024-01-15 12:00"]))
    assert list(filter_responses(frame, date_to=dt.date(2024, 1, 31)).index) == [10, 11, 14]


def test_reversed_dates_are_rejected_naming_both():
    with pytest.raises(ValidationError, match="2024-03-01.*after.*2024-02-01") as info:
        filter_responses(responses_frame(), date_from=dt.date(2024, 3, 1), date_to=dt.date(2024, 2, 1))
    assert info.value.status == 422


def test_filter_on_a_missing_column_says_which():
    with pytest.raises(ValidationError, match="no 'themes' column.*campaign"):
        filter_responses(responses_frame().drop(columns="themes"), theme="health")


def test_filtered_codes_feed_the_counts():
    frame = responses_frame().assign(code=[A, A, B, None, "S01999999"])
    out = engagement_by_area(four_areas(), filter_responses(frame, campaign="loip")["code"])
    assert list(out["responses"]) == [2, 0, 0, 0]


area_rows = st.lists(
    st.tuples(st.sampled_from(["P1", "P2", None]),
              st.one_of(st.none(), st.integers(0, 5000)),
              st.one_of(st.none(), st.integers(1, 5))),
    min_size=0, max_size=8)


def build_areas(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame({
        "code": [f"S01{i:06d}" for i in range(len(rows))],
        "name": [f"Area {i}" for i in range(len(rows))],
        "parent_code": pd.Series([r[0] for r in rows], dtype=object),
        "population": pd.array([r[1] for r in rows], dtype="Int64"),
        "simd_quintile": pd.array([r[2] for r in rows], dtype="Int64"),
    })


@settings(max_examples=150, deadline=None)
@given(rows=area_rows, picks=st.lists(st.integers(-3, 9), max_size=60))
def test_every_response_in_an_area_is_counted_once(rows, picks):
    areas = build_areas(rows)
    known = list(areas["code"])
    codes = [known[p] if 0 <= p < len(known) else (None if p < 0 else "S02000001") for p in picks]
    out = engagement_by_area(areas, pd.Series(codes, dtype=object))
    assert out["responses"].sum() == sum(c in known for c in codes)
    assert len(out) == len(areas)
    assert not (out["gap"] & out["rate_per_1000"].isna()).any()
    assert (out["unheard"].dropna() >= 0).all()


@settings(max_examples=150, deadline=None)
@given(rows=area_rows, picks=st.lists(st.integers(0, 7), max_size=60))
def test_shares_lie_in_0_1_and_sum_to_1(rows, picks):
    areas = build_areas(rows)
    codes = [areas["code"].iloc[p] for p in picks if p < len(areas)]
    eq = equity_by_quintile(engagement_by_area(areas, codes))
    for share, total in (("share_of_population", eq["population"].sum()),
                         ("share_of_responses", eq["responses"].sum())):
        if total > 0:
            assert eq[share].between(0, 1).all()
            assert abs(eq[share].sum() - 1) < 1e-9
        else:
            assert eq[share].isna().all()
    ratio = q1_rate_ratio(engagement_by_area(areas, codes))
    assert ratio is None or ratio >= 0
