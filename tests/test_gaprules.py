"""Plan gap rules (capmap.services.gaprules) on hand-made squares, both backends, library and web.

Six 1 km squares, BNG (population 1,000 each):

    y 1-2 km:  D q5 | E q5 | F q5
    y 0-1 km:  A q1 | B q1 | C q1

- LOIP covers all six; SP, a service plan, covers D (council-wide: not a local plan).
- LP-A (Locality Plan of A) ended 2024-03-31; LP-B (of B) is a "Draft"; LP-C (of C) is in force.
- CAP1 covers E's west half (x 0-0.5 km), CAP2 x 0.25-0.75 km of E: the union is 0.75 of E
  (their largest share 0.5, their sum 1.0). LPP-F over F has status "expired".
On 2026-06-01: deprived without a Locality Plan in force A, B (both only by lapsed plans);
no local plan in force A, B, D, F. Reviews: LP-A at its period end 2024-03-31, CAP1 five years
after its start 2020-06-01 (2025-06-01) and LPP-F after 2015-01-01 (2020-01-01) are past; SP has
no date at all.
"""

from __future__ import annotations

import json
from datetime import date

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from capmap.core.crs import geoms_bng_to_lonlat
from capmap.core.models import LayerDef
from capmap.core.policy import PlanGapRules
from capmap.io.prepare import PlanFields
from capmap.present.dashboards import plans_tables
from capmap.services import gaprules, pipeline
from capmap.services.coverage import plan_coverage
from capmap.services.engine import Engine
from capmap.storage import schema as s
from tests.conftest import X0, Y0, bng_square
from tests.schema_versions import rewind

TODAY = date(2026, 6, 1)
SIX = LayerDef(id="six", kind="neighbourhood", vintage="2026", population_field="pop",
               parent_field="council", simd_quintile_field="q")


@pytest.fixture
def six(store, tmp_path):
    cells = [("A", 0, 0, 1), ("B", 1, 0, 1), ("C", 2, 0, 1), ("D", 0, 1, 5), ("E", 1, 1, 5),
             ("F", 2, 1, 5)]
    gpd.GeoDataFrame({"code": [c for c, *_ in cells], "name": [c for c, *_ in cells],
                      "pop": [1000] * 6, "q": [q for *_, q in cells], "council": ["S12000048"] * 6},
                     geometry=[bng_square(X0 + i * 1000, Y0 + j * 1000, 1000) for _, i, j, _ in cells],
                     crs="EPSG:27700").to_file(tmp_path / "six.gpkg", layer="six", driver="GPKG")
    pipeline.import_boundaries(store, SIX, tmp_path / "six.gpkg")
    (tmp_path / "plans.csv").write_text(
        "ref,type,title,period_start,period_end,review_due,status,layer,area_codes\n"
        "LOIP,loip,LOIP,2023-04-01,2099-03-31,2030-01-01,adopted,six,A;B;C;D;E;F\n"
        "SP,service_plan,Children's services,,,,Adopted,six,D\n"
        "LP-A,locality_plan,Lapsed A,2019-04-01,2024-03-31,,adopted,six,A\n"
        "LP-B,locality_plan,Draft B,2025-01-01,2099-03-31,,Draft,six,B\n"
        "LP-C,locality_plan,Current C,2020-04-01,2099-03-31,,Under review,six,C\n"
        "LPP-F,local_place_plan,Old F,2015-01-01,2035-12-31,,expired,six,F\n")
    pipeline.import_plans(store, tmp_path / "plans.csv", PlanFields())
    boxes = {"CAP1": (0, 500, "2020-06-01"), "CAP2": (250, 750, "2090-01-01")}
    features = [{"type": "Feature", "geometry": shapely.geometry.mapping(geoms_bng_to_lonlat(
        np.array([shapely.box(X0 + 1000 + a, Y0 + 1000, X0 + 1000 + b, Y0 + 2000)]))[0]),
        "properties": {"ref": ref, "type": "community_action_plan", "title": ref,
                       "period_start": start, "status": "adopted"}}
        for ref, (a, b, start) in boxes.items()]
    (tmp_path / "caps.geojson").write_text(json.dumps({"type": "FeatureCollection",
                                                       "features": features}))
    pipeline.import_plans(store, tmp_path / "caps.geojson", PlanFields())
    (tmp_path / "actions.csv").write_text(
        "ref,plan_ref,title,lead,measure,target_date,resources\n"
        "ACT1,LP-C,Full,Trust,Visits,2027-01-01,£5k\n"
        "ACT2,LP-C,No lead or money,,Visits,2027-01-01,\n"
        "ACT3,LP-C,No date,Trust,Visits,,£1k\n"
        "ACT4,CAP1,No measure,Group,,2027-01-01,Volunteers\n")
    pipeline.import_actions(store, tmp_path / "actions.csv")
    return store


def test_gap_lists_count_only_local_plans_in_force(six):
    report = plan_coverage(Engine(six), PlanGapRules(), TODAY)
    codes = {name: [a["code"] for a in report[name]] for name in (
        "deprived_without_locality_plan", "deprived_with_lapsed_locality_plan", "without_any_plan")}
    assert codes == {"deprived_without_locality_plan": ["A", "B"],
                     "deprived_with_lapsed_locality_plan": ["A", "B"],
                     "without_any_plan": ["A", "B", "D", "F"]}
    rows = {a["code"]: a for a in report["areas"]}
    assert rows["E"]["local_plan_in_force"] == pytest.approx(0.75, abs=1e-6)  # the union
    assert rows["C"]["locality_plan_in_force"] == pytest.approx(1.0)
    assert rows["D"]["any_local_plan"] == 0.0  # the service plan is council-wide


def test_review_dates_are_worked_out_where_none_is_recorded(six):
    report = plan_coverage(Engine(six), PlanGapRules(), TODAY)
    past = {p["ref"]: (p["review_date"], p["review_basis"]) for p in report["past_review"]}
    assert past == {"LP-A": ("2024-03-31", "period_end"),
                    "LPP-F": ("2020-01-01", "5 years after period_start"),
                    "CAP1": ("2025-06-01", "5 years after period_start")}
    assert [p["ref"] for p in report["no_review_date"]] == ["SP"]
    assert gaprules.add_years(date(2020, 2, 29), 5) == date(2025, 2, 28)


def test_actions_missing_a_smart_element_are_listed_per_plan(six):
    per_plan = {p["ref"]: p for p in plans_tables(six, Engine(six), PlanGapRules(), TODAY)["per_plan"]}
    assert per_plan["LP-C"]["not_smart"] == 2
    assert [(a["ref"], a["missing"]) for a in per_plan["LP-C"]["not_smart_actions"]] == [
        ("ACT2", ["lead", "resources"]), ("ACT3", ["target_date"])]
    assert [a["missing"] for a in per_plan["CAP1"]["not_smart_actions"]] == [["measure"]]


@pytest.mark.parametrize(("status", "counts"), [
    ("Adopted", True), (" under-review ", True), ("", True), ("Superseded", False),
    ("draft", False)])
def test_statuses_fold_case_spaces_and_hyphens(status, counts):
    plans = gpd.GeoDataFrame({"status": [status], "period_end": [None]})
    assert bool(gaprules.in_force(plans, TODAY)[0]) is counts


def test_upgrade_to_7_rewrites_the_local_coverage(six):
    # An old database counted the service plan over D as local coverage.
    with six.engine.begin() as conn:
        conn.execute(sa.insert(s.type_coverage).values(layer_id="six", code="D",
                                                       plan_type="any_local_plan", share_of_area=1.0))
    rewind(six, 6)
    assert pipeline.upgrade(six) == list(range(7, s.SCHEMA_VERSION + 1))
    shares = six.type_coverage("six")
    assert not ((shares["code"] == "D") & (shares["plan_type"] == "any_local_plan")).any()
