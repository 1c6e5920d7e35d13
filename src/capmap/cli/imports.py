"""`capmap import …`: boundaries, plans, actions, responses, pins and postcodes."""

from __future__ import annotations

import csv
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from pathlib import Path

import click

from capmap.cli.common import import_options, print_report, store_of
from capmap.core.csvsafe import safe_cell
from capmap.core.errors import RowsRejected, ValidationError
from capmap.core.models import LAYER_KINDS, ImportReport
from capmap.io.batches import BATCH_ROWS
from capmap.io.indicators import check_indicator_fields, parse_indicator_fields
from capmap.io.plan_defaults import (
    DEFAULT_NAMES,
    NO_DEFAULTS,
    load_plan_import,
    make_plan_defaults,
)
from capmap.io.prepare import PlanFields
from capmap.io.vocab import DEFAULT_VOCABULARIES
from capmap.services import councillors, pipeline
from capmap.services.existing import ON_EXISTING
from capmap.services.layers import load_layer_def, make_layer_def


def _row_options(command):
    """Options of every import that keeps or rejects rows one by one."""
    command = click.option("--aliases", "aliases_file", type=click.Path(dir_okay=False),
                           help="TOML of extra aliases per vocabulary, e.g. [channel] "
                                "\"door knocking\" = \"event\".")(command)
    command = click.option("--rejects-csv", type=click.Path(dir_okay=False),
                           help="Write the rejected rows (row, reason) to this CSV.")(command)
    return click.option("--allow-rejects", is_flag=True,
                        help="Store the good rows when some are rejected (else nothing is "
                             "stored and the exit status is 1).")(command)


def _vocabularies(aliases_file: str | None, tables: dict | None = None):
    vocab = DEFAULT_VOCABULARIES.extended(tables or {}, "aliases")
    if aliases_file:
        path = Path(aliases_file)
        vocab = vocab.extended_by_toml(path.read_text(encoding="utf-8"), path.name)
    return vocab


def _write_rejects(path: str, report: ImportReport) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["row", "reason"])
        writer.writerows([row, safe_cell(why)] for row, why in report.rejected)


def _run_rows(run, *, allow_rejects: bool, rejects_csv: str | None, **settings) -> None:
    """Run a row-by-row import: report it, write its rejects, exit 1 if rows were rejected and
    rejects were not allowed (then nothing was stored)."""
    options = import_options(allow_rejects=allow_rejects, **settings)
    try:
        report = run(options)
    except RowsRejected as exc:
        for line in exc.report.lines(limit=len(exc.report.rejected)):
            click.echo(line, err=True)
        if rejects_csv:
            _write_rejects(rejects_csv, exc.report)
        raise click.ClickException(exc.message) from None
    print_report(report)
    if rejects_csv:
        _write_rejects(rejects_csv, report)


@click.group("import")
def import_group() -> None:
    """Import boundaries, plans, actions, responses, pins or postcodes."""


@import_group.command("boundaries")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--layer", "layer_id", help="Layer id, e.g. dz11.")
@click.option("--kind", type=click.Choice(LAYER_KINDS))
@click.option("--vintage", help="Vintage, e.g. 2011; re-importing a vintage replaces it.")
@click.option("--title")
@click.option("--licence")
@click.option("--file-layer", help="Layer inside a GeoPackage.")
@click.option("--code-field")
@click.option("--name-field")
@click.option("--name-alt-field", help="Field holding another name (Gaelic or English).")
@click.option("--population-field")
@click.option("--parent-field", help="Field holding the parent (council) code.")
@click.option("--simd-rank-field")
@click.option("--simd-decile-field")
@click.option("--simd-quintile-field")
@click.option("--indicator-field", "indicators", multiple=True, metavar="NAME[=SOURCECOL]",
              help="An extra number stored per area (repeatable), e.g. income=simd2020_inc_rank.")
@click.option("--crs", help="CRS for a file that does not state one, e.g. EPSG:27700.")
@click.option("--source", type=click.Path(dir_okay=False),
              help="Data file when FILE is a .toml definition whose source should be overridden.")
@click.option("--allow-losses", is_flag=True,
              help="Import a vintage that lacks a column (SIMD, population, an indicator) the "
                   "layer's current vintage has.")
@click.pass_context
def import_boundaries(ctx: click.Context, file: str, layer_id: str | None, source: str | None,
                      indicators: tuple[str, ...], allow_losses: bool, **settings) -> None:
    """Import a boundary layer from FILE, or from a boundaries/*.toml definition."""
    settings = {k: v for k, v in settings.items() if v is not None}
    if file.endswith(".toml"):
        layer = load_layer_def(Path(file))
        more = parse_indicator_fields(indicators)
        layer = replace(layer, **settings, **({"id": layer_id} if layer_id else {}),
                        indicator_fields=check_indicator_fields(layer.indicator_fields + more))
        path = source
    else:
        layer = make_layer_def(id=layer_id, source=file, indicator_fields=indicators, **settings)
        path = file
    options = import_options(allow_losses=allow_losses)
    print_report(pipeline.import_boundaries(store_of(ctx), layer, path, options=options))


FIELD_NAMES = [f.name for f in dataclass_fields(PlanFields) if f.name != "plan_type"]


def _plan_field_options(command):
    for name in reversed(FIELD_NAMES):
        command = click.option(f"--{name.replace('_', '-')}-field", name,
                               help=f"Column of the plan's {name} (default: {name}).")(command)
    return command


def _plan_default_options(command):
    helps = {"owner": "Owner for rows without one.", "council_code": "Council code (S12…) for "
             "rows without one.", "period_start": "Period start (YYYY-MM-DD) for rows without "
             "one.", "period_end": "Period end for rows without one.",
             "review_due": "Review date for rows without one.",
             "title_template": "Title for rows without one, from their columns, e.g. "
                               "\"{name} Locality Plan\"."}
    for name in reversed(DEFAULT_NAMES):
        flag = "--council" if name == "council_code" else f"--{name.replace('_', '-')}"
        command = click.option(flag, f"default_{name}", help=helps[name])(command)
    return command


def on_existing_option(command):
    """--on-existing: what to do with rows already stored."""
    return click.option(
        "--on-existing", type=click.Choice(ON_EXISTING), default="fail", show_default=True,
        help="Rows whose ref is already stored (for responses and pins without a ref: rows "
             "matching stored rows exactly): refuse the whole file, skip them, or update them "
             "in place (plans and actions keep a history of each change).")(command)


@import_group.command("plans")
@on_existing_option
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--type", "plan_type",
              help="Type for every plan (loip, locality_plan, … or an alias); otherwise the "
                   "file's `type` column.")
@click.option("--area-layer", help="Layer of the codes in an `area_codes` column.")
@click.option("--crs", help="CRS for a file that does not state one, e.g. EPSG:27700.")
@click.option("--file-layer", help="Layer inside a GeoPackage or KML.")
@click.option("--source", type=click.Path(dir_okay=False),
              help="Data file when FILE is a .toml definition whose source should be overridden.")
@_plan_field_options
@_plan_default_options
@_row_options
@click.pass_context
def import_plans(ctx: click.Context, file: str, source: str | None, aliases_file: str | None,
                 on_existing: str, **settings) -> None:
    """Import plans from a geometry file, a table of area codes (`area_codes`, `;`-separated),
    or a .toml definition of such an import (source, type, fields, defaults, aliases)."""
    rows = {k: settings.pop(k) for k in ("allow_rejects", "rejects_csv")}
    given = {k: v for k, v in settings.items() if v is not None}
    definition = load_plan_import(Path(file)) if file.endswith(".toml") else None
    columns = {**(definition.fields if definition else {}),
               **{k: given.pop(k) for k in FIELD_NAMES if k in given}}
    defaults = {k.removeprefix("default_"): given.pop(k) for k in list(given)
                if k.startswith("default_")}
    base = definition.defaults if definition else NO_DEFAULTS
    merged = make_plan_defaults({**{k: getattr(base, k) for k in DEFAULT_NAMES}, **defaults})
    plan_type = given.pop("plan_type", None) or (definition.plan_type if definition else None)
    mapping = PlanFields(plan_type=plan_type, **columns)
    path = source or (definition.source if definition else file)
    place = {k: given.pop(k, None) or (getattr(definition, k) if definition else None)
             for k in ("area_layer", "crs", "file_layer")}
    vocab = _vocabularies(aliases_file, definition.aliases if definition else None)
    _run_rows(lambda options: pipeline.import_plans(store_of(ctx), path, mapping,
                                                    defaults=merged, options=options, **place),
              vocabularies=vocab, on_existing=on_existing, **rows)


def _simple_import(name: str, func, help_text: str, batched: bool = False,
                   keyed: bool = False) -> None:
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.pass_context
    def command(ctx: click.Context, file: str, **settings) -> None:
        if not batched:
            print_report(func(store_of(ctx), file, options=import_options(**settings)))
            return
        vocab = _vocabularies(settings.pop("aliases_file"))
        _run_rows(lambda options: func(store_of(ctx), file, options=options),
                  vocabularies=vocab, **settings)

    if batched:
        command = _row_options(command)
        command = click.option(
            "--batch-rows", type=click.IntRange(min=1), default=BATCH_ROWS, show_default=True,
            help="Rows read, checked and stored at a time (all in one transaction).")(command)
    if keyed:
        command = on_existing_option(command)
    import_group.command(name, help=help_text)(command)


_simple_import("actions", pipeline.import_actions,
               "Import plan actions from CSV (lon/lat optional) or GeoJSON; `plan_ref` names the plan.",
               batched=True, keyed=True)
_simple_import("responses", pipeline.import_responses,
               "Import engagement responses from CSV: lon/lat, easting/northing or area_code.",
               batched=True, keyed=True)
_simple_import("pins", pipeline.import_pins, "Import residents' pins from GeoJSON points.",
               batched=True, keyed=True)
_simple_import("postcodes", pipeline.import_postcodes,
               "Import a postcode lookup table (postcode with lon/lat or easting/northing).")


@import_group.command("councillors")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def import_councillors(ctx: click.Context, file: str) -> None:
    """Import councillors by ward from CSV (ward_code, name, party, email): checked whole,
    stored all or none, replacing the councillors of the wards the file names."""
    try:
        report = councillors.import_file(store_of(ctx), Path(file))
    except ValidationError as exc:  # every problem row, not only the first
        raise click.ClickException("\n".join([exc.message, *exc.details])) from None
    print_report(report)
