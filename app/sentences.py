"""The sentences the library writes for files and the CLI, written again for a page in the
reader's language from the same values: the sliver rule, what shares are measured over, what
outcome figures are over, how the notification list decides "within" and "adjoins", and the
area a query asked about.

The library's English (src/capmap) stays the wording of downloads and JSON; these give the same
English on an English page (tests/test_sentences.py holds them equal)."""

from __future__ import annotations

import re
from collections.abc import Callable

from babel import numbers
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from app import messages
from app.i18n import language, number, percent
from capmap.services import places, planscape

# The planscape's measures are constants of the library, known here by their wording.
_MEASURES = [
    (re.escape(planscape.LAND_MEASURE).replace(r"\{layer\}", "(?P<layer>.+)"),
     _l("land: the part inside the neighbourhood layer (%(layer)s), which leaves out the sea, "
        "large lochs and rivers")),
    (re.escape(planscape.AREA_MEASURE),
     _l("area: no neighbourhood layer is loaded to tell land from water")),
    (re.escape(places.PARTIAL_MEASURE),
     _l("the neighbourhoods holding at least one of its postcodes (each postcode by its point)")),
]
MEASURES = [(re.compile(pattern, re.DOTALL), sentence) for pattern, sentence in _MEASURES]


def _metres(value: float) -> str:
    """A length as the library writes it ({:g}: no trailing zeros), in the language's digits."""
    return numbers.format_decimal(value, "#,##0.######", locale=language())


def sliver_rule(slivers: dict) -> str:
    """SliverTolerance.sentence() for the page, from its described() values."""
    return gettext("overlaps below %(share)s of the area asked about and of the plan, and "
                   "narrower than %(width)s m", share=percent(slivers["max_share"], 1),
                   width=_metres(slivers["max_width_m"]))


def measure(text: str) -> str:
    """What shares are measured over (the planscape's or a postcode's measure)."""
    return messages.shaped(text, MEASURES)


def over(area: dict | None) -> str:
    """outcomes.over_sentence() for the page, from the same area figures."""
    if area is None or area["areas"] == 0:
        return gettext("no data zones with a population are covered")
    text = ngettext("over %(residents)s residents of %(num)s data zone; ranks are "
                    "population-weighted means (1 = most deprived)",
                    "over %(residents)s residents of %(num)s data zones; ranks are "
                    "population-weighted means (1 = most deprived)",
                    area["areas"], residents=number(area["residents"]))
    cut = area["areas_cut"]
    if cut:
        text += ngettext("; %(num)s zone cut by the boundary is apportioned by area (residents "
                         "counted in proportion to the share of a zone's area inside)",
                         "; %(num)s zones cut by the boundary are apportioned by area (residents "
                         "counted in proportion to the share of a zone's area inside)",
                         cut)
    return text


def notify_tolerance(tolerance: dict) -> str:
    """lpp_notify.tolerance_sentence() for the page, from the list's "tolerance" values."""
    return gettext("A ward or community council is within the area when it overlaps it by more "
                   "than a sliver (%(rule)s count as slivers). A community council adjoins the "
                   "area when it touches it, meets it only in a sliver, or comes within "
                   "%(metres)s m of it.", rule=sliver_rule(tolerance["slivers"]),
                   metres=_metres(tolerance["adjoin_m"]))


def area(asked: dict, name_of: Callable[[str], str]) -> str:
    """The area a query (its `described` with its kind) asked about, in words; `name_of` names
    a code of its layer."""
    if asked.get("source") == "upload":
        return gettext("the boundary in %(file)s", file=asked["file"])
    if asked["kind"] == "polygon":
        drawn = asked.get("source") == "drawn"
        return gettext("the area you drew") if drawn else gettext("the area in this link")
    shown = [name_of(c) for c in asked["codes"][:3]]
    more = len(asked["codes"]) - len(shown)
    words = ", ".join(shown) + (gettext(" and %(more)s more", more=more) if more else "")
    if asked.get("postcode"):
        return gettext("postcode %(postcode)s (%(areas)s)", postcode=asked["postcode"], areas=words)
    return words


def init_app(app) -> None:
    """The page sentences as template globals."""
    app.add_template_global(measure, "measure_words")
    app.add_template_global(over, "over_words")
    app.add_template_global(notify_tolerance, "notify_tolerance")
