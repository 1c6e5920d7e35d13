"""Text folded for matching: names without accents, case or punctuation, and postcodes split into
their district and sector.

"Steòrnabhagh a Tuath" and "steornabhagh-a-tuath" fold to the same "steornabhagh a tuath", so a
person typing without a Gaelic keyboard finds the Gaelic name. Folding keeps letters and digits
only, so a folded needle holds no LIKE wildcard and a folded name's words are split by single
spaces (a word start is " " + word).
"""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")
# Letters that NFKD does not split into a base letter and a mark.
_LETTERS = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae",
                          "œ": "oe", "þ": "th", "ð": "d"})
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}$")
DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
SECTOR = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9])$")


def fold(text: str | None) -> str:
    """`text` folded: accents dropped, case folded, every run of other characters (spaces,
    hyphens, apostrophes, brackets) one space, none at either end."""
    if not text:
        return ""
    lowered = unicodedata.normalize("NFKD", str(text).casefold()).translate(_LETTERS)
    plain = "".join(ch for ch in lowered if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", plain).strip()


def normalise_postcode(text: str) -> str | None:
    """A full UK postcode in its stored form ("g512ab" -> "G51 2AB"), or None if `text` is not one."""
    packed = "".join(str(text).split()).upper()
    return f"{packed[:-3]} {packed[-3:]}" if POSTCODE.match(packed) else None


def postcode_parts(postcode: str) -> tuple[str | None, str | None]:
    """The district ("G51") and sector ("G51 2") of a stored full postcode ("G51 2AB"); None
    for both when `postcode` is not one (a row kept from before postcodes were checked)."""
    packed = postcode.replace(" ", "")
    if not POSTCODE.match(packed):
        return None, None
    return packed[:-3], f"{packed[:-3]} {packed[-3]}"


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
