"""Indicator columns of boundary layers: read, stored per area on both backends, weighted."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from capmap.core.errors import ValidationError
from capmap.io.indicators import parse_indicator_fields
from capmap.services import pipeline
from capmap.services.layers import load_layer_def, make_layer_def
from tests.conftest import SQUARES_Q

# Squares A-D have populations 500, 600, 700, 800 (conftest). Income ranks 10, 20, 30 and none;
# crime 1.5 for A and 4 for D only.
INCOME = [10, 20, 30, None]
CRIME = [1.5, None, None, 4]
WITH_INDICATORS = replace(SQUARES_Q, indicator_fields=(("income", "inc_rank"), ("crime", "crime")))


@pytest.fixture
def squares_file(squares_bng, tmp_path):
    squares_bng["q"] = [1, 1, 3, 5]
    squares_bng["inc_rank"] = INCOME
    squares_bng["crime"] = CRIME
    path = tmp_path / "squares.gpkg"
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    return path


def test_indicators_are_stored_per_area_and_read_with_the_areas(store, squares_file):
    pipeline.import_boundaries(store, WITH_INDICATORS, squares_file)
    areas = store.areas("squares")
    assert list(areas.columns[-2:]) == ["crime", "income"]  # after the area columns, by name
    assert areas["income"].tolist()[:3] == [10.0, 20.0, 30.0] and math.isnan(areas["income"][3])
    assert store.indicator_names("squares") == ["crime", "income"]


def test_area_indicators_gives_population_and_values_for_the_codes_asked(store, squares_file):
    pipeline.import_boundaries(store, WITH_INDICATORS, squares_file)
    table = store.area_indicators("squares", ["B", "A", "Z"])  # Z is not in the layer
    assert table["code"].tolist() == ["A", "B"]
    assert table["population"].tolist() == [500, 600]
    assert table["income"].tolist() == [10.0, 20.0]
    assert table["crime"].iloc[0] == 1.5 and math.isnan(table["crime"].iloc[1])


def test_weighted_indicators_is_the_population_weighted_mean(store, squares_file):
    pipeline.import_boundaries(store, WITH_INDICATORS, squares_file)
    got = store.weighted_indicators("squares", ["A", "B", "C", "D"])
    # income over A, B, C: (10*500 + 20*600 + 30*700) / (500 + 600 + 700) = 38000 / 1800
    assert got["income"]["mean"] == pytest.approx(38000 / 1800)
    assert (got["income"]["population"], got["income"]["areas"]) == (1800, 3)
    # crime over A and D: (1.5*500 + 4*800) / 1300 = 3950 / 1300
    assert got["crime"]["mean"] == pytest.approx(3950 / 1300)


def test_layer_columns_counts_areas_with_each_optional_column(store, squares_file):
    pipeline.import_boundaries(store, WITH_INDICATORS, squares_file)
    assert store.layer_columns("squares", "2026") == {
        "population": 4, "SIMD": 4, "indicator crime": 2, "indicator income": 3}


def test_reimporting_the_vintage_without_indicators_removes_them(store, squares_file):
    pipeline.import_boundaries(store, WITH_INDICATORS, squares_file)
    pipeline.import_boundaries(store, SQUARES_Q, squares_file, options=pipeline.ImportOptions(
        allow_losses=True))
    assert store.indicator_names("squares") == []
    assert "income" not in store.areas("squares")


def test_an_indicator_that_is_not_a_number_refuses_the_layer_naming_rows(store, squares_bng,
                                                                         tmp_path):
    squares_bng["inc_rank"] = ["1", "x", "3", "4"]
    path = tmp_path / "bad.geojson"
    squares_bng.to_file(path, driver="GeoJSON")
    with pytest.raises(ValidationError, match=r"inc_rank is not a number in rows 2"):
        pipeline.import_boundaries(store, replace(SQUARES_Q, simd_quintile_field=None,
                                                  indicator_fields=(("income", "inc_rank"),)),
                                   path)
    assert store.layers() == []


@pytest.mark.parametrize(("specs", "expected"), [
    (["income"], (("income", "income"),)),
    (["income=simd_inc", " crime = crime_rank "], (("income", "simd_inc"),
                                                   ("crime", "crime_rank"))),
    ({"health": "hlth"}, (("health", "hlth"),)),
])
def test_indicator_field_specs(specs, expected):
    assert parse_indicator_fields(specs) == expected


@pytest.mark.parametrize(("specs", "match"), [
    (["Income"], "not allowed"), (["population"], "taken by an area column"),
    (["a=x", "a=y"], "given twice"),
])
def test_bad_indicator_field_specs_are_refused(specs, match):
    with pytest.raises(ValidationError, match=match):
        make_layer_def(id="x", kind="neighbourhood", indicator_fields=specs)


def test_a_layer_toml_may_name_indicators_in_a_table(tmp_path):
    toml = tmp_path / "dz.toml"
    toml.write_text('id = "dz"\nkind = "neighbourhood"\n[indicator_fields]\n'
                    'income = "simd2020_income_rank"\ncrime = "simd2020_crime_rank"\n')
    assert load_layer_def(toml).indicator_fields == (("income", "simd2020_income_rank"),
                                                     ("crime", "simd2020_crime_rank"))
