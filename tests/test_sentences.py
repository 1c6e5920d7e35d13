"""The sentences the library writes, written again for a page: word for word the library's on
an English page (so files, JSON and pages agree), in Gaelic on a Gaelic one."""

from __future__ import annotations

import html

import pytest

from app import sentences
from capmap.services import places, planscape
from capmap.services.lpp_notify import tolerance_sentence
from capmap.services.outcomes import over_sentence
from capmap.spatial.slivers import DEFAULT_TOLERANCE, SliverTolerance

TOLERANCES = [DEFAULT_TOLERANCE, SliverTolerance(max_share=0.02, max_width_m=2.5),
              SliverTolerance(max_share=0.125, max_width_m=0)]
AREAS = [None, {"areas": 0, "residents": 0.0, "areas_cut": 0},
         {"areas": 1, "residents": 812.4, "areas_cut": 0},
         {"areas": 746, "residents": 631902.6, "areas_cut": 1},
         {"areas": 12, "residents": 9101.0, "areas_cut": 3}]
MEASURES = [planscape.LAND_MEASURE.format(layer="dz11"), planscape.AREA_MEASURE,
            places.PARTIAL_MEASURE]


@pytest.mark.parametrize("tolerance", TOLERANCES)
def test_the_sliver_and_notification_rules_read_as_the_librarys_in_english(app, tolerance):
    with app.test_request_context("/"):
        assert sentences.sliver_rule(tolerance.described()) == tolerance.sentence()
        for adjoin_m in (5.0, 0.0, 12.5):
            given = {"adjoin_m": adjoin_m, "slivers": tolerance.described()}
            assert sentences.notify_tolerance(given) == tolerance_sentence(adjoin_m, tolerance)


@pytest.mark.parametrize("area", AREAS)
def test_what_outcomes_are_over_reads_as_the_librarys_in_english(app, area):
    with app.test_request_context("/"):
        assert sentences.over(area) == over_sentence(area)


def test_the_measures_read_as_the_librarys_in_english_and_an_unknown_one_as_given(app):
    with app.test_request_context("/"):
        assert [sentences.measure(m) for m in MEASURES] == MEASURES
        assert sentences.measure("some new measure") == "some new measure"


def test_the_sentences_in_gaelic_keep_their_values(app):
    with app.test_request_context("/?lang=gd"):
        rule = sentences.sliver_rule(SliverTolerance(0.02, 2.5).described())
        assert rule == ("tar-lùban nas lugha na 2.0% dhen sgìre air an deach faighneachd agus "
                        "dhen phlana, agus nas caoile na 2.5 m")
        assert sentences.over(AREAS[3]).startswith(
            "thar luchd-còmhnaidh: 631,903, sònaichean dàta: 746;")
        assert "sònaichean air an gearradh leis a’ chrìoch: 1," in sentences.over(AREAS[3])
        assert sentences.measure(MEASURES[0]).startswith(
            "fearann: a’ phàirt am broinn breath nan nàbaidheachdan (dz11)")
        told = sentences.notify_tolerance({"adjoin_m": 5.0, "slivers": DEFAULT_TOLERANCE.described()})
        assert "taobh a-staigh 5 m dhith" in told and rule not in told


def test_a_gaelic_result_page_has_no_library_english(client):
    path = "/planscape/result?layer=sample_wards&codes=S13900004"
    english = html.unescape(client.get(path).get_data(as_text=True))
    gaelic = html.unescape(client.get(path + "&lang=gd").get_data(as_text=True))
    land = planscape.LAND_MEASURE.split(" (")[0]  # "land: the part inside the neighbourhood layer"
    assert land in english and land not in gaelic
    assert "fearann: a’ phàirt am broinn breath nan nàbaidheachdan" in gaelic
    assert DEFAULT_TOLERANCE.sentence() in english and DEFAULT_TOLERANCE.sentence() not in gaelic
    assert "residents of" in english and "residents of" not in gaelic
