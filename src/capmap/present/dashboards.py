"""What the officers' dashboards show: engagement coverage and plan coverage with action progress,
as tables, SVG charts and the values of their maps: per area code, a colour band and the texts of
its tip (the pages draw them over the layer's vector tiles; no geometry here)."""

from __future__ import annotations

import csv
import io
from datetime import date

from capmap.core.csvsafe import safe_cell
from capmap.core.policy import PlanGapRules
from capmap.present.charts import paired_bars
from capmap.services.coverage import EngagementFilters, engagement_coverage, plan_coverage
from capmap.services.engine import Engine
from capmap.services.progress import action_table, per_plan, progress_summary
from capmap.services.scope import DEFAULT_SCOPE, ScopeRequest
from capmap.storage import Store

RATE_COLOURS = ["#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"]
STATUS_COLOURS = {"completed": "#1a9850", "in_progress": "#4575b4", "not_started": "#999999",
                  "stalled": "#d73027", "cancelled": "#666666"}
# Neighbourhoods by local plan in force: none, a local plan other than a Locality Plan, a
# Locality Plan.
COVER_COLOURS = ["#fdae61", "#abd9e9", "#2c7bb6"]
# The words of the equity chart, in English; a page in another language passes its own.
EQUITY_WORDS = {"quintile": "Q%(quintile)s", "population": "Share of population",
                "responses": "Share of responses",
                "title": "Share of responses against share of population by SIMD quintile "
                         "(Q1 most deprived)"}
# The labels of the values in an area's tip (a page swaps them for its language's).
TIP_VALUES = ("Responses", "Per 1,000")


def response_options(store: Store, engine: Engine) -> dict[str, list[str]]:
    """Campaigns, channels and themes present in the responses, for filter menus (one query per
    change of the store's data)."""
    return engine.data_memo("response-options", store.response_options)


def scope_options(engine: Engine) -> list[tuple[str, str]]:
    """(code, name) of the councils a scope menu offers: the council layer's areas by name."""
    councils = sorted((s for s in engine.layers().values() if s.layer.kind == "council"),
                      key=lambda s: s.layer.id)
    if not councils:
        return []
    areas = councils[0].areas
    return sorted(zip(areas["code"], areas["name"], strict=True), key=lambda p: (p[1], p[0]))


def engagement_view(store: Store, engine: Engine, layer_id: str, filters: EngagementFilters, *,
                    scope: ScopeRequest = DEFAULT_SCOPE, exact: bool, gap_ratio: float,
                    threshold: int, round_to: int, words: dict[str, str] | None = None) -> dict:
    """The engagement dashboard: report tables, the equity chart (its `words` as EQUITY_WORDS),
    the legend as (colour, lower bound, upper bound or None for the top band) per rate band,
    the values of a map of rates per area code of the scope's areas (see choropleth), banded
    around the scope's rate, and the parts of the scope's statement a page words itself."""
    words = {**EQUITY_WORDS, **(words or {})}
    report = engagement_coverage(store, engine, layer_id, filters, scope=scope, exact=exact,
                                 gap_ratio=gap_ratio, threshold=threshold, round_to=round_to)
    overall = _overall_rate(report)
    bins = [0.0] + [overall * m for m in (0.5, 0.75, 1.0, 1.5)]
    equity = report["equity"]
    svg = paired_bars([words["quintile"] % {"quintile": r["quintile"]} for r in equity],
                      {words["population"]: [r["share_of_population"] for r in equity],
                       words["responses"]: [r["share_of_responses"] for r in equity]},
                      ["#bbbbbb", "#2b8cbe"], words["title"])
    legend = [(colour, bins[i], bins[i + 1] if i + 1 < len(bins) else None)
              for i, colour in enumerate(RATE_COLOURS)]
    values = {row["code"]: [_band_of(row["rate_per_1000"], bins), _shown(row["responses"]),
                            _shown(row["rate_per_1000"], "{:.1f}")] for row in report["areas"]}
    described = choropleth(layer_id, values, RATE_COLOURS, list(TIP_VALUES))
    layer = engine.layer(layer_id).layer
    unknown = sum(row["population"] is None for row in report["areas"])
    return {"report": report, "map": described, "equity_svg": svg, "legend": legend,
            "overall_rate": overall,
            "scope_parts": {"layer": layer.title or layer.id, "unknown_population": unknown}}


def choropleth(layer_id: str, values: dict[str, list], colours: list[str], tip_values: list[str]
               ) -> dict:
    """A choropleth of a layer: per area code [band index into `colours` or None, then one text
    per `tip_values` label, shown in the area's tip after its name and code]."""
    return {"layer": layer_id, "values": values, "colours": colours, "tip_values": tip_values}


def _band_of(value: float | None, bins: list[float]) -> int | None:
    """Which band of `bins` (lower bounds) a value falls in; None when it is unknown."""
    if not isinstance(value, int | float) or value != value:
        return None
    return min(sum(value >= b for b in bins[1:]), len(bins) - 1)


def _shown(value, pattern: str = "{}") -> str:
    return "–" if value is None else pattern.format(value)


def _overall_rate(report: dict) -> float:
    people = sum(r["population"] or 0 for r in report["equity"]) or sum(
        r["population"] or 0 for r in report["areas"])
    heard = sum(r["responses"] for r in report["equity"]) if report["equity"] else report[
        "in_scope"]
    return 1000 * heard / people if people else 0.0


def plans_tables(store: Store, engine: Engine, rules: PlanGapRules, today: date) -> dict:
    """Plan coverage by type with the gaps, and action progress: the tables of the plans
    dashboard and its CSVs."""
    table = action_table(store.actions(), engine.plans().plans, today)
    return {"coverage": plan_coverage(engine, rules, today), "actions": table,
            "summary": progress_summary(table), "per_plan": per_plan(table),
            "overdue": table[table["overdue"]].sort_values("target_date").to_dict("records")}


def plans_view(store: Store, engine: Engine, rules: PlanGapRules, today: date) -> dict:
    """plans_tables with a map of neighbourhoods by local plan cover (see COVER_COLOURS)."""
    view = plans_tables(store, engine, rules, today)
    view.pop("actions")
    hoods = engine.neighbourhoods()
    values = {}
    for row in view["coverage"]["areas"]:
        band = 2 if row["locality_plan_in_force"] >= rules.locality_share else (
            1 if row["local_plan_in_force"] >= rules.min_share else 0)
        values[row["code"]] = [band]
    return {**view, "map": choropleth(hoods.layer.id, values, COVER_COLOURS, [])}


def csv_text(rows: list[dict], columns: list[str] | None = None) -> str:
    """Rows as CSV, every cell and header through capmap.core.csvsafe (formulas made text)."""
    columns = columns or (list(rows[0]) if rows else [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_cell(c) for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def _cell(value) -> str:
    return "" if value is None else str(safe_cell(value))
