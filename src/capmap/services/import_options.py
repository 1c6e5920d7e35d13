"""The settings every import shares (capmap.services.pipeline, capmap.services.streamed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from capmap.core.crs import SCOTLAND, Region
from capmap.core.policy import DEFAULT_POLICY, PinRules
from capmap.io.batches import BATCH_ROWS
from capmap.io.readers import ReadLimits
from capmap.io.vocab import DEFAULT_VOCABULARIES, Vocabularies
from capmap.services.existing import IMPORT_USER

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ImportOptions:
    """Settings shared by every import."""

    region: Region = SCOTLAND
    limits: ReadLimits = field(default_factory=ReadLimits)
    # How pins' public points are made (PIN_PUBLIC_MODE and its distances: capmap.core.policy).
    pins: PinRules = DEFAULT_POLICY.pins
    progress: Progress | None = None
    # Read and check everything but store nothing: the report carries the prepared rows.
    preview: bool = False
    # Rows per batch of a point-record import (responses, pins, actions): each batch is read,
    # checked, assigned and written before the next, all in one transaction.
    batch_rows: int = BATCH_ROWS
    # Store the good rows when some are rejected; if False, a rejected row stores nothing
    # (RowsRejected lists them all). The CLI asks for --allow-rejects; a web preview shows them.
    allow_rejects: bool = True
    # Store a boundary vintage that lacks a column (SIMD, population, an indicator) the layer's
    # current vintage has; if False such an import is refused and the preview names the loss.
    allow_losses: bool = False
    # The accepted words of coded fields (channel, plan type, statuses, ...) and their aliases.
    vocabularies: Vocabularies = DEFAULT_VOCABULARIES
    # Rows whose ref (or, for responses and pins without one, content) is already stored:
    # "fail" (refuse the import), "skip" or "update" (capmap.services.existing).
    on_existing: str = "fail"
    # Who the history of an update names.
    changed_by: str = IMPORT_USER


DEFAULT_OPTIONS = ImportOptions()
