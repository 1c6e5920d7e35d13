"""`capmap lpp …`: the Local Place Plan register from the command line: record a step, import
steps from a CSV, list a register and export it."""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime
from pathlib import Path

import click

from capmap.cli.common import store_of
from capmap.core.errors import InputError
from capmap.io.writers import Part, write_export
from capmap.present.dashboards import csv_text
from capmap.services import lpp_register, lpp_views, pipeline
from capmap.services.engine import Engine
from capmap.services.exports import DEFAULT_LICENCE

EXPORT_SUFFIXES = {".csv": "csv", ".geojson": "geojson", ".gpkg": "gpkg"}
BY_HELP = "Who recorded it, kept in the history (default: the login name)."


@click.group("lpp")
def lpp() -> None:
    """The register of Local Place Plans (SSI 2021/353 regs 6-8)."""


@lpp.command("step")
@click.argument("plan_ref")
@click.argument("to", type=click.Choice(lpp_register.STATUSES))
@click.option("--on", "on", default="", help="The step's date, YYYY-MM-DD (default today).")
@click.option("--reason", default="", help="Why the plan is not registered or is removed.")
@click.option("--body", "community_body", default="",
              help="The community body, on a plan's first step (default: the plan's owner).")
@click.option("--by", "changed_by", default=None, help=BY_HELP)
@click.pass_context
def step(ctx: click.Context, plan_ref: str, to: str, on: str, reason: str,
         community_body: str, changed_by: str | None) -> None:
    """Move PLAN_REF's register entry TO a status (or start the entry)."""
    store = store_of(ctx)
    try:
        plan = store.lpp_plan(plan_ref)
        taken = lpp_register.read_step({"to": to, "on": on, "reason": reason,
                                        "community_body": community_body}, date.today())
        changes = lpp_register.take_step(store, plan["id"], taken,
                                         changed_by or getpass.getuser(), "cli")
    finally:
        store.close()
    click.echo(f"{plan_ref}: {to} on {taken.on.isoformat()} ({len(changes)} changes kept)")


@lpp.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", "changed_by", default=None, help=BY_HELP)
@click.pass_context
def import_steps(ctx: click.Context, path: str, changed_by: str | None) -> None:
    """Record the steps of a CSV (plan_ref, to, on, reason, community_body), in order, all
    or none."""
    store = store_of(ctx)
    try:
        report = pipeline.import_lpp_steps(store, Path(path), changed_by or getpass.getuser())
    finally:
        store.close()
    click.echo("\n".join(report.lines()))


@lpp.command("list")
@click.option("--council", "council_code", help="One council's register (default: the counts "
              "of every council).")
@click.option("--all-stages", is_flag=True, help="Every stage, not only the public register.")
@click.pass_context
def list_register(ctx: click.Context, council_code: str | None, all_stages: bool) -> None:
    """Print the councils with their counts, or one council's register."""
    store = store_of(ctx)
    try:
        engine = Engine(store)
        if council_code is None:
            for row in lpp_views.register_index(engine, store, lambda _: all_stages):
                counts = ", ".join(f"{k} {n}" for k, n in row["counts"].items() if n) or "none"
                click.echo(f"{row['council_code']:<12} {row['council_name']:<30} {counts}")
            return
        register = lpp_views.council_register(engine, store, council_code, all_stages)
    finally:
        store.close()
    for e in register["entries"]:
        dated = e.get(f"{e['status']}_on") or e.get("registered_on") or ""
        click.echo(f"{e['plan_ref']:<10} {e['status']:<15} {dated:<10} {e['title']}"
                   + (f" ({e['reason']})" if e["reason"] else ""))


@lpp.command("export")
@click.argument("council_code")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True,
              help="The file: .csv, .geojson or .gpkg.")
@click.option("--all-stages", is_flag=True, help="Every stage, not only the public register.")
@click.pass_context
def export(ctx: click.Context, council_code: str, output: str, all_stages: bool) -> None:
    """Write COUNCIL_CODE's register to a CSV, GeoJSON or GeoPackage file."""
    fmt = EXPORT_SUFFIXES.get(Path(output).suffix.lower())
    if fmt is None:
        raise InputError(f"{output}: name the file .csv, .geojson or .gpkg")
    store = store_of(ctx)
    try:
        register = lpp_views.council_register(Engine(store), store, council_code, all_stages)
        if fmt == "csv":
            Path(output).write_text(csv_text(*lpp_views.csv_rows(register)), encoding="utf-8")
        else:
            frame = lpp_views.register_frame(store, council_code, all_stages)
            about = {"title": f"Local Place Plan register of {register['council_name']}",
                     "statuses": ", ".join(register["statuses_shown"]),
                     "licence": DEFAULT_LICENCE,
                     "exported": datetime.now(UTC).isoformat(timespec="seconds")}
            write_export([Part("lpp_register", frame, "Polygon")], Path(output), fmt,
                         "EPSG:4326", about)
    finally:
        store.close()
    click.echo(f"wrote {len(register['entries'])} entries of {council_code} to {output}")
