"""Postcode directories imported as published, and partial postcodes answered, on both backends.

The fixtures in tests/data/postcodes hold the same five live postcodes in each layout, placed
in the 1 km squares of conftest (A south-west from (310000, 720000), B east of it, C north of
it, D north-east):
  PH1 1AA (310500, 720500) and PH1 1AB (310600, 720400) in A; PH1 1BA (311500, 720500) in B;
  PH1 2AA (310500, 721500) and PH1 2AB (310400, 721600) in C.
Besides them: PH1 1ZZ terminated (ONSPD doterm, NRS DateOfDeletion), PH1 9XX without a location
(ONSPD's blank grid reference, Code-Point's quality 90), SW1A 1AA in London (outside Scotland).
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely

from capmap.core.crs import lonlat_to_bng
from capmap.core.errors import NotFound, ValidationError
from capmap.services import pipeline
from capmap.services.engine import Engine
from capmap.services.places import postcode_query, search_places

DATA = Path(__file__).parent / "data" / "postcodes"
LIVE = {"PH1 1AA": (310500, 720500), "PH1 1AB": (310600, 720400), "PH1 1BA": (311500, 720500),
        "PH1 2AA": (310500, 721500), "PH1 2AB": (310400, 721600)}


def _codepoint_zip(tmp_path: Path) -> Path:
    path = tmp_path / "codepo_gb.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for file in (DATA / "codepoint").rglob("*.csv"):
            archive.write(file, str(file.relative_to(DATA / "codepoint")))
    return path


def _stored_bng(store) -> dict[str, tuple[float, float]]:
    frame = store.postcodes()
    points = frame.geometry.values
    x, y = lonlat_to_bng(shapely.get_x(points), shapely.get_y(points))
    return {p: (float(e), float(n)) for p, e, n in zip(frame["postcode"], x, y, strict=True)}


@pytest.mark.parametrize("source, layout, skipped", [
    ("onspd.csv", "ONSPD", {"terminated": 1, "without a location": 1, "outside Scotland": 1}),
    ("nrs_spd.csv", "NRS Scottish Postcode Directory", {"terminated": 1}),
    ("codepoint", "OS Code-Point Open", {"without a location": 1}),
    ("zip", "OS Code-Point Open", {"without a location": 1}),
])
def test_each_directory_layout_stores_its_live_postcodes(store, tmp_path, source, layout,
                                                         skipped):
    path = _codepoint_zip(tmp_path) if source == "zip" else DATA / source
    report = pipeline.import_postcodes(store, path)
    assert report.layouts == [layout]
    assert {k: v for k, v in report.left_out.items() if v} == skipped
    assert report.stored == 5
    stored = _stored_bng(store)
    assert sorted(stored) == sorted(LIVE)
    for postcode, (e, n) in LIVE.items():  # BNG -> lon/lat -> BNG through OSTN15: within 1 cm
        assert np.hypot(stored[postcode][0] - e, stored[postcode][1] - n) < 0.01


def test_a_reimport_replaces_and_districts_and_sectors_are_stored(store):
    pipeline.import_postcodes(store, DATA / "onspd.csv")
    pipeline.import_postcodes(store, DATA / "nrs_spd.csv")  # the same five again: no duplicates
    assert store.counts()["postcodes"] == 5
    groups = store.postcode_groups("district", "PH1")
    assert [(g["sector"], g["postcodes"]) for g in groups] == [("PH1 1", 3), ("PH1 2", 2)]
    assert [p for p, _, _ in store.postcodes_starting("PH1 2", 10)] == ["PH1 2AA", "PH1 2AB"]


def test_a_bad_row_refuses_the_file_naming_the_row(store, tmp_path):
    bad = tmp_path / "onspd_bad.csv"
    lines = (DATA / "onspd.csv").read_text().splitlines()
    lines[3] = lines[3].replace("PH1 1BA,PH1  1BA,PH1 1BA", "PH1 1BA,PH1  1BA,NOT A CODE")
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValidationError, match=r"row 3: 'NOTACODE' is not a postcode"):
        pipeline.import_postcodes(store, bad)
    assert store.counts()["postcodes"] == 0


def test_an_unknown_layout_is_refused_with_what_is_expected(store, tmp_path):
    odd = tmp_path / "odd.csv"
    odd.write_text("name,where\nsomething,here\n")
    with pytest.raises(ValidationError, match="not a postcode directory; expected ONSPD"):
        pipeline.import_postcodes(store, odd)


def test_partial_postcodes_answer_with_the_neighbourhoods_of_their_postcodes(loaded):
    pipeline.import_postcodes(loaded, DATA / "codepoint")
    engine = Engine(loaded)
    # Sector PH1 1: two postcodes in A, one in B. Sector PH1 2: both in C. District PH1: A, B, C.
    assert postcode_query(engine, loaded, "PH1 1").described["codes"] == ["A", "B"]
    assert postcode_query(engine, loaded, "ph1 2").described["codes"] == ["C"]
    district = postcode_query(engine, loaded, "PH1")
    assert district.described["codes"] == ["A", "B", "C"]
    assert district.described["postcodes"] == 5
    assert postcode_query(engine, loaded, "PH11AB").described["codes"] == ["A"]
    with pytest.raises(NotFound):
        postcode_query(engine, loaded, "PH9 1")
    top = search_places(engine, loaded, "PH1 1")[0]
    assert (top["kind"], top["code"], top["postcodes"]) == ("postcode_area", "PH1 1", 3)


def test_the_folder_may_hold_only_area_files(store, tmp_path):
    folder = tmp_path / "cp"
    shutil.copytree(DATA / "codepoint" / "Data", folder)  # no Doc: the published column order
    assert pipeline.import_postcodes(store, folder).stored == 5
