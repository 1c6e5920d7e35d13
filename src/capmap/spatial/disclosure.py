"""Engagement figures fit for the public: no combination of public queries gives back a count the
suppression hides.

Hiding small counts alone does not do that: the public may choose the filters (dates, themes,
campaigns, channels) and two answers can be subtracted (responses from 1 March to 30 April, 7,
minus those from 1 to 31 March, 5, gives April's hidden 2), as can an area from its council's
total. Coarsening one filter (dates to months) still leaves the others, and the complements.

So every count the public sees, of any area, council, quintile or total and under any filters,
is first `published`: under the threshold it is withheld ("<5", zero included: a published 0
would tell that each "<5" holds at least one, and seven such days under a week "5", at most 7,
would each be exactly 1), at or above it it is rounded to the nearest `base` (5, 6, 7 show as
5; 8 to 12 as 10). Rates, shares, gaps and the unheard are worked out from published counts
only. Each published count is known only to within about `base`/2 either way, so the
difference of two leaves several values possible for the count it would reveal (the tests
enumerate every set of counts consistent with all the public answers of small cases).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from capmap.core.errors import ValidationError
from capmap.spatial import engagement as E


def published(count: int, threshold: int, base: int) -> int | None:
    """A count as the public sees it: None (withheld) under `threshold`, else the nearest
    multiple of `base`, halves up."""
    for name, value in (("threshold", threshold), ("base", base)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(f"{name} must be a whole number of 1 or more; got {value!r}")
    if count < threshold:
        return None
    return base * math.floor(count / base + 0.5)


def _published(counts: np.ndarray, threshold: int, base: int) -> np.ndarray:
    """`published` of each count, as floats with NaN for the withheld."""
    return np.array([np.nan if (p := published(int(c), threshold, base)) is None else p
                     for c in counts], dtype=float)


def _council_rates(parent: pd.Series, counts: np.ndarray, pop: np.ndarray, threshold: int,
                   base: int) -> np.ndarray:
    """Per row, its council's published rate per 1,000 (the layer's without a parent); NaN
    when the council's count is withheld."""
    known = ~np.isnan(pop)
    frame = pd.DataFrame({"parent": parent.to_numpy(dtype=object),
                          "responses": np.where(known, counts, 0),
                          "population": np.where(known, pop, 0.0)})
    sums = frame.groupby("parent", dropna=True)[["responses", "population"]].sum()
    by_parent = pd.Series(E._per_1000(_published(sums["responses"].to_numpy(), threshold, base),
                                      sums["population"].to_numpy()), index=sums.index, dtype=float)
    layer = E._per_1000(_published(np.array([frame["responses"].sum()]), threshold, base)[0],
                        frame["population"].sum())
    rates = frame["parent"].map(by_parent).to_numpy(dtype=float, na_value=np.nan)
    return np.where(parent.isna().to_numpy(), layer, rates)


def public_by_area(areas: pd.DataFrame, counts: Mapping[str, int], *, gap_ratio: float,
                   threshold: int, base: int) -> pd.DataFrame:
    """engagement_from_counts's table from published counts only: `responses` is the
    published count or f"<{threshold}", rates NaN where withheld and council rates from
    published council counts.

    A withheld area is a gap when even threshold - 1 responses would put it under the gap line
    (so the flag tells nothing of its count); unheard is NA there."""
    exact = E.engagement_from_counts(areas, counts, gap_ratio=gap_ratio)
    pop = E._floats(exact["population"])
    shown = _published(exact["responses"].to_numpy(), threshold, base)
    hidden = np.isnan(shown)
    council = _council_rates(exact["parent_code"], exact["responses"].to_numpy(), pop,
                             threshold, base)
    rate = E._per_1000(shown, pop)
    at_most = E._per_1000(np.full(len(pop), threshold - 1.0), pop)
    gap = np.where(hidden, at_most < gap_ratio * council, rate < gap_ratio * council)
    out = exact.assign(rate_per_1000=rate, council_rate_per_1000=council, gap=gap.astype(bool))
    unheard = (exact["population"] - pd.array(np.nan_to_num(shown).astype(np.int64))).clip(lower=0)
    out["unheard"] = unheard.mask(pd.Series(hidden, index=out.index))
    out["responses"] = pd.Series([f"<{threshold}" if h else int(v) for v, h in zip(shown, hidden,
                                                                                  strict=True)],
                                 index=out.index, dtype=object)
    return out


def public_equity(exact_by_area: pd.DataFrame, threshold: int, base: int) -> pd.DataFrame:
    """equity_by_quintile from published quintile counts: withheld ones as f"<{threshold}",
    with their rate and share of responses NaN."""
    equity = E.equity_by_quintile(exact_by_area)
    shown = _published(equity["responses"].to_numpy(), threshold, base)
    out = equity.copy()
    out["rate_per_1000"] = E._per_1000(shown, equity["population"].to_numpy(dtype=float))
    total = np.nansum(shown)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_of_responses"] = np.where(total > 0, shown / total, np.nan)
    out["responses"] = pd.Series([f"<{threshold}" if np.isnan(v) else int(v) for v in shown],
                                 index=out.index, dtype=object)
    return out


def public_q1_ratio(exact_by_area: pd.DataFrame, threshold: int, base: int) -> float | None:
    """q1_rate_ratio from published counts: quintile 1's and all known quintiles'."""
    known = exact_by_area[exact_by_area["simd_quintile"].notna()]
    q1 = known[known["simd_quintile"] == 1]
    if q1.empty:
        return None
    rates = []
    for rows in (q1, known):
        pop = E._floats(rows["population"])
        has = ~np.isnan(pop)
        count = published(int(rows["responses"].to_numpy()[has].sum()), threshold, base)
        rates.append(np.nan if count is None else float(E._per_1000(count, pop[has].sum())))
    q1_rate, overall = rates
    if np.isnan(overall) or overall == 0 or np.isnan(q1_rate):
        return None
    return q1_rate / overall


def shown_count(count: int, threshold: int, base: int) -> int | str:
    """A single count (a total) as the public sees it."""
    value = published(count, threshold, base)
    return f"<{threshold}" if value is None else value
