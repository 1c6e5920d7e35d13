"""One parser per kind of input a person types or a client sends: dates, bounding boxes, area
codes and ids, postcodes, numbers and points. The JSON API, the OGC API, exports, the command
line and the forms all read their input here, so one kind of value is taken (or refused) alike
everywhere; the OpenAPI documents (capmap.publish.openapi) describe these same rules.

Each refusal is an InputError (400) that names the value given and what was expected. A value
that parses but cannot be answered (a reversed date range, an area outside the region) is the
caller's ValidationError (422).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

import pandas as pd

from capmap.core.codes import code_problem
from capmap.core.errors import InputError

# -- dates -------------------------------------------------------------------------------------

# Only the extended calendar form: date.fromisoformat alone would also take 20250101 and
# 2025-W01-1, which a person reading the URL would not recognise as the same day. RFC 3339
# date-times (no offset: UTC) for OGC API - Features' datetime. The OpenAPI documents publish
# these patterns, so they are written in the subset of regex both speak.
DATE_PATTERN = (r"([0-9]{3}[1-9]|[0-9]{2}[1-9]0|[0-9][1-9]00|[1-9]000)-(0[1-9]|1[0-2])"
                r"-(0[1-9]|[12][0-9]|3[01])")
TIME_PATTERN = (DATE_PATTERN + r"[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
                r"([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?")
DATE_EXAMPLE = "2027-03-31"


def iso_date(raw: str | None, name: str = "date") -> date | None:
    """A YYYY-MM-DD date; None when blank."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        if not re.fullmatch(DATE_PATTERN, text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{name}: {text[:40]!r} is not a date; expected YYYY-MM-DD, e.g. "
                         f"{DATE_EXAMPLE}") from None


def interval(raw: str | None) -> tuple[pd.Timestamp | None, pd.Timestamp | None] | None:
    """OGC API - Features' datetime: an instant, or an interval a/b with ".." or nothing for an
    open end; None when not given."""
    if raw is None:
        return None
    text = raw.strip()
    if "/" not in text:
        return moment(text, end=False), moment(text, end=True)
    parts = text.split("/")
    if len(parts) != 2:
        raise InputError(f"datetime must be an instant or an interval a/b, got {raw[:60]!r}")
    low, high = (None if p in ("", "..") else moment(p, end=i == 1) for i, p in enumerate(parts))
    if low is not None and high is not None and low > high:
        raise InputError(f"datetime interval {raw[:60]!r} ends before it starts")
    return None if low is None and high is None else (low, high)


def moment(text: str, end: bool) -> pd.Timestamp:
    """An RFC 3339 date-time (UTC when it has no offset), or a date: its first or last instant."""
    whole_day = re.fullmatch(DATE_PATTERN, text) is not None
    if not whole_day and re.fullmatch(TIME_PATTERN, text) is None:
        raise InputError(f"datetime {text[:60]!r} is not an RFC 3339 date-time such as "
                         "2024-05-01T12:00:00Z or a date such as 2024-05-01")
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        stamp = pd.Timestamp(moment)
        if whole_day and end:
            stamp += pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    except ValueError:
        raise InputError(f"datetime {text[:60]!r} is not a real date or time") from None
    except OverflowError:
        raise InputError(f"datetime {text[:60]!r} is outside the years 1 to 9999 in UTC") from None
    return stamp


# -- bounding boxes ----------------------------------------------------------------------------

BBOX_EXAMPLE = "-3.6,56.1,-3.4,56.3"


def bbox(raw: str, *, name: str = "bbox", swap: bool = False, heights: bool = False,
         wrap: bool = False) -> tuple[float, float, float, float]:
    """A minlon,minlat,maxlon,maxlat box in degrees (EPSG:4326). `swap`: given lat first (as
    EPSG:4326 says). `heights`: six numbers (with min and max height, dropped) are taken too.
    `wrap`: minlon above maxlon is a box across the antimeridian (OGC API - Features)."""
    text = (raw or "").strip()
    shown = f"{text[:80]!r}"
    parts = text.split(",")
    counts = (4, 6) if heights else (4,)
    expected = f"minlon,minlat,maxlon,maxlat in lon/lat (EPSG:4326), e.g. {BBOX_EXAMPLE}"
    if len(parts) not in counts:
        raise InputError(f"{name} must be 4 numbers {expected}"
                         f"{' (or 6 with heights)' if heights else ''}; got {len(parts)} "
                         f"value{'s' if len(parts) != 1 else ''}: {shown}")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"{name} must be numbers {expected}; got {shown}") from None
    if not all(math.isfinite(n) for n in nums):
        raise InputError(f"{name} must be finite numbers {expected}; got {shown}")
    minx, miny, maxx, maxy = nums if len(nums) == 4 else nums[:2] + nums[3:5]
    if swap:
        minx, miny, maxx, maxy = miny, minx, maxy, maxx
    if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
        raise InputError(f"{name} {shown} is out of range: lon/lat (EPSG:4326) runs -180 to 180 "
                         "and -90 to 90; British National Grid metres are not taken")
    if miny > maxy:
        raise InputError(f"{name} {shown} has miny above maxy (a minimum above its maximum); "
                         f"expected {expected}")
    if minx > maxx and not wrap:
        raise InputError(f"{name} {shown} has minlon above maxlon (a minimum above its maximum); "
                         f"expected {expected}")
    return minx, miny, maxx, maxy


# -- numbers and points ------------------------------------------------------------------------

POINT_EXAMPLE = "lon=-3.19&lat=55.95"


def number(raw: str | None, name: str) -> float | None:
    """A finite decimal number; None when blank."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{name} must be a number, got {text[:40]!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{name} must be a finite number, got {text[:40]!r}")
    return value


def required_number(raw: str | None, name: str, example: str = POINT_EXAMPLE) -> float:
    """`number`, which must be given."""
    value = number(raw, name)
    if value is None:
        raise InputError(f"{name} is required, e.g. ?{example}")
    return value


def point(lon: str | None, lat: str | None) -> tuple[float, float]:
    """A lon/lat point in degrees from its two fields (the region is the caller's check)."""
    return required_number(lon, "lon"), required_number(lat, "lat")


# -- codes and ids -----------------------------------------------------------------------------


def codes(values: str | Iterable[str] | None) -> list[str]:
    """Area codes from a comma-separated text, or several (a form's repeated field): in order,
    each once, spaces around them dropped. Characters a code may not hold are refused later,
    with the layer's codes (capmap.core.codes.refuse_odd_codes)."""
    texts = [values] if isinstance(values, str) else list(values or ())
    found = [part.strip(" ") for text in texts for part in text.split(",")]
    return list(dict.fromkeys(c for c in found if c))


def layer_code(raw: str, name: str = "area") -> tuple[str, str]:
    """LAYER:CODE, e.g. dz11:S01006506."""
    layer, _, code = (raw or "").partition(":")
    if not layer.strip() or not code.strip():
        raise InputError(f"{name} must be LAYER:CODE, e.g. dz11:S01006506; got {raw[:60]!r}")
    problem = code_problem(code.strip(), f"{name} code")
    if problem:
        raise InputError(problem)
    return layer.strip(), code.strip()


def ids(raw: str, name: str) -> tuple[int, ...]:
    """Whole-number ids separated by commas, e.g. 3,7."""
    parts = [p.strip() for p in (raw or "").split(",")]
    if not all(p.isascii() and p.isdigit() for p in parts):
        raise InputError(f"{name} must be ids separated by commas, e.g. 3,7; got {raw[:60]!r}")
    return tuple(int(p) for p in parts)


# -- postcodes ---------------------------------------------------------------------------------

# A full UK postcode without its space ("G512AB"), a district ("G51") and a sector ("G51 2").
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9])$")


def postcode(text: str | None) -> str | None:
    """A full UK postcode in its stored form ("g512ab" -> "G51 2AB"), or None if `text` is not one."""
    packed = "".join(str(text or "").split()).upper()
    return f"{packed[:-3]} {packed[-3:]}" if POSTCODE.match(packed) else None


def required_postcode(text: str | None) -> str:
    """`postcode`, refusing what is not a full postcode."""
    found = postcode(text)
    if found is None:
        raise InputError(f"{str(text or '').strip()[:12]!r} is not a full postcode; expected one "
                         "like EH1 1AA")
    return found


def partial_postcode(text: str) -> tuple[str, str] | None:
    """("district", "G51") or ("sector", "G51 2") for a typed partial postcode, else None.

    A sector needs its space: without it "EH12" is the district EH12, not the sector EH1 2.
    """
    words = " ".join(str(text).upper().split())
    if DISTRICT.match(words):
        return "district", words
    sector = SECTOR.match(words)
    if sector and " " in words:
        return "sector", f"{sector.group(1)} {sector.group(2)}"
    return None
