"""The words an import accepts for each coded field, with aliases and case folding.

Files from councils say `Online`, `web` or `Street stall` where capmap stores `online` and
`street_stall`. Every value is folded (case, spaces, hyphens and underscores) and looked up in
the canonical values and an alias table; the defaults below can be extended per deployment or
per import with a TOML table of `alias = "canonical"` under the vocabulary's name:

    [channel]
    "door knocking" = "event"

A closed vocabulary rejects a value it cannot map (the row, with its reason); an open one (pin
categories, age bands, plan statuses) maps what it knows and keeps other values as given.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from capmap.core.errors import ValidationError
from capmap.core.models import (
    ACTION_STATUSES,
    AGE_BANDS,
    CHANNELS,
    LEAD_TYPES,
    PIN_CATEGORIES,
    PIN_STATUSES,
    PLAN_TYPES,
)

_SEPARATORS = re.compile(r"[\s_\-]+")


def fold(value: str) -> str:
    """A value compared without case, outer space, or the difference between space, - and _."""
    return _SEPARATORS.sub("_", value.strip().casefold()).strip("_")


@dataclass(frozen=True)
class Vocabulary:
    """One coded field: its canonical values and the aliases (folded) that map onto them."""

    name: str
    canonical: tuple[str, ...]
    aliases: Mapping[str, str] = field(default_factory=dict)
    closed: bool = True

    def __post_init__(self) -> None:
        table = {fold(c): c for c in self.canonical}
        table.update({fold(k): v for k, v in self.aliases.items()})
        object.__setattr__(self, "_table", table)

    def lookup(self, value: str) -> str | None:
        """The canonical value for `value`; for an open vocabulary an unknown value as given,
        for a closed one None."""
        found = self._table.get(fold(value))  # type: ignore[attr-defined]
        return found if found or self.closed else value.strip()

    def map_values(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """lookup() of every non-blank value, once per distinct value; and a mask of the values
        a closed vocabulary could not map (blanks stay blank and are never flagged)."""
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
        mapped = np.array([self.lookup(u) if u else "" for u in uniques], dtype=object)
        out = mapped[codes]
        return out, np.array([v is None for v in out], dtype=bool)

    def reason(self, value: str) -> str:
        """Why `value` was refused, naming what is accepted."""
        return (f"{self.name} {value!r} is not one of {', '.join(self.canonical)} "
                "(or a known alias of one)")

    def extended(self, aliases: Mapping[str, str]) -> Vocabulary:
        """This vocabulary with more aliases; each must point at a canonical value."""
        wrong = sorted(v for v in aliases.values() if v not in self.canonical)
        if wrong and self.closed:
            raise ValidationError(
                f"aliases for {self.name} must map to one of {', '.join(self.canonical)}; "
                f"got {', '.join(map(repr, wrong))}")
        return replace(self, aliases={**self.aliases, **aliases})


DEFAULTS: dict[str, Vocabulary] = {v.name: v for v in (
    Vocabulary("channel", CHANNELS, {
        "web": "online", "internet": "online", "online survey": "online", "website": "online",
        "email": "online", "e-mail": "online", "digital": "online", "social media": "online",
        "postal": "paper", "post": "paper", "paper survey": "paper", "questionnaire": "paper",
        "paper form": "paper", "workshop": "event", "meeting": "event", "drop in": "event",
        "drop-in session": "event", "public meeting": "event", "focus group": "event",
        "stall": "street_stall", "street": "street_stall", "pop up": "street_stall",
        "pop-up stall": "street_stall"}),
    Vocabulary("plan type", PLAN_TYPES, {
        "local outcomes improvement plan": "loip", "locality": "locality_plan",
        "community action plan": "community_action_plan",
        "community-led action plan": "community_action_plan",
        "community led plan": "community_action_plan", "lpp": "local_place_plan",
        "service": "service_plan", "children's services plan": "service_plan",
        "hscp strategic plan": "service_plan", "strategic plan": "service_plan"}),
    Vocabulary("action status", ACTION_STATUSES, {
        "not yet started": "not_started", "planned": "not_started", "ongoing": "in_progress",
        "underway": "in_progress", "started": "in_progress", "on track": "in_progress",
        "complete": "completed", "done": "completed", "achieved": "completed",
        "on hold": "stalled", "delayed": "stalled", "canceled": "cancelled",
        "withdrawn": "cancelled"}),
    Vocabulary("lead type", LEAD_TYPES, {
        "public sector": "public_body", "public": "public_body", "council": "public_body",
        "voluntary": "third_sector", "voluntary sector": "third_sector",
        "charity": "third_sector", "community group": "community", "partners": "partnership",
        "cpp": "partnership"}),
    Vocabulary("pin status", PIN_STATUSES, {
        "new": "pending", "awaiting moderation": "pending", "public": "published",
        "fixed": "resolved", "closed": "resolved"}),
    Vocabulary("pin category", tuple(PIN_CATEGORIES), {
        "potholes": "potholes_roads", "roads": "potholes_roads", "pothole": "potholes_roads",
        "lighting": "street_lighting", "street lights": "street_lighting",
        "litter": "litter_flytipping", "fly-tipping": "litter_flytipping",
        "flytipping": "litter_flytipping", "antisocial": "antisocial_behaviour",
        "anti-social behaviour": "antisocial_behaviour", "parks": "green_space",
        "greenspace": "green_space", "housing": "housing_repairs", "buses": "transport"},
        closed=False),
    Vocabulary("age band", AGE_BANDS, {
        "16 to 24": "16-24", "25 to 44": "25-44", "45 to 64": "45-64", "65 and over": "65+",
        "65 plus": "65+", "65 or over": "65+", "over 65": "65+"}, closed=False),
    Vocabulary("plan status", (), closed=False),
)}
# The names a TOML table uses: `channel`, `plan_type`, `action_status`, ...
KEYS = {name.replace(" ", "_"): name for name in DEFAULTS}


@dataclass(frozen=True)
class Vocabularies:
    """The vocabulary of every coded field an import checks."""

    by_name: Mapping[str, Vocabulary] = field(default_factory=lambda: dict(DEFAULTS))

    def __getitem__(self, name: str) -> Vocabulary:
        return self.by_name[name]

    def extended(self, tables: Mapping[str, Mapping[str, str]], source: str = "aliases"
                 ) -> Vocabularies:
        """These vocabularies with the aliases of `tables` ({toml key: {alias: canonical}})."""
        unknown = sorted(set(tables) - set(KEYS))
        if unknown:
            raise ValidationError(f"{source}: unknown vocabularies {', '.join(unknown)}; "
                                  f"known are {', '.join(KEYS)}")
        out = dict(self.by_name)
        for key, aliases in tables.items():
            if not isinstance(aliases, Mapping) or not all(
                    isinstance(v, str) for v in aliases.values()):
                raise ValidationError(f"{source}: [{key}] must be a table of alias = \"value\"")
            try:
                out[KEYS[key]] = out[KEYS[key]].extended(aliases)
            except ValidationError as exc:
                raise ValidationError(f"{source}: {exc.message}") from None
        return Vocabularies(out)

    def extended_by_toml(self, content: str, source: str = "aliases") -> Vocabularies:
        """extended() by TOML text; blank text changes nothing."""
        try:
            tables = tomllib.loads(content)
        except tomllib.TOMLDecodeError as exc:
            raise ValidationError(f"{source}: not valid TOML ({exc})") from None
        return self.extended(tables, source)


DEFAULT_VOCABULARIES = Vocabularies()
