"""The web import takes the CLI's options, and refuses a vintage that drops a column unless the
loss is confirmed."""

from __future__ import annotations

import io
import re

import shapely

from capmap.storage import open_store
from tests.conftest import GRID_ORIGIN, SAMPLE

X0, Y0 = GRID_ORIGIN


def _upload(client, data: bytes, name: str, **form):
    fields = {**form, "file": (io.BytesIO(data), name)}
    return client.post("/admin/import", data=fields, content_type="multipart/form-data")


def _token(page: str) -> str:
    return re.search(r'action="/admin/import/(\w+)"', page).group(1)


def _with_simd(app) -> int:
    store = open_store(app.config["DATABASE_URL"])
    try:
        return int(store.areas("sample_dz")["simd_rank"].notna().sum())
    finally:
        store.close()


# The sample's neighbourhoods again, as a new upload of the same layer and vintage that names
# no SIMD fields: what wiped SIMD from every zone before the preview said so.
NO_SIMD = {"kind": "boundaries", "id": "sample_dz", "kind_of_layer": "neighbourhood",
           "vintage": "2026", "population_field": "population", "parent_field": "council_code"}


def test_reimporting_zones_without_simd_is_refused_unless_confirmed(app, admin):
    data = (SAMPLE / "neighbourhoods.geojson").read_bytes()
    assert _with_simd(app) == 620  # every sample zone has its SIMD rank
    preview = _upload(admin, data, "neighbourhoods.geojson", **NO_SIMD)
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200, page
    assert ("this vintage has no SIMD: 620 zones of sample_dz (2026) would lose their SIMD "
            "values") in page
    assert 'name="confirm_losses"' in page
    token = _token(page)
    refused = admin.post(f"/admin/import/{token}", data={"action": "confirm"})
    assert refused.status_code == 422
    assert _with_simd(app) == 620  # nothing changed
    done = admin.post(f"/admin/import/{token}",  # still pending: confirm it properly
                      data={"action": "confirm", "confirm_losses": "yes"})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert _with_simd(app) == 0


def test_a_vintage_with_simd_needs_no_confirmation(app, admin):
    data = (SAMPLE / "neighbourhoods.geojson").read_bytes()
    # The sample zones also carry SIMD domain ranks as indicators (boundaries/sample_dz.toml).
    domains = ("income", "employment", "health", "education", "access", "crime", "housing")
    form = {**NO_SIMD, "simd_rank_field": "simd_rank", "simd_decile_field": "simd_decile",
            "simd_quintile_field": "simd_quintile",
            "indicator_fields": ", ".join(f"{d}={d}_rank" for d in domains)}
    page = _upload(admin, data, "neighbourhoods.geojson", **form).get_data(as_text=True)
    assert "would lose" not in page
    done = admin.post(f"/admin/import/{_token(page)}", data={"action": "confirm"})
    assert done.status_code == 200 and _with_simd(app) == 620


def test_indicator_fields_from_the_web_reach_the_areas_api(app, admin, client, squares_bng,
                                                          tmp_path):
    squares_bng["inc"] = [4, 3, 2, 1]
    path = tmp_path / "sq.gpkg"
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    squares_bng.to_file(path, layer="other", driver="GPKG")  # a second layer in the file
    form = {"kind": "boundaries", "id": "sq", "kind_of_layer": "ward", "vintage": "2026",
            "population_field": "pop", "file_layer": "squares",
            "indicator_fields": "income=inc, pop_again=pop"}
    page = _upload(admin, path.read_bytes(), "sq.gpkg", **form).get_data(as_text=True)
    done = admin.post(f"/admin/import/{_token(page)}", data={"action": "confirm"})
    assert done.status_code == 200, done.get_data(as_text=True)
    areas = client.get("/api/layers/sq/areas").get_json()
    by_code = {f["properties"]["code"]: f["properties"] for f in areas["features"]}
    assert by_code["A"]["income"] == 4.0 and by_code["D"]["pop_again"] == 800.0


def test_a_bad_indicator_field_is_a_422_on_the_form(admin, squares_bng, tmp_path):
    path = tmp_path / "sq.geojson"
    squares_bng.to_file(path, driver="GeoJSON")
    form = {"kind": "boundaries", "id": "sq", "kind_of_layer": "ward",
            "indicator_fields": "Income=inc"}
    response = _upload(admin, path.read_bytes(), "sq.geojson", **form)
    assert response.status_code == 422 and "Income" in response.get_data(as_text=True)


def test_plans_from_the_web_take_crs_defaults_and_aliases(app, admin):
    # One plan drawn in BNG metres with no CRS stated, typed with a word the aliases map.
    box = shapely.box(X0, Y0, X0 + 1000, Y0 + 1000).wkt
    data = f'ref,name,type,wkt\nWEB-1,Northfield,neighbourhood plan,"{box}"\n'.encode()
    form = {"kind": "plans", "plan_crs": "EPSG:27700", "default_owner": "Glen CPP",
            "default_title_template": "{name} Locality Plan",
            "aliases": '[plan_type]\n"neighbourhood plan" = "locality_plan"\n'}
    page = _upload(admin, data, "plans.csv", **form).get_data(as_text=True)
    assert "read 1, stored 0, repaired 0, rejected 0" in page, page
    done = admin.post(f"/admin/import/{_token(page)}", data={"action": "confirm"})
    assert done.status_code == 200
    store = open_store(app.config["DATABASE_URL"])
    plan = store.plans().set_index("ref").loc["WEB-1"]
    store.close()
    assert (plan["title"], plan["owner"], plan["type"]) == ("Northfield Locality Plan",
                                                            "Glen CPP", "locality_plan")


def test_bad_aliases_are_a_422(admin):
    form = {"kind": "responses", "aliases": '[channel]\nfax = "telegram"\n'}
    response = _upload(admin, b"campaign,channel\n", "r.csv", **form)
    assert response.status_code == 422 and "telegram" in response.get_data(as_text=True)
