"""The Local Place Plan register in the store: entries joined to their plans, counts per council
and status in SQL, and each step written with its history rows in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import geopandas as gpd
import pandas as pd
import shapely
import sqlalchemy as sa

from capmap.core.errors import NotFound
from capmap.storage import schema as s
from capmap.storage.edits import REGISTER_PREFIX, Change, as_text, change_row

LPP_TYPE = "local_place_plan"
ENTRY_COLUMNS = ("community_body", "status", "proposed_on", "submitted_on", "validated_on",
                 "registered_on", "not_registered_on", "removed_on", "reason")
PLAN_COLUMNS = ("id", "ref", "title", "owner", "council_code", "link")


def _entry_select(columns: Iterable[sa.ColumnElement]) -> sa.Select:
    p, r = s.plans.c, s.lpp_register.c
    return (sa.select(*(p[c] for c in PLAN_COLUMNS), *(r[c] for c in ENTRY_COLUMNS), *columns)
            .select_from(s.lpp_register.join(s.plans, p.id == r.plan_id)))


def _where(query: sa.Select, council_code: str | None, statuses: Iterable[str] | None
           ) -> sa.Select:
    if council_code is not None:
        query = query.where(s.plans.c.council_code == council_code)
    if statuses is not None:
        query = query.where(s.lpp_register.c.status.in_(list(statuses)))
    return query


class LppMixin:
    """The register of Local Place Plans in the Store."""

    def lpp_plan(self, ref: str) -> dict:
        """The plans row (without geometry) of the plan with this ref; NotFound if none."""
        p = s.plans.c
        with self._read() as conn:
            row = conn.execute(sa.select(*(p[c] for c in PLAN_COLUMNS), p.type)
                               .where(p.ref == ref)).mappings().first()
        if row is None:
            raise NotFound(f"there is no plan with ref {ref[:60]!r}")
        return dict(row)

    def lpp_entry(self, plan_id: int) -> dict | None:
        """The register entry of one plan, with its plan's fields; None if it has none."""
        with self._read() as conn:
            row = conn.execute(_entry_select([]).where(s.plans.c.id == plan_id)).mappings().first()
        return None if row is None else dict(row)

    def lpp_entries(self, council_code: str | None = None,
                    statuses: Iterable[str] | None = None) -> list[dict]:
        """Register entries with their plans' fields, of one council (None: every council) and
        of `statuses` (None: all), by council, then plan ref."""
        query = _where(_entry_select([]), council_code, statuses)
        with self._read() as conn:
            rows = conn.execute(query.order_by(s.plans.c.council_code, s.plans.c.ref)).mappings()
            return [dict(r) for r in rows]

    def lpp_frame(self, council_code: str | None = None,
                  statuses: Iterable[str] | None = None) -> gpd.GeoDataFrame:
        """As lpp_entries, with each plan's area (EPSG:4326) as the geometry."""
        query = _where(_entry_select([s.plans.c.geom]), council_code, statuses)
        with self._read() as conn:
            rows = conn.execute(query.order_by(s.plans.c.council_code, s.plans.c.ref)).mappings()
            rows = [dict(r) for r in rows]
        geoms = gpd.GeoSeries([shapely.from_wkb(bytes(r.pop("geom"))) for r in rows],
                              crs="EPSG:4326")
        return gpd.GeoDataFrame(pd.DataFrame(rows, columns=[*PLAN_COLUMNS, *ENTRY_COLUMNS]),
                                geometry=geoms)

    def lpp_counts(self, statuses: Iterable[str] | None = None) -> list[tuple[str | None, str, int]]:
        """(council code, status, entries) for every council and status present, counted in
        SQL; limited to `statuses` when given."""
        p, r = s.plans.c, s.lpp_register.c
        query = _where(sa.select(p.council_code, r.status, sa.func.count())
                       .select_from(s.lpp_register.join(s.plans, p.id == r.plan_id)),
                       None, statuses)
        query = query.group_by(p.council_code, r.status).order_by(p.council_code, r.status)
        with self._read() as conn:
            return [(c, st, int(n)) for c, st, n in conn.execute(query)]

    def lpp_unentered(self, council_code: str) -> list[dict]:
        """The council's Local Place Plans that have no register entry yet (id, ref, title,
        owner), by ref."""
        p, r = s.plans.c, s.lpp_register.c
        query = (sa.select(p.id, p.ref, p.title, p.owner)
                 .select_from(s.plans.outerjoin(s.lpp_register, r.plan_id == p.id))
                 .where(p.type == LPP_TYPE, p.council_code == council_code, r.plan_id.is_(None))
                 .order_by(p.ref))
        with self._read() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    def lpp_councils(self) -> set[str]:
        """Council codes of every Local Place Plan, entered in the register or not."""
        p = s.plans.c
        query = sa.select(p.council_code).where(p.type == LPP_TYPE).distinct()
        with self._read() as conn:
            return {c for (c,) in conn.execute(query) if c}

    def lpp_bounds(self, council_code: str, statuses: Iterable[str]
                   ) -> tuple[float, float, float, float] | None:
        """The lon/lat box of the council's entries of `statuses`, from the bbox columns."""
        p = s.plans.c
        query = _where(sa.select(sa.func.min(p.minx), sa.func.min(p.miny), sa.func.max(p.maxx),
                                 sa.func.max(p.maxy))
                       .select_from(s.lpp_register.join(s.plans, p.id == s.lpp_register.c
                                                        .plan_id)), council_code, statuses)
        with self._read() as conn:
            box = conn.execute(query).one()
        return None if box[0] is None else tuple(float(v) for v in box)

    def lpp_step(self, plan_id: int, decide: Callable[[dict, dict | None], dict],
                 changed_by: str, source: str) -> list[Change]:
        """Write one step of a plan's entry: `decide(plan, entry)` gives the columns that
        change (or raises, and nothing is written); each change is a history row of the plan
        (field lpp_COLUMN). Plan and entry are read inside the write, the plan locked, so two
        steps at once cannot both pass the check."""
        with self._write() as conn:
            # The plan's row is locked until the commit on PostGIS (SQLite's writes hold the
            # one write lock already), so a second step waits and is checked against this one.
            plan = conn.execute(sa.select(*(s.plans.c[c] for c in PLAN_COLUMNS), s.plans.c.type)
                                .where(s.plans.c.id == plan_id).with_for_update()
                                ).mappings().first()
            if plan is None:
                raise NotFound(f"there is no plan {plan_id}")
            entry = conn.execute(_entry_select([]).where(s.plans.c.id == plan_id)
                                 ).mappings().first()
            entry = None if entry is None else dict(entry)
            values = decide(dict(plan), entry)
            now = datetime.now(UTC)
            if entry is None:
                conn.execute(sa.insert(s.lpp_register).values(plan_id=plan_id, updated_at=now,
                                                              **values))
            else:
                conn.execute(sa.update(s.lpp_register).where(s.lpp_register.c.plan_id == plan_id)
                             .values(updated_at=now, **values))
            old = entry or {}
            changes = [Change("plan", plan_id, plan["ref"], plan_id, REGISTER_PREFIX + k,
                              as_text(old.get(k)), as_text(v), changed_by, source, now)
                       for k, v in values.items() if as_text(old.get(k)) != as_text(v)]
            if changes:
                conn.execute(sa.insert(s.record_changes), [change_row(c) for c in changes])
        return changes
