"""People in the sample data: engagement responses, residents' pins and a postcode lookup."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import shapely

from capmap.core.crs import bng_to_lonlat
from capmap.sample.areas import Geography, quintile
from capmap.sample.geo import points_in
from capmap.sample.plans import THEMES

RESPONSE_COLUMNS = ("ref", "campaign", "channel", "date", "themes", "easting", "northing",
                    "area_code", "age_band")
POSTCODE_COLUMNS = ("postcode", "easting", "northing")
CHANNELS = ("online", "paper", "event", "street_stall")
AGE_BANDS = ("16-24", "25-44", "45-64", "65+", "")
AGE_MIX = (0.1, 0.32, 0.3, 0.18, 0.1)
# Response rate by SIMD quintile: deprived areas are heard from less, as in real consultations.
QUINTILE_FACTOR = {1: 0.35, 2: 0.5, 3: 0.65, 4: 0.8, 5: 1.0}
# (name, first day, last day, responses, channel mix, theme weights, focus plan ref or None)
CAMPAIGNS = (
    ("Glenarden Together 2025", date(2025, 2, 3), date(2025, 5, 30), 2600,
     (0.55, 0.2, 0.15, 0.1), (3, 2, 2, 2, 2, 1, 2, 1, 1, 3), None),
    ("Local Place Plan Kirkton", date(2025, 9, 1), date(2025, 11, 28), 900,
     (0.4, 0.15, 0.3, 0.15), (1, 4, 2, 1, 1, 3, 1, 1, 4, 1), "LPP-01"),
    ("Active Travel 2026", date(2026, 1, 12), date(2026, 4, 17), 1500,
     (0.7, 0.1, 0.1, 0.1), (1, 0, 8, 1, 2, 2, 1, 0, 2, 0), None),
)
POINT_SHARE = 0.85
SILENT = 7  # neighbourhoods no campaign reached at all

PIN_CATEGORIES = {
    "potholes_roads": (0.22, ("Deep pothole on {street}, cars swerving round it.",
                              "Road surface breaking up at the junction of {street}.",
                              "Sunken drain cover on {street}.")),
    "street_lighting": (0.12, ("Street light out on {street} for two weeks.",
                               "Lamp post flickering all night on {street}.",
                               "Path behind {street} has no lighting at all.")),
    "litter_flytipping": (0.18, ("Mattress and bags dumped at the end of {street}.",
                                 "Overflowing bins by the shops on {street}.",
                                 "Builders' rubble flytipped in the lane off {street}.")),
    "antisocial_behaviour": (0.1, ("Youths gathering and drinking by {street} most nights.",
                                   "Off-road bikes on the paths near {street}.",
                                   "Repeated vandalism at the bus shelter on {street}.")),
    "green_space": (0.1, ("Play park on {street} has broken swings.",
                          "Grass not cut at {street} green all summer.",
                          "Fallen tree blocking the path near {street}.")),
    "housing_repairs": (0.1, ("Damp and mould in the flats on {street}, repairs not done.",
                              "Broken door entry system at {street}.",
                              "Roof leaking in the block on {street}.")),
    "transport": (0.1, ("Bus stop on {street} has no timetable or shelter.",
                        "No safe crossing for school children on {street}.",
                        "Evening bus no longer stops at {street}.")),
    "other": (0.08, ("Dog fouling all along {street}.",
                     "Noise from the yard on {street} early every morning.",
                     "Would like a bench on {street} for older residents.")),
}
STREETS = ("Main Street", "Station Road", "Burnside Crescent", "Mill Lane", "Church Street",
           "Park Avenue", "Glebe Road", "Hillview Drive", "School Brae", "Market Wynd",
           "Victoria Terrace", "Kirk Loan", "Bridge Street", "Woodlands Grove", "Quarry Road")
PIN_STATUSES = ("pending", "published", "hidden", "resolved")
PIN_STATUS_MIX = (0.15, 0.55, 0.05, 0.25)
UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # inward-code letters (no C, I, K, M, O, V)


def _pick(rng: np.random.Generator, options: tuple, p: tuple | None = None):
    """One element of a tuple, weights p."""
    return options[int(rng.choice(len(options), p=p))]


def _points_for(rng: np.random.Generator, geo: Geography, cells: np.ndarray) -> np.ndarray:
    """One random point (EPSG:27700, 0.1 m) inside the given neighbourhood for each entry."""
    out = np.empty((len(cells), 2))
    for c in np.unique(cells):
        rows = np.flatnonzero(cells == c)
        out[rows] = points_in(rng, geo.cells[c], len(rows))
    return out


def _weights(rng: np.random.Generator, geo: Geography) -> np.ndarray:
    """Relative response rate per neighbourhood: population times a deprivation factor."""
    factor = np.array([QUINTILE_FACTOR[quintile(int(r))] for r in geo.rank])
    weight = geo.population * factor * rng.uniform(0.6, 1.4, len(geo.cells))
    deprived = np.flatnonzero(factor <= QUINTILE_FACTOR[2])
    others = np.flatnonzero(factor > QUINTILE_FACTOR[2])
    weight[rng.choice(deprived, SILENT - 2, replace=False)] = 0.0
    weight[rng.choice(others, 2, replace=False)] = 0.0
    return weight


def _campaign(
    rng: np.random.Generator,
    geo: Geography,
    weight: np.ndarray,
    campaign: tuple,
    focus: shapely.Geometry | None,
) -> list[list[str]]:
    """The responses of one campaign, sorted by date, without refs."""
    name, first, last, count, channels, theme_w, _ = campaign
    if focus is not None:
        inside = shapely.intersects(np.asarray(geo.cells, dtype=object), focus)
        weight = weight * np.where(inside, 1.0, 0.02)
    cells = rng.choice(len(geo.cells), size=count, p=weight / weight.sum())
    days = rng.integers(0, (last - first).days + 1, count)
    has_point = rng.random(count) < POINT_SHARE
    xy = _points_for(rng, geo, cells)
    tw = np.asarray(theme_w, dtype=float) / sum(theme_w)
    rows = []
    for k in np.argsort(days, kind="stable"):
        picked = rng.choice(len(THEMES), int(rng.integers(1, 4)), replace=False, p=tw)
        themes = ";".join(THEMES[t] for t in sorted(picked))
        point = [f"{xy[k, 0]:.1f}", f"{xy[k, 1]:.1f}", ""] if has_point[k] else [
            "", "", geo.codes[cells[k]]]
        rows.append([name, _pick(rng, CHANNELS, channels),
                     (first + timedelta(days=int(days[k]))).isoformat(), themes, *point,
                     _pick(rng, AGE_BANDS, AGE_MIX)])
    return rows


def build_responses(rng: np.random.Generator, geo: Geography, focus: dict) -> list[list[str]]:
    """About 5,000 responses over three campaigns; `focus` maps plan refs to EPSG:27700 areas."""
    weight = _weights(rng, geo)
    rows: list[list[str]] = []
    for campaign in CAMPAIGNS:
        area = focus[campaign[-1]] if campaign[-1] else None
        rows.extend(_campaign(rng, geo, weight, campaign, area))
    return [[f"R-{i:05d}", *row] for i, row in enumerate(rows, start=1)]


def build_pins(rng: np.random.Generator, geo: Geography, count: int = 500) -> list[tuple]:
    """Residents' pins as (properties, (lon, lat)) pairs, numbered in order of creation."""
    cells = rng.choice(len(geo.cells), size=count, p=geo.population / geo.population.sum())
    xy = _points_for(rng, geo, cells)
    lon, lat = bng_to_lonlat(xy[:, 0], xy[:, 1])
    start = datetime(2026, 1, 5, 0, 0, 0)
    seconds = np.sort(rng.integers(0, 299 * 86400, count))
    names = tuple(PIN_CATEGORIES)
    probs = tuple(PIN_CATEGORIES[n][0] for n in names)
    mail = rng.choice(np.arange(1, 10000), count, replace=False)
    pins = []
    for k in range(count):
        category = _pick(rng, names, probs)
        text = _pick(rng, PIN_CATEGORIES[category][1]).format(street=_pick(rng, STREETS))
        contact = f"resident{mail[k]:04d}@example.org" if rng.random() < 0.2 else ""
        created = start + timedelta(seconds=int(seconds[k]))
        props = {"ref": f"PIN-{k + 1:04d}", "category": category, "description": text,
                 "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                 "status": _pick(rng, PIN_STATUSES, PIN_STATUS_MIX), "contact": contact}
        pins.append((props, (round(float(lon[k]), 6), round(float(lat[k]), 6))))
    return pins


def build_postcodes(rng: np.random.Generator, geo: Geography, count: int = 1500) -> list[list]:
    """Fictional "XS" postcodes with a point each: at least two per neighbourhood, more in towns."""
    n = len(geo.cells)
    per_cell = 2 + rng.multinomial(count - 2 * n, geo.population / geo.population.sum())
    cells = np.repeat(np.arange(n), per_cell)
    xy = _points_for(rng, geo, cells)
    iz = geo.iz_of[cells]
    ward = geo.ward_of_iz[iz]
    first_iz = np.array([np.flatnonzero(geo.ward_of_iz == w)[0] for w in ward])
    keys = list(zip((ward + 1).tolist(), ((iz - first_iz) % 10).tolist(), strict=True))
    units = [a + b for a in UNIT_LETTERS for b in UNIT_LETTERS]
    codes = [""] * len(cells)
    for key in sorted(set(keys)):
        rows = [i for i, k in enumerate(keys) if k == key]
        drawn = sorted(rng.choice(len(units), len(rows), replace=False).tolist())
        for i, u in zip(rows, drawn, strict=True):
            codes[i] = f"XS{key[0]} {key[1]}{units[u]}"
    order = sorted(range(len(cells)), key=lambda i: (keys[i], codes[i]))
    return [[codes[i], f"{xy[i, 0]:.1f}", f"{xy[i, 1]:.1f}"] for i in order]
