"""The notification list of a proposed Local Place Plan on hand-checkable squares, on both
backends: the Local Place Plan is square A (1 km, south-west of the grid); wards and community
councils are drawn around it so that each answer can be worked out by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from click.testing import CliRunner

from capmap.cli import cli
from capmap.core.crs import geoms_bng_to_lonlat
from capmap.core.errors import InputError, NotFound, ValidationError
from capmap.core.models import LayerDef
from capmap.io.prepare import PlanFields
from capmap.services import pipeline
from capmap.services.councillors import import_councillors
from capmap.services.engine import Engine
from capmap.services.lpp_notify import notification_list
from capmap.services.lpp_regard import plan_query
from capmap.storage.schema import SCHEMA_VERSION
from tests.conftest import X0, Y0, bng_square
from tests.schema_versions import rewind

COUNCIL = "S12000048"
# Wards: W1 is the west column (A and C); W2 the east column, drawn 2 m too far west, so it
# meets A in a 2 m x 1 km strip (0.2 % of A): a sliver, not a ward for A.
WARDS = {"W1": shapely.box(X0, Y0, X0 + 1000, Y0 + 2000),
         "W2": shapely.box(X0 + 998, Y0, X0 + 2000, Y0 + 2000)}
# Community councils: CA is A itself; CN lies north of A (touching along A's top edge); CE
# starts 3 m east of A; CF is 1 km away.
COMMUNITY = {"CA": bng_square(X0, Y0, 1000),
             "CN": shapely.box(X0, Y0 + 1000, X0 + 2000, Y0 + 2000),
             "CE": shapely.box(X0 + 1003, Y0, X0 + 2000, Y0 + 1000),
             "CF": bng_square(X0 + 3000, Y0, 1000)}
COUNCILLORS = ("ward_code,name,party,email\nW1,Ann Reid,Glen Alliance,ann@example.org\n"
               "W1,Bill Muir,,\nW2,Cara Bell,Independent,cara@example.org\n")


def _layer(store, tmp_path, layer_id: str, kind: str, shapes: dict) -> None:
    import geopandas as gpd

    frame = gpd.GeoDataFrame({"code": list(shapes), "name": [f"Area {c}" for c in shapes],
                              "council": [COUNCIL] * len(shapes)},
                             geometry=list(shapes.values()), crs="EPSG:27700")
    path = tmp_path / f"{layer_id}.gpkg"
    frame.to_file(path, layer=layer_id, driver="GPKG")
    pipeline.import_boundaries(store, LayerDef(id=layer_id, kind=kind, vintage="2026",
                                               parent_field="council"), path)


@pytest.fixture
def area(loaded, tmp_path):
    """The squares (loaded), the wards and community councils, councillors, and LPP-A (a
    Local Place Plan over square A)."""
    store = loaded
    _layer(store, tmp_path, "wards", "ward", WARDS)
    _layer(store, tmp_path, "ccs", "community", COMMUNITY)
    plans = tmp_path / "lpp.csv"
    plans.write_text("ref,type,title,owner,council_code,layer,area_codes\n"
                     f"LPP-A,local_place_plan,Square A plan,A body,{COUNCIL},squares,A\n")
    pipeline.import_plans(store, plans, PlanFields())
    assert import_councillors(store, COUNCILLORS) == 3
    return store, store.plan_ids()["LPP-A"]


def _notify(store, plan_id: int, adjoin_m: float = 5.0) -> dict:
    engine = Engine(store)
    return notification_list(engine, store, plan_query(engine, plan_id), adjoin_m)


def test_the_councillors_are_those_of_the_wards_overlapping_beyond_a_sliver(area):
    store, plan_id = area
    answer = _notify(store, plan_id)
    assert [w["code"] for w in answer["wards"]] == ["W1"]
    ward = answer["wards"][0]
    assert ward["share_of_query"] == pytest.approx(1.0) and ward["share_of_area"] == \
        pytest.approx(0.5, abs=1e-6)
    assert [c["name"] for c in ward["councillors"]] == ["Ann Reid", "Bill Muir"]
    assert ward["councillors"][0] == {"name": "Ann Reid", "party": "Glen Alliance",
                                      "email": "ann@example.org"}
    # W2 meets A in a 2 m strip: 2,000 m², 0.2 % of A, 2 m wide.
    [edge] = answer["edge_wards"]
    assert edge["code"] == "W2" and edge["overlap_km2"] == pytest.approx(0.002, rel=1e-3)
    assert edge["overlap_width_m"] == pytest.approx(2.0, abs=0.1)
    assert answer["wards_without_councillors"] == []


def test_community_councils_within_and_adjoining_with_the_tolerance_stated(area):
    store, plan_id = area
    answer = _notify(store, plan_id)
    found = {cc["code"]: cc for cc in answer["community_councils"]}
    assert list(found) == ["CA", "CN", "CE"]  # within first, then adjoining by distance
    assert found["CA"]["relation"] == "within" and found["CA"]["share_of_query"] == \
        pytest.approx(1.0)
    assert found["CN"]["relation"] == "adjoins" and found["CN"]["distance_m"] == 0.0
    # CN's outline within 5 m of A's: A's top edge (1,000 m) and 5 m past each of its ends.
    assert found["CN"]["shared_boundary_m"] == pytest.approx(1010, abs=2)
    assert found["CE"]["relation"] == "adjoins"
    assert found["CE"]["distance_m"] == pytest.approx(3.0, abs=0.05)
    assert answer["tolerance"]["adjoin_m"] == 5.0
    assert "within 5 m of it" in answer["tolerance"]["sentence"]
    assert answer["tolerance"]["slivers"] == {"max_share": 0.005, "max_width_m": 100.0}
    # A 2 m tolerance leaves out CE, 3 m away.
    assert [cc["code"] for cc in _notify(store, plan_id, 2.0)["community_councils"]] == \
        ["CA", "CN"]


def test_the_recipients_list_councillors_then_community_councils(area):
    store, plan_id = area
    rows = _notify(store, plan_id)["recipients"]
    assert [(r["recipient"], r["name"]) for r in rows] == [
        ("councillor", "Ann Reid"), ("councillor", "Bill Muir"),
        ("community_council", "Area CA"), ("community_council", "Area CN"),
        ("community_council", "Area CE")]
    assert rows[0]["ward_code"] == "W1" and rows[4]["relation"] == "adjoins"


def test_a_plan_that_is_not_a_local_place_plan_is_refused(area):
    store, _ = area
    engine = Engine(store)
    with pytest.raises(NotFound, match="LP-AB.*is a locality_plan, not a Local Place Plan"):
        plan_query(engine, store.plan_ids()["LP-AB"])
    with pytest.raises(NotFound, match="there is no plan 9999"):
        plan_query(engine, 9999)


def test_a_ward_without_councillors_is_named(area):
    store, plan_id = area
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM councillors WHERE ward_code = 'W1'")
    answer = _notify(store, plan_id)
    assert answer["wards_without_councillors"] == ["W1"]
    assert [r["recipient"] for r in answer["recipients"]] == ["community_council"] * 3


# -- importing councillors ---------------------------------------------------------------

@pytest.mark.parametrize(("text", "error", "message"), [
    ("ward,name\nW1,Ann\n", InputError, "column ward_code not found; columns are ward, name"),
    ("ward_code,party\nW1,x\n", InputError, "column name not found"),
    ("ward_code,name\n", InputError, "no rows after the header"),
    ("ward_code,name\nW1,Ann\nW9,Bob\n", ValidationError,
     "row 3, column ward_code: 'W9' is not the code of a ward in any current ward layer"),
    ("ward_code,name\nW1,Ann\nW1, \n", ValidationError, "row 3, column name: empty"),
    ("ward_code,name,email\nW1,Ann,ann at example\n", ValidationError,
     "row 2, column email: 'ann at example' is not an email address"),
    ("ward_code,name\nW1,Ann\nW1,ann\n", ValidationError,
     "row 3, column name: 'ann' is already listed for ward W1 on row 2"),
    ("ward_code,name\nA,Ann\n", ValidationError, "'A' is not the code of a ward"),  # a square
])
def test_a_malformed_file_names_row_and_column_and_stores_nothing(area, text, error, message):
    store, _ = area
    before = store.councillors_of(["W1", "W2"])
    with pytest.raises(error, match=message) as raised:
        import_councillors(store, text)
    assert raised.value.status in (400, 422)
    assert store.councillors_of(["W1", "W2"]) == before


def test_an_import_replaces_the_councillors_of_the_wards_it_names_only(area):
    store, _ = area
    assert import_councillors(store, "ward_code,name\nW1,Dana Ross\n") == 1
    assert [c["name"] for c in store.councillors_of(["W1", "W2"])] == ["Dana Ross", "Cara Bell"]


def test_an_account_limited_to_another_council_may_not_import_its_wards(area):
    store, _ = area
    with pytest.raises(ValidationError, match="ward W1 is in council S12000048, outside the "
                                              "councils of this account \\(S12000049\\)"):
        import_councillors(store, "ward_code,name\nW1,Dana Ross\n", ["S12000049"])
    assert import_councillors(store, "ward_code,name\nW1,Dana Ross\n", [COUNCIL]) == 1


def test_the_cli_imports_councillors_and_writes_the_list(area, tmp_path):
    store, _ = area
    runner = CliRunner()
    db = ["--db", store.url]
    bad = tmp_path / "bad.csv"
    bad.write_text("ward_code,name\nW1,\nW7,Eve\n")
    refused = runner.invoke(cli, [*db, "import", "councillors", str(bad)])
    assert refused.exit_code == 1
    assert "row 2, column name: empty" in refused.output
    assert "row 3, column ward_code: 'W7' is not the code of a ward" in refused.output
    good = tmp_path / "good.csv"
    good.write_text(COUNCILLORS)
    done = runner.invoke(cli, [*db, "import", "councillors", str(good)])
    assert done.exit_code == 0 and "read 3, stored 3" in done.output, done.output
    out = tmp_path / "list.json"
    written = runner.invoke(cli, [*db, "lpp", "notify", "LPP-A", "-o", str(out)])
    assert written.exit_code == 0, written.output
    assert [cc["code"] for cc in json.loads(out.read_text())["community_councils"]] == \
        ["CA", "CN", "CE"]
    printed = runner.invoke(cli, [*db, "lpp", "notify", "LPP-A", "--adjoin-m", "2"])
    assert "Ann Reid" in printed.output and "Area CE" not in printed.output


def test_upgrade_to_14_adds_the_councillors_table(store):
    rewind(store, 13)
    assert "councillors" not in sa.inspect(store.engine).get_table_names()
    assert store.upgrade() == list(range(14, SCHEMA_VERSION + 1))
    inspector = sa.inspect(store.engine)
    assert "ix_councillors_ward_code" in {i["name"] for i in inspector.get_indexes("councillors")}
    assert store.councillor_count() == 0


def test_a_drawn_area_is_asked_about_like_a_plan(area):
    """An area that is no plan (the query of a drawn polygon): the east half of A."""
    from capmap.services.planscape import polygon_query

    store, _ = area
    engine = Engine(store)
    drawn = geoms_bng_to_lonlat(np.array([shapely.box(X0 + 500, Y0, X0 + 1000, Y0 + 1000)]))[0]
    answer = notification_list(engine, store, polygon_query(shapely.geometry.mapping(drawn)))
    assert [w["code"] for w in answer["wards"]] == ["W1"]
    # W2's 2 m strip is 0.4 % of the half square: still a sliver.
    assert [w["code"] for w in answer["edge_wards"]] == ["W2"]
    assert [cc["code"] for cc in answer["community_councils"]] == ["CA", "CN", "CE"]
