"""Code lists in request bodies: POST /api/planscape with {layer, codes} answers as the GET does,
the finder's tick list posts, and a codes query is bounded like a drawn polygon."""

from __future__ import annotations

import json
import re

import pytest

from app import create_app
from app.store import get_engine
from capmap.services.planscape import MAX_CODES


@pytest.fixture
def api_app(loaded):
    app = create_app({"TESTING": True, "DATABASE_URL": loaded.url, "TILES_URL": "",
                      "SECRET_KEY": "test", "PLANSCAPE_MAX_KM2": 3.0})
    yield app
    if "capmap_store" in app.extensions:
        app.extensions["capmap_store"].close()


def _post(client, body):
    return client.post("/api/planscape", data=json.dumps(body), content_type="application/json")


def test_posted_codes_answer_as_the_get(api_app):
    client = api_app.test_client()
    posted = _post(client, {"layer": "squares", "codes": ["A", "B"]})
    assert posted.status_code == 200
    assert posted.get_json() == client.get("/api/planscape?layer=squares&codes=A,B").get_json()
    assert [p["ref"] for p in posted.get_json()["plans"]] == ["LP-AB", "LOIP"]


@pytest.mark.parametrize("body, status, words", [
    ({"layer": "squares", "codes": ["A", "B", "C", "D"]}, 422,
     "the 4 areas asked about cover 4 km²; the limit is 3 km²"),
    ({"layer": "squares", "codes": ["A"] * (MAX_CODES + 1)}, 400,
     f"{MAX_CODES + 1:,} area codes given; at most {MAX_CODES:,}"),
    ({"layer": "squares", "codes": "A,B"}, 400, "codes must be a list of area codes as strings"),
    ({"layer": "squares", "codes": ["A", 7]}, 400, "with other values"),
    ({"codes": ["A"]}, 400, "layer is required with codes"),
    ({"layer": 3, "codes": ["A"]}, 400, "layer is required with codes"),
    ({"layer": "squares", "codes": []}, 422, "no area codes given"),
    ({"layer": "squares", "codes": ["Z"]}, 422, "codes not in layer squares: Z"),
    ({"layer": "nope", "codes": ["A"]}, 422, "'nope' not found"),
    ({"layer": "squares", "codes": ["A"], "crs": "EPSG:4326"}, 400, 'only "layer" and "codes"'),
    ({"area": "A"}, 400, 'expected {"layer": ..., "codes": [...]} or a GeoJSON'),
])
def test_posted_codes_are_checked(api_app, body, status, words):
    answer = _post(api_app.test_client(), body)
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert words in answer.get_json()["message"]


def test_the_get_by_codes_has_the_same_bounds(api_app):
    answer = api_app.test_client().get("/api/planscape?layer=squares&codes=A,B,C,D")
    assert answer.status_code == 422 and "the limit is 3 km²" in answer.get_json()["message"]


def _council_zones(app) -> tuple[str, list[str]]:
    with app.app_context():
        hoods = get_engine().neighbourhoods()
        return hoods.layer.id, list(hoods.areas["code"])


def test_a_whole_council_of_codes_posts(app, client):
    layer, codes = _council_zones(app)
    assert len(codes) > 300  # every neighbourhood of the sample council
    posted = _post(client, {"layer": layer, "codes": codes})
    assert posted.status_code == 200
    got = client.get(f"/api/planscape?layer={layer}&codes={','.join(codes)}").get_json()
    assert posted.get_json() == got
    assert len(posted.get_json()["areas"][layer]) == len(codes)


def _table_ids(page: str) -> list[int]:
    table = page.split('<table class="plans"', 1)[1].split("</table>", 1)[0]
    return [int(i) for i in re.findall(r'<th scope="row"><a href="/plans/(\d+)">', table)]


def test_the_tick_list_posts_its_codes(app, client):
    layer, codes = _council_zones(app)
    choose = client.get(f"/planscape/choose?layer=sample_council&code={_council_code(app)}"
                        ).get_data(as_text=True)
    assert '<form method="post" action="/planscape/result" class="choose">' in choose
    assert 'name="csrf_token"' in choose
    # A whole council's list is too long for a link: answered at once, downloads as forms.
    page = client.post("/planscape/result", data={"layer": layer, "codes": codes})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    get = client.get(f"/planscape/result?layer={layer}&codes={','.join(codes)}")
    assert _table_ids(text) == _table_ids(get.get_data(as_text=True)) != []
    assert "too long to put in a link" in text and 'name="codes" value="' in text
    csv = client.post("/planscape/result", data={"layer": layer, "codes": ",".join(codes),
                                                 "format": "csv"})
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.get_data() == client.get(f"/planscape/result?layer={layer}&codes="
                                        f"{','.join(codes)}&format=csv").get_data()
    # A short list goes on to the GET link it fits in, which can be shared.
    short = client.post("/planscape/result", data={"layer": layer, "codes": codes[:2]})
    assert short.status_code == 303
    assert short.headers["Location"] == f"/planscape/result?layer={layer}&codes={codes[0]},{codes[1]}"


def _council_code(app) -> str:
    with app.app_context():
        return str(get_engine().layer("sample_council").areas["code"].iloc[0])
