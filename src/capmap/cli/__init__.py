"""The `capmap` command. Each command parses options and calls one pipeline or store function."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from capmap.cli.common import CapmapGroup, import_options, print_report, project_path, store_of
from capmap.cli.imports import import_group
from capmap.cli.lpp import lpp
from capmap.cli.outcomes import outcomes
from capmap.cli.reports import report_group
from capmap.cli.users import users
from capmap.core import settings
from capmap.core.passwords import hash_password, new_password
from capmap.io.outputs import check_output_name, is_plain_csv
from capmap.io.writers import EXPORT_CRS, FORMATS
from capmap.services import exports, pipeline
from capmap.services.export_filters import parse_filters
from capmap.storage import database_url


@click.group(cls=CapmapGroup)
@click.option("--db", envvar="CAPMAP_DATABASE_URL", default=None,
              help="Database URL: sqlite:///path (default instance/capmap.sqlite) or "
                   "postgresql://user@host/db. Also CAPMAP_DATABASE_URL.")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """capmap: plans, actions, engagement and pins over Scottish boundary layers."""
    # The settings the web app reads too: instance/capmap.cfg, then CAPMAP_* variables.
    loaded = settings.load()
    ctx.obj = {"db": database_url(db or loaded["DATABASE_URL"]), "settings": loaded}


cli.add_command(import_group)
cli.add_command(users)
cli.add_command(outcomes)
cli.add_command(lpp)
cli.add_command(report_group)


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database schema (does nothing if it is already there)."""
    created = store_of(ctx, check=False).init()
    click.echo(f"{'created' if created else 'already initialised'}: {_safe_url(ctx.obj['db'])}")


@cli.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Apply pending schema upgrades."""
    applied = pipeline.upgrade(store_of(ctx, check=False))
    click.echo(f"applied upgrades {applied}" if applied else "schema is up to date")


@cli.command("load-sample")
@click.option("--data", type=click.Path(file_okay=False), default=None,
              help="Sample data folder (default sample_geodata/).")
@click.option("--boundaries", type=click.Path(file_okay=False), default=None,
              help="Layer definitions folder (default boundaries/).")
@click.pass_context
def load_sample(ctx: click.Context, data: str | None, boundaries: str | None) -> None:
    """Load the fictional demo data set (skipped if it is already loaded)."""
    data_dir = Path(data) if data else project_path("sample_geodata")
    defs_dir = Path(boundaries) if boundaries else project_path("boundaries")
    reports = pipeline.load_sample(store_of(ctx), data_dir, defs_dir, options=import_options())
    if not reports:
        click.echo("sample data already loaded")
    for report in reports:
        print_report(report)


@cli.command("generate-sample")
@click.argument("out_dir", type=click.Path(file_okay=False), default="sample_geodata")
def generate_sample(out_dir: str) -> None:
    """Regenerate the fictional sample data set into OUT_DIR (byte for byte the same)."""
    from capmap.sample import generate

    for path in generate(Path(out_dir)):
        click.echo(str(path))


@cli.command("layers")
@click.pass_context
def list_layers(ctx: click.Context) -> None:
    """List stored boundary layers and their vintages."""
    for layer in store_of(ctx).layers():
        mark = "*" if layer.is_current else " "
        click.echo(f"{mark} {layer.id:<20} {layer.vintage:<10} {layer.kind:<14} "
                   f"{layer.area_count:>6} areas  {layer.title}")


@cli.command("export")
@click.argument("layers")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="geojson",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
@click.option("--crs", type=click.Choice(list(EXPORT_CRS)), default="EPSG:4326", show_default=True)
@click.option("--bbox", help="Features meeting a lon/lat box: minlon,minlat,maxlon,maxlat.")
@click.option("--area", help="Features inside an area: LAYER:CODE.")
@click.option("--plan", help="Plan ids, separated by commas: those plans, or their actions.")
@click.option("--theme", help="Plans, actions or responses with this theme.")
@click.option("--from", "date_from", help="From this date (YYYY-MM-DD).")
@click.option("--to", "date_to", help="To this date (YYYY-MM-DD).")
@click.option("--by", help="The layer engagement is counted by (default: the neighbourhoods).")
@click.option("--licence", help="Licence of this deployment's own data (default: the "
              "EXPORT_LICENCE setting, also CAPMAP_EXPORT_LICENCE).")
@click.option("--public", is_flag=True, help="What the public gets: public pins at their public "
              "points, small engagement counts withheld, no response points.")
@click.pass_context
def export(ctx: click.Context, layers: str, fmt: str, output: str, crs: str, by: str | None,
           licence: str | None, public: bool, **filters) -> None:
    """Export LAYERS to a file: boundary layer ids, plans, actions, responses, pins,
    plan_coverage or engagement (several, joined by commas, into one gpkg). Operators get exact
    points and figures unless --public; contact details are never exported. Gap rules,
    suppression and public pins follow the settings, as on the web. The output's name must say
    what it is: csv and csv-lonlat as a plain .csv, or a .zip with README.txt (licence,
    attribution); shp as a .zip."""
    check_output_name(fmt, output)
    configured = exports.ExportSettings.of(ctx.obj["settings"])
    configured = replace(configured, licence=licence or configured.licence)
    roles = frozenset() if public else configured.policy.exact_roles
    request = exports.ExportRequest(tuple(layers.split(",")), fmt, crs,
                                    parse_filters(**filters), by=by, roles=roles)
    store = store_of(ctx)
    try:
        about = exports.export(store, request, Path(output), configured)
    finally:
        store.close()
    for name, layer in about["layers"].items():
        click.echo(f"wrote {layer['features']} features of {name} to {output}")
    if is_plain_csv(fmt, output):
        click.echo("a plain CSV holds the table only: name the file .zip to get README.txt "
                   "with the licence and attribution")


# A worker still answering after this is stopped and restarted (gunicorn's worker timeout). At
# national scale every page answers in a few seconds; uploads are stopped at 25 s before this.
WORKER_TIMEOUT_SECONDS = 30


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.option("--timeout", default=WORKER_TIMEOUT_SECONDS, show_default=True, envvar="CAPMAP_WORKER_TIMEOUT",
              type=click.IntRange(min=5), help="Seconds a request may run before its worker is "
              "restarted (env CAPMAP_WORKER_TIMEOUT); keep it above UPLOAD_TIMEOUT_SECONDS.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, timeout: int) -> None:
    """Serve the web app with gunicorn (a production WSGI server)."""
    store_of(ctx)
    os.environ["CAPMAP_DATABASE_URL"] = ctx.obj["db"]
    click.echo(f"capmap on http://{host}:{port}/ ({_safe_url(ctx.obj['db'])})")
    # The server runs the Flask app in its own process: the capmap library never imports Flask.
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers",
            str(workers), "--timeout", str(timeout), "--access-logfile", "-", "app:create_app()"]
    os.execv(sys.executable, args)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_context
def demo(ctx: click.Context, host: str, port: int) -> None:
    """Create the database, load the sample data and serve the app."""
    ctx.invoke(init)
    ctx.invoke(upgrade)  # a database made by an older capmap is brought up to date, and says so
    ctx.invoke(load_sample)
    store = store_of(ctx)
    if not store.users():
        # Never a shipped default password: the demo's admin gets a fresh one, shown once.
        password = new_password()
        store.add_user("admin", hash_password(password), ["admin"])
        click.echo(f"demo admin account: admin / {password}")
    ctx.invoke(serve, host=host, port=port)


def _safe_url(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    """Entry point. Unexpected failures also end in one line (CAPMAP_DEBUG=1 shows tracebacks)."""
    try:
        cli.main(prog_name="capmap")
    except Exception as exc:  # noqa: BLE001 - the last line of defence for the command line
        if os.environ.get("CAPMAP_DEBUG"):
            raise
        click.echo(f"Error: unexpected {type(exc).__name__}: {exc}", err=True)
        sys.exit(2)
