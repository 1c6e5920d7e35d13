"""What an untrusted file is, judged by its bytes before any parser sees it.

Every check here runs before GDAL opens anything: the path must name a plain local file, its
content must be the format its extension promises, XML may not declare a DOCTYPE or entities, and
a zip archive is inspected (entry count, sizes, names) before one shapefile is copied out of it.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from capmap.core.errors import InputError, TooLarge

ACCEPTED_EXTENSIONS = (".geojson", ".json", ".gpkg", ".zip", ".kml", ".fgb", ".csv")

# The content each extension must hold (see `content_kind`).
EXPECTED_KIND = {
    ".geojson": "json", ".json": "json", ".gpkg": "gpkg", ".zip": "zip", ".kml": "xml",
    ".fgb": "fgb", ".csv": "text",
}

KIND_LABEL = {
    "gpkg": "a GeoPackage (SQLite)",
    "zip": "a zip archive", "fgb": "FlatGeobuf", "json": "JSON", "xml": "XML",
    "vrt": "a GDAL VRT file", "gdalg": "a GDAL pipeline (GDALG) file", "text": "plain text",
    "binary": "binary data of an unknown kind",
}

EXPECTED_LABEL = {
    "json": "GeoJSON starting with '{'", "gpkg": "a GeoPackage (an SQLite file)",
    "zip": "a zip archive holding one shapefile", "xml": "KML (XML with a <kml> element)",
    "fgb": "FlatGeobuf (starting with the bytes 'fgb')", "text": "CSV text",
}

HEAD_BYTES = 64 * 1024
_CHUNK = 1024 * 1024
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_VRT = re.compile(rb"<\s*(OGRVRTDataSource|VRTDataset)\b", re.IGNORECASE)
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# A path part GDAL could take for a virtual file system: /vsicurl/, /vsizip/, /vsicurl?url=...
# (GDAL only honours them as a prefix; any part is refused in case a path is normalised later).
# An uploaded file's safe name such as "vsicurl_http_host_a.geojson" is not one.
_VSI_PART = re.compile(r"(^|[/\\])vsi[a-z0-9_]*([/\\?]|$)", re.IGNORECASE)
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_NEEDED_PARTS = (".shp", ".shx", ".dbf")


@dataclass(frozen=True)
class Source:
    """A checked file: what a parser reads, its format and the name messages may show."""

    path: Path  # the file itself, or the private copy of a zipped shapefile's .shp
    ext: str
    name: str  # the given file's base name: the only name messages show
    hidden: dict[str, str]  # real paths on this machine -> what messages show instead
    states_crs: bool = True  # False for GeoJSON without a "crs" member


@contextmanager
def opened(path: str | os.PathLike[str], *, max_bytes: int, max_zip_entries: int,
           max_uncompressed_bytes: int) -> Iterator[Source]:
    """Check path, size and content; unpack a zipped shapefile into a private directory."""
    file = local_file(path)
    size = file.stat().st_size
    if size > max_bytes:
        raise TooLarge(f"{file.name}: {size:,} bytes; the limit is {max_bytes:,}")
    ext = sniff(file)
    hidden = {str(file): file.name, str(file.parent): "."}
    if ext != ".zip":
        states_crs = geojson_crs(file) if ext in (".geojson", ".json") else True
        yield Source(file, ext, file.name, hidden, states_crs)
        return
    with tempfile.TemporaryDirectory(prefix="capmap-") as tmp:
        shp = extract_shapefile(file, Path(tmp), max_entries=max_zip_entries,
                                max_uncompressed_bytes=max_uncompressed_bytes)
        yield Source(shp, ext, file.name, {str(shp): file.name, tmp: file.name, **hidden})


def local_file(path: str | os.PathLike[str]) -> Path:
    """The absolute path of a plain local file; refuse GDAL virtual paths, URLs and the rest."""
    text = os.fspath(path)
    if not isinstance(text, str):
        raise InputError("a file path must be text")
    if _VSI_PART.search(text):
        raise InputError(f"{text!r} is a GDAL virtual path (/vsi...); give a plain local file")
    if "://" in text:
        raise InputError(f"{text!r} is a URL; only local files can be read")
    if "\x00" in text:
        raise InputError("a file path may not contain a NUL character")
    resolved = Path(os.path.abspath(text))
    if "!" in str(resolved):
        # pyogrio would read "a.zip!b.shp" as a member of an archive; rename the file instead.
        raise InputError(f"{resolved.name}: file names containing '!' are not accepted")
    try:
        mode = resolved.lstat().st_mode
    except OSError:
        raise InputError(f"{resolved.name}: no such file") from None
    if stat.S_ISLNK(mode):
        raise InputError(f"{resolved.name} is a symbolic link; give the file itself")
    if not stat.S_ISREG(mode):
        raise InputError(f"{resolved.name} is not a regular file (a directory, pipe or device)")
    return resolved


def extension(path: Path) -> str:
    """The lower-case extension of `path`, refused unless it is one this package reads."""
    ext = path.suffix.lower()
    if ext not in EXPECTED_KIND:
        raise InputError(
            f"{path.name}: extension {ext or '(none)'!r} is not read; "
            f"expected one of {' '.join(ACCEPTED_EXTENSIONS)}"
        )
    return ext


def read_head(path: Path) -> bytes:
    """The first bytes of a file, refusing a file that is empty or only white space."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    if not head.strip():
        size = path.stat().st_size
        if size <= len(head):
            raise InputError(f"{path.name} is empty ({size} bytes)")
    return head


def content_kind(head: bytes) -> str:
    """A short name for what the first bytes of a file show (see KIND_LABEL)."""
    if head.startswith(b"SQLite format 3\x00"):
        return "gpkg"  # GDAL's GPKG driver then refuses SQLite files that are not GeoPackages
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head[:3] == b"fgb" and head[4:7] == b"fgb":  # then major and patch version bytes
        return "fgb"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return "vrt" if _VRT.search(head) else "xml"
    if text.startswith(b"{"):
        return "gdalg" if b'"gdal_streamed_alg"' in head else "json"
    if head.startswith(_UTF16_BOMS) or b"\x00" not in head:
        return "text"
    return "binary"


def sniff(path: Path) -> str:
    """The extension of a file whose content matches it; InputError naming both otherwise."""
    ext = extension(path)
    head = read_head(path)
    kind = content_kind(head)
    if kind in ("vrt", "gdalg"):
        raise InputError(
            f"{path.name} is {KIND_LABEL[kind]}, which can make GDAL open other files or "
            "addresses; such files are refused"
        )
    expected = EXPECTED_KIND[ext]
    if kind != expected:
        raise InputError(
            f"{path.name}: the name ends in {ext} but the content is {KIND_LABEL[kind]}; "
            f"expected {EXPECTED_LABEL[expected]}"
        )
    if kind == "xml":
        _check_xml(path, head)
    return ext


def _check_xml(path: Path, head: bytes) -> None:
    if _scan(path, _DTD):
        raise InputError(
            f"{path.name}: XML with a <!DOCTYPE> or <!ENTITY> declaration is refused "
            "(entities can expand without bound or pull in other files); KML needs neither"
        )
    if not re.search(rb"<\s*(\w+:)?kml\b", head, re.IGNORECASE):
        raise InputError(f"{path.name}: no <kml> element near the start; expected KML")


def _scan(path: Path, pattern: re.Pattern[bytes]) -> bool:
    """True when `pattern` occurs anywhere in the file (read in chunks that overlap)."""
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            if pattern.search(tail + chunk):
                return True
            tail = chunk[-64:]
    return False


# A "crs" key as GDAL's JSON parser sees it: either quote, any letter case, \u escapes allowed.
_CRS_KEY = re.compile(rb"[\"'](?:c|\\u0063|\\u0043)(?:r|\\u0072|\\u0052)(?:s|\\u0073|\\u0053)[\"']",
                      re.IGNORECASE)
_SAFE_CRS_NAME = re.compile(
    r"^((EPSG|ESRI|OGC|IGNF):[\w.]+|urn:ogc:def:crs:(EPSG|ESRI|OGC|IGNF):[\w.]*:[\w.]+"
    r"|https?://www\.opengis\.net/def/crs/(EPSG|OGC)/[\w.]+/[\w.]+)$", re.IGNORECASE)
_MAX_CRS_KEYS = 100
_NOT_A_KEY = object()


def geojson_crs(path: Path) -> bool:
    """True when a GeoJSON file has a "crs" member; InputError unless each names a CRS by code.

    GDAL hands a "crs" name to PROJ, which opens any file named in "+init=/some/file" (even
    /dev/stdin, where it waits), and fetches a "crs" of type "link" over HTTP.
    """
    found = 0
    with path.open("rb") as scan, path.open("rb") as peek:
        offset, tail, last_end = 0, b"", -1
        while chunk := scan.read(_CHUNK):
            start, text = offset - len(tail), tail + chunk
            lowered = text.lower()
            matches = _CRS_KEY.finditer(text) if b"crs" in lowered or b"\\u00" in lowered else ()
            for match in matches:
                end = start + match.end()
                if end <= last_end:
                    continue
                last_end = end
                peek.seek(end)
                value = _member_value(peek.read(4096), path.name)
                if value is not _NOT_A_KEY:
                    found += 1
                    _check_crs_value(value, path.name)
                if found > _MAX_CRS_KEYS:
                    raise InputError(f"{path.name}: more than {_MAX_CRS_KEYS} \"crs\" members")
            offset += len(chunk)
            tail = chunk[-64:]
    return found > 0



def _member_value(window: bytes, name: str) -> object:
    """The JSON value after a key's colon, or _NOT_A_KEY when the quoted text is not a key."""
    text = window.decode("utf-8", errors="replace").lstrip()
    if text and not text.startswith(":"):
        return _NOT_A_KEY
    try:
        return json.JSONDecoder().raw_decode(text[1:].lstrip())[0]
    except (json.JSONDecodeError, IndexError):
        raise InputError(f"{name}: its \"crs\" member could not be checked; refused") from None


def _check_crs_value(value: object, name: str) -> None:
    if not isinstance(value, dict):
        return  # GDAL ignores a "crs" that is not an object
    # GDAL finds member names in any letter case, so every spelling is checked.
    kinds = [v for k, v in value.items() if k.lower() == "type"]
    props = [v for k, v in value.items() if k.lower() == "properties" and isinstance(v, dict)]
    names = [v for p in props for k, v in p.items() if k.lower() == "name"]
    ok = all(isinstance(k, str) and k.upper().startswith(("NAME", "EPSG")) for k in kinds)
    ok = ok and all(isinstance(n, str) and _SAFE_CRS_NAME.match(n) for n in names)
    if not ok:
        shown = json.dumps(value)[:100]
        raise InputError(f"{name}: the GeoJSON \"crs\" member {shown} is refused; expected "
                         "one naming a CRS by code, e.g. urn:ogc:def:crs:EPSG::27700")


def extract_shapefile(archive: Path, dest: Path, *, max_entries: int,
                      max_uncompressed_bytes: int) -> Path:
    """Copy the one shapefile in a zip archive into `dest`; return the path of its .shp.

    The copies get the archive's shapefile name with anything but letters, digits, '_' and '-'
    replaced, so the layer keeps its name and no entry name reaches the file system.
    """
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InputError(f"{archive.name} is not a readable zip archive ({exc})") from None
    except OSError:
        raise InputError(f"{archive.name}: the archive could not be opened") from None
    with zf:
        infos = zf.infolist()
        _check_entries(infos, archive.name, max_entries, max_uncompressed_bytes)
        members = _shapefile_members(infos, archive.name)
        stem = PurePosixPath(members[".shp"].filename.replace("\\", "/")).stem
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", stem)[:64] or "layer"
        budget = [max_uncompressed_bytes]
        for ext, info in members.items():
            _copy_member(zf, info, dest / f"{safe}{ext}", budget, archive.name)
    return dest / f"{safe}.shp"


def _check_entries(infos: list[zipfile.ZipInfo], name: str, max_entries: int,
                   max_bytes: int) -> None:
    if len(infos) > max_entries:
        raise TooLarge(f"{name}: the archive holds {len(infos)} entries; the limit is "
                       f"{max_entries}")
    declared = sum(info.file_size for info in infos)
    if declared > max_bytes:
        raise TooLarge(f"{name}: the archive unpacks to {declared:,} bytes; the limit is "
                       f"{max_bytes:,}")
    for info in infos:
        entry = info.filename
        if entry.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", entry):
            raise InputError(f"{name}: entry {entry!r} has an absolute path; refused")
        if ".." in re.split(r"[\\/]", entry):
            raise InputError(f"{name}: entry {entry!r} climbs out with '..'; refused")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise InputError(f"{name}: entry {entry!r} is a symbolic link; refused")
        if info.flag_bits & 0x1:
            raise InputError(f"{name}: entry {entry!r} is encrypted; refused")


def _ignored(entry: str) -> bool:
    """Directories and the resource-fork copies macOS adds when it zips a folder."""
    pure = PurePosixPath(entry.replace("\\", "/"))
    return entry.endswith(("/", "\\")) or "__MACOSX" in pure.parts or pure.name.startswith("._")


def _shapefile_members(infos: list[zipfile.ZipInfo], name: str) -> dict[str, zipfile.ZipInfo]:
    entries = [info for info in infos if not _ignored(info.filename)]
    shps = [info for info in entries if info.filename.lower().endswith(".shp")]
    if len(shps) != 1:
        found = [i.filename for i in shps] or [i.filename for i in entries]
        what = "shapefiles" if shps else "no .shp file; entries"
        raise InputError(f"{name}: expected exactly one .shp file, found {what}: "
                         f"{', '.join(found[:20]) or '(none)'}")
    stem = shps[0].filename[:-4].lower()
    members = {}
    for info in entries:
        base, dot, ext = info.filename.rpartition(".")
        if dot and base.lower() == stem and f".{ext.lower()}" in SHAPEFILE_PARTS:
            members[f".{ext.lower()}"] = info
    missing = [ext for ext in _NEEDED_PARTS if ext not in members]
    if missing:
        raise InputError(f"{name}: {shps[0].filename} lacks {', '.join(missing)}; a shapefile "
                         "needs .shp, .shx and .dbf (and .prj for its CRS)")
    return members


def _copy_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: list[int],
                 name: str) -> None:
    """Copy one entry, counting real bytes against the budget in case its header lies."""
    try:
        with zf.open(info) as src, target.open("xb") as out:
            while chunk := src.read(_CHUNK):
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise TooLarge(f"{name}: the archive unpacks to more than its limit "
                                   "(its headers understate the sizes)")
                out.write(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            EOFError, ValueError) as exc:
        raise InputError(f"{name}: entry {info.filename!r} cannot be unpacked ({exc})") from None
    except OSError:  # its message would name the private directory
        raise InputError(f"{name}: entry {info.filename!r} cannot be unpacked") from None
