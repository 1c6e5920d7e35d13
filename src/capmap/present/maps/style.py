"""Colours and line styles shared by every map."""

from __future__ import annotations

# One colour per plan type; chosen to stay distinguishable for the common colour-vision deficiencies.
PLAN_COLOURS = {
    "loip": "#4d4d4d",
    "locality_plan": "#d55e00",
    "community_action_plan": "#0072b2",
    "local_place_plan": "#009e73",
    "service_plan": "#cc79a7",
    "other": "#e69f00",
}
PLAN_LABELS = {
    "loip": "Local Outcomes Improvement Plan",
    "locality_plan": "Locality Plan",
    "community_action_plan": "Community-led action plan",
    "local_place_plan": "Local Place Plan",
    "service_plan": "Service plan",
    "other": "Other plan",
}
# SIMD quintile 1 (most deprived) to 5: a sequential scheme, darkest for the most deprived.
QUINTILE_COLOURS = {1: "#7a0177", 2: "#c51b8a", 3: "#f768a1", 4: "#fbb4b9", 5: "#feebe2"}
NO_DATA_COLOUR = "#cccccc"

BOUNDARY_LINE = {"council": ("#000000", 3), "ward": ("#333333", 2), "intermediate": ("#555555", 1)}


def area_style(kind: str) -> dict:
    """Outline-only style for a boundary layer of a kind."""
    colour, weight = BOUNDARY_LINE.get(kind, ("#666666", 1))
    return {"color": colour, "weight": weight, "fill": False}


def quintile_fill(quintile: int | None) -> str:
    """Fill colour for a SIMD quintile (None for unknown)."""
    return QUINTILE_COLOURS.get(quintile, NO_DATA_COLOUR) if quintile else NO_DATA_COLOUR
