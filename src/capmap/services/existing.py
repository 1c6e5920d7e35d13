"""What an import does with rows already stored: `fail` (the default: nothing is written and the
refs are listed), `skip` them, or `update` them in place (plans and actions keep a history).

Rows match by `ref`; responses and pins without one match by content (capmap.storage.upserts).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from capmap.core.errors import ValidationError
from capmap.io.validate import listed
from capmap.storage import Store
from capmap.storage.bulk import Assignments
from capmap.storage.records import ACTION_COLUMNS, PIN_COLUMNS, PLAN_COLUMNS, RESPONSE_COLUMNS
from capmap.storage.upserts import KEYED_FIELDS, content_keys

ON_EXISTING = ("fail", "skip", "update")
# Columns an update writes. A pin's moderation status stays as moderators left it.
UPDATED = {
    "plans": [c for c in PLAN_COLUMNS if c not in ("id", "ref")],
    "actions": [c for c in ACTION_COLUMNS if c not in ("id", "ref", "percent_complete")],
    "responses": [*RESPONSE_COLUMNS[2:], "content_key"],
    "pins": [c for c in PIN_COLUMNS[2:] if c != "status"] + ["public_x", "public_y",
                                                            "content_key"],
}
RECORD = {"plans": "plan", "actions": "action"}
# Who an import's history rows name when no person is given.
IMPORT_USER = "import"


def check_policy(on_existing: str) -> str:
    """Refuse an unknown policy."""
    if on_existing not in ON_EXISTING:
        raise ValidationError(f"on_existing {on_existing!r} is not known; expected one of "
                              f"{', '.join(ON_EXISTING)}")
    return on_existing


@dataclass
class Tally:
    """Rows of one import left as they were (`skipped`) and changed in place (`updated`)."""

    updated: int = 0
    skipped: int = 0


class Existing:
    """The rows of one import (read in batches) that are already stored, and what to do with
    them. Made before the import writes anything: rows it adds are never matched."""

    def __init__(self, store: Store, kind: str, on_existing: str, changed_by: str = IMPORT_USER,
                 source: str = "") -> None:
        self.store, self.kind, self.source = store, kind, source
        self.policy, self.changed_by = check_policy(on_existing), changed_by
        self.before = store.last_id(kind)
        self.seen: dict[str, int] = {}  # content key -> matches so far in this file
        self.tally = Tally()

    def split(self, frame: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(new rows mask, stored id per row: -1 for new); refuses under `fail`."""
        if self.kind in KEYED_FIELDS:
            frame["content_key"] = content_keys(self.kind, frame)
        refs = [r if isinstance(r, str) else "" for r in frame["ref"]] if "ref" in frame \
            else [""] * len(frame)
        found = self._found = self.store.stored_refs(self.kind, refs, self.before)
        ids = np.array([found[r][0] if r in found else -1 for r in refs], dtype=np.int64)
        if self.kind in KEYED_FIELDS:
            self._match_contents(frame, refs, ids)
        if self.policy == "fail" and (ids >= 0).any():
            self._refuse(frame, refs, ids)
        return ids < 0, ids

    def _match_contents(self, frame, refs: list[str], ids: np.ndarray) -> None:
        """Rows without a ref: the n-th row with a content key is stored if at least n rows
        stored before the import have that key (id 0 marks such a match)."""
        keys = frame["content_key"].tolist()
        bare = [i for i, r in enumerate(refs) if not r]
        stored = self.store.stored_key_counts(self.kind, [keys[i] for i in bare], self.before)
        for i in bare:
            key = keys[i]
            if stored.get(key, 0) > self.seen.get(key, 0):
                self.seen[key] = self.seen.get(key, 0) + 1
                ids[i] = 0

    def _refuse(self, frame, refs: list[str], ids: np.ndarray) -> None:
        taken = sorted({refs[i] for i in np.flatnonzero(ids > 0)})
        same = int((ids == 0).sum())
        parts = [f"refs already stored: {listed(taken, 20)}"] if taken else []
        if same:
            parts.append(f"{same} row(s) without a ref match rows already stored exactly "
                         "(the file may have been imported before)")
        raise ValidationError(f"{self.source or self.kind}: {'; '.join(parts)}; nothing was "
                              "stored. Give --on-existing skip or update to import the rest")

    def apply(self, frame: gpd.GeoDataFrame, ids: np.ndarray,
              assignments: Assignments | None = None) -> None:
        """Skip or update the stored rows of a batch (`ids` from split)."""
        stored = ids >= 0
        if not stored.any():
            return
        if self.policy == "skip":
            self.tally.skipped += int(stored.sum())
            return
        # A row matched by content is the same row: there is nothing to update.
        by_content = int((ids == 0).sum())
        self.tally.skipped += by_content
        rows = np.flatnonzero(ids > 0)
        if self.kind in RECORD:
            self._update_records(frame, ids, rows, assignments)
        else:
            self._update_points(frame, ids, rows, assignments or {})

    def _update_records(self, frame, ids: np.ndarray, rows: np.ndarray,
                        assignments: Assignments | None) -> None:
        columns = [c for c in UPDATED[self.kind] if c in frame]
        records = frame.iloc[rows]
        updates = [(int(ids[i]), {c: _value(rec[c]) for c in columns})
                   for i, (_, rec) in zip(rows, records.iterrows(), strict=True)]
        changed = self.store.update_records(RECORD[self.kind], updates, self.changed_by)
        if assignments is not None and len(rows):  # an action's point may have moved
            self.store.replace_assignments(self.kind, [int(i) for i in ids[rows]], records,
                                           _rows_of(assignments, rows))
        self.tally.updated += changed
        self.tally.skipped += len(updates) - changed

    def _update_points(self, frame, ids: np.ndarray, rows: np.ndarray,
                       assignments: Assignments) -> None:
        refs = frame["ref"].to_numpy(dtype=object)[rows]
        known = self._found
        keys = frame["content_key"].to_numpy(dtype=object)[rows]
        differ = np.array([known[r][1] != k for r, k in zip(refs, keys, strict=True)], dtype=bool)
        self.tally.skipped += int((~differ).sum())
        rows = rows[differ]
        if len(rows):
            self.tally.updated += self.store.update_points(
                self.kind, [int(i) for i in ids[rows]], frame.iloc[rows],
                [c for c in UPDATED[self.kind] if c in frame], _rows_of(assignments, rows))


def _rows_of(assignments: Assignments, rows: np.ndarray) -> Assignments:
    return {layer: np.asarray(codes, dtype=object)[rows] for layer, codes in assignments.items()}


def _value(value):
    """A frame value as a column takes it: missing values (NaN, NaT) as None."""
    if value is None:
        return None
    try:
        if value != value:  # NaN, NaT
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if isinstance(value, np.generic) else value
