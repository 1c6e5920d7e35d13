"""Hostile text in every field capmap stores or echoes, shown in Chromium: none of it runs.

A corpus of payloads (script tags, an image with onerror, attribute breakouts with both quotes,
an svg onload, a textarea close, a template expression, and javascript: links) goes into every
user-controlled text field: area, ward and layer names, titles and licences; plan titles, owners,
statuses, themes, summaries and links; action titles, descriptions, leads, partners, resources,
measures and progress notes; engagement campaigns; pin descriptions, categories and contacts;
moderation reasons; usernames; search terms; uploaded file names and import settings. Most are
loaded through capmap.services.pipeline (as `capmap import` does), the rest through the app's own forms.

Then every page is visited, every map tooltip and popup opened, and every JSON and export view
requested. Each payload sets window.__xss when it runs; a MutationObserver installed before any
page script records any element that appears with an event-handler attribute, a javascript: URL,
a payload <script> or the payload <img>, so markup that the Content-Security-Policy would stop is
caught too. The page fixture fails on dialogs, console errors (CSP refusals included) and
uncaught exceptions. test_the_detector_sees_a_payload_that_runs proves the detector works.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa

from capmap.core.passwords import hash_password
from capmap.io.prepare import PlanFields
from capmap.services import pipeline
from capmap.services.engine import Engine
from capmap.services.layers import load_layer_defs
from capmap.storage import open_store
from capmap.storage.schema import plans as plans_table
from tests.browser.conftest import Traffic, live_config, new_page, sample_copy, serving
from tests.conftest import BOUNDARIES, PASSWORD, SAMPLE

pytestmark = pytest.mark.browser

# Each payload, if it ran, would set window.__xss; "tpl{{7*7}}tpl" would read tpl49tpl if a
# template engine evaluated it.
PAYLOADS = (
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '" onmouseover="window.__xss=1" x="',
    "'><svg onload=window.__xss=1>",
    "</textarea><script>window.__xss=1</script>",
    "tpl{{7*7}}tpl",
)
JS_LINK = "javascript:window.__xss=1"
SHORT = "<img src=x onerror=window.__xss=1>"   # for short fields, and URL paths
SVG = "\"><svg onload=window.__xss=1>"           # for fields of at most 30 characters
PLAN_STATUS = SVG
PIN_CATEGORY = "XSS-cat " + SVG
# Themes (and a plan's status, on its page) are shown as words, underscores as spaces.
THEMES_SHOWN = "XSS-plan-themes " + PAYLOADS[0].replace("_", " ")


def hostile(tag: str) -> str:
    """The whole corpus after a tag naming the field, so a page shows which field it printed."""
    return f"XSS-{tag} " + " ".join(PAYLOADS)


DETECTOR = """(() => {
  window.__xssFound = [];
  const flag = (el, why) => window.__xssFound.push(why + ': ' + (el.outerHTML || '').slice(0, 160));
  const check = (el) => {
    if (!el || el.nodeType !== 1) { return; }
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) { flag(el, 'handler ' + a.name); }
      const url = /^(href|src|action|formaction|xlink:href|data)$/i.test(a.name);
      if (url && /^\\s*javascript:/i.test(a.value)) {
        flag(el, 'javascript: url');
      }
    }
    if (el.tagName === 'SCRIPT' && el.textContent.trim() === 'window.__xss=1') { flag(el, 'script'); }
    if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') { flag(el, 'img'); }
  };
  const walk = (n) => { check(n); if (n.querySelectorAll) { n.querySelectorAll('*').forEach(check); } };
  new MutationObserver((records) => records.forEach((r) => {
    r.addedNodes.forEach(walk);
    if (r.type === 'attributes') { check(r.target); }
  })).observe(document, {childList: true, subtree: true, attributes: true});
  // Keep every Leaflet map, including those made inside closures (the pin map), to open their
  // tooltips and popups.
  let leaflet;
  Object.defineProperty(window, 'L', {configurable: true, get: () => leaflet, set: (value) => {
    leaflet = value;
    if (value && value.Map && value.Map.addInitHook) {
      value.Map.addInitHook(function () { (window.__maps = window.__maps || []).push(this); });
    }
  }});
})();"""

# Opens every tooltip and popup on every map, as hovering or clicking would: Leaflet puts string
# content in with innerHTML and element content with appendChild, as here. The count it returns.
OPEN_ALL = """() => {
  let opened = 0;
  for (const map of window.__maps || []) {
    const owners = [];
    map.eachLayer((layer) => {
      if (L.MarkerClusterGroup && layer instanceof L.MarkerClusterGroup) {
        layer.getLayers().forEach((m) => owners.push([m, m]));
      } else {
        // A group's tooltip and popup are bound for its members; a member's own, for itself.
        if (layer instanceof L.FeatureGroup) { layer.eachLayer((f) => owners.push([layer, f])); }
        else { owners.push([layer, layer]); }
      }
    });
    // capmap's map layers build their tips on hover (map.js); layer.capmapTip gives the tip of
    // any feature's properties: open one per feature, as pointing at each would.
    for (const layer of map.capmapLayers || []) {
      if (!layer.capmapTip) { continue; }
      const seen = new Set(), properties = [];
      if (layer._vectorTiles) {
        for (const tile of Object.values(layer._vectorTiles)) {
          for (const [id, f] of Object.entries(tile._features || {})) {
            if (!seen.has(id)) { seen.add(id); properties.push(f.feature.properties); }
          }
        }
      } else if (layer.eachLayer) {
        layer.eachLayer((f) => properties.push(f.feature.properties));
      }
      for (const p of properties) {
        map.openTooltip(L.tooltip({permanent: true}).setContent(layer.capmapTip(p))
          .setLatLng(map.getCenter()));
        opened += 1;
      }
    }
    for (const [owner, source] of owners) {
      const bounds = source.getBounds ? source.getBounds() : null;
      const at = bounds ? (bounds.isValid() ? bounds.getCenter() : null)
        : (source.getLatLng ? source.getLatLng() : null);
      if (!at) { continue; }
      const tip = owner.getTooltip && owner.getTooltip();
      if (tip) {
        const content = typeof tip._content === 'function' ? tip._content(source) : tip._content;
        map.openTooltip(L.tooltip({permanent: true}).setContent(content).setLatLng(at));
        opened += 1;
      }
      const pop = owner.getPopup && owner.getPopup();
      if (pop) {
        const content = typeof pop._content === 'function' ? pop._content(source) : pop._content;
        const holder = document.createElement('div');
        holder.className = 'xss-popup';
        if (content instanceof Node) { holder.appendChild(content); } else { holder.innerHTML = content; }
        document.body.appendChild(holder);
        opened += 1;
      }
    }
  }
  return opened;
}"""


POPUPS_FILLED = ("() => [...document.querySelectorAll('.pin-popup strong')]"
                 ".every(e => e.textContent !== 'Loading…')")


@dataclass
class Hostile:
    """capmap served over the sample data with hostile text loaded."""

    url: str
    app: object
    database_url: str
    plan_ids: dict[str, int] = field(default_factory=dict)
    pin_ids: dict[str, int] = field(default_factory=dict)
    hood_codes: list[str] = field(default_factory=list)
    ward_code: str = ""
    rejected_links: list = field(default_factory=list)


def _hostile_layer(store, folder: Path, layer_id: str, source: str, renamed: int) -> None:
    """Re-import a sample layer through the pipeline with a hostile title and licence and its
    first `renamed` areas' names hostile."""
    layer = next(la for la in load_layer_defs(BOUNDARIES) if la.id == layer_id)
    areas = gpd.read_file(SAMPLE / source)
    for i in range(renamed):
        areas.loc[i, "name"] = hostile(f"{layer_id}-name-{i}")
    path = folder / source
    areas.to_file(path, driver="GeoJSON")
    layer = replace(layer, title=hostile(f"{layer_id}-title"), licence=hostile(f"{layer_id}-licence"))
    pipeline.import_boundaries(store, layer, path)


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _seed(store, folder: Path) -> dict:
    """Hostile text in every stored field, loaded through the import pipeline."""
    _hostile_layer(store, folder, "sample_dz", "neighbourhoods.geojson", 6)
    _hostile_layer(store, folder, "sample_wards", "wards.geojson", 2)
    engine = Engine(store)
    hoods = engine.layer("sample_dz")
    codes = list(hoods.areas["code"].iloc[:6])
    plan = {"type": "locality_plan", "owner": hostile("plan-owner"), "council_code": "S12900001",
            "period_start": "2023-04-01", "period_end": "2033-03-31", "review_due": "2020-01-01",
            "status": PLAN_STATUS, "themes": hostile("plan-themes"),
            "summary": hostile("plan-summary"), "layer": "sample_dz", "area_codes": ";".join(codes)}
    report = pipeline.import_plans(store, _write_csv(folder / "plans.csv", [
        {"ref": "HX-LP", "title": hostile("plan-title"), "link": "https://example.org/lp", **plan},
        {"ref": "HX-JS", "title": hostile("plan-js-link"), "link": JS_LINK, **plan},
    ]), PlanFields())
    drawn = hoods.areas.geometry.iloc[2]
    path = folder / "drawn.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": shapely.geometry.mapping(drawn),
        "properties": {"ref": "HX-CAP", "type": "community_action_plan", "title": hostile("cap-title"),
                       "owner": hostile("cap-owner"),
                       "link": 'https://example.org/cap?x="><svg onload=window.__xss=1>'}}]}))
    pipeline.import_plans(store, path, PlanFields())
    # The import refuses javascript: links; a database written before that check, or by another
    # tool, may still hold one, so the pages must not trust stored links either.
    with store.engine.begin() as conn:
        conn.execute(sa.update(plans_table).where(plans_table.c.ref == "HX-LP").values(link=JS_LINK))
    inner = hoods.inner_points[0]
    action = {"plan_ref": "HX-LP", "description": hostile("action-description"),
              "theme": "health", "lead": hostile("action-lead"), "lead_type": "community",
              "partners": hostile("action-partners"), "resources": hostile("action-resources"),
              "measure": hostile("action-measure"), "target_date": "2020-01-01",
              "status": "in_progress", "progress_note": hostile("action-progress"),
              "updated": "2026-01-01"}
    pipeline.import_actions(store, _write_csv(folder / "actions.csv", [
        {"ref": "HX-A1", "title": hostile("action-title"), **action, "lon": inner.x, "lat": inner.y},
        {"ref": "HX-A2", "title": hostile("action-unlocated"), **action, "lon": "", "lat": ""},
    ]))
    pipeline.import_responses(store, _write_csv(folder / "responses.csv", [
        {"ref": f"HX-R{i}", "campaign": hostile("campaign"), "channel": "online",
         "date": "2025-06-01", "themes": "health", "easting": "", "northing": "",
         "area_code": codes[i % 3]} for i in range(6)]))
    # Newer than every sample pin, so the public list of recent pins shows them.
    newest = max(f["properties"]["created"] for f in
                 json.loads((SAMPLE / "pins.geojson").read_text())["features"])
    pins = []
    for i, (status, category) in enumerate([("published", "other"), ("published", PIN_CATEGORY),
                                            ("pending", "other"), ("resolved", "green_space")]):
        point = hoods.inner_points[i + 1]
        pins.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
                     "properties": {"ref": f"HX-P{i}", "category": category, "status": status,
                                    "description": hostile(f"pin-description-{status}-{i}"),
                                    "contact": hostile(f"pin-contact-{i}"),
                                    "created": newest[:10] + f"T23:5{i}:00Z"}})
    path = folder / "pins.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": pins}))
    pipeline.import_pins(store, path)
    return {"codes": codes, "rejected": report.rejected}


def _ids(frame) -> dict[str, int]:
    """Ids of the hostile records by their refs."""
    return {r: int(i) for r, i in zip(frame["ref"], frame["id"], strict=True) if str(r).startswith("HX")}


@pytest.fixture(scope="module")
def hostile_server(sample_db, tmp_path_factory) -> Iterator[Hostile]:
    """capmap on 127.0.0.1 over the sample data with the hostile records, CSRF on."""
    from app import create_app

    folder = tmp_path_factory.mktemp("hostile")
    url = sample_copy(sample_db, folder)
    store = open_store(url)
    try:
        seeded = _seed(store, folder)
        store.add_user(f"XSS-user{SHORT}", hash_password(PASSWORD), ["moderator"])
        store.add_user("xss-admin", hash_password(PASSWORD), ["admin"])
        plan_ids, pin_ids = _ids(store.plans()), _ids(store.pins())
        ward = Engine(store).layer("sample_wards").areas["code"].iloc[0]
    finally:
        store.close()
    app = create_app(live_config(url, folder))
    with serving(app) as base:
        yield Hostile(base, app, url, plan_ids, pin_ids, seeded["codes"], ward, seeded["rejected"])


@pytest.fixture
def hpage(browser, hostile_server, traffic) -> Iterator[object]:
    """A fresh page on the hostile server with the detector installed; fails the test on foreign
    requests, dialogs, script errors and CSP refusals, as the journeys' page fixture does."""
    page = new_page(browser, traffic, base_url=hostile_server.url, viewport={"width": 1280, "height": 900})
    page.context.add_init_script(DETECTOR)
    yield page
    page.context.close()
    problems = [f"requests left 127.0.0.1: {traffic.foreign}"] if traffic.foreign else []
    problems += [f"dialogs opened: {traffic.dialogs}"] if traffic.dialogs else []
    problems += [f"browser errors: {traffic.errors}"] if traffic.errors else []
    if problems:
        pytest.fail("; ".join(problems))


# -- checking a view ---------------------------------------------------------------------------

VIEWS: list[str] = []   # every view checked in this run


def _clean(page, traffic, where: str) -> None:
    """Nothing ran and nothing became markup in the page as it stands."""
    found = page.evaluate("window.__xssFound || []")
    assert not found, f"{where}: payload became markup: {found[:3]}"
    assert page.evaluate("typeof window.__xss") == "undefined", f"{where}: a payload ran"
    assert not traffic.dialogs and not traffic.errors, f"{where}: {traffic.dialogs} {traffic.errors}"
    assert "tpl49tpl" not in page.content(), f"{where}: a template expression was evaluated"
    VIEWS.append(where)


def _shows(page, tags: list[str], where: str) -> None:
    """Each field's payload is on the page as text (so the check above was not vacuous): a tag
    names a field holding the corpus; a string starting with a quote is shown as it is."""
    text = page.evaluate("document.body.textContent")
    for tag in tags:
        expected = tag if tag.startswith(('"', "XSS-")) else f"XSS-{tag} {PAYLOADS[0]}"
        assert expected in text, f"{where} does not show the {tag} payload as text"


# Every image done (loaded or failed); resolved a frame later, after their load or error events.
IMAGES_SETTLED = """() => [...document.images].every(i => i.complete)
  && new Promise(resolve => requestAnimationFrame(() => setTimeout(() => resolve(true))))"""


def visit(page, traffic, url: str, tags: list[str] = (), tip_tags: list[str] = ()) -> int:
    """Open `url`, then every tooltip and popup on its maps; check it and what it shows."""
    # Maps fetch their tiles, overlays and pins: wait until every map has drawn what is in view.
    page.goto(url, wait_until="networkidle")
    page.wait_for_function("() => [...document.querySelectorAll('[data-map]')]"
                           ".every(h => h.dataset.loaded)")
    _clean(page, traffic, url)
    _shows(page, list(tags), url)
    opened = page.evaluate(OPEN_ALL)
    page.wait_for_function(POPUPS_FILLED)   # pin popups fetch their text
    page.wait_for_function(IMAGES_SETTLED)  # any image has loaded or failed, its events fired
    _clean(page, traffic, f"{url} (tooltips and popups)")
    _shows(page, list(tip_tags), f"{url} (tooltips and popups)")
    return opened


def log_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("button", name=f"Log out {username}").is_visible()


# -- the detector -------------------------------------------------------------------------------

def test_the_detector_sees_a_payload_that_runs(browser, hostile_server):
    traffic = Traffic()
    page = new_page(browser, traffic, base_url=hostile_server.url)
    page.context.add_init_script(DETECTOR)
    try:
        # A page with no CSP (served by the test itself): the payload runs, and both the marker
        # and the observer see it.
        page.route("**/detector-test", lambda route: route.fulfill(
            body=f"<!doctype html><title>t</title><p>{PAYLOADS[1]}</p>", content_type="text/html"))
        page.goto("/detector-test")
        page.wait_for_function("window.__xss === 1")
        assert page.evaluate("window.__xssFound.length") >= 1
        # A capmap page (with its CSP): markup put in with innerHTML is refused by the browser,
        # and still recorded by the observer and as a console error.
        page.goto("/planscape/search?q=x")
        with page.expect_console_message(lambda m: "Content Security Policy" in m.text
                                         or "Content-Security-Policy" in m.text):
            page.evaluate(f"document.querySelector('main').innerHTML += {json.dumps(PAYLOADS[3])}")
        page.wait_for_function("window.__xssFound.some(f => f.includes('svg'))")
        assert any("Content Security Policy" in e or "Content-Security-Policy" in e
                   for e in traffic.errors), traffic.errors
        page.evaluate(f"document.body.insertAdjacentHTML('beforeend', '<a href=\"{JS_LINK}\">x</a>')")
        page.wait_for_function("window.__xssFound.some(f => f.includes('javascript: url'))")
    finally:
        page.context.close()


def test_javascript_links_are_refused_on_import(hostile_server):
    assert [(row, reason) for row, reason in hostile_server.rejected_links] == [
        (2, f"link {JS_LINK!r} is not an http(s) address")]


# -- public pages ------------------------------------------------------------------------------

def test_public_pages_maps_and_lists_show_every_payload_as_text(hpage, hostile_server, traffic):
    h, codes = hostile_server, ",".join(hostile_server.hood_codes)
    lp, cap = h.plan_ids["HX-LP"], h.plan_ids["HX-CAP"]
    pin = h.pin_ids["HX-P0"]
    layer_tags = ["sample_dz-title", "sample_wards-title"]
    views = [
        ("/", ["plan-title", "plan-owner", PLAN_STATUS, "cap-title", "sample_dz-licence", *layer_tags],
         ["plan-title", "plan-owner", PLAN_STATUS]),
        ("/planscape", ["sample_wards-name-0"], ["sample_wards-name-0"]),
        (f"/planscape/choose?layer=sample_wards&code={h.ward_code}", ["sample_wards-name-0"], []),
        (f"/planscape/result?layer=sample_dz&codes={codes}",
         ["plan-title", "plan-owner", "cap-title", "sample_dz-name-0", "action-title"],
         ["plan-title", "cap-owner", "sample_dz-name-0"]),
        (f"/plans/{lp}", ["plan-title", "plan-owner", "plan-summary", PLAN_STATUS.replace("_", " "),
                          THEMES_SHOWN, "action-title", "action-description", "action-lead",
                          "action-progress", "action-measure", "action-unlocated"],
         ["plan-title", "action-title"]),
        (f"/plans/{cap}", ["cap-title", "cap-owner"], ["cap-title"]),
        ("/pins", ["pin-description-published-0", "sample_dz-name-0"], ["pin-description-published-0"]),
        (f"/pins?area={h.hood_codes[0]}", ["sample_dz-name-0"], []),
        ("/export/", layer_tags, []),
        ("/ogc?f=html", [], []),
        ("/ogc/collections?f=html", layer_tags, []),
        ("/ogc/collections/sample_dz?f=html", ["sample_dz-title"], []),
        ("/ogc/collections/sample_dz/items?f=html&limit=10", ["sample_dz-name-0"], []),
        ("/ogc/collections/plans/items?f=html&limit=1000", ["plan-title", "plan-owner"], []),
        ("/ogc/collections/actions/items?f=html&limit=1000", ["action-title", "action-progress"], []),
        ("/ogc/collections/pins/items?f=html&limit=1000", ["pin-description-published-0"], []),
        (f"/ogc/collections/plans/items/{lp}?f=html", ["plan-title", "plan-summary"], []),
        (f"/ogc/collections/pins/items/{pin}?f=html", ["pin-description-published-0"], []),
        ("/planscape/search?q=XSS-sample_dz-name", ["sample_dz-name-0"], []),
    ]
    opened = 0
    for url, tags, tip_tags in views:
        opened += visit(hpage, traffic, url, tags, tip_tags)
    assert opened > 100


def test_echoed_search_terms_and_parameters_stay_text(hpage, hostile_server, traffic):
    traffic.expect_error("status of 4")   # the refusals below are 400 and 404 answers
    for url, tags in [
        (f"/planscape/search?q={hostile('search')}", ["search"]),
        (f"/pins?postcode={SHORT}", []),
        (f"/planscape/result?format={SHORT}", []),
        (f"/planscape/result?layer=sample_dz&codes={SHORT}", []),
        (f"/planscape/choose?layer={SHORT}&code={SHORT}", []),
        (f"/login?next={hostile('next')}", []),
    ]:
        visit(hpage, traffic, url.replace("#", "%23"), tags)


def test_a_hostile_pin_from_the_form_and_a_hostile_upload_name_stay_text(hpage, hostile_server, traffic,
                                                                          tmp_path):
    traffic.expect_error("status of 4")
    page = hpage
    page.goto(f"/pins?area={hostile_server.hood_codes[4]}")
    page.get_by_label("What kind of problem?").select_option("other")
    page.get_by_label("What is the problem?").fill(hostile("form-description"))
    page.get_by_label("Contact", exact=False).first.fill(hostile("form-contact")[:200])
    lon = page.get_by_label("Longitude").input_value()
    page.get_by_label("Longitude").fill("-0.1")      # outside Scotland: the form comes back filled
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Send report").click()
    assert sent.value.status == 422
    _clean(page, traffic, "pin form refused")
    assert page.get_by_label("What is the problem?").input_value() == hostile("form-description")
    page.get_by_label("Longitude").fill(lon)
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Send report").click()
    assert sent.value.status == 201
    _clean(page, traffic, "pin thanks page")
    _shows(page, ["plan-title"], "pin thanks page")

    # A boundary uploaded under a hostile file name.
    with open_store_of(hostile_server) as store:
        area = store.areas("sample_dz", codes=hostile_server.hood_codes[:2])
    path = tmp_path / f"area {SHORT}.geojson"
    area[["code", area.geometry.name]].to_file(path, driver="GeoJSON")
    page.goto("/planscape")
    page.get_by_label("Boundary file", exact=True).set_input_files(path)
    page.get_by_role("button", name="Upload and show plans").click()
    page.wait_for_url("**/planscape/result")
    _clean(page, traffic, "finder upload result")
    _shows(page, ["plan-title"], "finder upload result")

    # Hostile text pasted as the polygon.
    page.goto("/planscape")
    page.locator("#geometry").fill(hostile("pasted-polygon"))
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Show plans for this polygon").click()
    assert sent.value.status == 400
    _clean(page, traffic, "finder pasted polygon refused")


class open_store_of:
    """The hostile server's store, closed after use."""

    def __init__(self, server: Hostile) -> None:
        self.store = open_store(server.database_url)

    def __enter__(self):
        return self.store

    def __exit__(self, *exc) -> None:
        self.store.close()


# -- staff pages -------------------------------------------------------------------------------

HOSTILE_USER = f"XSS-user{SHORT}"


def test_moderation_dashboards_and_imports_show_every_payload_as_text(hpage, hostile_server, traffic,
                                                                      tmp_path):
    traffic.expect_error("status of 4")   # the refused import settings below
    page, h = hpage, hostile_server
    log_in(page, HOSTILE_USER)
    _clean(page, traffic, "logged in as a hostile username")
    visit(page, traffic, "/moderate", [HOSTILE_USER])
    visit(page, traffic, "/moderate?status=published", [HOSTILE_USER])
    for ref, tags in (("HX-P1", [PIN_CATEGORY, "pin-description-published-1", "pin-contact-1",
                                 "sample_dz-name-2"]),
                      ("HX-P2", ["pin-description-pending-2", "pin-contact-2"])):
        visit(page, traffic, f"/moderate/pins/{h.pin_ids[ref]}", tags)
    # Hide a pin with a hostile reason: the history shows it, and who decided.
    pin = h.pin_ids["HX-P1"]
    page.goto(f"/moderate/pins/{pin}")
    page.locator(f"#reason-{pin}").fill(hostile("reason"))
    with page.expect_navigation():
        page.get_by_role("button", name="Hide").click()
    _clean(page, traffic, "pin hidden")
    _shows(page, ["reason", HOSTILE_USER], "the pin's history")
    page.get_by_role("button", name=f"Log out {HOSTILE_USER}").click()
    page.wait_for_load_state()

    log_in(page, "xss-admin")
    campaign = hostile("campaign")
    visit(page, traffic, "/dashboard/engagement", ["campaign"], ["sample_dz-name-0"])
    page.goto("/dashboard/engagement")
    page.locator("select[name=campaign]").select_option(campaign)
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    _clean(page, traffic, "engagement dashboard filtered by a hostile campaign")
    _shows(page, ["campaign"], "engagement dashboard filtered")
    visit(page, traffic, "/dashboard/plans", ["plan-title"], ["plan-title", "cap-title"])

    # A plans file uploaded under a hostile name, previewed and stored through the web import.
    path = tmp_path / f"plans {SHORT}.geojson"
    with open_store_of(h) as store:
        area = store.areas("sample_dz", codes=h.hood_codes[3:5])
    geometry = shapely.geometry.mapping(shapely.union_all(area.geometry.values))
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": geometry,
        "properties": {"ref": "HX-WEB", "type": "local_place_plan", "title": hostile("web-plan-title"),
                       "owner": hostile("web-plan-owner")}}]}))
    page.goto("/admin/import")
    page.get_by_label("What the file holds").select_option("plans")
    page.get_by_label("File", exact=True).set_input_files(path)
    with page.expect_navigation():
        page.get_by_role("button", name="Preview").click()
    _clean(page, traffic, "import preview")
    _shows(page, ["web-plan-title", "web-plan-owner"], "import preview")
    assert page.evaluate(OPEN_ALL) >= 0
    with page.expect_navigation():
        page.get_by_role("button", name="Store these rows").click()
    _clean(page, traffic, "import done")
    visit(page, traffic, "/", ["web-plan-title"], ["web-plan-title"])

    # Hostile import settings come back in the refusal, as text.
    page.goto("/admin/import")
    page.get_by_label("What the file holds").select_option("boundaries")
    page.get_by_label("File", exact=True).set_input_files(path)
    page.get_by_label("Layer id (e.g. dz11)", exact=True).fill("hx_layer")
    page.get_by_label("Vintage", exact=True).fill("2026")
    page.get_by_label("Code field", exact=True).fill(hostile("setting"))
    page.get_by_label("Title", exact=True).fill(hostile("setting-title"))
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Preview").click()
    assert sent.value.status in (400, 422)
    _clean(page, traffic, "import refused for a hostile code field")
    _shows(page, ["XSS-setting"], "import refusal")


# -- JSON and files ------------------------------------------------------------------------------

HTML_TYPES = ("text/html", "application/xhtml+xml", "image/svg+xml", "text/xml", "application/xml")


def _data_urls(h: Hostile) -> list[tuple[str, int]]:
    """Every JSON answer and export of the hostile records: (URL, expected status)."""
    with open_store_of(h) as store:
        point = Engine(store).layer("sample_dz").inner_points[0]
    codes = ",".join(h.hood_codes)
    pin = h.pin_ids["HX-P0"]
    urls = [(f"/api/lookup?lon={point.x}&lat={point.y}", 200),
            (f"/api/planscape?layer=sample_dz&codes={codes}", 200),
            ("/api/layers/sample_dz/areas?zoom=10", 200),
            ("/api/layers/sample_dz/areas?zoom=10&format=compact", 200),
            ("/api/coverage/plans", 200), ("/api/coverage/engagement?layer=sample_dz", 200),
            (f"/api/layers/{SHORT}/areas", 422), (f"/api/planscape?layer=sample_dz&codes={SHORT}", 400),
            ("/api/openapi.json", 200), ("/ogc/api", 200), ("/health", 200),
            ("/pins/data.json", 200), (f"/pins/{pin}.json", 200),
            ("/ogc/collections?f=json", 200), ("/ogc/collections/sample_dz?f=json", 200),
            ("/ogc/collections/plans/items?f=json&limit=1000", 200),
            ("/ogc/collections/actions/items?f=json&limit=1000", 200),
            ("/ogc/collections/pins/items?f=json&limit=1000", 200),
            (f"/ogc/collections/plans/items/{h.plan_ids['HX-LP']}?f=json", 200),
            (f"/ogc/collections/{SHORT}?f=json", 404),
            (f"/planscape/result?layer=sample_dz&codes={codes}&format=csv", 200),
            (f"/planscape/result?layer=sample_dz&codes={codes}&format=geojson", 200),
            (f"/planscape/result?layer=sample_dz&codes={codes}&format=gpkg", 200)]
    urls += [("/dashboard/engagement.csv?table=areas", 200), ("/dashboard/plans.csv?table=overdue", 200)]
    # Plans in every format; the other layers holding hostile text in the text formats.
    urls += [(f"/export/plans.{fmt}", 200) for fmt in ("geojson", "kml", "csv", "gpkg", "shp", "fgb")]
    urls += [(f"/export/{layer}.{fmt}", 200) for fmt in ("geojson", "kml", "csv")
             for layer in ("actions", "pins", "sample_wards")]
    urls += [(f"/export/{layer}.geojson", 200) for layer in ("responses", "engagement", "plan_coverage")]
    urls += [(f"/export/{layer}.csv-lonlat", 200) for layer in ("actions", "pins", "responses")]
    return urls


def test_json_and_files_are_never_served_as_html(hpage, hostile_server, traffic):
    from playwright.sync_api import Error

    traffic.expect_error("status of 4")  # the refusals of hostile layer names and codes
    log_in(hpage, "xss-admin")  # an admin gets every export, exact points and all
    opened = downloaded = 0
    for url, status in _data_urls(hostile_server):
        answer = hpage.request.get(url)
        assert answer.status == status, (url, answer.status, answer.text()[:300])
        kind = answer.headers["content-type"].split(";")[0].strip().lower()
        assert kind not in HTML_TYPES, f"{url} is served as {kind}"
        assert answer.headers.get("x-content-type-options") == "nosniff", url
        assert b"tpl49tpl" not in answer.body(), f"{url}: a template expression was evaluated"
        if url.startswith("/export/") and status == 200:
            assert answer.headers["content-disposition"].startswith("attachment"), url
            if not url.startswith("/export/plans."):  # the browser downloads them all alike
                continue
        try:
            hpage.goto(url)
        except Error as exc:
            assert "Download is starting" in str(exc), (url, str(exc)[:200])
            downloaded += 1
            continue
        _clean(hpage, traffic, f"{url} opened in the browser")
        opened += 1
    assert opened >= 15 and downloaded >= 6, (opened, downloaded)

