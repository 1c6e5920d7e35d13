"""`capmap outcomes`: every plan's outcomes profile as CSV, or one plan's as JSON."""

from __future__ import annotations

import click

from capmap.cli.common import store_of
from capmap.core.serialise import json_text
from capmap.present.dashboards import csv_text
from capmap.services.engine import Engine
from capmap.services.outcomes import all_plan_outcomes, plan_outcomes


@click.command("outcomes")
@click.option("--plan", "plan_id", type=int, help="One plan's profile as JSON, by its id.")
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write (default: standard output).")
@click.pass_context
def outcomes(ctx: click.Context, plan_id: int | None, output) -> None:
    """Outcomes by plan area: residents, the shares in SIMD quintile 1 and decile 1 and
    population-weighted mean ranks, beside the plan's council and Scotland. Every plan as CSV,
    or with --plan one plan as JSON."""
    store = store_of(ctx)
    try:
        engine = Engine(store)
        if plan_id is not None:
            output.write(json_text(plan_outcomes(engine, store, plan_id)) + "\n")
        else:
            output.write(csv_text(*all_plan_outcomes(engine, store)))
    finally:
        store.close()
