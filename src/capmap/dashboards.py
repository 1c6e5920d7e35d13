"""What the officers' dashboards show: engagement coverage and plan coverage with action progress,
as tables, SVG charts and maps: the engagement map as a description the page's script draws
(values per area code, geometry by URL), the plans map still built with folium."""

from __future__ import annotations

import csv
import io
from datetime import date

import geopandas as gpd
import pandas as pd

from capmap.charts import paired_bars
from capmap.coverage import EngagementFilters, PlanGapRules, engagement_coverage, plan_coverage
from capmap.csvsafe import safe_cell
from capmap.engine import Engine
from capmap.maps.render import (
    Assets,
    Tiles,
    add_action_markers,
    add_choropleth,
    add_plans,
    base_map,
    render,
)
from capmap.maps.style import NO_DATA_COLOUR
from capmap.progress import action_table, per_plan, progress_summary
from capmap.spatial.simplify import simplify_coverage
from capmap.storage import Store

MAP_ZOOM = 11
RATE_COLOURS = ["#f1eef6", "#bdc9e1", "#74a9cf", "#2b8cbe", "#045a8d"]
STATUS_COLOURS = {"completed": "#1a9850", "in_progress": "#4575b4", "not_started": "#999999",
                  "stalled": "#d73027", "cancelled": "#666666"}


def _map_areas(engine: Engine, layer_id: str) -> gpd.GeoDataFrame:
    state = engine.layer(layer_id)
    return engine.memo(f"map-areas:{layer_id}", lambda: simplify_coverage(state.areas, MAP_ZOOM))


def response_options(store: Store, engine: Engine) -> dict[str, list[str]]:
    """Campaigns, channels and themes present in the responses, for filter menus (one query per
    change of the store's data)."""
    return engine.data_memo("response-options", store.response_options)


def engagement_view(store: Store, engine: Engine, layer_id: str, filters: EngagementFilters, *,
                    exact: bool, gap_ratio: float, threshold: int) -> dict:
    """The engagement dashboard: report tables, the equity chart, and the description of a
    choropleth of rates whose geometry the page fetches by URL (see choropleth)."""
    report = engagement_coverage(store, engine, layer_id, filters, exact=exact,
                                 gap_ratio=gap_ratio, threshold=threshold)
    overall = _overall_rate(report)
    bins = [0.0] + [overall * m for m in (0.5, 0.75, 1.0, 1.5)]
    equity = report["equity"]
    svg = paired_bars([f"Q{r['quintile']}" for r in equity],
                      {"Share of population": [r["share_of_population"] for r in equity],
                       "Share of responses": [r["share_of_responses"] for r in equity]},
                      ["#bbbbbb", "#2b8cbe"],
                      "Share of responses against share of population by SIMD quintile "
                      "(Q1 most deprived)")
    legend = [(RATE_COLOURS[i], _band(bins, i)) for i in range(len(RATE_COLOURS))]
    values = {row["code"]: [_band_of(row["rate_per_1000"], bins), _shown(row["responses"]),
                            _shown(row["rate_per_1000"], "{:.1f}")] for row in report["areas"]}
    described = choropleth(layer_id, values, RATE_COLOURS, ["Responses", "Per 1,000"])
    return {"report": report, "map": described, "equity_svg": svg, "legend": legend,
            "overall_rate": overall}


def choropleth(layer_id: str, values: dict[str, list], colours: list[str], fields: list[str]
               ) -> dict:
    """What the map script needs to draw a choropleth of a layer: the layer and zoom of its
    simplified geometry (fetched by URL), and per area code [colour index or None, then one text
    per field], shown in its tooltip after the area's name and code. No geometry."""
    return {"layer": layer_id, "zoom": MAP_ZOOM, "values": values, "colours": colours,
            "no_data": NO_DATA_COLOUR, "fields": ["Area", "Code", *fields]}


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
        "responses"]
    return 1000 * heard / people if people else 0.0


def _band(bins: list[float], i: int) -> str:
    if i == len(bins) - 1:
        return f"{bins[i]:.1f} and over per 1,000"
    return f"{bins[i]:.1f} to {bins[i + 1]:.1f} per 1,000"


def plans_tables(store: Store, engine: Engine, rules: PlanGapRules, today: date,
                 actions: gpd.GeoDataFrame | None = None) -> dict:
    """Plan coverage by type with the gaps, and action progress (of `actions`, read from the
    store when not given): the tables of the plans dashboard and its CSVs, without the map."""
    actions = store.actions() if actions is None else actions
    table = action_table(actions, engine.plans().plans, today)
    return {"coverage": plan_coverage(engine, rules, today), "actions": table,
            "summary": progress_summary(table), "per_plan": per_plan(table),
            "overdue": table[table["overdue"]].sort_values("target_date").to_dict("records")}


def plans_view(store: Store, engine: Engine, rules: PlanGapRules, today: date, assets: Assets,
               tiles: Tiles | None) -> dict:
    """plans_tables with a map of local plan coverage, the plans and the located actions."""
    actions = store.actions()
    view = plans_tables(store, engine, rules, today, actions)
    hoods = engine.neighbourhoods()
    shares = pd.DataFrame(view["coverage"]["areas"])[["code", "locality_plan", "any_local_plan"]]
    frame = _map_areas(engine, hoods.layer.id).merge(shares, on="code", how="left")
    frame["cover_class"] = 0.0
    frame.loc[frame["any_local_plan"] >= rules.min_share, "cover_class"] = 1.0
    frame.loc[frame["locality_plan"] >= rules.locality_share, "cover_class"] = 2.0
    fmap = base_map(tuple(frame.total_bounds), assets, tiles)
    add_choropleth(fmap, frame, "cover_class", [0.0, 1.0, 2.0], ["#fdae61", "#abd9e9", "#2c7bb6"],
                   "Coverage by local plans", ["name", "code"], ["Area", "Code"])
    add_plans(fmap, engine.plans().plans)
    table = view.pop("actions")
    located = actions[actions.geometry.notna()].copy()
    located["overdue"] = located["id"].isin(set(table.loc[table["overdue"], "id"]))
    add_action_markers(fmap, located, STATUS_COLOURS)
    return {**view, "map": render(fmap)}


def csv_text(rows: list[dict], columns: list[str] | None = None) -> str:
    """Rows as CSV, every cell and header through capmap.csvsafe (formulas made text)."""
    columns = columns or (list(rows[0]) if rows else [])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_cell(c) for c in columns])
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue()


def _cell(value) -> str:
    return "" if value is None else str(safe_cell(value))
