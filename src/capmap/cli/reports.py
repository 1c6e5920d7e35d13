"""`capmap report progress`: a plan's progress report for a reporting year, as CSV or JSON;
`capmap import history`: action histories kept before capmap."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from capmap.cli.common import print_report, store_of
from capmap.cli.imports import import_group
from capmap.core.errors import RowsRejected
from capmap.core.serialise import json_text
from capmap.present.dashboards import csv_text
from capmap.services.history_import import import_history
from capmap.services.reports import REPORT_COLUMNS, parse_year, progress_report, report_rows


@click.group("report")
def report_group() -> None:
    """Reports the Community Empowerment (Scotland) Act 2015 asks for."""


@report_group.command("progress")
@click.option("--plan", "plan_id", type=int, required=True, help="The plan's id.")
@click.option("--year", default=None,
              help="The year the reporting year starts in: 2025 for 2025-26 (1 April 2025 to "
                   "31 March 2026). Default: the last year finished.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True, help="CSV: one row per action; JSON: the whole report.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write (default: standard output).")
@click.pass_context
def progress(ctx: click.Context, plan_id: int, year: str | None, fmt: str, output) -> None:
    """A plan's progress report: each action's status at the end of the year and of the year
    before, overdue actions, notes and status changes of the year."""
    store = store_of(ctx)
    try:
        now = datetime.now(UTC)
        report = progress_report(store, plan_id, parse_year(year, now), now, with_people=True)
    finally:
        store.close()
    if fmt == "json":
        output.write(json_text(report) + "\n")
    else:
        output.write(csv_text(report_rows(report), REPORT_COLUMNS))


@import_group.command("history")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.pass_context
def history(ctx: click.Context, file: str) -> None:
    """Import actions' histories from CSV: action_ref, field (created, status or
    progress_note), old_value, new_value, at (ISO 8601, UTC unless zoned), changed_by. Refused
    whole, every bad row listed, unless each action's history chains and ends where the action
    is now."""
    store = store_of(ctx)
    try:
        report = import_history(store, file)
    except RowsRejected as exc:
        for line in exc.report.lines(limit=len(exc.report.rejected)):
            click.echo(line, err=True)
        raise click.ClickException(exc.message) from None
    finally:
        store.close()
    print_report(report)
