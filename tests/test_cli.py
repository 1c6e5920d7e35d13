"""The command line through click's runner: the same pipeline as every other caller."""

from __future__ import annotations

import pyogrio
import pytest
from click.testing import CliRunner

from capmap.cli import cli
from tests.conftest import BOUNDARIES, SAMPLE


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def db(tmp_path, runner):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert runner.invoke(cli, ["--db", url, "init"]).exit_code == 0
    return url


def test_init_twice_is_harmless(runner, db):
    result = runner.invoke(cli, ["--db", db, "init"])
    assert result.exit_code == 0 and "already initialised" in result.output


def test_import_from_toml_and_options_then_list_and_export(runner, db, squares_bng, tmp_path):
    toml = runner.invoke(cli, ["--db", db, "import", "boundaries",
                               str(BOUNDARIES / "sample_wards.toml")])
    assert toml.exit_code == 0, toml.output
    assert "layer sample_wards (2026): read" in toml.output and "rejected 0" in toml.output
    path = tmp_path / "squares.gpkg"
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    result = runner.invoke(cli, ["--db", db, "import", "boundaries", str(path), "--layer", "sq",
                                 "--kind", "neighbourhood", "--population-field", "pop",
                                 "--vintage", "2026"])
    assert result.exit_code == 0, result.output
    assert "read 4, stored 4, repaired 0, rejected 0" in result.output
    listing = runner.invoke(cli, ["--db", db, "layers"])
    assert "sq" in listing.output and "sample_wards" in listing.output
    out = tmp_path / "sq.gpkg"
    export = runner.invoke(cli, ["--db", db, "export", "sq", "--format", "gpkg", "-o", str(out),
                                 "--crs", "EPSG:27700"])
    assert export.exit_code == 0, export.output
    back = pyogrio.read_dataframe(out)
    assert back.crs.to_epsg() == 27700 and list(back["code"]) == ["A", "B", "C", "D"]
    # Round trip through lon/lat and back to BNG lands within a centimetre of the original.
    assert back.geometry.values[0].equals_exact(squares_bng.geometry.values[0], tolerance=0.01)


def test_failure_is_one_line_and_non_zero(runner, db, tmp_path):
    path = tmp_path / "nothing.geojson"
    path.write_text("")
    result = runner.invoke(cli, ["--db", db, "import", "boundaries", str(path), "--layer", "x",
                                 "--kind", "ward"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_bad_kind_is_refused_by_the_parser(runner, db, tmp_path):
    result = runner.invoke(cli, ["--db", db, "import", "boundaries", "x.geojson", "--layer", "x",
                                 "--kind", "parish"])
    assert result.exit_code == 2 and "'parish' is not one of" in result.output


@pytest.mark.parametrize(("config", "env", "message"), [
    ("", {"CAPMAP_PIN_PUBLIC_MODE": "bogus"},
     "setting PIN_PUBLIC_MODE is 'bogus'; expected one of displace, grid"),
    ("SUPPRESS_BELOW = 'many'\n", {}, "setting SUPPRESS_BELOW is 'many'; expected a whole number"),
    ("GAP_RATIO = None\n", {}, "setting GAP_RATIO is None; expected a number"),
])
def test_a_bad_setting_is_one_line_naming_it(runner, db, tmp_path, config, env, message):
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "capmap.cfg").write_text(config, encoding="utf-8")
    result = runner.invoke(cli, ["--db", db, "export", "engagement", "-o",
                                 str(tmp_path / "out.geojson")],
                           env={"CAPMAP_INSTANCE_PATH": str(folder), **env})
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    name = message.split()[1]
    assert result.output == (f"Error: {message} (set in {folder / 'capmap.cfg'} or "
                             f"CAPMAP_{name})\n")


def test_commands_refuse_a_database_without_schema(runner, tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    result = runner.invoke(cli, ["--db", url, "layers"])
    assert result.exit_code == 1 and "capmap init" in result.output


def test_load_sample_loads_once(runner, db):
    first = runner.invoke(cli, ["--db", db, "load-sample", "--data", str(SAMPLE),
                                "--boundaries", str(BOUNDARIES)])
    assert first.exit_code == 0, first.output
    assert "plans: read" in first.output and "responses: read" in first.output
    second = runner.invoke(cli, ["--db", db, "load-sample", "--data", str(SAMPLE),
                                 "--boundaries", str(BOUNDARIES)])
    assert "already loaded" in second.output


def test_help_everywhere(runner):
    for args in ([], ["import"], ["import", "boundaries"], ["import", "plans"], ["export"],
                 ["serve"], ["demo"], ["load-sample"], ["generate-sample"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, args


def test_users_add_list_disable(runner, db):
    added = runner.invoke(cli, ["--db", db, "users", "add", "olivia", "--role", "officer",
                                "--role", "planner"])
    assert added.exit_code == 0, added.output
    password = added.output.split("password: ")[1].strip()
    assert len(password) >= 16
    from capmap.core.passwords import check_password
    from capmap.storage import open_store

    store = open_store(db)
    assert check_password(store.user("olivia").password_hash, password)
    assert password not in store.user("olivia").password_hash
    store.close()
    listed = runner.invoke(cli, ["--db", db, "users", "list"])
    assert "olivia" in listed.output and "officer,planner" in listed.output
    assert runner.invoke(cli, ["--db", db, "users", "disable", "olivia"]).exit_code == 0
    assert "disabled" in runner.invoke(cli, ["--db", db, "users", "list"]).output
    again = runner.invoke(cli, ["--db", db, "users", "add", "olivia", "--role", "officer"])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(cli, ["--db", db, "users", "add", "x", "--role", "king"])
    assert bad.exit_code == 2


def test_a_password_from_stdin_is_not_echoed(runner, db):
    result = runner.invoke(cli, ["--db", db, "users", "add", "pat", "--role", "planner",
                                 "--password-stdin"], input="a long enough secret\n")
    assert result.exit_code == 0 and "password:" not in result.output
    short = runner.invoke(cli, ["--db", db, "users", "add", "sam", "--role", "planner",
                                "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "12 characters" in short.output
