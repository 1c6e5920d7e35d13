"""Text folded for matching: names without accents, case or punctuation, and stored postcodes
split into their district and sector (typed postcodes are read by capmap.core.parse).

"Steòrnabhagh a Tuath" and "steornabhagh-a-tuath" fold to the same "steornabhagh a tuath", so a
person typing without a Gaelic keyboard finds the Gaelic name. Folding keeps letters and digits
only, so a folded needle holds no LIKE wildcard and a folded name's words are split by single
spaces (a word start is " " + word).
"""

from __future__ import annotations

import re
import unicodedata

from capmap.core.parse import POSTCODE

_NOT_WORD = re.compile(r"[^0-9a-z]+")
# Letters that NFKD does not split into a base letter and a mark.
_LETTERS = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae",
                          "œ": "oe", "þ": "th", "ð": "d"})


def fold(text: str | None) -> str:
    """`text` folded: accents dropped, case folded, every run of other characters (spaces,
    hyphens, apostrophes, brackets) one space, none at either end."""
    if not text:
        return ""
    lowered = unicodedata.normalize("NFKD", str(text).casefold()).translate(_LETTERS)
    plain = "".join(ch for ch in lowered if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", plain).strip()


def postcode_parts(postcode: str) -> tuple[str | None, str | None]:
    """The district ("G51") and sector ("G51 2") of a stored full postcode ("G51 2AB"); None
    for both when `postcode` is not one (a row kept from before postcodes were checked)."""
    packed = postcode.replace(" ", "")
    if not POSTCODE.match(packed):
        return None, None
    return packed[:-3], f"{packed[:-3]} {packed[-3]}"

