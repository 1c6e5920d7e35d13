"""Keeping plans and actions up to date: edits with their history, removal, idempotent imports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from capmap.core.errors import InputError, ValidationError
from capmap.io.prepare import PlanFields
from capmap.services import editing, pipeline


def _sqlite_only(store):
    # Each CLI call opens its own store and leaves its pool to the process, which PostGIS's
    # driver reports as an unclosed connection; the same storage runs on PostGIS above.
    if not store.url.startswith("sqlite"):
        pytest.skip("the command line is run against SQLite")


def _plan_id(store, ref):
    return store.plan_ids()[ref]


def _edits(changes):
    return [c for c in changes if c.field != "created"]


def _actions_csv(path, status="not_started"):
    path.write_text("ref,plan_ref,title,status,lead\n"
                    f"A1,LP-AB,Open a food larder,{status},Council\n"
                    "A2,LP-AB,Run a job club,in_progress,Trust\n")
    return path


def test_an_edit_keeps_who_when_and_old_and_new_values(loaded, tmp_path):
    pipeline.import_actions(loaded, _actions_csv(tmp_path / "a.csv"))
    action = int(loaded.actions().query("ref == 'A1'")["id"].iloc[0])
    before = loaded.versions()["plans_version"]
    changes = editing.edit(loaded, "action", action, {"status": "in_progress",
                           "percent_complete": "40", "lead": "Council"}, "olivia")
    # lead was already "Council": only two fields changed, so two history rows.
    assert sorted((c.field, c.old_value, c.new_value) for c in changes) == [
        ("percent_complete", None, "40"), ("status", "not_started", "in_progress")]
    assert loaded.versions()["plans_version"] == before + 1  # caches and tiles move on
    row = loaded.record("action", action)
    assert (row["status"], row["percent_complete"], row["updated"] is not None) == (
        "in_progress", 40, True)
    # The additions by the imports are kept too (tests/test_reports.py); here, the edits.
    history = _edits(loaded.changes(plan_id=_plan_id(loaded, "LP-AB")))
    assert {c.changed_by for c in history} == {"olivia"} and len(history) == 2
    # Per period: everything in the last hour, nothing from tomorrow on.
    now = datetime.now(UTC)
    assert len(_edits(loaded.changes(since=now - timedelta(hours=1)))) == 2
    assert loaded.changes(since=now + timedelta(days=1)) == []
    assert editing.edit(loaded, "action", action, {"status": "in_progress"}, "olivia") == []


@pytest.mark.parametrize(("form", "error", "text"), [
    ({"percent_complete": "150"}, ValidationError, "percent_complete: 150 is not between 0 and 100"),
    ({"percent_complete": "ten"}, InputError, "percent_complete: 'ten' is not a whole number"),
    ({"target_date": "31/03/2027"}, InputError, "target_date: '31/03/2027' is not a date"),
    ({"status": "done"}, ValidationError, "status: 'done' is not a status"),
])
def test_bad_values_are_refused_naming_field_and_value(loaded, tmp_path, form, error, text):
    pipeline.import_actions(loaded, _actions_csv(tmp_path / "a.csv"))
    action = int(loaded.actions()["id"].iloc[0])
    with pytest.raises(error, match=text):
        editing.edit(loaded, "action", action, form, "olivia")
    assert _edits(loaded.changes()) == []


def test_removing_a_plan_keeps_it_in_the_history_and_refreshes_coverage(loaded, tmp_path):
    pipeline.import_actions(loaded, _actions_csv(tmp_path / "a.csv"))
    plan = _plan_id(loaded, "LP-AB")
    removed = editing.remove(loaded, "plan", plan, "pat")
    # The plan and its two actions: three history rows of field "removed".
    assert sorted((c.record, c.ref) for c in removed) == [
        ("action", "A1"), ("action", "A2"), ("plan", "LP-AB")]
    assert "LP-AB" not in loaded.plan_ids() and loaded.counts()["actions"] == 0
    assert {c.field for c in _edits(loaded.changes(plan_id=plan))} == {"removed"}
    with loaded.engine.connect() as conn:
        import sqlalchemy as sa

        from capmap.storage import schema as s
        left = conn.execute(sa.select(sa.func.count()).select_from(s.plan_coverage)
                            .where(s.plan_coverage.c.plan_id == plan)).scalar()
        # A and B were covered by LP-AB and the LOIP only; without LP-AB the union of
        # locality plans covers nothing there.
        local = conn.execute(sa.select(s.type_coverage.c.code).where(
            s.type_coverage.c.plan_type == "locality_plan")).scalars().all()
    assert left == 0 and local == []


def _responses(path):
    path.write_text("campaign,channel,date,area_code\n" + "C9,online,2025-05-01,A\n" * 2
                    + "C9,paper,2025-05-02,B\n")
    return path


def test_responses_imported_twice_never_double(loaded, tmp_path):
    path = _responses(tmp_path / "r.csv")
    before = loaded.counts()["responses"]
    assert pipeline.import_responses(loaded, path).stored == 3  # two identical rows both kept
    with pytest.raises(ValidationError, match="3 row\\(s\\) without a ref match rows already"):
        pipeline.import_responses(loaded, path)
    skip = pipeline.ImportOptions(on_existing="skip")
    report = pipeline.import_responses(loaded, path, options=skip)
    assert (report.stored, report.skipped) == (0, 3)
    assert loaded.counts()["responses"] == before + 3
    # One more identical row than stored: only the third copy is new.
    path.write_text(path.read_text() + "C9,online,2025-05-01,A\n")
    report = pipeline.import_responses(loaded, path, options=skip)
    assert (report.stored, report.skipped) == (1, 3)


def test_import_update_changes_a_status_and_records_it(loaded, tmp_path):
    path = _actions_csv(tmp_path / "a.csv")
    pipeline.import_actions(loaded, path)
    with pytest.raises(ValidationError, match="refs already stored: A1, A2"):
        pipeline.import_actions(loaded, path)
    _actions_csv(path, status="completed")
    update = pipeline.ImportOptions(on_existing="update", changed_by="pat")
    report = pipeline.import_actions(loaded, path, options=update)
    assert (report.stored, report.updated, report.skipped) == (0, 1, 1)  # A2 unchanged
    assert loaded.record("action", int(loaded.actions().query("ref == 'A1'")["id"].iloc[0])
                         )["status"] == "completed"
    [change] = _edits(loaded.changes())
    assert (change.ref, change.field, change.old_value, change.new_value, change.source,
            change.changed_by) == ("A1", "status", "not_started", "completed", "import", "pat")


def test_plans_imported_again_update_in_place(loaded, tmp_path):
    path = tmp_path / "plans.csv"
    path.write_text("ref,type,title,review_due,layer,area_codes\n"
                    "LP-AB,locality_plan,South locality renamed,2020-01-01,squares,A;B\n")
    with pytest.raises(ValidationError, match="refs already stored: LP-AB"):
        pipeline.import_plans(loaded, path, PlanFields())
    update = pipeline.ImportOptions(on_existing="update")
    report = pipeline.import_plans(loaded, path, PlanFields(), options=update)
    assert (report.stored, report.updated) == (0, 1)
    [change] = _edits(loaded.changes())
    assert (change.field, change.old_value, change.new_value) == (
        "title", "South locality", "South locality renamed")


def test_the_cli_imports_twice_to_the_same_counts(loaded, tmp_path):
    from click.testing import CliRunner

    from capmap.cli import cli

    _sqlite_only(loaded)
    runner, url = CliRunner(), loaded.url
    path = _responses(tmp_path / "r.csv")
    before = loaded.counts()["responses"]
    assert runner.invoke(cli, ["--db", url, "import", "responses", str(path)]).exit_code == 0
    again = runner.invoke(cli, ["--db", url, "import", "responses", str(path)])
    assert again.exit_code == 1 and "nothing was stored" in again.output
    skipped = runner.invoke(cli, ["--db", url, "import", "responses", str(path),
                                  "--on-existing", "skip"])
    assert skipped.exit_code == 0 and "updated 0, skipped 3" in skipped.output
    assert loaded.counts()["responses"] == before + 3
    actions = _actions_csv(tmp_path / "a.csv")
    assert runner.invoke(cli, ["--db", url, "import", "actions", str(actions)]).exit_code == 0
    _actions_csv(actions, status="stalled")
    updated = runner.invoke(cli, ["--db", url, "import", "actions", str(actions),
                                  "--on-existing", "update"])
    assert updated.exit_code == 0 and "updated 1, skipped 1" in updated.output
    assert [(c.field, c.new_value) for c in _edits(loaded.changes())] == [("status", "stalled")]


def test_accounts_keep_their_councils(store):
    from click.testing import CliRunner

    from capmap.cli import cli

    _sqlite_only(store)
    runner = CliRunner()
    made = runner.invoke(cli, ["--db", store.url, "users", "add", "lachlan", "--role",
                               "officer", "--council", "S12000049"])
    assert made.exit_code == 0, made.output
    assert store.user("lachlan").councils == {"S12000049"}
    changed = runner.invoke(cli, ["--db", store.url, "users", "set-access", "lachlan",
                                  "--role", "planner"])
    assert changed.exit_code == 0 and "councils all" in changed.output
    user = store.user("lachlan")
    assert (user.roles, user.councils) == ({"planner"}, frozenset())
    with pytest.raises(ValidationError, match="councils: council code"):
        store.set_user_access("lachlan", ["officer"], ["S12\u200b000049"])
