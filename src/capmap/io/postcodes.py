"""Postcode directories as they are published, read a batch at a time.

Recognised from their columns, so a file is imported as downloaded:
- ONS Postcode Directory (ONSPD): `pcds` (or `pcd`), `oseast1m`/`osnrth1m` or `lat`/`long`,
  `doterm` (the date a postcode was terminated).
- NRS Scottish Postcode Directory: `Postcode`, `GridReferenceEasting`/`GridReferenceNorthing` or
  `Latitude`/`Longitude`, `DateOfDeletion`.
- OS Code-Point Open: per-area CSVs without a header (Postcode, Positional_quality_indicator,
  Eastings, Northings, ...), their header in `Doc/Code-Point_Open_Column_Headers.csv`; given as
  the zip OS publishes or its unpacked folder.
- capmap's own table: `postcode` with `lon`/`lat` or `easting`/`northing`.

Grid references are preferred to latitude and longitude where a file has both: capmap turns them
into lon/lat through OSTN15, to about 0.1 m. Terminated postcodes, postcodes without a location
(Code-Point quality 90, ONSPD's blank grid reference) and postcodes outside the region are
skipped and counted; a row whose postcode or coordinates cannot be read refuses the import.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core.crs import SCOTLAND, STORAGE_CRS, Region, bng_to_lonlat
from capmap.core.errors import InputError, TooLarge, ValidationError
from capmap.core.parse import POSTCODE
from capmap.io import sniff
from capmap.io.readers import DEFAULT_LIMITS, ReadLimits

BATCH_ROWS = 50_000
# Code-Point Open holds some 120 area files beside its documents.
MAX_MEMBERS = 1_000
CODEPOINT_COLUMNS = ("Postcode", "Positional_quality_indicator", "Eastings", "Northings",
                     "Country_code", "NHS_regional_HA_code", "NHS_HA_code", "Admin_county_code",
                     "Admin_district_code", "Admin_ward_code")
NO_POSITION = "90"  # Code-Point's positional quality of a postcode it has no coordinates for
EXPECTED = ("ONSPD (pcds, oseast1m/osnrth1m or lat/long, doterm), the NRS Scottish Postcode "
            "Directory (Postcode, GridReferenceEasting/GridReferenceNorthing or Latitude/"
            "Longitude), OS Code-Point Open (headerless: Postcode, Positional_quality_indicator, "
            "Eastings, Northings, ...) or postcode with lon/lat or easting/northing")
_COORDINATES = (("oseast1m", "osnrth1m", True), ("gridreferenceeasting", "gridreferencenorthing", True),
                ("easting", "northing", True), ("eastings", "northings", True),
                ("long", "lat", False), ("longitude", "latitude", False), ("lon", "lat", False),
                ("lng", "lat", False))


@dataclass(frozen=True)
class Layout:
    """Where one file's columns are: positions in its rows."""

    name: str
    postcode: int
    x: int
    y: int
    bng: bool
    header: bool = True
    terminated: int | None = None
    quality: int | None = None


@dataclass(frozen=True)
class PostcodeBatch:
    """Some rows of one file of a directory, ready to store, and what was skipped in them."""

    frame: gpd.GeoDataFrame  # postcode (upper case, one space), geom (EPSG:4326 points)
    file: str
    layout: str
    read: int
    skipped: dict[str, int]


Opener = Callable[[], IO[bytes]]


def read_postcode_directory(path: str | Path, *, region: Region = SCOTLAND,
                            limits: ReadLimits = DEFAULT_LIMITS,
                            rows: int = BATCH_ROWS) -> Iterator[PostcodeBatch]:
    """Every file of the directory at `path` (a CSV, a zip of CSVs, or a folder of them), a
    batch of at most `rows` rows at a time."""
    members, header_names = _members(Path(path), limits)
    read = 0
    for name, opener in members:
        for batch in _file_batches(name, opener, header_names, region, rows):
            read += batch.read
            if read > limits.max_point_rows:
                raise TooLarge(f"{Path(path).name}: more than {limits.max_point_rows:,} rows; "
                               f"the limit is {limits.max_point_rows:,}")
            yield batch


# -- the files of a directory -------------------------------------------------------------------

def _members(path: Path, limits: ReadLimits) -> tuple[list[tuple[str, Opener]], tuple | None]:
    """The data CSVs (name, opener) and the column names of a Code-Point header document."""
    if path.is_dir() and not path.is_symlink():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".csv" and p.is_file()
                       and not p.is_symlink())
        named = [(str(p.relative_to(path)), _file_opener(p)) for p in files]
        total = sum(p.stat().st_size for p in files)
    else:
        file = sniff.local_file(path)
        if file.suffix.lower() == ".csv":
            named, total = [(file.name, _file_opener(file))], file.stat().st_size
        elif file.suffix.lower() == ".zip":
            named, total = _zip_members(file, limits)
        else:
            raise InputError(f"{file.name}: a postcode directory is a .csv file, a .zip of CSVs "
                             "or a folder of them")
    if total > limits.max_point_bytes:
        raise TooLarge(f"{path.name}: {total:,} bytes of CSV; the limit is "
                       f"{limits.max_point_bytes:,}")
    docs = [(n, o) for n, o in named if "column_headers" in n.lower()]
    data = [(n, o) for n, o in named if (n, o) not in docs]
    if not data:
        raise ValidationError(f"{path.name} holds no CSV files of postcodes; expected {EXPECTED}")
    return data, (_header_names(*docs[0]) if docs else None)


def _file_opener(path: Path) -> Opener:
    return lambda: path.open("rb")


def _zip_members(file: Path, limits: ReadLimits) -> tuple[list[tuple[str, Opener]], int]:
    try:
        with zipfile.ZipFile(file) as archive:
            infos = [i for i in archive.infolist() if not sniff._ignored(i.filename)]
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{file.name} is not a readable zip archive ({exc})") from None
    sniff._check_entries(infos, file.name, MAX_MEMBERS, limits.max_point_bytes)
    csvs = sorted((i for i in infos if i.filename.lower().endswith(".csv")),
                  key=lambda i: i.filename)
    return ([(f"{file.name}:{PurePosixPath(i.filename)}", _member_opener(file, i.filename))
             for i in csvs], sum(i.file_size for i in csvs))


def _member_opener(file: Path, member: str) -> Opener:
    def opened() -> IO[bytes]:
        # The member stays readable after the archive is closed, until it is closed itself.
        with zipfile.ZipFile(file) as archive:
            return archive.open(member)
    return opened


def _header_names(name: str, opener: Opener) -> tuple[str, ...]:
    """Code-Point's header document: a line of short codes (PC, PQ, EA, NO, ...) and a line of
    the column names; the line that names Postcode."""
    with opener() as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace") as text:
        lines = text.read(65536)
    for fields in csv.reader(lines.splitlines()[:5]):
        if any(_key(f) == "postcode" for f in fields):
            return tuple(f.strip() for f in fields)
    raise ValidationError(f"{name}: no line of column names holding Postcode")


# -- one file -----------------------------------------------------------------------------------

def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def detect_layout(first: list[str], name: str, header_names: tuple | None = None) -> Layout:
    """The layout of a file from its first row (a header, or Code-Point's first data row)."""
    keys = {_key(f): i for i, f in reversed(list(enumerate(first)))}
    postcode = next((keys[k] for k in ("pcds", "pcd", "postcode") if k in keys), None)
    if postcode is not None:
        found = next(((keys[x], keys[y], bng) for x, y, bng in _COORDINATES
                      if x in keys and y in keys), None)
        if found is None:
            raise ValidationError(f"{name}: no coordinate columns beside {first[postcode]!r}; "
                                  f"columns are {', '.join(first[:12])}; expected {EXPECTED}")
        onspd = "pcds" in keys or "pcd" in keys
        nrs = "gridreferenceeasting" in keys or "dateofdeletion" in keys or "latitude" in keys
        title = "ONSPD" if onspd else "NRS Scottish Postcode Directory" if nrs else "postcode table"
        terminated = keys.get("doterm", keys.get("dateofdeletion"))
        return Layout(title, postcode, found[0], found[1], found[2], terminated=terminated)
    if len(first) >= 4 and POSTCODE.match("".join(first[0].split()).upper()):
        names = [_key(n) for n in (header_names or CODEPOINT_COLUMNS)]
        try:
            where = [names.index(k) for k in ("postcode", "positionalqualityindicator",
                                              "eastings", "northings")]
        except ValueError:
            raise ValidationError(f"{name}: the header document does not name Postcode, "
                                  "Positional_quality_indicator, Eastings and Northings") from None
        return Layout("OS Code-Point Open", where[0], where[2], where[3], True, header=False,
                      quality=where[1])
    raise ValidationError(f"{name}: columns {', '.join(first[:12]) or '(none)'} are not a "
                          f"postcode directory; expected {EXPECTED}")


def _first_line(opener: Opener) -> str:
    with opener() as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace",
                                           newline="") as text:
        return text.readline()


def _file_batches(name: str, opener: Opener, header_names: tuple | None, region: Region,
                  rows: int) -> Iterator[PostcodeBatch]:
    first_line = _first_line(opener)
    if not first_line.strip():
        return  # an empty area file
    layout = detect_layout(next(csv.reader([first_line])), name, header_names)
    used = sorted({c for c in (layout.postcode, layout.x, layout.y, layout.terminated,
                               layout.quality) if c is not None})
    offset = 0
    with opener() as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace",
                                           newline="") as text:
        try:
            reader = pd.read_csv(text, header=None, skiprows=1 if layout.header else 0,
                                 usecols=used, dtype=str, keep_default_na=False,
                                 na_filter=False, chunksize=rows)
            for chunk in reader:
                frame, skipped = prepare_rows(chunk, layout, name, offset, region)
                yield PostcodeBatch(frame, name, layout.name, len(chunk), skipped)
                offset += len(chunk)
        except pd.errors.EmptyDataError:
            return  # a header and no rows
        except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise InputError(f"{name} could not be read as CSV after row {offset}: "
                             f"{str(exc)[:200]}") from None


def prepare_rows(chunk: pd.DataFrame, layout: Layout, name: str, offset: int,
                 region: Region = SCOTLAND) -> tuple[gpd.GeoDataFrame, dict[str, int]]:
    """Rows of one file as stored postcodes (upper case, one space) with lon/lat points; the
    skipped rows counted by reason. `offset` is how many data rows came before, for messages."""
    packed = chunk[layout.postcode].map(lambda v: "".join(v.split()).upper())
    x, y = (_number(chunk[c]) for c in (layout.x, layout.y))
    bad = ~packed.str.match(POSTCODE.pattern).to_numpy()
    blank = np.isnan(x) | np.isnan(y)
    unreadable = blank & ~(_blank(chunk[layout.x]) | _blank(chunk[layout.y]))
    _refuse(name, offset, packed, bad, unreadable)
    gone = (~_blank(chunk[layout.terminated]) if layout.terminated is not None
            else np.zeros(len(chunk), dtype=bool))
    # No location: blank coordinates, Code-Point's quality 90 (given as 0, 0), ONSPD's latitude
    # 99.999999 for a postcode without a grid reference.
    nowhere = blank | ((x == 0) & (y == 0) if layout.bng else np.abs(y) > 90)
    if layout.quality is not None:
        nowhere |= (chunk[layout.quality].str.strip() == NO_POSITION).to_numpy()
    keep = ~gone & ~nowhere
    lon, lat = (bng_to_lonlat(x[keep], y[keep]) if layout.bng else (x[keep], y[keep]))
    inside = ((lon >= region.min_lon) & (lon <= region.max_lon) & (lat >= region.min_lat)
              & (lat <= region.max_lat))
    stored = packed.to_numpy(dtype=object)[keep][inside]
    stored = np.array([f"{p[:-3]} {p[-3:]}" for p in stored], dtype=object)
    _refuse_duplicates(name, stored)
    frame = gpd.GeoDataFrame({"postcode": stored},
                             geometry=shapely.points(lon[inside], lat[inside]), crs=STORAGE_CRS)
    skipped = {"terminated": int(gone.sum()), "without a location": int((nowhere & ~gone).sum()),
               f"outside {region.name}": int((~inside).sum())}
    return frame.rename_geometry("geom"), skipped


def _number(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values.str.strip(), errors="coerce").to_numpy(dtype="float64")


def _blank(values: pd.Series) -> np.ndarray:
    return (values.str.strip() == "").to_numpy()


def _refuse(name: str, offset: int, packed: pd.Series, bad: np.ndarray,
            unreadable: np.ndarray) -> None:
    """Refuse the file, naming its first bad rows (data rows counted from 1)."""
    rows = np.flatnonzero(bad | unreadable)
    if not len(rows):
        return
    shown = [f"row {offset + i + 1}: " + (f"{packed.iat[i][:12]!r} is not a postcode" if bad[i]
                                          else "coordinates are not numbers") for i in rows[:3]]
    more = f" (and {len(rows) - 3} more rows)" if len(rows) > 3 else ""
    raise ValidationError(f"{name}: {'; '.join(shown)}{more}; nothing was stored")


def _refuse_duplicates(name: str, stored: np.ndarray) -> None:
    unique, counts = np.unique(stored.astype(str), return_counts=True)
    twice = unique[counts > 1]
    if len(twice):
        raise ValidationError(f"{name}: postcodes given twice: {', '.join(twice[:5])}; "
                              "nothing was stored")
