"""The engine in a web worker: how often it asks the store for its versions, which writes it sees
and when, and the lookup answer it joins from pieces encoded once."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest
import shapely
from flask import jsonify

from capmap.core.crs import geoms_bng_to_lonlat
from capmap.core.models import LayerDef
from capmap.core.serialise import json_text
from capmap.io.prepare import PlanFields
from capmap.services import pipeline
from capmap.services.engine import Engine
from capmap.services.planscape import lookup, lookup_json
from capmap.storage import open_store
from capmap.storage.schema import meta
from tests.conftest import ROOT, X0, Y0, bng_square, lonlat_of

IN_A = (X0 + 500, Y0 + 500)
IN_EAST_D = (X0 + 1750, Y0 + 1500)
# The squares again as a second layer, with Gaelic names: the JSON must escape them as jsonify does.
GAELIC = LayerDef(id="gaelic", kind="ward", vintage="2026")


def _refs(answer: dict) -> set[str]:
    return {p["ref"] for p in answer["plans"]}


def _plan_over_a(tmp_path):
    """A GeoJSON file of one community action plan, CAP-A, covering square A."""
    square = geoms_bng_to_lonlat(np.array([bng_square(X0, Y0, 1000)]))[0]
    path = tmp_path / "cap_a.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": shapely.geometry.mapping(square),
        "properties": {"ref": "CAP-A", "type": "community_action_plan", "title": "All of A"}}]}))
    return path


def _app(url: str, tmp_path):
    from app import create_app

    return create_app({"TESTING": True, "DATABASE_URL": url, "TILES_URL": "", "SECRET_KEY": "t",
                       "INSTANCE_PATH": str(tmp_path / "instance")})


def test_the_lookup_route_sends_exactly_what_jsonify_would(loaded, squares_bng, tmp_path):
    gaelic = squares_bng.assign(name=[f"Cill Rìmhinn {c}" for c in squares_bng["code"]])
    gaelic.to_file(tmp_path / "gaelic.gpkg", layer="gaelic", driver="GPKG")
    pipeline.import_boundaries(loaded, GAELIC, tmp_path / "gaelic.gpkg")
    app = _app(loaded.url, tmp_path)
    try:
        _compare_with_jsonify(app)
    finally:
        if "capmap_store" in app.extensions:
            app.extensions["capmap_store"].close()


def _compare_with_jsonify(app) -> None:
    client = app.test_client()
    # Inside each square, on a shared edge, on the shared corner, in D's east half, off the grid.
    points = [(X0 + 500 + 1000 * i, Y0 + 500 + 1000 * j) for i in (0, 1) for j in (0, 1)]
    points += [(X0 + 1000, Y0 + 500), (X0 + 1000, Y0 + 1000), IN_EAST_D, (X0 - 500, Y0 + 500)]
    for x, y in points:
        lon, lat = lonlat_of(x, y)
        answer = client.get(f"/api/lookup?lon={lon!r}&lat={lat!r}")
        with app.app_context():
            from app.store import get_engine

            expected = jsonify(lookup(get_engine(), lon, lat)).get_data(as_text=True)
        assert answer.status_code == 200 and answer.mimetype == "application/json"
        assert answer.get_data(as_text=True) == expected, (x, y)
    raw = client.get("/api/lookup?lon={}&lat={}".format(*lonlat_of(*IN_EAST_D)))
    body = raw.get_json()
    assert body["areas"]["gaelic"] == {"code": "D", "kind": "ward", "name": "Cill Rìmhinn D"}
    assert body["areas"]["squares"]["code"] == "D" and _refs(body) == {"CAP-D", "LOIP"}
    assert "Cill R\\u00ecmhinn D" in raw.get_data(as_text=True)


def test_the_joined_text_equals_the_encoded_answer_everywhere(loaded):
    engine = Engine(loaded)
    rng = np.random.default_rng(11)
    points = list(zip(rng.uniform(X0 - 300, X0 + 2300, 300), rng.uniform(Y0 - 300, Y0 + 2300, 300),
                      strict=True))
    points += [(X0 + 1000 * i, Y0 + 1000 * j) for i in range(3) for j in range(3)]  # every corner
    for x, y in points:
        lon, lat = lonlat_of(x, y)
        assert lookup_json(engine, lon, lat) == json_text(lookup(engine, lon, lat)), (x, y)


def test_versions_are_read_at_most_once_per_interval(loaded):
    reads = []

    def count(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT") and meta.name in statement:
            reads.append(statement)

    from sqlalchemy import event

    event.listen(loaded.engine, "before_cursor_execute", count)
    lon, lat = lonlat_of(*IN_A)
    patient, eager = Engine(loaded, check_every=3600), Engine(loaded)
    answers = [lookup(patient, lon, lat) for _ in range(20)]
    assert len(reads) == 1  # the first request reads; the other 19 answer from memory
    reads.clear()
    assert [lookup(eager, lon, lat) for _ in range(20)] == answers
    assert len(reads) >= 20  # with no interval, at least one read per request
    event.remove(loaded.engine, "before_cursor_execute", count)


def test_a_write_by_this_process_is_seen_at_once(loaded, tmp_path):
    lon, lat = lonlat_of(*IN_A)
    engine = Engine(loaded, check_every=3600)
    assert _refs(lookup(engine, lon, lat)) == {"LP-AB", "LOIP"}
    other = open_store(loaded.url)  # another Store in this process, as a web import uses
    pipeline.import_plans(other, _plan_over_a(tmp_path), PlanFields())
    other.close()
    assert _refs(lookup(engine, lon, lat)) == {"LP-AB", "LOIP", "CAP-A"}


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_write_by_another_process_is_seen_within_the_interval(loaded, tmp_path):
    lon, lat = lonlat_of(*IN_A)
    patient, brisk = Engine(loaded, check_every=3600), Engine(loaded, check_every=0.05)
    assert _refs(lookup(patient, lon, lat)) == _refs(lookup(brisk, lon, lat)) == {"LP-AB", "LOIP"}
    run = subprocess.run([sys.executable, "-c", "from capmap.cli import main; main()", "--db",
                          loaded.url, "import", "plans", str(_plan_over_a(tmp_path))],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    time.sleep(0.1)  # longer than brisk's interval
    assert "CAP-A" not in _refs(lookup(patient, lon, lat))  # stale for up to its hour, as asked
    assert "CAP-A" in _refs(lookup(brisk, lon, lat))


def test_liveness_answers_without_touching_the_database(tmp_path):
    app = _app("postgresql://postgres@127.0.0.1:9/nothing_listens_here", tmp_path)
    answer = app.test_client().get("/health/live")
    assert answer.status_code == 200 and answer.get_json() == {"status": "ok"}
    assert "capmap_store" not in app.extensions and "capmap_engine" not in app.extensions


def _reference(engine: Engine, lon: float, lat: float) -> tuple[dict, list[str]]:
    """Every layer tested at the point, every plan tested against it: no neighbourhood shortcut."""
    areas = {layer_id: state.index.lookup(lon, lat) for layer_id, state in engine.layers().items()}
    plans = engine.plans()
    hits = shapely.intersects_xy(np.asarray(plans.plans.geometry.values, dtype=object), lon, lat)
    return {k: v for k, v in areas.items() if v is not None}, sorted(plans.plans["ref"][hits])


def _agrees(engine: Engine, points) -> None:
    for lon, lat in points:
        answer = lookup(engine, lon, lat)
        areas, refs = _reference(engine, lon, lat)
        assert {k: v["code"] for k, v in answer["areas"].items()} == areas, (lon, lat)
        assert sorted(p["ref"] for p in answer["plans"]) == refs, (lon, lat)


def test_lookups_settled_by_neighbourhood_agree_with_testing_everything(sample_db):
    store = open_store(f"sqlite:///{sample_db}")
    try:
        engine = Engine(store)
        hoods = engine.neighbourhoods()
        rng = np.random.default_rng(5)
        minx, miny, maxx, maxy = shapely.total_bounds(hoods.lonlat)
        points = list(zip(rng.uniform(minx, maxx, 600), rng.uniform(miny, maxy, 600), strict=True))
        # Vertices of some neighbourhoods: on edges, where nothing is settled.
        for geom in hoods.lonlat[:: len(hoods.lonlat) // 20]:
            points += [tuple(xy) for xy in shapely.get_coordinates(geom)[:5]]
        _agrees(engine, points)
        assert sum(key.startswith("settled:") for key in engine._memo) > 100  # the shortcut ran
    finally:
        store.close()


def test_a_layer_that_does_not_nest_is_tested_at_the_point(loaded, squares_bng, tmp_path):
    shifted = squares_bng.copy()
    shifted.geometry = shifted.geometry.translate(500, 300)  # straddles the squares
    shifted.to_file(tmp_path / "shifted.gpkg", layer="shifted", driver="GPKG")
    pipeline.import_boundaries(loaded, LayerDef(id="shifted", kind="ward", vintage="2026"),
                               tmp_path / "shifted.gpkg")
    engine = Engine(loaded)
    rng = np.random.default_rng(9)
    _agrees(engine, [lonlat_of(x, y) for x, y in zip(rng.uniform(X0 - 200, X0 + 2700, 300),
                                                     rng.uniform(Y0 - 200, Y0 + 2500, 300), strict=True)])
    settled = [v for k, v in engine._memo.items() if k.startswith("settled:")]
    assert settled and all("shifted" not in s.areas for s in settled)
    assert any(s.partial.size for s in settled)  # CAP-D covers half of D: tested point by point


def test_lookups_in_every_sample_neighbourhood_match_the_encoded_answer(sample_db):
    # The sample mixes neighbourhoods where everything is settled (the answer is encoded once for
    # the whole neighbourhood) with ones a drawn plan only partly covers (tested point by point).
    engine = Engine(open_store(f"sqlite:///{sample_db}"), check_every=60)
    hoods = engine.neighbourhoods()
    whole_answers = 0
    for row, hood in enumerate(hoods.lonlat):
        point = shapely.point_on_surface(hood)
        assert lookup_json(engine, point.x, point.y) == json_text(lookup(engine, point.x, point.y)), row
        code = hoods.areas["code"].iloc[row]
        settled = engine.memo(f"settled:{hoods.layer.id}:{code}", lambda: None)
        whole_answers += settled is not None and settled.lookup_pieces is not None
    assert 0 < whole_answers < len(hoods.lonlat)
    engine.store.close()
