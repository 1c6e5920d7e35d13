"""Outcomes on the web over the sample data: the plan page's section, its JSON, the finder
result's section and JSON, and the CSV of every plan. Expected figures are computed here with
pandas straight from sample_geodata, not through capmap."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import pytest

from app.store import get_store
from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def zones():
    return gpd.read_file(SAMPLE / "neighbourhoods.geojson").set_index("code")


def _codes(ref: str) -> list[str]:
    with open(SAMPLE / "plans_by_area.csv", newline="", encoding="utf-8") as handle:
        return next(r for r in csv.DictReader(handle) if r["ref"] == ref)["area_codes"].split(";")


def _by_hand(zones, codes: list[str]) -> dict:
    """Residents, quintile 1 and decile 1 shares and mean rank of whole zones."""
    part = zones.loc[codes]
    people = part["population"].sum()
    return {"residents": people,
            "quintile_1_share": part.loc[part["simd_quintile"] == 1, "population"].sum() / people,
            "decile_1_share": part.loc[part["simd_decile"] == 1, "population"].sum() / people,
            "simd_rank": (part["population"] * part["simd_rank"]).sum() / people}


def _plan_id(app, ref: str) -> int:
    with app.app_context():
        return int(get_store().plans().set_index("ref").loc[ref, "id"])


def _close(got: dict, expected: dict) -> None:
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9), key


def test_a_locality_plan_of_whole_zones_matches_pandas(app, client, zones):
    codes = _codes("LOC-01")
    got = client.get(f"/plans/{_plan_id(app, 'LOC-01')}/outcomes.json").get_json()
    assert (got["area"]["areas"], got["area"]["areas_cut"]) == (len(codes), 0)
    _close(got["area"], _by_hand(zones, codes))
    council = zones[zones["council_code"] == "S12900001"].index.tolist()
    _close(got["council"], _by_hand(zones, council))
    _close(got["scotland"], _by_hand(zones, zones.index.tolist()))
    assert got["area"]["quintile_1_share"] > got["scotland"]["quintile_1_share"] > 0
    # The sample's domain ranks are indicators (boundaries/sample_dz.toml): weighted alike.
    part = zones.loc[codes]
    for name in ("income", "access", "housing"):
        mean = (part["population"] * part[f"{name}_rank"]).sum() / part["population"].sum()
        assert got["area"]["indicators"][name] == pytest.approx(mean, rel=1e-9), name
    assert len(got["indicators"]) == 7


def test_the_plan_page_says_what_the_figures_are_over(app, client, zones):
    codes = _codes("LOC-01")
    page = client.get(f"/plans/{_plan_id(app, 'LOC-01')}").get_data(as_text=True)
    people = zones.loc[codes, "population"].sum()
    assert '<h2 id="outcomes">Outcomes</h2>' in page
    assert f"over {people:,.0f} residents of {len(codes)} data zones" in page
    share = _by_hand(zones, codes)["quintile_1_share"]
    assert f"<td>{100 * share:.1f}%</td>" in page
    assert '<th scope="row">Mean income</th>' in page


def test_an_unknown_plan_is_404_and_an_unknown_code_names_it(client):
    missing = client.get("/plans/999999/outcomes.json")
    assert missing.status_code == 404 and "there is no plan 999999" in missing.get_json()["message"]
    bad = client.get("/api/outcomes?layer=sample_dz&codes=S01900001,S01999999")
    assert bad.status_code == 422 and "S01999999" in bad.get_json()["message"]
    no_layer = client.get("/api/outcomes?codes=S01900001")
    assert no_layer.status_code == 400 and "layer is required" in no_layer.get_json()["message"]


def test_a_codes_query_and_the_planscape_json_carry_the_same_profile(client, zones):
    codes = _codes("LOC-02")[:3]
    url = f"layer=sample_dz&codes={','.join(codes)}"
    got = client.get(f"/api/outcomes?{url}").get_json()["outcomes"]
    _close(got["area"], _by_hand(zones, codes))
    assert got["council"]["code"] == "S12900001"
    assert client.get(f"/api/planscape?{url}").get_json()["outcomes"] == got
    page = client.get(f"/planscape/result?{url}").get_data(as_text=True)
    people = zones.loc[codes, "population"].sum()
    assert f"over {people:,.0f} residents of 3 data zones" in page
    assert f'href="/api/outcomes?{url.replace("&", "&amp;")}"' in page


def test_the_csv_has_every_plan_and_matches_its_json(app, client):
    answer = client.get("/export/outcomes.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    with app.app_context():
        refs = sorted(get_store().plans()["ref"])
    assert [r["ref"] for r in rows] == refs
    row = next(r for r in rows if r["ref"] == "LOC-01")
    got = client.get(f"/plans/{row['plan_id']}/outcomes.json").get_json()
    assert float(row["residents"]) == got["area"]["residents"]
    assert float(row["quintile_1_share"]) == round(got["area"]["quintile_1_share"], 4)
    assert float(row["scotland_simd_rank"]) == round(got["scotland"]["simd_rank"], 4)
