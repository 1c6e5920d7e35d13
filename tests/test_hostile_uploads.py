"""Hostile files and form fields through both web uploads: the finder (POST /planscape/result)
and the admin import (POST /admin/import). Every item is answered with a clear 4xx message (or, where
the file is legitimately usable, a 200 that says what was repaired), nothing is stored, no network
connection is made, no file outside the upload area is opened, and memory stays under the cap.
The corpus is tests/data/hostile (see its README); large items are generated here."""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import io
import json
import logging
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from pyproj import CRS
from pyproj.enums import WktVersion

from capmap.core.crs import lonlat_to_bng
from capmap.core.errors import TooLarge, ValidationError
from capmap.io import isolated
from capmap.storage import open_store
from tests.conftest import logged_in
from tests.test_readers import Listener

HOSTILE = Path(__file__).parent / "data" / "hostile"
JSON = {"Accept": "application/json"}
MB = 1024 * 1024
# The parent (web worker) may grow by at most this much over the whole corpus: the files are read
# in children, so what the worker keeps is only the answers.
PARENT_GROWTH_MB = 64
BOUNDARY_FORM = {"kind": "boundaries", "id": "hostile", "kind_of_layer": "neighbourhood",
                 "vintage": "2026"}


# -- watching for connections and file opens ---------------------------------------------------

IN_ACCESS, IN_OPEN = 0x1, 0x20


class FileWatch:
    """Linux inotify on one file: counts IN_OPEN and IN_ACCESS events by any process."""

    def __init__(self, path: Path) -> None:
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        if self.libc.inotify_add_watch(self.fd, os.fsencode(path), IN_OPEN | IN_ACCESS) < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch failed on {path}")
        self.opens = 0

    def events(self) -> int:
        """Events seen so far (reading every one queued)."""
        while True:
            try:
                data = os.read(self.fd, 4096)
            except BlockingIOError:
                return self.opens
            offset = 0
            while offset < len(data):
                _, mask, _, length = struct.unpack_from("iIII", data, offset)
                self.opens += bool(mask & (IN_OPEN | IN_ACCESS))
                offset += 16 + length

    def close(self) -> None:
        os.close(self.fd)


@dataclass
class Traps:
    """A counting listener on 127.0.0.1 and a watched canary file outside the upload area."""

    listener: Listener
    canary: Path
    watch: FileWatch

    def fill(self, data: bytes) -> bytes:
        """A corpus template with the listener's port and the canary's path filled in."""
        return data.replace(b"@PORT@", str(self.listener.port).encode()).replace(
            b"@CANARY@", os.fsencode(self.canary))


@pytest.fixture
def traps(tmp_path_factory) -> Iterator[Traps]:
    folder = tmp_path_factory.mktemp("outside")
    canary = folder / "canary.csv"
    canary.write_text("lon,lat,code,name\n-3.81,56.395,S01,canary\n")
    listener, watch = Listener(), FileWatch(canary)
    yield Traps(listener, canary, watch)
    listener.close()
    watch.close()


def test_the_traps_can_spring(traps: Traps) -> None:
    """The checks can fail: opening the canary and connecting to the listener are both seen."""
    assert traps.watch.events() == 0 and traps.listener.connections() == 0
    traps.canary.read_bytes()
    socket.create_connection(("127.0.0.1", traps.listener.port), timeout=5).close()
    assert traps.watch.events() >= 1
    assert traps.listener.connections() == 1


# -- generated items ---------------------------------------------------------------------------

def polygon_shapefile_zip(target: Path, vertices: int) -> Path:
    """A zipped BNG shapefile of one 1 km square near the sample data drawn with `vertices`
    vertices (all but four repeat one corner, so the archive stays small)."""
    (x0,), (y0,) = lonlat_to_bng(np.array([-3.82]), np.array([56.39]))
    x0, y0 = float(round(x0)), float(round(y0))
    ring = np.empty((vertices, 2))
    ring[:] = (x0 + 1000, y0)
    ring[0] = ring[-1] = (x0, y0)
    ring[-3], ring[-2] = (x0 + 1000, y0 + 1000), (x0, y0 + 1000)
    box = (x0, y0, x0 + 1000, y0 + 1000)
    content = (struct.pack("<i4d2i", 5, *box, 1, vertices) + struct.pack("<i", 0)
               + ring.astype("<f8").tobytes())

    def header(length: int) -> bytes:
        return (struct.pack(">7i", 9994, 0, 0, 0, 0, 0, length // 2)
                + struct.pack("<2i8d", 1000, 5, *box, 0, 0, 0, 0))

    shp = header(108 + len(content)) + struct.pack(">2i", 1, len(content) // 2) + content
    shx = header(108) + struct.pack(">2i", 50, len(content) // 2)
    dbf = (struct.pack("<4BIHH20x", 3, 126, 1, 1, 1, 65, 11)
           + struct.pack("<11sc4xB15x", b"code", b"C", 10) + b"\r " + b"S01".ljust(10) + b"\x1a")
    prj = CRS.from_epsg(27700).to_wkt(WktVersion.WKT1_ESRI).encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for ext, data in ((".shp", shp), (".shx", shx), (".dbf", dbf), (".prj", prj)):
            zf.writestr(f"big{ext}", data)
    return target


def zip_bomb(target: Path, unpacked: int) -> Path:
    """A zipped 'shapefile' whose .shp unpacks to `unpacked` bytes of zeros."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("bomb.shp", "w", force_zip64=True) as entry:
            for _ in range(unpacked // MB):
                entry.write(bytes(MB))
        zf.writestr("bomb.shx", b"")
        zf.writestr("bomb.dbf", b"")
    return target


def detailed_circle(target: Path, vertices: int) -> Path:
    """A GeoJSON circle of `vertices` distinct vertices (about 11 MB for 490,000): under every
    read limit, but far more detail than the planscape or a preview map can use."""
    angle = np.linspace(0, 2 * np.pi, vertices)
    ring = np.round(np.column_stack([-3.6 + 0.2 * np.cos(angle), 56.3 + 0.1 * np.sin(angle)]), 6)
    ring[-1] = ring[0]
    target.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "S01", "name": "Circle"},
        "geometry": {"type": "Polygon", "coordinates": [ring.tolist()]}}]}))
    return target


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    """The corpus items too large to commit, built once."""
    folder = tmp_path_factory.mktemp("generated")
    folders = folder / "deep_folders.kml"
    folders.write_text('<?xml version="1.0" encoding="utf-8"?>\n<kml xmlns="http://www.opengis.net/'
                       'kml/2.2"><Document>' + "<Folder>" * 200_000 + "<Placemark><Point>"
                       "<coordinates>-3.81,56.395</coordinates></Point></Placemark>"
                       + "</Folder>" * 200_000 + "</Document></kml>\n")
    nested = folder / "deep_nesting.geojson"
    nested.write_text('{"type": "FeatureCollection", "features": ' + "[" * 100_000
                      + "]" * 100_000 + "}")
    return {"polygon_5m_vertices.zip": polygon_shapefile_zip(folder / "polygon_5m_vertices.zip",
                                                             5_000_000),
            "zip_bomb.zip": zip_bomb(folder / "zip_bomb.zip", 120 * MB),
            "circle_490k_vertices.geojson": detailed_circle(
                folder / "circle_490k_vertices.geojson", 490_000),
            "deep_nesting.geojson": nested, "deep_folders.kml": folders}


# -- the corpus through both routes ------------------------------------------------------------

@dataclass(frozen=True)
class Expect:
    """An answer: its status and a pattern its message (4xx) or page (200) must contain."""

    status: int
    says: str


DTD = r"XML with a <!DOCTYPE> or <!ENTITY> declaration is refused"
VRT = r"is a GDAL VRT file, which can make GDAL open other files or addresses; such files are refused"
CRS_MEMBER = r'the GeoJSON "crs" member .* is refused; expected one naming a CRS by code'
NOT_FINITE = r"coordinates include NaN or infinite values"


def both(status: int, says: str) -> tuple[Expect, Expect]:
    return Expect(status, says), Expect(status, says)


# name: (the finder's answer, the admin import's answer)
CORPUS: dict[str, tuple[Expect, Expect]] = {
    "billion_laughs.kml": both(400, DTD),
    "external_entity.kml": both(400, DTD),
    "network_link.kml": (Expect(200, r"Plans covering the boundary in network_link\.kml"),
                         Expect(422, r"code field 'code' not found; columns are id, Name")),
    "vrt_local.geojson": both(400, VRT),
    "vrt_url.geojson": both(400, VRT),
    "crs_link.geojson": both(400, CRS_MEMBER),
    "crs_init_file.geojson": both(400, CRS_MEMBER),
    "empty.geojson": both(400, r"empty\.geojson is empty \(0 bytes\)"),
    "empty_geometries.geojson": (
        Expect(422, r"holds no polygons \(only empty or missing geometries\); expected the "
                    r"boundary of your area"),
        Expect(422, r"empty geometries for codes S01, S02")),
    "nan_coordinates.geojson": both(422, NOT_FINITE),
    "infinite_coordinates.geojson": both(422, NOT_FINITE),
    "huge_exponent_coordinates.geojson": both(400, r"could not be read as GeoJSON: .*"
                                                   r"Unrecognized number: 1e999"),
    "swapped_lat_lon.geojson": both(422, r"coordinates look like lat/lon in the wrong order"),
    "bng_as_lonlat.geojson": both(422, r"which is not lon/lat; projected metres such as British "
                                       r"National Grid need the CRS stated"),
    "latin1_text.geojson": (Expect(200, r"Plans covering the boundary in latin1_text\.geojson"),
                            Expect(200, r"Café «Pêre»")),
    "self_intersecting.geojson": (
        Expect(200, r"1 self-intersecting\s+polygon in self_intersecting\.geojson was\s+repaired"),
        Expect(200, r"repaired 1")),
    "outside_the_data.geojson": (Expect(200, r"0\s+plans cover some of it"),
                                 Expect(200, r"read 1, stored 0")),
    "no_prj.zip": both(422, r"no_prj\.zip: the shapefile has no \.prj file, so it has no CRS"),
    "zip_slip.zip": both(400, r"entry '\.\./\.\./leith\.shp' climbs out with '\.\.'; refused"),
    "truncated.gpkg": both(400, r"truncated\.gpkg could not be read as GeoPackage: database disk "
                                r"image is malformed"),
    "zip_bomb.zip": both(413, r"the archive unpacks to 125,829,1\d\d bytes; the limit is "
                              r"83,886,080"),
    "polygon_5m_vertices.zip": both(413, r"feature 1 has 5,000,000 vertices; the limit per "
                                         r"feature is 500,000"),
    "lying_feature_count.fgb": (
        Expect(400, r"choose a boundary file ending in \.geojson, \.json, \.gpkg, \.zip, \.kml"),
        Expect(400, r"lying_feature_count\.fgb: no layer can be read from it as FlatGeobuf; the "
                    r"file is damaged or its header does not match its content")),
    "deep_folders.kml": both(400, r"deep_folders\.kml could not be read as KML: ERROR parsing kml"),
    "circle_490k_vertices.geojson": (
        Expect(200, r"The boundary in circle_490k_vertices\.geojson was simplified\s+to within "
                    r"\d+ m \(at most 20,000 points\)"),
        Expect(200, r"read 1, stored 0")),
    "deep_nesting.geojson": both(400, r"deep_nesting\.geojson could not be read as GeoJSON"),
}


def test_the_corpus_is_all_listed() -> None:
    committed = {p.name for p in HOSTILE.iterdir() if p.name != "README.md"}
    assert committed <= set(CORPUS), committed - set(CORPUS)
    readme = (HOSTILE / "README.md").read_text()
    assert all(f"`{name}`" in readme for name in CORPUS), [n for n in CORPUS if n not in readme]


def post_file(client, url: str, data: bytes, filename: str, form: dict | None = None):
    # The body is built here: the test client would spool a large one to a temporary file that
    # it never closes.
    body, kind = multipart(form or {}, filename, data)
    return client.post(url, data=body, content_type=kind, headers=JSON)


def answer_text(answer) -> tuple[str, str]:
    """(the message of a JSON error, or the page's text with tags and escapes removed)."""
    body = answer.get_data(as_text=True)
    if answer.is_json:
        return answer.get_json()["message"], body
    text = re.sub(r"<[^>]+>", " ", body)
    for escaped, char in (("&lt;", "<"), ("&gt;", ">"), ("&#34;", '"'), ("&#39;", "'"),
                          ("&amp;", "&")):
        text = text.replace(escaped, char)
    return text, body


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def corpus_item(name: str, generated: dict[str, Path], traps: Traps) -> bytes:
    if name in generated:
        return generated[name].read_bytes()
    return traps.fill((HOSTILE / name).read_bytes())


@pytest.mark.slow
def test_every_corpus_item_through_both_routes(app, generated, traps, caplog) -> None:
    caplog.set_level(logging.INFO, logger="capmap.io.isolated")
    public, admin = app.test_client(), logged_in(app, "ada", ["admin"])
    store = open_store(app.config["DATABASE_URL"])
    version, layers = store.data_version(), [la.id for la in store.layers()]
    uploads = Path(app.instance_path) / "uploads"
    warm = (HOSTILE / "outside_the_data.geojson").read_bytes()  # first requests load caches
    post_file(public, "/planscape/result", warm, "warm.geojson")
    post_file(admin, "/admin/import", warm, "warm.geojson", BOUNDARY_FORM)
    start_rss, previews = rss_mb(), len(list(uploads.iterdir()))
    problems, table = [], []
    for name, expected in CORPUS.items():
        data = corpus_item(name, generated, traps)
        for route, url, form, expect in (("finder", "/planscape/result", None, expected[0]),
                                         ("admin", "/admin/import", BOUNDARY_FORM, expected[1])):
            client = public if route == "finder" else admin
            answer = post_file(client, url, data, name, form)
            said, body = answer_text(answer)
            heading = re.search(r"<h1>(.*?)</h1>", body)
            shown = heading.group(1) if heading and answer.status_code == 200 else said.strip()
            table.append(f"{name:34} {route:6} {answer.status_code} {shown[:150]}")
            if answer.status_code != expect.status or not re.search(expect.says, said):
                problems.append(f"{name} via {route}: {answer.status_code} {said[:300]!r}")
            assert "Traceback" not in body and answer.status_code != 500
            previews += route == "admin" and answer.status_code == 200
            # Refused uploads leave nothing behind; a preview waits for confirmation.
            assert len(list(uploads.iterdir())) == previews, name
    print("\n".join(table))
    assert not problems, "\n".join(problems)
    assert public.get("/planscape").status_code == 200  # still answering
    assert store.data_version() == version and [la.id for la in store.layers()] == layers
    store.close()
    assert traps.listener.connections() == 0
    assert traps.watch.events() == 0
    grown = rss_mb() - start_rss
    peaks = [float(m) for m in re.findall(r"peak (-?\d+) MB", caplog.text)]
    print(f"parent RSS grew {grown:.1f} MB; child peaks (MB above start): {sorted(peaks)}")
    assert grown < PARENT_GROWTH_MB
    assert len(peaks) >= len(CORPUS) and max(peaks) < app.config["UPLOAD_MEMORY_LIMIT_MB"]


def test_the_memory_cap_stops_a_reader_through_both_routes(app, generated, traps) -> None:
    """With a 100 MB cap the 5-million-vertex polygon (about 490 MB to read) is stopped by the
    cap in the child, before the vertex limit could refuse it: a 413 naming the cap."""
    app.config["UPLOAD_MEMORY_LIMIT_MB"] = 100
    public, admin = app.test_client(), logged_in(app, "ada", ["admin"])
    data = generated["polygon_5m_vertices.zip"].read_bytes()
    start_rss = rss_mb()
    for client, url, form in ((public, "/planscape/result", None),
                              (admin, "/admin/import", BOUNDARY_FORM)):
        answer = post_file(client, url, data, "polygon_5m_vertices.zip", form)
        assert answer.status_code == 413, answer.get_data(as_text=True)
        assert answer.get_json()["message"] == (
            "polygon_5m_vertices.zip: the file needs more than 100 MB of memory to read; the "
            "limit was reached and reading was stopped")
    assert rss_mb() - start_rss < PARENT_GROWTH_MB
    assert public.get("/planscape").status_code == 200
    assert not any((Path(app.instance_path) / "uploads").iterdir())


def self_crossing_star(vertices: int) -> bytes:
    """A GeoJSON polygon drawn as a star {n/(n//2)} near the sample data: every edge crosses
    almost every other, so repairing it means computing about n²/2 crossings."""
    step = (np.arange(vertices + 1) * (vertices // 2)) % vertices
    angle = 2 * np.pi * step / vertices
    ring = np.column_stack([-3.81 + 0.018 * np.cos(angle), 56.395 + 0.01 * np.sin(angle)])
    return json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"code": "S01", "name": "Star"},
        "geometry": {"type": "Polygon", "coordinates": [np.round(ring, 7).tolist()]}}]}).encode()


@pytest.mark.slow
def test_a_small_file_that_is_costly_to_repair_is_stopped_by_the_cpu_limit(app, traps) -> None:
    """26 kB: a 1,001-vertex self-crossing star takes more than 10 s of CPU to repair (measured);
    with a 2 s CPU limit both routes answer 413 naming it, and the worker carries on."""
    app.config["UPLOAD_CPU_SECONDS"] = 2
    public, admin = app.test_client(), logged_in(app, "ada", ["admin"])
    data = self_crossing_star(1001)
    assert len(data) < 30_000
    for client, url, form in ((public, "/planscape/result", None),
                              (admin, "/admin/import", BOUNDARY_FORM)):
        answer = post_file(client, url, data, "star.geojson", form)
        assert answer.status_code == 413, answer.get_data(as_text=True)
        assert answer.get_json()["message"] == (
            "star.geojson: reading it needed more than 2 s of CPU time; the limit was reached "
            "and reading was stopped")
    assert post_file(public, "/planscape/result", LEITH, "leith.geojson").status_code == 200
    assert not any((Path(app.instance_path) / "uploads").iterdir())


# -- GDAL paths in form fields -----------------------------------------------------------------

LEITH = (HOSTILE / "outside_the_data.geojson").read_bytes()
NAME_FIELDS = ("file_layer", "code_field", "name_field", "population_field", "parent_field",
               "simd_rank_field", "simd_decile_field", "simd_quintile_field")
# Fields that are only labels keep any text (shown escaped in the preview); `source` is not a
# setting the form offers, so it is ignored.
LABEL_FIELDS = ("vintage", "title", "licence", "source")


def gdal_paths(traps: Traps) -> list[str]:
    return [f"/vsicurl/http://127.0.0.1:{traps.listener.port}/boundary.geojson",
            f"/vsizip/{traps.canary}/leith.shp", str(traps.canary)]


@pytest.mark.slow
def test_gdal_paths_in_every_admin_form_field(app, traps) -> None:
    admin = logged_in(app, "ada", ["admin"])
    store = open_store(app.config["DATABASE_URL"])
    version = store.data_version()
    seen = []
    for value in gdal_paths(traps):
        for field in ("kind", "id", "kind_of_layer", *NAME_FIELDS, "crs", *LABEL_FIELDS):
            answer = post_file(admin, "/admin/import", LEITH, "leith.geojson",
                               {**BOUNDARY_FORM, field: value})
            seen.append((field, answer.status_code))
            if field in LABEL_FIELDS:
                assert answer.status_code == 200, (field, answer.get_data(as_text=True)[:300])
                continue
            message = answer.get_json()["message"]
            assert answer.status_code in (400, 404, 422) and value[:20] in message, (field, message)
        for field in ("plan_type", "title_field"):
            plan = LEITH.replace(b'"name": "Leith"', b'"title": "Leith plan"')
            answer = post_file(admin, "/admin/import", plan, "plan.geojson",
                               {"kind": "plans", field: value})
            assert answer.status_code == 422 and value[:20] in answer.get_json()["message"]
    # The file's name is only a name: it is made safe and the uploaded bytes are what is read.
    for value in gdal_paths(traps):
        answer = post_file(admin, "/admin/import", LEITH, value + ".geojson", BOUNDARY_FORM)
        assert answer.status_code == 200 and "Preview: boundaries from" in answer.get_data(
            as_text=True)
    assert store.data_version() == version
    store.close()
    assert traps.listener.connections() == 0 and traps.watch.events() == 0
    print(seen)


def test_gdal_paths_in_every_finder_form_field(client, traps) -> None:
    for value in gdal_paths(traps):
        answer = client.post("/planscape/result", data={"geometry": value}, headers=JSON)
        assert answer.status_code == 400
        assert answer.get_json()["message"].startswith("the drawn area is not JSON")
        answer = client.post("/planscape/result", headers=JSON,
                             data={"format": value, "file": (io.BytesIO(LEITH), "a.geojson")})
        assert answer.status_code == 400
        assert answer.get_json()["message"].startswith(f"format {value[:20]!r} is not offered")
        answer = client.get("/planscape/result", query_string={"geometry": value}, headers=JSON)
        assert answer.status_code == 400
        answer = post_file(client, "/planscape/result", LEITH, value + ".geojson")
        assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert traps.listener.connections() == 0 and traps.watch.events() == 0


# -- the child process itself ------------------------------------------------------------------

def _allocate(mb: int) -> int:
    return len(bytearray(mb * MB))


def _spin() -> None:
    while True:
        pass


def _sleep() -> None:
    time.sleep(60)


def _abort() -> None:
    os.abort()


def _refuse() -> None:
    raise ValidationError("given.geojson: refused for a stated reason")


def _write(mb: int) -> int:
    with open(Path(tempfile.gettempdir()) / "big.bin", "wb") as handle:
        return handle.write(bytes(mb * MB))


# The wall clock is only a backstop here: the CPU and memory limits must be what stops these.
SMALL = isolated.ChildLimits(memory_mb=100, cpu_seconds=2, wall_seconds=120, file_mb=1)


def run_child(call, tmp_path: Path, limits: isolated.ChildLimits = SMALL) -> isolated.Outcome:
    return isolated.run(call, name="given.geojson", folder=tmp_path, limits=limits)


def test_a_child_answers_with_its_peak_memory(tmp_path: Path) -> None:
    outcome = run_child(partial(_allocate, 50), tmp_path)
    assert outcome.value == 50 * MB and 50 <= outcome.peak_mb < 100


def test_a_child_over_the_memory_cap_is_a_413(tmp_path: Path) -> None:
    with pytest.raises(TooLarge, match=r"given\.geojson: the file needs more than 100 MB of "
                                       r"memory to read"):
        run_child(partial(_allocate, 200), tmp_path)


def test_a_child_over_its_cpu_time_is_a_413(tmp_path: Path) -> None:
    with pytest.raises(TooLarge, match=r"reading it needed more than 2 s of CPU time"):
        run_child(_spin, tmp_path)


def test_a_child_past_the_wall_clock_is_killed(tmp_path: Path) -> None:
    limits = isolated.ChildLimits(memory_mb=100, cpu_seconds=5, wall_seconds=2)
    with pytest.raises(TooLarge, match=r"reading it took longer than 2 s"):
        run_child(_sleep, tmp_path, limits)


def test_a_crashed_child_is_a_422(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"given\.geojson could not be read: the reader "
                                              r"stopped \(SIGABRT\)"):
        run_child(_abort, tmp_path)


def test_a_child_error_is_raised_as_itself(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="given.geojson: refused for a stated reason"):
        run_child(_refuse, tmp_path)


def test_a_child_writes_only_in_the_upload_folder_and_within_the_file_cap(tmp_path: Path) -> None:
    assert run_child(partial(_write, 0), tmp_path).value == 0
    assert (tmp_path / "big.bin").exists()  # the temporary folder is the upload's own
    with pytest.raises(ValidationError, match=r"could not be read: OSError: \[Errno 27\] File too "
                                              r"large") as refused:
        run_child(partial(_write, 2), tmp_path)
    assert str(tmp_path) not in refused.value.message and "/tmp" not in refused.value.message


# -- through a real gunicorn server ------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
BODY_MB = 200


@dataclass
class Served:
    """capmap under gunicorn (one sync worker) on 127.0.0.1, with its log file."""

    host: str
    port: int
    process: subprocess.Popen
    log: Path

    def request(self, method: str, path: str, body: bytes = b"",
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body or None, headers=headers or {})
            answer = conn.getresponse()
            return answer.status, dict(answer.getheaders()), answer.read()
        finally:
            conn.close()

    def worker_rss_mb(self) -> float:
        """The resident memory of the worker, in MB."""
        with open(f"/proc/{self.worker()}/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status
                        if line.startswith("VmRSS:")) / 1024

    def worker(self) -> int:
        """The process id of the master's one worker."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return int(children.read_text().split()[0])


@pytest.fixture(scope="module")
def served(sample_db, tmp_path_factory) -> Iterator[Served]:
    """gunicorn as `capmap serve` runs it, over a copy of the sample data, with CSRF on and a
    100 MB memory cap on upload readers."""
    folder = tmp_path_factory.mktemp("gunicorn")
    db = folder / "capmap.sqlite"
    shutil.copy(sample_db, db)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CAPMAP_DATABASE_URL": f"sqlite:///{db}", "CAPMAP_TILES_URL": '""',
           "CAPMAP_INSTANCE_PATH": str(folder / "instance"), "CAPMAP_SECRET_KEY": "hostile-test",
           "CAPMAP_UPLOAD_MEMORY_LIMIT_MB": "100"}
    log = folder / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
             "app:create_app()"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Served("127.0.0.1", port, process, log)
    for _ in range(600):  # a deadline for a server that never comes up, not a timing assertion
        try:
            if server.request("GET", "/planscape")[0] == 200:
                break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"gunicorn did not start: {log.read_text()[-2000:]}")
    yield server
    process.terminate()
    process.wait(timeout=30)


def multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "capmap-hostile-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
                 + data + f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def finder_upload(server: Served, filename: str, data: bytes) -> tuple[int, dict]:
    """POST a file to the finder as a browser would: with the session's CSRF token."""
    status, headers, page = server.request("GET", "/planscape")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    cookie = headers["Set-Cookie"].split(";")[0]
    body, kind = multipart({"csrf_token": token}, filename, data)
    status, _, answer = server.request("POST", "/planscape/result", body, {
        "Content-Type": kind, "Cookie": cookie, "Accept": "application/json"})
    return status, json.loads(answer) if status != 200 else {}


def stream_body(server: Served, megabytes: int, chunked: bool = False) -> tuple[int, bytes, int]:
    """POST a multipart body of `megabytes` MB in 1 MB pieces (never held whole), with its
    Content-Length or chunked, stopping when the server answers; (status, answer, bytes sent)."""
    sock = socket.create_connection((server.host, server.port), timeout=60)
    length = ("Transfer-Encoding: chunked" if chunked else f"Content-Length: {megabytes * MB}")
    head = (f"POST /planscape/result HTTP/1.1\r\nHost: {server.host}\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\n"
            f"{length}\r\nAccept: application/json\r\n\r\n").encode()
    sent = 0
    try:
        sock.sendall(head)
        piece = b"%x\r\n%s\r\n" % (MB, bytes(MB)) if chunked else bytes(MB)
        for _ in range(megabytes):
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered (or closed): stop sending
            try:
                sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                answer += chunk
    finally:
        sock.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer, sent


@pytest.mark.slow
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_200_mb_body_is_refused_by_a_real_server(served: Served, chunked: bool) -> None:
    worker = served.worker()
    status, answer, sent = stream_body(served, BODY_MB, chunked)
    assert status == 413, answer[:500]
    assert b"Request Entity Too Large" in answer or b"too large" in answer.lower()
    first_line = answer.split(b"\r\n")[0]
    print(f"sent {sent // MB} MB of {BODY_MB} MB before the answer {first_line!r}")
    assert sent < BODY_MB * MB  # refused from its headers, before the body was read
    assert served.request("GET", "/planscape")[0] == 200
    assert served.worker() == worker


@pytest.mark.slow
def test_a_reader_over_the_cap_leaves_a_real_server_answering(served: Served,
                                                               generated) -> None:
    worker = served.worker()
    assert finder_upload(served, "leith.geojson", LEITH)[0] == 200  # caches loaded
    start_rss = served.worker_rss_mb()
    status, answer = finder_upload(served, "polygon_5m_vertices.zip",
                                   generated["polygon_5m_vertices.zip"].read_bytes())
    assert status == 413 and answer["message"] == (
        "polygon_5m_vertices.zip: the file needs more than 100 MB of memory to read; the limit "
        "was reached and reading was stopped")
    status, answer = finder_upload(served, "vrt.geojson",
                                   (HOSTILE / "vrt_url.geojson").read_bytes())
    assert status == 400 and "is a GDAL VRT file" in answer["message"]
    assert finder_upload(served, "leith.geojson", LEITH)[0] == 200
    assert served.request("GET", "/planscape")[0] == 200
    assert served.worker() == worker  # the worker itself never died
    grown = served.worker_rss_mb() - start_rss
    print(f"gunicorn worker RSS grew {grown:.1f} MB")
    assert grown < PARENT_GROWTH_MB
    assert b"Traceback" not in served.log.read_bytes()
