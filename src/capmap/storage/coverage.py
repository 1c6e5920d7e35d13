"""Derived plan coverage: per plan and per plan type, how much of each area is covered.

Written once when plans or a neighbourhood layer change, and read by every page, CSV and export
that reports coverage, so no request overlays plans on areas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from capmap.storage import schema as s

COVERAGE_COLUMNS = ["plan_id", "layer_id", "code", "overlap_m2", "share_of_area",
                    "share_of_plan"]
CHUNK = 20_000


class CoverageMixin:
    """Plan coverage and per-type coverage of the Store."""

    def replace_plan_coverage(self, layer_id: str, coverage: pd.DataFrame,
                              by_type: pd.DataFrame | None = None) -> None:
        """Replace one layer's coverage rows in one transaction: per plan (COVERAGE_COLUMNS but
        layer_id) and, when given, per type (code, plan_type, share_of_area)."""
        plan_rows = [{"plan_id": int(r.plan_id), "layer_id": layer_id, "code": str(r.code),
                      "overlap_m2": float(r.overlap_m2), "share_of_area": float(r.share_of_area),
                      "share_of_plan": float(r.share_of_plan)}
                     for r in coverage.itertuples(index=False)]
        type_rows = [] if by_type is None else [
            {"layer_id": layer_id, "code": str(r.code), "plan_type": str(r.plan_type),
             "share_of_area": float(r.share_of_area)} for r in by_type.itertuples(index=False)]
        with self._write() as conn:
            conn.execute(sa.delete(s.plan_coverage).where(s.plan_coverage.c.layer_id == layer_id))
            conn.execute(sa.delete(s.type_coverage).where(s.type_coverage.c.layer_id == layer_id))
            for table, rows in ((s.plan_coverage, plan_rows), (s.type_coverage, type_rows)):
                for start in range(0, len(rows), CHUNK):
                    conn.execute(sa.insert(table), rows[start:start + CHUNK])

    def plan_coverage(self, layer_id: str) -> pd.DataFrame:
        """Stored coverage rows of one layer: COVERAGE_COLUMNS, by plan then code."""
        c = s.plan_coverage.c
        query = (sa.select(*[c[n] for n in COVERAGE_COLUMNS]).where(c.layer_id == layer_id)
                 .order_by(c.plan_id, c.code))
        with self._read() as conn:
            frame = pd.DataFrame(conn.execute(query).all(), columns=COVERAGE_COLUMNS)
        return frame.astype({"overlap_m2": np.float64, "share_of_area": np.float64,
                             "share_of_plan": np.float64})

    def plan_overlap_sums(self, layer_id: str) -> dict[int, float]:
        """Per plan id, its overlap with all the areas of one layer (m²): for a neighbourhood
        layer, the plan's land. Grouped SQL."""
        c = s.plan_coverage.c
        query = (sa.select(c.plan_id, sa.func.sum(c.overlap_m2)).where(c.layer_id == layer_id)
                 .group_by(c.plan_id))
        with self._read() as conn:
            return {int(plan_id): float(m2) for plan_id, m2 in conn.execute(query)}

    def type_coverage(self, layer_id: str) -> pd.DataFrame:
        """Stored per-type coverage of one layer: code, plan_type, share_of_area (only the areas
        a type covers at all), by code then type."""
        c = s.type_coverage.c
        query = (sa.select(c.code, c.plan_type, c.share_of_area).where(c.layer_id == layer_id)
                 .order_by(c.code, c.plan_type))
        with self._read() as conn:
            frame = pd.DataFrame(conn.execute(query).all(),
                                 columns=["code", "plan_type", "share_of_area"])
        return frame.astype({"share_of_area": np.float64})

    def chosen_plan_shares(self, layer_id: str, plan_ids: list[int]) -> pd.DataFrame:
        """Per area of `layer_id` reached by any of `plan_ids`: how many reach it (plans), the
        largest share of it one covers (max_share) and their shares' sum (sum_share). One
        grouped query; the union of several is at least max_share and at most sum_share."""
        c = s.plan_coverage.c
        query = (sa.select(c.code, sa.func.count(), sa.func.max(c.share_of_area),
                           sa.func.sum(c.share_of_area))
                 .where(c.layer_id == layer_id, c.plan_id.in_(plan_ids)).group_by(c.code))
        with self._read() as conn:
            rows = conn.execute(query).all() if plan_ids else []
        frame = pd.DataFrame(rows, columns=["code", "plans", "max_share", "sum_share"])
        return frame.astype({"plans": np.int64, "max_share": np.float64, "sum_share": np.float64})

    def plans_reaching(self, layer_id: str, plan_ids: list[int], codes: list[str]
                       ) -> pd.DataFrame:
        """Columns code, plan_id: which of `plan_ids` reach each of `codes` of `layer_id`."""
        c = s.plan_coverage.c
        query = (sa.select(c.code, c.plan_id).where(c.layer_id == layer_id,
                                                    c.plan_id.in_(plan_ids), c.code.in_(codes))
                 .order_by(c.code, c.plan_id))
        with self._read() as conn:
            rows = conn.execute(query).all() if plan_ids and codes else []
        return pd.DataFrame(rows, columns=["code", "plan_id"])
