"""Imports through the web: preview first, store on confirmation, the same result as the CLI."""

from __future__ import annotations

import io
import re
from pathlib import Path

import shapely
from click.testing import CliRunner

from capmap.cli import cli
from capmap.storage import open_store


def _gpkg_bytes(squares_bng, tmp_path) -> bytes:
    path = tmp_path / "squares.gpkg"
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    return path.read_bytes()


FORM = {"kind": "boundaries", "id": "sq", "kind_of_layer": "neighbourhood", "vintage": "2026",
        "population_field": "pop", "parent_field": "council"}


def _upload(client, data: bytes, name: str, **form):
    fields = {**form, "file": (io.BytesIO(data), name)}
    return client.post("/admin/import", data=fields, content_type="multipart/form-data")


def test_only_admins_import(client, officer):
    assert client.get("/admin/import").status_code == 302
    assert officer.get("/admin/import").status_code == 403


def test_preview_then_confirm_matches_the_cli(app, admin, squares_bng, tmp_path):
    data = _gpkg_bytes(squares_bng, tmp_path)
    preview = _upload(admin, data, "squares.gpkg", **FORM)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert "read 4, stored 0" in page and "Nothing has been stored yet" in page
    store = open_store(app.config["DATABASE_URL"])
    assert "sq" not in {la.id for la in store.layers()}
    token = re.search(r'action="/admin/import/(\w+)"', page).group(1)
    done = admin.post(f"/admin/import/{token}", data={"action": "confirm"})
    assert done.status_code == 200 and "stored 4" in done.get_data(as_text=True)
    web = store.areas("sq")
    store.close()
    # The same file through the command line, into another database.
    path = tmp_path / "cli.gpkg"
    path.write_bytes(data)
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    runner = CliRunner()
    runner.invoke(cli, ["--db", url, "init"])
    result = runner.invoke(cli, ["--db", url, "import", "boundaries", str(path), "--layer", "sq",
                                 "--kind", "neighbourhood", "--vintage", "2026",
                                 "--population-field", "pop", "--parent-field", "council"])
    assert result.exit_code == 0, result.output
    other = open_store(url)
    by_cli = other.areas("sq")
    other.close()
    assert list(web["code"]) == list(by_cli["code"])
    assert list(web["population"]) == list(by_cli["population"])
    assert all(shapely.equals_exact(web.geometry.values, by_cli.geometry.values, tolerance=0))
    # A token works once.
    assert admin.post(f"/admin/import/{token}", data={"action": "confirm"}).status_code == 404


def test_cancel_stores_nothing_and_removes_the_upload(app, admin, squares_bng, tmp_path):
    page = _upload(admin, _gpkg_bytes(squares_bng, tmp_path), "squares.gpkg",
                   **FORM).get_data(as_text=True)
    token = re.search(r'action="/admin/import/(\w+)"', page).group(1)
    assert (Path(app.instance_path) / "uploads" / token).exists()
    admin.post(f"/admin/import/{token}", data={"action": "cancel"})
    assert not (Path(app.instance_path) / "uploads" / token).exists()
    store = open_store(app.config["DATABASE_URL"])
    assert "sq" not in {la.id for la in store.layers()}
    store.close()


def test_a_hostile_upload_is_refused_and_removed(app, admin):
    vrt = (b'<OGRVRTDataSource><OGRVRTLayer name="x"><SrcDataSource>/etc/passwd'
           b"</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>")
    answer = _upload(admin, vrt, "boundary.geojson", **FORM)
    assert answer.status_code == 400
    assert "VRT" in answer.get_data(as_text=True) or "GeoJSON" in answer.get_data(as_text=True)
    uploads = Path(app.instance_path) / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())


def test_missing_layer_settings_are_a_422(admin, squares_bng, tmp_path):
    form = {k: v for k, v in FORM.items() if k != "id"}
    answer = _upload(admin, _gpkg_bytes(squares_bng, tmp_path), "squares.gpkg", **form)
    assert answer.status_code == 422 and "needs at least an id" in answer.get_data(as_text=True)


def test_wrong_extension_is_refused(admin):
    answer = _upload(admin, b"hello", "notes.txt", kind="actions")
    assert answer.status_code == 400 and "choose a file" in answer.get_data(as_text=True)


def _plan_upload(admin, title: str, **form):
    """One plan (ref WEB-1) of two sample neighbourhoods, previewed and confirmed."""
    data = ("ref,type,title,layer,area_codes\n"
            f"WEB-1,community_action_plan,{title},sample_dz,S01900001;S01900002\n").encode()
    preview = _upload(admin, data, "plan.csv", kind="plans", **form)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    token = re.search(r'action="/admin/import/(\w+)"', preview.get_data(as_text=True)).group(1)
    return admin.post(f"/admin/import/{token}", data={"action": "confirm"})


def test_rows_already_stored_are_refused_skipped_or_updated_as_chosen(app, admin):
    assert _plan_upload(admin, "Our Plan").status_code == 200
    store = open_store(app.config["DATABASE_URL"])
    # The default refuses the file and stores nothing: the title stays.
    refused = _plan_upload(admin, "Renamed")
    assert refused.status_code == 422 and "WEB-1" in refused.get_data(as_text=True)
    skipped = _plan_upload(admin, "Renamed", on_existing="skip")
    assert skipped.status_code == 200 and "skipped 1" in skipped.get_data(as_text=True)
    updated = _plan_upload(admin, "Renamed", on_existing="update")
    assert updated.status_code == 200 and "updated 1" in updated.get_data(as_text=True)
    titles = [c for c in store.changes() if c.ref == "WEB-1" and c.field == "title"]
    # One change, by the admin who confirmed it (the skip and the refusal changed nothing).
    assert [(c.old_value, c.new_value, c.changed_by) for c in titles] == [
        ("Our Plan", "Renamed", "ada")]
    store.close()


def test_an_unknown_on_existing_choice_is_a_422(admin):
    data = b"ref,type,title,layer,area_codes\nW,loip,T,sample_dz,S01900001\n"
    answer = _upload(admin, data, "plan.csv", kind="plans", on_existing="merge")
    assert answer.status_code == 422 and "fail, skip, update" in answer.get_data(as_text=True)
