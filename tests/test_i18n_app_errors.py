"""The app's own messages (refusals of a request, and what staff are told after a change) in the
reader's language on a page, and in English in JSON, as the library's are."""

from __future__ import annotations

import html
import io

import pytest

from tests.conftest import logged_in, plan_ids


def _text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


PUBLIC = [
    ("/planscape/result?format=xls", 400, "format 'xls' is not offered; expected one of",
     "chan eil fòrmat 'xls' ri fhaighinn; bha dùil ri aon de"),
    ("/planscape/result", 400, "say which area: search for it, click the map",
     "innis dè an sgìre: lorg i, briog air a’ mhapa"),
    ("/lpp/notify?layer=sample_wards&codes=S13900004&adjoin_m=99999", 400,
     "adjoin_m '99999'; expected a number of metres from 0 to",
     "adjoin_m '99999'; bha dùil ri àireamh mheatairean o 0 gu"),
]


@pytest.mark.parametrize(("path", "status", "english", "gaelic"), PUBLIC)
def test_a_refused_request_is_told_in_the_readers_language(client, path, status, english, gaelic):
    answer = client.get(path)
    assert answer.status_code == status and english in _text(answer)
    answer = client.get(path + ("&" if "?" in path else "?") + "lang=gd")
    assert answer.status_code == status and gaelic in _text(answer), _text(answer)[-600:]
    assert english not in _text(answer)


def test_an_area_refused_on_a_form_is_told_in_gaelic(client):
    empty = client.post("/planscape/result?lang=gd", data={"geometry": ""})
    assert empty.status_code == 400
    assert "cha deach sgìre a thoirt seachad: tarraing ioma-cheàrnach" in _text(empty)
    wrong = client.post("/planscape/result?lang=gd",
                        data={"file": (io.BytesIO(b"not a boundary"), "area.txt")})
    assert wrong.status_code == 400 and "tagh faidhle crìche a chrìochnaicheas le" in _text(wrong)


def test_json_keeps_english_whatever_the_language(client):
    answer = client.get("/planscape/result?format=xls&lang=gd",
                        headers={"Accept": "application/json"})
    assert answer.status_code == 400
    assert answer.get_json()["message"].startswith("format 'xls' is not offered; expected one of")
    # Downloads answer in JSON; a page's ?lang= is no unknown parameter there.
    exported = client.get("/export/plans.geojson?lang=gd")
    exported.close()
    assert exported.status_code == 200


def test_staff_are_refused_and_told_in_gaelic(app, client, officer):
    table = officer.get("/dashboard/engagement.csv?table=nope&lang=gd")
    assert table.status_code == 400
    assert "chan eil clàr 'nope' ri fhaighinn; bha dùil ri aon de areas" in _text(table)
    refused = officer.get("/moderate?lang=gd")
    assert refused.status_code == 403
    assert "feumar aon de na dreuchdan seo: moderator" in _text(refused)
    sent_to_login = client.get("/moderate?lang=gd", follow_redirects=True)
    assert "Clàraich a-steach gus an duilleag sin fhaicinn." in _text(sent_to_login)
    assert "Please log in to see that page." in _text(app.test_client().get(
        "/moderate", follow_redirects=True))


def test_a_moderators_decision_is_confirmed_in_gaelic(app, moderator):
    pin = moderator.get("/moderate?lang=gd")
    pin_id = int(_text(pin).split('action="/moderate/pins/')[1].split('"')[0])
    done = moderator.post(f"/moderate/pins/{pin_id}?lang=gd", data={"decision": "publish"},
                          follow_redirects=True)
    assert f"Prìne {pin_id}: foillsichte." in _text(done)
    wrong = moderator.post(f"/moderate/pins/{pin_id}?lang=gd", data={"decision": "burn"})
    assert wrong.status_code == 422 and f"Prìne {pin_id}: " in _text(wrong)


def test_a_register_step_is_confirmed_in_gaelic_and_another_councils_refused(app, officer):
    plan = plan_ids(app)["LPP-01"]
    form = officer.get(f"/lpp/plans/{plan}/register?lang=gd")
    assert "Now" not in _text(form) and "Air a chur a-steach" in _text(form)  # LPP-01 is submitted
    done = officer.post(f"/lpp/plans/{plan}/register?lang=gd",
                        data={"to": "validated", "on": "2026-11-20"}, follow_redirects=True)
    assert "LPP-01: air a dhearbhadh air 20" in _text(done)
    other = logged_in(app, "fearghas", ["officer"], ["S12000049"])
    refused = other.get(f"/lpp/plans/{plan}/register?lang=gd")
    assert refused.status_code == 403
    assert "chan fhaod an cunntas agad clàr na comhairle S12900001 atharrachadh; tha e " \
           "cuingichte ri S12000049" in _text(refused)
