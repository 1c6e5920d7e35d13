"""SMART actions for the sample plans: who leads, what, by when, with what, measured how."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from capmap.core.crs import bng_to_lonlat
from capmap.sample.areas import COUNCIL_NAME
from capmap.sample.geo import PLACES, points_in
from capmap.sample.plans import Plan

AS_OF = date(2026, 11, 1)
ACTION_COLUMNS = ("ref", "plan_ref", "title", "description", "theme", "lead", "lead_type",
                  "partners", "resources", "measure", "target_date", "status", "progress_note",
                  "updated", "lon", "lat")
PER_PLAN = {"loip": 41, "locality_plan": 22, "community_action_plan": 10, "local_place_plan": 10,
            "service_plan": 13}

# theme -> (title, description, measure); {place} and {n} are filled in.
TEMPLATES = {
    "health": (("Walking groups in {place}", "Start weekly led walks open to all ages and "
                "abilities in {place}.", "Regular walkers (baseline 0, target {n})"),
               ("Community link worker in {place} surgeries", "Fund a link worker to connect "
                "patients with local groups and advice.", "People referred (target {n} a year)"),
               ("Mental health first aid training", "Train volunteers and staff in {place} in "
                "mental health first aid.", "People trained (target {n})")),
    "housing": (("Bring empty homes back into use", "Work with owners of long-term empty "
                 "properties in {place}.", "Empty homes reoccupied (target {n})"),
                ("Energy advice sessions", "Monthly drop-ins in {place} on heating costs and "
                 "insulation grants.", "Households advised (target {n})"),
                ("Affordable homes on the {place} site", "Agree a development brief for mixed "
                 "tenure homes.", "Homes with planning consent (target {n})")),
    "transport": (("Demand-responsive bus for {place}", "Pilot a bookable minibus linking "
                   "{place} with the health centre.", "Passenger trips (target {n} a year)"),
                  ("Safer routes to school", "Lower speeds and add crossings on routes to "
                   "{place} schools.", "Pupils walking or cycling (target {n} %)"),
                  ("Active travel path", "Build a lit path between {place} and the station.",
                   "Metres of path completed (target {n})")),
    "employment": (("Local jobs fair", "Hold an annual jobs and training fair in {place}.",
                    "People attending (target {n})"),
                   ("Employability key worker", "Offer one-to-one support into work for "
                    "residents of {place}.", "People into work or training (target {n})"),
                   ("Community benefit clauses", "Use contracts to create local apprenticeships.",
                    "Apprenticeships created (target {n})")),
    "community_safety": (("Street lighting audit", "Walk {place} at night with residents and "
                          "fix the gaps.", "Lights repaired or added (target {n})"),
                         ("Youth diversion evenings", "Friday evening sport and music sessions "
                          "in {place}.", "Young people attending (target {n} a week)"),
                         ("Home fire safety visits", "Offer home fire safety visits to older "
                          "residents.", "Visits completed (target {n})")),
    "environment": (("Community clean-ups", "Quarterly litter picks with schools and groups in "
                     "{place}.", "Bags of litter collected (target {n})"),
                    ("Flood resilience plan", "Prepare a community flood plan and stores for "
                     "{place}.", "Households signed up to alerts (target {n})"),
                    ("Community energy feasibility", "Study a community-owned renewable scheme.",
                     "Study completed and options costed ({n} options)")),
    "children_young_people": (("Holiday food and fun", "Free meals and activities for children "
                               "in {place} in every school holiday.", "Children taking part "
                               "(target {n})"),
                              ("Youth forum", "Set up a youth forum that reports to the "
                               "partnership.", "Meetings held (target {n} a year)"),
                              ("Family learning", "Parent and child learning sessions in "
                               "{place} nurseries.", "Families taking part (target {n})")),
    "food": (("Community pantry", "Open a membership pantry with low-cost food in {place}.",
              "Members (target {n})"),
             ("Community growing space", "Create raised beds and a polytunnel for shared "
              "growing.", "Growers taking part (target {n})"),
             ("Cooking on a budget", "Run cooking courses for families and older people.",
              "Courses delivered (target {n})")),
    "greenspace": (("Park improvements in {place}", "Refurbish the play park and add seating "
                    "and planting.", "Park user satisfaction (target {n} %)"),
                   ("Friends of the park group", "Support residents to form a friends group "
                    "for {place} park.", "Active volunteers (target {n})"),
                   ("Community woodland", "Plant and manage a community woodland near "
                    "{place}.", "Trees planted (target {n})")),
    "poverty": (("Money advice outreach", "Benefits and debt advice in {place} community "
                 "venues.", "Income gained for residents (target £{n},000)"),
                ("Warm spaces", "Open warm, welcoming spaces through the winter in {place}.",
                 "Visits (target {n})"),
                ("Cost of the school day", "Remove hidden costs of school for low-income "
                 "families.", "Schools with a cost of the school day policy (target {n})")),
}
LEADS = {
    "community": ("{place} Community Council", "{place} Development Trust",
                  "{place} Residents' Association", "Friends of {place} Park"),
    "public_body": ("Glenarden Council", "NHS Glenarden", "Glenarden Health and Social Care "
                    "Partnership", "Glenarden Police Area Command", "Glenarden Fire and Rescue"),
    "third_sector": ("Glenarden Voluntary Action", "Glenarden Food Network", "Glenarden "
                     "Citizens Advice", "{place} Youth Project", "Greenways Glenarden"),
    "partnership": ("Glenarden Community Planning Partnership", "Glenarden Employability "
                    "Partnership", "Glenarden Community Safety Partnership",
                    "{place} Locality Partnership"),
}
LEAD_TYPES = tuple(LEADS)
LEAD_MIX = {"community": (0.55, 0.15, 0.2, 0.1), "area": (0.1, 0.4, 0.2, 0.3),
            "service": (0.0, 0.6, 0.15, 0.25)}
FUNDS = ("Community Regeneration Fund", "participatory budgeting round", "council core budget",
         "lottery community grant", "Place Investment Fund", "health improvement budget")
NOTES = {
    "not_started": ("Not started: waiting for a funding decision.", "Not started: lead post is "
                    "vacant.", "Not started: due to begin next financial year."),
    "in_progress": ("On track; about {p} % of the target reached.", "Under way; about {p} % of "
                    "the target reached, some delay over the winter."),
    "completed": ("Completed and reported to the partnership board.", "Completed; target met "
                  "and activity continues from core budgets."),
    "stalled": ("Stalled: funding ended before the work was finished.", "Stalled: not enough "
                "volunteers to keep it going.", "Stalled: land ownership not resolved."),
    "cancelled": ("Cancelled: no longer a priority after the annual review.", "Cancelled: "
                  "replaced by a council-wide programme."),
}
STATUSES = ("not_started", "in_progress", "completed", "stalled", "cancelled")
PAST_MIX = (0.05, 0.18, 0.6, 0.12, 0.05)
FUTURE_MIX = (0.35, 0.45, 0.1, 0.07, 0.03)


def _day(rng: np.random.Generator, start: date, end: date) -> date:
    """A uniformly random day from start to end inclusive."""
    return start + timedelta(days=int(rng.integers(0, max((end - start).days, 0) + 1)))


def _pick(rng: np.random.Generator, options: tuple, p: tuple | None = None):
    """One element of a tuple (numpy's choice would turn tuples of tuples into arrays)."""
    return options[int(rng.choice(len(options), p=p))]


def _lead(rng: np.random.Generator, plan: Plan) -> tuple[str, str, str]:
    """(lead, lead_type, partners) for an action in a plan."""
    group = {"community_action_plan": "community", "local_place_plan": "community",
             "service_plan": "service"}.get(plan.type, "area")
    # Council-wide plans name community groups of one of the settlements.
    place = _pick(rng, PLACES).name if plan.place == COUNCIL_NAME else plan.place
    lead_type = _pick(rng, LEAD_TYPES, LEAD_MIX[group])
    lead = _pick(rng, LEADS[lead_type]).format(place=place)
    partners: list[str] = []
    for _ in range(int(rng.integers(1, 4))):
        name = _pick(rng, LEADS[_pick(rng, LEAD_TYPES)]).format(place=place)
        if name != lead and name not in partners:
            partners.append(name)
    return lead, lead_type, ";".join(partners)


def _resources(rng: np.random.Generator) -> str:
    """A short resources statement: money, staff time or volunteers."""
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return f"£{int(rng.integers(2, 60))},000 from the {_pick(rng, FUNDS)}"
    if kind == 1:
        return f"{_pick(rng, ('0.2', '0.5', '1.0'))} FTE officer time from existing budgets"
    if kind == 2:
        return f"Volunteer time, about {int(rng.integers(2, 11)) * 5} hours a month"
    return f"£{int(rng.integers(1, 15))},500 and venue space in kind"


def _timing(rng: np.random.Generator, plan: Plan) -> tuple[date, str, date]:
    """(target date, status, last updated) consistent with the plan period and AS_OF."""
    start, end = date.fromisoformat(plan.start), date.fromisoformat(plan.end)
    target = _day(rng, start + timedelta(days=180), end)
    status = _pick(rng, STATUSES, PAST_MIX if target < AS_OF else FUTURE_MIX)
    latest = min(AS_OF, end + timedelta(days=90))
    updated = _day(rng, max(start, latest - timedelta(days=420)), latest)
    return target, status, updated


def _location(rng: np.random.Generator, plan: Plan) -> tuple[str, str]:
    """A (lon, lat) text pair inside the plan area for about 40 % of actions, else blanks."""
    if rng.random() >= 0.4 or plan.area is None:
        return "", ""
    e, n = points_in(rng, plan.area, 1, margin=25.0)[0]
    lon, lat = bng_to_lonlat(np.array([e]), np.array([n]))
    return f"{lon[0]:.6f}", f"{lat[0]:.6f}"


def _action(rng: np.random.Generator, plan: Plan, ref: str) -> list[str]:
    """One action row in ACTION_COLUMNS order."""
    theme = _pick(rng, plan.themes)
    title, description, measure = _pick(rng, TEMPLATES[theme])
    n = int(rng.integers(2, 40)) * 5
    lead, lead_type, partners = _lead(rng, plan)
    target, status, updated = _timing(rng, plan)
    note = _pick(rng, NOTES[status]).format(p=int(rng.integers(2, 19)) * 5)
    lon, lat = _location(rng, plan)
    return [ref, plan.ref, title.format(place=plan.place), description.format(place=plan.place),
            theme, lead, lead_type, partners, _resources(rng), measure.format(n=n),
            target.isoformat(), status, note, updated.isoformat(), lon, lat]


def build_actions(rng: np.random.Generator, plans: list[Plan]) -> list[list[str]]:
    """About 300 actions, numbered ACT-0001 upwards, plan by plan."""
    rows: list[list[str]] = []
    for plan in plans:
        for _ in range(PER_PLAN[plan.type]):
            rows.append(_action(rng, plan, f"ACT-{len(rows) + 1:04d}"))
    return rows
