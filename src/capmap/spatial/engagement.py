"""Engagement coverage: responses per area, rates per 1,000 residents, SIMD equity, gaps (what the
public may see of them: capmap.spatial.disclosure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from capmap.core.errors import ValidationError

AREA_COLUMNS = ("code", "name", "parent_code", "population", "simd_quintile")
QUINTILES = (1, 2, 3, 4, 5)
EQUITY_COLUMNS = ("quintile", "areas", "population", "responses", "rate_per_1000",
                  "share_of_population", "share_of_responses")


def _floats(values: pd.Series) -> np.ndarray:
    """A numeric column as float64, missing values as NaN."""
    return pd.to_numeric(values).to_numpy(dtype=float, na_value=np.nan)


def _per_1000(responses: np.ndarray | float, population: np.ndarray | float) -> np.ndarray:
    """Responses per 1,000 residents; NaN where the population is missing or zero."""
    resp = np.asarray(responses, dtype=float)
    pop = np.asarray(population, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = 1000.0 * resp / pop
    return np.where(pop > 0, rate, np.nan)


def _pooled_rate(by_area: pd.DataFrame) -> float:
    """Responses per 1,000 over the rows with a known population (their responses over their people)."""
    pop = _floats(by_area["population"])
    known = ~np.isnan(pop)
    responses = by_area["responses"].to_numpy(dtype=float)
    return float(_per_1000(responses[known].sum(), pop[known].sum()))


def _check_areas(areas: pd.DataFrame) -> None:
    """Raise ValidationError unless `areas` has the area columns, unique codes and quintiles in 1..5."""
    missing = [c for c in AREA_COLUMNS if c not in areas.columns]
    if missing:
        raise ValidationError(f"areas: missing column(s) {', '.join(missing)}; "
                              f"columns are {', '.join(map(str, areas.columns))}")
    duplicated = areas["code"][areas["code"].duplicated()].unique()
    if len(duplicated):
        raise ValidationError(f"areas: codes must be unique; repeated: {', '.join(map(str, duplicated[:5]))}")
    quintile = _floats(areas["simd_quintile"])
    bad = quintile[~np.isnan(quintile) & ~np.isin(quintile, QUINTILES)]
    if len(bad):
        raise ValidationError(f"areas: simd_quintile must be 1 to 5 or missing; got {bad[0]:g}")


def _counts_by_code(response_codes: pd.Series | np.ndarray | Sequence) -> dict:
    """Responses per code of one area code per response; missing codes are not counted."""
    counts = pd.Series(np.asarray(response_codes, dtype=object)).value_counts(dropna=True)
    return counts.to_dict()


def _council_rates(parent: pd.Series, responses: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Per row, the pooled rate per 1,000 of its parent council, or of the whole layer without a parent."""
    known = ~np.isnan(population)
    pooled = pd.DataFrame({"parent": parent.to_numpy(dtype=object),
                           "responses": np.where(known, responses, 0),
                           "population": np.where(known, population, 0.0)})
    sums = pooled.groupby("parent", dropna=True)[["responses", "population"]].sum()
    by_parent = pd.Series(_per_1000(sums["responses"].to_numpy(), sums["population"].to_numpy()),
                          index=sums.index, dtype=float)
    layer = _per_1000(pooled["responses"].sum(), pooled["population"].sum())
    rates = pooled["parent"].map(by_parent).to_numpy(dtype=float, na_value=np.nan)
    return np.where(parent.isna().to_numpy(), layer, rates)


def engagement_by_area(areas: pd.DataFrame, response_codes: pd.Series | np.ndarray | Sequence, *,
                       gap_ratio: float = 0.5) -> pd.DataFrame:
    """engagement_from_counts, counting `response_codes` (one area code per response; missing codes
    and codes of no area in `areas` are ignored)."""
    return engagement_from_counts(areas, _counts_by_code(response_codes), gap_ratio=gap_ratio)


def engagement_from_counts(areas: pd.DataFrame, counts: Mapping[str, int], *,
                           gap_ratio: float = 0.5) -> pd.DataFrame:
    """One row per area (sorted by code) with its count of responses from `counts` (code to
    responses; codes of no area in `areas` are ignored, areas absent from it have 0).

    `areas` has code, name, parent_code (council code or missing), population and simd_quintile
    (1 = most deprived, or missing). Columns: code, name, parent_code, population (Int64),
    simd_quintile (Int64), responses (int), rate_per_1000 (responses per 1,000 residents; NaN where the
    population is missing or 0), council_rate_per_1000 (the pooled rate of the areas sharing the
    parent_code, or of the whole layer where parent_code is missing; areas of unknown population are left
    out of both sums), gap (rate_per_1000 < gap_ratio x council rate; False where either is unknown) and
    unheard (Int64 residents not yet heard from: population - responses, at least 0).
    """
    _check_areas(areas)
    if not np.isfinite(gap_ratio) or gap_ratio < 0:
        raise ValidationError(f"gap_ratio must be a number of 0 or more; got {gap_ratio!r}")
    src = areas.sort_values("code", kind="stable").reset_index(drop=True)
    population = src["population"].astype("Int64")
    pop = _floats(population)
    responses = np.fromiter((counts.get(code, 0) for code in src["code"].to_numpy(dtype=object)),
                            dtype=np.int64, count=len(src))
    rate = _per_1000(responses, pop)
    council = _council_rates(src["parent_code"], responses, pop)
    return pd.DataFrame({
        "code": src["code"],
        "name": src["name"],
        "parent_code": src["parent_code"],
        "population": population,
        "simd_quintile": src["simd_quintile"].astype("Int64"),
        "responses": responses,
        "rate_per_1000": rate,
        "council_rate_per_1000": council,
        "gap": rate < gap_ratio * council,
        "unheard": (population - responses).clip(lower=0),
    })


def _shares(values: np.ndarray) -> np.ndarray:
    """Each value's share of the total (0..1); NaN throughout when the total is not positive."""
    total = values.sum()
    if total <= 0:
        return np.full(len(values), np.nan)
    return values / total


def equity_by_quintile(by_area: pd.DataFrame) -> pd.DataFrame:
    """One row per SIMD quintile present in an engagement_by_area table; areas of unknown quintile left out.

    Columns: quintile (1 = most deprived), areas, population (residents), responses, rate_per_1000
    (pooled over the quintile's areas of known population), share_of_population and share_of_responses
    (0..1, summing to 1 over the rows; NaN when the total is 0).
    """
    known = by_area[by_area["simd_quintile"].notna()]
    pop = _floats(known["population"])
    has_pop = ~np.isnan(pop)
    responses = known["responses"].to_numpy(dtype=np.int64)
    sums = pd.DataFrame({
        "quintile": known["simd_quintile"].to_numpy(dtype=np.int64),
        "areas": 1,
        "population": np.where(has_pop, pop, 0).astype(np.int64),
        "responses": responses,
        "rated": np.where(has_pop, responses, 0),
    }).groupby("quintile", sort=True).sum()
    population = sums["population"].to_numpy(dtype=np.int64)
    counts = sums["responses"].to_numpy(dtype=np.int64)
    return pd.DataFrame({
        "quintile": sums.index.to_numpy(dtype=np.int64),
        "areas": sums["areas"].to_numpy(dtype=np.int64),
        "population": population,
        "responses": counts,
        "rate_per_1000": _per_1000(sums["rated"].to_numpy(), population),
        "share_of_population": _shares(population.astype(float)),
        "share_of_responses": _shares(counts.astype(float)),
    }, columns=list(EQUITY_COLUMNS))


def q1_rate_ratio(by_area: pd.DataFrame) -> float | None:
    """Quintile-1 rate per 1,000 over the rate of all areas with a known quintile; None if undefined.

    Below 1 means the most deprived areas are heard from less than the rest. None when there are no
    quintile-1 areas or either rate is missing or the overall rate is 0.
    """
    known = by_area[by_area["simd_quintile"].notna()]
    q1 = known[known["simd_quintile"] == 1]
    if q1.empty:
        return None
    overall = _pooled_rate(known)
    q1_rate = _pooled_rate(q1)
    if np.isnan(overall) or overall == 0 or np.isnan(q1_rate):
        return None
    return q1_rate / overall


def _check_limit(limit: int | None) -> None:
    """Raise ValidationError unless `limit` is None or a whole number of 0 or more."""
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValidationError(f"limit must be a whole number of 0 or more; got {limit!r}")


def gap_list(by_area: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """The gap rows of an engagement_by_area table, most residents unheard first, then by code."""
    _check_limit(limit)
    rows = by_area[by_area["gap"].to_numpy(dtype=bool)]
    rows = rows.sort_values(["unheard", "code"], ascending=[False, True], na_position="last", kind="stable")
    return (rows if limit is None else rows.head(limit)).reset_index(drop=True)


def outreach_list(by_area: pd.DataFrame, quintile: int = 1, limit: int | None = 20) -> pd.DataFrame:
    """Areas of SIMD quintile <= `quintile` with a known rate; lowest rate_per_1000, then most unheard."""
    _check_limit(limit)
    if quintile not in QUINTILES:
        raise ValidationError(f"quintile must be 1 to 5; got {quintile!r}")
    simd = _floats(by_area["simd_quintile"])
    rate = by_area["rate_per_1000"].to_numpy(dtype=float)
    rows = by_area[(simd <= quintile) & ~np.isnan(rate)]
    rows = rows.sort_values(["rate_per_1000", "unheard", "code"], ascending=[True, False, True],
                            na_position="last", kind="stable")
    return (rows if limit is None else rows.head(limit)).reset_index(drop=True)


def _as_date(value: object) -> dt.date | None:
    """A date from a date, datetime or Timestamp; None for missing values."""
    if value is None or (not isinstance(value, dt.date) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime):
        return None if pd.isna(value) else value.date()
    if isinstance(value, dt.date):
        return value
    raise ValidationError(f"response date must be a date; got {value!r}")


def _themes(value: object) -> set[str]:
    """The elements of a semicolon-separated theme string, stripped; empty for a missing value."""
    if not isinstance(value, str):
        return set()
    return {part.strip() for part in value.split(";") if part.strip()}


def _column(responses: pd.DataFrame, name: str) -> pd.Series:
    """A column of `responses`, or a ValidationError naming the columns there are."""
    if name not in responses.columns:
        raise ValidationError(f"responses: no '{name}' column to filter on; "
                              f"columns are {', '.join(map(str, responses.columns))}")
    return responses[name]


def check_dates(date_from: object, date_to: object) -> tuple[dt.date | None, dt.date | None]:
    """The bounds as dates; ValidationError when the range ends before it starts."""
    start, end = _as_date(date_from), _as_date(date_to)
    if start is not None and end is not None and start > end:
        raise ValidationError(f"date_from {start.isoformat()} is after date_to {end.isoformat()}; "
                              "give a date_from on or before the date_to")
    return start, end


def filter_responses(responses: pd.DataFrame, *, campaign: str | None = None, channel: str | None = None,
                     theme: str | None = None, date_from: dt.date | None = None,
                     date_to: dt.date | None = None) -> pd.DataFrame:
    """The responses matching every given filter (columns campaign, channel, themes, date).

    campaign and channel match exactly; theme matches one element of the semicolon-separated `themes`
    exactly ("health" does not match "healthcare"); date bounds are inclusive and a response without a
    date is dropped when either bound is given. The index is kept.
    """
    start, end = check_dates(date_from, date_to)
    keep = np.ones(len(responses), dtype=bool)
    for name, wanted in (("campaign", campaign), ("channel", channel)):
        if wanted is not None:
            keep &= _column(responses, name).isin([wanted]).to_numpy(dtype=bool)
    if theme is not None:
        keep &= np.array([theme in _themes(v) for v in _column(responses, "themes")], dtype=bool)
    if start is not None or end is not None:
        dates = [_as_date(v) for v in _column(responses, "date")]
        keep &= np.array([d is not None and (start is None or d >= start) and (end is None or d <= end)
                          for d in dates], dtype=bool)
    return responses[keep]
