"""Engagement counts from grouped SQL equal the in-memory answer, on both backends; plan coverage
is read from the derived table."""

from __future__ import annotations

import datetime as dt
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capmap.core.models import EngagementFilters, normalise_themes
from capmap.core.policy import PlanGapRules
from capmap.services import pipeline
from capmap.services.coverage import engagement_coverage, plan_coverage
from capmap.services.engine import Engine
from capmap.spatial import engagement
from capmap.storage import open_store
from capmap.storage import schema as s
from tests.conftest import BOUNDARIES, SAMPLE, X0, Y0, _postgis_or_skip, _wipe, lonlat_of
from tests.schema_versions import rewind


def in_memory(store, engine, layer_id: str, filters: EngagementFilters) -> pd.DataFrame:
    """The answer as it was computed before grouped SQL: every response read, merged with its
    codes, filtered in pandas and counted."""
    responses = store.responses().merge(store.assigned_codes("responses", layer_id),
                                        left_on="id", right_on="record_id", how="left")
    chosen = engagement.filter_responses(
        responses, campaign=filters.campaign, channel=filters.channel, theme=filters.theme,
        date_from=filters.date_from, date_to=filters.date_to)
    return engagement.engagement_by_area(engine.layer(layer_id).areas, chosen["code"]), chosen


def assert_same_report(store, layer_id: str, filters: EngagementFilters) -> None:
    engine = Engine(store)
    expected, chosen = in_memory(store, engine, layer_id, filters)
    report = engagement_coverage(store, engine, layer_id, filters, exact=True)
    got = pd.DataFrame(report["areas"])
    assert got["code"].tolist() == expected["code"].tolist()
    assert got["responses"].tolist() == expected["responses"].tolist()
    np.testing.assert_allclose(pd.to_numeric(got["rate_per_1000"]).to_numpy(dtype=float),
                               expected["rate_per_1000"].to_numpy(dtype=float), equal_nan=True)
    assert got["gap"].tolist() == expected["gap"].tolist()
    assert report["responses"] == len(chosen)
    assert report["outside"] == int(chosen["code"].isna().sum())
    equity = engagement.equity_by_quintile(expected)
    assert [r["responses"] for r in report["equity"]] == equity["responses"].tolist()


SAMPLE_FILTERS = [
    EngagementFilters(),
    EngagementFilters(channel="online"),
    EngagementFilters(theme="health"),
    EngagementFilters(date_from=dt.date(2025, 3, 1), date_to=dt.date(2025, 9, 30)),
    EngagementFilters(channel="paper", theme="housing", date_from=dt.date(2025, 1, 1)),
]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def sample_store(request, tmp_path_factory, sample_db):
    """The sample data on each backend, loaded once for the module."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("grouped") / "capmap.sqlite"
        shutil.copy(sample_db, path)
        store = open_store(f"sqlite:///{path}")
        yield store
        store.close()
        return
    url = _postgis_or_skip()
    _wipe(url)
    store = open_store(url)
    store.init()
    pipeline.load_sample(store, SAMPLE, BOUNDARIES)
    yield store
    store.close()
    _wipe(url)


@pytest.mark.parametrize("filters", SAMPLE_FILTERS, ids=range(len(SAMPLE_FILTERS)))
def test_sample_counts_equal_the_in_memory_answer(sample_store, filters):
    for layer_id in sorted(Engine(sample_store).layers()):
        assert_same_report(sample_store, layer_id, filters)


def test_sample_counts_of_each_campaign(sample_store):
    campaigns = sample_store.response_options()["campaigns"]
    assert len(campaigns) > 1
    for campaign in campaigns:
        assert_same_report(sample_store, "sample_dz", EngagementFilters(campaign=campaign))


# -- hypothesis: arbitrary responses on the four squares -------------------------------------

THEMES = ["health", "healthcare", "housing", "green space", "50%_off"]
# Where a response lands: inside A, B, C or D, outside the grid, or known only by a code.
PLACES = {"A": (X0 + 500, Y0 + 500), "B": (X0 + 1500, Y0 + 500), "C": (X0 + 500, Y0 + 1500),
          "D": (X0 + 1500, Y0 + 1500), "sea": (X0 + 5000, Y0 + 5000)}


def response_rows():
    theme_list = st.lists(st.sampled_from(THEMES), max_size=3).flatmap(
        lambda picked: st.sampled_from([";".join(picked), " ; ".join(picked), ";".join(picked) + ";"]))
    return st.lists(st.fixed_dictionaries({
        "campaign": st.sampled_from(["C1", "C2", "c1"]),
        "channel": st.sampled_from(["online", "paper", "event"]),
        "date": st.one_of(st.none(), st.dates(dt.date(2025, 1, 1), dt.date(2025, 1, 20))),
        "themes": theme_list,
        "place": st.sampled_from([*PLACES, "code:C", "code:B"]),
    }), min_size=0, max_size=40)


def filters_strategy():
    day = st.one_of(st.none(), st.dates(dt.date(2025, 1, 1), dt.date(2025, 1, 20)))
    return st.builds(EngagementFilters, campaign=st.sampled_from([None, "C1", "c1"]),
                     channel=st.sampled_from([None, "online", "paper"]),
                     theme=st.sampled_from([None, *THEMES, "health;housing", "heal", "", " health"]),
                     date_from=day, date_to=day).filter(
        lambda f: not (f.date_from and f.date_to and f.date_from > f.date_to))


def _frame(rows: list[dict]) -> gpd.GeoDataFrame:
    points, codes = [], []
    for row in rows:
        place = row["place"]
        if place.startswith("code:"):
            points.append(None)
            codes.append(place[5:])
        else:
            points.append(shapely.Point(*lonlat_of(*PLACES[place])))
            codes.append(None)
    return gpd.GeoDataFrame({
        "ref": None, "campaign": [r["campaign"] for r in rows],
        "channel": [r["channel"] for r in rows], "date": [r["date"] for r in rows],
        "themes": [r["themes"] for r in rows], "area_layer": ["squares" if c else None for c in codes],
        "area_code": codes, "age_band": None}, geometry=gpd.GeoSeries(points, crs="EPSG:4326"),
        crs="EPSG:4326").rename_geometry("geom")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=response_rows(), filters=filters_strategy())
def test_grouped_counts_equal_the_in_memory_answer_on_generated_data(loaded, rows, filters):
    store = loaded
    with store.engine.begin() as conn:  # a fresh set of responses for each example
        conn.execute(sa.delete(s.assignments).where(s.assignments.c.record == "responses"))
        conn.execute(sa.delete(s.responses))
    if rows:
        frame = _frame(rows)
        frame["themes"] = frame["themes"].map(normalise_themes)
        pipeline.store_prepared(store, "responses", frame)
    assert_same_report(store, "squares", filters)
    # Hand-count one figure independently of both: square A's responses.
    matching = [r for r in rows if r["place"] == "A" and _matches(r, filters)]
    report = engagement_coverage(store, Engine(store), "squares", filters, exact=True)
    assert next(a for a in report["areas"] if a["code"] == "A")["responses"] == len(matching)


def _matches(row: dict, f: EngagementFilters) -> bool:
    themes = {t.strip() for t in row["themes"].split(";") if t.strip()}
    return ((f.campaign is None or row["campaign"] == f.campaign)
            and (f.channel is None or row["channel"] == f.channel)
            and (f.theme is None or f.theme in themes)
            and (f.date_from is None or (row["date"] is not None and row["date"] >= f.date_from))
            and (f.date_to is None or (row["date"] is not None and row["date"] <= f.date_to)))


def test_themes_are_stored_tidy_and_matched_whole(loaded, tmp_path):
    path = tmp_path / "more.csv"
    path.write_text("campaign,channel,themes,area_code\n"
                    "C3,online, health ;housing ; ,A\n"
                    "C3,online,Health,A\n"
                    "C3,online,50%_off,A\n")
    pipeline.import_responses(loaded, path)
    themes = loaded.responses()["themes"].tolist()[-3:]
    assert themes == ["health;housing", "Health", "50%_off"]
    engine = Engine(loaded)

    def count(theme: str) -> int:
        return engagement_coverage(loaded, engine, "squares", EngagementFilters(
            campaign="C3", theme=theme), exact=True)["responses"]

    # Whole elements, case-sensitive; LIKE's wildcards mean nothing here.
    assert [count(t) for t in ("health", "housing", "Health", "heal", "50%_off", "5_%")] == [
        1, 1, 1, 0, 1, 0]
    # One theme at a time: a list, a blank or a padded theme matches no response.
    assert [count(t) for t in ("health;housing", "", " health")] == [0, 0, 0]


def test_response_options_come_from_one_query(loaded):
    assert loaded.response_options() == {
        "campaigns": ["C1", "C2"], "channels": ["event", "online", "paper"],
        "themes": ["health", "housing"]}


# -- plan coverage from the derived table ----------------------------------------------------

def test_plan_coverage_reads_the_stored_type_shares(loaded):
    # LP-AB covers A and B whole; CAP-D the east half of D; the LOIP is council-wide.
    shares = loaded.type_coverage("squares")
    got = {(r.code, r.plan_type): round(r.share_of_area, 6) for r in shares.itertuples()}
    assert got == {("A", "locality_plan"): 1.0, ("B", "locality_plan"): 1.0,
                   ("A", "loip"): 1.0, ("B", "loip"): 1.0, ("C", "loip"): 1.0, ("D", "loip"): 1.0,
                   ("D", "community_action_plan"): 0.5,
                   ("A", "any_local_plan"): 1.0, ("B", "any_local_plan"): 1.0,
                   ("D", "any_local_plan"): 0.5}
    report = plan_coverage(Engine(loaded), PlanGapRules(), dt.date(2026, 1, 1))
    assert [a["code"] for a in report["without_any_plan"]] == ["C"]
    assert report["deprived_without_locality_plan"] == []
    assert [p["ref"] for p in report["past_review"]] == ["LP-AB"]


def test_overlapping_plans_of_one_type_count_once(loaded, tmp_path):
    # A second Locality Plan over A and C: A is covered by two of them, and still counts 1.
    path = tmp_path / "lp2.csv"
    path.write_text("ref,type,title,layer,area_codes\nLP-AC,locality_plan,West,squares,A;C\n")
    pipeline.import_plans(loaded, path, pipeline.prepare.PlanFields())
    rows = plan_coverage(Engine(loaded))["areas"]
    assert {r["code"]: r["locality_plan"] for r in rows} == pytest.approx(
        {"A": 1.0, "B": 1.0, "C": 1.0, "D": 0.0})


def test_upgrade_to_version_4_tidies_themes_and_fills_type_coverage(loaded):
    expected = loaded.type_coverage("squares")
    with loaded.engine.begin() as conn:
        conn.execute(sa.update(s.responses).where(s.responses.c.channel == "paper")
                     .values(themes=" housing ;;health "))
    rewind(loaded, 3)  # no per-type coverage
    assert pipeline.upgrade(loaded) == list(range(4, s.SCHEMA_VERSION + 1))
    loaded.check()
    pd.testing.assert_frame_equal(loaded.type_coverage("squares"), expected)
    paper = loaded.responses().query("channel == 'paper'")["themes"]
    assert set(paper) == {"housing;health"}
