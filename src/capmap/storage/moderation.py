"""Residents' pins for moderators: the queue by status, decisions with who and when, and the
public columns of the pins the public may see.

Only `pins_with_status` and `pin` read a pin's exact point and contact details; they serve the
moderation pages. `public_pin_points` never selects either column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import geopandas as gpd
import sqlalchemy as sa
from shapely import Point

from capmap.core.errors import NotFound, ValidationError
from capmap.storage import frames
from capmap.storage import schema as s
from capmap.storage.records import PIN_COLUMNS

# A decision and the status it gives the pin.
DECISIONS = {"publish": "published", "hide": "hidden", "resolve": "resolved"}
PUBLIC_PIN_COLUMNS = ["id", "category", "description", "created", "status", "public_geom"]


@dataclass(frozen=True)
class PinDecision:
    """One moderation decision on a pin."""

    id: int
    pin_id: int
    decision: str
    reason: str
    moderator: str
    at: datetime
    public_note: str = ""


class ModerationMixin:
    """Pin moderation in the Store."""

    def pins_with_status(self, status: str, limit: int = 50, offset: int = 0) -> gpd.GeoDataFrame:
        """Pins of one status, oldest first, with exact point and contact: moderators only."""
        query = (sa.select(*[s.pins.c[c] for c in PIN_COLUMNS]).where(s.pins.c.status == status)
                 .order_by(s.pins.c.created, s.pins.c.id).limit(limit).offset(offset))
        with self._read() as conn:
            return frames.from_rows(conn.execute(query), PIN_COLUMNS, ("geom", "public_geom"))

    def pin_status_counts(self) -> dict[str, int]:
        """How many pins have each status."""
        query = sa.select(s.pins.c.status, sa.func.count()).group_by(s.pins.c.status)
        with self._read() as conn:
            return {status: int(n) for status, n in conn.execute(query)}

    def pin(self, pin_id: int) -> gpd.GeoDataFrame:
        """One pin (a one-row frame) with exact point and contact: moderators only."""
        query = sa.select(*[s.pins.c[c] for c in PIN_COLUMNS]).where(s.pins.c.id == pin_id)
        with self._read() as conn:
            frame = frames.from_rows(conn.execute(query), PIN_COLUMNS, ("geom", "public_geom"))
        if frame.empty:
            raise NotFound(f"no pin {pin_id}")
        return frame

    def public_pin_points(self, statuses: tuple[str, ...]) -> gpd.GeoDataFrame:
        """Pins of the given statuses at their public (moved) points, without exact point or
        contact; the geometry column is `public_geom`."""
        query = (sa.select(*[s.pins.c[c] for c in PUBLIC_PIN_COLUMNS])
                 .where(s.pins.c.status.in_(statuses)).order_by(s.pins.c.id))
        with self._read() as conn:
            return frames.from_rows(conn.execute(query), PUBLIC_PIN_COLUMNS, ("public_geom",),
                                    geometry="public_geom")

    def decide_pin(self, pin_id: int, decision: str, moderator: str, reason: str = "",
                   public_note: str = "") -> PinDecision:
        """Record a decision (publish, hide with a reason, resolve) with an optional note for the
        resident, and set the pin's status, in one transaction."""
        if decision not in DECISIONS:
            raise ValidationError(f"decision {decision!r} is not one of {', '.join(DECISIONS)}")
        reason, public_note = reason.strip(), public_note.strip()
        if len(public_note) > 1000:
            raise ValidationError(f"the public note has {len(public_note):,} characters; the "
                                  "limit is 1,000")
        if decision == "hide" and not reason:
            raise ValidationError("hiding a pin needs a reason")
        if not moderator:
            raise ValidationError("a decision needs the moderator's username")
        at = datetime.now(UTC)
        with self._write() as conn:
            changed = conn.execute(sa.update(s.pins).where(s.pins.c.id == pin_id)
                                   .values(status=DECISIONS[decision])).rowcount
            if not changed:
                raise NotFound(f"no pin {pin_id}")
            new_id = conn.execute(sa.insert(s.pin_decisions).values(
                pin_id=pin_id, decision=decision, reason=reason, moderator=moderator, at=at,
                public_note=public_note).returning(s.pin_decisions.c.id)).scalar_one()
        return PinDecision(new_id, pin_id, decision, reason, moderator, at, public_note)

    def pin_decisions(self, pin_id: int | None = None) -> list[PinDecision]:
        """Decisions, oldest first: on one pin, or on every pin when `pin_id` is None."""
        query = sa.select(s.pin_decisions).order_by(s.pin_decisions.c.at, s.pin_decisions.c.id)
        if pin_id is not None:
            query = query.where(s.pin_decisions.c.pin_id == pin_id)
        with self._read() as conn:
            rows = conn.execute(query).mappings().all()
        return [PinDecision(r["id"], r["pin_id"], r["decision"], r["reason"], r["moderator"],
                            r["at"], r["public_note"]) for r in rows]

    def postcode_point(self, postcode: str) -> Point | None:
        """The stored point of one postcode (upper case, one space), or None."""
        query = sa.select(s.postcodes.c.geom).where(s.postcodes.c.postcode == postcode)
        with self._read() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None
        return frames.from_rows(rows, ["geom"]).geometry.iloc[0]
