"""What the Local Place Plan register shows: the councils with their counts, one council's
register (public entries, or every stage for the council's staff), as JSON, table rows and a
frame for GIS files."""

from __future__ import annotations

from datetime import date

import geopandas as gpd

from capmap.services.engine import Engine
from capmap.services.lpp_register import LABELS, PUBLIC_STATUSES, STATUSES, check_council_code
from capmap.storage import Store

CSV_COLUMNS = ["plan_ref", "title", "community_body", "council_code", "status", "proposed_on",
               "submitted_on", "validated_on", "registered_on", "not_registered_on",
               "removed_on", "reason", "link"]
# The dates the public register carries: the earlier ones belong to the working record.
PUBLIC_DATES = ("registered_on", "removed_on")


def council_names(engine: Engine) -> dict[str, str]:
    """Council code to name, from the current council layers (a few dozen areas in memory)."""
    names: dict[str, str] = {}
    for state in engine.layers().values():
        if state.layer.kind == "council":
            names.update(zip(state.areas["code"], state.areas["name"], strict=True))
    return names


def known_councils(engine: Engine, store: Store) -> set[str]:
    """Councils with a register: those of the council layers and of any Local Place Plan."""
    return set(council_names(engine)) | store.lpp_councils()


def shown_statuses(staff: bool) -> tuple[str, ...]:
    """The statuses a person sees: every stage for the council's staff, else the public ones."""
    return STATUSES if staff else PUBLIC_STATUSES


def register_index(engine: Engine, store: Store, staff_of) -> list[dict]:
    """Every known council with its entries per status, counted in SQL; `staff_of(code)` says
    whether the person asking sees every stage of that council."""
    names = council_names(engine)
    counts: dict[str, dict[str, int]] = {}
    for code, status, n in store.lpp_counts():
        counts.setdefault(code or "", {})[status] = n
    rows = []
    for code in sorted(known_councils(engine, store), key=lambda c: (names.get(c, c), c)):
        shown = shown_statuses(staff_of(code))
        by_status = {st: counts.get(code, {}).get(st, 0) for st in shown}
        rows.append({"council_code": code, "council_name": names.get(code, code),
                     "counts": by_status, "entries": sum(by_status.values()),
                     "registered": by_status["registered"]})
    return rows


def entry_json(entry: dict, staff: bool) -> dict:
    """One entry as the register shows it: dates as ISO text; for the public only the
    registration and removal dates."""
    dates = [f"{st}_on" for st in STATUSES] if staff else list(PUBLIC_DATES)
    row = {"plan_id": int(entry["id"]), "plan_ref": entry["ref"], "title": entry["title"],
           "community_body": entry["community_body"], "council_code": entry["council_code"],
           "status": entry["status"], "status_label": LABELS[entry["status"]],
           "reason": entry["reason"], "link": entry["link"]}
    row.update({d: entry[d].isoformat() if isinstance(entry[d], date) else None for d in dates})
    return row


def council_register(engine: Engine, store: Store, code: str, staff: bool) -> dict:
    """One council's register: its entries of the statuses shown, counts per status, and for
    staff the council's Local Place Plans not yet entered. 404 for an unknown council."""
    check_council_code(code, known_councils(engine, store))
    statuses = shown_statuses(staff)
    entries = [entry_json(e, staff) for e in store.lpp_entries(code, statuses)]
    counts = dict.fromkeys(statuses, 0)
    for entry in entries:
        counts[entry["status"]] += 1
    return {"council_code": code, "council_name": council_names(engine).get(code, code),
            "all_stages": staff, "statuses_shown": list(statuses), "counts": counts, "entries": entries,
            "not_entered": store.lpp_unentered(code) if staff else [],
            "bounds": store.lpp_bounds(code, statuses)}


def register_frame(store: Store, code: str, staff: bool) -> gpd.GeoDataFrame:
    """One council's entries shown to this person, with their plans' areas, for GIS files."""
    frame = store.lpp_frame(code, shown_statuses(staff)).rename(columns={"ref": "plan_ref",
                                                                         "id": "plan_id"})
    hidden = [f"{st}_on" for st in STATUSES if not staff and f"{st}_on" not in PUBLIC_DATES]
    return frame.drop(columns=["owner", *hidden])


def csv_rows(register: dict) -> tuple[list[dict], list[str]]:
    """The register's entries as CSV rows, and its columns (the public register: only the
    registration and removal dates)."""
    every_stage = register["all_stages"]
    return register["entries"], [c for c in CSV_COLUMNS
                                 if every_stage or not c.endswith("_on") or c in PUBLIC_DATES]
