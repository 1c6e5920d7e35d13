"""A reader switches the interface to Gaelic with the header's button, and it stays Gaelic: on
the next page, in the draw control the map script builds, in the map's layer control, and back
to English with the same switch."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_a_reader_switches_to_gaelic_and_it_stays_until_switched_back(page, live_server):
    page.goto("/planscape?q=x#search")
    page.get_by_role("button", name="Gàidhlig").click()
    page.wait_for_url("**/planscape?q=x")  # back on the same page, the same query
    assert page.locator("html").get_attribute("lang") == "gd"
    page.get_by_role("heading", level=1, name="Dè na planaichean a tha a’ còmhdachadh ar sgìre?").wait_for()
    # The draw control is built by draw.js from the page's data-texts.
    page.get_by_role("button", name="Tarraing sgìre").wait_for()
    page.get_by_role("button", name="Tarraing sgìre").click()
    page.get_by_role("button", name="Sguir dhen tarraing").wait_for()
    assert "A’ tarraing" in page.locator("#map-status").inner_text()

    page.get_by_role("link", name="Mapa", exact=True).click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "gd"
    page.locator("[data-map][data-loaded]").wait_for(state="attached")
    assert "Plana Sgìre" in page.locator(".leaflet-control-layers").inner_text()

    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "en-GB"
    page.get_by_role("heading", level=1, name="The planscape").wait_for()
