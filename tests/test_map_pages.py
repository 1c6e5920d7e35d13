"""Every map page carries a small description of its map and no geometry: each layer's geometry
comes by URL (vector tiles or a small GeoJSON), and every URL a description names answers.

The map script itself is driven in Chromium by tests/browser; these tests read the descriptions
the server writes and fetch what they point at, as the script would."""

from __future__ import annotations

import html
import json
import math
import re

import mapbox_vector_tile
import pytest

from app.store import get_engine

MAP_HOLDER = re.compile(r'data-map="([^"]*)"')
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def map_specs(page: str) -> list[dict]:
    """The map descriptions of a page, as map.js reads them from its holders."""
    return [json.loads(html.unescape(text)) for text in MAP_HOLDER.findall(page)]


def tile_of(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The x, y of the Web Mercator tile holding a point at a zoom (the slippy-map formula)."""
    n = 2**zoom
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _fetch_layer(client, layer: dict, bounds: list[float]) -> list[dict]:
    """The features a layer of a description has around the centre of `bounds`."""
    if "tiles" in layer:
        lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        x, y = tile_of(lon, lat, 10)
        answer = client.get(layer["tiles"].format(z=10, x=x, y=y))
        assert answer.status_code == 200, layer["tiles"]
        assert answer.mimetype == "application/vnd.mapbox-vector-tile"
        decoded = mapbox_vector_tile.decode(answer.data)
        return decoded.get(layer["source"], {"features": []})["features"]
    if "geojson" in layer:
        answer = client.get(layer["geojson"])
        assert answer.status_code == 200, layer["geojson"]
        assert answer.mimetype == "application/geo+json"
        return answer.get_json()["features"]
    return [layer["data"]]


def _check_page(client, url: str, holders: int = 1) -> list[dict]:
    answer = client.get(url)
    assert answer.status_code == 200, url
    page = answer.get_data(as_text=True)
    specs = map_specs(page)
    assert len(specs) == holders
    assert not INLINE_SCRIPT.findall(page), "an inline script would need the CSP relaxed"
    assert "/static/map.js" in page and "Leaflet.VectorGrid.bundled.min.js" in page
    for described in specs:
        for layer in described["layers"]:
            assert {"tiles", "geojson", "data"} & set(layer), layer
            assert isinstance(layer["name"], str) and layer["name"]
    return specs


def test_the_home_map_draws_every_current_layer_and_plan_type_from_tiles(app, client):
    (described,) = _check_page(client, "/")
    page = client.get("/").get_data(as_text=True)
    assert '"coordinates"' not in html.unescape(page)
    with app.app_context():
        engine = get_engine()
        layers = {s.layer.title or s.layer.id for s in engine.layers().values()}
        types = set(engine.plans().plans["type"])
    names = [layer["name"] for layer in described["layers"]]
    assert layers <= set(names)
    assert len(names) == len(layers) + len(types)
    for layer in described["layers"]:
        assert "tiles" in layer and "/v" in layer["tiles"]
        features = _fetch_layer(client, layer, described["bounds"])
        if layer["source"] == "areas" and layer["show"]:
            assert features, f"{layer['name']} has no areas at the sample's centre"
    # A click on an area opens the planscape of that area; on a plan, its page.
    area = next(la for la in described["layers"] if la["source"] == "areas")
    feature = _fetch_layer(client, area, described["bounds"])[0]
    link = area["link"].replace("{code}", feature["properties"]["code"])
    assert client.get(link).status_code == 200
    plan = next(la for la in described["layers"] if la["source"] == "plans")
    assert client.get(plan["link"].replace("{id}", "1")).status_code == 200


def test_the_home_page_is_small_and_carries_no_geometry(client):
    page = client.get("/").get_data()
    # The sample's 620 neighbourhoods as GeoJSON are over a megabyte; the page is its tables
    # and the description: a few tens of kilobytes.
    assert len(page) < 100_000
    assert b"FeatureCollection" not in page


def test_the_finder_map_has_outlines_and_no_links(client):
    (described,) = _check_page(client, "/planscape")
    assert described["layers"] and all("link" not in la for la in described["layers"])


def test_a_result_outlines_the_codes_asked_about_over_the_covering_plans(app, client):
    with app.app_context():
        state = get_engine().neighbourhoods()
        codes = list(state.areas["code"].iloc[:3])
        layer_id = state.layer.id
    (described,) = _check_page(client, f"/planscape/result?layer={layer_id}&codes={','.join(codes)}")
    asked = described["layers"][-1]
    assert asked["only"] == {"by": "code", "values": codes}
    shown = {f["properties"]["code"] for f in _fetch_layer(client, asked, described["bounds"])}
    assert set(codes) & shown
    plan_ids = {int(i) for la in described["layers"][:-1] for i in la["only"]["values"]}
    page = client.get(f"/planscape/result?layer={layer_id}&codes={','.join(codes)}")
    listed = {int(i) for i in re.findall(r'href="/plans/(\d+)"', page.get_data(as_text=True))}
    assert plan_ids == listed


def test_a_drawn_result_carries_its_outline_simplified(client):
    square = {"type": "Polygon", "coordinates": [[[-3.80, 56.00], [-3.70, 56.00], [-3.70, 56.05],
                                                   [-3.80, 56.05], [-3.80, 56.00]]]}
    (described,) = _check_page(client, "/planscape/result?geometry=" + json.dumps(square))
    outline = described["layers"][-1]
    assert outline["data"]["type"] == "Polygon"
    # The four corners survive simplification (nothing to simplify) and rounding to 5 decimals.
    corners = {tuple(c) for c in outline["data"]["coordinates"][0]}
    assert corners == {(-3.8, 56.0), (-3.7, 56.0), (-3.7, 56.05), (-3.8, 56.05)}


def test_a_plan_page_shows_its_plan_and_its_located_actions(app, client):
    with app.app_context():
        plans = get_engine().plans().plans
    plan_id = int(plans["id"].iloc[0])
    (described,) = _check_page(client, f"/plans/{plan_id}")
    plan_layers = [la for la in described["layers"] if la.get("source") == "plans"]
    assert len(plan_layers) == 1 and plan_layers[0]["only"]["values"] == [plan_id]
    actions = next(la for la in described["layers"] if "geojson" in la)
    features = _fetch_layer(client, actions, described["bounds"])
    assert all(set(f["properties"]) == {"id", "title", "status", "overdue"} for f in features)


@pytest.mark.parametrize("url", ["/dashboard/engagement", "/dashboard/plans"])
def test_the_dashboards_colour_tiles_by_code_from_the_page(app, officer, url):
    client = officer
    (described,) = _check_page(client, url)
    filled = described["layers"][0]
    with app.app_context():
        codes = set(get_engine().neighbourhoods().areas["code"])
    assert filled["fill"]["by"] == "code" and set(filled["fill"]["values"]) == codes
    assert all(v[0] is None or 0 <= v[0] < len(filled["fill"]["colours"])
               for v in filled["fill"]["values"].values())
    assert _fetch_layer(client, filled, described["bounds"])
