"""The progress report journey: from a plan's page to its report, another year, and print."""

from __future__ import annotations

import pytest

from tests.browser.test_accessibility import _plan_id

pytestmark = pytest.mark.browser


def test_a_resident_reads_a_plans_report_for_a_chosen_year_and_prints_it(page, live_server):
    page.goto(f"/plans/{_plan_id(live_server)}")
    page.get_by_role("link", name="Progress report by reporting year").click()
    page.get_by_role("heading", level=1).filter(has_text="Progress report").wait_for()
    page.get_by_label("Reporting year").select_option("2024")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**/report?year=2024")
    assert "Progress report 2024-25" in page.get_by_role("heading", level=1).inner_text()
    table = page.get_by_role("table", name="Actions by status at the end of 2023-24 and of 2024-25")
    assert table.locator("tbody tr").count() == 5
    page.emulate_media(media="print")
    assert not page.get_by_label("Reporting year").is_visible()
    assert page.get_by_role("heading", name="Every action").is_visible()
