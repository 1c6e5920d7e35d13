"""Plans, actions, responses and pins in the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa

from capmap.core.errors import ValidationError
from capmap.storage import bulk, frames
from capmap.storage import schema as s
from capmap.storage.bulk import Assignments
from capmap.storage.edits import IMPORTER, creation_rows

PLAN_COLUMNS = ["id", "ref", "type", "title", "owner", "council_code", "period_start",
                "period_end", "review_due", "status", "themes", "link", "summary", "area_layer",
                "area_codes", "geom"]
ACTION_COLUMNS = ["id", "ref", "plan_id", "title", "description", "theme", "lead", "lead_type",
                  "partners", "resources", "measure", "target_date", "status", "progress_note",
                  "percent_complete", "updated", "geom"]
RESPONSE_COLUMNS = ["id", "ref", "campaign", "channel", "date", "themes", "area_layer",
                    "area_code", "age_band", "geom"]
PIN_COLUMNS = ["id", "ref", "category", "description", "created", "status", "contact", "geom",
               "public_geom"]

Progress = Callable[[int, int], None]


class RecordsMixin:
    """Record tables of the Store. Point records are written with their area assignments."""

    def put_plans(self, plans: gpd.GeoDataFrame, changed_by: str = IMPORTER) -> list[int]:
        """Add plans, each with its history row of creation naming `changed_by`; refs must be
        new (a duplicate is refused with the refs listed)."""
        self._refuse_existing(s.plans, plans["ref"])
        return self._insert(s.plans, plans, PLAN_COLUMNS[1:], bumps=("plans_version",),
                            created=("plan", changed_by))

    def plans(self) -> gpd.GeoDataFrame:
        """Every plan, by id."""
        return self._select(s.plans, PLAN_COLUMNS)

    def plan_ids(self) -> dict[str, int]:
        """Plan ref to id."""
        with self._read() as conn:
            return dict(conn.execute(sa.select(s.plans.c.ref, s.plans.c.id)).all())

    def put_actions(self, actions: gpd.GeoDataFrame, assignments: Assignments | None = None,
                    *, offset: int = 0, changed_by: str = IMPORTER) -> list[int]:
        """Add actions (plan_id already resolved), each with its history row of creation;
        refs must be new. `offset`: rows of the same import stored before these, for the row
        numbers of a refusal (so for all put_*)."""
        self._refuse_existing(s.actions, actions["ref"])
        return self._insert(s.actions, actions, ACTION_COLUMNS[1:], assignments=assignments,
                            bumps=("plans_version",), offset=offset,
                            created=("action", changed_by))

    def actions(self) -> gpd.GeoDataFrame:
        """Every action, by id; geometry None where the action has no location of its own."""
        return self._select(s.actions, ACTION_COLUMNS)

    def put_responses(self, responses: gpd.GeoDataFrame, assignments: Assignments | None = None,
                      progress: Progress | None = None, *, offset: int = 0) -> list[int]:
        """Add engagement responses; `progress(done, total)` is called as batches are written."""
        return self._insert(s.responses, responses, [*RESPONSE_COLUMNS[1:], "content_key"],
                            assignments=assignments, progress=progress, offset=offset)

    def responses(self) -> gpd.GeoDataFrame:
        """Every engagement response, by id."""
        return self._select(s.responses, RESPONSE_COLUMNS)

    def put_pins(self, pins: gpd.GeoDataFrame, assignments: Assignments | None = None, *,
                 offset: int = 0) -> list[int]:
        """Add pins; each row has its exact `geom` and its displaced `public_geom`, whose
        coordinates are also written as public_x, public_y: what public box queries filter on."""
        public = np.asarray(pins["public_geom"].to_numpy(), dtype=object)
        pins = pins.assign(public_x=shapely.get_x(public), public_y=shapely.get_y(public))
        return self._insert(s.pins, pins, [*PIN_COLUMNS[1:], "public_x", "public_y", "content_key"],
                            geom_cols=("geom", "public_geom"), assignments=assignments,
                            offset=offset)

    def pins(self) -> gpd.GeoDataFrame:
        """Every pin with exact location and contact: for server-side use only."""
        return self._select(s.pins, PIN_COLUMNS, geom_cols=("geom", "public_geom"))

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables."""
        tables = (s.layers, s.areas, s.plans, s.actions, s.responses, s.pins, s.postcodes)
        with self._read() as conn:
            return {t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                    for t in tables}

    # -- helpers -----------------------------------------------------------------------------

    def _insert(self, table: sa.Table, frame: gpd.GeoDataFrame, columns: list[str],
                geom_cols: tuple[str, ...] = ("geom",), assignments: Assignments | None = None,
                progress: Progress | None = None, bumps: tuple[str, ...] = (),
                offset: int = 0, created: tuple[str, str] | None = None) -> list[int]:
        """Insert rows and their assignments in one transaction, in batches; the new ids, in
        row order. `created` (record kind, who): also write each row's history of creation."""
        plain = [c for c in columns if c not in geom_cols]
        ids: list[int] = []
        now = datetime.now(UTC)
        with self._write(*bumps) as conn:
            for start in range(0, len(frame), bulk.BATCH_ROWS):
                part = frame.iloc[start:start + bulk.BATCH_ROWS]
                data = frames.to_columns(part, plain, geom_cols)
                new = bulk.insert_batch(conn, self.backend, table, data, offset=offset + start)
                if assignments:
                    # A record with neither a point nor an area code (an action placed only by
                    # its plan) has no area to be in: it gets no assignment rows.
                    located = _located(data)
                    batch = {k: np.asarray(v, dtype=object)[start:start + len(part)]
                             for k, v in assignments.items()}
                    bulk.write_assignments(conn, self.backend, table.name, new, batch, located)
                if created and new:
                    record, who = created
                    bulk.insert_batch(conn, self.backend, s.record_changes,
                                      creation_rows(record, new, data, who, now))
                ids += new
                if progress:
                    progress(start + len(part), len(frame))
        return ids

    def _select(self, table: sa.Table, columns: list[str], geom_cols: tuple[str, ...] = ("geom",),
                order: str = "id") -> gpd.GeoDataFrame:
        query = sa.select(*[table.c[c] for c in columns]).order_by(table.c[order])
        with self._read() as conn:
            return frames.from_rows(conn.execute(query), columns, geom_cols)

    def _refuse_existing(self, table: sa.Table, refs) -> None:
        refs = [str(r) for r in refs]
        with self._read() as conn:
            taken = sorted(conn.execute(sa.select(table.c.ref).where(table.c.ref.in_(refs)))
                           .scalars())
        if taken:
            more = f" and {len(taken) - 20} more" if len(taken) > 20 else ""
            raise ValidationError(f"{table.name}: refs already stored: {', '.join(taken[:20])}{more}")


def _located(data: dict[str, list]) -> np.ndarray:
    """Rows with a point, or (responses) an area code."""
    located = ~shapely.is_missing(data["geom"])
    if "area_code" in data:
        located |= np.array([bool(c) for c in data["area_code"]], dtype=bool)
    return located
