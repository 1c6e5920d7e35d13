"""Codes and refs that look like something else (invisible characters, direction overrides,
look-alike letters, control characters) are refused on import, naming the row and the
character, and answered with 400 in queries."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from click.testing import CliRunner

from app import create_app
from capmap.cli import cli
from capmap.core.codes import code_problem
from capmap.core.errors import ValidationError
from capmap.io.prepare import PlanFields
from capmap.services import pipeline
from tests.conftest import SQUARES_Q, X0, Y0

RULE = "codes are ASCII letters, digits and - _ . / only"
# (code, what the message says about it)
HOSTILE_CODES = [
    ("S0100\u200b1", "an invisible character U+200B ZERO WIDTH SPACE"),
    ("S01\u202e0061", "an invisible character U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("S01\u20660061", "an invisible character U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("\ufeffS010061", "an invisible character U+FEFF ZERO WIDTH NO-BREAK SPACE"),
    ("S01\u200d0061", "an invisible character U+200D ZERO WIDTH JOINER"),
    ("\u0421010061", "the non-ASCII character U+0421 CYRILLIC CAPITAL LETTER ES, which can pass "
                     "for an ASCII one"),
    ("S01\u00a00061", "an invisible character U+00A0 NO-BREAK SPACE"),
    ("S01\x070061", "a control character U+0007"),
    ("S01,0061", "the character ',' (U+002C COMMA)"),
]


@pytest.mark.parametrize("code, said", HOSTILE_CODES)
def test_each_odd_character_is_named(code, said):
    assert code_problem(code) == f"code {ascii(code)} holds {said}; {RULE}"


def test_ordinary_codes_and_refs_pass():
    for code in ("S01006506", "S12000048", "LOC-01", "ACT-0001", "R-00001", "dz11_2011", "LP/2025.1"):
        assert code_problem(code) is None


@pytest.mark.parametrize("code, said", HOSTILE_CODES[:6])
def test_a_boundary_layer_with_an_odd_code_is_refused_naming_the_row(store, squares_bng, tmp_path,
                                                                     code, said):
    squares_bng.loc[1, "code"] = code  # the second feature: row 2
    squares_bng["q"] = [1, 1, 3, 5]
    path = tmp_path / "squares.gpkg"
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    with pytest.raises(ValidationError) as caught:
        pipeline.import_boundaries(store, SQUARES_Q, path)
    assert caught.value.message == (f"squares.gpkg: row 2: code {ascii(code)} holds {said}; "
                                    f"{RULE}")
    assert [la.id for la in store.layers()] == []  # nothing half-stored


def test_the_command_line_names_the_row(tmp_path, squares_bng):
    db = f"sqlite:///{tmp_path / 'capmap.sqlite'}"
    squares_bng.loc[3, "code"] = "D\u200b"
    path = tmp_path / "squares.geojson"
    squares_bng.to_file(path, driver="GeoJSON")
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", db, "init"]).exit_code == 0
    result = runner.invoke(cli, ["--db", db, "import", "boundaries", str(path), "--layer", "sq",
                                 "--kind", "neighbourhood", "--vintage", "2026"])
    assert result.exit_code != 0
    assert ("row 4: code 'D\\u200b' holds an invisible character U+200B ZERO WIDTH SPACE"
            in result.output)


def test_rows_with_odd_refs_are_rejected_and_the_rest_kept(loaded, tmp_path):
    plans = tmp_path / "more_plans.csv"
    plans.write_text("ref,type,title,layer,area_codes\n"
                     "GOOD-1,locality_plan,Fine,squares,A\n"
                     "EVIL\u202e1-,locality_plan,Reversed,squares,A\n"
                     "ZW-1,locality_plan,Odd code,squares,A\u200b;B\n", encoding="utf-8")
    report = pipeline.import_plans(loaded, plans, PlanFields())
    assert report.stored == 1
    assert report.rejected == [
        (2, f"ref 'EVIL\\u202e1-' holds an invisible character U+202E RIGHT-TO-LEFT OVERRIDE; {RULE}"),
        (3, f"area code 'A\\u200b' holds an invisible character U+200B ZERO WIDTH SPACE; {RULE}")]
    actions = tmp_path / "actions.csv"
    actions.write_text("ref,plan_ref,title\nA-1,GOOD-1,Fine\nA-2,GOOD\u200b-1,Lost\n"
                       "\u0410-3,GOOD-1,Cyrillic A\n", encoding="utf-8")
    report = pipeline.import_actions(loaded, actions)
    assert report.stored == 1
    assert [row for row, _ in report.rejected] == [2, 3]
    assert "plan_ref 'GOOD\\u200b-1' holds an invisible character U+200B" in report.rejected[0][1]
    assert "U+0410 CYRILLIC CAPITAL LETTER A" in report.rejected[1][1]
    responses = tmp_path / "responses.csv"
    responses.write_text(f"campaign,channel,easting,northing,area_code\nC,online,{X0 + 10},"
                         f"{Y0 + 10},\nC,online,,,C\u200b\n", encoding="utf-8")
    report = pipeline.import_responses(loaded, responses)
    assert report.stored == 1
    assert report.rejected == [(2, f"area_code 'C\\u200b' holds an invisible character U+200B "
                                   f"ZERO WIDTH SPACE; {RULE}")]


@pytest.fixture
def api(loaded):
    app = create_app({"TESTING": True, "DATABASE_URL": loaded.url, "TILES_URL": "",
                      "SECRET_KEY": "test", "WTF_CSRF_ENABLED": False})
    yield app.test_client()
    if "capmap_store" in app.extensions:
        app.extensions["capmap_store"].close()


def test_queries_with_odd_codes_are_a_400_naming_the_character(api):
    zwsp = "B\u200b"
    cyrillic = "\u0421"  # looks like the square C
    for url in (f"/api/planscape?layer=squares&codes=A,{quote(zwsp)}",
                f"/planscape/result?layer=squares&codes={quote(zwsp)}&format=csv",
                f"/export/plans.geojson?area=squares:{quote(zwsp)}"):
        answer = api.get(url, headers={"Accept": "application/json"})
        answer.close()
        assert answer.status_code == 400, url
        assert "U+200B ZERO WIDTH SPACE" in answer.get_json()["message"], url
    answer = api.post("/api/planscape", data=json.dumps({"layer": "squares", "codes": [cyrillic]}),
                      content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["message"] == (
        f"code '\\u0421' holds the non-ASCII character U+0421 CYRILLIC CAPITAL LETTER ES, which "
        f"can pass for an ASCII one; {RULE}")
    # The same codes without the odd characters are answered.
    assert api.get("/api/planscape?layer=squares&codes=A,B").status_code == 200
