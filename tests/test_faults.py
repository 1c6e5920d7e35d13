"""Faults, on the real parts: a server SIGKILLed mid-submission, writer processes contending for one
SQLite file, a database that goes away and comes back, imports that fail half-way or fill the disk.
"""

from __future__ import annotations

import http.client
import io
import multiprocessing
import re
import threading
import time
import uuid

import geopandas as gpd
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy import event

from capmap.core.errors import StoreFull, ValidationError
from capmap.core.passwords import hash_password
from capmap.services import pins as P
from capmap.services import pipeline
from capmap.services.engine import Engine
from capmap.storage import open_store
from tests.conftest import PASSWORD, X0, Y0, lonlat_of
from tests.servers import Browser, gunicorn, private_postgres, redis_url

# Pins are posted inside square A of the `loaded` grid.
SPOT = lonlat_of(X0 + 400, Y0 + 600)
ACKNOWLEDGED_BEFORE_KILL = 30
CLIENTS = 4


def _pin_form(token: str, description: str) -> dict:
    return {"csrf_token": token, "lon": f"{SPOT[0]:.6f}", "lat": f"{SPOT[1]:.6f}",
            "category": "potholes_roads", "description": description, "contact": ""}


def _post_pins(base: str, name: str, stop: threading.Event, acked: list[str],
               unexpected: list) -> None:
    """Post pins as fast as the server answers, each with its own description; keep those
    answered 201. Ends when told to or when the server is gone."""
    client = Browser(base)
    try:
        token = client.csrf_token()
        n = 0
        while not stop.is_set():
            description = f"{name} report {n}: the pothole outside number {n} is deeper"
            answer = client.request("/pins", _pin_form(token, description))
            if answer.status == 201:
                acked.append(description)
            elif not stop.is_set():
                unexpected.append((answer.status, answer.text[:300]))
            n += 1
    except (OSError, http.client.HTTPException):
        return  # killed mid-request: that pin was never acknowledged


def _server_settings(backend: str, prefix: str, redis: str | None) -> dict:
    settings = {"PIN_RATE_LIMIT": "100000 per minute"}  # the test posts hundreds from one address
    if backend == "postgis":  # the production set-up: rate-limit counters shared in Redis
        settings.update(RATELIMIT_STORAGE_URI=redis, RATELIMIT_KEY_PREFIX=prefix,
                        RATELIMIT_SWALLOW_ERRORS="false")
    return settings


@pytest.mark.slow
def test_acknowledged_pins_survive_a_sigkill_of_the_server(loaded, tmp_path):
    backend, url = loaded.name, loaded.url
    loaded.close()
    prefix = f"capmap-test-{uuid.uuid4().hex}"
    with redis_url(required=backend == "postgis") as redis:
        settings = _server_settings(backend, prefix, redis)
        acked: list[str] = []
        unexpected: list = []
        with gunicorn(url, tmp_path, workers=2, **settings) as server:
            stop = threading.Event()
            threads = [threading.Thread(target=_post_pins, args=(server.url, f"client{i}", stop, acked,
                                                                 unexpected)) for i in range(CLIENTS)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 120
            while len(acked) < ACKNOWLEDGED_BEFORE_KILL and not unexpected and time.monotonic() < deadline:
                time.sleep(0.01)
            server.kill()  # master and both workers, in the middle of requests
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        assert not unexpected, unexpected[:3]
        assert len(acked) >= ACKNOWLEDGED_BEFORE_KILL
        if backend == "postgis":
            import redis as redis_client

            # Both workers counted every submission in the one shared counter.
            counters = redis_client.Redis.from_url(redis)
            keys = list(counters.scan_iter(match=f"*/{prefix}/*"))
            assert len(keys) == 1, keys
            assert int(counters.get(keys[0])) >= len(acked)
            counters.delete(*keys)

        # The same database, a new server: it comes up, takes pins, and has every acknowledged one.
        with gunicorn(url, tmp_path, workers=2, **settings) as again:
            client = Browser(again.url)
            after = "after the crash: the street light by the school is out"
            assert client.request("/pins", _pin_form(client.csrf_token(), after)).status == 201
        store = open_store(url)
        stored = list(store.pins()["description"])
        store.close()
    missing = sorted(set(acked) - set(stored))
    print(f"\n{backend}: {len(acked)} pins acknowledged before SIGKILL, "
          f"{len(stored) - 1} stored before the restart, {len(missing)} acknowledged but missing")
    assert not missing
    assert after in stored
    assert len(stored) == len(set(stored))  # no pin stored twice


# -- four writer processes on one SQLite file --------------------------------------------------

WRITERS = 4
WRITES_EACH = 36  # every sixth a batch of responses, the others one pin each
BATCH_ROWS = 25


def _is_batch(i: int) -> bool:
    return i % 6 == 5


def _write_many(url: str, name: str, start, results) -> None:
    """A writer process: WRITES_EACH write transactions, pins (through the engine, as the web form
    stores them) and batches of responses interleaved; reports what failed."""
    store = open_store(url)
    engine = Engine(store)
    start.wait()
    done, errors = 0, []
    for i in range(WRITES_EACH):
        try:
            if _is_batch(i):
                points = [shapely.Point(*lonlat_of(X0 + 1500 + j, Y0 + 500)) for j in range(BATCH_ROWS)]
                frame = gpd.GeoDataFrame({"campaign": [f"{name}-{i}"] * BATCH_ROWS,
                                          "channel": ["online"] * BATCH_ROWS},
                                         geometry=points, crs="EPSG:4326").rename_geometry("geom")
                store.put_responses(frame, engine.assign(frame.geometry.values))
            else:
                P.submit_pin(store, engine, P.NewPin(SPOT[0], SPOT[1], "other", f"{name} pin {i}"))
            done += 1
        except Exception as exc:  # noqa: BLE001 - every failure is counted and reported
            errors.append(f"{type(exc).__name__}: {exc} (from {exc.__cause__!r})")
    store.close()
    results.put((name, done, errors))


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_four_writer_processes_on_one_sqlite_file(loaded):
    before, version = loaded.counts(), loaded.data_version()
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    writers = [context.Process(target=_write_many, args=(loaded.url, f"w{n}", start, results))
               for n in range(WRITERS)]
    for writer in writers:
        writer.start()
    start.set()
    reports = [results.get(timeout=300) for _ in writers]
    for writer in writers:
        writer.join(timeout=60)
    errors = [e for _, _, errs in reports for e in errs]
    attempted = WRITERS * WRITES_EACH
    batches = sum(map(_is_batch, range(WRITES_EACH)))
    succeeded = sum(done for _, done, _ in reports)
    print(f"\n{WRITERS} writer processes: {attempted} write transactions attempted, {succeeded} "
          f"succeeded, {sum('locked' in e for e in errors)} 'database is locked'")
    assert errors == []
    after = loaded.counts()
    assert after["pins"] == before["pins"] + WRITERS * (WRITES_EACH - batches)
    assert after["responses"] == before["responses"] + WRITERS * batches * BATCH_ROWS
    pins = set(loaded.pins()["description"])
    assert {f"w{n} pin {i}" for n in range(WRITERS) for i in range(WRITES_EACH)
            if not _is_batch(i)} <= pins
    campaigns = loaded.responses()["campaign"].value_counts()
    assert all(campaigns[f"w{n}-{i}"] == BATCH_ROWS for n in range(WRITERS)
               for i in range(WRITES_EACH) if _is_batch(i))
    # Each write bumped data_version exactly once: no write was lost or counted twice.
    assert loaded.data_version() == version + attempted


# -- the database goes away and comes back -----------------------------------------------------

UNAVAILABLE = "the database is not available; try again shortly"
# Every route that reads the database; the JSON ones answer JSON, the pages HTML.
PAGES = ["/", "/pins", "/planscape", "/plans/1", "/planscape/search?q=Square", "/dashboard/engagement"]
JSON_ROUTES = ["/health", "/api/lookup?lon={lon}&lat={lat}", "/api/layers/squares/areas?zoom=12",
               "/api/coverage/plans", "/api/coverage/engagement?layer=squares", "/pins/data.json",
               "/ogc/collections", "/ogc/collections/squares/items", "/export/squares.geojson"]


@pytest.mark.slow
def test_a_database_outage_answers_503_and_recovers_by_itself(tmp_path, squares_bng):
    with private_postgres() as cluster:
        store = open_store(cluster.url)
        store.init()
        _load_squares(store, squares_bng, tmp_path)
        store.add_user("olivia", hash_password(PASSWORD), ["officer"])
        store.close()
        # VERSION_CHECK_MS=0: the engine asks the database on every request, so the outage shows at
        # once (by default each worker answers from memory for up to that long).
        with gunicorn(cluster.url, tmp_path, workers=2, VERSION_CHECK_MS="0") as server:
            officer = Browser(server.url)
            login = {"csrf_token": officer.csrf_token("/login"), "username": "olivia",
                     "password": PASSWORD}
            assert officer.request("/login", login).status == 200
            routes = PAGES + [r.format(lon=SPOT[0], lat=SPOT[1]) for r in JSON_ROUTES]
            for route in routes:
                answer = officer.request(route)
                assert answer.status == 200, (route, answer.text[:300])
            workers = server.workers()

            cluster.stop()
            started = time.monotonic()
            for route in routes:
                answer = officer.request(route)
                assert answer.status == 503, (route, answer.status, answer.text[:300])
                assert UNAVAILABLE in answer.text and "Traceback" not in answer.text, route
                assert answer.headers["Retry-After"] == "5"
                json_route = route.startswith(("/api/", "/ogc", "/export", "/health", "/pins/"))
                kind = "application/json" if json_route else "text/html"
                assert answer.headers["Content-Type"].startswith(kind), route
            down_s = time.monotonic() - started
            assert officer.request("/health/live").status == 200
            assert server.workers() == workers  # no worker died or was replaced

            cluster.start()
            started = time.monotonic()
            for route in routes:  # the first try after the restart: no retry, no server restart
                answer = officer.request(route)
                assert answer.status == 200, (route, answer.status, answer.text[:300])
            up_s = time.monotonic() - started
            assert server.workers() == workers

            # Every pooled connection cut while the server stays up (a failover, an idle timeout
            # in a firewall): each worker notices on its next checkout and connects again.
            cut = _terminate_connections(cluster.url)
            # At least one: the workers share one listening socket, so one of them may have
            # answered every request since the restart and hold the only pooled connection.
            assert cut >= 1
            for route in routes:
                answer = officer.request(route)
                assert answer.status == 200, (route, answer.status, answer.text[:300])
    print(f"\ndatabase down: {len(routes)} routes answered 503 in {down_s:.2f} s; "
          f"back up: the same {len(routes)} answered 200 in {up_s:.2f} s")


def _terminate_connections(url: str) -> int:
    """End every other connection to the database of `url`; how many there were."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"),
                              poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        ended = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar_one()
    engine.dispose()
    return ended


def _load_squares(store, squares_bng, tmp_path) -> None:
    """The 2 x 2 squares, a plan over all of them and a response, on `store`."""
    from capmap.io.prepare import PlanFields
    from tests.conftest import SQUARES_Q

    squares_bng["q"] = [1, 1, 3, 5]
    path = tmp_path / "squares.gpkg"
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    pipeline.import_boundaries(store, SQUARES_Q, path)
    plans = tmp_path / "plans.csv"
    plans.write_text("ref,type,title,layer,area_codes\nLOIP,loip,Council LOIP,squares,A;B;C;D\n")
    pipeline.import_plans(store, plans, PlanFields())
    responses = tmp_path / "responses.csv"
    responses.write_text(f"campaign,channel,easting,northing\nC1,online,{X0 + 100},{Y0 + 100}\n")
    pipeline.import_responses(store, responses)


# -- imports that fail half-way ----------------------------------------------------------------

ROWS = 10_000
BAD_ROW = 5_000  # counted from 1, as import reports count rows


def _responses_csv(path, bad: dict[str, str] | None = None, rows: int = ROWS):
    """`rows` responses located in the squares; row BAD_ROW gets the `bad` values."""
    lines = ["campaign,channel,date,themes,easting,northing,age_band"]
    for n in range(1, rows + 1):
        row = {"campaign": "C9", "channel": "online", "date": "2025-06-01", "themes": "health",
               "easting": str(X0 + 50 + n % 1900), "northing": str(Y0 + 50 + (n // 1900) * 300),
               "age_band": "25-34"}
        if n == BAD_ROW and bad:
            row.update(bad)
        lines.append(",".join(row.values()))
    path.write_text("\n".join(lines) + "\n")
    return path


def _state(store) -> dict:
    """Everything an import could change: rows, versions and both derived tables."""
    layers = sorted(store.assigned_layers())
    return {
        "counts": store.counts(), "versions": store.versions(),
        "responses": store.responses().to_wkt().to_dict("list"),
        "assignments": {(record, layer): store.assigned_codes(record, layer).to_dict("list")
                        for record in ("responses", "pins", "actions") for layer in layers},
        "coverage": store.plan_coverage("squares").to_dict("list"),
    }


def test_a_bad_row_is_rejected_and_reported_and_the_rest_stored(loaded, tmp_path):
    before = loaded.counts()["responses"]
    path = _responses_csv(tmp_path / "responses.csv", {"channel": "carrier pigeon"})
    report = pipeline.import_responses(loaded, path)
    assert report.read == ROWS and report.stored == ROWS - 1
    assert report.rejected == [(BAD_ROW, "channel 'carrier pigeon' is not one of "
                                         "online, paper, event, street_stall (or a known "
                                         "alias of one)")]
    assert loaded.counts()["responses"] == before + ROWS - 1


REFUSE_ROW = {
    "sqlite": ["CREATE TRIGGER refuse_row BEFORE INSERT ON responses WHEN NEW.campaign = 'refused' "
               "BEGIN SELECT RAISE(ABORT, 'this row is refused'); END"],
    "postgis": ["CREATE OR REPLACE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN IF NEW.campaign = 'refused' THEN RAISE EXCEPTION 'this row is refused' "
                "USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$",
                "CREATE TRIGGER refuse_row BEFORE INSERT ON responses FOR EACH ROW "
                "EXECUTE FUNCTION refuse_row()"],
}


def test_a_write_failing_at_row_5000_leaves_everything_as_it_was(loaded, tmp_path):
    # The database itself refuses row 5,000 (a trigger standing in for any write error the
    # checks before it cannot foresee), after rows 1 to 4,999 were written in the transaction.
    with loaded.engine.begin() as conn:
        for statement in REFUSE_ROW[loaded.name]:
            conn.exec_driver_sql(statement)
    before = _state(loaded)
    path = _responses_csv(tmp_path / "responses.csv", {"campaign": "refused"})
    with pytest.raises(ValidationError) as refused:
        pipeline.import_responses(loaded, path)
    assert "the database refused the write" in refused.value.message
    assert "this row is refused" in refused.value.message
    assert refused.value.message.endswith("nothing was stored")
    assert _state(loaded) == before
    if loaded.name == "postgis":
        with loaded.engine.begin() as conn:
            conn.exec_driver_sql("DROP FUNCTION refuse_row() CASCADE")


# The same refusal for the derived tables: the records go in, then their refresh fails.
REFUSE_DERIVED = {
    "sqlite": ["CREATE TRIGGER refuse_assignment BEFORE INSERT ON assignments "
               "BEGIN SELECT RAISE(ABORT, 'this row is refused'); END",
               "CREATE TRIGGER refuse_coverage BEFORE INSERT ON plan_coverage "
               "BEGIN SELECT RAISE(ABORT, 'this row is refused'); END"],
    "postgis": ["CREATE OR REPLACE FUNCTION refuse_row() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION 'this row is refused' USING ERRCODE = 'check_violation'; END $$",
                "CREATE TRIGGER refuse_assignment BEFORE INSERT ON assignments FOR EACH ROW "
                "EXECUTE FUNCTION refuse_row()",
                "CREATE TRIGGER refuse_coverage BEFORE INSERT ON plan_coverage FOR EACH ROW "
                "EXECUTE FUNCTION refuse_row()"],
}


def test_an_import_failing_in_its_derived_tables_keeps_the_previous_layer_and_plans(
        loaded, squares_bng, tmp_path):
    from capmap.io.prepare import PlanFields
    from tests.conftest import SQUARES_Q

    with loaded.engine.begin() as conn:
        for statement in REFUSE_DERIVED[loaded.name]:
            conn.exec_driver_sql(statement)
    before = _state(loaded)
    before["areas"] = loaded.areas("squares").to_wkt().to_dict("list")
    before["layers"] = loaded.layers()
    before["plans"] = loaded.plans().to_wkt().to_dict("list")
    # The squares again, moved 100 m east: the layer is replaced, then its assignments fail.
    moved = squares_bng.set_geometry(squares_bng.geometry.translate(xoff=100))
    moved.to_file(tmp_path / "moved.gpkg", layer="squares", driver="GPKG")
    with pytest.raises(ValidationError, match="this row is refused"):
        pipeline.import_boundaries(loaded, SQUARES_Q, tmp_path / "moved.gpkg")
    # A new plan: stored, then its coverage rows fail.
    (tmp_path / "more.csv").write_text("ref,type,title,layer,area_codes\n"
                                       "LP-C,locality_plan,North locality,squares,C\n")
    with pytest.raises(ValidationError, match="this row is refused"):
        pipeline.import_plans(loaded, tmp_path / "more.csv", PlanFields())
    after = _state(loaded)
    after["areas"] = loaded.areas("squares").to_wkt().to_dict("list")
    after["layers"] = loaded.layers()
    after["plans"] = loaded.plans().to_wkt().to_dict("list")
    assert after == before
    if loaded.name == "postgis":
        with loaded.engine.begin() as conn:
            conn.exec_driver_sql("DROP FUNCTION refuse_row() CASCADE")


def test_a_value_too_long_for_its_column_refuses_the_file_on_both_backends(loaded, tmp_path):
    # PostgreSQL would fail such a row at the write and SQLite would keep it whole: the store
    # refuses it first, alike on both.
    before = _state(loaded)
    path = _responses_csv(tmp_path / "responses.csv", {"age_band": "twenty-five to thirty-four"})
    with pytest.raises(ValidationError) as refused:
        pipeline.import_responses(loaded, path)
    assert refused.value.message == (
        "responses: age_band holds at most 20 characters; 1 row(s) have more, the first is row "
        f"{BAD_ROW} of those to store ('twenty-five to thirty-four'…); nothing was stored")
    assert _state(loaded) == before


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_full_disk_answers_507_and_keeps_the_previous_data(loaded, tmp_path):
    from app import create_app
    from app.store import get_store
    app = create_app({"TESTING": True, "DATABASE_URL": loaded.url, "TILES_URL": "",
                      "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": str(tmp_path / "instance")})
    loaded.add_user("ada", hash_password(PASSWORD), ["admin"])
    admin = app.test_client()
    assert admin.post("/login", data={"username": "ada", "password": PASSWORD}).status_code == 302
    before = _state(loaded)
    with loaded.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    with app.app_context():
        served = get_store()
        # SQLite's size limit, a few pages above what the data takes now, on every connection of
        # the app's store: the import's write hits SQLITE_FULL as on a full disk.
        event.listen(served.engine, "connect",
                     lambda dbapi, _: dbapi.execute(f"PRAGMA max_page_count = {pages + 4}"))
        served.engine.dispose()
    # 3,000 rows: under the test client's 500 kB in-memory limit for a request body.
    data = _responses_csv(tmp_path / "upload.csv", rows=3000).read_bytes()
    preview = admin.post("/admin/import", content_type="multipart/form-data",
                         data={"kind": "responses", "file": (io.BytesIO(data), "responses.csv")})
    assert preview.status_code == 200, preview.get_data(as_text=True)[:500]
    token = re.search(r'action="/admin/import/(\w+)"', preview.get_data(as_text=True)).group(1)
    answer = admin.post(f"/admin/import/{token}", data={"action": "confirm"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 507
    assert "the database is out of space (its disk or size limit is full); nothing was stored" in page
    assert "Traceback" not in page
    assert _state(loaded) == before
    assert not (tmp_path / "instance" / "uploads" / token).exists()
    with app.app_context():  # the same through the library, as `capmap import` calls it
        with pytest.raises(StoreFull):
            pipeline.import_responses(get_store(), _responses_csv(tmp_path / "responses.csv"))
        get_store().close()
    assert _state(loaded) == before


def test_sqlalchemy_is_the_only_path_to_the_database():
    # The mapping of database failures in Store._read/_write covers every query only if nothing
    # else opens connections: no module but the store touches the engine.
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    users = [str(p.relative_to(root)) for p in (root / "src").rglob("*.py")
             if ".engine.connect(" in p.read_text() or ".engine.begin(" in p.read_text()]
    users += [str(p.relative_to(root)) for p in (root / "app").rglob("*.py")
              if ".engine.connect(" in p.read_text() or ".engine.begin(" in p.read_text()]
    assert users == ["src/capmap/storage/store.py"]



def test_workers_starting_together_share_one_whole_secret_key(tmp_path):
    # Every gunicorn worker builds the app, and the first run makes instance/secret_key: a worker
    # must never read the key before it is written whole, or its sessions would not be the others'.
    # (Creating the file and then writing it lost this race in about one start in ten.)
    from app import _instance_secret

    for run in range(20):
        folder = tmp_path / f"instance{run}"
        barrier = threading.Barrier(16)
        keys: list[str] = []

        def start_worker(folder=folder, barrier=barrier, keys=keys) -> None:
            barrier.wait()
            keys.append(_instance_secret(folder))

        threads = [threading.Thread(target=start_worker) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(keys)) == 1 and len(keys[0]) == 64, (run, set(keys))
        assert [p.name for p in folder.iterdir()] == ["secret_key"]  # no drafts left behind
        assert (folder / "secret_key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_full_disk_is_one_clear_line_from_the_command_line(loaded, tmp_path):
    from click.testing import CliRunner

    from capmap.cli import cli

    before = _state(loaded)
    with loaded.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()

    def limit(dbapi, _record) -> None:
        dbapi.execute(f"PRAGMA max_page_count = {pages + 4}")

    # On every engine this process makes while the command runs: the command opens its own.
    event.listen(sa.Engine, "connect", limit)
    try:
        result = CliRunner().invoke(cli, ["--db", loaded.url, "import", "responses",
                                          str(_responses_csv(tmp_path / "responses.csv"))])
    finally:
        event.remove(sa.Engine, "connect", limit)
    assert result.exit_code == 1
    assert result.output.strip().endswith(
        "Error: the database is out of space (its disk or size limit is full); nothing was stored")
    assert "Traceback" not in result.output
    assert _state(loaded) == before
