"""The one place that composes reading, validation, storage and spatial work.

The CLI and the web upload call these same functions, so an import behaves the same either way.
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from capmap.core.codes import code_reasons
from capmap.core.crs import STORAGE_CRS
from capmap.core.errors import NotFound, ValidationError
from capmap.core.models import ImportReport, LayerDef
from capmap.io import prepare
from capmap.io.plan_defaults import NO_DEFAULTS, PlanDefaults
from capmap.io.postcodes import read_postcode_directory
from capmap.io.readers import read_vector
from capmap.io.validate import RowErrors, listed, text
from capmap.services import councillors, lpp_register
from capmap.services.engine import Engine
from capmap.services.existing import Existing
from capmap.services.history_import import import_history
from capmap.services.import_checks import column_losses, refuse_losses, refuse_rejects
from capmap.services.import_options import DEFAULT_OPTIONS, ImportOptions, Progress
from capmap.services.layers import load_layer_defs
from capmap.services.pins import public_points
from capmap.services.refresh import refresh_assignments, refresh_plan_coverage
from capmap.services.streamed import assign_records, import_points
from capmap.spatial.dissolve import union_by_codes
from capmap.storage import Store
from capmap.storage.migrations import REFRESH_PLAN_COVERAGE


def _name(path: str | Path) -> str:
    return Path(path).name


def import_boundaries(store: Store, layer: LayerDef, path: str | Path | None = None, *,
                      options: ImportOptions = DEFAULT_OPTIONS) -> ImportReport:
    """Read, check, repair and store one boundary layer vintage, replacing that vintage."""
    start = time.perf_counter()
    source = path or layer.source
    if not source:
        raise ValidationError(f"layer {layer.id}: no file given and no source in its definition")
    raw = read_vector(source, layer=layer.file_layer, crs=layer.crs, limits=options.limits)
    areas, repaired = prepare.prepare_areas(raw, layer, _name(source), options.region)
    what, losses = f"layer {layer.id} ({layer.vintage})", column_losses(store, layer, areas)
    if options.preview:
        return ImportReport(what, read=len(raw), repaired=repaired, losses=losses,
                            seconds=time.perf_counter() - start, preview=areas)
    refuse_losses(ImportReport(what, losses=losses), options.allow_losses)
    stored = store_prepared(store, "boundaries", areas, layer=replace(layer, source=_name(source)))
    return ImportReport(what, read=len(raw), stored=stored, repaired=repaired, losses=losses,
                        seconds=time.perf_counter() - start)


def import_plans(store: Store, path: str | Path, fields: prepare.PlanFields, *,
                 area_layer: str | None = None, crs: str | None = None,
                 file_layer: str | None = None,
                 defaults: PlanDefaults = NO_DEFAULTS,
                 options: ImportOptions = DEFAULT_OPTIONS) -> ImportReport:
    """Store plans from a geometry file, or from area codes (`area_codes`, `;`-separated).

    A plan given by codes gets the union of those areas of `area_layer` (or its `layer` column).
    `crs` is the file's CRS where it states none; `defaults` fill a row's blank fields.
    """
    start = time.perf_counter()
    raw = read_vector(path, layer=file_layer, crs=crs, limits=options.limits)
    by_codes = "area_codes" in raw and shapely.is_missing(raw.geometry.values).all()
    errors = RowErrors()
    if by_codes:
        raw = _plans_from_codes(store, raw, area_layer, errors)
    prefix = Path(path).stem.upper()
    plans, row_errors = prepare.prepare_plans(raw, fields, _name(path), prefix, options.region,
                                              defaults=defaults, vocab=options.vocabularies)
    plans = _keep_code_columns(plans, raw, row_errors) if by_codes else plans
    seen = {row for row, _ in errors.rows}
    errors.rows += [(row, why) for row, why in row_errors.rows if row not in seen]
    if options.preview:
        return ImportReport("plans", read=len(raw), rejected=sorted(errors.rows),
                            seconds=time.perf_counter() - start, preview=plans)
    refuse_rejects(ImportReport("plans", read=len(raw), rejected=sorted(errors.rows)),
                   options.allow_rejects)
    existing = Existing(store, "plans", options.on_existing, options.changed_by, _name(path))
    stored = store_prepared(store, "plans", plans, existing=existing)
    return ImportReport("plans", read=len(raw), stored=stored, rejected=sorted(errors.rows),
                        updated=existing.tally.updated, skipped=existing.tally.skipped,
                        seconds=time.perf_counter() - start)


def _plans_from_codes(store: Store, raw: gpd.GeoDataFrame, area_layer: str | None,
                      errors: RowErrors) -> gpd.GeoDataFrame:
    layers = raw["layer"].map(text) if "layer" in raw else None
    raw = raw.copy()
    raw["area_layer"] = [area_layer or (layers[i] if layers is not None else "")
                         for i in range(len(raw))]
    code_lists = [[c.strip() for c in text(v).split(";") if c.strip()] for v in raw["area_codes"]]
    for i, codes in enumerate(code_lists):
        problem = next((p for p in code_reasons(codes, "area code") if p), None)
        if problem:
            errors.add(i, problem)
    geoms = np.full(len(raw), None, dtype=object)
    for layer_id in sorted(set(raw["area_layer"])):
        rows = np.flatnonzero((raw["area_layer"] == layer_id).to_numpy())
        if not layer_id:
            for i in rows:
                errors.add(int(i), "no layer for its area codes (give --area-layer)")
            continue
        try:
            areas = store.areas(layer_id)
        except NotFound as exc:
            for i in rows:
                errors.add(int(i), exc.message)
            continue
        unions, missing = union_by_codes(areas, [code_lists[i] for i in rows])
        for i, geom, lost in zip(rows, unions, missing, strict=True):
            if lost:
                errors.add(int(i), f"area codes not in layer {layer_id}: {listed(lost, 5)}")
            geoms[i] = None if lost else geom
    return gpd.GeoDataFrame(raw.drop(columns=raw.geometry.name),
                            geometry=gpd.GeoSeries(geoms, crs=STORAGE_CRS, index=raw.index))


def _keep_code_columns(plans: gpd.GeoDataFrame, raw: gpd.GeoDataFrame,
                       errors: RowErrors) -> gpd.GeoDataFrame:
    keep = errors.keep_mask(len(raw))
    plans["area_layer"] = raw["area_layer"].to_numpy()[keep]
    plans["area_codes"] = raw["area_codes"].map(text).to_numpy()[keep]
    return plans


def import_actions(store: Store, path: str | Path, *,
                   options: ImportOptions = DEFAULT_OPTIONS) -> ImportReport:
    """Store actions from CSV or GeoJSON; each names its plan by `plan_ref`."""
    plan_ids, seen = store.plan_ids(), set()

    def prepare_batch(raw: gpd.GeoDataFrame):
        actions, errors = prepare.prepare_actions(raw, plan_ids, _name(path), options.region,
                                                  vocab=options.vocabularies)
        _refuse_repeated_refs(actions["ref"] if len(actions) else [], seen, _name(path))
        return actions, errors

    return import_points(store, Engine(store), "actions", path, prepare_batch,
                         store.put_actions, crs=STORAGE_CRS, options=options)


def _refuse_repeated_refs(refs, seen: set[str], source: str) -> None:
    """Refs must be unique across the whole file, not only within one batch of it."""
    again = sorted(seen.intersection(refs))
    if again:
        raise ValidationError(f"{source}: duplicate refs {listed(again)}")
    seen.update(refs)


def import_responses(store: Store, path: str | Path, *,
                     options: ImportOptions = DEFAULT_OPTIONS) -> ImportReport:
    """Store engagement responses located by lon/lat, easting/northing or an area code."""
    engine = Engine(store)
    codes = {layer_id: set(state.row_of) for layer_id, state in engine.layers().items()}

    def prepare_batch(raw: gpd.GeoDataFrame):
        return prepare.prepare_responses(raw, codes, _name(path), options.region,
                                         vocab=options.vocabularies)

    return import_points(store, engine, "responses", path, prepare_batch, store.put_responses,
                         crs=STORAGE_CRS, options=options)


def import_pins(store: Store, path: str | Path, *, options: ImportOptions = DEFAULT_OPTIONS
                ) -> ImportReport:
    """Store residents' pins, each with its public point made as the pin form makes it
    (`options.pins`: moved by the store's pin key, or snapped to the grid; capmap.services.pins)."""
    key = store.pin_key()

    def prepare_batch(raw: gpd.GeoDataFrame):
        pins, errors = prepare.prepare_pins(raw, _name(path), options.region,
                                            vocab=options.vocabularies)
        pins["public_geom"] = public_points(pins.geometry.values, options.pins, key)
        return pins, errors

    return import_points(store, Engine(store), "pins", path, prepare_batch, store.put_pins,
                         crs=None, options=options)


def store_prepared(store: Store, kind: str, prepared: gpd.GeoDataFrame, *,
                   layer: LayerDef | None = None, engine: Engine | None = None,
                   progress: Progress | None = None, existing: Existing | None = None) -> int:
    """Store rows an import prepared (a preview's rows) as that import does; how many were stored.

    `kind` is boundaries (with its `layer`), plans, actions, responses or postcodes. The web
    prepares uploads in a child process held to limits and stores the result here. Plans
    already stored are refused unless `existing` says to skip or update them.
    """
    # A layer or plans and the derived tables they change are one transaction: an import that
    # fails part-way (a full disk, a lost connection) leaves the data as it was.
    if kind == "boundaries":
        if layer is None:
            raise ValidationError("storing boundaries needs their layer definition")
        with store.atomic():
            store.put_layer(layer, prepared)
            engine = Engine(store)
            refresh_assignments(store, engine, [layer.id])
            if layer.kind == "neighbourhood":
                refresh_plan_coverage(store, engine)
        return len(prepared)
    if kind == "plans":
        existing = existing or Existing(store, "plans", "fail")
        with store.atomic():
            new, ids = existing.split(prepared)
            existing.apply(prepared, ids)
            stored = len(store.put_plans(prepared[new])) if new.any() else 0
            refresh_plan_coverage(store, Engine(store))
        return stored
    if kind in ("actions", "responses"):
        if not len(prepared):
            return 0
        existing = existing or Existing(store, kind, "fail")
        with store.atomic():
            new, ids = existing.split(prepared)
            assignments = assign_records(engine or Engine(store), prepared)
            existing.apply(prepared, ids, assignments)
            if not new.any():
                return 0
            assignments = {k: np.asarray(v, dtype=object)[new] for k, v in assignments.items()}
            if kind == "actions":
                return len(store.put_actions(prepared[new], assignments))
            return len(store.put_responses(prepared[new], assignments, progress=progress))
    if kind == "postcodes":
        return store.put_postcodes(prepared)
    raise ValidationError(f"import kind {kind!r} cannot be stored")


def import_postcodes(store: Store, path: str | Path, *,
                     options: ImportOptions = DEFAULT_OPTIONS) -> ImportReport:
    """Store a postcode directory as published (ONSPD, NRS Scottish Postcode Directory, OS
    Code-Point Open as a zip or folder, or a postcode table with lon/lat or easting/northing),
    a batch at a time in one transaction; terminated and unlocated postcodes are skipped and
    counted (capmap.io.postcodes)."""
    start = time.perf_counter()
    report = ImportReport("postcodes")
    kept = []
    with nullcontext() if options.preview else store.atomic():
        for batch in read_postcode_directory(path, region=options.region, limits=options.limits,
                                             rows=options.batch_rows):
            report.read += batch.read
            for reason, count in batch.skipped.items():
                report.left_out[reason] = report.left_out.get(reason, 0) + count
            if batch.layout not in report.layouts:
                report.layouts.append(batch.layout)
            if options.preview:
                kept.append(batch.frame)
            else:
                report.stored += store.put_postcodes(batch.frame)
            if options.progress:
                options.progress(report.read, report.read)
        if not report.read:
            raise ValidationError(f"{_name(path)} holds no postcode rows")
    if options.preview:
        report.preview = gpd.GeoDataFrame(pd.concat(kept, ignore_index=True), geometry="geom",
                                          crs=STORAGE_CRS)
    report.seconds = time.perf_counter() - start
    return report


def load_sample(store: Store, data_dir: Path, boundaries_dir: Path, *,
                options: ImportOptions = DEFAULT_OPTIONS) -> list[ImportReport]:
    """Load the demo data set; does nothing if its layers are already stored."""
    if any(la.id.startswith("sample_") for la in store.layers()):
        return []
    reports = [import_boundaries(store, layer, options=options)
               for layer in load_layer_defs(boundaries_dir) if layer.id.startswith("sample_")]
    reports.append(import_plans(store, data_dir / "plans_by_area.csv", prepare.PlanFields(),
                                options=options))
    reports.append(import_plans(store, data_dir / "plans.geojson", prepare.PlanFields(),
                                options=options))
    reports.append(import_actions(store, data_dir / "actions.csv", options=options))
    reports.append(import_responses(store, data_dir / "responses.csv", options=options))
    reports.append(import_pins(store, data_dir / "pins.geojson", options=options))
    reports.append(import_postcodes(store, data_dir / "postcodes.csv", options=options))
    reports.append(import_lpp_steps(store, data_dir / "lpp_register.csv", "sample"))
    if (data_dir / "action_history.csv").exists():
        reports.append(import_history(store, data_dir / "action_history.csv"))
    if (data_dir / "councillors.csv").exists():
        reports.append(councillors.import_file(store, data_dir / "councillors.csv"))
    return reports


def import_lpp_steps(store: Store, path: Path, changed_by: str) -> ImportReport:
    """Steps of the Local Place Plan register from a CSV (capmap.services.lpp_register.STEP_COLUMNS),
    all or none, each checked as a step on the web is and kept in the plans' history."""
    started = time.perf_counter()
    rows = lpp_register.steps_from_csv(Path(path).read_text(encoding="utf-8"))
    taken = lpp_register.take_steps(store, rows, changed_by)
    return ImportReport(what=f"register steps from {Path(path).name}", read=len(rows),
                        stored=taken, seconds=time.perf_counter() - started)


def upgrade(store: Store) -> list[int]:
    """Apply pending schema upgrades, then fill the derived tables they added; the versions
    applied."""
    applied = store.upgrade()
    if REFRESH_PLAN_COVERAGE.intersection(applied):
        with store.atomic():
            refresh_plan_coverage(store, Engine(store))
    return applied
