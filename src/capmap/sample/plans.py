"""The sample plans: drawn community and service plans, and plans made of neighbourhood lists."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely

from capmap.core.crs import geoms_bng_to_lonlat
from capmap.sample.areas import COUNCIL_CODE, COUNCIL_NAME, Geography
from capmap.sample.geo import GRID, PLACES, blob

THEMES = ("health", "housing", "transport", "employment", "community_safety", "environment",
          "children_young_people", "food", "greenspace", "poverty")
PLAN_COLUMNS = ("ref", "type", "title", "owner", "council_code", "period_start", "period_end",
                "review_due", "status", "themes", "link", "summary")
LONLAT_GRID = 1e-6  # degrees, about 0.1 m


@dataclass
class Plan:
    """One plan: its published fields, the settlement it is about and its area (EPSG:27700)."""

    ref: str
    type: str
    title: str
    owner: str
    start: str
    end: str
    review: str
    status: str
    themes: tuple[str, ...]
    summary: str
    place: str = COUNCIL_NAME
    area: shapely.Geometry | None = None
    codes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, str]:
        """The plan's fields in PLAN_COLUMNS order."""
        values = (self.ref, self.type, self.title, self.owner, COUNCIL_CODE, self.start, self.end,
                  self.review, self.status, ";".join(self.themes),
                  f"https://example.org/plans/{self.ref}", self.summary)
        return dict(zip(PLAN_COLUMNS, values, strict=True))


# Drawn plans: (ref, type, place, dx, dy, radius m, title, owner, start, end, review, status,
# themes, summary). Offsets are from the place centre.
DRAWN = (
    ("CAP-01", "community_action_plan", "Kirkton", 1400, 300, 1900,
     "Kirkton East Community Action Plan 2023-2028", "Kirkton East Residents' Association",
     "2023-04-01", "2028-03-31", "2028-03-31", "adopted",
     ("poverty", "food", "children_young_people", "community_safety"),
     "Residents' priorities for the east of Kirkton: a community pantry, safer routes to school "
     "and more for young people to do in the evenings."),
    ("CAP-02", "community_action_plan", "Balmore", 0, 0, 2700,
     "Balmore Community Action Plan 2022-2027", "Balmore Community Council",
     "2022-06-01", "2027-05-31", "2027-05-31", "adopted",
     ("health", "greenspace", "transport", "community_safety"),
     "Built from a door-to-door survey: a better bus link, a refurbished park and a warm space "
     "in the town hall."),
    ("CAP-03", "community_action_plan", "Dunrath", 2500, 1000, 3800,
     "Dunrath and Brackenhill Community Action Plan 2021-2026", "Dunrath Development Trust",
     "2021-05-01", "2026-04-30", "2026-04-30", "adopted",
     ("employment", "environment", "housing", "transport"),
     "A shared plan for the town and its northern villages: local jobs, a path network and "
     "energy efficient homes."),
    ("CAP-04", "community_action_plan", "Cairnfoot", 1500, -2500, 4600,
     "Cairnfoot and Kinbrae Community Plan 2024-2029", "Cairnfoot Community Council",
     "2024-03-01", "2029-02-28", "2029-02-28", "adopted",
     ("transport", "health", "food", "greenspace"),
     "Rural priorities: community transport, a village shop and keeping the surgery open."),
    ("CAP-05", "community_action_plan", "Westermuir", 1000, -500, 3500,
     "Westermuir Community Action Plan 2025-2030", "Westermuir Village Association",
     "2025-10-01", "2030-09-30", "2030-09-30", "draft",
     ("environment", "greenspace", "transport"),
     "Draft for consultation: flood resilience, a community woodland and safer roads."),
    ("CAP-06", "community_action_plan", "Craigdrum", 0, 0, 2600,
     "Craigdrum Community-Led Action Plan 2022-2027", "Craigdrum Community Trust",
     "2022-09-01", "2027-08-31", "2026-12-01", "under_review",
     ("employment", "poverty", "health", "housing"),
     "After the pit closures: skills, money advice, and bringing empty homes back into use."),
    ("CAP-07", "community_action_plan", "Auchenbrae", 2500, 1500, 4200,
     "Auchenbrae and Ardlaw Community Action Plan 2019-2024", "Auchenbrae Community Council",
     "2019-07-01", "2024-06-30", "2024-06-30", "expired",
     ("transport", "greenspace", "community_safety"),
     "The first plan for the two villages; a successor plan has not yet been started."),
    ("LPP-01", "local_place_plan", "Kirkton", -300, 200, 3300,
     "Kirkton Local Place Plan", "Kirkton Community Council",
     "2026-04-01", "2036-03-31", "2031-03-31", "draft",
     ("housing", "greenspace", "transport", "environment"),
     "Proposals for the use of land in Kirkton: town centre homes, a green network and an "
     "active travel route to the station."),
    ("LPP-02", "local_place_plan", "Balmore", -3500, 1500, 4200,
     "Balmore and Westermuir Local Place Plan", "Balmore Community Council",
     "2024-05-01", "2034-04-30", "2029-04-30", "adopted",
     ("housing", "greenspace", "environment"),
     "Sites for affordable homes, a protected green belt and a new path between the villages."),
    ("LPP-03", "local_place_plan", "Easter Glen", 0, 0, 2400,
     "Easter Glen Local Place Plan", "Easter Glen Community Council",
     "2025-02-01", "2035-01-31", "2030-01-31", "adopted",
     ("housing", "transport", "greenspace"),
     "A plan for the village green, the old mill site and a safer crossing on the main road."),
    ("LPP-04", "local_place_plan", "Tollmuir", 0, 0, 2800,
     "Tollmuir Local Place Plan", "Tollmuir and District Community Council",
     "2026-06-01", "2036-05-31", "2031-05-31", "draft",
     ("environment", "greenspace", "housing"),
     "Early draft: renewable energy sites, allotments and the future of the former school."),
)

LOIP = ("LOIP", "loip", "Glenarden Local Outcomes Improvement Plan 2023-2033",
        "Glenarden Community Planning Partnership", "2023-04-01", "2033-03-31", "2028-03-31",
        "adopted", ("poverty", "health", "employment", "community_safety", "children_young_people"),
        "The partnership's ten-year plan for the whole council area: tackle poverty, improve "
        "health and wellbeing, and build thriving, safe communities.")
LOCALITY_THEMES = (("poverty", "food", "children_young_people", "employment"),
                   ("health", "housing", "community_safety", "poverty"),
                   ("employment", "poverty", "health", "greenspace"),
                   ("children_young_people", "poverty", "housing", "transport"),
                   ("employment", "health", "poverty", "food"))


def _service_plans(geo: Geography) -> list[Plan]:
    """Children's services for the whole council; health and social care for each half."""
    ward_x = shapely.get_coordinates(shapely.centroid(np.asarray(geo.ward_polys, dtype=object)))
    west = ward_x[:, 0] < geo.council.centroid.x
    halves = [shapely.union_all([p for p, w in zip(geo.ward_polys, west, strict=True) if w == side],
                                grid_size=GRID) for side in (True, False)]
    common = "Glenarden Health and Social Care Partnership"
    return [
        Plan("SP-01", "service_plan", "Glenarden Children's Services Plan 2024-2027",
             "Glenarden Children's Services Partnership", "2024-04-01", "2027-03-31",
             "2027-03-31", "adopted", ("children_young_people", "health", "poverty"),
             "Joint plan of the council, health board and third sector for children, young people "
             "and families across Glenarden.", area=geo.council),
        Plan("SP-02", "service_plan", "West Glenarden Health and Social Care Locality Plan",
             common, "2024-04-01", "2027-03-31", "2027-03-31", "adopted",
             ("health", "housing", "community_safety"),
             "Care at home, falls prevention and mental health support in the western wards.",
             area=halves[0]),
        Plan("SP-03", "service_plan", "East Glenarden Health and Social Care Locality Plan",
             common, "2023-04-01", "2026-03-31", "2026-09-30", "under_review",
             ("health", "food", "poverty"),
             "Being refreshed: community link workers, respite for carers and healthy eating in "
             "the eastern wards.", area=halves[1]),
    ]


def _drawn_plans(rng: np.random.Generator, geo: Geography) -> list[Plan]:
    """The community-led and Local Place Plans, each drawn freely around its settlement."""
    places = {p.name: p.xy for p in PLACES}
    plans = []
    for ref, kind, place, dx, dy, radius, *fields in DRAWN:
        px, py = places[place]
        area = blob(rng, (px + dx, py + dy), radius, geo.council)
        plans.append(Plan(ref, kind, *fields, place=place, area=area))
    return plans


def _locality_members(rng: np.random.Generator, geo: Geography) -> list[list[int]]:
    """Contiguous, non-overlapping groups of 15 to 32 neighbourhoods around each hot spot."""
    xy = shapely.get_coordinates(shapely.centroid(np.asarray(geo.cells, dtype=object)))
    taken: set[int] = set()
    groups = []
    for _, hx, hy in geo.hotspots:
        near = int((np.hypot(xy[:, 0] - hx, xy[:, 1] - hy) < 2500.0).sum())
        size = min(int(rng.integers(18, 33)), max(15, near))
        start = int(np.argmin((xy[:, 0] - hx) ** 2 + (xy[:, 1] - hy) ** 2))
        group = [start]
        while len(group) < size:
            frontier = sorted({j for i in group for j in geo.adj[i]} - taken - set(group))
            # Most deprived first, with a distance penalty that keeps the group compact.
            dist = np.hypot(xy[frontier, 0] - hx, xy[frontier, 1] - hy)
            group.append(frontier[int(np.argmin(geo.rank[frontier] + 2.0 * dist))])
        taken.update(group)
        groups.append(sorted(group))
    return groups


def _area_plans(rng: np.random.Generator, geo: Geography) -> list[Plan]:
    """The LOIP (every neighbourhood) and one Locality Plan per deprivation hot spot."""
    ref, kind, *fields = LOIP
    plans = [Plan(ref, kind, *fields, area=geo.council, codes=list(geo.codes))]
    for n, (members, (name, _, _)) in enumerate(
        zip(_locality_members(rng, geo), geo.hotspots, strict=True), start=1
    ):
        plans.append(Plan(
            f"LOC-{n:02d}", "locality_plan", f"{name} Locality Plan 2023-2028",
            "Glenarden Community Planning Partnership", "2023-04-01", "2028-03-31", "2028-03-31",
            "adopted", LOCALITY_THEMES[n - 1],
            f"Where outcomes are poorest in {name}: the partnership's commitments, agreed with "
            "residents, for the neighbourhoods listed.",
            place=name.split(" ")[0],
            area=shapely.union_all([geo.cells[i] for i in members], grid_size=GRID),
            codes=[geo.codes[i] for i in members],
        ))
    return plans


def build_plans(rng: np.random.Generator, geo: Geography) -> tuple[list[Plan], list[Plan]]:
    """(plans listed by neighbourhood codes, plans with drawn geometry), in file order."""
    return _area_plans(rng, geo), _drawn_plans(rng, geo) + _service_plans(geo)


def to_lonlat(geom: shapely.Geometry) -> shapely.Geometry:
    """An EPSG:27700 geometry in EPSG:4326 (OSTN15), snapped validly to a 1e-6 degree grid."""
    out = shapely.set_precision(geoms_bng_to_lonlat(np.array([geom], dtype=object))[0],
                                LONLAT_GRID)
    if out.is_empty or not out.is_valid:
        raise RuntimeError("sample plan geometry is invalid after conversion to lon/lat")
    return out
