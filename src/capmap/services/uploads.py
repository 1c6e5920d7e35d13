"""Imports from the web: a form's settings turned into the same pipeline calls the CLI makes.

An uploaded file is read and checked in a child process held to limits (`capmap.io.isolated`);
only the checked rows come back, and the pipeline stores them here, in the web worker.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from functools import partial
from pathlib import Path

from capmap.core.crs import SCOTLAND, Region
from capmap.core.errors import InputError
from capmap.core.models import ImportReport, LayerDef
from capmap.io import isolated
from capmap.io.indicators import parse_indicator_fields
from capmap.io.plan_defaults import DEFAULT_NAMES, PlanDefaults, make_plan_defaults
from capmap.io.prepare import PlanFields
from capmap.io.readers import ReadLimits
from capmap.io.vocab import DEFAULT_VOCABULARIES, Vocabularies
from capmap.services import pipeline
from capmap.services.existing import IMPORT_USER, Existing, check_policy
from capmap.services.import_checks import refuse_losses
from capmap.services.layers import make_layer_def
from capmap.spatial.simplify import simplified_for_preview
from capmap.storage import Store, open_store

KINDS = ("boundaries", "plans", "actions", "responses", "postcodes")
BOUNDARY_SETTINGS = ("id", "vintage", "title", "licence", "file_layer", "code_field",
                     "name_field", "name_alt_field", "population_field", "parent_field", "simd_rank_field",
                     "simd_decile_field", "simd_quintile_field", "crs", "indicator_fields")
# Which column holds each plan field (`title_field` ...), as the CLI's --title-field.
PLAN_FIELD_SETTINGS = tuple(f"{f.name}_field" for f in dataclass_fields(PlanFields)
                            if f.name != "plan_type")
PLAN_SETTINGS = ("plan_type", "area_layer", "crs", "file_layer", *PLAN_FIELD_SETTINGS,
                 *(f"default_{name}" for name in DEFAULT_NAMES))
# Extra vocabulary aliases as TOML ([channel] web = "online"), for the kinds checked row by row.
ROW_KINDS = ("plans", "actions", "responses")


def web_limits(max_bytes: int) -> ReadLimits:
    """Tighter limits for files uploaded through the web than for the operator's CLI."""
    # A web upload is read whole in a child process for its preview: a CSV of points is held to
    # the same rows and bytes as any other file, not to the CLI's streamed bounds.
    return ReadLimits(max_bytes=max_bytes, max_zip_entries=50, max_uncompressed_bytes=4 * max_bytes,
                      max_features=250_000, max_vertices=5_000_000,
                      max_vertices_per_feature=500_000, max_point_rows=250_000,
                      max_point_bytes=max_bytes)


def clean_settings(kind: str, form: dict[str, str]) -> dict[str, str]:
    """The settings that apply to `kind`, blanks dropped; unknown kinds refused."""
    if kind not in KINDS:
        raise InputError(f"import kind {kind!r} is not offered; expected one of {', '.join(KINDS)}")
    allowed = BOUNDARY_SETTINGS if kind == "boundaries" else PLAN_SETTINGS if kind == "plans" else ()
    allowed += ("aliases", "on_existing") if kind in ROW_KINDS else ()
    if kind == "plans":
        # The plans part of the form has its own CRS and file layer inputs.
        form = {**form, **{k: form[f"plan_{k}"] for k in ("crs", "file_layer")
                           if form.get(f"plan_{k}", "").strip()}}
    settings = {k: form[k].strip() for k in allowed if form.get(k, "").strip()}
    # Checked now, so a mistake is a 422 on the form rather than in the reader.
    if "indicator_fields" in settings:
        layer_settings({"indicator_fields": settings["indicator_fields"]})
    if kind == "plans":
        plan_defaults(settings)
    vocabularies(settings)
    check_policy(settings.get("on_existing", "fail"))
    if kind == "boundaries" and form.get("kind_of_layer", "").strip():
        # The form's own "kind" says what the file holds; the layer's kind has its own field.
        settings["kind"] = form["kind_of_layer"].strip()
    return settings


def layer_settings(settings: dict[str, str]) -> dict:
    """A form's boundary settings as make_layer_def takes them: indicator fields split from
    "income=inc_rank, crime" (commas or new lines)."""
    values = dict(settings)
    if "indicator_fields" in values:
        specs = [p for p in re.split(r"[,\n]", values["indicator_fields"]) if p.strip()]
        values["indicator_fields"] = parse_indicator_fields(specs)
    return values


def plan_defaults(settings: dict[str, str]) -> PlanDefaults:
    """The per-file defaults of a plans form (`default_owner`, ...), checked."""
    return make_plan_defaults({name: settings.get(f"default_{name}") for name in DEFAULT_NAMES})


def vocabularies(settings: dict[str, str]) -> Vocabularies:
    """The default vocabularies extended by the site's aliases and then the form's (TOML)."""
    vocab = DEFAULT_VOCABULARIES
    for key, source in (("site_aliases", "the site's import aliases"), ("aliases", "aliases")):
        if settings.get(key):
            vocab = vocab.extended_by_toml(settings[key], source)
    return vocab


def run_import(store: Store, kind: str, path: Path, settings: dict[str, str], *,
               limits: ReadLimits, preview: bool, region: Region = SCOTLAND) -> ImportReport:
    """Read, check and (unless `preview`) store an uploaded file as the CLI would, refusing
    coordinates outside `region` (capmap.core.policy)."""
    options = pipeline.ImportOptions(region=region, limits=limits, preview=preview,
                                     vocabularies=vocabularies(settings))
    if kind == "boundaries":
        layer: LayerDef = make_layer_def(**layer_settings(_without_aliases(settings)))
        return pipeline.import_boundaries(store, replace(layer, source=str(path)), path,
                                          options=options)
    if kind == "plans":
        columns = {k.removesuffix("_field"): settings[k] for k in PLAN_FIELD_SETTINGS
                   if settings.get(k)}
        fields = PlanFields(plan_type=settings.get("plan_type") or None, **columns)
        return pipeline.import_plans(store, path, fields, area_layer=settings.get("area_layer"),
                                     crs=settings.get("crs"), file_layer=settings.get("file_layer"),
                                     defaults=plan_defaults(settings), options=options)
    func = {"actions": pipeline.import_actions, "responses": pipeline.import_responses,
            "postcodes": pipeline.import_postcodes}[kind]
    return func(store, path, options=options)


def preview_import(store_url: str, kind: str, path: Path, settings: dict[str, str],
                   limits: ReadLimits, *, for_display: bool = False,
                   region: Region = SCOTLAND) -> ImportReport:
    """run_import(preview=True) on the store at `store_url`: the part a reader child runs.
    `for_display` simplifies the preview's geometries for a map (they are then only shown)."""
    store = open_store(store_url)
    try:
        report = run_import(store, kind, path, settings, limits=limits, preview=True,
                            region=region)
    finally:
        store.close()
    if for_display and report.preview is not None:
        report.preview = simplified_for_preview(report.preview)
    return report


def _without_aliases(settings: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in settings.items() if k not in ("aliases", "site_aliases")}


def import_isolated(store: Store, kind: str, path: Path, settings: dict[str, str], *,
                    limits: ReadLimits, child: isolated.ChildLimits,
                    preview: bool, allow_losses: bool = False,
                    changed_by: str = IMPORT_USER, region: Region = SCOTLAND) -> ImportReport:
    """run_import with the reading and checking done in a child process held to `child`
    limits (temporary files in the upload's own folder); unless `preview`, the checked rows
    are then stored here, as run_import would store them. A boundary vintage that loses a
    column the current one has is refused unless `allow_losses` (nothing stored). Rows already
    stored are refused, skipped or updated (in the name of `changed_by`) as the settings'
    `on_existing` says."""
    start = time.perf_counter()
    call = partial(preview_import, store.url, kind, path, settings, limits, for_display=preview,
                   region=region)
    report: ImportReport = isolated.run(call, name=path.name, folder=path.parent,
                                        limits=child).value
    if preview:
        return report
    layer = None
    if kind == "boundaries":
        refuse_losses(report, allow_losses)
        layer = replace(make_layer_def(**layer_settings(_without_aliases(settings))),
                        source=path.name)
    existing = None
    if kind in ROW_KINDS:
        existing = Existing(store, kind, settings.get("on_existing", "fail"), changed_by,
                            path.name)
    stored = pipeline.store_prepared(store, kind, report.preview, layer=layer, existing=existing)
    tally = {"updated": existing.tally.updated, "skipped": existing.tally.skipped} if existing else {}
    return replace(report, stored=stored, preview=None, seconds=time.perf_counter() - start,
                   **tally)


def purge_stale(folder: Path, max_age_s: float, now: float | None = None) -> int:
    """Remove the upload folders in `folder` (one per upload) untouched for over `max_age_s`
    seconds: previews nobody confirmed or cancelled. How many were removed."""
    if not folder.is_dir():
        return 0
    cutoff = (time.time() if now is None else now) - max_age_s
    removed = 0
    for upload in folder.iterdir():
        try:
            newest = max([upload.stat().st_mtime, *(p.stat().st_mtime for p in upload.rglob("*"))])
        except OSError:  # removed meanwhile by another worker
            continue
        if upload.is_dir() and newest < cutoff:
            shutil.rmtree(upload, ignore_errors=True)
            removed += 1
    return removed
