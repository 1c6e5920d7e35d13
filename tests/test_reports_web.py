"""Progress report pages, their JSON and CSV, and the Atom feeds, on the sample data; the
report's statuses checked against the sample's history file walked in plain Python."""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest

from app import i18n
from capmap.storage import open_store
from tests.conftest import SAMPLE

ATOM = "{http://www.w3.org/2005/Atom}"
COUNCIL = "S12900001"


def _plan(app, ref="LOIP"):
    store = open_store(app.config["DATABASE_URL"])
    try:
        return store.plan_ids()[ref]
    finally:
        store.close()


def _walked(end: datetime) -> dict[str, str | None]:
    """Each sample action's status at `end`, walking action_history.csv row by row."""
    status: dict[str, str | None] = {}
    with (SAMPLE / "action_history.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            at = datetime.fromisoformat(row["at"])
            ref = row["action_ref"]
            if row["field"] == "created":
                status.setdefault(ref, "not_started" if at < end else None)
            elif row["field"] == "status" and at < end:
                status[ref] = row["new_value"]
    return status


def test_the_report_matches_the_history_walked_by_hand(app, client):
    store = open_store(app.config["DATABASE_URL"])
    refs = set(store.plan_actions([_plan(app)])["ref"])
    store.close()
    answer = client.get(f"/plans/{_plan(app)}/report.json?year=2025")
    assert answer.status_code == 200
    report = answer.get_json()
    assert report["year"]["label"] == "2025-26" and report["year"]["complete"] is True
    now = _walked(datetime(2026, 3, 31, 23, tzinfo=UTC))   # 1 April 2026 00:00 BST
    before = _walked(datetime(2025, 3, 31, 23, tzinfo=UTC))
    mine = {a["ref"]: (a["previous"], a["status"]) for a in report["actions"]}
    # Every action of the plan that was there by the year's end, and no other.
    assert mine == {ref: (before[ref], now[ref]) for ref in refs if now[ref] is not None}
    counts = Counter(s for s, _ in mine.values() if s)
    assert {r["status"]: r["previous"] for r in report["statuses"] if r["previous"]} == counts
    assert report["totals"]["moved"] == sum(a != b for a, b in mine.values()) > 0


def test_page_and_csv(app, client):
    plan = _plan(app)
    page = client.get(f"/plans/{plan}/report?year=2024")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Progress report 2024-25" in text
    assert f'href="/plans/{plan}/updates.atom"' in text and "Status changes in the year" in text
    answer = client.get(f"/plans/{plan}/report.csv?year=2024")
    assert answer.status_code == 200 and "progress-LOIP-2024-25.csv" in \
        answer.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    report = client.get(f"/plans/{plan}/report.json?year=2024").get_json()
    assert [r["action_ref"] for r in rows] == [a["ref"] for a in report["actions"]]
    assert {r["year"] for r in rows} == {"2024-25"}
    # A Gaelic page writes each target date for its reader (the CSV keeps ISO dates).
    dated = next(a for a in report["actions"] if a["target_date"])
    gaelic = client.get(f"/plans/{plan}/report?year=2024&lang=gd").get_data(as_text=True)
    with app.test_request_context("/?lang=gd"):
        written = i18n.day(dated["target_date"])
    assert written != dated["target_date"] and written in gaelic
    assert dated["target_date"] not in gaelic


@pytest.mark.parametrize("suffix", ["", ".json", ".csv"])
@pytest.mark.parametrize(("year", "said"), [("twenty", "'twenty' is not a year"),
                                            ("1999", "1999 is out of range")])
def test_a_bad_year_is_a_400_naming_it(app, client, suffix, year, said):
    answer = client.get(f"/plans/{_plan(app)}/report{suffix}?year={year}")
    assert answer.status_code == 400 and said in html.unescape(answer.get_data(as_text=True))


@pytest.mark.parametrize("path", ["/plans/9999/report", "/plans/9999/report.json",
                                  "/plans/9999/report.csv", "/plans/9999/updates.atom"])
def test_an_unknown_plan_is_a_404(client, path):
    answer = client.get(path)
    assert answer.status_code == 404 and "there is no plan 9999" in answer.get_data(as_text=True)


def _feed(client, url, **headers):
    answer = client.get(url, headers=headers)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.mimetype == "application/atom+xml"
    return answer, ET.fromstring(answer.get_data())


def _check_atom(feed: ET.Element) -> list[ET.Element]:
    """RFC 4287's required elements: the feed's id, title, updated, author (or each entry's)
    and a self link; each entry's id, title, updated and an alternate link."""
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated"):
        assert len(feed.findall(f"{ATOM}{tag}")) == 1 and feed.find(f"{ATOM}{tag}").text
    assert {link.get("rel") for link in feed.findall(f"{ATOM}link")} == {"self", "alternate"}
    entries = feed.findall(f"{ATOM}entry")
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{tag}")) == 1 and entry.find(f"{ATOM}{tag}").text
        assert entry.find(f"{ATOM}id").text.startswith("urn:uuid:")
        assert entry.find(f"{ATOM}author/{ATOM}name").text
        assert entry.find(f"{ATOM}link").get("href").startswith("http://localhost/plans/")
        datetime.fromisoformat(entry.find(f"{ATOM}updated").text)  # RFC 3339
    assert len({e.find(f"{ATOM}id").text for e in entries}) == len(entries)
    return entries


def test_feeds_are_atom_newest_first_and_name_no_one(app, client, officer):
    plan = _plan(app, "LOC-01")
    store = open_store(app.config["DATABASE_URL"])
    action = int(store.plan_actions([plan])["id"].iloc[0])
    store.close()
    assert officer.post(f"/actions/{action}/edit", data={"status": "stalled",
                        "progress_note": "Waiting for the hall"}).status_code == 303
    for url in (f"/plans/{plan}/updates.atom", f"/updates.atom?council={COUNCIL}",
                "/updates.atom"):
        answer, feed = _feed(client, url)
        entries = _check_atom(feed)
        assert 0 < len(entries) <= 50
        times = [e.find(f"{ATOM}updated").text for e in entries]
        assert times == sorted(times, reverse=True)
        # The edit's two changes (status, note), the newest entries.
        newest = "".join(ET.tostring(e, encoding="unicode") for e in entries[:2])
        assert "to stalled" in newest and "to Waiting for the hall" in newest
        assert "olivia" not in answer.get_data(as_text=True)
        again = client.get(url, headers={"If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304
    public = client.get(f"/plans/{plan}/report.json?year=2026").get_json()
    staff = officer.get(f"/plans/{plan}/report.json?year=2026").get_json()
    assert public["notes"][-1]["by"] == "council officer" and staff["notes"][-1]["by"] == "olivia"


@pytest.mark.parametrize(("council", "status", "said"), [
    ("S12999999", 404, "no plan names council 'S12999999'"),
    ("S129\u200b00001", 400, "U+200B")])
def test_an_unknown_or_unreadable_council_is_refused(client, council, status, said):
    answer = client.get("/updates.atom", query_string={"council": council})
    assert answer.status_code == status and said in html.unescape(answer.get_data(as_text=True))
