"""Reading a table of point records in batches, so an import's memory stays flat.

A CSV is parsed by pandas a batch at a time, after the same checks as `read_vector` (a plain local
file whose bytes are text), with its own bounds (`ReadLimits.max_point_rows`, `max_point_bytes`).
Other formats are read whole by `read_vector`, within its limits, and handed on in slices: GDAL
parses GeoJSON and KML in full at every open, and those files are bounded by bytes instead.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from pyproj import CRS

from capmap.core.errors import InputError, TooLarge
from capmap.io import sniff
from capmap.io.readers import (
    DEFAULT_LIMITS,
    ReadLimits,
    _parse_crs,
    _public_message,
    csv_geometries,
    read_vector,
)
from capmap.io.sniff import Source

# Rows per batch: each is read, checked, assigned and written before the next is parsed.
BATCH_ROWS = 50_000
_BLOCK = 1024 * 1024  # bytes per read of the encoding check and the row count


@dataclass(frozen=True)
class Batch:
    """Some consecutive rows of a file."""

    frame: gpd.GeoDataFrame  # as read_vector reads them, indexed from 0
    offset: int  # data rows of the file before this batch: its rows are offset + 1 on
    expected: int  # about how many data rows the file holds (for progress bars)


def read_batches(path: str | os.PathLike[str], *, crs: str | None = None,
                 limits: ReadLimits = DEFAULT_LIMITS, rows: int = BATCH_ROWS) -> Iterator[Batch]:
    """The file at `path` as read_vector reads it (same columns, CRS and row checks), in batches
    of at most `rows` rows; at least one batch, perhaps empty, so its columns can be checked."""
    fallback = _parse_crs(crs)
    if sniff.extension(sniff.local_file(path)) != ".csv":
        frame = read_vector(path, crs=crs, limits=limits)
        for start in range(0, max(len(frame), 1), rows):
            yield Batch(frame.iloc[start:start + rows].reset_index(drop=True), start, len(frame))
        return
    with sniff.opened(path, max_bytes=limits.max_point_bytes,
                      max_zip_entries=limits.max_zip_entries,
                      max_uncompressed_bytes=limits.max_uncompressed_bytes) as src:
        yield from _csv_batches(src, fallback, limits, rows)


def _csv_batches(src: Source, fallback: CRS | None, limits: ReadLimits,
                 rows: int) -> Iterator[Batch]:
    """Every value as text ('' when blank), as read_vector reads a CSV, a batch at a time."""
    encoding, lines = _encoding(src.path)
    with src.path.open(encoding=encoding, errors="replace", newline="") as handle:
        header = handle.readline()
    delimiter = max(",;\t|", key=header.count) if any(c in header for c in ",;\t|") else ","
    expected = lines - 1
    offset, batches = 0, 0
    try:
        reader = pd.read_csv(src.path, sep=delimiter, dtype=str, keep_default_na=False,
                             na_filter=False, encoding=encoding, chunksize=rows)
        with reader:
            for frame in reader:
                batches += 1
                if offset + len(frame) > limits.max_point_rows:
                    raise TooLarge(f"{src.name}: more than {limits.max_point_rows:,} rows; the "
                                   f"limit is {limits.max_point_rows:,}")
                frame = frame.reset_index(drop=True)
                yield Batch(csv_geometries(frame, src.name, fallback, limits, offset), offset,
                            max(expected, offset + len(frame)))
                offset += len(frame)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError,
            UnicodeError) as exc:
        raise InputError(f"{src.name} could not be read as CSV: "
                         f"{_public_message(exc, src)}") from None
    if not batches:  # pandas gives a header-only file one empty batch; never none at all
        yield Batch(csv_geometries(pd.DataFrame(), src.name, fallback, limits), 0, 0)


def _encoding(path: Path) -> tuple[str, int]:
    """The CSV's encoding as read_vector decodes it (UTF-16 with a byte-order mark, else UTF-8,
    else Windows-1252, else Latin-1), checked block by block rather than by holding the text;
    and the line ends it holds, counted in the same pass."""
    with path.open("rb") as handle:
        head = handle.read(2)
    candidates = ("utf-16",) if head in (b"\xff\xfe", b"\xfe\xff") else ()
    lines = 0
    for encoding in (*candidates, "utf-8-sig", "cp1252"):
        decodes, lines = _scan(path, encoding)
        if decodes:
            return encoding, lines
    return "latin-1", lines


def _scan(path: Path, encoding: str) -> tuple[bool, int]:
    """Whether the whole file decodes as `encoding`; its line ends (b"\\n"), plus one for a last
    line without one: rows plus the header, or a few more where quoted values hold line breaks."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    decodes, lines, last = True, 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(_BLOCK):
            lines += block.count(b"\n")
            last = block[-2:]
            if decodes:
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    decodes = False
    if decodes:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            decodes = False
    return decodes, lines + (not last.endswith((b"\n", b"\n\x00")))  # \x00: UTF-16LE
