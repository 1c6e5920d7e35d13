"""An exported file is what its name says, on the command line and on the web, for every format."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from capmap.cli import cli
from capmap.io.outputs import ENDINGS
from capmap.io.writers import FORMATS

LAYER = "sample_dz"


def content_kind(data: bytes) -> str:
    """What a file holds, from its first bytes (never from its name)."""
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[:16] == b"SQLite format 3\x00":
        return "gpkg"
    if data[:3] == b"fgb":
        return "fgb"
    start = data.lstrip()[:5]
    if start == b"<?xml":
        return "kml"
    if start[:1] == b"{":
        json.loads(data)
        return "geojson"
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    assert len(rows) > 1 and len({len(r) for r in rows}) == 1  # a rectangular table
    return "csv"


def said_by(name: str) -> str:
    """What a file's name says it holds."""
    for ending, kind in ((".zip", "zip"), (".gpkg", "gpkg"), (".geojson", "geojson"),
                         (".json", "geojson"), (".kml", "kml"), (".fgb", "fgb"), (".csv", "csv")):
        if name.lower().endswith(ending):
            return kind
    raise AssertionError(f"{name} says nothing")


def _export(db: str, layer: str, fmt: str, out: Path):
    return CliRunner().invoke(cli, ["--db", db, "export", layer, "--format", fmt, "-o", str(out)])


def test_every_format_has_its_endings():
    assert set(ENDINGS) == set(FORMATS)
    for name, spec in FORMATS.items():  # the web's download suffix is one of them
        assert spec.suffix in ENDINGS[name][0], name


@pytest.mark.parametrize("fmt, name, layer", [
    ("geojson", "dz.geojson", LAYER), ("geojson", "dz.json", LAYER), ("gpkg", "dz.gpkg", LAYER),
    ("shp", "dz.shp.zip", LAYER), ("shp", "dz.zip", LAYER), ("kml", "dz.kml", LAYER),
    ("fgb", "dz.fgb", LAYER), ("csv", "dz.csv", LAYER), ("csv", "dz.zip", LAYER),
    ("csv", "dz.csv.zip", LAYER), ("csv-lonlat", "pins.csv", "pins"),
    ("csv-lonlat", "pins.zip", "pins")])
def test_the_command_line_writes_what_the_name_says(sample_db, tmp_path, fmt, name, layer):
    out = tmp_path / name
    result = _export(f"sqlite:///{sample_db}", layer, fmt, out)
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert content_kind(data) == said_by(name)
    if said_by(name) == "zip":
        with zipfile.ZipFile(out) as archive:
            assert "README.txt" in archive.namelist()


def test_a_plain_csv_is_the_whole_table(sample_db, tmp_path):
    out = tmp_path / "dz.csv"
    result = _export(f"sqlite:///{sample_db}", LAYER, "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    # "wrote N features of sample_dz": one row per feature, geometry as WKT.
    written = int(result.output.split("wrote ")[1].split()[0])
    assert len(rows) == written > 0
    assert rows[0]["WKT"].startswith(("POLYGON", "MULTIPOLYGON"))
    assert "README.txt" in result.output  # it says where the licence is not


@pytest.mark.parametrize("fmt, name, suggested", [
    ("shp", "dz.shp", "dz.shp.zip"), ("csv", "dz.txt", "dz.csv"), ("gpkg", "dz.geojson", "dz.gpkg"),
    ("geojson", "dz.gpkg", "dz.geojson"), ("fgb", "dz.csv", "dz.fgb"), ("kml", "dz.zip", "dz.kml"),
    ("csv-lonlat", "pins.csv.gz", "pins.csv")])
def test_a_name_that_says_something_else_is_refused(sample_db, tmp_path, fmt, name, suggested):
    out = tmp_path / name
    layer = "pins" if fmt == "csv-lonlat" else LAYER
    result = _export(f"sqlite:///{sample_db}", layer, fmt, out)
    assert result.exit_code != 0
    assert f"{name} does not end in" in result.output and f"name it {suggested}" in result.output
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_every_web_download_is_what_its_name_says(client):
    for fmt in FORMATS:
        layer = "pins" if FORMATS[fmt].points_only else LAYER
        answer = client.get(f"/export/{layer}.{fmt}")
        data = answer.get_data()
        answer.close()
        assert answer.status_code == 200, fmt
        name = answer.headers["Content-Disposition"].split("filename=")[1].strip('"')
        assert content_kind(data) == said_by(name), (fmt, name)
        zipped = said_by(name) == "zip"
        assert (answer.mimetype == "application/zip") == zipped, (fmt, answer.mimetype)
