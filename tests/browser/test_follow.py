"""The resident's loop in a browser: drop a pin, open its follow link, see the moderator's
decision and public note there; the follow page passes axe and fits 320 px."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.browser.test_accessibility import BAD_IMPACTS, NARROW, SETTLED, WIDEST
from tests.browser.test_journeys import _moderate

pytestmark = pytest.mark.browser


def test_drop_a_pin_follow_it_and_see_the_moderation(page, live_server):
    from axe_playwright_python.sync_playwright import Axe

    page.goto("/pins")
    code = page.locator("#area option").nth(2).get_attribute("value")
    page.goto(f"/pins?area={code}")
    page.get_by_label("What kind of problem?").select_option("street_lighting")
    page.get_by_label("What is the problem?").fill("Follow probe: the lamp by the bus stop is out.")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Send report").click()
    assert sent.value.status == 201
    link = page.get_by_label("Your follow link").input_value()
    assert "/pins/follow/" in link
    page.get_by_role("link", name="Open your follow page").click()
    page.wait_for_url("**/pins/follow/*")
    assert "waiting for a moderator" in page.locator("#pin-status").inner_text()
    results = Axe().run(page).response
    bad = [v["id"] for v in results["violations"] if v["impact"] in BAD_IMPACTS]
    assert not bad, bad

    log_in(page, live_server, "morag-follow", ["moderator"])
    pin_id = _moderate(page, "Follow probe")
    page.goto(f"/moderate/pins/{pin_id}")
    page.locator(f"#note-publish-{pin_id}").fill("Passed to the street lighting team.")
    with page.expect_navigation():
        page.get_by_role("button", name="Publish").click()

    page.goto(link)
    assert "on the public map" in page.locator("#pin-status").inner_text()
    assert page.locator("q.public-note").inner_text() == "Passed to the street lighting team."
    page.set_viewport_size({"width": NARROW, "height": 640})
    page.wait_for_function(f"window.innerWidth === {NARROW}")
    page.wait_for_function(SETTLED, arg=NARROW)
    widths = page.evaluate(WIDEST)
    assert widths["scroll"] <= NARROW + 1, widths
