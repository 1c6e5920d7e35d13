"""Name search folds accents, case and punctuation and finds alternative names; the
pick-an-area list groups wards by council and tells duplicate names apart; planscape shares are
measured on land. Both backends.

Layers on conftest's four 1 km squares (A south-west, B south-east, C north-west, D north-east):
councils W (A + C, "Glasgow City") and E (B + D, "Fife"); wards, one per square:
  A "Ward 3" in Glasgow City, B "Ward 3" in Fife, C "Steòrnabhagh a Deas" (alternative name
  "Stornoway South"), D "Na h-Eileanan Siar" (given no council code: placed by its point).
"""

from __future__ import annotations

import geopandas as gpd
import pytest

from capmap.core.folding import fold
from capmap.core.models import LayerDef
from capmap.services import pipeline
from capmap.services.engine import Engine
from capmap.services.places import search_places
from capmap.services.planscape import codes_query, planscape, polygon_query
from capmap.services.search import choice_groups
from tests.conftest import X0, Y0, bng_square


@pytest.fixture
def named(loaded, tmp_path):
    councils = gpd.GeoDataFrame(
        {"code": ["S12000049", "S12000047"], "name": ["Glasgow City", "Fife"]},
        geometry=[bng_square(X0, Y0, 1000).union(bng_square(X0, Y0 + 1000, 1000)),
                  bng_square(X0 + 1000, Y0, 1000).union(bng_square(X0 + 1000, Y0 + 1000, 1000))],
        crs="EPSG:27700")
    councils.to_file(tmp_path / "councils.gpkg", driver="GPKG")
    pipeline.import_boundaries(loaded, LayerDef(id="councils", kind="council"),
                               tmp_path / "councils.gpkg")
    wards = gpd.GeoDataFrame(
        {"code": ["W1", "W2", "W3", "W4"],
         "name": ["Ward 3", "Ward 3", "Steòrnabhagh a Deas", "Na h-Eileanan Siar"],
         "gaelic_or_english": ["", "", "Stornoway South", ""],
         "council": ["S12000049", "S12000047", "S12000049", ""]},
        geometry=[bng_square(X0 + i * 1000, Y0 + j * 1000, 1000)
                  for i, j in ((0, 0), (1, 0), (0, 1), (1, 1))], crs="EPSG:27700")
    wards.to_file(tmp_path / "wards.gpkg", driver="GPKG")
    pipeline.import_boundaries(loaded, LayerDef(id="wards", kind="ward", parent_field="council",
                                                name_alt_field="gaelic_or_english"),
                               tmp_path / "wards.gpkg")
    return loaded


def test_fold_drops_accents_case_and_punctuation():
    assert fold("Steòrnabhagh a Deas") == "steornabhagh a deas"
    assert fold("  NA H-EILEANAN   SIAR ") == "na h eileanan siar"
    assert fold("Uibhist a Deas, Èirisgeigh agus Beinn na Faoghla") == (
        "uibhist a deas eirisgeigh agus beinn na faoghla")


def _found(store, text):
    return [(m["code"], m["label"]) for m in search_places(Engine(store), store, text)
            if m["kind"] == "area"]


def test_names_are_found_without_accents_and_by_their_alternative(named):
    assert _found(named, "Steornabhagh") == [("W3", "Steòrnabhagh a Deas")]
    assert _found(named, "STEÒRNABHAGH-A-DEAS") == [("W3", "Steòrnabhagh a Deas")]
    assert _found(named, "stornoway") == [("W3", "Steòrnabhagh a Deas")]
    assert _found(named, "eileanan") == [("W4", "Na h-Eileanan Siar")]  # a word start
    assert _found(named, "w3") == [("W3", "Steòrnabhagh a Deas")]  # the code, any case


def test_duplicate_names_are_told_apart_by_council(named):
    assert sorted(_found(named, "ward 3")) == [("W1", "Ward 3 — Glasgow City"),
                                                ("W2", "Ward 3 — Fife")]


def test_the_ward_list_is_grouped_by_council(named):
    groups = choice_groups(Engine(named))
    assert groups["layer"] == "wards"
    listed = [(g["name"], [a["label"] for a in g["areas"]]) for g in groups["councils"]]
    # W4 has no council code: its inner point is in square D, in Fife.
    assert listed == [("Fife", ["Na h-Eileanan Siar", "Ward 3 — Fife"]),
                      ("Glasgow City", ["Steòrnabhagh a Deas", "Ward 3 — Glasgow City"])]


def test_shares_are_measured_on_land(named):
    engine = Engine(named)
    # A polygon of square A and a 1 km strip of sea south of it (no neighbourhood there): 2 km²,
    # of which 1 km² is land. The LOIP (all four squares) covers all the land: 100 %, not 50 %.
    query = polygon_query(gpd.GeoSeries([bng_square(X0, Y0 - 1000, 1000).union(
        bng_square(X0, Y0, 1000))], crs="EPSG:27700").to_crs(4326).iloc[0].__geo_interface__)
    answer = planscape(engine, named, query)
    assert answer["query"]["area_km2"] == pytest.approx(2.0, rel=1e-3)
    assert answer["query"]["land_km2"] == pytest.approx(1.0, rel=1e-3)
    assert answer["query"]["measure"].startswith("land")
    loip = next(p for p in answer["plans"] if p["ref"] == "LOIP")
    assert loip["share_of_query"] == pytest.approx(1.0, abs=1e-3)
    assert loip["share_of_plan"] == pytest.approx(0.25, abs=1e-3)  # 1 of its 4 km² of land
    # The same square asked by its code answers the same shares.
    by_code = planscape(engine, named, codes_query(engine, "squares", ["A"]))
    same = next(p for p in by_code["plans"] if p["ref"] == "LOIP")
    assert same["share_of_query"] == pytest.approx(loip["share_of_query"], abs=1e-3)
