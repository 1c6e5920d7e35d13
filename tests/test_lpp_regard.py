"""The plans a draft Local Place Plan must have regard to, on hand-checkable squares and both
backends: the draft plan covers square B; LP-AB (Locality Plan of A and B) and the LOIP (the
whole grid) come first, then a community plan over B's south half; actions inside B are
listed under their plans, those elsewhere are not."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from capmap.cli import cli
from capmap.core.crs import geoms_bng_to_lonlat
from capmap.io.prepare import PlanFields
from capmap.present.dashboards import csv_text
from capmap.services import pipeline
from capmap.services.engine import Engine
from capmap.services.lpp_regard import CSV_COLUMNS, csv_rows, plan_query, regard_report
from capmap.services.planscape import codes_query
from tests.conftest import X0, Y0, lonlat_of


@pytest.fixture
def draft(loaded, tmp_path):
    store = loaded
    plans = tmp_path / "lpp.csv"
    plans.write_text("ref,type,title,layer,area_codes\n"
                     "LPP-B,local_place_plan,Square B plan,squares,B\n")
    pipeline.import_plans(store, plans, PlanFields())
    south = geoms_bng_to_lonlat(np.array([shapely.box(X0 + 1000, Y0, X0 + 2000, Y0 + 500)]))[0]
    drawn = tmp_path / "cap.geojson"
    drawn.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": shapely.geometry.mapping(south),
        "properties": {"ref": "CAP-BS", "type": "community_action_plan", "title": "B south"}}]}))
    pipeline.import_plans(store, drawn, PlanFields())
    in_b, in_a = lonlat_of(X0 + 1500, Y0 + 250), lonlat_of(X0 + 500, Y0 + 500)
    actions = tmp_path / "actions.csv"
    actions.write_text(
        "ref,plan_ref,title,theme,lead,lead_type,target_date,status,lon,lat\n"
        f"A1,LP-AB,Play park in B,greenspace,Council,public_body,2030-01-01,in_progress,"
        f"{in_b[0]},{in_b[1]}\n"
        f"A2,LP-AB,Bus stop in A,transport,Council,public_body,2030-01-01,not_started,"
        f"{in_a[0]},{in_a[1]}\n"
        "A3,LP-AB,Locality forum,health,Council,public_body,2030-01-01,in_progress,,\n"
        f"A4,CAP-BS,Benches,greenspace,Group,community,2030-01-01,completed,{in_b[0]},{in_b[1]}\n"
        f"A5,LPP-B,Our own action,housing,Group,community,2030-01-01,not_started,"
        f"{in_b[0]},{in_b[1]}\n")
    pipeline.import_actions(store, actions)
    return store, store.plan_ids()["LPP-B"]


def _report(store, plan_id):
    engine = Engine(store)
    return regard_report(engine, store, plan_query(engine, plan_id))


def test_locality_plans_and_the_loip_come_first_with_their_shares(draft):
    store, plan_id = draft
    report = _report(store, plan_id)
    statutory = [(p["ref"], round(p["share_of_query"], 6), round(p["share_of_plan"], 6))
                 for p in report["statutory_plans"]]
    assert statutory == [("LP-AB", 1.0, 0.5), ("LOIP", 1.0, 0.25)]
    others = [(p["ref"], round(p["share_of_query"], 6), round(p["share_of_plan"], 6))
              for p in report["other_plans"]]
    # The community plan matches B better than LOIP does, yet comes after it; LPP-B itself
    # is the area asked about and is not listed; CAP-D only touches B's corner.
    assert others == [("CAP-BS", 0.5, 1.0)]
    assert report["edge_plans"] == []
    assert report["counts"] == {"statutory_plans": 2, "other_plans": 1, "actions_inside": 2}


def test_the_actions_located_inside_the_area_are_listed_under_their_plans(draft):
    store, plan_id = draft
    report = _report(store, plan_id)
    by_ref = {p["ref"]: p for p in report["statutory_plans"] + report["other_plans"]}
    assert [a["ref"] for a in by_ref["LP-AB"]["actions_inside"]] == ["A1"]
    assert by_ref["LP-AB"]["actions_plan_wide"] == 1  # A3 has no place of its own
    assert [a["ref"] for a in by_ref["CAP-BS"]["actions_inside"]] == ["A4"]
    assert by_ref["LOIP"]["actions_inside"] == []


def test_the_csv_has_a_row_per_plan_in_the_same_order(draft):
    store, plan_id = draft
    rows = list(csv.DictReader(io.StringIO(csv_text(csv_rows(_report(store, plan_id)),
                                                    CSV_COLUMNS))))
    assert [(r["group"], r["ref"], r["actions_inside"], r["action_refs"]) for r in rows] == [
        ("statutory", "LP-AB", "1", "A1"), ("statutory", "LOIP", "0", ""),
        ("other", "CAP-BS", "1", "A4")]


def test_any_area_can_be_asked_about(draft):
    store, _ = draft
    engine = Engine(store)
    report = regard_report(engine, store, codes_query(engine, "squares", ["A", "B"]))
    assert [p["ref"] for p in report["statutory_plans"]] == ["LP-AB", "LOIP"]
    # Asked about as an area, LPP-B is one of the plans covering it.
    assert sorted(p["ref"] for p in report["other_plans"]) == ["CAP-BS", "LPP-B"]


def test_the_cli_prints_and_writes_the_report(draft, tmp_path):
    store, _ = draft
    runner = CliRunner()
    printed = runner.invoke(cli, ["--db", store.url, "lpp", "regard", "LPP-B"])
    assert printed.exit_code == 0, printed.output
    assert [line.split()[:2] for line in printed.output.splitlines()] == [
        ["statutory", "LP-AB"], ["statutory", "LOIP"], ["other", "CAP-BS"]]
    out = tmp_path / "regard.csv"
    written = runner.invoke(cli, ["--db", store.url, "lpp", "regard", "LPP-B", "-o", str(out)])
    assert written.exit_code == 0 and "wrote 3 rows" in written.output
    refused = runner.invoke(cli, ["--db", store.url, "lpp", "regard", "LP-AB"])
    assert refused.exit_code == 1 and "is a locality_plan, not a Local Place Plan" in \
        refused.output
    wrong = runner.invoke(cli, ["--db", store.url, "lpp", "regard", "LPP-B", "-o", "x.txt"])
    assert wrong.exit_code == 1 and "name the file .csv or .json" in wrong.output
