"""Officers' dashboards on the sample: roles, figures, charts and CSV downloads."""

from __future__ import annotations

import csv
import io

import pytest


@pytest.mark.parametrize("url", ["/dashboard/engagement", "/dashboard/plans",
                                 "/dashboard/engagement.csv", "/dashboard/plans.csv"])
def test_anonymous_users_are_sent_to_log_in(client, url):
    answer = client.get(url)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_moderators_are_refused(moderator):
    assert moderator.get("/dashboard/engagement").status_code == 403


def test_engagement_dashboard_for_an_officer(officer):
    page = officer.get("/dashboard/engagement").get_data(as_text=True)
    assert "Responses per 1,000 residents" in page
    assert "<svg" in page and "Share of responses" in page  # the equity chart
    assert "Outreach list" in page and "Not yet heard" in page
    assert "exact" in page


def test_engagement_csv_tables(officer):
    text = officer.get("/dashboard/engagement.csv?table=areas").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 620  # every sample neighbourhood
    total = sum(int(r["responses"]) for r in rows)
    assert 4000 < total <= 5000  # area-code and point responses, less any outside
    gaps = list(csv.DictReader(io.StringIO(
        officer.get("/dashboard/engagement.csv?table=gaps").get_data(as_text=True))))
    unheard = [int(r["unheard"]) for r in gaps]
    assert unheard == sorted(unheard, reverse=True)
    equity = list(csv.DictReader(io.StringIO(
        officer.get("/dashboard/engagement.csv?table=equity").get_data(as_text=True))))
    assert [r["quintile"] for r in equity] == ["1", "2", "3", "4", "5"]
    assert officer.get("/dashboard/engagement.csv?table=secret").status_code == 400


def test_filters_change_the_figures(officer):
    def total(query: str) -> int:
        text = officer.get(f"/dashboard/engagement.csv?table=areas&{query}").get_data(as_text=True)
        return sum(int(r["responses"]) for r in csv.DictReader(io.StringIO(text)))

    everything = total("")
    online = total("channel=online")
    assert 0 < online < everything
    assert officer.get("/dashboard/engagement?from=2026-01-01&to=2025-01-01").status_code == 422


def test_plans_dashboard(officer):
    page = officer.get("/dashboard/plans").get_data(as_text=True)
    for words in ("Deprived neighbourhoods without a Locality Plan", "Plans past their review date",
                  "led by communities themselves", "Overdue actions"):
        assert words in page
    per_plan = list(csv.DictReader(io.StringIO(
        officer.get("/dashboard/plans.csv?table=per_plan").get_data(as_text=True))))
    assert sum(int(r["actions"]) for r in per_plan) == 300
    overdue = officer.get("/dashboard/plans.csv?table=overdue").get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(overdue)))) > 0


def test_csv_cells_cannot_become_formulas():
    from capmap.present.dashboards import csv_text

    text = csv_text([{"name": "=HYPERLINK(\"http://x\")", "n": -3}])
    assert "'=HYPERLINK" in text and ",-3" in text
