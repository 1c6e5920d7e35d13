"""One settings file, read by the web app and the command line alike: with a non-default value
of every policy item (public pin statuses, exact-data roles, suppression, gap rules, region and
pin privacy), both give the same answer, and it is not the default answer."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import shapely
from click.testing import CliRunner

from capmap.cli import cli
from capmap.core import settings as S
from capmap.core.crs import lonlat_to_bng
from capmap.core.policy import DEFAULT_POLICY, from_settings
from capmap.services.pins import snap_to_grid
from capmap.storage import open_store
from tests.conftest import logged_in

SETTINGS = {
    "PIN_PUBLIC_STATUSES": ["published"],   # default: published and resolved
    "EXACT_DATA_ROLES": ["admin"],          # default: officer, planner, admin
    "SUPPRESS_BELOW": 10, "PUBLIC_ROUND_TO": 10,
    "GAP_RATIO": 0.9, "DEPRIVED_QUINTILE": 3, "LOCALITY_SHARE": 0.9,
    "PIN_PUBLIC_MODE": "grid", "PIN_GRID_M": 500.0,
}


@pytest.fixture
def both(sample_db, tmp_path):
    """The web app and a command runner over one copy of the sample, both set by one
    instance/capmap.cfg that also narrows the region to the west half of the sample's data."""
    from app import create_app
    from app.costly import close_query_process

    db = tmp_path / "capmap.sqlite"
    shutil.copy(sample_db, db)
    store = open_store(f"sqlite:///{db}")
    minx, miny, maxx, maxy = map(float, store.areas("sample_wards").total_bounds)
    store.close()
    half = (minx + maxx) / 2
    folder = tmp_path / "instance"
    folder.mkdir()
    lines = [f"{k} = {v!r}" for k, v in {**SETTINGS, "REGION_BOUNDS": [minx - 0.1, miny - 0.1,
                                                                          half, maxy + 0.1],
                                          "REGION_NAME": "the west"}.items()]
    (folder / "capmap.cfg").write_text("\n".join(lines) + "\n", encoding="utf-8")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                      "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": str(folder), "QUERY_RATE_LIMIT": "100000 per minute",
                      "QUERY_ISOLATION": False})
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(cli, ["--db", f"sqlite:///{db}", *args],
                             env={"CAPMAP_INSTANCE_PATH": str(folder)})

    app.cli_run, app.west, app.east = run, (minx + half) / 2, (half + maxx) / 2
    app.mid_lat = (miny + maxy) / 2
    yield app
    close_query_process(app)
    if "capmap_store" in app.extensions:
        app.extensions["capmap_store"].close()


def _cli_features(app, tmp_path, layer: str, *flags: str) -> list[dict]:
    out = tmp_path / f"{layer}-{len(flags)}.geojson"
    result = app.cli_run("export", layer, "-o", str(out), *flags)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))["features"]


def _web_features(client, layer: str) -> list[dict]:
    with client.get(f"/export/{layer}.geojson") as answer:
        assert answer.status_code == 200, answer.get_data(as_text=True)
        return json.loads(answer.get_data())["features"]


def _ids(features) -> list:
    return sorted(f["properties"].get("id", f["properties"].get("code")) for f in features)


def test_the_settings_file_is_one_object_for_both(both):
    loaded = S.load(environ={"CAPMAP_INSTANCE_PATH": both.instance_path})
    assert from_settings(loaded) == from_settings(both.config)
    assert from_settings(loaded) != DEFAULT_POLICY


def test_public_pin_statuses(both, tmp_path):
    store = open_store(both.config["DATABASE_URL"])
    pins = store.pins()
    store.close()
    published = sorted(pins.loc[pins["status"] == "published", "id"])
    assert (pins["status"] == "resolved").any()  # the setting leaves these out
    client = both.test_client()
    assert _ids(_cli_features(both, tmp_path, "pins", "--public")) == published
    assert _ids(_web_features(client, "pins")) == published
    ogc = client.get("/ogc/collections/pins/items?limit=10000").get_json()["features"]
    assert sorted(f["id"] for f in ogc) == published
    shown = client.get("/pins/data.json?bbox=-9,54.5,-0.5,61").get_json()
    assert sorted(p[0] for p in shown["points"]) == published and shown["statuses"] == ["published"]


def test_exact_data_roles(both, tmp_path):
    public = _ids(_cli_features(both, tmp_path, "pins", "--public"))
    exact = _ids(_cli_features(both, tmp_path, "pins"))
    assert len(exact) > len(public)
    officer = logged_in(both, "olivia", ["officer"])  # not in EXACT_DATA_ROLES here
    assert _ids(_web_features(officer, "pins")) == public
    with officer.get("/export/responses.geojson") as refused:
        assert refused.status_code == 403
    assert _ids(_web_features(logged_in(both, "ada", ["admin"]), "pins")) == exact
    figures = officer.get("/dashboard/engagement.json").get_json()["areas"]
    assert any(isinstance(row["responses"], str) for row in figures)  # suppressed for officers
    page = officer.get("/dashboard/engagement").get_data(as_text=True)
    assert "counts under 10 shown as &lt;10" in page


def test_suppression_and_engagement_gaps(both, tmp_path):
    cli_rows = {f["properties"]["code"]: f["properties"]
                for f in _cli_features(both, tmp_path, "engagement", "--public")}
    web_rows = {f["properties"]["code"]: f["properties"]
                for f in _web_features(both.test_client(), "engagement")}
    assert cli_rows == web_rows
    api = {row["code"]: row for row in
           both.test_client().get("/api/coverage/engagement").get_json()["areas"]}
    assert set(api) == set(cli_rows)
    for code, row in api.items():
        shown = cli_rows[code]
        assert shown["suppressed"] == (row["responses"] == "<10"), code
        assert shown["responses"] == (None if shown["suppressed"] else row["responses"])
        assert shown["gap"] == row["gap"]
        assert shown["suppressed"] or shown["responses"] % 10 == 0
    assert any(r["suppressed"] for r in cli_rows.values())
    gaps = {r["gap"] for r in cli_rows.values()}
    assert gaps == {True, False}


def test_gap_rules(both, tmp_path):
    from capmap.services.coverage import plan_coverage
    from capmap.services.engine import Engine

    cli_gaps = sorted(f["properties"]["code"] for f in _cli_features(both, tmp_path, "plan_coverage")
                      if f["properties"]["deprived_without_locality_plan"])
    web = both.test_client().get("/api/coverage/plans").get_json()
    web_gaps = sorted(row["code"] for row in web["deprived_without_locality_plan"])
    assert cli_gaps == web_gaps
    store = open_store(both.config["DATABASE_URL"])
    default = plan_coverage(Engine(store))["deprived_without_locality_plan"]
    store.close()
    assert set(web_gaps) > {row["code"] for row in default}  # quintiles 2 and 3 count too


def test_region(both, tmp_path):
    client = both.test_client()
    lat = both.mid_lat
    refused = client.get(f"/api/lookup?lon={both.east}&lat={lat}")
    assert refused.status_code == 422 and "the west" in refused.get_json()["message"]
    path = tmp_path / "east.csv"
    path.write_text(f"category,description,lon,lat\nother,a bin,{both.east},{lat}\n",
                    encoding="utf-8")
    result = both.cli_run("import", "pins", str(path))
    assert result.exit_code != 0 and "the west" in result.output, result.output
    form = client.post("/pins", data={"lon": f"{both.east:.6f}", "lat": f"{lat:.6f}",
                                      "category": "other", "description": "A bin left out."})
    assert form.status_code == 422 and "the west" in form.get_data(as_text=True)
    assert client.get(f"/api/lookup?lon={both.west}&lat={lat}").status_code == 200


def test_pin_privacy(both, tmp_path):
    lon, lat = both.west, both.mid_lat
    path = tmp_path / "pins.csv"
    path.write_text(f"category,description,lon,lat\nother,a bin,{lon},{lat}\n", encoding="utf-8")
    result = both.cli_run("import", "pins", str(path))
    assert result.exit_code == 0, result.output
    answer = both.test_client().post("/pins", data={
        "lon": f"{lon:.6f}", "lat": f"{lat:.6f}", "category": "other",
        "description": "A bin left on the pavement."})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    store = open_store(both.config["DATABASE_URL"])
    pins = store.pins().sort_values("id").tail(2)
    store.close()
    expected = snap_to_grid(shapely.points([lon], [lat]), 500.0)[0]
    for public in pins["public_geom"]:
        assert public.distance(expected) < 1e-6  # the centre of its 500 m square, both ways
    e, n = lonlat_to_bng(np.array([expected.x]), np.array([expected.y]))
    assert abs((e[0] % 500) - 250) < 1 and abs((n[0] % 500) - 250) < 1



def test_the_default_policy_is_the_default_settings():
    assert from_settings(S.DEFAULTS) == DEFAULT_POLICY
    with pytest.raises(ValueError, match="PIN_PUBLIC_STATUSES"):
        from_settings({**S.DEFAULTS, "PIN_PUBLIC_STATUSES": ["published", "pending"]})
    with pytest.raises(ValueError, match="PIN_PUBLIC_MODE is 'blur'; expected one of displace, grid"):
        from_settings({**S.DEFAULTS, "PIN_PUBLIC_MODE": "blur"})
    with pytest.raises(ValueError, match="REGION_BOUNDS"):
        from_settings({**S.DEFAULTS, "REGION_BOUNDS": [1, 2, 3]})
