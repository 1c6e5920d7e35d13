"""The sample's Local Place Plan register: the steps the council recorded for each of the four
Local Place Plans, so the register holds a plan at each stage (registered, removed, submitted
and not registered with the reasons)."""

from __future__ import annotations

STEP_COLUMNS = ("plan_ref", "to", "on", "reason", "community_body")

# In the order they happened to each plan (dates on or before the data set's 2026-11-01).
STEPS = (
    ("LPP-02", "proposed", "2023-09-04", "", "Balmore Community Council"),
    ("LPP-02", "submitted", "2024-01-15", "", ""),
    ("LPP-02", "validated", "2024-02-12", "", ""),
    ("LPP-02", "registered", "2024-03-04", "", ""),
    ("LPP-03", "submitted", "2024-10-07", "", "Easter Glen Community Council"),
    ("LPP-03", "validated", "2024-11-04", "", ""),
    ("LPP-03", "registered", "2024-11-25", "", ""),
    ("LPP-03", "removed", "2026-06-30", "Removed at the request of Easter Glen Community "
     "Council, which is preparing a revised plan for the old mill site.", ""),
    ("LPP-01", "proposed", "2025-11-03", "", "Kirkton Community Council"),
    ("LPP-01", "submitted", "2026-09-14", "", ""),
    ("LPP-04", "submitted", "2026-02-02", "", "Tollmuir and District Community Council"),
    ("LPP-04", "not_registered", "2026-03-16", "Not valid: the proposed plan was not sent to "
     "the councillors for the area or to the adjoining community councils before it was "
     "submitted (regulation 4), and no statement of how the requirements were met came with it "
     "(regulation 5).", ""),
)


def build_register() -> list[tuple[str, ...]]:
    """The register steps as rows of STEP_COLUMNS."""
    return [tuple(step) for step in STEPS]
