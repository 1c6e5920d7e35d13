"""The officers' dashboards in Scottish Gaelic: headings, tables, filters, the equity chart, the
legend, the scope and the maps' names in the reader's language, dates for the language; the
English pages read as before (the scope stated as the JSON states it) and the CSV and JSON
downloads keep English."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from types import SimpleNamespace
from urllib.parse import quote_plus

import pandas as pd
import pytest
from babel.dates import format_date

from app import dashboard_words
from capmap.services.scope import Scope

CAMPAIGN = "Local Place Plan Kirkton"
ENGAGEMENT_QUERIES = ["", f"campaign={quote_plus(CAMPAIGN)}",
                      f"campaign={quote_plus(CAMPAIGN)}&scope=all&channel=online"]


def _text(answer) -> str:
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _page(answer) -> tuple[str, dict]:
    """A page's text with its entities read (the map's description apart), and its map."""
    raw = _text(answer)
    described = json.loads(html.unescape(re.search(r'data-map="([^"]*)"', raw).group(1)))
    return html.unescape(re.sub(r'data-map="[^"]*"', "", raw)), described


@pytest.mark.parametrize("query", ENGAGEMENT_QUERIES)
def test_the_english_engagement_page_states_its_scope_as_the_json_does(officer, query):
    report = officer.get(f"/dashboard/engagement.json?{query}").get_json()
    page, _ = _page(officer.get(f"/dashboard/engagement?{query}"))
    scope = report["scope"]
    assert f"are {scope['statement']} ({scope['rule']})" in page
    assert "<h1>Engagement coverage</h1>" in page
    assert ('aria-label="Share of responses against share of population by SIMD quintile '
            '(Q1 most deprived)"') in page
    assert re.search(r"<li><span class=\"swatch\"[^>]*></span>\d+\.\d to \d+\.\d per 1,000</li>",
                     page)
    assert re.search(r"\d+\.\d and over per 1,000</li>", page)
    assert f"{report['responses']} responses" in page
    assert '<option value="street_stall" >street stall</option>' in page


def test_the_engagement_page_in_gaelic(officer):
    query = f"campaign={quote_plus(CAMPAIGN)}"
    scope = officer.get(f"/dashboard/engagement.json?{query}").get_json()["scope"]
    page, described = _page(officer.get(f"/dashboard/engagement?{query}&lang=gd"))
    assert '<html lang="gd">' in page
    for gaelic in ("<h1>Còmhdach a’ chom-pàirteachaidh</h1>",
                   "<h2>Beàrnan: luchd-còmhnaidh nach cuala sinn uapa fhathast</h2>",
                   "<h2>Cothromachd a rèir còigeamh SIMD</h2>",
                   '<th scope="col">Gun chluinntinn fhathast</th>',
                   "Tha na figearan mionaideach.",
                   '<option value="street_stall" >stàile sràide</option>',
                   "<button type=\"submit\">Seall</button>",
                   # the chart: its title, series and quintiles
                   'aria-label="Cuibhreann dhe na freagairtean an aghaidh cuibhreann dhen t-sluagh '
                   'a rèir còigeamh SIMD (C1 as motha fo bhochdainn)"',
                   ">Cuibhreann dhen t-sluagh</text>", ">C1</text>",
                   # the scope, worded from the JSON's figures, and how it was chosen
                   f"(sgìrean: {scope['areas']:,}, sluagh: {scope['population']:,})",
                   f"(an iomairt '{CAMPAIGN}': na comhairlean anns a bheil co-dhiù"):
        assert gaelic in page
    assert re.search(r"\d+\.\d gu \d+\.\d airson gach 1,000</li>", page)
    for english in ("Engagement coverage", "Share of responses", "Not yet heard", "per 1,000",
                    scope["statement"], scope["rule"], "street stall"):
        assert english not in page
    layer = described["layers"][0]
    assert layer["name"] == "Freagairtean airson gach 1,000 neach-còmhnaidh"
    assert layer["tip_values"] == ["Freagairtean", "Gach 1,000"]


def test_the_plans_page_in_english_reads_as_before(officer):
    page, described = _page(officer.get("/dashboard/plans"))
    assert (f"Only plans in force on {date.today().isoformat()} count: a status of adopted, "
            "approved, current, active, published, in force, under review (or none recorded)"
            ) in page
    assert "Council-wide plans (loip, service plan) are not local plans." in page
    assert "Locality Plan in force covers at least 50%</li>" in page
    assert re.search(r"<p>300 actions; \d+ overdue; \d+% led by communities themselves\.</p>", page)
    assert '<th scope="col">in progress</th>' in page
    assert [la["name"] for la in described["layers"]][:2] == [
        "Coverage by local plans", "Local Outcomes Improvement Plan"]


def test_the_plans_page_in_gaelic(officer):
    page, described = _page(officer.get("/dashboard/plans?lang=gd"))
    today = format_date(date.today(), "d MMMM y", locale="gd")
    for gaelic in ("<h1>Còmhdach phlanaichean is adhartas ghnìomhan</h1>",
                   "<h2>Nàbaidheachdan fo bhochdainn gun Phlana Sgìre</h2>",
                   "<h3>Gnìomhan air dheireadh</h3>",
                   f"Chan eil ach planaichean a tha an gnìomh air {today} a’ cunntadh: inbhe "
                   "air gabhail ris, air aontachadh, làithreach, gnìomhach, foillsichte, an gnìomh,"
                   " ga ath-sgrùdadh",
                   "Plana Sgìre an gnìomh a’ còmhdachadh co-dhiù 50%</li>",
                   '<th scope="col">a’ dol air adhart</th>', '<th scope="col">Na stad</th>',
                   "<caption>A rèir seòrsa stiùiridh</caption>",
                   "Luchdaich a-nuas mar CSV"):
        assert gaelic in page
    assert re.search(r"<p>Gnìomhan: 300; air dheireadh: \d+; air an stiùireadh leis na "
                     r"coimhearsnachdan fhèin: \d+%\.</p>", page)
    # each overdue action's target date written for the language
    overdue = officer.get("/dashboard/plans.json").get_json()["overdue"]
    cells = re.findall(r"<td>([^<]*)</td><td>[^<]*</td></tr>", page.split('class="overdue"')[1])
    assert overdue and cells == [format_date(date.fromisoformat(a["target_date"][:10]),
                                             "d MMMM y", locale="gd") for a in overdue]
    for english in ("Plan coverage and action progress", "Overdue actions", "in progress",
                    "Download as CSV"):
        assert english not in page
    names = [la["name"] for la in described["layers"]]
    assert names[:3] == ["Còmhdach le planaichean ionadail", "Plana Leasachadh Bhuilean Ionadail",
                         "Plana Sgìre"]
    assert names[-1] == "Gnìomhan le àite"


@pytest.mark.parametrize("url", ["/dashboard/engagement.csv?table=gaps",
                                 "/dashboard/plans.csv?table=overdue",
                                 "/dashboard/engagement.json", "/dashboard/plans.json"])
def test_downloads_keep_english_in_gaelic(officer, url):
    english = _text(officer.get(url))
    gaelic = _text(officer.get(f"{url}{'&' if '?' in url else '?'}lang=gd"))
    assert gaelic == english


def _described(populations: list, kind: str = "area") -> dict:
    areas = pd.DataFrame({"code": [f"W{i}" for i in range(len(populations))],
                          "population": populations})
    state = SimpleNamespace(layer=SimpleNamespace(title="Test zones", id="zones"))
    return Scope(kind, areas, "West", "the areas whose council is S12000049", []).describe(state)


@pytest.mark.parametrize(("populations", "kind"), [([1200, 800], "area"), ([1200, None], "area"),
                                                   ([1200, None, None], "layer")])
def test_the_scope_statement_is_the_librarys_in_english_and_reworded_in_gaelic(
        app, populations, kind):
    described = _described(populations, kind)
    parts = {"layer": "Test zones", "unknown_population": populations.count(None)}
    with app.test_request_context("/"):
        assert dashboard_words.scope_statement(described, parts) == described["statement"]
    with app.test_request_context("/?lang=gd"):
        gaelic = dashboard_words.scope_statement(described, parts)
    where = " ann an West" if kind != "layer" else ""
    assert gaelic.startswith(f"thar sgìrean Test zones{where} (sgìrean: {len(populations)}, "
                             f"sluagh: {sum(p or 0 for p in populations):,}")
    assert ("sgìrean gun fhios air an t-sluagh" in gaelic) == (None in populations)


@pytest.mark.parametrize(("rule", "gaelic"), [
    ("every area of the layer", "gach sgìre sa bhreath"),
    ("the area W1 of zones", "an sgìre W1 sa bhreath zones"),
    ("the areas whose council is S12000049", "na sgìrean aig a bheil S12000049 mar chomhairle"),
    ("the areas whose inner point is inside S13000001 of wards",
     "na sgìrean aig a bheil am puing a-staigh taobh a-staigh S13000001 sa bhreath wards"),
    ("campaign 'GLA' has no response in this layer: every area",
     "chan eil freagairt sam bith aig an iomairt 'GLA' sa bhreath seo: gach sgìre"),
    ("campaign 'GLA': the councils holding at least 2% of its responses",
     "an iomairt 'GLA': na comhairlean anns a bheil co-dhiù 2% dhe na freagairtean aice"),
    ("campaign 'GLA': the areas holding at least 2% of its responses",
     "an iomairt 'GLA': na sgìrean anns a bheil co-dhiù 2% dhe na freagairtean aice"),
])
def test_each_scope_rule_reads_the_same_in_english_and_in_gaelic_when_asked(app, rule, gaelic):
    with app.test_request_context("/"):
        assert dashboard_words.scope_rule(rule) == rule
    with app.test_request_context("/?lang=gd"):
        assert dashboard_words.scope_rule(rule) == gaelic
        assert dashboard_words.scope_rule("a rule of a new shape") == "a rule of a new shape"
