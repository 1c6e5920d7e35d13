"""Indicator columns of a boundary layer: named numbers per area (SIMD domain ranks and the like).

A layer definition names them as `NAME` (the file's column of that name) or `NAME=SOURCECOL`;
prepared areas carry one numeric column per indicator, under the indicator's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from capmap.core.errors import ValidationError
from capmap.io.validate import as_float, listed

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Names an indicator may not take: the area columns it would shadow in a prepared frame.
RESERVED = ("code", "name", "parent_code", "population", "simd_rank", "simd_decile",
            "simd_quintile", "geom", "layer_id", "vintage")
# The SIMD domains, named as the Scottish Government's SIMD tables do.
SIMD_DOMAINS = ("income", "employment", "health", "education", "access", "crime", "housing")

IndicatorFields = tuple[tuple[str, str], ...]


def parse_indicator_fields(specs: Iterable[str] | Mapping[str, str] | None) -> IndicatorFields:
    """(name, source column) pairs from `NAME[=SOURCECOL]` strings, pairs, or a {name: column}
    table."""
    if not specs:
        return ()
    if isinstance(specs, Mapping):
        pairs = [(str(k).strip(), str(v).strip() or str(k).strip()) for k, v in specs.items()]
    elif isinstance(specs, str):
        raise ValidationError("indicator fields must be a list of NAME[=SOURCECOL], "
                              f"got the text {specs[:60]!r}")
    else:
        pairs = []
        for spec in specs:
            if isinstance(spec, tuple | list) and len(spec) == 2:  # already a pair
                pairs.append((str(spec[0]).strip(), str(spec[1]).strip()))
                continue
            name, _, column = str(spec).partition("=")
            pairs.append((name.strip(), column.strip() or name.strip()))
    return check_indicator_fields(pairs)


def check_indicator_fields(pairs: Iterable[tuple[str, str]]) -> IndicatorFields:
    """Refuse names that are not short lower-case slugs, reserved, or given twice."""
    pairs = tuple(pairs)
    for name, column in pairs:
        if not _NAME.match(name):
            raise ValidationError(
                f"indicator name {name!r} is not allowed; expected lower-case letters, digits "
                "and underscores, starting with a letter (e.g. income or crime_rank)")
        if name in RESERVED:
            raise ValidationError(f"indicator name {name!r} is taken by an area column; "
                                  f"reserved are {', '.join(RESERVED)}")
        if not column:
            raise ValidationError(f"indicator {name!r} names no source column")
    names = [n for n, _ in pairs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValidationError(f"indicators given twice: {listed(twice)}")
    return pairs


def indicator_columns(raw: pd.DataFrame, fields: IndicatorFields, source: str
                      ) -> dict[str, np.ndarray]:
    """Each indicator's values (floats, NaN where blank); refused, naming the rows, where a value
    is not a finite number."""
    out = {}
    for name, column in fields:
        values = as_float(raw[column], column, source)
        infinite = values.notna() & ~np.isfinite(values.fillna(0).to_numpy(dtype=float))
        if infinite.any():
            rows = [str(i + 1) for i in np.flatnonzero(infinite.to_numpy())]
            raise ValidationError(f"{source}: {column} is infinite in rows {listed(rows)}")
        out[name] = values.to_numpy(dtype=float, na_value=np.nan)
    return out


def as_text(fields: IndicatorFields) -> str:
    """The fields as the web form and reports write them: `name=column, ...`."""
    return ", ".join(n if n == c else f"{n}={c}" for n, c in fields)
