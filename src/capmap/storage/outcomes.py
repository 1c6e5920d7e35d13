"""Sums behind outcome profiles: residents, those in SIMD quintile 1 and decile 1, and
population-weighted sums of the SIMD rank and of each indicator, per group of neighbourhoods.

Every sum is linear in an area's weight (its population times the share of it that counts), so
profiles are built from sums: a plan's from its coverage rows grouped by plan, a council's and
Scotland's from the areas grouped by parent code, and a drawn query's as the sum over its areas
of each area's sums times its share (capmap.services.outcomes). One grouped query serves each.
"""

from __future__ import annotations

import sqlalchemy as sa

from capmap.storage import schema as s

# An area covered for less than this share of its area counts as cut (shares of a whole area
# come out of the overlay as 0.9999999...).
WHOLE = 0.999
SUM_KEYS = ("residents", "quintile_known", "quintile_1", "decile_known", "decile_1",
            "rank_residents", "rank_sum", "areas", "cut")


def _sums(weight, share, a) -> list:
    """The SUM_KEYS columns for areas `a` weighted by `weight` (population times share)."""
    def where(condition, value):
        return sa.func.sum(sa.case((condition, value), else_=0.0))
    return [sa.func.sum(weight),
            where(a.simd_quintile.is_not(None), weight), where(a.simd_quintile == 1, weight),
            where(a.simd_decile.is_not(None), weight), where(a.simd_decile == 1, weight),
            where(a.simd_rank.is_not(None), weight), where(a.simd_rank.is_not(None),
                                                           weight * a.simd_rank),
            sa.func.count(), sa.func.sum(sa.case((share < WHOLE, 1), else_=0))]


class OutcomesMixin:
    """Grouped sums for outcome profiles (Store)."""

    def _grouped_sums(self, key, share, source, where, indicators_join) -> dict:
        """{key: {SUM_KEYS..., "indicators": {name: [weighted sum, residents]}}}. The
        indicators are an outer join so that SQLite, which keeps a left join's order, starts
        from the few areas asked about rather than from every indicator row."""
        a, t = s.areas.c, s.area_indicators.c
        weight = a.population * share
        base = sa.select(key, *_sums(weight, share, a)).select_from(source).where(where)
        ind = (sa.select(key, t.name, sa.func.sum(weight * t.value), sa.func.sum(weight))
               .select_from(indicators_join).where(where))
        out: dict = {}
        with self._read() as conn:
            for row in conn.execute(base.group_by(key)):
                out[row[0]] = {**{k: float(v or 0) for k, v in zip(SUM_KEYS, row[1:], strict=True)},
                               "indicators": {}}
            for group, name, total, residents in conn.execute(ind.group_by(key, t.name)):
                if group in out and name is not None:  # None: areas without indicators
                    out[group]["indicators"][name] = [float(total or 0), float(residents or 0)]
        return out

    def plan_outcome_sums(self, layer_id: str, plan_ids: list[int] | None = None) -> dict:
        """Per plan id: sums over the areas of a neighbourhood layer (its current vintage) the
        plan covers, each weighted by its population times the share of it the plan covers
        (plan_coverage). All plans when `plan_ids` is None."""
        layer = self.layer(layer_id)
        a, c, t = s.areas.c, s.plan_coverage.c, s.area_indicators.c
        on_area = ((a.layer_id == c.layer_id) & (a.vintage == layer.vintage) & (a.code == c.code))
        source = s.plan_coverage.join(s.areas, on_area)
        joined = source.outerjoin(s.area_indicators, (t.layer_id == a.layer_id)
                                  & (t.vintage == a.vintage) & (t.code == a.code))
        where = (c.layer_id == layer.id) & a.population.is_not(None)
        if plan_ids is not None:
            where = where & c.plan_id.in_(plan_ids)
        return self._grouped_sums(c.plan_id, c.share_of_area, source, where, joined)

    def area_outcome_sums(self, layer_id: str, by: str, codes: list[str] | None = None) -> dict:
        """Sums over the whole areas of a neighbourhood layer (current vintage), per parent code
        (`by="parent"`, the council) or per area (`by="code"`, for `codes`: at most a query's)."""
        layer = self.layer(layer_id)
        a, t = s.areas.c, s.area_indicators.c
        key = a.parent_code if by == "parent" else a.code
        joined = s.areas.outerjoin(s.area_indicators, (t.layer_id == a.layer_id)
                                   & (t.vintage == a.vintage) & (t.code == a.code))
        where = ((a.layer_id == layer.id) & (a.vintage == layer.vintage)
                 & a.population.is_not(None))
        out: dict = {}
        parts = [None] if codes is None else [codes[i:i + 5000] for i in range(0, len(codes), 5000)]
        for part in parts:
            scope = where if part is None else where & a.code.in_(part)
            out.update(self._grouped_sums(key, sa.literal(1.0), s.areas, scope, joined))
        return out
