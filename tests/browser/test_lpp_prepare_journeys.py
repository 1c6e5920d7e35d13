"""Preparing a Local Place Plan, end to end in Chromium over the sample: from the finder's
result to the plans to have regard to and the notification list, from a draft plan's page to
both (printed), and a council officer importing councillors through the form."""

from __future__ import annotations

import csv

import pytest

from app.store import get_engine, get_store
from capmap.services.lpp_notify import notification_list
from capmap.services.lpp_regard import plan_query, regard_report
from capmap.services.planscape import codes_query
from tests.browser.conftest import log_in
from tests.conftest import SAMPLE

pytestmark = pytest.mark.browser
WARD = "S13900004"


def _plan_id(live_server, ref: str) -> int:
    with live_server.app.app_context():
        return get_store().plan_ids()[ref]


def _row_titles(page, section: str) -> list[str]:
    return page.eval_on_selector_all(
        f"h2#{section} + div table tbody th[scope=row] > a",
        "links => links.filter(a => !a.rel).map(a => a.textContent.trim())")


def test_from_the_finder_to_the_plans_to_have_regard_to_and_who_to_tell(page, live_server):
    with live_server.app.app_context():
        engine, store = get_engine(), get_store()
        query = codes_query(engine, "sample_wards", [WARD])
        report = regard_report(engine, store, query)
        notify = notification_list(engine, store, query)
    page.goto(f"/planscape/result?layer=sample_wards&codes={WARD}")
    page.get_by_role("link", name="Plans to have regard to").click()
    page.get_by_role("heading", name="Locality Plans and the Local Outcomes Improvement Plan"
                     ).wait_for()
    assert _row_titles(page, "statutory") == [p["title"] for p in report["statutory_plans"]]
    assert _row_titles(page, "other") == [p["title"] for p in report["other_plans"]]
    page.get_by_role("link", name="Who to send the proposed plan to (notification list)").click()
    page.get_by_role("heading", name="Councillors for the area").wait_for()
    shown = page.eval_on_selector_all("h2#councillors + div table tbody tr",
                                      "rows => rows.map(r => r.cells[r.cells.length - 3]"
                                      ".textContent.trim())")
    assert shown == [c["name"] for w in notify["wards"] for c in w["councillors"]]
    councils = page.eval_on_selector_all("h2#community-councils + div table tbody th",
                                         "cells => cells.map(c => c.textContent.trim())")
    assert councils == [f"{c['name']} ({c['code']})" for c in notify["community_councils"]]
    assert any(c["relation"] == "adjoins" for c in notify["community_councils"])
    assert page.get_by_text("comes within 5 m of it").is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="This list as CSV").click()
    with open(download.value.path(), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["name"] for r in rows] == [r["name"] for r in notify["recipients"]]


def test_a_draft_plans_page_leads_to_both_lists_ready_to_print(page, live_server):
    plan_id = _plan_id(live_server, "LPP-01")
    with live_server.app.app_context():
        engine, store = get_engine(), get_store()
        report = regard_report(engine, store, plan_query(engine, plan_id))
    page.goto(f"/plans/{plan_id}")
    page.get_by_role("link", name="Plans to have regard to").click()
    page.wait_for_url(f"**/lpp/plans/{plan_id}/regard")
    first = report["statutory_plans"][0]
    row = page.locator("h2#statutory + div table tbody tr").first
    assert first["title"] in row.inner_text()
    assert f"{100 * first['share_of_query']:.0f}%" in row.inner_text()
    page.emulate_media(media="print")
    assert not page.get_by_role("link", name="This report as CSV").is_visible()
    assert page.get_by_role("heading", name="Other plans").is_visible()
    page.emulate_media(media="screen")
    page.get_by_role("link", name="Who to send the proposed plan to (notification list)").click()
    page.wait_for_url(f"**/lpp/plans/{plan_id}/notify")
    page.get_by_role("heading", name="Community councils").wait_for()


def test_an_officer_imports_councillors_and_a_bad_file_is_refused_whole(page, live_server,
                                                                         traffic, tmp_path):
    traffic.expect_error("422")  # the refused file's page comes back as 422
    log_in(page, live_server, "cllr-officer", ["officer"])
    ward = "S13900010"
    with open(SAMPLE / "councillors.csv", encoding="utf-8") as handle:
        original = [line for line in handle.read().splitlines()[1:] if line.startswith(ward)]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"ward_code,name,party,email\n{ward},Una New,,\nS13900099,Vic Odd,,\n")
    page.goto("/admin/import/councillors")
    page.get_by_label("Councillors CSV").set_input_files(str(bad))
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Import").click()
    assert navigation.value.status == 422
    alert = page.get_by_role("alert")
    assert "row 3, column ward_code: 'S13900099' is not the code of a ward" in alert.inner_text()
    good = tmp_path / "good.csv"
    good.write_text(f"ward_code,name,party,email\n{ward},Una New,Independent,una@example.org\n")
    page.get_by_label("Councillors CSV").set_input_files(str(good))
    page.get_by_role("button", name="Import").click()
    page.get_by_role("status").filter(has_text="Stored 1 councillors.").wait_for()
    page.goto(f"/lpp/notify?layer=sample_wards&codes={ward}")
    assert page.get_by_role("link", name="una@example.org").is_visible()
    restore = tmp_path / "restore.csv"  # the live server is shared: put the sample back
    restore.write_text("ward_code,name,party,email\n" + "\n".join(original) + "\n")
    page.goto("/admin/import/councillors")
    page.get_by_label("Councillors CSV").set_input_files(str(restore))
    page.get_by_role("button", name="Import").click()
    page.get_by_role("status").filter(has_text=f"Stored {len(original)} councillors.").wait_for()
