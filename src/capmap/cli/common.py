"""What the command's parts share: the store of the --db option, progress, error handling."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from capmap.core.errors import CapmapError
from capmap.core.models import ImportReport
from capmap.core.policy import Policy, from_settings
from capmap.core.settings import CONFIG_FILE, ENV_PREFIX, SettingError
from capmap.services import pipeline
from capmap.storage import open_store

PROJECT_DIR = Path(__file__).resolve().parents[3]


def project_path(name: str) -> Path:
    """A folder of the project checkout (sample_geodata, boundaries), else of the working dir."""
    here = PROJECT_DIR / name
    return here if here.is_dir() else Path(name)


def store_of(ctx: click.Context, *, check: bool = True):
    """The store named by --db, refusing one without the current schema unless `check` is off.
    Its connections close when the command ends, however it ends: a PostGIS server keeps no
    idle session for each command a script runs."""
    store = open_store(ctx.obj["db"])
    ctx.call_on_close(store.close)
    if check:
        store.check()
    return store


class ProgressBar:
    """A progress bar on stderr for writes of more than a few thousand rows, advanced as each
    batch is stored; `total` may be an estimate, and the bar ends when done reaches it."""

    MIN_ROWS = 2000

    def __init__(self) -> None:
        self.bar = None
        self.done = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total < self.MIN_ROWS or done >= total:
                return
            self.bar = click.progressbar(length=total, label="storing", file=sys.stderr)
            self.bar.__enter__()
        step = min(done, self.bar.length) - self.done
        if step > 0:
            self.bar.update(step)
            self.done += step
        if done >= total:
            self.bar.update(self.bar.length - self.done)  # an estimate above the rows found
            self.bar.__exit__(None, None, None)
            self.bar, self.done = None, 0


def policy_of(ctx: click.Context | None = None) -> Policy:
    """The rules of the command's settings (capmap.core.settings.load(), as the web app reads)."""
    ctx = ctx or click.get_current_context()
    return from_settings(ctx.find_root().obj["settings"])


def import_options(**settings) -> pipeline.ImportOptions:
    """Import settings for the command line: the region and pin rules of the settings, a
    progress bar, and `settings` (ImportOptions fields such as batch_rows) given as options."""
    policy = policy_of()
    return pipeline.ImportOptions(progress=ProgressBar(), region=policy.region, pins=policy.pins,
                                  **settings)


class BadSetting(click.ClickException):
    """A setting the command cannot run with: one line, and exit status 2 as for a bad option."""

    exit_code = 2


class CapmapGroup(click.Group):
    """Turns a CapmapError into click's one-line error and exit status 1, and a bad setting into
    one with exit status 2: no traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CapmapError as exc:
            raise click.ClickException(exc.message) from None
        except SettingError as exc:
            folder = getattr((ctx.obj or {}).get("settings"), "instance_path", None)
            where = f"{folder / CONFIG_FILE} or " if folder else ""
            raise BadSetting(f"setting {exc} (set in {where}{ENV_PREFIX}{exc.name})") from None


def print_report(report: ImportReport) -> None:
    """An import's summary lines."""
    for line in report.lines():
        click.echo(line)


