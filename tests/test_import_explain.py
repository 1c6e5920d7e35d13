"""Imports that explain themselves: vocabularies with aliases, rejected rows by number with a
non-zero exit, per-file plan defaults and --crs, indicator fields and lost columns, via the CLI."""

from __future__ import annotations

import csv

import pytest
import shapely
from click.testing import CliRunner

from capmap.cli import cli
from capmap.storage import open_store
from tests.conftest import GRID_ORIGIN, lonlat_of

X0, Y0 = GRID_ORIGIN
LON, LAT = lonlat_of(X0 + 500, Y0 + 500)  # the middle of square A, near Perth


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def db(tmp_path, runner, squares_bng):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    assert runner.invoke(cli, ["--db", url, "init"]).exit_code == 0
    squares_bng["q"] = [1, 1, 3, 5]
    squares_bng["inc"] = [10, 20, 30, 40]
    path = tmp_path / "squares.gpkg"
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    result = runner.invoke(cli, ["--db", url, "import", "boundaries", str(path), "--layer", "sq",
                                 "--kind", "neighbourhood", "--vintage", "2026",
                                 "--population-field", "pop", "--simd-quintile-field", "q",
                                 "--indicator-field", "income=inc"])
    assert result.exit_code == 0, result.output
    return url


def _responses(tmp_path):
    # Rows 1-4 use channel spellings the aliases and folding map; row 5 an unknown channel;
    # row 6 has lat and lon swapped (55.9, -3.4 is in the North Sea as lon/lat, and inside
    # Scotland read the other way round).
    path = tmp_path / "responses.csv"
    path.write_text("campaign,channel,lon,lat\n"
                    f"C1,Online,{LON},{LAT}\n"
                    f"C1,web,{LON},{LAT}\n"
                    f"C1,street stall,{LON},{LAT}\n"
                    f"C1,Street_Stall,{LON},{LAT}\n"
                    f"C1,fax,{LON},{LAT}\n"
                    f"C1,paper,{LAT},{LON}\n")
    return path


def _count(url, what="responses"):
    store = open_store(url)
    try:
        return len(getattr(store, what)())
    finally:
        store.close()


def test_rejected_rows_are_named_exit_1_and_nothing_is_stored(runner, db, tmp_path):
    result = runner.invoke(cli, ["--db", db, "import", "responses", str(_responses(tmp_path))])
    assert result.exit_code == 1
    assert "rejected row 5: channel 'fax' is not one of online" in result.output
    assert "rejected row 6: point (" in result.output and "looks swapped" in result.output
    assert "2 rows rejected, so nothing was stored" in result.output
    assert _count(db) == 0


def test_allow_rejects_stores_the_good_rows_and_writes_the_rejects(runner, db, tmp_path):
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(cli, ["--db", db, "import", "responses", str(_responses(tmp_path)),
                                 "--allow-rejects", "--rejects-csv", str(rejects)])
    assert result.exit_code == 0, result.output
    assert "read 6, stored 4" in result.output
    with rejects.open() as file:
        rows = list(csv.reader(file))
    assert [r[0] for r in rows] == ["row", "5", "6"]
    store = open_store(db)
    # Online and web -> online; street stall and Street_Stall -> street_stall.
    assert sorted(store.responses()["channel"]) == ["online", "online", "street_stall",
                                                     "street_stall"]
    store.close()


def test_an_aliases_file_extends_the_vocabulary(runner, db, tmp_path):
    aliases = tmp_path / "aliases.toml"
    aliases.write_text('[channel]\nfax = "paper"\n')
    path = tmp_path / "r.csv"
    path.write_text(f"campaign,channel,lon,lat\nC1,FAX,{LON},{LAT}\n")
    result = runner.invoke(cli, ["--db", db, "import", "responses", str(path),
                                 "--aliases", str(aliases)])
    assert result.exit_code == 0, result.output
    store = open_store(db)
    assert list(store.responses()["channel"]) == ["paper"]
    store.close()


def test_an_alias_to_an_unknown_value_is_refused(runner, db, tmp_path):
    aliases = tmp_path / "aliases.toml"
    aliases.write_text('[channel]\nfax = "telegram"\n')
    result = runner.invoke(cli, ["--db", db, "import", "responses", str(_responses(tmp_path)),
                                 "--aliases", str(aliases)])
    assert result.exit_code == 1 and "must map to one of online" in result.output


def _plans_wkt(tmp_path):
    # Two plans drawn in BNG metres with no CRS stated: squares A and B. Row 2 has its own
    # title and owner; row 1 takes the defaults.
    path = tmp_path / "plans.csv"
    a, b = (shapely.box(X0 + dx, Y0, X0 + dx + 1000, Y0 + 1000).wkt for dx in (0, 1000))
    path.write_text(f'ref,name,title,owner,wkt\nLP-A,Northfield,,,"{a}"\n'
                    f'LP-B,Southfield,Own title,Trust,"{b}"\n')
    return path


def test_plans_take_crs_type_alias_and_per_file_defaults(runner, db, tmp_path):
    path = _plans_wkt(tmp_path)
    refused = runner.invoke(cli, ["--db", db, "import", "plans", str(path), "--type",
                                  "Locality Plan"])
    assert refused.exit_code == 1 and "--crs EPSG:27700" in refused.output
    result = runner.invoke(cli, ["--db", db, "import", "plans", str(path), "--type",
                                 "Locality Plan", "--crs", "EPSG:27700", "--owner", "Glen CPP",
                                 "--council", "S12000048", "--review-due", "2031-03-31",
                                 "--title-template", "{name} Locality Plan"])
    assert result.exit_code == 0, result.output
    store = open_store(db)
    plans = store.plans().set_index("ref")
    store.close()
    assert plans.loc["LP-A", "title"] == "Northfield Locality Plan"
    assert plans.loc["LP-B", "title"] == "Own title"          # its own title wins
    assert (plans.loc["LP-A", "owner"], plans.loc["LP-B", "owner"]) == ("Glen CPP", "Trust")
    assert set(plans["type"]) == {"locality_plan"}
    assert set(plans["council_code"]) == {"S12000048"}
    assert str(plans.loc["LP-A", "review_due"]) == "2031-03-31"


def test_a_plans_toml_holds_the_same_settings(runner, db, tmp_path):
    _plans_wkt(tmp_path)
    toml = tmp_path / "plans.toml"
    toml.write_text('source = "plans.csv"\ntype = "locality_plan"\ncrs = "EPSG:27700"\n'
                    '[defaults]\nowner = "Glen CPP"\ntitle_template = "{name} LP"\n')
    result = runner.invoke(cli, ["--db", db, "import", "plans", str(toml)])
    assert result.exit_code == 0, result.output
    store = open_store(db)
    assert sorted(store.plans()["title"]) == ["Northfield LP", "Own title"]
    store.close()


def test_a_title_template_reaching_into_objects_is_refused(runner, db, tmp_path):
    result = runner.invoke(cli, ["--db", db, "import", "plans", str(_plans_wkt(tmp_path)),
                                 "--type", "loip", "--crs", "EPSG:27700",
                                 "--title-template", "{name.__class__}"])
    assert result.exit_code == 1 and "must name a column plainly" in result.output


def test_a_vintage_without_simd_or_indicators_is_refused_unless_allowed(runner, db,
                                                                        squares_bng, tmp_path):
    bare = tmp_path / "bare.gpkg"
    squares_bng[["code", "name", "pop", "geometry"]].to_file(bare, layer="sq", driver="GPKG")
    args = ["--db", db, "import", "boundaries", str(bare), "--layer", "sq", "--kind",
            "neighbourhood", "--vintage", "2027", "--population-field", "pop"]
    refused = runner.invoke(cli, args)
    assert refused.exit_code == 1
    # The fixture's vintage has SIMD and income for all four squares.
    assert "this vintage has no SIMD: 4 zones of sq (2026) would lose their SIMD" in refused.output
    assert "no indicator income: 4 zones" in refused.output
    store = open_store(db)
    assert store.layer("sq").vintage == "2026" and len(store.layers()) == 1
    store.close()
    allowed = runner.invoke(cli, [*args, "--allow-losses"])
    assert allowed.exit_code == 0, allowed.output
    store = open_store(db)
    assert store.layer("sq").vintage == "2027"
    store.close()


def test_the_indicator_field_is_stored_from_the_cli(runner, db):
    store = open_store(db)
    assert store.area_indicators("sq", ["A", "D"])["income"].tolist() == [10.0, 40.0]
    store.close()
