"""English and Scottish Gaelic: pages in the chosen language with <html lang>, a switch that
persists and goes back only to this site, dates and numbers for the language, the map's and the
scripts' words, the public error messages, and catalogues that are complete and compiled."""

from __future__ import annotations

import gettext
import html
import io
import json
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app import i18n, messages, words
from capmap.core.errors import ValidationError
from capmap.core.models import PIN_CATEGORIES, PIN_STATUSES
from capmap.present.maps.style import PLAN_LABELS
from capmap.services import lpp_register
from capmap.services import pins as P

ROOT = Path(__file__).resolve().parents[1]
GD = ROOT / "app" / "translations" / "gd" / "LC_MESSAGES"
LANG = re.compile(r'<html lang="([^"]+)">')
H1 = re.compile(r"<h1>(.*?)</h1>", re.DOTALL)


def _page(answer) -> tuple[str, str, str]:
    text = answer.get_data(as_text=True)
    return LANG.search(text).group(1), html.unescape(H1.search(text).group(1)).strip(), text


def _plan_id(app) -> int:
    from capmap.storage import open_store

    store = open_store(app.config["DATABASE_URL"])
    try:
        return int(store.plans().set_index("ref").loc["LOC-01", "id"])
    finally:
        store.close()


@pytest.mark.parametrize(("path", "english", "gaelic"), [
    ("/", "The planscape", "Cruth nam planaichean"),
    ("/planscape", "Which plans cover our area?", "Dè na planaichean a tha a’ còmhdachadh ar sgìre?"),
    ("/planscape/result?layer=sample_wards&codes=S13900004", "Plans covering",
     "Planaichean a tha a’ còmhdachadh"),
    ("/pins", "Report a problem where you live", "Dèan aithris air duilgheadas far a bheil thu a’ fuireach"),
    ("/plans/9999", "404 Not Found", "404 Cha deach a lorg"),
])
def test_public_pages_speak_english_by_default_and_gaelic_when_asked(client, path, english, gaelic):
    lang, heading, _ = _page(client.get(path))
    assert (lang, heading.startswith(english)) == ("en-GB", True), heading
    lang, heading, _ = _page(client.get(path + ("&" if "?" in path else "?") + "lang=gd"))
    assert (lang, heading.startswith(gaelic)) == ("gd", True), heading


def test_a_plan_page_in_gaelic_writes_its_labels_dates_and_statuses_in_gaelic(app, client):
    plan = _plan_id(app)
    _, _, english = _page(client.get(f"/plans/{plan}"))
    _, _, gaelic = _page(client.get(f"/plans/{plan}?lang=gd"))
    assert "<dt>Period</dt><dd>2023-04-01 to 2028-03-31</dd>" in english
    assert "<dt>Ùine</dt><dd>1 dhen Ghiblean 2023 gu 31 dhen Mhàrt 2028</dd>" in gaelic
    assert '<p class="summary">Plana Sgìre, le ' in gaelic  # type and owner: "owned by" is "le"
    assert "Mun phlana" in gaelic and "About the plan" not in gaelic


def test_the_switch_keeps_the_language_and_goes_back_to_the_page(client):
    answer = client.post("/lang", data={"lang": "gd", "next": "/planscape?lang=en&x=1"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/planscape?x=1"  # ?lang= would outvote the choice
    assert "capmap_lang=gd" in answer.headers["Set-Cookie"]
    assert _page(client.get("/"))[:2] == ("gd", "Cruth nam planaichean")
    assert _page(client.get("/pins"))[0] == "gd"
    client.post("/lang", data={"lang": "en", "next": "/"})
    assert _page(client.get("/"))[:2] == ("en-GB", "The planscape")


def test_a_lang_link_is_kept_like_the_switch(client):
    answer = client.get("/?lang=gd")
    assert "capmap_lang=gd" in answer.headers["Set-Cookie"]
    assert "Accept-Language" in answer.headers["Vary"] and "Cookie" in answer.headers["Vary"]
    assert _page(client.get("/planscape"))[0] == "gd"


def test_the_browser_language_is_taken_when_nothing_was_chosen(client):
    assert _page(client.get("/", headers={"Accept-Language": "gd, en;q=0.5"}))[0] == "gd"
    assert _page(client.get("/", headers={"Accept-Language": "fr, de"}))[0] == "en-GB"


@pytest.mark.parametrize("target", [
    "https://elsewhere.example/", "//elsewhere.example/x", "/\\elsewhere.example", "\\\\elsewhere.example",
    "javascript:alert(1)", "http:/elsewhere.example", "/%0d%0aSet-Cookie:x=1", "/ok\r\nX: 1", "", None,
])
def test_the_switch_never_sends_a_reader_off_the_site(client, target):
    data = {"lang": "gd"} | ({"next": target} if target is not None else {})
    answer = client.post("/lang", data=data)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "elsewhere" not in location.split("?")[0].lstrip("/") or location.startswith("/%")
    assert "\r" not in location and "\n" not in location


def test_an_unknown_language_is_refused_with_what_was_expected(client):
    answer = client.post("/lang", data={"lang": "xx", "next": "/"})
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "&#39;xx&#39;" in text and "en, gd" in text
    assert "capmap_lang" not in answer.headers.get("Set-Cookie", "")


def test_dates_and_numbers_are_written_for_the_language(app):
    with app.test_request_context("/"):
        assert i18n.day("2025-04-01") == "2025-04-01"
        assert i18n.number(1234567.4) == "1,234,567" and i18n.number(3.14159, 2) == "3.14"
        assert i18n.percent(0.125, 1) == "12.5%" and i18n.day(None, "?") == "?"
    with app.test_request_context("/?lang=gd"):
        assert i18n.day("2025-04-01") == "1 dhen Ghiblean 2025"  # CLDR's Gaelic months
        assert i18n.day("2025-12-25T10:00:00") == "25 dhen Dùbhlachd 2025"
        assert i18n.number(1234567.4) == "1,234,567"  # Gaelic groups and points as English does
        assert i18n.day("not a date") == "not a date"


def test_the_maps_and_scripts_get_their_words_in_the_language(client):
    text = client.get("/planscape?lang=gd").get_data(as_text=True)
    texts = json.loads(html.unescape(re.search(r'data-texts="([^"]+)"', text).group(1)))
    assert texts["start"] == "Tarraing sgìre" and texts["added"] == "Chaidh oisean {n} a chur ris."
    home = client.get("/?lang=gd").get_data(as_text=True)
    spec = json.loads(html.unescape(re.search(r'data-map="([^"]+)"', home).group(1)))
    names = {layer["name"] for layer in spec["layers"]}
    assert "Plana Sgìre" in names and "Locality Plan" not in names
    tips = {name for layer in spec["layers"] for name, _ in layer.get("tip", [])}
    assert {"Sgìre", "Còd", "Plana", "Inbhe"} <= tips
    assert "Cha b’ urrainn dhuinn" in spec["failed"]
    pins = client.get("/pins?lang=gd").get_data(as_text=True)
    categories = json.loads(html.unescape(re.search(r'data-categories="([^"]+)"', pins).group(1)))
    assert categories["street_lighting"] == "Solais sràide"


def test_every_pin_form_message_the_library_gives_is_shown_in_gaelic(app):
    bad = {"lon": "east", "lat": "", "category": "nonsense", "description": "", "contact": "x" * 900}
    with pytest.raises(ValidationError) as raised:
        P.read_pin_form(bad)
    long = {"lon": "-3.5", "lat": "56.2", "category": "other", "description": "y" * 9000}
    with pytest.raises(ValidationError) as too_long:
        P.read_pin_form(long)
    problems = raised.value.details + too_long.value.details
    assert len(problems) == 5
    with app.test_request_context("/?lang=gd"):
        shown = [messages.public(p) for p in problems]
    assert all(s != p for s, p in zip(shown, problems, strict=True)), shown
    assert "Feumaidh lon a bhith ’na àireamh; fhuaras 'east'" in shown
    with app.test_request_context("/"):
        assert [messages.public(p) for p in problems] == problems  # English stays as it was


def test_a_gaelic_page_shows_a_library_error_in_gaelic_but_json_keeps_english(client):
    text = client.get("/pins?postcode=zz&lang=gd").get_data(as_text=True)
    assert "Chan e còd-puist slàn a th’ ann an &#39;zz&#39;; bha dùil ri fear mar EH1 1AA" in text
    answer = client.get("/api/lookup?lon=east&lat=56&lang=gd")
    assert answer.status_code == 400 and answer.is_json
    assert answer.get_json() == client.get("/api/lookup?lon=east&lat=56").get_json()


def test_the_word_tables_name_every_library_code_in_the_librarys_english(app):
    """A page translates a code through app/words.py: a code missing there, or worded apart
    from the library, would show a page a different or an untranslated name."""
    with app.test_request_context("/"):
        assert {k: str(v) for k, v in words.LPP_STATUSES.items()} == lpp_register.LABELS
        assert {k: str(v) for k, v in words.PIN_CATEGORIES.items()} == PIN_CATEGORIES
        assert {k: str(v) for k, v in words.PLAN_TYPES.items()} == PLAN_LABELS
        assert set(words.FOLLOW_STATUSES) == set(words.PIN_STATUSES) == set(PIN_STATUSES)


def _catalogue():
    with open(GD / "messages.po", "rb") as handle:
        return read_po(handle, locale="gd")


def test_the_gaelic_catalogue_holds_every_marked_text_and_its_placeholders():
    catalogue = _catalogue()
    method_map = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
    options = {"app/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    marked = {m[2] if isinstance(m[2], str) else m[2][0]
              for m in extract_from_dir(str(ROOT), method_map, options,
                                        keywords={"_": None, "gettext": None, "ngettext": (1, 2),
                                                  "lazy_gettext": None, "_l": None})}
    held = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalogue if m.id}
    assert not sorted(marked - set(held)), "marked text missing from gd: run make translations"
    untranslated = [k for k, m in held.items() if not (m.string if isinstance(m.string, str)
                                                        else all(m.string))]
    assert not untranslated, untranslated
    assert not [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check()]
    assert catalogue.plural_forms.startswith("nplurals=4;")


def test_the_committed_mo_is_the_po_compiled():
    buffer = io.BytesIO()
    write_mo(buffer, _catalogue())
    buffer.seek(0)
    fresh = gettext.GNUTranslations(buffer)
    with open(GD / "messages.mo", "rb") as handle:
        committed = gettext.GNUTranslations(handle)
    assert committed._catalog == fresh._catalog, "messages.mo is stale: run make translations"
