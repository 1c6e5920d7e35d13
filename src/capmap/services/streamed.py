"""Imports of point records (responses, pins, actions), streamed through in batches.

Each batch of the file is read, checked, prepared, assigned to the areas of every current layer
and written before the next is parsed, so memory stays flat however long the file is. Every batch
is written in ONE transaction: an import that fails in its last batch leaves nothing stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from capmap.core.models import ImportReport
from capmap.io.batches import read_batches
from capmap.io.validate import RowErrors
from capmap.services.engine import Engine
from capmap.services.existing import Existing
from capmap.services.import_checks import refuse_rejects
from capmap.services.import_options import ImportOptions
from capmap.storage import Store

# A batch as read (rows indexed from 0) to the rows to store and the rows rejected (numbered
# from 1 within the batch).
PrepareBatch = Callable[[gpd.GeoDataFrame], tuple[gpd.GeoDataFrame, RowErrors]]
# Store prepared rows with their assignments ({layer id: code per row}) and, as `offset`, the
# rows the import stored before them; the new ids. Store.put_responses, put_pins, put_actions.
PutBatch = Callable[..., list[int]]


def import_points(store: Store, engine: Engine, what: str, path: str | Path,
                  prepare_batch: PrepareBatch, put_batch: PutBatch, *, crs: str | None,
                  options: ImportOptions) -> ImportReport:
    """Read `path` in batches of `options.batch_rows`, prepare, assign and put each, all in one
    transaction (nothing is written in a preview, whose report carries every prepared row).

    Rejected rows keep the file's own row numbers; `options.progress(rows read, rows expected)`
    is called after each batch. Unless `options.allow_rejects`, the first rejected row stops
    the writing; the rest of the file is still checked, and RowsRejected (listing every reject)
    rolls the transaction back.
    """
    start = time.perf_counter()
    read = stored = 0
    rejected: list[tuple[int, str]] = []
    previews: list[gpd.GeoDataFrame] = []
    batches = read_batches(path, crs=crs, limits=options.limits, rows=options.batch_rows)
    existing = None if options.preview else Existing(
        store, what, options.on_existing, options.changed_by, Path(path).name)
    with nullcontext() if options.preview else store.atomic():
        for batch in batches:
            prepared, errors = prepare_batch(batch.frame)
            read += len(batch.frame)
            rejected += [(batch.offset + row, why) for row, why in errors.rows]
            if options.preview:
                previews.append(prepared)
                continue
            if rejected and not options.allow_rejects:
                continue  # nothing of this file will be kept: check the rest, store no more
            if len(prepared):
                stored += _put_new(existing, engine, prepared, put_batch, stored)
            if options.progress:
                options.progress(read, max(batch.expected, read))
        tally = existing.tally if existing else None
        report = ImportReport(what, read=read, stored=stored, rejected=rejected,
                              updated=tally.updated if tally else 0,
                              skipped=tally.skipped if tally else 0,
                              seconds=time.perf_counter() - start,
                              preview=_joined(previews) if options.preview else None)
        if not options.preview:
            refuse_rejects(replace(report, stored=0), options.allow_rejects)
        if options.progress and not options.preview:
            options.progress(read, read)  # the file may hold fewer rows than it has lines
    return report


def _put_new(existing: Existing, engine: Engine, prepared: gpd.GeoDataFrame,
             put_batch: PutBatch, offset: int) -> int:
    """Store a batch's new rows, and skip or update (or refuse) those already stored; how many
    were added."""
    new, ids = existing.split(prepared)
    assignments = assign_records(engine, prepared)
    existing.apply(prepared, ids, assignments)
    if not new.any():
        return 0
    if not new.all():
        prepared = prepared[new]
        assignments = {layer: np.asarray(codes, dtype=object)[new]
                       for layer, codes in assignments.items()}
    return len(put_batch(prepared, assignments, offset=offset))


def _joined(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    kept = [f for f in frames if len(f)] or frames[:1]
    return kept[0] if len(kept) == 1 else pd.concat(kept, ignore_index=True)


def assign_records(engine: Engine, frame: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """Area codes of new point records (EPSG:4326 `geom`, optional `area_layer`/`area_code`)
    in every current layer, written with the records."""
    layers = frame["area_layer"].to_numpy(dtype=object) if "area_layer" in frame else None
    codes = frame["area_code"].to_numpy(dtype=object) if "area_code" in frame else None
    return engine.assign(frame.geometry.values, layers, codes)
