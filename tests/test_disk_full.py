"""A full disk, for real: a tiny tmpfs mounted for the test (root only) holds the uploads folder
or the export folder. The upload and the export answer 507 with a message and leave nothing on
it; previews never confirmed are purged once older than UPLOAD_MAX_AGE_S."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from capmap.core.passwords import hash_password
from capmap.storage import open_store
from tests.conftest import PASSWORD


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB filesystem of its own (tmpfs), unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    folder = tmp_path / "disk"
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def _app(sample_db, tmp_path, **config):
    from app import create_app

    db = tmp_path / f"capmap-{uuid.uuid4().hex[:6]}.sqlite"
    shutil.copy(sample_db, db)
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{db}", "TILES_URL": "",
                      "SECRET_KEY": "test-secret", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": str(tmp_path / "instance"), **config})
    store = open_store(app.config["DATABASE_URL"])
    store.add_user("admin1", hash_password(PASSWORD), ["admin"])
    store.close()
    client = app.test_client()
    assert client.post("/login", data={"username": "admin1", "password": PASSWORD}).status_code == 302
    return app, client


def _everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def _geojson(features: int) -> bytes:
    square = [[[-3.2, 55.9], [-3.19, 55.9], [-3.19, 55.91], [-3.2, 55.91], [-3.2, 55.9]]]
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": f"X{i:05d}", "name": f"Area {i} " + "x" * 60},
         "geometry": {"type": "Polygon", "coordinates": square}} for i in range(features)]}).encode()


FORM = {"kind": "boundaries", "id": "full", "kind_of_layer": "neighbourhood", "vintage": "2026",
        "code_field": "code", "name_field": "name"}


def _upload(client, data: bytes, name: str):
    return client.post("/admin/import", data={**FORM, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_an_upload_onto_a_full_disk_answers_507_and_keeps_nothing(sample_db, tmp_path, small_disk):
    # Before: 500, and the first 256 KiB of the file stayed in uploads/<token>/ for ever.
    app, client = _app(sample_db, tmp_path, INSTANCE_PATH=str(small_disk))
    # About 440 KB: more than the whole disk, less than the 500 KB the test client itself keeps
    # in memory (past that it spools the request to a file of its own).
    data = _geojson(1700)
    assert 256 * 1024 < len(data) < 500 * 1000
    answer = _upload(client, data, "big.geojson")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 507, text
    assert "no room" in text and "nothing was kept" in text
    assert _everything_under(small_disk / "uploads") == []
    # With room again, the same kind of upload goes through.
    small = _upload(client, _geojson(20), "small.geojson")
    assert small.status_code == 200, small.get_data(as_text=True)


def test_a_zip_that_unpacks_past_the_disk_answers_507_and_keeps_nothing(sample_db, tmp_path,
                                                                         small_disk):
    # The upload fits (a few KB) but the reader unpacks it to a 600 KB shapefile on the disk.
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"code": [f"X{i:05d}" for i in range(3000)],
                              "name": ["Area " + "x" * 60] * 3000},
                             geometry=[shapely.box(-3.2, 55.9, -3.19, 55.91)] * 3000, crs="EPSG:4326")
    frame.to_file(tmp_path / "areas.shp")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for part in tmp_path.glob("areas.*"):
            archive.write(part, part.name)
    assert len(buffer.getvalue()) < 64 * 1024
    app, client = _app(sample_db, tmp_path, INSTANCE_PATH=str(small_disk))
    answer = _upload(client, buffer.getvalue(), "areas.zip")
    assert answer.status_code == 507, answer.get_data(as_text=True)
    assert _everything_under(small_disk / "uploads") == []


def _fill(disk: Path, leave: int) -> Path:
    """A file taking all but about `leave` bytes of the disk."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        handle.write(b"\0" * (shutil.disk_usage(disk).free - leave))
    return filler


@pytest.mark.parametrize("fmt", ["gpkg", "geojson", "shp", "csv", "fgb"])
def test_an_export_onto_a_full_temporary_folder_answers_507_and_keeps_nothing(
        sample_db, tmp_path, small_disk, fmt):
    # Before: 500. The temporary folder has 16 KiB left; the sample's data zones take more in
    # every format.
    app, client = _app(sample_db, tmp_path, EXPORT_TMP_DIR=str(small_disk))
    _fill(small_disk, 16 * 1024)
    answer = client.get(f"/export/sample_dz.{fmt}")
    body = answer.get_json()
    assert answer.status_code == 507 and body["error"] == "DiskFull", answer.get_data(as_text=True)
    assert "no room" in body["message"]
    assert _everything_under(small_disk) == ["filler"]
    client.get("/health/live")  # the app still answers


def test_previews_never_confirmed_are_purged(sample_db, tmp_path):
    # Before: every preview's folder stayed in uploads/ until someone removed it by hand.
    app, client = _app(sample_db, tmp_path, UPLOAD_MAX_AGE_S=3600)
    uploads = Path(app.instance_path) / "uploads"
    assert _upload(client, _geojson(5), "old.geojson").status_code == 200
    (old,) = uploads.iterdir()
    two_hours_ago = time.time() - 7200
    for path in [old, *old.iterdir()]:
        os.utime(path, (two_hours_ago, two_hours_ago))
    assert _upload(client, _geojson(5), "new.geojson").status_code == 200
    kept = list(uploads.iterdir())
    assert len(kept) == 1 and kept[0] != old  # the stale one went when the new one came
    # Confirming the purged preview says it is gone, and stores nothing.
    answer = client.post(f"/admin/import/{old.name}", data={"action": "confirm"})
    assert answer.status_code == 404 and "expired" in answer.get_data(as_text=True)


def test_stale_previews_are_purged_when_the_app_starts(sample_db, tmp_path):
    from app import create_app

    uploads = tmp_path / "instance" / "uploads"
    stale, fresh = uploads / ("a" * 32), uploads / ("b" * 32)
    for folder in (stale, fresh):
        folder.mkdir(parents=True)
        (folder / "areas.geojson").write_text("{}")
    past = time.time() - 2 * 86400
    for path in (stale, stale / "areas.geojson"):
        os.utime(path, (past, past))
    create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
                "SECRET_KEY": "t", "INSTANCE_PATH": str(tmp_path / "instance")})
    assert [p.name for p in uploads.iterdir()] == [fresh.name]  # the default age is a day
