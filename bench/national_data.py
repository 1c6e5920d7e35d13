"""Generated national inputs for the benchmark database: plans, actions, pins and responses as the
CSV and GeoJSON files a council would import, deterministic for a seed.

Responses and pins are points inside the real data zones, drawn with probability proportional to
population, skewed away from the most deprived zones (engagement usually is).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely
from common import REALDATA

from capmap.core.crs import geoms_bng_to_lonlat, geoms_lonlat_to_bng
from capmap.io.validate import polygon_parts

GLASGOW = "S12000049"
THEMES = ("poverty", "health", "housing", "transport", "employment", "greenspace",
          "community_safety", "children_young_people", "food", "environment")
CHANNELS = (("online", 0.55), ("paper", 0.2), ("event", 0.15), ("street_stall", 0.1))
# National campaigns: name, first and last day, share of the non-Glasgow-only responses.
CAMPAIGNS = (("Scotland Listens 2024", "2024-02-01", "2024-11-30", 0.4),
             ("Scotland Listens 2025", "2025-02-01", "2025-11-30", 0.45),
             ("Active Travel 2026", "2026-01-10", "2026-06-30", 0.15))
GLASGOW_ONLY = ("Glasgow Voices 2025", "2025-03-01", "2025-09-30")
# Relative response propensity by SIMD quintile (1 = most deprived).
SKEW = {1: 0.55, 2: 0.75, 3: 1.0, 4: 1.2, 5: 1.35}
PIN_CATEGORIES = ("potholes_roads", "litter_flytipping", "street_lighting", "transport",
                  "housing_repairs", "green_space", "antisocial_behaviour", "other")


@dataclass(frozen=True)
class BuildParams:
    """What shapes the generated data (the response count is chosen per database)."""

    seed: int = 2026
    locality_plans: int = 100
    drawn_plans: int = 100
    actions: int = 500
    pins: int = 100_000


def zones() -> pd.DataFrame:
    """The data zones (EPSG:4326, repaired as capmap repairs them) with the fields used here."""
    frame = pyogrio.read_dataframe(REALDATA / "datazones_2011_scotland.geojson", columns=[
        "code", "council_code", "population", "simd2020_quintile"])
    frame["geometry"] = polygon_parts(frame.geometry.values)[0]
    return frame


def points_in(geoms: np.ndarray, picks: np.ndarray, rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray]:
    """One uniform point inside geoms[picks[i]] for each i: rejection sampling in the boxes."""
    shapely.prepare(geoms)
    bounds = shapely.bounds(geoms)
    x, y = np.empty(len(picks)), np.empty(len(picks))
    todo = np.arange(len(picks))
    while len(todo):
        b = bounds[picks[todo]]
        tx, ty = rng.uniform(b[:, 0], b[:, 2]), rng.uniform(b[:, 1], b[:, 3])
        ok = shapely.contains_xy(geoms[picks[todo]], tx, ty)
        x[todo[ok]], y[todo[ok]] = tx[ok], ty[ok]
        todo = todo[~ok]
    return np.round(x, 6), np.round(y, 6)


def _weights(frame: pd.DataFrame) -> np.ndarray:
    skew = frame["simd2020_quintile"].map(SKEW).fillna(1.0).to_numpy()
    w = frame["population"].fillna(0).to_numpy(dtype=float) * skew
    return w / w.sum()


def _dates(rng: np.random.Generator, first: str, last: str, n: int) -> np.ndarray:
    start, end = np.datetime64(first), np.datetime64(last)
    days = rng.integers(0, int((end - start).astype(int)) + 1, n)
    return (start + days.astype("timedelta64[D]")).astype(str)


def _themes(rng: np.random.Generator, n: int) -> list[str]:
    count = rng.integers(1, 4, n)
    picks = rng.integers(0, len(THEMES), (n, 3))
    return [";".join(dict.fromkeys(THEMES[t] for t in row[:c])) for row, c in zip(picks, count,
                                                                                 strict=True)]


def write_responses(path: Path, n: int, params: BuildParams) -> None:
    """`n` responses as CSV with lon/lat: national campaigns, and a Glasgow-only one."""
    rng = np.random.default_rng([params.seed, n])
    frame = zones()
    picks = rng.choice(len(frame), n, p=_weights(frame))
    lon, lat = points_in(frame.geometry.values, picks, rng)
    in_glasgow = frame["council_code"].to_numpy()[picks] == GLASGOW
    glasgow_only = in_glasgow & (rng.random(n) < 0.35)
    which = rng.choice(len(CAMPAIGNS), n, p=[c[3] for c in CAMPAIGNS])
    campaign = np.array([c[0] for c in CAMPAIGNS], dtype=object)[which]
    date = np.empty(n, dtype=object)
    for k, (_, first, last, _) in enumerate(CAMPAIGNS):
        rows = np.flatnonzero((which == k) & ~glasgow_only)
        date[rows] = _dates(rng, first, last, len(rows))
    rows = np.flatnonzero(glasgow_only)
    campaign[rows] = GLASGOW_ONLY[0]
    date[rows] = _dates(rng, GLASGOW_ONLY[1], GLASGOW_ONLY[2], len(rows))
    channel = rng.choice([c[0] for c in CHANNELS], n, p=[c[1] for c in CHANNELS])
    ages = np.array(["16-24", "25-44", "45-64", "65+", ""], dtype=object)[rng.integers(0, 5, n)]
    pd.DataFrame({"ref": [f"R{i:07d}" for i in range(n)], "campaign": campaign,
                  "channel": channel, "date": date, "themes": _themes(rng, n), "lon": lon,
                  "lat": lat, "age_band": ages}).to_csv(path, index=False)


def write_base_files(folder: Path, params: BuildParams) -> None:
    """Plans (council LOIPs, Locality Plans by codes, drawn community plans), actions and pins."""
    rng = np.random.default_rng(params.seed)
    frame = zones()
    councils = pyogrio.read_dataframe(REALDATA / "council_areas_scotland.geojson",
                                      columns=["code", "name"])
    loips = councils.assign(ref="LOIP-" + councils["code"], type="loip",
                            title=councils["name"] + " Local Outcomes Improvement Plan 2023-2033",
                            owner=councils["name"] + " Community Planning Partnership",
                            council_code=councils["code"], period_start="2023-04-01",
                            period_end="2033-03-31", review_due="2028-03-31", status="adopted",
                            themes="poverty;health;employment")
    loips.drop(columns=["code", "name"]).to_file(folder / "plans_loip.geojson", driver="GeoJSON")
    plans = [(r, c) for r, c in zip(loips["ref"], loips["council_code"], strict=True)]
    plans += _locality_plans(folder, frame, params, rng)
    plans += _drawn_plans(folder, frame, params, rng)
    _actions(folder / "actions.csv", frame, plans, params, rng)
    _pins(folder / "pins.csv", frame, params, rng)


def _lifecycle(k: int, start: str, end: str) -> dict[str, str]:
    """As in a real register, not every plan is in force: every 7th has lapsed (its period
    ended in March 2024) and every 11th is still a draft; the rest are adopted."""
    if k % 7 == 0:
        return {"period_start": "2019-04-01", "period_end": "2024-03-31", "status": "adopted"}
    return {"period_start": start, "period_end": end, "status": "draft" if k % 11 == 0 else "adopted"}


def _locality_plans(folder: Path, frame: pd.DataFrame, params: BuildParams,
                    rng: np.random.Generator) -> list[tuple[str, str]]:
    """Locality Plans as sets of deprived zones: quintile-1 zones of a council, in runs of codes
    (neighbours by code are near each other) of 8 to 40."""
    deprived = frame[frame["simd2020_quintile"] == 1].sort_values("code")
    rows = []
    for council, group in deprived.groupby("council_code"):
        codes = group["code"].tolist()
        start = 0
        while start < len(codes) and len(rows) < params.locality_plans:
            size = int(rng.integers(8, 41))
            part = codes[start:start + size]
            start += size
            if len(part) >= 3:
                k = len(rows) + 1
                rows.append({"ref": f"LOC-{k:03d}", "type": "locality_plan",
                             "title": f"Locality Plan {k} ({council})", "owner": "CPP",
                             "council_code": council, **_lifecycle(k, "2024-04-01", "2029-03-31"),
                             "review_due": "2025-03-31" if k % 5 == 0 else "2027-03-31",
                             "themes": "poverty;health",
                             "layer": "dz11", "area_codes": ";".join(part)})
    pd.DataFrame(rows).to_csv(folder / "plans_by_codes.csv", index=False)
    return [(r["ref"], r["council_code"]) for r in rows]


def _drawn_plans(folder: Path, frame: pd.DataFrame, params: BuildParams,
                 rng: np.random.Generator) -> list[tuple[str, str]]:
    """Community action plans drawn freely: blobs 0.5 to 4 km across around zone centres."""
    picks = rng.choice(len(frame), params.drawn_plans, replace=False, p=_weights(frame))
    centres = geoms_lonlat_to_bng(shapely.centroid(frame.geometry.values[picks]))
    blobs = []
    for centre in centres:
        angles = np.sort(rng.uniform(0, 2 * np.pi, 24))
        r = rng.uniform(250, 2000) * rng.uniform(0.6, 1.2, 24)
        ring = np.column_stack([centre.x + r * np.cos(angles), centre.y + r * np.sin(angles)])
        blobs.append(shapely.make_valid(shapely.Polygon(ring)))
    geoms = shapely.set_precision(geoms_bng_to_lonlat(np.array(blobs, dtype=object)), 1e-6)
    council = frame["council_code"].to_numpy()[picks]
    features = [{"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": {
        "ref": f"CAP-{k + 1:03d}", "type": "community_action_plan",
        "title": f"Community Action Plan {k + 1}", "owner": "Community council",
        "council_code": c, **_lifecycle(k + 1, "2025-01-01", "2028-12-31"),
        "review_due": "2027-12-31", "themes": "greenspace;food"}}
        for k, (g, c) in enumerate(zip(geoms, council, strict=True))]
    (folder / "plans_drawn.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": features}))
    return [(f["properties"]["ref"], f["properties"]["council_code"]) for f in features]


def _actions(path: Path, frame: pd.DataFrame, plans: list[tuple[str, str]], params: BuildParams,
             rng: np.random.Generator) -> None:
    """Actions on random plans; half placed at a point in a zone of the plan's council."""
    n = params.actions
    chosen = [plans[i] for i in rng.integers(0, len(plans), n)]
    located = rng.random(n) < 0.5
    lon, lat = np.full(n, np.nan), np.full(n, np.nan)
    by_council = frame.groupby("council_code").indices
    picks = np.array([rng.choice(by_council[c]) for _, c in chosen])
    x, y = points_in(frame.geometry.values, picks, rng)
    lon[located], lat[located] = x[located], y[located]
    statuses = np.array(["not_started", "in_progress", "completed", "stalled"])
    pd.DataFrame({"ref": [f"ACT-{i + 1:04d}" for i in range(n)],
                  "plan_ref": [p for p, _ in chosen],
                  "title": [f"Action {i + 1}" for i in range(n)], "description": "Do the thing.",
                  "theme": np.array(THEMES)[rng.integers(0, len(THEMES), n)],
                  "lead": "Partnership", "lead_type": "partnership",
                  "target_date": _dates(rng, "2024-01-01", "2029-12-31", n),
                  "status": statuses[rng.integers(0, 4, n)], "updated": "2026-05-01",
                  "lon": lon, "lat": lat}).to_csv(path, index=False)


def _pins(path: Path, frame: pd.DataFrame, params: BuildParams, rng: np.random.Generator) -> None:
    """Published pins, placed like responses."""
    n = params.pins
    picks = rng.choice(len(frame), n, p=_weights(frame))
    lon, lat = points_in(frame.geometry.values, picks, rng)
    created = pd.Timestamp("2025-01-01T00:00:00Z") + pd.to_timedelta(
        rng.integers(0, 500 * 86400, n), unit="s")
    pd.DataFrame({"ref": [f"PIN-{i:06d}" for i in range(n)],
                  "category": np.array(PIN_CATEGORIES)[rng.integers(0, len(PIN_CATEGORIES), n)],
                  "description": "Reported by a resident.",
                  "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"), "status": "published",
                  "lon": lon, "lat": lat}).to_csv(path, index=False)
