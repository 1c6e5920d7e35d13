"""`capmap lpp …`: the Local Place Plan register from the command line: record a step, import
steps from a CSV, list a register and export it."""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime
from pathlib import Path

import click

from capmap.cli.common import store_of
from capmap.core.errors import InputError
from capmap.core.serialise import json_text
from capmap.io.writers import Part, write_export
from capmap.present.dashboards import csv_text
from capmap.services import lpp_notify, lpp_regard, lpp_register, lpp_views, pipeline
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


def _answer(ctx: click.Context, plan_ref: str, make) -> dict:
    """`make(engine, store, query)` for the area of the Local Place Plan PLAN_REF."""
    store = store_of(ctx)
    engine = Engine(store)
    plan = store.lpp_plan(plan_ref)
    return make(engine, store, lpp_regard.plan_query(engine, int(plan["id"])))


def _write(output: str | None, answer: dict, rows: list[dict], columns: list[str]) -> bool:
    """Write the answer to a .json or .csv file; False when no file was named."""
    if output is None:
        return False
    suffix = Path(output).suffix.lower()
    if suffix not in (".json", ".csv"):
        raise InputError(f"{output}: name the file .csv or .json")
    text = json_text(answer) if suffix == ".json" else csv_text(rows, columns)
    Path(output).write_text(text, encoding="utf-8")
    click.echo(f"wrote {len(rows)} rows to {output}")
    return True


@lpp.command("regard")
@click.argument("plan_ref")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="A .csv or .json file.")
@click.pass_context
def regard(ctx: click.Context, plan_ref: str, output: str | None) -> None:
    """The plans the Local Place Plan PLAN_REF must have regard to (reg. 2): Locality Plans
    and the LOIP first, with their shares and the actions inside its area."""
    answer = _answer(ctx, plan_ref, lpp_regard.regard_report)
    rows = lpp_regard.csv_rows(answer)
    if _write(output, answer, rows, lpp_regard.CSV_COLUMNS):
        return
    for row in rows:
        click.echo(f"{row['group']:<10} {row['ref']:<10} {100 * row['share_of_query']:6.1f} % "
                   f"of the area  {row['actions_inside']:>3} actions inside  {row['title']}")


@lpp.command("notify")
@click.argument("plan_ref")
@click.option("--adjoin-m", type=click.FloatRange(0, lpp_notify.MAX_ADJOIN_M),
              default=lpp_notify.DEFAULT_ADJOIN_M, show_default=True,
              help="A community council this close (metres) adjoins the area.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="A .csv or .json file.")
@click.pass_context
def notify(ctx: click.Context, plan_ref: str, adjoin_m: float, output: str | None) -> None:
    """Who must be sent the proposed Local Place Plan PLAN_REF (reg. 4): the councillors of
    the wards it overlaps and the community councils within or adjoining it."""
    answer = _answer(ctx, plan_ref, lambda e, s, q: lpp_notify.notification_list(e, s, q, adjoin_m))
    rows = answer["recipients"]
    if _write(output, answer, rows, lpp_notify.RECIPIENT_COLUMNS):
        return
    click.echo(answer["tolerance"]["sentence"])
    for row in rows:
        where = row["ward_name"] if row["recipient"] == "councillor" else row["relation"]
        click.echo(f"{row['recipient']:<18} {row['name']:<30} {where:<24} {row['email']}")
    for code in answer["wards_without_councillors"]:
        click.echo(f"no councillors are recorded for ward {code}")
