"""Atom 1.0 feeds (RFC 4287) of plan updates, from the history of plans and actions.

Each entry is one history row: its id a urn:uuid made from the database's id and the row's id
(the same entry keeps its id for ever, on every server of one database), updated its time, the
plan's owner (the partnership) its author. Who made the change is never in a feed: it is public.
Area changes are named without their values (long WKT).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from capmap.storage.edits import CREATED, REMOVED

ATOM = "http://www.w3.org/2005/Atom"
HIDDEN_VALUES = frozenset({"geom", "area_codes"})
EMPTY_FEED_UPDATED = datetime(2016, 4, 1, tzinfo=UTC)  # a feed with no entries never changed
ET.register_namespace("", ATOM)


def entry_id(database_id: str, change_id: int) -> str:
    """The permanent id of the entry of one history row."""
    return _uuid(f"capmap:{database_id}:change:{change_id}")


def feed_id(database_id: str, key: str) -> str:
    """The permanent id of one feed (`key`: its path and filter)."""
    return _uuid(f"capmap:{database_id}:feed:{key}")


def _uuid(name: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def entry_title(row: dict) -> str:
    """'action ACT-0001: status changed', 'plan LP-1 added', 'action A2 removed'."""
    if row["field"] == CREATED:
        return f"{row['record']} {row['ref']} added"
    if row["field"] == REMOVED:
        return f"{row['record']} {row['ref']} removed"
    return f"{row['record']} {row['ref']}: {row['field'].replace('_', ' ')} changed"


def entry_text(row: dict) -> str:
    """What changed, in words: the old and new values (titles for additions and removals)."""
    if row["field"] == CREATED:
        return f"Added: {row['new_value'] or ''}"
    if row["field"] == REMOVED:
        return f"Removed: {row['old_value'] or ''}"
    if row["field"] in HIDDEN_VALUES:
        return "The area changed."
    return f"From {row['old_value'] or '(empty)'} to {row['new_value'] or '(empty)'}."


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def atom_feed(rows: list[dict], *, feed_id: str, title: str, self_url: str, page_url: str,
              plan_url: Callable[[int], str], database_id: str) -> bytes:
    """The feed of history rows (Store.feed_changes, newest first) as UTF-8 Atom XML."""
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(feed, "updated", _stamp(rows[0]["at"] if rows else EMPTY_FEED_UPDATED))
    _sub(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    _sub(feed, "link", rel="alternate", href=page_url, type="text/html")
    _sub(_sub(feed, "author"), "name", "capmap")
    for row in rows:
        entry = _sub(feed, "entry")
        _sub(entry, "id", entry_id(database_id, row["id"]))
        plan = f"{row['plan_title']}: " if row["plan_title"] else ""
        _sub(entry, "title", plan + entry_title(row))
        _sub(entry, "updated", _stamp(row["at"]))
        _sub(entry, "link", rel="alternate", href=plan_url(row["plan_id"]), type="text/html")
        _sub(_sub(entry, "author"), "name", row["plan_owner"] or "capmap")
        _sub(entry, "content", entry_text(row)[:2000], type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
