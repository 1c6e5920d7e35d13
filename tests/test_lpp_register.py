"""The Local Place Plan register: the lifecycle rules by hand, the store on SQLite and PostGIS
(entries, grouped counts, history rows, all-or-none imports, the upgrade to 12) and the CLI."""

from __future__ import annotations

import json
import threading
import time
from datetime import date

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from capmap.cli import cli
from capmap.core.crs import to_area_crs
from capmap.core.errors import InputError, NotFound, ValidationError
from capmap.io.prepare import PlanFields
from capmap.services import lpp_register as rules
from capmap.services import pipeline
from capmap.services.lpp_register import Step, TransitionRefused, next_values
from capmap.storage import open_store
from tests.conftest import SQUARES_Q
from tests.schema_versions import rewind

TODAY = date(2026, 11, 1)
PLAN = {"ref": "LPP-A", "type": "local_place_plan", "owner": "Square A Community Council"}
COUNCIL, OTHER = "S12000048", "S12000030"


def _entry(status: str, **dates) -> dict:
    entry = {f"{st}_on": None for st in rules.STATUSES}
    return {**entry, "status": status, **{f"{k}_on": date.fromisoformat(v)
                                          for k, v in dates.items()}}


# -- the rules, by hand ---------------------------------------------------------------------

def test_a_new_entry_starts_proposed_or_submitted_with_the_owner_as_community_body():
    values = next_values(PLAN, None, Step("proposed", date(2026, 1, 5)), TODAY)
    assert values == {"status": "proposed", "proposed_on": date(2026, 1, 5), "reason": "",
                      "community_body": "Square A Community Council"}
    given = next_values(PLAN, None, Step("submitted", date(2026, 1, 5), "", "Trust"), TODAY)
    assert given["community_body"] == "Trust" and given["submitted_on"] == date(2026, 1, 5)


@pytest.mark.parametrize(("status", "to"), [
    (None, "validated"), (None, "registered"), ("proposed", "registered"),
    ("submitted", "registered"), ("validated", "not_registered"), ("registered", "submitted"),
    ("removed", "registered"), ("not_registered", "registered"), ("proposed", "removed")])
def test_a_step_the_status_does_not_allow_is_refused_with_409_naming_what_is(status, to):
    entry = _entry(status, submitted="2026-01-05") if status else None
    with pytest.raises(TransitionRefused) as caught:
        next_values(PLAN, entry, Step(to, date(2026, 2, 1), "why" if to in rules.NEEDS_REASON
                                      else ""), TODAY)
    assert caught.value.status == 409
    assert f"cannot move to {to}" in caught.value.message
    assert f"allowed: {rules._allowed_text(status)}" in caught.value.message


def test_the_whole_path_every_allowed_step():
    allowed = {(a, b) for a, tos in rules.TRANSITIONS.items() for b in tos}
    assert allowed == {(None, "proposed"), (None, "submitted"), ("proposed", "submitted"),
                       ("submitted", "validated"), ("submitted", "not_registered"),
                       ("validated", "registered"), ("not_registered", "submitted"),
                       ("registered", "removed")}


def test_reasons_are_needed_to_refuse_or_remove_and_refused_elsewhere():
    submitted = _entry("submitted", submitted="2026-01-05")
    with pytest.raises(ValidationError, match="needs the reason"):
        next_values(PLAN, submitted, Step("not_registered", date(2026, 2, 1), "  "), TODAY)
    kept = next_values(PLAN, submitted, Step("not_registered", date(2026, 2, 1), " No map "),
                       TODAY)
    assert kept == {"status": "not_registered", "not_registered_on": date(2026, 2, 1),
                    "reason": "No map"}
    with pytest.raises(ValidationError, match="only not_registered and removed keep a reason"):
        next_values(PLAN, submitted, Step("validated", date(2026, 2, 1), "fine"), TODAY)


def test_dates_may_not_be_in_the_future_or_before_the_last_step():
    validated = _entry("validated", submitted="2026-01-05", validated="2026-03-01")
    with pytest.raises(ValidationError, match=r"2026-02-28 is before the entry's last step "
                                              r"\(validated on 2026-03-01\)"):
        next_values(PLAN, validated, Step("registered", date(2026, 2, 28)), TODAY)
    with pytest.raises(ValidationError, match="2026-11-02 is in the future"):
        next_values(PLAN, validated, Step("registered", date(2026, 11, 2)), TODAY)
    same_day = next_values(PLAN, validated, Step("registered", date(2026, 3, 1)), TODAY)
    assert same_day["registered_on"] == date(2026, 3, 1)


def test_submitting_again_clears_the_refusal_which_the_history_keeps():
    refused = {**_entry("not_registered", submitted="2026-01-05", not_registered="2026-02-01"),
               "reason": "No map"}
    again = next_values(PLAN, refused, Step("submitted", date(2026, 4, 1)), TODAY)
    assert again == {"status": "submitted", "submitted_on": date(2026, 4, 1), "reason": "",
                     "not_registered_on": None}


def test_other_plans_and_unknown_statuses_are_422_and_a_bad_date_400():
    with pytest.raises(ValidationError, match="LOC-1 is a locality_plan"):
        next_values({"ref": "LOC-1", "type": "locality_plan"}, None,
                    Step("submitted", TODAY), TODAY)
    with pytest.raises(ValidationError, match="'adopted' is not a register status"):
        next_values(PLAN, None, Step("adopted", TODAY), TODAY)
    with pytest.raises(InputError, match="'1/2/2026' is not a date"):
        rules.read_step({"to": "submitted", "on": "1/2/2026"}, TODAY)
    assert rules.read_step({"to": "submitted"}, TODAY).on == TODAY
    with pytest.raises(ValidationError, match="community_body: none given"):
        next_values({**PLAN, "owner": ""}, None, Step("submitted", TODAY), TODAY)


# -- the store, on both backends ----------------------------------------------------------

@pytest.fixture
def lpps(store, squares_bng, tmp_path):
    """Squares A-D with four Local Place Plans (one per square; D's of another council) and a
    Locality Plan; returns the store and the plan ids by ref."""
    path = tmp_path / "squares.gpkg"
    squares_bng["q"] = [1, 1, 3, 5]
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    pipeline.import_boundaries(store, SQUARES_Q, path)
    plans = tmp_path / "plans.csv"
    plans.write_text("ref,type,title,owner,council_code,layer,area_codes\n"
                     + "".join(f"LPP-{c},local_place_plan,Square {c} plan,{c} CC,"
                               f"{OTHER if c == 'D' else COUNCIL},squares,{c}\n" for c in "ABCD")
                     + f"LOC,locality_plan,South,CPP,{COUNCIL},squares,A;B\n")
    pipeline.import_plans(store, plans, PlanFields())
    return store, store.plan_ids()


def _steps(store, rows: list[tuple[str, str, str, str]]) -> int:
    return rules.take_steps(store, [dict(zip(("plan_ref", "to", "on", "reason"), r, strict=True))
                                    for r in rows], "tester", today=TODAY)


SAMPLE_STEPS = [("LPP-A", "submitted", "2026-01-05", ""), ("LPP-A", "validated", "2026-02-01", ""),
                ("LPP-A", "registered", "2026-02-20", ""),
                ("LPP-B", "submitted", "2026-03-02", ""),
                ("LPP-B", "not_registered", "2026-04-01", "No statement of compliance"),
                ("LPP-C", "proposed", "2026-05-01", ""),
                ("LPP-D", "submitted", "2025-01-01", ""), ("LPP-D", "validated", "2025-02-01", ""),
                ("LPP-D", "registered", "2025-03-01", ""),
                ("LPP-D", "removed", "2026-06-30", "Asked for by the community body")]


def test_steps_are_stored_with_their_history_and_counted_per_council_in_sql(lpps):
    store, ids = lpps
    assert _steps(store, SAMPLE_STEPS) == 10
    entry = store.lpp_entry(ids["LPP-A"])
    assert (entry["status"], entry["community_body"], entry["registered_on"]) == (
        "registered", "A CC", date(2026, 2, 20))
    assert store.lpp_entry(ids["LOC"]) is None
    assert store.lpp_counts() == [(OTHER, "removed", 1), (COUNCIL, "not_registered", 1),
                                  (COUNCIL, "proposed", 1), (COUNCIL, "registered", 1)]
    assert store.lpp_counts(rules.PUBLIC_STATUSES) == [(OTHER, "removed", 1),
                                                       (COUNCIL, "registered", 1)]
    history = [(c.field, c.old_value, c.new_value, c.changed_by, c.source)
               for c in store.changes(plan_id=ids["LPP-B"])]
    # Newest first: the refusal (status, its date, the reason), then the submission (status,
    # date, community body; the empty reason is no change).
    assert sorted(history[:3]) == [
        ("lpp_not_registered_on", None, "2026-04-01", "tester", "import"),
        ("lpp_reason", None, "No statement of compliance", "tester", "import"),
        ("lpp_status", "submitted", "not_registered", "tester", "import")]
    # Then the plan's own history: its import ("created").
    assert sorted(h[0] for h in history[3:]) == ["created", "lpp_community_body", "lpp_status",
                                                 "lpp_submitted_on"]
    assert [c.field for c in store.changes(plan_id=ids["LPP-B"], register=False)] == ["created"]
    assert len(store.changes(plan_id=ids["LPP-B"], only_register=True)) == len(history) - 1 == 6
    assert [e["ref"] for e in store.lpp_entries(COUNCIL, ["registered"])] == ["LPP-A"]
    assert store.lpp_unentered(COUNCIL) == [] and store.lpp_councils() == {COUNCIL, OTHER}


def test_register_frame_and_bounds_hold_the_plans_land(lpps):
    store, ids = lpps
    _steps(store, SAMPLE_STEPS)
    frame = store.lpp_frame(COUNCIL, ["registered"])
    assert list(frame["ref"]) == ["LPP-A"]
    # Square A is 1 km by 1 km: its area in BNG is 1,000,000 m2 (to 1 m2 after the lon/lat trip).
    assert to_area_crs(frame).area.iloc[0] == pytest.approx(1e6, abs=1.0)
    minx, miny, maxx, maxy = store.lpp_bounds(COUNCIL, ["registered"])
    assert tuple(frame.total_bounds) == pytest.approx((minx, miny, maxx, maxy))
    assert store.lpp_bounds(COUNCIL, ["validated"]) is None


def test_a_refused_row_keeps_nothing_and_names_its_line(lpps):
    store, ids = lpps
    before = len(store.changes())
    with pytest.raises(TransitionRefused, match="line 3: plan LPP-A is submitted: it cannot "
                                                "move to registered.*nothing was kept"):
        _steps(store, [("LPP-A", "submitted", "2026-01-05", ""),
                       ("LPP-A", "registered", "2026-02-01", "")])
    assert store.lpp_entry(ids["LPP-A"]) is None and len(store.changes()) == before
    with pytest.raises(NotFound, match="line 2: there is no plan with ref 'LPP-Z'"):
        _steps(store, [("LPP-Z", "submitted", "2026-01-05", "")])


def test_two_steps_at_once_are_checked_one_after_the_other(lpps):
    # The first step holds its transaction open inside its check; the second, from another
    # connection, must wait and then be checked against the first's result.
    store, ids = lpps
    _steps(store, SAMPLE_STEPS[:1])  # LPP-A submitted
    other = open_store(store.url)
    inside, release, results = threading.Event(), threading.Event(), {}

    def slow(plan, entry):
        values = next_values(plan, entry, Step("validated", date(2026, 2, 1)), TODAY)
        inside.set()
        release.wait(10)
        return values

    def second():
        try:
            rules.take_step(other, ids["LPP-A"], Step("not_registered", date(2026, 2, 1),
                                                      "No map"), "b", today=TODAY)
        except TransitionRefused as exc:
            results["second"] = exc.message

    first = threading.Thread(target=lambda: store.lpp_step(ids["LPP-A"], slow, "a", "web"))
    first.start()
    assert inside.wait(10)
    waiting = threading.Thread(target=second)
    waiting.start()
    time.sleep(0.5)  # the second step is now waiting for the first
    release.set()
    first.join(10)
    waiting.join(10)
    other.close()
    assert results["second"] == ("plan LPP-A is validated: it cannot move to not_registered; "
                                 "allowed: registered")
    assert store.lpp_entry(ids["LPP-A"])["status"] == "validated"


def test_removing_a_plan_removes_its_entry_and_keeps_the_history(lpps):
    store, ids = lpps
    _steps(store, SAMPLE_STEPS[:3])
    store.remove_record("plan", ids["LPP-A"], "tester")
    assert store.lpp_entry(ids["LPP-A"]) is None and store.lpp_counts() == []
    assert {c.field for c in store.changes(plan_id=ids["LPP-A"])} >= {"lpp_status", "removed"}


def test_upgrade_to_12_adds_the_register(store):
    rewind(store, 11)
    assert "lpp_register" not in sa.inspect(store.engine).get_table_names()
    assert store.upgrade()[0] == 12
    assert store.upgrade() == []
    inspector = sa.inspect(store.engine)
    assert "lpp_register" in inspector.get_table_names()
    assert "ix_lpp_register_status" in {i["name"] for i in inspector.get_indexes("lpp_register")}
    assert store.lpp_counts() == []


# -- the command line ---------------------------------------------------------------------

def test_the_cli_records_lists_imports_and_exports(lpps, tmp_path):
    store, ids = lpps
    db = ["--db", store.url]
    runner = CliRunner()
    done = runner.invoke(cli, [*db, "lpp", "step", "LPP-A", "submitted", "--on", "2026-01-05",
                               "--by", "clerk"])
    assert done.exit_code == 0, done.output
    assert "LPP-A: submitted on 2026-01-05 (3 changes kept)" in done.output
    refused = runner.invoke(cli, [*db, "lpp", "step", "LPP-A", "registered"])
    assert refused.exit_code == 1
    assert "LPP-A is submitted: it cannot move to registered; allowed: validated, " \
           "not_registered" in refused.output
    steps = tmp_path / "steps.csv"
    steps.write_text("plan_ref,to,on,reason\nLPP-A,validated,2026-02-01,\n"
                     "LPP-A,registered,2026-02-20,\n")
    imported = runner.invoke(cli, [*db, "lpp", "import", str(steps), "--by", "clerk"])
    assert imported.exit_code == 0 and "read 2, stored 2" in imported.output
    listed = runner.invoke(cli, [*db, "lpp", "list", "--council", COUNCIL])
    assert listed.output.split() == ["LPP-A", "registered", "2026-02-20", "Square", "A", "plan"]
    out = tmp_path / "register.geojson"
    exported = runner.invoke(cli, [*db, "lpp", "export", COUNCIL, "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    features = json.loads(out.read_text())["features"]
    assert [f["properties"]["plan_ref"] for f in features] == ["LPP-A"]
    assert "submitted_on" not in features[0]["properties"]  # the public register's dates only
    unknown = runner.invoke(cli, [*db, "lpp", "export", "S99", "-o", str(tmp_path / "x.csv")])
    assert unknown.exit_code == 1 and "council 'S99' has no Local Place Plan register" in \
        unknown.output
    assert {c.changed_by for c in store.changes(plan_id=ids["LPP-A"], only_register=True)} == {"clerk"}
