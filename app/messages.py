"""The library's error messages that the public meets, in the request's language.

capmap's library writes its messages in English, with the values that caused them (the JSON
API and the CLI answer with those). A page shows them through `public()`, which knows each
message by its shape and fills the catalogue's sentence with the same values. A message of no
known shape is shown as it is: a new library message is never hidden, only untranslated until
a pattern and a catalogue entry are added here (tests/test_i18n_messages.py triggers each).
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

_SHAPES = [
    (r"(?P<name>lon|lat) must be a number, got (?P<value>'.*')",
     _l("%(name)s must be a number, got %(value)s")),
    (r"no place given: click the map, search a postcode or choose a neighbourhood",
     _l("no place given: click the map, search a postcode or choose a neighbourhood")),
    (r"choose a category; expected one of (?P<known>.+)",
     _l("choose a category; expected one of %(known)s")),
    (r"describe the problem", _l("describe the problem")),
    (r"the description has (?P<has>[\d,]+) characters; the limit is (?P<limit>[\d,]+)",
     _l("the description has %(has)s characters; the limit is %(limit)s")),
    (r"the contact details have (?P<has>\d+) characters; the limit is (?P<limit>\d+)",
     _l("the contact details have %(has)s characters; the limit is %(limit)s")),
    (r"(?P<value>'.*') is not a full postcode; expected one like EH1 1AA",
     _l("%(value)s is not a full postcode; expected one like EH1 1AA")),
    (r"postcode (?P<postcode>.+) is not in our list; try a neighbourhood instead",
     _l("postcode %(postcode)s is not in our list; try a neighbourhood instead")),
    (r"neighbourhood (?P<code>'.*') not found", _l("neighbourhood %(code)s not found")),
    (r"email updates need an email address in the contact box; got (?P<got>.+)",
     _l("email updates need an email address in the contact box; got %(got)s")),
    (r"this follow link is not known; check it was copied whole",
     _l("this follow link is not known; check it was copied whole")),
    (r"there is no plan (?P<plan>\d+); see the list of plans on the map page",
     _l("there is no plan %(plan)s; see the list of plans on the map page")),
    (r"no neighbourhood layer is loaded", _l("no neighbourhood layer is loaded")),
    (r"the polygon is empty", _l("the polygon is empty")),
    (r"expected a Polygon or MultiPolygon, got (?P<got>\w+)",
     _l("expected a Polygon or MultiPolygon, got %(got)s")),
    (r"Something went wrong on our side\.", _l("Something went wrong on our side.")),
    (r"the server has no room left on its disk; nothing was kept\. Try again later",
     _l("the server has no room left on its disk; nothing was kept. Try again later")),
    (r"this site does not answer to the host name in the request; its operator lists the names "
     r"it answers to in TRUSTED_HOSTS",
     _l("this site does not answer to the host name in the request; its operator lists the "
        "names it answers to in TRUSTED_HOSTS")),
]
SHAPES = [(re.compile(pattern, re.DOTALL), sentence) for pattern, sentence in _SHAPES]


def public(message: str) -> str:
    """`message` in the request's language when its shape is known, else as it is."""
    return shaped(message, SHAPES)


def shaped(message: str, shapes: list) -> str:
    """`message` as the catalogue's sentence of the first of `shapes` (compiled pattern,
    sentence) it matches whole, filled with the values matched; else as it is."""
    for shape, sentence in shapes:
        found = shape.fullmatch(message)
        if found:
            return str(sentence) % found.groupdict() if found.groupdict() else str(sentence)
    return message
