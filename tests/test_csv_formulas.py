"""No CSV capmap writes holds a cell a spreadsheet would run as a formula.

Hostile text goes in wherever a person can type it (an anonymous pin, a plan, an action, a
response campaign, an area's name); then every CSV-producing route and the command-line CSV
exports are read back, cell by cell. Every route of the app that answers CSV is listed here, and
the test fails if a new one appears unlisted.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner

from app.dashboard import ENGAGEMENT_TABLES
from app.store import get_engine, get_store
from capmap.cli import cli
from capmap.core.models import LayerDef
from capmap.io.prepare import PlanFields
from capmap.io.writers import FORMATS
from capmap.services import councillors, pipeline
from capmap.services.exports import RECORD_LAYERS, TABLE_LAYERS
from capmap.services.reports import year_of
from capmap.storage import open_store
from tests.conftest import logged_in
from tests.test_pins import form

HOSTILE = '=HYPERLINK("http://x","y")'
# Each starts with a character a spreadsheet treats as a formula (OWASP's list).
VARIANTS = {"eq": HOSTILE, "plus": "+1+cmd|' /C calc'!A0", "minus": "-2+3+cmd|' /C calc'!A0",
            "at": "@SUM(1+1)*cmd|' /C calc'!A0", "tab": "\t=1+1", "cr": "\r=1+1"}
PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
POINT_LAYERS = ("actions", "responses", "pins")
PLAN_TABLES = ("areas", "deprived_without_locality_plan", "without_any_plan", "past_review",
               "per_plan", "overdue")


def formula_cells(text: str) -> list[str]:
    """The cells of CSV text that start with =, +, -, @, tab or CR and are not plain numbers."""
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row
            if cell[:1] in ("=", "+", "-", "@", "\t", "\r") and not PLAIN_NUMBER.fullmatch(cell)]


def guarded_hostile(text: str) -> bool:
    """Whether some cell is the hostile text, made harmless by a leading quote."""
    return any(cell == "'" + HOSTILE for row in csv.reader(io.StringIO(text)) for cell in row)


def csv_texts(data: bytes) -> list[str]:
    """The CSV text of a file: itself, or every .csv member of a zip."""
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [archive.read(n).decode("utf-8") for n in archive.namelist()
                    if n.endswith(".csv")]
    return [data.decode("utf-8")]


def _hostile_data(app, tmp_path: Path, client) -> str:
    """Hostile text in a pending anonymous pin, a plan, an action, responses and the names of a
    small extra boundary layer; the extra layer's id."""
    with app.app_context():
        engine = get_engine()
        hoods = engine.neighbourhoods()
        areas = hoods.areas.iloc[:3]
        spot = areas.geometry.values[0].representative_point()
    assert client.post("/pins", data=form((spot.x, spot.y), description=HOSTILE,
                                          category="other")).status_code == 201
    store = open_store(app.config["DATABASE_URL"])
    names = list(VARIANTS.values())[:3]
    layer = tmp_path / "hostile.geojson"
    layer.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": f"H{i}", "name": name},
         "geometry": shapely.geometry.mapping(geometry)}
        for i, (name, geometry) in enumerate(zip(names, areas.geometry.values, strict=True))]}))
    pipeline.import_boundaries(store, LayerDef(id="hostile", kind="community", vintage="2026"),
                               layer)
    codes = ";".join(areas["code"])
    plans = tmp_path / "plans.csv"
    _write(plans, ["ref", "type", "title", "owner", "themes", "review_due", "layer", "area_codes"],
           ["HOSTILE-1", "community_action_plan", HOSTILE, VARIANTS["at"], VARIANTS["minus"],
            "2020-01-01", hoods.layer.id, codes])
    pipeline.import_plans(store, plans, PlanFields())
    lpp = tmp_path / "lpp.csv"
    _write(lpp, ["ref", "type", "title", "owner", "council_code", "layer", "area_codes"],
           ["HOSTILE-LPP", "local_place_plan", "Hostile LPP", HOSTILE, "S12900001",
            hoods.layer.id, codes])
    pipeline.import_plans(store, lpp, PlanFields())
    steps = tmp_path / "steps.csv"
    _write(steps, ["plan_ref", "to", "on", "reason"], ["HOSTILE-LPP", "submitted", "2026-01-05", ""],
           ["HOSTILE-LPP", "not_registered", "2026-02-01", VARIANTS["minus"]])
    pipeline.import_lpp_steps(store, steps, "tester")
    people = tmp_path / "councillors.csv"  # the first areas lie in the first ward
    _write(people, ["ward_code", "name", "party"], ["S13900001", HOSTILE, VARIANTS["at"]])
    councillors.import_file(store, people)
    actions = tmp_path / "actions.csv"
    _write(actions, ["ref", "plan_ref", "title", "theme", "lead", "lead_type", "target_date",
                     "status", "lon", "lat"],
           ["HA-1", "HOSTILE-1", HOSTILE, VARIANTS["plus"], VARIANTS["tab"], "community",
            "2020-01-01", "in_progress", spot.x, spot.y])
    pipeline.import_actions(store, actions)
    responses = tmp_path / "responses.csv"
    _write(responses, ["campaign", "channel", "date", "themes", "lon", "lat"],
           *[[HOSTILE, "online", "2025-01-01", VARIANTS["cr"], spot.x, spot.y]] * 6)
    pipeline.import_responses(store, responses)
    store.close()
    return "hostile"


def _write(path: Path, header: list[str], *rows: list) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture
def hostile(app, tmp_path, client):
    layer = _hostile_data(app, tmp_path, client)
    planner = logged_in(app, "pat", ["planner", "officer"])
    return planner, layer


def _route_csvs(app, planner, client, layer: str) -> dict[str, bytes]:
    """Every CSV the app answers with, by URL, fetched by a planner (exact data) and, for the
    exports, by an anonymous client too."""
    with app.app_context():
        layer_ids = sorted(get_engine().layers())
        hood = get_engine().neighbourhoods()
        codes = ",".join(hood.areas["code"].iloc[:3])
        hostile_plan = get_store().plan_ids()["HOSTILE-1"]
        hostile_lpp = get_store().plan_ids()["HOSTILE-LPP"]
    urls = [f"/dashboard/engagement.csv?table={t}&layer={la}"
            for t in ENGAGEMENT_TABLES for la in (layer, hood.layer.id)]
    urls += [f"/dashboard/plans.csv?table={t}" for t in PLAN_TABLES]
    urls += [f"/planscape/result?format=csv&layer={hood.layer.id}&codes={codes}",
             "/export/outcomes.csv", "/lpp/register/S12900001.csv"]
    urls += [f"/lpp/{what}.csv?layer={hood.layer.id}&codes={codes}" for what in ("regard", "notify")]
    # The hostile plan's action was added now: it is in the report of the year running.
    year = year_of(datetime.now(UTC)).year
    urls += [f"/plans/{hostile_plan}/report.csv?year={year}"]
    urls += [f"/lpp/plans/{hostile_lpp}/{what}.csv" for what in ("regard", "notify")]
    names = [*layer_ids, *RECORD_LAYERS, *TABLE_LAYERS]
    urls += [f"/export/{n}.csv" for n in names] + [f"/export/{n}.csv-lonlat" for n in POINT_LAYERS]
    found = {}
    for url in urls:
        for who, asker in (("planner", planner), ("anonymous", client)):
            if who == "anonymous" and not url.startswith("/export"):
                continue
            answer = asker.get(url)
            data = answer.get_data()
            answer.close()
            if who == "anonymous" and answer.status_code == 401:
                continue  # exact points need a role; the planner's copy is checked
            assert answer.status_code == 200, (url, who, data[:300])
            found[f"{who} {url}"] = data
    return found


def test_every_csv_route_is_walked(app):
    """The routes answering CSV are the ones _route_csvs fetches (plus the export formats)."""
    rules = sorted(r.rule for r in app.url_map.iter_rules() if r.rule.endswith(".csv"))
    assert rules == ["/dashboard/engagement.csv", "/dashboard/plans.csv", "/export/outcomes.csv",
                     "/lpp/notify.csv", "/lpp/plans/<int:plan_id>/notify.csv",
                     "/lpp/plans/<int:plan_id>/regard.csv", "/lpp/regard.csv",
                     "/lpp/register/<council_code>.csv", "/plans/<int:plan_id>/report.csv"]
    assert sorted(n for n, f in FORMATS.items() if f.driver == "CSV") == ["csv", "csv-lonlat"]


def test_no_csv_route_writes_a_formula(app, client, hostile):
    planner, layer = hostile
    found = _route_csvs(app, planner, client, layer)
    guarded = []
    for where, data in found.items():
        for text in csv_texts(data):
            assert formula_cells(text) == [], where
            if guarded_hostile(text):
                guarded.append(where)
    # The hostile text reached (and was guarded in) each kind of CSV that shows it: the pending
    # pin and the exact responses in the planner's exports, the plan in the plans dashboard and
    # the finder's table, the area names in the engagement dashboard.
    for expected in ("planner /export/pins.csv", "planner /export/pins.csv-lonlat",
                     "planner /export/plans.csv", "planner /export/actions.csv-lonlat",
                     "planner /export/responses.csv", "anonymous /export/plans.csv",
                     "planner /export/hostile.csv", "planner /dashboard/plans.csv?table=past_review",
                     "planner /dashboard/engagement.csv?table=areas&layer=hostile",
                     "planner /export/outcomes.csv", "planner /lpp/register/S12900001.csv",
                     "planner /plans/", "planner /lpp/regard.csv", "planner /lpp/notify.csv",
                     "planner /lpp/plans/"):
        assert any(w.startswith(expected) for w in guarded), expected
    assert any(w.startswith("planner /planscape/result?format=csv") for w in guarded)


@pytest.mark.parametrize("fmt", ["csv", "csv-lonlat"])
def test_no_cli_csv_export_writes_a_formula(app, client, hostile, tmp_path, fmt):
    _, layer = hostile
    names = [layer, "plans", "plan_coverage", "engagement", *POINT_LAYERS] if fmt == "csv" \
        else list(POINT_LAYERS)
    runner = CliRunner()
    for name in names:
        out = tmp_path / f"{name}-{fmt}.zip"
        result = runner.invoke(cli, ["--db", app.config["DATABASE_URL"], "export", name,
                                     "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        texts = csv_texts(out.read_bytes())
        assert texts and all(formula_cells(t) == [] for t in texts), name
        if name in (layer, "plans", "pins", "actions", "responses"):
            assert any(guarded_hostile(t) for t in texts), name


def test_numbers_stay_numbers(app, client, hostile, tmp_path):
    """Negative longitudes and numbers are written as numbers, not quoted as text."""
    out = tmp_path / "pins.zip"
    result = CliRunner().invoke(cli, ["--db", app.config["DATABASE_URL"], "export", "pins",
                                      "--format", "csv-lonlat", "-o", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(csv_texts(out.read_bytes())[0])))
    # The sample council lies west of Greenwich: every longitude is a plain negative number.
    assert rows and all(PLAIN_NUMBER.fullmatch(r["lon"]) and float(r["lon"]) < 0 for r in rows)
