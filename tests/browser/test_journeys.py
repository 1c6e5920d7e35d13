"""Each journey end to end in Chromium against capmap served live over the sample data.

Expected plans come from capmap.services.planscape on the same database, asked the same question the page
asked (the point the click gave, the polygon the drawing posted, the file the form uploaded). The
page fixture fails any test whose page requests a host other than 127.0.0.1, opens a dialog or
hits a script error.
"""

from __future__ import annotations

import csv
import json
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import numpy as np
import pytest
import shapely

from app.store import get_engine, get_store
from capmap.core.crs import lonlat_to_bng
from capmap.services.planscape import codes_query, planscape, point_query
from capmap.services.search import drawn_query, postcode_query, upload_query
from capmap.services.uploads import web_limits
from tests.browser.conftest import Traffic, log_in, new_page
from tests.conftest import SAMPLE

pytestmark = pytest.mark.browser

PIN_OFFSET_MIN_M = 75.0
# The public JSON rounds lon/lat to 5 decimals: up to ~0.65 m at 56°N, allowed for in distances.
ROUNDING_M = 0.7
XSS = 'XSS probe: <img src=x onerror="window.__xss=1"> <script>window.__xss=1</script>'


# -- helpers ---------------------------------------------------------------------------------------

def _locality_codes(ref: str) -> list[str]:
    """The neighbourhood codes of one of the sample's Locality Plans."""
    with open(SAMPLE / "plans_by_area.csv", newline="", encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["ref"] == ref)
    return row["area_codes"].split(";")


def _expected(live_server, make_query) -> list[tuple[int, str]]:
    """(id, title) of the plans capmap.services.planscape lists for the query, in order."""
    with live_server.app.app_context():
        engine, store = get_engine(), get_store()
        answer = planscape(engine, store, make_query(engine, store))
    plans = [(int(p["id"]), p["title"]) for p in answer["plans"]]
    assert plans, "the expected answer has no plans: the test would prove nothing"
    return plans


def _shown(page) -> list[tuple[int, str]]:
    """(id, title) of the plans in the result page's table, in order."""
    page.get_by_role("heading", name="Plans", exact=True).wait_for()
    rows = page.eval_on_selector_all(
        "table.plans tbody th[scope=row] a",
        "links => links.map(a => [a.getAttribute('href'), a.textContent.trim()])")
    return [(int(href.rsplit("/", 1)[1]), title) for href, title in rows]


def _inner_point(live_server, code: str) -> tuple[float, float]:
    """Lon/lat of a point inside a sample neighbourhood."""
    with live_server.app.app_context():
        state = get_engine().layer("sample_dz")
        point = state.inner_points[state.row_of[code]]
    return float(point.x), float(point.y)


def _map_pixel(page, holder: str, lon: float, lat: float) -> tuple[float, float]:
    """Where lon/lat is on the screen in the map of the holder with id `holder`."""
    page.locator(f"#{holder}").scroll_into_view_if_needed()
    box = page.locator(f"#{holder}").bounding_box()
    x, y = page.evaluate(f"([lat, lon]) => {{ const p = document.getElementById('{holder}')"
                         ".capmapMap.latLngToContainerPoint([lat, lon]); return [p.x, p.y]; }",
                         [lat, lon])
    return box["x"] + x, box["y"] + y


def _wait_for_map(page, holder: str) -> None:
    """Wait until the map of a holder has drawn the layers in view."""
    page.wait_for_function(f"() => document.getElementById('{holder}').dataset.loaded === 'true'")


def _finder_map(page) -> str:
    """Open the finder and wait for its map; the id of its holder."""
    page.goto("/planscape")
    _wait_for_map(page, "finder-map")
    return "finder-map"


def _tab_to(page, selector: str, limit: int = 150) -> int:
    """Press Tab until the focused element matches `selector`; the number of presses."""
    for count in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return count
    raise AssertionError(f"Tab never reached {selector} in {limit} presses")


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two lon/lat points, measured in EPSG:27700."""
    e, n = lonlat_to_bng(np.array([a[0], b[0]]), np.array([a[1], b[1]]))
    return float(np.hypot(e[0] - e[1], n[0] - n[1]))


def _no_xss(page, traffic) -> None:
    """The payload never ran and never became markup."""
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator('img[src="x"]').count() == 0
    assert not [u for u in traffic.requests if urlsplit(u).path.endswith("/x")]


def _public_points(page) -> dict[int, dict]:
    """The public pin data as the page's own script fetches it: id -> lon, lat, status."""
    data = page.evaluate("() => fetch('/pins/data.json').then(r => r.json())")
    assert data["kind"] == "points"
    return {p[0]: {"lon": p[1], "lat": p[2], "status": data["statuses"][p[4]]} for p in data["points"]}


def _moderate(page, text: str) -> int:
    """Find the pending pin with `text` in the moderation queue, paging on; its id."""
    page.goto("/moderate")
    while True:
        card = page.locator("article.pin-card").filter(has_text=text)
        if card.count():
            break
        following = page.get_by_role("link", name="Next")
        assert following.count(), f"no pending pin says {text!r}"
        following.click()
        page.wait_for_load_state()
    return int(card.get_by_role("heading").get_by_role("link").inner_text().split()[1])


# -- finding plans -----------------------------------------------------------------------------

def test_find_plans_by_clicking_the_map(page, live_server):
    name = _finder_map(page)
    lon, lat = _inner_point(live_server, _locality_codes("LOC-01")[0])
    x, y = _map_pixel(page, name, lon, lat)
    with page.expect_navigation(url="**/planscape/result?*"):
        page.mouse.click(x, y)
    asked = parse_qs(urlsplit(page.url).query)
    clicked = float(asked["lon"][0]), float(asked["lat"][0])
    assert _distance_m(clicked, (lon, lat)) < 1000
    assert _shown(page) == _expected(live_server, lambda e, s: point_query(e, *clicked))


def test_find_plans_by_postcode_search(page, live_server):
    with live_server.app.app_context():
        postcode = get_store().postcodes()["postcode"].iloc[11]
    page.goto("/planscape")
    page.get_by_label("Postcode, place or neighbourhood name, or area code").fill(postcode.lower())
    with page.expect_navigation(url="**/planscape/result?postcode=*"):
        page.get_by_role("button", name="Search", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text().startswith(f"Plans covering postcode {postcode}")
    assert _shown(page) == _expected(live_server, lambda e, s: postcode_query(e, s, postcode))


def _ward_of(live_server, code: str) -> str:
    """The ward code holding a sample neighbourhood."""
    lon, lat = _inner_point(live_server, code)
    with live_server.app.app_context():
        engine = get_engine()
        return engine.assign(shapely.points([lon], [lat]), only=["sample_wards"])["sample_wards"][0]


def test_find_plans_by_choosing_areas_from_the_list(page, live_server):
    codes = _locality_codes("LOC-01")
    ward = _ward_of(live_server, codes[0])
    page.goto("/planscape")
    page.locator(f'#choose a[href$="code={ward}"]').click()
    page.wait_for_url("**/planscape/choose?*")
    ticked = [c for c in codes if page.locator(f"#c-{c}").count()][:4]
    assert len(ticked) >= 2, "the ward holds too few of the locality's neighbourhoods"
    for code in ticked:
        page.locator(f"#c-{code}").check()
    page.get_by_role("button", name="Show plans for the ticked neighbourhoods").click()
    page.wait_for_url("**/planscape/result?*")
    shown = _shown(page)
    assert shown == _expected(live_server, lambda e, s: codes_query(e, "sample_dz", ticked))
    assert "Locality Plan" in shown[0][1]


def test_find_plans_by_drawing_a_polygon(page, live_server):
    name = _finder_map(page)
    lon, lat = _inner_point(live_server, _locality_codes("LOC-02")[3])
    dlon, dlat = 1500 / 62_000, 1500 / 111_000
    page.get_by_role("button", name="Draw an area").click()
    assert page.get_by_role("button", name="Stop drawing").get_attribute("aria-pressed") == "true"
    for cx, cy in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        page.mouse.click(*_map_pixel(page, name, lon + cx * dlon, lat + cy * dlat))
    assert page.locator("#map-status").inner_text() == "Corner 4 added."
    with page.expect_request(lambda r: r.method == "POST" and "/planscape/result" in r.url) as sent:
        page.get_by_role("button", name="Finish").click()
    page.wait_for_url("**/planscape/result")
    form = parse_qs(sent.value.post_data)
    assert form["csrf_token"][0], "the drawing's form carries no CSRF token"
    polygon = json.loads(form["geometry"][0])
    assert polygon["type"] == "Polygon" and len(polygon["coordinates"][0]) == 5
    assert page.get_by_role("heading", level=1).inner_text() == "Plans covering the area you drew"
    max_km2 = live_server.app.config["PLANSCAPE_MAX_KM2"]
    assert _shown(page) == _expected(live_server, lambda e, s: drawn_query(polygon, max_km2=max_km2))


def test_find_plans_by_uploading_a_boundary_file(page, live_server, tmp_path):
    codes = _locality_codes("LOC-03")[:3]
    with live_server.app.app_context():
        areas = get_engine().layer("sample_dz").areas
    chosen = areas[areas["code"].isin(codes)]
    path = tmp_path / "our-area.geojson"
    gpd.GeoDataFrame({"code": chosen["code"].to_numpy()}, geometry=chosen.geometry.values,
                     crs="EPSG:4326").to_file(path, driver="GeoJSON")
    page.goto("/planscape")
    page.get_by_label("Boundary file", exact=True).set_input_files(path)
    page.get_by_role("button", name="Upload and show plans").click()
    page.wait_for_url("**/planscape/result")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Plans covering the boundary in our-area.geojson"
    config = live_server.app.config
    shown = _shown(page)
    assert shown == _expected(live_server, lambda e, s: upload_query(
        path, path.name, limits=web_limits(config["MAX_CONTENT_LENGTH"]),
        max_km2=config["PLANSCAPE_MAX_KM2"]))
    assert any("Local Outcomes Improvement Plan" in title for _, title in shown)


# -- pins ----------------------------------------------------------------------------------------

FREE_SPOT = """() => {
  const box = document.getElementById('pin-map').getBoundingClientRect();
  const cx = box.left + box.width / 2, cy = box.top + box.height / 2;
  for (let r = 0; r < 200; r += 12) {
    for (const [dx, dy] of [[0, 0], [r, 0], [-r, 0], [0, r], [0, -r], [r, r], [-r, -r]]) {
      const hit = document.elementFromPoint(cx + dx, cy + dy);
      if (hit && !hit.closest('.leaflet-interactive, .leaflet-marker-icon, .marker-cluster,'
                              + ' .leaflet-control')) { return [cx + dx, cy + dy]; }
    }
  }
  return null;
}"""


# True when the pin map has drawn its outlines and its panes have not moved for ten frames, with
# no zoom animating (fitBounds runs once the outlines' data has been read, after its response).
MAP_STILL = """() => new Promise(resolve => {
  const pane = document.querySelector('#pin-map .leaflet-map-pane');
  if (!pane || !pane.querySelector('path.leaflet-interactive')) { resolve(false); return; }
  const where = () => getComputedStyle(pane).transform + ' '
    + [...pane.querySelectorAll('svg, canvas')].map(e => getComputedStyle(e).transform).join(' ');
  const before = where();
  let frames = 0;
  const step = () => {
    if (where() !== before || document.querySelector('#pin-map .leaflet-zoom-anim')) {
      resolve(false);
    } else if (++frames >= 10) {
      resolve(true);
    } else {
      requestAnimationFrame(step);
    }
  };
  requestAnimationFrame(step);
})"""


def _open_pin_map(page, query: str = "") -> None:
    """The pin map, with the neighbourhood outlines and the first pins loaded."""
    with page.expect_response(lambda r: "/pins/data.json" in r.url):
        page.goto("/pins" + query)
    _wait_for_map(page, "pin-map")
    page.wait_for_function(MAP_STILL)  # placing your pin may move the map


def test_drop_a_pin_moderate_it_and_see_it_moved_on_the_public_map(page, live_server, traffic):
    text = "Journey pin: the path by the burn is flooded after every shower."
    _open_pin_map(page)
    spot = page.evaluate(FREE_SPOT)
    assert spot, "no free spot near the middle of the map to click"
    page.mouse.click(*spot)
    exact = (float(page.get_by_label("Longitude").input_value()),
             float(page.get_by_label("Latitude").input_value()))
    assert page.locator("#pin-map .leaflet-marker-icon[title='Your pin']").count() == 1
    page.get_by_label("What kind of problem?").select_option("green_space")
    page.get_by_label("What is the problem?").fill(text)
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/pins")) as sent:
        page.get_by_role("button", name="Send report").click()
    assert sent.value.status == 201
    page.get_by_role("heading", name="Thank you: we have your report").wait_for()
    assert page.get_by_role("heading", name="Is this already in a plan?").is_visible()

    log_in(page, live_server, "morag-journey", ["moderator"])
    pin_id = _moderate(page, text)
    card = page.locator("article.pin-card").filter(has_text=text)
    with page.expect_navigation():
        card.get_by_role("button", name="Publish").click()
    assert f"Pin {pin_id}: " in page.locator("p.notice").inner_text()

    _open_pin_map(page)
    shown = _public_points(page)[pin_id]
    assert shown["status"] == "published"
    moved = _distance_m(exact, (shown["lon"], shown["lat"]))
    assert moved >= PIN_OFFSET_MIN_M - ROUNDING_M, f"the public point is only {moved:.1f} m away"
    assert page.locator("table.pin-list").get_by_role("cell", name=text).count() == 1
    assert f"{exact[0]:.6f}" not in page.content()


def test_keyboard_only_finder_by_search_and_by_the_list(page, live_server):
    with live_server.app.app_context():
        postcode = get_store().postcodes()["postcode"].iloc[30]
    page.goto("/planscape")
    _tab_to(page, "#q")
    page.keyboard.type(postcode)
    with page.expect_navigation(url="**/planscape/result?postcode=*"):
        page.keyboard.press("Enter")
    assert _shown(page) == _expected(live_server, lambda e, s: postcode_query(e, s, postcode))

    codes = _locality_codes("LOC-02")
    ward = _ward_of(live_server, codes[0])
    page.goto("/planscape")
    _tab_to(page, 'a[href="#choose"]')
    page.keyboard.press("Enter")
    _tab_to(page, f'#choose a[href$="code={ward}"]', limit=30)
    with page.expect_navigation(url="**/planscape/choose?*"):
        page.keyboard.press("Enter")
    listed = page.eval_on_selector_all("form.choose input[type=checkbox]", "boxes => boxes.map(b => b.value)")
    ticked = [c for c in listed if c in codes][:2]  # in page order: Tab only goes forward
    assert len(ticked) == 2
    for code in ticked:
        _tab_to(page, f"#c-{code}")
        page.keyboard.press("Space")
    assert all(page.locator(f"#c-{c}").is_checked() for c in ticked)
    _tab_to(page, "form.choose button[type=submit]")
    with page.expect_navigation(url="**/planscape/result?*"):
        page.keyboard.press("Enter")
    assert _shown(page) == _expected(live_server, lambda e, s: codes_query(e, "sample_dz", ticked))


def test_keyboard_only_pin_by_postcode_and_by_neighbourhood(page, live_server):
    with live_server.app.app_context():
        postcode = get_store().postcodes()["postcode"].iloc[50]
    page.goto("/pins")
    _tab_to(page, "#postcode")
    page.keyboard.type(postcode)
    with page.expect_navigation(url="**/pins?postcode=*"):
        page.keyboard.press("Enter")
    assert page.locator("#pin-place").inner_text().startswith(f"Placed at postcode {postcode}")
    assert page.get_by_label("Longitude").input_value()

    _tab_to(page, "#area")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    chosen = page.locator("#area").input_value()
    _tab_to(page, "form.inline:has(#area) button")
    with page.expect_navigation(url=f"**/pins?area={chosen}"):
        page.keyboard.press("Enter")
    lon, lat = page.get_by_label("Longitude").input_value(), page.get_by_label("Latitude").input_value()
    assert lon and lat

    _tab_to(page, "#category")
    page.keyboard.press("ArrowDown")
    assert page.locator("#category").input_value() != ""
    _tab_to(page, "#description")
    page.keyboard.type("Keyboard pin: the pavement is broken outside the shop.")
    presses = _tab_to(page, "#pin-form button[type=submit]")
    assert presses == 2, "between the description and Send there should be only the contact field"
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/pins")) as sent:
        page.keyboard.press("Enter")
    assert sent.value.status == 201
    page.get_by_role("heading", name="Thank you: we have your report").wait_for()


# -- hostile text ------------------------------------------------------------------------------

def _quiet_neighbourhood(live_server, far_m: float = 700.0) -> str:
    """A neighbourhood whose inner point is at least `far_m` from every shown pin, so its pin
    stands alone on the map at zoom 15."""
    with live_server.app.app_context():
        store, hoods = get_store(), get_engine().layer("sample_dz")
        pins = store.pins()
    shown = pins[pins["status"].isin(["published", "resolved"])]
    public = shown["public_geom"].values
    pe, pn = lonlat_to_bng(shapely.get_x(public), shapely.get_y(public))
    xy = shapely.get_coordinates(hoods.inner_points)
    he, hn = lonlat_to_bng(xy[:, 0], xy[:, 1])
    nearest = np.hypot(he[:, None] - pe[None, :], hn[:, None] - pn[None, :]).min(axis=1)
    return str(hoods.areas["code"].iloc[int(np.argmax(nearest >= far_m))])


def test_a_hostile_pin_description_shows_as_text_and_never_runs(page, live_server, traffic):
    traffic.expect_error("status of 422")
    code = _quiet_neighbourhood(live_server)
    page.goto(f"/pins?area={code}")
    lon, lat = page.get_by_label("Longitude").input_value(), page.get_by_label("Latitude").input_value()
    page.get_by_label("What kind of problem?").select_option("other")
    page.get_by_label("What is the problem?").fill(XSS)
    # First from a point outside Scotland: the refused form comes back holding the text.
    page.get_by_label("Longitude").fill("-0.1")
    page.get_by_label("Latitude").fill("51.5")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Send report").click()
    assert sent.value.status == 422
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_label("What is the problem?").input_value() == XSS
    _no_xss(page, traffic)
    page.get_by_label("Longitude").fill(lon)
    page.get_by_label("Latitude").fill(lat)
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Send report").click()
    assert sent.value.status == 201
    page.get_by_role("heading", name="Thank you: we have your report").wait_for()
    _no_xss(page, traffic)

    log_in(page, live_server, "morag-xss", ["moderator"])
    pin_id = _moderate(page, "XSS probe")
    quote = page.locator("article.pin-card").filter(has_text="XSS probe").locator("blockquote")
    assert quote.inner_text() == XSS
    _no_xss(page, traffic)
    page.get_by_role("link", name=f"Pin {pin_id}", exact=True).click()
    page.wait_for_url(f"**/moderate/pins/{pin_id}")
    assert page.locator("blockquote.pin-description").inner_text() == XSS
    _no_xss(page, traffic)
    with page.expect_navigation():
        page.get_by_role("button", name="Publish").click()
    assert "published" in page.locator(".meta").inner_text()

    _open_pin_map(page)
    assert page.locator("table.pin-list").get_by_role("cell", name=XSS, exact=True).count() == 1
    _no_xss(page, traffic)
    public = _public_points(page)[pin_id]
    # Centre the map on the pin's public point at street zoom, then open its tooltip and popup.
    _open_pin_map(page, f"?lon={public['lon']}&lat={public['lat']}")
    # Waits until exactly one drawn pin sits at the centre (the pins are drawn after their data).
    marker = page.wait_for_function("""() => {
      const box = document.getElementById('pin-map').getBoundingClientRect();
      const cx = box.left + box.width / 2, cy = box.top + box.height / 2;
      const near = [...document.querySelectorAll('#pin-map path.leaflet-interactive')]
        .map(p => p.getBoundingClientRect())
        .map(r => [r.left + r.width / 2, r.top + r.height / 2])
        .filter(([x, y]) => Math.hypot(x - cx, y - cy) < 4);
      return near.length === 1 ? near[0] : null;
    }""", timeout=15_000).json_value()  # times out unless the pin is drawn at its public point
    # A little below the centre: "Your pin" (placed at the same point) covers the upper half.
    page.mouse.move(marker[0], marker[1] + 4)
    assert page.locator(".leaflet-tooltip").filter(has_text="Something else").count() == 1
    page.mouse.click(marker[0], marker[1] + 4)
    popup = page.locator(".leaflet-popup .pin-popup-text")
    popup.wait_for()
    page.wait_for_function("() => document.querySelector('.pin-popup-text').textContent !== ''")
    assert popup.inner_text() == XSS
    _no_xss(page, traffic)


def test_the_page_guard_refuses_other_hosts(browser, live_server):
    traffic = Traffic()
    page = new_page(browser, traffic, base_url=live_server.url)
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    try:
        # A page with no CSP of its own, so only the guard stands between it and the network.
        with page.expect_event("requestfailed"):
            page.set_content('<img src="http://tiles.example.invalid/0/0/0.png" alt="">')
    finally:
        page.context.close()
    assert traffic.foreign == ["http://tiles.example.invalid/0/0/0.png"] == failed


def test_the_engagement_map_colours_every_area_from_the_page_values(page, live_server, traffic):
    # The page carries values per code and no geometry; the map draws the layer's vector tiles
    # and colours each area from the values: every area drawn in the colour its value puts it in.
    log_in(page, live_server, "olivia-map", ["officer"])
    page.goto("/dashboard/engagement")
    assert '"coordinates"' not in page.content()
    _wait_for_map(page, "map")
    layer = json.loads(page.locator("#map").get_attribute("data-map"))["layers"][0]
    fill = layer["fill"]
    expected = {code: fill["otherwise"] if v[0] is None else fill["colours"][v[0]]
                for code, v in fill["values"].items()}
    # Each tile drawn holds its features by code (VectorGrid's getFeatureId); an area cut by
    # tile edges is drawn once per tile, in one colour.
    drawn = page.evaluate("""() => {
      const map = document.getElementById('map').capmapMap, out = {};
      for (const tile of Object.values(map.capmapLayers[0]._vectorTiles)) {
        for (const [code, f] of Object.entries(tile._features)) {
          (out[code] = out[code] || new Set()).add(f.feature.options.fillColor);
        }
      }
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, [...v]]));
    }""")
    assert len(expected) == 620 and set(drawn) == set(expected)
    assert all(drawn[code] == [colour] for code, colour in expected.items())
    assert len(set(expected.values())) >= 3, "the sample's rates should fall in several bands"
    paths = page.locator("#map path.leaflet-interactive")
    box = paths.nth(paths.count() // 2).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tip = page.locator(".leaflet-tooltip .map-tip")
    tip.wait_for()
    assert [line.split(":")[0] for line in tip.inner_text().splitlines()] == [
        "Area", "Code", "Responses", "Per 1,000"]
    _no_xss(page, traffic)
