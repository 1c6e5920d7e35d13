"""Small records that cross module boundaries. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

LAYER_KINDS = ("council", "neighbourhood", "intermediate", "ward", "locality", "community")
PLAN_TYPES = (
    "loip",
    "locality_plan",
    "community_action_plan",
    "local_place_plan",
    "service_plan",
    "other",
)
# The pseudo plan type of the derived coverage tables: every plan that is not council-wide
# (capmap.services.gaprules.COUNCIL_WIDE_TYPES).
ANY_LOCAL = "any_local_plan"
LEAD_TYPES = ("community", "public_body", "third_sector", "partnership")
ACTION_STATUSES = ("not_started", "in_progress", "completed", "stalled", "cancelled")
CHANNELS = ("online", "paper", "event", "street_stall")
PIN_STATUSES = ("pending", "published", "hidden", "resolved")
# What residents report, with the label the pin form shows.
PIN_CATEGORIES = {
    "potholes_roads": "Potholes and roads",
    "street_lighting": "Street lighting",
    "litter_flytipping": "Litter and fly-tipping",
    "antisocial_behaviour": "Antisocial behaviour",
    "green_space": "Parks and green space",
    "housing_repairs": "Housing repairs",
    "transport": "Buses and transport",
    "other": "Something else",
}
AGE_BANDS = ("16-24", "25-44", "45-64", "65+")


@dataclass(frozen=True)
class LayerDef:
    """How to read one boundary layer of one vintage from a file."""

    id: str
    kind: str
    source: str = ""
    vintage: str = "current"
    title: str = ""
    file_layer: str | None = None
    code_field: str = "code"
    name_field: str = "name"
    # A column holding another name for each area (Gaelic beside English, or the reverse),
    # found by name search as the name is.
    name_alt_field: str | None = None
    population_field: str | None = None
    parent_field: str | None = None
    simd_rank_field: str | None = None
    simd_decile_field: str | None = None
    simd_quintile_field: str | None = None
    crs: str | None = None
    licence: str = ""
    # Extra numeric columns stored per area: (indicator name, source column) pairs.
    indicator_fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Layer:
    """A stored boundary layer vintage."""

    id: str
    vintage: str
    kind: str
    title: str
    licence: str
    source: str
    area_count: int
    is_current: bool
    imported_at: str


@dataclass
class ImportReport:
    """What an import did: rows read, stored (added), repaired and rejected, rows already
    stored that it updated or left as they were (skipped), and the time taken."""

    what: str
    read: int = 0
    stored: int = 0
    updated: int = 0
    skipped: int = 0
    repaired: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    # Rows left out on purpose, by reason (terminated postcodes), and the layouts recognised.
    left_out: dict[str, int] = field(default_factory=dict)
    layouts: list[str] = field(default_factory=list)
    # In a preview, the rows that would be stored (a GeoDataFrame in EPSG:4326).
    preview: object = None
    # Boundaries: what the layer's current vintage has and this one lacks, one sentence each.
    losses: list[str] = field(default_factory=list)

    def lines(self, limit: int = 20) -> list[str]:
        """A short human summary, listing at most `limit` repaired codes and rejected rows."""
        out = [
            f"{self.what}: read {self.read}, stored {self.stored}, repaired {len(self.repaired)}, "
            f"rejected {len(self.rejected)} in {self.seconds:.2f} s"
        ]
        if self.layouts:
            out.append(f"  read as: {', '.join(self.layouts)}")
        left_out = [f"{count:,} {reason}" for reason, count in self.left_out.items() if count]
        if left_out:
            out.append(f"  left out: {', '.join(left_out)}")
        out += [f"  {loss}" for loss in self.losses]
        if self.updated or self.skipped:
            out.append(f"  already stored: updated {self.updated}, skipped {self.skipped}")
        if self.repaired:
            shown = ", ".join(self.repaired[:limit])
            more = f" and {len(self.repaired) - limit} more" if len(self.repaired) > limit else ""
            out.append(f"  repaired: {shown}{more}")
        for row, reason in self.rejected[:limit]:
            out.append(f"  rejected row {row}: {reason}")
        if len(self.rejected) > limit:
            out.append(f"  … and {len(self.rejected) - limit} more rejected rows")
        return out


@dataclass(frozen=True)
class EngagementFilters:
    """Which engagement responses count: all of them when every field is None.

    campaign and channel match exactly; theme matches one of a response's themes exactly; the
    dates are inclusive, and a response without a date is left out when either is given.
    """

    campaign: str | None = None
    channel: str | None = None
    theme: str | None = None
    date_from: date | None = None
    date_to: date | None = None


ALL_RESPONSES = EngagementFilters()


def normalise_themes(value: str) -> str:
    """Themes as stored: the `;`-separated elements stripped, empty ones dropped ("a; b;" -> "a;b"),
    so one theme matches as `;theme;` inside `;themes;`."""
    return ";".join(part.strip() for part in value.split(";") if part.strip())
