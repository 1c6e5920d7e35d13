"""`capmap import …`: boundaries, plans, actions, responses, pins and postcodes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from capmap import pipeline
from capmap.cli.common import import_options, print_report, store_of
from capmap.existing import ON_EXISTING
from capmap.io.batches import BATCH_ROWS
from capmap.io.prepare import PlanFields
from capmap.layers import load_layer_def, make_layer_def
from capmap.models import LAYER_KINDS, PLAN_TYPES


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
@click.option("--population-field")
@click.option("--parent-field", help="Field holding the parent (council) code.")
@click.option("--simd-rank-field")
@click.option("--simd-decile-field")
@click.option("--simd-quintile-field")
@click.option("--crs", help="CRS for a file that does not state one, e.g. EPSG:27700.")
@click.option("--source", type=click.Path(dir_okay=False),
              help="Data file when FILE is a .toml definition whose source should be overridden.")
@click.pass_context
def import_boundaries(ctx: click.Context, file: str, layer_id: str | None, source: str | None,
                      **settings) -> None:
    """Import a boundary layer from FILE, or from a boundaries/*.toml definition."""
    settings = {k: v for k, v in settings.items() if v is not None}
    if file.endswith(".toml"):
        layer = load_layer_def(Path(file))
        layer = replace(layer, **settings, **({"id": layer_id} if layer_id else {}))
        path = source
    else:
        layer = make_layer_def(id=layer_id, source=file, **settings)
        path = file
    print_report(pipeline.import_boundaries(store_of(ctx), layer, path, options=import_options()))


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
@click.option("--type", "plan_type", type=click.Choice(PLAN_TYPES),
              help="Type for every plan; otherwise the file's `type` column.")
@click.option("--area-layer", help="Layer of the codes in an `area_codes` column.")
@click.option("--ref-field", default="ref", show_default=True)
@click.option("--title-field", default="title", show_default=True)
@click.option("--owner-field", default="owner", show_default=True)
@click.option("--status-field", default="status", show_default=True)
@click.option("--themes-field", default="themes", show_default=True)
@click.option("--link-field", default="link", show_default=True)
@click.option("--summary-field", default="summary", show_default=True)
@click.pass_context
def import_plans(ctx: click.Context, file: str, plan_type: str | None, area_layer: str | None,
                 on_existing: str, **fields) -> None:
    """Import plans from a geometry file, or a table of area codes (`area_codes`, `;`-separated)."""
    mapping = PlanFields(plan_type=plan_type,
                         **{k.removesuffix("_field"): v for k, v in fields.items()})
    print_report(pipeline.import_plans(store_of(ctx), file, mapping, area_layer=area_layer,
                                 options=import_options(on_existing=on_existing)))


def _simple_import(name: str, func, help_text: str, batched: bool = False,
                   keyed: bool = False) -> None:
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.pass_context
    def command(ctx: click.Context, file: str, **settings) -> None:
        print_report(func(store_of(ctx), file, options=import_options(**settings)))

    if batched:
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
