"""Engagement figures over a scope: a council, any area, or a campaign's own councils, on both
backends, through the library, the web app and the export command.

The scenario, in BNG metres (1 km squares, every population 1,000):

    y 1-2 km  East (S12000046):  E1 q1 | E2 q5 | E3 q5 | E4 q5     no responses of GLA
    y 0-1 km  West (S12000049):  W1 q1 | W2 q1 | W3 q3 | W4 q5     GLA: 2, 0, 10, 6

Campaign GLA ran in West only (18 responses). Worked out by hand:
- over all 8 squares: 18 / 8,000 = 2.25 per 1,000; quintile 1 (W1, W2, E1): 2 / 3,000 = 0.667,
  so the quintile-1 ratio is 0.667 / 2.25 = 0.2963 (8/27);
- over West: 18 / 4,000 = 4.5 per 1,000; quintile 1 (W1, W2): 2 / 2,000 = 1.0, ratio 1/4.5 =
  0.2222 (2/9); quintile 1 is 50 % of West's people and 2/18 = 11.1 % of its responses.
- outreach (quintile 1 by lowest rate): nationally E1 (0, code first), W2 (0), W1 (2.0); over
  West only W2, W1.
- colour bands are cut at 0.5, 0.75, 1 and 1.5 x the overall rate: nationally 1.125, 1.6875,
  2.25, 3.375, so W1 (2.0) is band 2 and W4 (6.0) band 4; over West 2.25, 3.375, 4.5, 6.75, so
  W1 is band 0 and W4 band 3.
Campaign BIG has 60 responses in W3 and one stray in E2: 1/61 = 1.6 % is under the 2 % rule,
so its area is West alone and the stray is counted outside the scope.
"""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from capmap.cli import cli
from capmap.core.errors import InputError, ValidationError
from capmap.core.models import EngagementFilters, LayerDef
from capmap.present.dashboards import engagement_view
from capmap.services import pipeline
from capmap.services.coverage import engagement_coverage
from capmap.services.engine import Engine
from capmap.services.scope import DEFAULT_SCOPE, ScopeRequest, parse_scope
from tests.conftest import PASSWORD, X0, Y0, bng_square

WEST, EAST = "S12000049", "S12000046"
ZONES = LayerDef(id="zones", kind="neighbourhood", vintage="2026", title="Test zones",
                 population_field="pop", parent_field="council", simd_quintile_field="q")
COUNCILS = LayerDef(id="councils", kind="council", vintage="2026", title="Councils")
WARDS = LayerDef(id="wards", kind="ward", vintage="2026", title="Wards")
GLA = EngagementFilters(campaign="GLA")


def _layer(path, name, rows, geoms) -> None:
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:27700").to_file(path, layer=name,
                                                                    driver="GPKG")


@pytest.fixture
def two_councils(store, tmp_path):
    """The scenario of the module docstring, stored."""
    cells = [("W1", 0, 0, 1), ("W2", 1, 0, 1), ("W3", 2, 0, 3), ("W4", 3, 0, 5),
             ("E1", 0, 1, 1), ("E2", 1, 1, 5), ("E3", 2, 1, 5), ("E4", 3, 1, 5)]
    _layer(tmp_path / "zones.gpkg", "zones",
           {"code": [c for c, *_ in cells], "name": [f"Zone {c}" for c, *_ in cells],
            "pop": [1000] * 8, "q": [q for *_, q in cells],
            "council": [WEST if c[0] == "W" else EAST for c, *_ in cells]},
           [bng_square(X0 + i * 1000, Y0 + j * 1000, 1000) for _, i, j, _ in cells])
    pipeline.import_boundaries(store, ZONES, tmp_path / "zones.gpkg")
    _layer(tmp_path / "councils.gpkg", "councils", {"code": [WEST, EAST], "name": ["West", "East"]},
           [bng_square(X0, Y0, 1000).union(bng_square(X0 + 3000, Y0, 1000)).envelope,
            bng_square(X0, Y0 + 1000, 1000).union(bng_square(X0 + 3000, Y0 + 1000, 1000)).envelope])
    pipeline.import_boundaries(store, COUNCILS, tmp_path / "councils.gpkg")
    # Ward WA is W1 and W2 (x 0-2 km, y 0-1 km).
    _layer(tmp_path / "wards.gpkg", "wards", {"code": ["S13000001"], "name": ["Ward A"]},
           [bng_square(X0, Y0, 1000).union(bng_square(X0 + 1000, Y0, 1000)).envelope])
    pipeline.import_boundaries(store, WARDS, tmp_path / "wards.gpkg")
    rows = ["campaign,channel,date,themes,easting,northing"]
    for zone_x, count, campaign in ((0, 2, "GLA"), (2, 10, "GLA"), (3, 6, "GLA"), (2, 60, "BIG")):
        rows += [f"{campaign},online,2025-01-01,health,{X0 + zone_x * 1000 + 100 + i},{Y0 + 100}"
                 for i in range(count)]
    rows.append(f"BIG,online,2025-01-01,health,{X0 + 1500},{Y0 + 1500}")  # the stray, in E2
    (tmp_path / "responses.csv").write_text("\n".join(rows) + "\n")
    pipeline.import_responses(store, tmp_path / "responses.csv")
    return store


def _report(store, filters=GLA, scope=DEFAULT_SCOPE):
    return engagement_coverage(store, Engine(store), "zones", filters, scope=scope, exact=True)


def _codes(rows):
    return [r["code"] for r in rows]


def test_whole_layer_is_what_was_reported_before(two_councils):
    report = _report(two_councils, scope=ScopeRequest(whole=True))
    assert report["q1_rate_ratio"] == pytest.approx(8 / 27)
    assert _codes(report["outreach"]) == ["E1", "W2", "W1"]
    assert report["scope"]["statement"] == "over the 8 areas of Test zones, population 8,000"


def test_a_campaign_defaults_to_the_councils_it_ran_in(two_councils):
    report = _report(two_councils)
    assert report["scope"]["kind"] == "campaign"
    assert [w["code"] for w in report["scope"]["within"]] == [WEST]
    assert report["scope"]["statement"] == "over the 4 areas of Test zones in West, population 4,000"
    assert report["q1_rate_ratio"] == pytest.approx(2 / 9)
    q1 = report["equity"][0]
    assert (q1["quintile"], q1["share_of_population"]) == (1, 0.5)
    assert q1["share_of_responses"] == pytest.approx(2 / 18)
    assert _codes(report["outreach"]) == ["W2", "W1"]
    assert _codes(report["areas"]) == ["W1", "W2", "W3", "W4"]
    assert _codes(report["gaps"]) == ["W2", "W1"]  # under half West's 4.5: 0 and 2.0
    assert (report["responses"], report["in_scope"], report["outside_scope"]) == (18, 18, 0)


def test_a_stray_response_does_not_widen_the_campaign_area(two_councils):
    report = _report(two_councils, EngagementFilters(campaign="BIG"))
    assert [w["code"] for w in report["scope"]["within"]] == [WEST]
    assert report["scope"]["within"][0]["share_of_responses"] == pytest.approx(60 / 61, abs=1e-4)
    assert (report["responses"], report["in_scope"], report["outside_scope"]) == (61, 60, 1)


def test_a_council_or_a_ward_given_as_the_scope(two_councils):
    east = _report(two_councils, scope=parse_scope(council=EAST))
    assert _codes(east["areas"]) == ["E1", "E2", "E3", "E4"]
    assert east["in_scope"] == 0 and east["outside_scope"] == 18
    assert east["q1_rate_ratio"] is None  # no response in East: the overall rate is 0
    ward = _report(two_councils, scope=parse_scope(scope="wards:S13000001"))
    assert _codes(ward["areas"]) == ["W1", "W2"]
    assert ward["scope"]["label"] == "Ward A"
    assert ward["q1_rate_ratio"] == pytest.approx(1.0)  # every area of the ward is quintile 1


def test_colour_classes_are_cut_around_the_scope_rate(two_councils):
    engine = Engine(two_councils)

    def bands(scope):
        view = engagement_view(two_councils, engine, "zones", GLA, scope=scope, exact=True,
                               gap_ratio=0.5, threshold=5, round_to=5)
        return {code: v[0] for code, v in view["map"]["values"].items()}

    national = bands(ScopeRequest(whole=True))
    assert (national["W1"], national["W4"], national["E1"]) == (2, 4, 0)
    west = bands(ScopeRequest())
    assert (west["W1"], west["W4"]) == (0, 3)
    assert "E1" not in west  # outside the scope: drawn as no data


@pytest.mark.parametrize(("council", "scope", "expected"), [
    ("S12000049", "zones:W1", "either council or scope"),
    ("", "S12000049", "scope must be LAYER:CODE"),
    ("S1200\u200b0049", "", "invisible character"),
])
def test_bad_scopes_are_refused_by_name(council, scope, expected):
    with pytest.raises(InputError, match=expected):
        parse_scope(council, scope)


def test_a_scope_of_no_area_of_the_layer_is_refused(two_councils):
    with pytest.raises(ValidationError, match="no area 'S13999999' in layer wards"):
        _report(two_councils, scope=parse_scope(scope="wards:S13999999"))
    with pytest.raises(ValidationError, match="layer 'nowhere' not found"):
        _report(two_councils, scope=parse_scope(scope="nowhere:X1"))


@pytest.fixture
def scoped_app(two_councils, store_url, tmp_path):
    from app import create_app
    from capmap.core.passwords import hash_password

    two_councils.add_user("olivia", hash_password(PASSWORD), ["officer"])
    app = create_app({"TESTING": True, "DATABASE_URL": store_url, "TILES_URL": "",
                      "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    client = app.test_client()
    assert client.post("/login", data={"username": "olivia", "password": PASSWORD}).status_code == 302
    yield client
    if "capmap_store" in app.extensions:
        app.extensions["capmap_store"].close()


def test_the_dashboard_states_and_uses_the_scope(scoped_app):
    got = scoped_app.get("/dashboard/engagement.json?layer=zones&campaign=GLA").get_json()
    assert got["q1_rate_ratio"] == pytest.approx(2 / 9)
    assert got["scope"]["statement"] == "over the 4 areas of Test zones in West, population 4,000"
    page = scoped_app.get("/dashboard/engagement?layer=zones&campaign=GLA").get_data(as_text=True)
    assert "over the 4 areas of Test zones in West, population 4,000" in page
    assert "0.22 times the overall rate" in page
    national = scoped_app.get("/dashboard/engagement?layer=zones&campaign=GLA&scope=all")
    assert "0.30 times the overall rate" in national.get_data(as_text=True)
    east = scoped_app.get(f"/dashboard/engagement.json?layer=zones&council={EAST}").get_json()
    assert east["scope"]["label"] == "East" and east["responses"] == 79
    csv = scoped_app.get("/dashboard/engagement.csv?layer=zones&campaign=GLA&table=outreach")
    assert re.findall(r"^(W\d|E\d),", csv.get_data(as_text=True), re.M) == ["W2", "W1"]


def test_the_public_api_states_the_scope_and_refuses_bad_ones(scoped_app):
    got = scoped_app.get(f"/api/coverage/engagement?layer=zones&scope=councils:{WEST}")
    assert got.status_code == 200
    assert got.get_json()["scope"]["statement"] == (
        "over the 4 areas of Test zones in West, population 4,000")
    bad = scoped_app.get("/api/coverage/engagement?layer=zones&scope=wards:S13999999")
    assert bad.status_code == 422 and "no area 'S13999999'" in bad.get_json()["message"]
    both = scoped_app.get(f"/api/coverage/engagement?layer=zones&council={WEST}&scope=all")
    assert both.status_code == 400


def test_the_export_command_computes_over_its_area(two_councils, store_url, tmp_path):
    out = tmp_path / "engagement.csv"
    result = CliRunner().invoke(cli, ["--db", store_url, "export", "engagement", "--by", "zones",
                                      "--area", f"councils:{WEST}", "--format", "csv",
                                      "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = pd.read_csv(out).set_index("code")
    assert sorted(rows.index) == ["W1", "W2", "W3", "W4"]
    # All 78 responses in West (18 GLA + 60 BIG) over 4,000 people: 19.5 per 1,000.
    assert rows.loc["W1", "council_rate_per_1000"] == pytest.approx(19.5)
