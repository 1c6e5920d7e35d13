"""The Local Place Plan register in Chromium: the public page draws the registered and removed
plans from the plans' tiles; an officer moves a plan on through the form (CSRF on) and a step
the register does not allow is refused with the reason on the page."""

from __future__ import annotations

import pytest

from capmap.storage import open_store
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

COUNCIL = "S12900001"


def _plan_id(live_server, ref: str) -> int:
    store = open_store(live_server.database_url)
    try:
        return store.plan_ids()[ref]
    finally:
        store.close()


def test_the_public_register_draws_its_plans_from_tiles(page, live_server, traffic):
    page.goto("/lpp/register")
    page.get_by_role("link", name="Glenarden").click()
    page.get_by_role("heading", name="Local Place Plan register of Glenarden").wait_for()
    page.wait_for_selector("#map path.leaflet-interactive", state="attached")
    assert any("/tiles/plans/" in url and url.endswith(".mvt") for url in traffic.requests)
    assert not any(url.endswith(".geojson") for url in traffic.requests)
    rows = page.locator("table.plans tbody tr")
    assert rows.count() == 2
    assert "Removed from the register" in rows.nth(1).inner_text()


def test_an_officer_moves_a_plan_on_and_a_refused_step_is_explained(page, live_server,
                                                                     traffic):
    traffic.expect_error("422")
    log_in(page, live_server, "lpp-officer", ["officer"])
    page.goto(f"/lpp/register/{COUNCIL}")
    page.get_by_role("link", name="Next step for LPP-04").click()
    page.get_by_label("Submitted").check()
    page.get_by_label("Date of the step").fill("2026-11-20")
    with page.expect_navigation():
        page.get_by_role("button", name="Record the step").click()
    page.get_by_role("status").filter(has_text="LPP-04: submitted on 2026-11-20").wait_for()
    store = open_store(live_server.database_url)
    try:
        entry = store.lpp_entry(_plan_id(live_server, "LPP-04"))
    finally:
        store.close()
    assert (entry["status"], entry["submitted_on"].isoformat(), entry["reason"]) == (
        "submitted", "2026-11-20", "")
    # A removal without its reason: the form comes back (422) saying what is missing, with the
    # step still chosen, and the entry is unchanged.
    page.goto(f"/lpp/plans/{_plan_id(live_server, 'LPP-02')}/register")
    page.get_by_label("Removed from the register").check()
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Record the step").click()
    assert navigation.value.status == 422
    assert "reason: none given; moving to removed needs the reason the authority gives" in \
        page.get_by_role("alert").inner_text()
    assert page.get_by_label("Removed from the register").is_checked()
