"""Who sees what, in one place: public pin statuses, the roles that see exact data, the
suppression of small counts, the gap rules, the region coordinates must fall in, how public pin
points are made, and which routes answer in JSON.

The web app, the command line and the pipeline all build their Policy with `from_settings` from
one capmap.core.settings object, so a setting changes every one of them alike. The defaults here are
the settings' defaults (capmap.core.settings.DEFAULTS), written once there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from capmap.core.crs import SCOTLAND, Region
from capmap.core.models import PIN_STATUSES
from capmap.core.settings import DEFAULTS, SettingError

# Resolved pins stay on the public map (shown as resolved): residents see that an issue was
# reported and dealt with, and do not report it again. Pending and hidden pins never show.
# The pin map, the exports (and so the OGC API) and the planscape all list these.
PUBLIC_PIN_STATUSES = tuple(DEFAULTS["PIN_PUBLIC_STATUSES"])
# Exact response points, pins of every status at their exact points, unsuppressed engagement
# (for an account limited to councils, only in views confined to them: capmap.services.access).
EXACT_ROLES = frozenset(DEFAULTS["EXACT_DATA_ROLES"])
# Routes under these prefixes answer errors and refused logins in JSON, not HTML pages.
JSON_PREFIXES = ("/api/", "/ogc", "/export", "/health", "/tiles/")
PIN_PUBLIC_MODES = ("displace", "grid")
ROLES_SEEING_EXACT = ("officer", "planner", "admin")  # the roles exact data may be given to


@dataclass(frozen=True)
class PlanGapRules:
    """What counts as a gap in plan coverage."""

    quintile: int = DEFAULTS["DEPRIVED_QUINTILE"]  # SIMD quintiles up to this count as deprived
    locality_share: float = DEFAULTS["LOCALITY_SHARE"]  # a Locality Plan must cover this share
    min_share: float = 0.01         # below this share, a plan's overlap is a drawing sliver


@dataclass(frozen=True)
class PinRules:
    """The limits of the pin form and how public points are made (capmap.services.pins.public_points)."""

    description_max: int = DEFAULTS["PIN_DESCRIPTION_MAX"]
    contact_max: int = DEFAULTS["PIN_CONTACT_MAX"]
    offset_min_m: float = DEFAULTS["PIN_OFFSET_MIN_M"]
    offset_max_m: float = DEFAULTS["PIN_OFFSET_MAX_M"]
    snap_m: float = DEFAULTS["PIN_SNAP_M"]  # displace mode: points of one square share an offset
    public_mode: str = DEFAULTS["PIN_PUBLIC_MODE"]
    grid_m: float = DEFAULTS["PIN_GRID_M"]


@dataclass(frozen=True)
class Policy:
    """The publication rules of one deployment."""

    threshold: int = DEFAULTS["SUPPRESS_BELOW"]  # public counts below this are withheld ("<5")
    round_to: int = DEFAULTS["PUBLIC_ROUND_TO"]  # other public counts: to the nearest multiple
    gap_ratio: float = DEFAULTS["GAP_RATIO"]  # a gap: a rate below this share of its council's
    rules: PlanGapRules = field(default_factory=PlanGapRules)
    pins: PinRules = field(default_factory=PinRules)
    region: Region = SCOTLAND  # every stored coordinate, pins included, must fall in it
    public_statuses: tuple[str, ...] = PUBLIC_PIN_STATUSES
    exact_roles: frozenset[str] = EXACT_ROLES

    def sees_exact(self, roles: Iterable[str]) -> bool:
        """True when one of `roles` sees exact figures and points."""
        return bool(self.exact_roles & set(roles))

    def suppression(self) -> dict:
        """The keyword arguments of capmap.services.coverage.engagement_coverage for public figures."""
        return {"gap_ratio": self.gap_ratio, "threshold": self.threshold,
                "round_to": self.round_to}


DEFAULT_POLICY = Policy()


def region_of(values: Mapping) -> Region:
    """REGION_BOUNDS named REGION_NAME, or capmap.core.crs.SCOTLAND when not set."""
    bounds = values.get("REGION_BOUNDS")
    if bounds is None:
        return SCOTLAND
    try:
        minx, miny, maxx, maxy = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise SettingError("REGION_BOUNDS", bounds, "[minlon, minlat, maxlon, maxlat]") from None
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        raise SettingError("REGION_BOUNDS", bounds, "lon/lat minimums below maximums")
    return Region(minx, miny, maxx, maxy, str(values.get("REGION_NAME") or "the region"))


def _whole(values: Mapping, name: str) -> int:
    try:
        return int(values[name])
    except (TypeError, ValueError):
        raise SettingError(name, values[name], "a whole number") from None


def _number(values: Mapping, name: str) -> float:
    try:
        return float(values[name])
    except (TypeError, ValueError):
        raise SettingError(name, values[name], "a number") from None


def pin_rules(values: Mapping) -> PinRules:
    """The PIN_* settings as rules; an unknown PIN_PUBLIC_MODE is refused here, at start-up."""
    mode = values["PIN_PUBLIC_MODE"]
    if mode not in PIN_PUBLIC_MODES:
        raise SettingError("PIN_PUBLIC_MODE", mode, f"one of {', '.join(PIN_PUBLIC_MODES)}")
    return PinRules(description_max=_whole(values, "PIN_DESCRIPTION_MAX"),
                    contact_max=_whole(values, "PIN_CONTACT_MAX"),
                    offset_min_m=_number(values, "PIN_OFFSET_MIN_M"),
                    offset_max_m=_number(values, "PIN_OFFSET_MAX_M"),
                    snap_m=_number(values, "PIN_SNAP_M"), public_mode=mode,
                    grid_m=_number(values, "PIN_GRID_M"))


def _subset(values: Mapping, name: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    given = values[name]
    chosen = (given.split(",") if isinstance(given, str) else list(given or ()))
    chosen = tuple(dict.fromkeys(str(v).strip() for v in chosen if str(v).strip()))
    wrong = [v for v in chosen if v not in allowed]
    if wrong or not chosen:
        raise SettingError(name, given, f"one or more of {', '.join(allowed)}")
    return chosen


def from_settings(values: Mapping) -> Policy:
    """The policy a settings mapping (capmap.core.settings.load(), or a Flask app's config) sets."""
    region = region_of(values)
    statuses = _subset(values, "PIN_PUBLIC_STATUSES", PIN_STATUSES)
    if set(statuses) & {"pending", "hidden"}:
        raise SettingError("PIN_PUBLIC_STATUSES", statuses, "published, resolved or both",
                           why="pending and hidden pins are never public")
    return Policy(threshold=_whole(values, "SUPPRESS_BELOW"),
                  round_to=_whole(values, "PUBLIC_ROUND_TO"),
                  gap_ratio=_number(values, "GAP_RATIO"),
                  rules=PlanGapRules(quintile=_whole(values, "DEPRIVED_QUINTILE"),
                                     locality_share=_number(values, "LOCALITY_SHARE")),
                  pins=pin_rules(values), region=region, public_statuses=statuses,
                  exact_roles=frozenset(_subset(values, "EXACT_DATA_ROLES", ROLES_SEEING_EXACT)))
