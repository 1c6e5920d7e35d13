"""Safe reading of untrusted geodata: one test per format, one per hostile input."""

from __future__ import annotations

import json
import socket
import sqlite3
import stat
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely

from capmap.core.errors import InputError, TooLarge, ValidationError
from capmap.io import gdal_env, readers
from capmap.io.readers import ReadLimits, list_layers, read_vector

HOSTILE = Path(__file__).parent / "data" / "hostile"


def squares(crs: str = "EPSG:27700", names: tuple[str, ...] = ("Leith", "Portobello")):
    """Unit squares 1 km apart with a code and a name each."""
    geoms = [shapely.box(320000 + i * 1000, 670000, 320500 + i * 1000, 670500)
             for i in range(len(names))]
    return gpd.GeoDataFrame({"code": [f"S0{i}" for i in range(len(names))], "name": list(names)},
                            geometry=geoms, crs=crs)


def zip_files(target: Path, entries: dict[str, bytes]) -> Path:
    """A zip archive holding `entries` (name -> bytes)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return target


def shapefile_zip(tmp_path: Path, *, prj: bool = True, folder: str = "wards/") -> Path:
    """A zipped shapefile (in a folder inside the archive) of two BNG squares."""
    out = tmp_path / "shp"
    out.mkdir()
    squares().to_file(out / "wards.shp")
    parts = {f"{folder}{p.name}": p.read_bytes() for p in out.iterdir()
             if prj or p.suffix != ".prj"}
    return zip_files(tmp_path / "wards.zip", parts)


class Listener:
    """A local TCP port that counts the connections made to it (closing each at once)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.02)
        self.port = self.server.getsockname()[1]
        self.seen = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.seen += 1
            conn.close()

    def connections(self) -> int:
        """Connections so far, after giving one in flight a moment to arrive."""
        time.sleep(0.05)
        return self.seen

    def close(self) -> None:
        """Stop counting and free the port."""
        self._stop.set()
        self._thread.join()
        self.server.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A Listener, closed after the test."""
    server = Listener()
    yield server
    server.close()


# --- formats ---------------------------------------------------------------------------------

def test_geojson(tmp_path: Path) -> None:
    path = tmp_path / "areas.geojson"
    squares().to_crs("EPSG:4326").to_file(path)
    frame = read_vector(path)
    assert frame.crs.to_epsg() == 4326
    assert list(frame["code"]) == ["S00", "S01"] and list(frame["name"]) == ["Leith", "Portobello"]
    assert frame.geometry.iloc[0].geom_type == "Polygon"


def test_geojson_without_crs_member_takes_the_given_crs(tmp_path: Path) -> None:
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "S1"},
         "geometry": {"type": "Point", "coordinates": [325000, 673000]}}]}
    path = tmp_path / "bng.json"
    path.write_text(json.dumps(doc))
    assert read_vector(path).crs.to_epsg() == 4326
    frame = read_vector(path, crs="EPSG:27700")
    assert frame.crs.to_epsg() == 27700
    assert frame.geometry.iloc[0].x == 325000


def test_geopackage_layers(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    squares().to_file(path, layer="wards")
    squares(names=("Govan",)).to_file(path, layer="zones")
    assert list_layers(path) == ["wards", "zones"]
    with pytest.raises(InputError, match=r"holds 2 layers; choose one.*wards, zones"):
        read_vector(path)
    with pytest.raises(InputError, match=r"no layer 'nope'; layers are wards, zones"):
        read_vector(path, layer="nope")
    frame = read_vector(path, layer="zones")
    assert list(frame["name"]) == ["Govan"] and frame.crs.to_epsg() == 27700


def test_zipped_shapefile(tmp_path: Path) -> None:
    path = shapefile_zip(tmp_path)
    frame = read_vector(path)
    assert frame.crs.to_epsg() == 27700
    assert list(frame["name"]) == ["Leith", "Portobello"]
    assert frame.geometry.iloc[1].bounds == (321000, 670000, 321500, 670500)
    assert list_layers(path) == ["wards"]


def test_kml_reads_extended_data(tmp_path: Path) -> None:
    path = tmp_path / "places.kml"
    path.write_text("""<?xml version="1.0" encoding="utf-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <Placemark><name>Leith</name>
    <ExtendedData><Data name="code"><value>S13002929</value></Data></ExtendedData>
    <Point><coordinates>-3.17,55.97</coordinates></Point></Placemark>
</Document></kml>""")
    frame = read_vector(path)
    assert frame.crs.to_epsg() == 4326
    assert frame["code"].iloc[0] == "S13002929"
    assert (frame.geometry.iloc[0].x, frame.geometry.iloc[0].y) == (-3.17, 55.97)


def test_flatgeobuf(tmp_path: Path) -> None:
    path = tmp_path / "areas.fgb"
    squares().to_file(path)
    frame = read_vector(path)  # the writer orders features along its spatial index
    assert frame.crs.to_epsg() == 27700 and sorted(frame["code"]) == ["S00", "S01"]


def test_csv_lon_lat_with_blank_rows(tmp_path: Path) -> None:
    path = tmp_path / "responses.csv"
    path.write_text("ref,Longitude,Latitude,area_code\n1,-3.2,55.95,\n2,,,012345\n3, -3.1 ,55.9,\n")
    frame = read_vector(path)
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.iloc[1] is None
    assert (frame.geometry.iloc[2].x, frame.geometry.iloc[2].y) == (-3.1, 55.9)
    assert frame["area_code"].iloc[1] == "012345"  # text stays text


def test_csv_easting_northing_semicolons(tmp_path: Path) -> None:
    path = tmp_path / "pins.csv"
    path.write_text("easting;northing;category\n325000;673000;litter\n")
    frame = read_vector(path, crs="EPSG:4326")  # the columns state the CRS; crs is a fallback
    assert frame.crs.to_epsg() == 27700 and frame.geometry.iloc[0].x == 325000


def test_csv_wkt_needs_a_crs(tmp_path: Path) -> None:
    path = tmp_path / "plans.csv"
    path.write_text('title,WKT\nOne,"POLYGON ((0 0, 1 0, 1 1, 0 0))"\nTwo,\n')
    with pytest.raises(ValidationError, match="has no CRS; give one, e.g. --crs EPSG:27700"):
        read_vector(path)
    frame = read_vector(path, crs="EPSG:27700")
    assert frame.crs.to_epsg() == 27700 and "WKT" not in frame.columns
    assert frame.geometry.iloc[0].area == 0.5 and frame.geometry.iloc[1] is None


def test_csv_without_geometry_columns(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("title,area_codes\nPlan,S1;S2\n")
    frame = read_vector(path)
    assert frame.crs.to_epsg() == 4326 and frame.geometry.isna().all()
    assert frame["area_codes"].iloc[0] == "S1;S2"


def test_csv_bad_coordinates_name_the_rows(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("lon,lat\n-3,55\nabc,55\n-3,\n-3,nan\n")
    with pytest.raises(ValidationError, match=r"'lon'/'lat' are not numbers in rows 2, 3, 4 "):
        read_vector(path)


def test_csv_half_a_coordinate_pair(tmp_path: Path) -> None:
    path = tmp_path / "half.csv"
    path.write_text("easting,code\n1,a\n")
    with pytest.raises(ValidationError, match="'easting' has no partner"):
        read_vector(path)


def test_csv_in_windows_1252(tmp_path: Path) -> None:
    path = tmp_path / "names.csv"
    path.write_bytes("name,lon,lat\nCaf\u00e9 \u2019s,-3,55\n".encode("cp1252"))
    assert read_vector(path)["name"].iloc[0] == "Caf\u00e9 \u2019s"


# --- non-UTF-8 attribute text ----------------------------------------------------------------

def test_geojson_with_latin1_bytes_keeps_utf8_values(tmp_path: Path) -> None:
    path = tmp_path / "mixed.geojson"
    feature = b'{"type":"Feature","properties":{"name":"%s"},' \
              b'"geometry":{"type":"Point","coordinates":[-3,55]}}'
    path.write_bytes(b'{"type":"FeatureCollection","features":[' + feature % b"Caf\xe9" + b","
                     + feature % "Caf\u00e9".encode() + b"]}")
    assert list(read_vector(path)["name"]) == ["Caf\u00e9", "Caf\u00e9"]


def test_shapefile_whose_cpg_lies(tmp_path: Path) -> None:
    out = tmp_path / "shp"
    out.mkdir()
    squares(names=("Caf\u00e9", "Leith")).to_file(out / "w.shp")
    dbf = out / "w.dbf"
    dbf.write_bytes(dbf.read_bytes().replace("Caf\u00e9".encode(), b"Caf\xe9 "))
    path = zip_files(tmp_path / "w.zip", {p.name: p.read_bytes() for p in out.iterdir()})
    assert (out / "w.cpg").read_text() == "UTF-8"
    assert list(read_vector(path)["name"]) == ["Caf\u00e9", "Leith"]


def test_geopackage_with_invalid_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad_text.gpkg"
    squares().to_file(path, layer="t", SPATIAL_INDEX="NO")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE t SET name = CAST(X'436166E9' AS TEXT) WHERE code = 'S00'")
    db.close()
    assert list(read_vector(path)["name"]) == ["Caf\u00e9", "Portobello"]


# --- paths -----------------------------------------------------------------------------------

@pytest.mark.parametrize("given", [
    "/vsicurl/http://127.0.0.1:9/a.geojson", "/vsizip//tmp/a.zip/a.shp",
    "data/../vsimem/x/../../vsizip/a.gpkg", "/tmp/x/vsis3/b.fgb",
])
def test_gdal_virtual_paths_refused(given: str) -> None:
    with pytest.raises(InputError, match=r"GDAL virtual path"):
        read_vector(given)


@pytest.mark.parametrize("given", ["http://127.0.0.1:9/a.geojson", "ftp://host/a.zip",
                                   "zip+file://a.zip"])
def test_urls_refused(given: str) -> None:
    with pytest.raises(InputError, match="is a URL; only local files"):
        read_vector(given)


def test_non_regular_files_refused(tmp_path: Path) -> None:
    folder = tmp_path / "folder.geojson"
    folder.mkdir()
    with pytest.raises(InputError, match="not a regular file"):
        read_vector(folder)
    with pytest.raises(InputError, match="no such file"):
        read_vector(tmp_path / "missing.geojson")
    link = tmp_path / "passwd.csv"
    link.symlink_to("/etc/passwd")
    with pytest.raises(InputError, match="passwd.csv is a symbolic link; give the file itself"):
        read_vector(link)


def test_archive_separator_in_name_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.zip!b.geojson"
    path.write_text("{}")
    with pytest.raises(InputError, match="containing '!'"):
        read_vector(path)


def test_unknown_extension_lists_accepted(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    with pytest.raises(InputError, match=r"'\.txt' is not read; expected one of \.geojson \.json "
                                         r"\.gpkg \.zip \.kml \.fgb \.csv"):
        read_vector(path)


def test_empty_file(tmp_path: Path) -> None:
    for name, content in (("empty.geojson", b""), ("blank.csv", b" \n\t\n")):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(InputError, match=r"is empty \(\d+ bytes\)"):
            read_vector(tmp_path / name)


def test_file_over_max_bytes(tmp_path: Path) -> None:
    path = tmp_path / "areas.geojson"
    squares().to_crs("EPSG:4326").to_file(path)
    with pytest.raises(TooLarge, match=r"bytes; the limit is 100"):
        read_vector(path, limits=ReadLimits(max_bytes=100))


def test_bad_crs_argument(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a\n1\n")
    with pytest.raises(InputError, match="not an authority code; expected e.g. EPSG:27700"):
        read_vector(path, crs="+init=/etc/passwd:x")


# --- content that does not match its name ----------------------------------------------------

def test_geopackage_named_geojson(tmp_path: Path) -> None:
    path = tmp_path / "a.gpkg"
    squares().to_file(path)
    fake = tmp_path / "fake.geojson"
    fake.write_bytes(path.read_bytes())
    with pytest.raises(InputError, match=r"ends in \.geojson but the content is a GeoPackage"):
        read_vector(fake)


def test_json_named_flatgeobuf(tmp_path: Path) -> None:
    path = tmp_path / "fake.fgb"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(InputError, match=r"content is JSON; expected FlatGeobuf"):
        read_vector(path)


@pytest.mark.parametrize("name", ["passwd.geojson", "passwd.kml"])
def test_vrt_pointing_at_a_local_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text('<OGRVRTDataSource><OGRVRTLayer name="p"><SrcDataSource>CSV:/etc/passwd'
                    '</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')
    with pytest.raises(InputError, match="is a GDAL VRT file, which can make GDAL open other"):
        read_vector(path)


def test_vrt_pointing_at_a_url(tmp_path: Path, listener: Listener) -> None:
    path = tmp_path / "remote.geojson"
    url = f"http://127.0.0.1:{listener.port}/a.csv"
    path.write_text(f'\n  <OGRVRTDataSource><OGRVRTLayer name="r"><SrcDataSource>/vsicurl/{url}'
                    '</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')
    with pytest.raises(InputError, match="GDAL VRT file"):
        read_vector(path)
    assert listener.connections() == 0


def test_vrt_driver_is_gone_even_if_sniffing_were_bypassed(tmp_path: Path,
                                                           listener: Listener) -> None:
    path = tmp_path / "remote.vrt"
    url = f"http://127.0.0.1:{listener.port}/a.csv"
    path.write_text(f'<OGRVRTDataSource><OGRVRTLayer name="r"><SrcDataSource>/vsicurl/{url}'
                    '</SrcDataSource></OGRVRTLayer></OGRVRTDataSource>')
    assert "OGR_VRT" not in pyogrio.list_drivers() and "GDALG" not in pyogrio.list_drivers()
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_info(path)
    assert listener.connections() == 0


def crs_geojson(path: Path, crs_text: str) -> Path:
    """A one-point GeoJSON whose "crs" member is the given JSON text."""
    path.write_text('{"type": "FeatureCollection", ' + crs_text + ', "features": [{"type": '
                    '"Feature", "properties": {}, "geometry": {"type": "Point", '
                    '"coordinates": [325000, 673000]}}]}')
    return path


def test_geojson_crs_by_code_is_read(tmp_path: Path) -> None:
    path = crs_geojson(tmp_path / "bng.geojson", '"crs": {"type": "name", "properties": '
                       '{"name": "urn:ogc:def:crs:EPSG::27700"}}')
    assert read_vector(path, crs="EPSG:4326").crs.to_epsg() == 27700  # the file's own wins


@pytest.mark.parametrize("crs_text", [
    '"crs": {"type": "name", "properties": {"name": "+init=/dev/stdin:1"}}',
    '"\\u0063RS" : {"TYPE": "name", "Properties": {"NAME": "+init=/etc/hostname:1"}}',
    '"crs": {"type": "link", "properties": {"href": "file:///etc/passwd", "type": "proj4"}}',
])
def test_geojson_crs_that_names_a_file_is_refused(tmp_path: Path, crs_text: str) -> None:
    path = crs_geojson(tmp_path / "init.geojson", crs_text)
    with pytest.raises(InputError, match=r'the GeoJSON "crs" member .* is refused; expected one '
                                         r"naming a CRS by code"):
        read_vector(path)


def test_geojson_crs_link_is_not_fetched(tmp_path: Path, listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/crs.prj"
    path = crs_geojson(tmp_path / "link.geojson", '"crs": {"type": "link", "properties": '
                       f'{{"href": "{url}", "type": "proj4"}}}}')
    with pytest.raises(InputError, match=r'"crs" member .* is refused'):
        read_vector(path)
    assert pyogrio.read_info(path)["crs"] == "EPSG:4326"  # GDAL itself, past the sniffing
    assert listener.connections() == 0


def test_vsicurl_is_unusable_inside_gdal(listener: Listener) -> None:
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.read_info(f"/vsicurl/http://127.0.0.1:{listener.port}/a.fgb")
    assert listener.connections() == 0


def test_gdal_pipeline_json_refused(tmp_path: Path) -> None:
    path = tmp_path / "pipe.geojson"
    path.write_text(json.dumps({"type": "gdal_streamed_alg",
                                "command_line": "gdal vector pipeline read /etc/passwd"}))
    with pytest.raises(InputError, match=r"GDAL pipeline \(GDALG\) file"):
        read_vector(path)


def test_xml_with_doctype(tmp_path: Path) -> None:
    path = tmp_path / "lol.kml"
    path.write_bytes((HOSTILE / "billion_laughs.kml").read_bytes())
    with pytest.raises(InputError, match=r"<!DOCTYPE> or <!ENTITY> declaration is refused"):
        read_vector(path)


def test_truncated_geopackage(tmp_path: Path) -> None:
    full = tmp_path / "full.gpkg"
    squares().to_file(full)
    path = tmp_path / "cut.gpkg"
    path.write_bytes(full.read_bytes()[:3000])
    with pytest.raises(InputError, match=r"cut\.gpkg could not be read as GeoPackage") as err:
        read_vector(path)
    assert str(tmp_path) not in err.value.message


# --- zip archives ----------------------------------------------------------------------------

def test_shapefile_without_prj(tmp_path: Path) -> None:
    path = shapefile_zip(tmp_path, prj=False)
    with pytest.raises(ValidationError, match=r"no \.prj file, so it has no CRS; give one, e\.g\. "
                                              r"--crs EPSG:27700"):
        read_vector(path)
    assert read_vector(path, crs="EPSG:27700").crs.to_epsg() == 27700


def test_zip_bomb(tmp_path: Path) -> None:
    path = zip_files(tmp_path / "bomb.zip", {"a.shp": b"\0" * 5_000_000, "a.shx": b"",
                                             "a.dbf": b""})
    assert path.stat().st_size < 20_000
    with pytest.raises(TooLarge, match=r"unpacks to 5,000,000 bytes; the limit is 1,000,000"):
        read_vector(path, limits=ReadLimits(max_uncompressed_bytes=1_000_000))


def test_zip_whose_headers_understate_sizes(tmp_path: Path) -> None:
    path = zip_files(tmp_path / "liar.zip", {"a.shp": b"\0" * 50_000, "a.shx": b"",
                                             "a.dbf": b""})
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")  # first central directory entry: a.shp
    data[central + 24:central + 28] = (10).to_bytes(4, "little")  # uncompressed size
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"entry 'a.shp' cannot be unpacked"):
        read_vector(path)


def test_zip_with_too_many_entries(tmp_path: Path) -> None:
    path = zip_files(tmp_path / "many.zip", {f"f{i}.txt": b"x" for i in range(12)})
    with pytest.raises(TooLarge, match="holds 12 entries; the limit is 10"):
        read_vector(path, limits=ReadLimits(max_zip_entries=10))


@pytest.mark.parametrize(("entry", "problem"), [
    ("../evil.shp", "climbs out with '..'"), ("a/../../evil.shp", "climbs out with '..'"),
    ("/etc/evil.shp", "absolute path"), ("C:/evil.shp", "absolute path"),
])
def test_zip_entry_names_refused(tmp_path: Path, entry: str, problem: str) -> None:
    path = zip_files(tmp_path / "evil.zip", {entry: b"x", "a.shx": b"", "a.dbf": b""})
    with pytest.raises(InputError, match=problem):
        read_vector(path)


def test_zip_symlink_entry_refused(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("a.prj")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(InputError, match="'a.prj' is a symbolic link; refused"):
        read_vector(path)


def test_zip_needs_exactly_one_shapefile(tmp_path: Path) -> None:
    two = zip_files(tmp_path / "two.zip", {"a.shp": b"", "b/c.SHP": b"", "__MACOSX/._a.shp": b""})
    with pytest.raises(InputError, match=r"exactly one \.shp file, found shapefiles: a\.shp, "
                                         r"b/c\.SHP$"):
        read_vector(two)
    none = zip_files(tmp_path / "none.zip", {"readme.txt": b"hi"})
    with pytest.raises(InputError, match=r"found no \.shp file; entries: readme\.txt"):
        read_vector(none)
    partial = zip_files(tmp_path / "partial.zip", {"a.shp": b"", "a.prj": b""})
    with pytest.raises(InputError, match=r"a\.shp lacks \.shx, \.dbf"):
        read_vector(partial)


def test_zip_that_is_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "broken.zip"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(InputError, match="is not a readable zip archive"):
        read_vector(path)


# --- feature and vertex limits ---------------------------------------------------------------

def test_too_many_features(tmp_path: Path) -> None:
    path = tmp_path / "three.fgb"
    squares(names=("a", "b", "c")).to_file(path)
    with pytest.raises(TooLarge, match="3 features; the limit is 2"):
        read_vector(path, limits=ReadLimits(max_features=2))


def test_too_many_csv_rows(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text("a\n1\n2\n3\n")
    with pytest.raises(TooLarge, match="more than 2 rows; the limit is 2"):
        read_vector(path, limits=ReadLimits(max_features=2))


def test_too_many_vertices_in_a_later_batch(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(readers, "BATCH_FEATURES", 2)
    path = tmp_path / "five.gpkg"
    squares(names=("a", "b", "c", "d", "e")).to_file(path)
    assert len(read_vector(path)) == 5  # read in three batches
    with pytest.raises(TooLarge, match="more than 20 vertices in all; the limit is 20"):
        read_vector(path, limits=ReadLimits(max_vertices=20))  # 5 squares x 5 vertices


def test_too_many_vertices_in_one_feature(tmp_path: Path) -> None:
    path = tmp_path / "round.geojson"
    circle = shapely.Point(-3, 55).buffer(0.1, quad_segs=64)
    gpd.GeoDataFrame({"a": [1, 2]}, geometry=[shapely.Point(-3, 55), circle],
                     crs="EPSG:4326").to_file(path)
    with pytest.raises(TooLarge, match="feature 2 has 257 vertices; the limit per feature is 100"):
        read_vector(path, limits=ReadLimits(max_vertices_per_feature=100))


def test_too_many_vertices_in_csv_wkt(tmp_path: Path) -> None:
    path = tmp_path / "wkt.csv"
    path.write_text('geom\n"LINESTRING (0 0, 1 1, 2 2, 3 3)"\n')
    with pytest.raises(TooLarge, match="feature 1 has 4 vertices"):
        read_vector(path, crs="EPSG:27700", limits=ReadLimits(max_vertices_per_feature=3))


# --- GDAL settings ---------------------------------------------------------------------------

def test_gdal_settings_in_force_and_reapplied_at_run_time() -> None:
    gdal_env.configure()  # pyogrio is loaded now: the run-time path must work without warnings
    assert pyogrio.get_gdal_config_option("CPL_VSIL_CURL_ALLOWED_FILENAME") == \
        gdal_env.RUNTIME_OPTIONS["CPL_VSIL_CURL_ALLOWED_FILENAME"]
    assert pyogrio.get_gdal_config_option("GDAL_DISABLE_READDIR_ON_OPEN") == "EMPTY_DIR"
    assert set(pyogrio.list_drivers()) <= set(gdal_env.KEPT_DRIVERS) | {"MapInfo File"}
