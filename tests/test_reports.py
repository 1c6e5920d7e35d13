"""Progress reports rebuilt from the history, on both backends, with histories checked by hand.

A1: added 2024-06-01; in progress 2025-03-30 (year 2024-25), completed 2025-04-02 (2025-26).
A2: added 2025-05-01 in progress, never changed since. A3: added 2025-01-01; in progress at
22:59 UTC on 31 March 2026 (23:59 BST, still 2025-26), stalled at 23:00 UTC (00:00 BST on
1 April: 2026-27). A4: stored before additions were kept (no creation row): there all along.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from capmap.core.errors import InputError, NotFound, RowsRejected
from capmap.services import editing, pipeline
from capmap.services.history_import import import_history
from capmap.services.reports import ReportingYear, parse_year, progress_report, report_rows, year_of
from capmap.storage import schema as s
from tests.schema_versions import rewind

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # in 2026-27
ACTIONS = ("ref,plan_ref,title,status,target_date,progress_note\n"
           "A1,LP-AB,Food larder,completed,2025-03-31,Done\n"
           "A2,LP-AB,Job club,in_progress,,\n"
           "A3,LP-AB,Youth forum,stalled,2026-03-31,\n"
           "A4,LP-AB,Old action,not_started,2026-01-01,\n")
HISTORY = ("action_ref,field,old_value,new_value,at,changed_by\n"
           "A1,created,,Food larder,2024-06-01T10:00:00Z,lo\n"
           "A1,status,not_started,in_progress,2025-03-30T10:00:00Z,lo\n"
           "A1,progress_note,,Half way,2025-03-30T10:00:00Z,lo\n"
           "A1,status,in_progress,completed,2025-04-02T10:00:00Z,lo\n"
           "A1,progress_note,Half way,Done,2025-04-02T10:00:00Z,lo\n"
           "A2,created,,Job club,2025-05-01T10:00:00+01:00,lo\n"
           "A3,created,,Youth forum,2025-01-01T12:00:00Z,lo\n"
           "A3,status,not_started,in_progress,2026-03-31T22:59:00Z,lo\n"
           "A3,status,in_progress,stalled,2026-03-31T23:00:00Z,lo\n")


@pytest.fixture
def histories(loaded, tmp_path):
    (tmp_path / "a.csv").write_text(ACTIONS)
    pipeline.import_actions(loaded, tmp_path / "a.csv")
    c = s.record_changes.c
    with loaded.engine.begin() as conn:  # A4 as stored before additions were kept
        conn.execute(sa.delete(s.record_changes).where(c.ref == "A4"))
    (tmp_path / "h.csv").write_text(HISTORY)
    assert import_history(loaded, tmp_path / "h.csv").stored == 9
    return loaded, loaded.plan_ids()["LP-AB"]


def _report(store, plan_id, year, now=NOW):
    return progress_report(store, plan_id, ReportingYear(year), now)


def _statuses(report):
    return {r["status"]: (r["previous"], r["current"]) for r in report["statuses"]
            if r["previous"] or r["current"]}


def test_a_financial_year_ends_at_midnight_in_scotland():
    assert ReportingYear(2025).label == "2025-26"
    assert ReportingYear(2025).start() == datetime(2025, 3, 31, 23, tzinfo=UTC)  # BST
    assert ReportingYear(2025).end() == datetime(2026, 3, 31, 23, tzinfo=UTC)
    assert year_of(datetime(2026, 3, 31, 22, 59, tzinfo=UTC)).year == 2025
    assert year_of(datetime(2026, 3, 31, 23, 0, tzinfo=UTC)).year == 2026
    assert year_of(datetime(2026, 1, 5, tzinfo=UTC)).year == 2025


@pytest.mark.parametrize(("given", "said"), [
    ("abc", "'abc' is not a year"), ("2025.5", "'2025.5' is not a year"),
    ("2015", "2015 is out of range; expected 2016 to 2026"),
    ("2027", "2027 is out of range; expected 2016 to 2026 (2026-27 is the year now running)"),
    ("٢٠٢٥", "is not a year")])
def test_a_year_that_is_not_one_is_refused_naming_it(given, said):
    with pytest.raises(InputError, match=said.replace("(", r"\(").replace(")", r"\)")):
        parse_year(given, NOW)


def test_the_default_year_is_the_last_finished():
    assert parse_year(None, NOW).year == 2025 and parse_year(" 2026 ", NOW).year == 2026


def test_changes_two_days_apart_land_in_different_years(histories):
    store, plan = histories
    first = _report(store, plan, 2024)
    # End of 2024-25: A1 in progress (30 March), A3 not started, A4 as now; A2 not yet added.
    assert [(a["ref"], a["previous"], a["status"]) for a in first["actions"]] == [
        ("A1", None, "in_progress"), ("A3", None, "not_started"),
        ("A4", "not_started", "not_started")]
    assert _statuses(first) == {"not_started": (1, 2), "in_progress": (0, 1)}
    assert first["moves"] == [{"from": None, "to": "in_progress", "actions": 1},
                              {"from": None, "to": "not_started", "actions": 1}]
    # A1's target (31 March 2025) passed at the year's end while it was in progress.
    assert [a["ref"] for a in first["overdue"]] == ["A1"]
    assert [(n["ref"], n["new"]) for n in first["notes"]] == [("A1", "Half way")]
    second = _report(store, plan, 2025)
    assert [(a["ref"], a["previous"], a["status"], a["moved"]) for a in second["actions"]] == [
        ("A1", "in_progress", "completed", True), ("A2", None, "in_progress", True),
        ("A3", "not_started", "in_progress", True), ("A4", "not_started", "not_started", False)]
    assert _statuses(second) == {"not_started": (2, 1), "in_progress": (1, 2),
                                 "completed": (0, 1)}
    assert {(m["from"], m["to"]): m["actions"] for m in second["moves"]} == {
        ("in_progress", "completed"): 1, (None, "in_progress"): 1,
        ("not_started", "in_progress"): 1}
    # A3's target, 31 March 2026, passed at the end of 2025-26; A4's (1 January 2026) too.
    assert [a["ref"] for a in second["overdue"]] == ["A3", "A4"]
    assert [(n["ref"], n["new"]) for n in second["notes"]] == [("A1", "Done")]
    assert second["totals"] == {"actions": 4, "overdue": 2, "moved": 3, "added": 1,
                                "removed": 0, "notes": 1}


def test_the_change_at_midnight_bst_belongs_to_the_next_year(histories):
    store, plan = histories
    running = _report(store, plan, 2026)
    assert running["year"]["complete"] is False and running["year"]["overdue_on"] == "2026-12-02"
    moved = {a["ref"]: (a["previous"], a["status"]) for a in running["actions"] if a["moved"]}
    assert moved == {"A3": ("in_progress", "stalled")}
    assert [(c["ref"], c["old"], c["new"]) for c in running["changes"]] == [
        ("A3", "in_progress", "stalled")]


def test_an_edit_today_moves_the_running_year_and_names_its_author_to_staff_only(histories):
    store, plan = histories
    a4 = store.actions_by_ref(["A4"])["A4"]["id"]
    editing.edit(store, "action", a4, {"status": "in_progress", "progress_note": "Begun"},
                 "olivia")
    now = datetime.now(UTC)
    public = progress_report(store, plan, year_of(now), now)
    staff = progress_report(store, plan, year_of(now), now, with_people=True)
    assert {a["ref"]: a["status"] for a in public["actions"]}["A4"] == "in_progress"
    assert [(n["ref"], n["new"], n["by"]) for n in public["notes"]] == [
        ("A4", "Begun", "council officer")]
    assert [n["by"] for n in staff["notes"]] == ["olivia"]
    # The finished years are untouched: A4 was not started at their ends.
    assert {a["ref"]: a["status"] for a in _report(store, plan, 2025)["actions"]}["A4"] == \
        "not_started"


def test_csv_rows_and_unknown_plan(histories):
    store, plan = histories
    rows = report_rows(_report(store, plan, 2025))
    assert [(r["action_ref"], r["status_previous_year_end"], r["status_year_end"],
             r["overdue"], r["notes_in_year"]) for r in rows] == [
        ("A1", "in_progress", "completed", "no", 1), ("A2", "(not yet added)", "in_progress",
                                                      "no", 0),
        ("A3", "not_started", "in_progress", "yes", 0), ("A4", "not_started", "not_started",
                                                         "yes", 0)]
    with pytest.raises(NotFound, match="there is no plan 999"):
        _report(store, 999, 2025)


def test_adding_plans_and_actions_is_kept_in_the_history(loaded, tmp_path):
    (tmp_path / "a.csv").write_text(ACTIONS)
    pipeline.import_actions(loaded, tmp_path / "a.csv")
    added = [(c.record, c.ref, c.field, c.new_value) for c in loaded.changes()
             if c.field == "created"]
    assert sorted(added) == [("action", "A1", "created", "Food larder"),
                             ("action", "A2", "created", "Job club"),
                             ("action", "A3", "created", "Youth forum"),
                             ("action", "A4", "created", "Old action"),
                             ("plan", "CAP-D", "created", "East D"),
                             ("plan", "LOIP", "created", "Council LOIP"),
                             ("plan", "LP-AB", "created", "South locality")]


def test_a_history_that_does_not_chain_is_refused_whole(loaded, tmp_path):
    (tmp_path / "a.csv").write_text(ACTIONS)
    pipeline.import_actions(loaded, tmp_path / "a.csv")
    before = len(loaded.changes())
    (tmp_path / "h.csv").write_text(
        "action_ref,field,old_value,new_value,at\n"
        "A1,status,not_started,in_progress,2025-03-30T10:00:00Z\n"
        "A1,status,stalled,completed,2025-04-02T10:00:00Z\n"  # was in progress, not stalled
        "A2,status,not_started,done,2025-05-01T10:00:00Z\n"
        "ZZ,status,not_started,in_progress,2025-05-01T10:00:00Z\n"
        "A3,status,not_started,in_progress,yesterday\n"
        "A4,status,not_started,completed,2025-05-01T10:00:00Z\n")  # A4 is not started now
    with pytest.raises(RowsRejected) as caught:
        import_history(loaded, tmp_path / "h.csv")
    assert [row for row, _ in caught.value.report.rejected] == [2, 3, 4, 5, 6]
    text = "\n".join(caught.value.details)
    for said in ("status was 'in_progress' before this change, not 'stalled'",
                 "status 'done' is not one of", "action_ref 'ZZ' is not a stored action",
                 "at 'yesterday' is not a date and time",
                 "A4: the history ends with status 'completed' but the action's status is "
                 "'not_started'"):
        assert said in text
    assert len(loaded.changes()) == before


def test_upgrade_to_13_adds_the_history_index(store):
    rewind(store, 12)
    assert "ix_record_changes_field_at" not in {
        i["name"] for i in sa.inspect(store.engine).get_indexes("record_changes")}
    assert 13 in store.upgrade()
    assert store.upgrade() == []
    indexes = {i["name"]: i["column_names"] for i in sa.inspect(store.engine)
               .get_indexes("record_changes")}
    assert indexes["ix_record_changes_field_at"] == ["record", "record_id", "field", "at"]
