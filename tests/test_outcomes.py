"""Outcomes by plan area: residents, SIMD quintile 1 and decile 1 shares and population-weighted
ranks for plans and queries, apportioned where a boundary cuts a neighbourhood, on both backends."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from capmap.cli import cli
from capmap.core.crs import geoms_bng_to_lonlat
from capmap.core.errors import NotFound
from capmap.io.prepare import PlanFields
from capmap.services import pipeline
from capmap.services.engine import Engine
from capmap.services.outcomes import all_plan_outcomes, plan_outcomes, query_outcomes
from capmap.services.planscape import planscape, point_query, polygon_query
from tests.conftest import SQUARES_Q, X0, Y0, lonlat_of

# Squares A-D (conftest): A south-west, B south-east, C north-west, D north-east, 1 km each,
# populations 500, 600, 700, 800. A, B, C are in council S12000048, D in S12000049.
QUINTILE = [1, 1, 3, 5]
DECILE = [1, 2, 5, 10]
RANK = [100, 900, 3000, 6000]
INCOME = [10, 20, 30, None]  # D carries no income rank
LAYER = replace(SQUARES_Q, simd_decile_field="d", simd_rank_field="r",
                indicator_fields=(("income", "inc"),))
P48, P49 = "S12000048", "S12000049"


@pytest.fixture
def squares(store, squares_bng, tmp_path):
    """The squares with SIMD and income, and plans: LP-AB (A and B, council 48), CAP-D (the
    east half of D, council 49) and LOIP (the grid, council 48)."""
    squares_bng["council"] = [P48, P48, P48, P49]
    squares_bng["q"], squares_bng["d"], squares_bng["r"] = QUINTILE, DECILE, RANK
    squares_bng["inc"] = INCOME
    path = tmp_path / "squares.gpkg"
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    pipeline.import_boundaries(store, LAYER, path)
    plans_csv = tmp_path / "plans.csv"
    plans_csv.write_text("ref,type,title,council_code,layer,area_codes\n"
                         f"LP-AB,locality_plan,South locality,{P48},squares,A;B\n"
                         f"LOIP,loip,Council LOIP,{P48},squares,A;B;C;D\n")
    pipeline.import_plans(store, plans_csv, PlanFields())
    drawn = geoms_bng_to_lonlat(np.array([shapely.box(X0 + 1500, Y0 + 1000, X0 + 2000,
                                                      Y0 + 2000)]))[0]
    plans_json = tmp_path / "cap.geojson"
    plans_json.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": shapely.geometry.mapping(drawn),
        "properties": {"ref": "CAP-D", "type": "community_action_plan", "title": "East D",
                       "council_code": P49}}]}))
    pipeline.import_plans(store, plans_json, PlanFields())
    return store


def _plan_id(engine: Engine, ref: str) -> int:
    plans = engine.plans().plans
    return int(plans.loc[plans["ref"] == ref, "id"].iat[0])


def test_a_plan_of_whole_zones_is_weighted_by_their_population(squares):
    engine = Engine(squares)
    got = plan_outcomes(engine, squares, _plan_id(engine, "LP-AB"))
    area = got["area"]
    # A and B whole: 500 + 600 = 1,100 residents, all in quintile 1, A's 500 in decile 1.
    assert (area["residents"], area["areas"], area["areas_cut"]) == (1100, 2, 0)
    assert area["quintile_1_share"] == pytest.approx(1.0)
    assert area["decile_1_share"] == pytest.approx(500 / 1100)
    # rank (100*500 + 900*600) / 1100; income (10*500 + 20*600) / 1100
    assert area["simd_rank"] == pytest.approx(590_000 / 1100)
    assert area["indicators"]["income"] == pytest.approx(17_000 / 1100)
    # Council 48 is A, B, C: 1,800 residents, 1,100 in quintile 1; rank
    # (50,000 + 540,000 + 3000*700) / 1800; income (5,000 + 12,000 + 21,000) / 1800.
    council = got["council"]
    assert (council["code"], council["residents"]) == (P48, 1800)
    assert council["quintile_1_share"] == pytest.approx(1100 / 1800)
    assert council["simd_rank"] == pytest.approx(2_690_000 / 1800)
    assert council["indicators"]["income"] == pytest.approx(38_000 / 1800)
    # Scotland is the whole layer: 2,600 residents; rank adds 6000*800 = 4,800,000; income
    # leaves D out (no value): 38,000 / 1,800 as for the council.
    scotland = got["scotland"]
    assert (scotland["residents"], scotland["areas"]) == (2600, 4)
    assert scotland["quintile_1_share"] == pytest.approx(1100 / 2600)
    assert scotland["decile_1_share"] == pytest.approx(500 / 2600)
    assert scotland["simd_rank"] == pytest.approx(7_490_000 / 2600)
    assert scotland["indicators"]["income"] == pytest.approx(38_000 / 1800)
    assert got["indicators"] == ["income"]
    assert got["over"].startswith("over 1,100 residents of 2 data zones;")


def test_a_plan_covering_half_a_zone_gets_half_its_population(squares):
    engine = Engine(squares)
    got = plan_outcomes(engine, squares, _plan_id(engine, "CAP-D"))
    area = got["area"]
    # The east half of D: 800 / 2 = 400 residents, none in quintile 1, rank D's 6000; D has
    # no income rank, so none is given.
    assert area["residents"] == pytest.approx(400, abs=0.1)
    assert (area["areas"], area["areas_cut"]) == (1, 1)
    assert area["quintile_1_share"] == 0.0
    assert area["simd_rank"] == pytest.approx(6000)
    assert area["indicators"] == {}
    assert "1 zone cut by the boundary is apportioned by area" in got["over"]
    # Its council is 49, D alone: 800 residents.
    assert (got["council"]["code"], got["council"]["residents"]) == (P49, 800)


def test_the_all_plans_table_matches_each_plan_profile(squares):
    engine = Engine(squares)
    rows, columns = all_plan_outcomes(engine, squares)
    assert [r["ref"] for r in rows] == ["CAP-D", "LOIP", "LP-AB"]
    assert columns[:8] == ["plan_id", "ref", "title", "type", "council_code", "residents",
                           "data_zones", "zones_cut"]
    loip = rows[1]
    # The LOIP covers the whole grid: the same figures as Scotland's.
    assert (loip["residents"], loip["data_zones"], loip["zones_cut"]) == (2600, 4, 0)
    assert loip["quintile_1_share"] == loip["scotland_quintile_1_share"] == round(1100 / 2600, 4)
    assert loip["council_simd_rank"] == round(2_690_000 / 1800, 4)
    assert rows[2]["income"] == round(17_000 / 1100, 4)
    assert rows[0]["income"] is None and rows[0]["council_income"] is None  # D has none


def test_a_drawn_query_is_apportioned_by_the_planscape_shares(squares):
    engine = Engine(squares)
    # The east half of A and the west half of B: 250 + 300 residents, all in quintile 1.
    drawn = geoms_bng_to_lonlat(np.array([shapely.box(X0 + 500, Y0, X0 + 1500, Y0 + 1000)]))[0]
    answer = planscape(engine, squares, polygon_query(shapely.geometry.mapping(drawn)))
    got = query_outcomes(engine, squares, answer)
    area = got["area"]
    assert area["residents"] == pytest.approx(550, abs=0.5)
    assert (area["areas"], area["areas_cut"]) == (2, 2)
    assert area["quintile_1_share"] == pytest.approx(1.0)
    assert area["decile_1_share"] == pytest.approx(250 / 550, abs=1e-3)
    # rank (100*250 + 900*300) / 550
    assert area["simd_rank"] == pytest.approx(295_000 / 550, rel=1e-3)
    assert got["council"]["code"] == P48  # every resident of the query is in council 48
    assert "2 zones cut by the boundary are apportioned by area" in got["over"]


def test_an_unknown_plan_is_not_found(squares):
    with pytest.raises(NotFound, match="there is no plan 9999"):
        plan_outcomes(Engine(squares), squares, 9999)


def test_the_command_writes_every_plan_as_csv_and_one_as_json(squares, store_url):
    runner = CliRunner()
    table = runner.invoke(cli, ["--db", store_url, "outcomes"])
    assert table.exit_code == 0, table.output
    rows = list(csv.DictReader(io.StringIO(table.output)))
    # LP-AB: A and B, 1,100 residents, 2 data zones (as in the first test).
    assert [(r["ref"], r["residents"], r["data_zones"]) for r in rows][2] == ("LP-AB", "1100.0", "2")
    plan_id = _plan_id(Engine(squares), "CAP-D")
    one = runner.invoke(cli, ["--db", store_url, "outcomes", "--plan", str(plan_id)])
    assert one.exit_code == 0 and json.loads(one.output)["area"]["areas_cut"] == 1
    missing = runner.invoke(cli, ["--db", store_url, "outcomes", "--plan", "9999"])
    assert missing.exit_code != 0 and "there is no plan 9999" in missing.output


def test_a_point_query_profiles_its_whole_neighbourhood(squares):
    engine = Engine(squares)
    # A point in C (north-west): C whole, 700 residents in quintile 3, rank 3000, income 30.
    answer = planscape(engine, squares, point_query(engine, *lonlat_of(X0 + 500, Y0 + 1500)))
    area = query_outcomes(engine, squares, answer)["area"]
    assert (area["residents"], area["areas"], area["areas_cut"]) == (700, 1, 0)
    assert area["quintile_1_share"] == 0.0 and area["simd_rank"] == pytest.approx(3000)
    assert area["indicators"]["income"] == pytest.approx(30)
