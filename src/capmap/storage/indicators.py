"""Indicator values per area (SIMD domain ranks and any other named number a layer carries).

Stored long, one row per (layer, vintage, code, indicator), rather than as a JSON column of the
areas: a population-weighted mean over a set of areas is then one grouped SQL query, written
once for both backends (a JSON column would need json_extract on SQLite and ->> on PostgreSQL,
and neither can index inside it), and a layer may carry any number of indicators without a
schema change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from capmap.storage import schema as s

# SQLite binds at most 32,766 values per statement; codes go in slices well under that.
CODES_PER_QUERY = 5000


def indicator_rows(layer_id: str, vintage: str, areas: pd.DataFrame,
                   names: list[str]) -> list[dict]:
    """Rows for area_indicators from prepared areas' indicator columns (blanks left out)."""
    rows = []
    codes = areas["code"].to_numpy(dtype=object)
    for name in names:
        values = pd.to_numeric(areas[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for i in np.flatnonzero(~np.isnan(values)):
            rows.append({"layer_id": layer_id, "vintage": vintage, "code": codes[i],
                         "name": name, "value": float(values[i])})
    return rows


def _where(layer_id: str, vintage: str):
    t = s.area_indicators.c
    return (t.layer_id == layer_id) & (t.vintage == vintage)


class IndicatorsMixin:
    """Reads and writes of area_indicators (Store)."""

    def _put_indicators(self, conn: sa.Connection, layer_id: str, vintage: str,
                        rows: list[dict]) -> None:
        conn.execute(sa.delete(s.area_indicators).where(_where(layer_id, vintage)))
        if rows:
            conn.execute(sa.insert(s.area_indicators), rows)

    def indicator_names(self, layer_id: str, vintage: str | None = None) -> list[str]:
        """The indicators a layer vintage (current by default) carries, sorted."""
        layer = self.layer(layer_id, vintage)
        t = s.area_indicators.c
        with self._read() as conn:
            return list(conn.execute(sa.select(t.name).distinct()
                                     .where(_where(layer.id, layer.vintage)).order_by(t.name))
                        .scalars())

    def _indicators_wide(self, layer_id: str, vintage: str,
                         codes: list[str] | None) -> pd.DataFrame:
        """code plus one column per indicator (NaN where an area has no value)."""
        t = s.area_indicators.c
        query = sa.select(t.code, t.name, t.value).where(_where(layer_id, vintage))
        rows = []
        with self._read() as conn:
            for part in _slices(codes):
                where = query if part is None else query.where(t.code.in_(part))
                rows += conn.execute(where).all()
        long = pd.DataFrame(rows, columns=["code", "name", "value"])
        if long.empty:
            return pd.DataFrame({"code": pd.Series(dtype=object)})
        wide = long.pivot(index="code", columns="name", values="value")
        wide.columns.name = None
        return wide.reset_index()

    def area_indicators(self, layer_id: str, codes: list[str],
                        vintage: str | None = None) -> pd.DataFrame:
        """For the given codes of a layer vintage (current by default): code, population and
        one column per indicator the layer carries (NaN where an area has none), by code.
        Codes not in the layer are left out. What population-weighted profiles start from."""
        layer = self.layer(layer_id, vintage)
        a = s.areas.c
        query = sa.select(a.code, a.population).where(
            (a.layer_id == layer.id) & (a.vintage == layer.vintage))
        rows = []
        with self._read() as conn:
            for part in _slices(sorted(set(codes))):
                rows += conn.execute(query.where(a.code.in_(part))).all()
        base = pd.DataFrame(rows, columns=["code", "population"])
        base["population"] = base["population"].astype("Int64")
        wide = self._indicators_wide(layer.id, layer.vintage, list(base["code"]))
        names = self.indicator_names(layer.id, layer.vintage)
        out = base.merge(wide, on="code", how="left")
        for name in names:
            if name not in out:
                out[name] = np.nan
        return out[["code", "population", *names]].sort_values("code", ignore_index=True)

    def weighted_indicators(self, layer_id: str, codes: list[str],
                            vintage: str | None = None) -> dict[str, dict]:
        """Per indicator over the given codes, in one grouped query: the population-weighted
        mean (areas without a population or value left out), the population it is over and
        the number of areas with a value."""
        layer = self.layer(layer_id, vintage)
        a, t = s.areas.c, s.area_indicators.c
        weighted = sa.func.sum(t.value * a.population)
        population = sa.func.sum(a.population)
        query = (sa.select(t.name, weighted, population, sa.func.count())
                 .select_from(s.area_indicators.join(s.areas, (a.layer_id == t.layer_id)
                                                     & (a.vintage == t.vintage)
                                                     & (a.code == t.code)))
                 .where(_where(layer.id, layer.vintage) & a.population.is_not(None)
                        & (a.population > 0))
                 .group_by(t.name))
        sums: dict[str, list[float]] = {}
        with self._read() as conn:
            for part in _slices(sorted(set(codes))):
                for name, w, p, n in conn.execute(query.where(t.code.in_(part))):
                    total = sums.setdefault(name, [0.0, 0, 0])
                    total[0] += float(w)
                    total[1] += int(p)
                    total[2] += int(n)
        return {name: {"mean": w / p, "population": p, "areas": n}
                for name, (w, p, n) in sorted(sums.items())}

    def layer_columns(self, layer_id: str, vintage: str) -> dict[str, int]:
        """How many areas of a layer vintage have a value in each optional column: population,
        SIMD (any of rank, decile, quintile) and each indicator (as `indicator NAME`)."""
        a, t = s.areas.c, s.area_indicators.c
        simd = sa.case((a.simd_rank.is_not(None) | a.simd_decile.is_not(None)
                        | a.simd_quintile.is_not(None), 1))
        key = (a.layer_id == layer_id) & (a.vintage == vintage)
        with self._read() as conn:
            population, with_simd = conn.execute(
                sa.select(sa.func.count(a.population), sa.func.count(simd)).where(key)).one()
            counts = conn.execute(sa.select(t.name, sa.func.count()).where(
                _where(layer_id, vintage)).group_by(t.name).order_by(t.name)).all()
        return {"population": int(population), "SIMD": int(with_simd),
                **{f"indicator {name}": int(n) for name, n in counts}}


def _slices(codes: list[str] | None):
    if codes is None:
        yield None
        return
    for start in range(0, len(codes), CODES_PER_QUERY):
        yield codes[start:start + CODES_PER_QUERY]
