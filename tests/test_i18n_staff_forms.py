"""The staff forms (accounts, editing, imports, councillors) in Scottish Gaelic: headings,
labels, buttons and role names from the catalogue, the flash after an action done in Gaelic,
dates written for the language; the library's own report lines and every JSON answer stay
English, and the English pages read as before."""

from __future__ import annotations

import html
import io
import re
from datetime import datetime

from babel.dates import format_datetime

from capmap.storage import open_store
from tests.conftest import PASSWORD, logged_in

FORM = {"kind": "boundaries", "id": "sq", "kind_of_layer": "neighbourhood", "vintage": "2026",
        "population_field": "pop", "parent_field": "council"}


def _text(answer) -> str:
    return html.unescape(answer.get_data(as_text=True))


def _action_id(app) -> int:
    store = open_store(app.config["DATABASE_URL"])
    try:
        plan = store.plan_ids()["LOC-01"]
        return int(store.plan_actions([plan])["id"].iloc[0])
    finally:
        store.close()


def _created(app, username: str) -> datetime:
    store = open_store(app.config["DATABASE_URL"])
    try:
        return datetime.fromisoformat(store.user(username).created)
    finally:
        store.close()


def _upload(client, data: bytes, name: str, query: str = "?lang=gd", **form):
    return client.post(f"/admin/import{query}", data={**form, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_the_accounts_list_and_create_form_in_gaelic(admin):
    page = _text(admin.get("/admin/users?lang=gd"))
    assert '<html lang="gd"' in page
    assert "<h1>Cunntasan</h1>" in page and "<caption>Gach cunntas</caption>" in page
    assert "<h2>Cruthaich cunntas</h2>" in page and ">Cruthaich an cunntas</button>" in page
    assert 'for="role-admin">rianaire</label>' in page and 'value="admin"' in page
    assert "An clàradh a-steach mu dheireadh (UTC)" in page and "Create an account" not in page
    english = _text(admin.get("/admin/users?lang=en"))
    assert "<h2>Create an account</h2>" in english and 'for="role-admin">admin</label>' in english
    assert "Last login (UTC)" in english


def test_an_account_created_in_gaelic_says_so_in_gaelic(admin):
    admin.get("/admin/users?lang=gd")  # the language is kept for the form's post
    created = admin.post("/admin/users", data={"username": "seonag", "role": "officer"})
    page = _text(created)
    assert created.status_code == 200
    assert "<h1>Facal-faire ùr do seonag</h1>" in page
    assert "Chaidh seonag a chruthachadh." in page
    refused = _text(admin.post("/admin/users", data={"username": "seonag2", "role": "chief"}))
    assert "Cha deach dad a chruthachadh:" in refused  # the library's reason stays English


def test_one_account_in_gaelic_with_its_dates_and_the_flash_after_saving(app, admin):
    logged_in(app, "olivia", ["officer"])
    page = _text(admin.get("/admin/users/olivia?lang=gd"))
    assert "<h1>Cunntas olivia</h1>" in page and "<h2>Dreuchdan is comhairlean</h2>" in page
    assert 'for="role-officer">oifigear</label>' in page
    assert ">Sàbhail na dreuchdan is na comhairlean</button>" in page
    assert ">Cuir à comas e is cuir crìoch air na seiseanan aige</button>" in page
    created = _created(app, "olivia")
    assert "air a chruthachadh " + format_datetime(created, "d MMMM y, HH:mm", locale="gd") in page
    saved = admin.post("/admin/users/olivia", data={"role": ["officer", "planner"]},
                       follow_redirects=True)
    assert "Chaidh dreuchdan is comhairlean olivia a shàbhaladh." in _text(saved)
    disabled = admin.post("/admin/users/olivia/active", data={"active": "no"}, follow_redirects=True)
    assert "Chaidh olivia a chur à comas." in _text(disabled)
    assert "<h2>Cuir an cunntas an comas</h2>" in _text(disabled)
    english = _text(admin.get("/admin/users/olivia?lang=en"))
    assert "Disabled · created " + created.strftime("%Y-%m-%d %H:%M") + " · last login" in english
    assert "<h2>Enable the account</h2>" in english


def test_an_admin_cannot_drop_their_own_admin_role_told_in_gaelic(admin):
    refused = admin.post("/admin/users/ada?lang=gd", data={"role": "officer"})
    assert refused.status_code == 422
    assert ("Cha deach dad a shàbhaladh: dreuchd: chan urrainn dhut dreuchd an rianaire a thoirt "
            "air falbh") in _text(refused)


def test_a_password_reset_in_gaelic(app, admin):
    logged_in(app, "olivia", ["officer"])
    page = _text(admin.post("/admin/users/olivia/password?lang=gd"))
    assert "Chaidh facal-faire olivia ath-shuidheachadh" in page
    assert 'fo "D’ fhacal-faire" an dèidh clàradh a-steach' in page


def test_changing_your_own_password_in_gaelic(officer):
    form = _text(officer.get("/account/password?lang=gd"))
    assert "<h1>Atharraich am facal-faire agad</h1>" in form
    assert 'for="current">Am facal-faire làithreach</label>' in form
    assert "Co-dhiù 12 caractaran" in form and ">Atharraich am facal-faire</button>" in form
    wrong = officer.post("/account/password", data={"current": "nope", "new": "x" * 12,
                                                    "again": "x" * 12})
    assert wrong.status_code == 422
    assert ("Cha deach dad atharrachadh: am facal-faire làithreach: chan e facal-faire a’ "
            "chunntais seo a th’ ann") in _text(wrong)
    short = officer.post("/account/password", data={"current": PASSWORD, "new": "short",
                                                    "again": "short"})
    assert "chaidh 5 caractaran a thoirt seachad; tha feum air 12" in _text(short)
    done = officer.post("/account/password", data={"current": PASSWORD, "new": "y" * 14,
                                                   "again": "y" * 14}, follow_redirects=True)
    assert "Chaidh am facal-faire agad atharrachadh" in _text(done)
    english = _text(officer.get("/account/password?lang=en"))
    assert "<h1>Change your password</h1>" in english and "At least 12 characters" in english


def test_editing_an_action_in_gaelic_and_the_flash_on_the_plan(app, planner):
    action = _action_id(app)
    page = _text(planner.get(f"/actions/{action}/edit?lang=gd"))
    assert re.search(r"<h1>Deasaich an gnìomh [^<]+</h1>", page)
    assert 'for="f-percent_complete">Ceudad deiseil</label>' in page
    assert 'for="f-target_date">Ceann-latha targaid</label>' in page
    assert '<option value="stalled">na stad</option>' in page
    assert ">Sàbhail na h-atharraichean</button>" in page and "<h2>Thoir an gnìomh seo air falbh</h2>" in page
    saved = planner.post(f"/actions/{action}/edit", data={"status": "stalled",
                         "percent_complete": "25"}, follow_redirects=True)
    # Two fields changed: the count's second form (2 and 12).
    assert "Chaidh 2 atharrachadh a shàbhaladh." in _text(saved)
    unchanged = planner.post(f"/actions/{action}/edit", data={"status": "stalled",
                             "percent_complete": "25"}, follow_redirects=True)
    assert "Cha deach dad atharrachadh." in _text(unchanged)
    removed = planner.post(f"/actions/{action}/remove", data={"confirm": "yes"},
                           follow_redirects=True)
    assert re.search(r"Chaidh an gnìomh \S+ a thoirt air falbh\.", _text(removed))


def test_the_edit_forms_read_as_before_in_english(app, planner):
    action = _action_id(app)
    page = _text(planner.get(f"/actions/{action}/edit?lang=en"))
    assert 'for="f-percent_complete">Percentage complete</label>' in page
    assert '<option value="stalled">stalled</option>' in page
    assert "YYYY-MM-DD; leave empty if there is none" in page
    saved = planner.post(f"/actions/{action}/edit", data={"status": "stalled",
                         "percent_complete": "25"}, follow_redirects=True)
    assert "2 changes saved." in _text(saved)


def test_a_plan_out_of_an_accounts_councils_is_refused_in_gaelic_and_in_english_as_json(app):
    store = open_store(app.config["DATABASE_URL"])
    plan = store.plan_ids()["LOC-01"]
    store.close()
    client = logged_in(app, "fearghas", ["officer"], ["S12000049"])
    page = client.get(f"/plans/{plan}/edit?lang=gd")
    assert page.status_code == 403
    assert "chan fhaod an cunntas agad planaichean na comhairle" in _text(page)
    answer = client.get(f"/plans/{plan}/edit?lang=gd", headers={"Accept": "application/json"})
    assert answer.status_code == 403
    assert answer.get_json()["message"].startswith("your account may not change plans of council")


def test_the_import_form_in_gaelic_posts_the_same_codes(admin):
    page = _text(admin.get("/admin/import?lang=gd"))
    assert "<h1>Ion-phortaich dàta</h1>" in page
    assert '<option value="boundaries">crìochan</option>' in page
    assert '<option value="neighbourhood">nàbaidheachd</option>' in page
    assert '<option value="locality_plan">Plana Sgìre</option>' in page
    assert 'for="owner_field">Colbh sealbhadair</label>' in page
    assert '<option value="skip">fàg mar a tha iad</option>' in page and ">Ro-shealladh</button>" in page
    english = _text(admin.get("/admin/import?lang=en"))
    assert "<h1>Import data</h1>" in english and '<option value="boundaries">boundaries</option>' in english
    assert 'for="owner_field">owner column</label>' in english


def test_an_import_previewed_and_stored_in_gaelic(admin, squares_bng, tmp_path):
    path = tmp_path / "squares.gpkg"
    squares_bng.to_file(path, layer="squares", driver="GPKG")
    preview = _upload(admin, path.read_bytes(), "squares.gpkg", **FORM)
    page = _text(preview)
    assert preview.status_code == 200, page
    assert "<h1>Ro-shealladh: crìochan o squares.gpkg</h1>" in page
    assert "<h2>Aithisg an dearbhaidh</h2>" in page
    assert "Sreathan a thèid a ghlèidheadh: 4. Cha deach dad a ghlèidheadh fhathast." in page
    assert "read 4, stored 0" in page  # the library's report stays English
    assert "<caption>A’ chiad 4 sreathan</caption>" in page
    token = re.search(r'action="/admin/import/(\w+)"', page).group(1)
    done = _text(admin.post(f"/admin/import/{token}", data={"action": "confirm"}))
    assert "<h1>Chaidh crìochan ion-phortadh o squares.gpkg</h1>" in done and "stored 4" in done
    assert ">Ion-phortaich faidhle eile</a>" in done
    again = admin.post(f"/admin/import/{token}", data={"action": "confirm"})
    assert again.status_code == 404
    assert "chan eil an luchdadh suas sin a’ feitheamh ri dearbhadh" in _text(again)


def test_a_wrong_file_is_refused_in_gaelic_on_the_page_and_in_english_as_json(admin):
    page = _upload(admin, b"hello", "notes.txt", **FORM)
    assert page.status_code == 400
    assert "tagh faidhle a tha a’ crìochnachadh le aon de .geojson" in _text(page)
    answer = admin.post("/admin/import?lang=gd", data={**FORM, "file": (io.BytesIO(b"x"), "a.txt")},
                        content_type="multipart/form-data", headers={"Accept": "application/json"})
    assert answer.status_code == 400
    assert answer.get_json()["message"].startswith("choose a file ending in one of .geojson")


def test_a_councillors_file_that_is_not_csv_is_refused_in_gaelic(officer):
    answer = officer.post("/admin/import/councillors?lang=gd",
                          data={"file": (io.BytesIO(b"x"), "wards.xlsx")},
                          content_type="multipart/form-data")
    assert answer.status_code == 400
    assert "chan e faidhle .csv a th’ ann an 'wards.xlsx'" in _text(answer)
    english = officer.post("/admin/import/councillors?lang=en",
                           data={"file": (io.BytesIO(b"x"), "wards.xlsx")},
                           content_type="multipart/form-data")
    assert "'wards.xlsx' is not a .csv file; expected a CSV of councillors" in _text(english)
