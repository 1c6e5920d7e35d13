"""The one guard against spreadsheet formulas in every CSV capmap writes.

A spreadsheet opening a CSV runs a cell that starts with =, +, - or @ as a formula (and some
treat a leading tab or carriage return the same way), so text a resident typed into a pin could
become =HYPERLINK(...) in a planner's spreadsheet. Such a text cell is written with a leading
single quote, which spreadsheets show as text (OWASP's advice for CSV injection).

Numbers stay numbers: only text is guarded. Numeric columns (lon -3.2, counts, shares) are never
touched, and a text cell that is a plain decimal number ("-3.2", "+44", "-1e5") is left as it
is: a spreadsheet reads it as that number, never as a formula.
"""

from __future__ import annotations

import re

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def unsafe(text: str) -> bool:
    """Whether a spreadsheet could run this text cell as a formula."""
    return text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text)


def safe_cell(value):
    """A value as it may go into a CSV: text that a spreadsheet would run gets a leading '."""
    if isinstance(value, str) and unsafe(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell and column name guarded; numeric columns and the
    geometry column are left as they are."""
    out = frame.copy()
    geometry = getattr(frame, "_geometry_column_name", None)
    for column in out.columns:
        values = out[column]
        if column != geometry and (values.dtype == object or pd.api.types.is_string_dtype(values)):
            out[column] = values.map(safe_cell)
    return out.rename(columns={c: safe_cell(c) for c in out.columns if c != geometry})
