"""The `capmap` command. Each command parses options and calls one pipeline or store function."""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from capmap import exports, pipeline
from capmap.errors import CapmapError
from capmap.export_filters import parse_filters
from capmap.io.prepare import PlanFields
from capmap.io.writers import EXPORT_CRS, FORMATS
from capmap.layers import load_layer_def, make_layer_def
from capmap.models import LAYER_KINDS, PLAN_TYPES, ImportReport
from capmap.passwords import hash_password, new_password
from capmap.storage import database_url, open_store
from capmap.storage.users import ROLES

PROJECT_DIR = Path(__file__).resolve().parents[2]


def _project_path(name: str) -> Path:
    """A folder of the project checkout (sample_geodata, boundaries), else of the working dir."""
    here = PROJECT_DIR / name
    return here if here.is_dir() else Path(name)


def _store(ctx: click.Context):
    store = open_store(ctx.obj["db"])
    store.check()
    return store


class ProgressBar:
    """A progress bar on stderr for writes of more than a few thousand rows."""

    MIN_ROWS = 2000

    def __init__(self) -> None:
        self.bar = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if total < self.MIN_ROWS:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="storing", file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done
        if done >= total:
            self.bar.__exit__(None, None, None)
            self.bar, self.done = None, 0


def _options() -> pipeline.ImportOptions:
    return pipeline.ImportOptions(progress=ProgressBar())


class CapmapGroup(click.Group):
    """Turns a CapmapError into click's one-line error and exit status 1: no traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CapmapError as exc:
            raise click.ClickException(exc.message) from None


def _print(report: ImportReport) -> None:
    for line in report.lines():
        click.echo(line)


@click.group(cls=CapmapGroup)
@click.option("--db", envvar="CAPMAP_DATABASE_URL", default=None,
              help="Database URL: sqlite:///path (default instance/capmap.sqlite) or "
                   "postgresql://user@host/db. Also CAPMAP_DATABASE_URL.")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """capmap: plans, actions, engagement and pins over Scottish boundary layers."""
    ctx.obj = {"db": database_url(db)}


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the database schema (does nothing if it is already there)."""
    created = open_store(ctx.obj["db"]).init()
    click.echo(f"{'created' if created else 'already initialised'}: {_safe_url(ctx.obj['db'])}")


@cli.command()
@click.pass_context
def upgrade(ctx: click.Context) -> None:
    """Apply pending schema upgrades."""
    applied = open_store(ctx.obj["db"]).upgrade()
    click.echo(f"applied upgrades {applied}" if applied else "schema is up to date")


@cli.group("import")
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
    _print(pipeline.import_boundaries(_store(ctx), layer, path, options=_options()))


@import_group.command("plans")
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
                 **fields) -> None:
    """Import plans from a geometry file, or a table of area codes (`area_codes`, `;`-separated)."""
    mapping = PlanFields(plan_type=plan_type,
                         **{k.removesuffix("_field"): v for k, v in fields.items()})
    _print(pipeline.import_plans(_store(ctx), file, mapping, area_layer=area_layer,
                                 options=_options()))


def _simple_import(name: str, func, help_text: str) -> None:
    @import_group.command(name, help=help_text)
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.pass_context
    def command(ctx: click.Context, file: str) -> None:
        _print(func(_store(ctx), file, options=_options()))


_simple_import("actions", pipeline.import_actions,
               "Import plan actions from CSV (lon/lat optional) or GeoJSON; `plan_ref` names the plan.")
_simple_import("responses", pipeline.import_responses,
               "Import engagement responses from CSV: lon/lat, easting/northing or area_code.")
_simple_import("pins", pipeline.import_pins, "Import residents' pins from GeoJSON points.")
_simple_import("postcodes", pipeline.import_postcodes,
               "Import a postcode lookup table (postcode with lon/lat or easting/northing).")


@cli.command("load-sample")
@click.option("--data", type=click.Path(file_okay=False), default=None,
              help="Sample data folder (default sample_geodata/).")
@click.option("--boundaries", type=click.Path(file_okay=False), default=None,
              help="Layer definitions folder (default boundaries/).")
@click.pass_context
def load_sample(ctx: click.Context, data: str | None, boundaries: str | None) -> None:
    """Load the fictional demo data set (skipped if it is already loaded)."""
    data_dir = Path(data) if data else _project_path("sample_geodata")
    defs_dir = Path(boundaries) if boundaries else _project_path("boundaries")
    reports = pipeline.load_sample(_store(ctx), data_dir, defs_dir, options=_options())
    if not reports:
        click.echo("sample data already loaded")
    for report in reports:
        _print(report)


@cli.command("generate-sample")
@click.argument("out_dir", type=click.Path(file_okay=False), default="sample_geodata")
def generate_sample(out_dir: str) -> None:
    """Regenerate the fictional sample data set into OUT_DIR (byte for byte the same)."""
    from capmap.sample import generate

    for path in generate(Path(out_dir)):
        click.echo(str(path))


@cli.group()
def users() -> None:
    """Accounts for officers, moderators, planners and admins."""


@users.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLES),
              help="A role to give (repeat for several).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input "
              "instead of generating one.")
@click.pass_context
def users_add(ctx: click.Context, username: str, roles: tuple[str, ...], password_stdin: bool
              ) -> None:
    """Create an account; prints a generated password once unless one is given on stdin."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin \
        else new_password()
    if len(password) < 12:
        raise click.ClickException("a password needs at least 12 characters")
    user = _store(ctx).add_user(username, hash_password(password), list(roles))
    click.echo(f"created {user.username} ({', '.join(sorted(user.roles))})")
    if not password_stdin:
        click.echo(f"password: {password}")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """List accounts with their roles and state."""
    for user in _store(ctx).users():
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username:<24} {','.join(sorted(user.roles)):<32} {state:<9} "
                   f"last login {user.last_login or 'never'}")


def _set_active(name: str, active: bool, help_text: str) -> None:
    @users.command(name, help=help_text)
    @click.argument("username")
    @click.pass_context
    def command(ctx: click.Context, username: str) -> None:
        _store(ctx).set_user_active(username, active)
        click.echo(f"{name}d {username}")


_set_active("disable", False, "Stop an account from logging in (its history is kept).")
_set_active("enable", True, "Let a disabled account log in again.")


@cli.command("layers")
@click.pass_context
def list_layers(ctx: click.Context) -> None:
    """List stored boundary layers and their vintages."""
    for layer in _store(ctx).layers():
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
@click.option("--licence", envvar="CAPMAP_EXPORT_LICENCE", default=exports.DEFAULT_LICENCE,
              show_default=True, help="Licence of this deployment's own data.")
@click.pass_context
def export(ctx: click.Context, layers: str, fmt: str, output: str, crs: str, by: str | None,
           licence: str, **filters) -> None:
    """Export LAYERS to a file: boundary layer ids, plans, actions, responses, pins,
    plan_coverage or engagement (several, joined by commas, into one gpkg). Operators get exact
    points and figures; contact details are never exported."""
    request = exports.ExportRequest(tuple(layers.split(",")), fmt, crs,
                                    parse_filters(**filters), by=by,
                                    roles=exports.FULL_ACCESS)
    about = exports.export(_store(ctx), request, Path(output),
                           exports.ExportSettings(licence=licence))
    for name, layer in about["layers"].items():
        click.echo(f"wrote {layer['features']} features of {name} to {output}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the web app with gunicorn (a production WSGI server)."""
    _store(ctx)
    os.environ["CAPMAP_DATABASE_URL"] = ctx.obj["db"]
    click.echo(f"capmap on http://{host}:{port}/ ({_safe_url(ctx.obj['db'])})")
    # The server runs the Flask app in its own process: the capmap library never imports Flask.
    args = [sys.executable, "-m", "gunicorn", "--bind", f"{host}:{port}", "--workers",
            str(workers), "--access-logfile", "-", "app:create_app()"]
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
    store = _store(ctx)
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
