"""Point-record imports in batches: every row stored with its areas, file row numbers kept
across batches, and one transaction for the whole file (a failure in the last batch keeps
nothing)."""

from __future__ import annotations

import io
import re
import sqlite3
from contextlib import closing

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from capmap.cli import cli
from capmap.core.crs import bng_to_lonlat
from capmap.core.errors import TooLarge, ValidationError
from capmap.io.readers import ReadLimits
from capmap.services import pipeline
from capmap.services.engine import Engine
from capmap.storage import open_store
from tests.conftest import X0, Y0

ROWS = 2500
BATCH = 1000  # so the file is read in three batches: rows 1-1000, 1001-2000, 2001-2500
SMALL = pipeline.ImportOptions(batch_rows=BATCH)
# Square of each row, by the 1 km cell it falls in: (column, row) from the grid's origin.
CELLS = {"A": (0, 0), "B": (1, 0), "C": (0, 1), "D": (1, 1)}


def _row(n: int) -> dict[str, str]:
    """Row n (from 1): in square ABCD[n % 4], except every 25th row, 3 km east of the grid."""
    square = "ABCD"[n % 4]
    i, j = CELLS[square]
    x, y = X0 + i * 1000 + 100 + n % 800, Y0 + j * 1000 + 100 + (n % 7) * 100
    if n % 25 == 0:
        x = X0 + 5000
    return {"ref": f"R{n}", "campaign": "BULK", "channel": "online", "date": "2025-06-01",
            "themes": "health", "easting": str(x), "northing": str(y), "age_band": "25-34"}


def expected_square(n: int) -> str | None:
    """The square row n lies in, worked out from how _row places it."""
    return None if n % 25 == 0 else "ABCD"[n % 4]


def _csv(path, bad: dict[int, dict[str, str]] | None = None, rows: int = ROWS):
    """`rows` responses; row n takes the values bad[n] where given."""
    lines = [",".join(_row(1).keys())]
    for n in range(1, rows + 1):
        row = {**_row(n), **(bad or {}).get(n, {})}
        lines.append(",".join(row.values()))
    path.write_text("\n".join(lines) + "\n")
    return path


def _bulk(store):
    """The responses of the file, by id."""
    frame = store.responses()
    return frame[frame["campaign"] == "BULK"].reset_index(drop=True)


def _codes(store, ids, layer: str = "squares") -> list:
    assigned = store.assigned_codes("responses", layer).set_index("record_id")["code"]
    return [assigned.get(int(i)) for i in ids]


def _state(store) -> dict:
    """Everything an import writes: rows, versions and assignments."""
    return {"counts": store.counts(), "versions": store.versions(),
            "responses": store.responses().to_wkt().to_dict("list"),
            "assigned": store.assigned_codes("responses", "squares").to_dict("list")}


def test_a_file_of_several_batches_stores_every_row_with_its_area(loaded, tmp_path):
    before = loaded.counts()["responses"]
    calls = []
    options = pipeline.ImportOptions(batch_rows=BATCH, progress=lambda *a: calls.append(a))
    report = pipeline.import_responses(loaded, _csv(tmp_path / "r.csv"), options=options)
    assert (report.read, report.stored, report.rejected) == (ROWS, ROWS, [])
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500), (2500, 2500)]
    assert loaded.counts()["responses"] == before + ROWS
    stored = _bulk(loaded)
    assert list(stored["ref"]) == [f"R{n}" for n in range(1, ROWS + 1)]  # ids in file order
    assert stored["id"].is_monotonic_increasing and stored["id"].is_unique
    expected = [expected_square(n) for n in range(1, ROWS + 1)]
    assert _codes(loaded, stored["id"]) == expected
    # The same as the engine answers for the stored points, and the points are the file's.
    assert list(Engine(loaded).assign(stored.geometry.values)["squares"]) == expected
    lon, lat = bng_to_lonlat([X0 + 5000], [Y0 + 100 + (25 % 7) * 100])
    assert shapely.equals_exact(stored.geometry.values[24], shapely.Point(lon[0], lat[0]),
                                tolerance=1e-9)
    assert str(stored["date"].iloc[0]) == "2025-06-01"


def test_rejected_rows_keep_their_file_row_numbers_across_batches(loaded, tmp_path):
    bad = {5: {"channel": "fax"}, 1001: {"campaign": ""}, 1500: {"channel": "fax"},
           2400: {"date": "June"}}
    report = pipeline.import_responses(loaded, _csv(tmp_path / "r.csv", bad), options=SMALL)
    fax = "channel 'fax' is not one of online, paper, event, street_stall (or a known alias of one)"
    assert report.rejected == [(5, fax), (1001, "campaign is blank"), (1500, fax),
                               (2400, "date 'June' is not a date (YYYY-MM-DD)")]
    assert report.stored == ROWS - 4
    refs = set(_bulk(loaded)["ref"])
    assert refs == {f"R{n}" for n in range(1, ROWS + 1)} - {"R5", "R1001", "R1500", "R2400"}


def test_bad_coordinates_in_a_later_batch_name_the_file_row(loaded, tmp_path):
    before = _state(loaded)
    path = _csv(tmp_path / "r.csv", {2200: {"easting": "east"}})
    with pytest.raises(ValidationError, match=r"in rows 2200 \(data rows counted from 1\)"):
        pipeline.import_responses(loaded, path, options=SMALL)
    assert _state(loaded) == before


REFUSE_ROW = {
    "sqlite": ["CREATE TRIGGER refuse_row BEFORE INSERT ON responses WHEN NEW.ref = 'R2400' "
               "BEGIN SELECT RAISE(ABORT, 'this row is refused'); END"],
    "postgis": ["CREATE OR REPLACE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF NEW.ref = 'R2400' THEN RAISE EXCEPTION 'this row is refused' "
                "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse_row BEFORE INSERT ON responses FOR EACH ROW "
                "EXECUTE FUNCTION refuse_row()"],
}


def test_a_row_the_database_refuses_in_the_last_batch_leaves_nothing(loaded, tmp_path):
    with loaded.engine.begin() as conn:
        for statement in REFUSE_ROW[loaded.name]:
            conn.exec_driver_sql(statement)
    before = _state(loaded)
    try:
        with pytest.raises(ValidationError, match="this row is refused") as refused:
            pipeline.import_responses(loaded, _csv(tmp_path / "r.csv"), options=SMALL)
        assert refused.value.message.endswith("nothing was stored")
        assert _state(loaded) == before
    finally:
        if loaded.name == "postgis":
            with loaded.engine.begin() as conn:
                conn.exec_driver_sql("DROP FUNCTION refuse_row() CASCADE")


def test_a_value_too_long_in_the_last_batch_leaves_nothing(loaded, tmp_path):
    before = _state(loaded)
    path = _csv(tmp_path / "r.csv", {2400: {"age_band": "twenty-five to thirty-four"}})
    with pytest.raises(ValidationError) as refused:
        pipeline.import_responses(loaded, path, options=SMALL)
    assert refused.value.message == (
        "responses: age_band holds at most 20 characters; 1 row(s) have more, the first is row "
        "2400 of those to store ('twenty-five to thirty-four'…); nothing was stored")
    assert _state(loaded) == before


def test_a_failure_after_the_last_batch_is_written_leaves_nothing(loaded, tmp_path):
    def progress(done: int, total: int) -> None:
        if done == total:  # every batch, assignments included, is written by now
            assert loaded.counts()["responses"] == 21 + ROWS  # seen inside the transaction
            raise RuntimeError("stopped after the last batch")

    before = _state(loaded)
    options = pipeline.ImportOptions(batch_rows=BATCH, progress=progress)
    with pytest.raises(RuntimeError, match="stopped after the last batch"):
        pipeline.import_responses(loaded, _csv(tmp_path / "r.csv"), options=options)
    assert _state(loaded) == before


def test_a_csv_of_points_is_not_held_to_the_feature_limit_but_to_its_own(loaded, tmp_path):
    path = _csv(tmp_path / "r.csv")
    features = pipeline.ImportOptions(batch_rows=BATCH, limits=ReadLimits(max_features=100))
    assert pipeline.import_responses(loaded, path, options=features).stored == ROWS
    before = _state(loaded)
    # The same file again: skip (not refuse) its stored rows, so the row limit is what stops it.
    rows = pipeline.ImportOptions(batch_rows=BATCH, limits=ReadLimits(max_point_rows=2000),
                                  on_existing="skip")
    with pytest.raises(TooLarge, match="r.csv: more than 2,000 rows; the limit is 2,000"):
        pipeline.import_responses(loaded, path, options=rows)
    assert _state(loaded) == before


def test_actions_refs_must_be_unique_across_batches(loaded, tmp_path):
    lines = ["ref,plan_ref,title"] + [f"A{n},LOIP,Action {n}" for n in range(1, 1501)]
    lines.append("A7,LOIP,Action 7 again")  # row 1501, in the second batch
    path = tmp_path / "actions.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationError, match="actions.csv: duplicate refs A7"):
        pipeline.import_actions(loaded, path, options=SMALL)
    assert loaded.counts()["actions"] == 0
    path.write_text("\n".join(lines[:-1]) + "\n")
    assert pipeline.import_actions(loaded, path, options=SMALL).stored == 1500
    assert list(loaded.actions()["ref"]) == [f"A{n}" for n in range(1, 1501)]


def test_pins_in_batches_each_get_a_public_point(loaded, tmp_path):
    lon, lat = bng_to_lonlat(X0 + 100 + np.arange(1200) % 800, np.full(1200, Y0 + 500))
    lines = ["category,description,lon,lat"] + [
        f"other,pin {n},{x:.7f},{y:.7f}" for n, (x, y) in enumerate(zip(lon, lat, strict=True))]
    path = tmp_path / "pins.csv"
    path.write_text("\n".join(lines) + "\n")
    report = pipeline.import_pins(loaded, path, options=SMALL)
    assert report.stored == 1200
    pins = loaded.pins()
    assert list(pins["description"]) == [f"pin {n}" for n in range(1200)]
    assert not shapely.is_missing(pins["public_geom"].values).any()
    codes = loaded.assigned_codes("pins", "squares")
    assert list(codes["code"]) == ["A"] * 1200


def _sample_rows(store, rows: int) -> str:
    """A CSV of responses at points inside the first layer's areas, in turn."""
    layer = sorted(la.id for la in store.layers() if la.is_current)[0]
    points = store.areas(layer).geometry.representative_point().values
    lines = ["ref,campaign,channel,date,lon,lat"]
    for n in range(rows):
        point = points[n % len(points)]
        lines.append(f"W{n},BULK,paper,2025-01-02,{point.x:.7f},{point.y:.7f}")
    return "\n".join(lines) + "\n"


def test_the_cli_and_the_web_store_the_same_rows(app, admin, tmp_path):
    url = app.config["DATABASE_URL"]
    copy = tmp_path / "cli.sqlite"
    with (closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as source,
          closing(sqlite3.connect(copy)) as to):
        source.backup(to)  # the CLI's database: the web's as it is before the import
    store = open_store(url)
    data = _sample_rows(store, ROWS).encode()
    store.close()
    preview = admin.post("/admin/import", content_type="multipart/form-data",
                         data={"kind": "responses", "file": (io.BytesIO(data), "bulk.csv")})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page[:500]
    token = re.search(r'action="/admin/import/(\w+)"', page).group(1)
    done = admin.post(f"/admin/import/{token}", data={"action": "confirm"})
    assert done.status_code == 200 and f"stored {ROWS}" in done.get_data(as_text=True)
    path = tmp_path / "bulk.csv"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["--db", f"sqlite:///{copy}", "import", "responses",
                                      str(path), "--batch-rows", str(BATCH)])
    assert result.exit_code == 0, result.output
    assert f"read {ROWS}, stored {ROWS}" in result.output
    web, by_cli = open_store(url), open_store(f"sqlite:///{copy}")
    try:
        ours, theirs = _bulk(web), _bulk(by_cli)
        assert len(ours) == ROWS
        columns = ["ref", "campaign", "channel", "date", "themes", "area_code"]
        assert ours[columns].to_dict("list") == theirs[columns].to_dict("list")
        assert list(ours.geometry.to_wkb()) == list(theirs.geometry.to_wkb())
        layers = sorted(la.id for la in web.layers() if la.is_current)
        for layer in layers:
            assert _codes(web, ours["id"], layer) == _codes(by_cli, theirs["id"], layer)
        assert any(c is not None for c in _codes(web, ours["id"], layers[0]))
    finally:
        web.close()
        by_cli.close()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1252"])
def test_batches_read_a_csv_as_read_vector_does(tmp_path, encoding):
    from capmap.io.batches import read_batches
    from capmap.io.readers import read_vector

    text = "ref;campaign;lon;lat\n" + "".join(
        f"R{n};Café {n % 3};-3.{n:03d};55.9\n" for n in range(1, 26))
    path = tmp_path / "semi.csv"
    path.write_bytes(text.encode(encoding))
    whole = read_vector(path)
    batches = list(read_batches(path, rows=10))
    assert [(b.offset, len(b.frame), b.expected) for b in batches] == [
        (0, 10, 25), (10, 10, 25), (20, 5, 25)]
    for batch in batches:
        part = whole.iloc[batch.offset:batch.offset + len(batch.frame)].reset_index(drop=True)
        assert batch.frame.drop(columns="geometry").equals(part.drop(columns="geometry"))
        assert list(batch.frame.geometry.to_wkb()) == list(part.geometry.to_wkb())
