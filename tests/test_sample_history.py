"""The sample's action histories: every action added once, each history chaining to the status,
note and `updated` day actions.csv gives it, status changes in both reporting years."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime

from capmap.services.reports import year_of
from tests.conftest import SAMPLE


def _rows(name: str) -> list[dict]:
    with (SAMPLE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_history_chains_to_the_action_as_it_is_now():
    actions = {a["ref"]: a for a in _rows("actions.csv")}
    history = _rows("action_history.csv")
    assert Counter(r["action_ref"] for r in history if r["field"] == "created") == \
        Counter(list(actions))
    walked: dict[str, dict] = {}
    for row in history:  # in the file's order, which is each action's time order
        state = walked.setdefault(row["action_ref"], {"status": "not_started", "note": "",
                                                      "last": ""})
        assert row["at"] >= state["last"], row
        if row["field"] == "status":
            assert row["old_value"] == state["status"], row
            state["status"] = row["new_value"]
        elif row["field"] == "progress_note":
            assert row["old_value"] == state["note"], row
            state["note"] = row["new_value"]
        state["last"] = row["at"]
    for ref, action in actions.items():
        assert (walked[ref]["status"], walked[ref]["note"]) == (action["status"],
                                                                action["progress_note"])
        assert walked[ref]["last"][:10] <= action["updated"]


def test_status_changes_fall_in_both_reporting_years():
    years = Counter(year_of(datetime.fromisoformat(r["at"]).astimezone(UTC)).label
                    for r in _rows("action_history.csv") if r["field"] == "status")
    assert years["2024-25"] >= 50 and years["2025-26"] >= 50, years
