"""Fixtures: stores over SQLite and PostGIS, tiny synthetic squares, the app and its clients."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
import sqlalchemy as sa

from capmap.core.crs import bng_to_lonlat, geoms_bng_to_lonlat
from capmap.core.models import LayerDef
from capmap.io.prepare import PlanFields
from capmap.services import pipeline
from capmap.storage import open_store
from tests.schema_versions import wipe

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_geodata"
BOUNDARIES = ROOT / "boundaries"
POSTGIS_URL = os.environ.get("CAPMAP_TEST_POSTGIS_URL",
                             "postgresql://postgres@127.0.0.1:5432/capmap_test")


def _postgis_or_skip() -> str:
    """The PostGIS URL, or a skip (a failure when CAPMAP_REQUIRE_POSTGIS is set)."""
    engine = sa.create_engine(POSTGIS_URL.replace("postgresql://", "postgresql+psycopg://"),
                              connect_args={"connect_timeout": 3}, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT postgis_version()")
    except Exception as exc:  # noqa: BLE001 - any failure means "not available here"
        reason = f"PostGIS not reachable at {POSTGIS_URL}: {type(exc).__name__}"
        if os.environ.get("CAPMAP_REQUIRE_POSTGIS"):
            pytest.fail(reason + " (CAPMAP_REQUIRE_POSTGIS is set)")
        pytest.skip(reason)
    return POSTGIS_URL


def _wipe(url: str) -> None:
    store = open_store(url)
    with store.engine.begin() as conn:
        wipe(conn)
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("postgis", marks=pytest.mark.postgis)])
def store_url(request, tmp_path):
    """A URL of an empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'capmap.sqlite'}"
        return
    url = _postgis_or_skip()
    _wipe(url)
    yield url
    _wipe(url)


@pytest.fixture
def store(store_url):
    """An initialised, empty store on each backend."""
    st = open_store(store_url)
    st.init()
    yield st
    st.close()


def bng_square(x: float, y: float, size: float) -> shapely.Polygon:
    """A square in EPSG:27700 metres."""
    return shapely.box(x, y, x + size, y + size)


# A 2 x 2 grid of 1 km squares near Perth, in BNG: easy to check by hand.
GRID_ORIGIN = (310_000.0, 720_000.0)


@pytest.fixture
def squares_bng() -> gpd.GeoDataFrame:
    """Four 1 km squares A-D in EPSG:27700 (A south-west, B south-east, C north-west, D)."""
    x0, y0 = GRID_ORIGIN
    cells = [("A", 0, 0), ("B", 1, 0), ("C", 0, 1), ("D", 1, 1)]
    return gpd.GeoDataFrame(
        {"code": [c for c, _, _ in cells], "name": [f"Square {c}" for c, _, _ in cells],
         "pop": [500, 600, 700, 800], "council": ["S12000048"] * 4},
        geometry=[bng_square(x0 + i * 1000, y0 + j * 1000, 1000) for _, i, j in cells],
        crs="EPSG:27700",
    )


X0, Y0 = GRID_ORIGIN
SQUARES_Q = LayerDef(id="squares", kind="neighbourhood", vintage="2026", population_field="pop",
                   parent_field="council", simd_quintile_field="q")


@pytest.fixture
def loaded(store, squares_bng, tmp_path):
    """Squares A-D (pop 500-800; A and B in SIMD quintile 1) with three plans:
    LP-AB, a Locality Plan of A and B; CAP-D, a drawn plan over the east half of D;
    LOIP, the whole grid."""
    squares_bng["q"] = [1, 1, 3, 5]
    path = tmp_path / "squares.gpkg"
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    pipeline.import_boundaries(store, SQUARES_Q, path)
    plans_csv = tmp_path / "plans.csv"
    plans_csv.write_text("ref,type,title,review_due,layer,area_codes\n"
                         "LP-AB,locality_plan,South locality,2020-01-01,squares,A;B\n"
                         "LOIP,loip,Council LOIP,2030-01-01,squares,A;B;C;D\n")
    pipeline.import_plans(store, plans_csv, PlanFields())
    drawn = geoms_bng_to_lonlat(np.array([shapely.box(X0 + 1500, Y0 + 1000, X0 + 2000,
                                                      Y0 + 2000)]))[0]
    plans_json = tmp_path / "cap.geojson"
    plans_json.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": shapely.geometry.mapping(drawn),
        "properties": {"ref": "CAP-D", "type": "community_action_plan", "title": "East D"}}]}))
    pipeline.import_plans(store, plans_json, PlanFields())
    responses = tmp_path / "responses.csv"
    rows = ["campaign,channel,date,themes,easting,northing,area_code"]
    rows += [f"C1,online,2025-01-0{1 + i % 9},health,{X0 + 100 + i},{Y0 + 100},"
             for i in range(3)]                                   # 3 in A
    rows += [f"C1,paper,2025-02-01,housing,{X0 + 1100 + i},{Y0 + 1100}," for i in range(12)]  # D
    rows += ["C2,event,2025-03-01,health,,,C"] * 6                # 6 in C by code
    responses.write_text("\n".join(rows) + "\n")
    pipeline.import_responses(store, responses)
    return store



def lonlat_of(x: float, y: float) -> tuple[float, float]:
    """A BNG point in lon/lat."""
    lon, lat = bng_to_lonlat([x], [y])
    return float(lon[0]), float(lat[0])


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """A SQLite database with the sample data loaded, built once per run."""
    from capmap.services import pipeline

    path = tmp_path_factory.mktemp("sample") / "capmap.sqlite"
    st = open_store(f"sqlite:///{path}")
    st.init()
    pipeline.load_sample(st, SAMPLE, BOUNDARIES)
    st.close()
    return path


@pytest.fixture
def app(sample_db, tmp_path):
    """The app on a private copy of the sample database, with no basemap tiles."""
    from app import create_app
    from app.costly import close_query_process

    db = tmp_path / "capmap.sqlite"
    shutil.copy(sample_db, db)
    # Tests ask for many planscapes and exports from one address; the rate limit that would
    # stop them is tested on its own (tests/test_budgets.py).
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                      "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": str(tmp_path / "instance"),
                      "QUERY_RATE_LIMIT": "100000 per minute"})
    yield app
    close_query_process(app)
    if "capmap_store" in app.extensions:
        app.extensions["capmap_store"].close()


@pytest.fixture
def client(app):
    """A test client of the app, not logged in."""
    return app.test_client()


def plan_ids(app) -> dict[str, int]:
    """The ids of the plans in the app's database, by ref."""
    store = open_store(app.config["DATABASE_URL"])
    try:
        return store.plan_ids()
    finally:
        store.close()


PASSWORD = "correct horse battery staple"


def logged_in(app, username: str, roles: list[str], councils: list[str] = ()):
    """A test client logged in as a new user holding `roles` (limited to `councils`, if any)."""
    from capmap.core.passwords import hash_password

    store = open_store(app.config["DATABASE_URL"])
    store.add_user(username, hash_password(PASSWORD), roles, councils)
    store.close()
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


@pytest.fixture
def officer(app):
    """A client logged in as an engagement officer."""
    return logged_in(app, "olivia", ["officer"])


@pytest.fixture
def planner(app):
    """A client logged in as a planner."""
    return logged_in(app, "pat", ["planner"])


@pytest.fixture
def moderator(app):
    """A client logged in as a moderator."""
    return logged_in(app, "morag", ["moderator"])


@pytest.fixture
def admin(app):
    """A client logged in as an admin (who holds every role)."""
    return logged_in(app, "ada", ["admin"])
