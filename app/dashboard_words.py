"""The words of the officers' dashboards that the library writes in English: the equity chart
(capmap.present.dashboards.EQUITY_WORDS) and the scope the engagement figures are over
(capmap.services.scope: its statement and rule, which the JSON keeps in English), in the
request's language."""

from __future__ import annotations

import re

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app import i18n, messages

# How the areas of a scope were chosen, by the shapes capmap.services.scope writes them in.
_RULES = [
    (r"every area of the layer", _l("every area of the layer")),
    (r"the area (?P<code>.+) of (?P<layer>.+)", _l("the area %(code)s of %(layer)s")),
    (r"the areas whose council is (?P<code>.+)", _l("the areas whose council is %(code)s")),
    (r"the areas whose inner point is inside (?P<code>.+) of (?P<layer>.+)",
     _l("the areas whose inner point is inside %(code)s of %(layer)s")),
    (r"campaign (?P<campaign>.+) has no response in this layer: every area",
     _l("campaign %(campaign)s has no response in this layer: every area")),
    (r"campaign (?P<campaign>.+): the councils holding at least (?P<share>\d+%) of its responses",
     _l("campaign %(campaign)s: the councils holding at least %(share)s of its responses")),
    (r"campaign (?P<campaign>.+): the areas holding at least (?P<share>\d+%) of its responses",
     _l("campaign %(campaign)s: the areas holding at least %(share)s of its responses")),
]
RULES = [(re.compile(pattern, re.DOTALL), sentence) for pattern, sentence in _RULES]


def equity_words() -> dict[str, str]:
    """The equity chart's quintile labels, series names and title in the request's language."""
    return {"quintile": gettext("Q%(quintile)s"),
            "population": gettext("Share of population"),
            "responses": gettext("Share of responses"),
            "title": gettext("Share of responses against share of population by SIMD quintile "
                             "(Q1 most deprived)")}


def scope_rule(rule: str) -> str:
    """How the scope's areas were chosen, in the request's language when its shape is known."""
    return messages.shaped(rule, RULES)


def scope_statement(scope: dict, parts: dict) -> str:
    """The areas the figures are over, as capmap.services.scope.Scope.describe states them:
    count, layer, the place when the scope is not the whole layer, population, and how many
    areas have no population recorded. `parts` are the view's scope_parts."""
    values = {"count": i18n.number(scope["areas"]), "layer": parts["layer"],
              "where": scope["label"], "people": i18n.number(scope["population"]),
              "unknown": i18n.number(parts["unknown_population"])}
    whole = scope["kind"] == "layer"
    if parts["unknown_population"]:
        if whole:
            return gettext("over the %(count)s areas of %(layer)s, population %(people)s "
                           "(%(unknown)s areas of unknown population)", **values)
        return gettext("over the %(count)s areas of %(layer)s in %(where)s, population "
                       "%(people)s (%(unknown)s areas of unknown population)", **values)
    if whole:
        return gettext("over the %(count)s areas of %(layer)s, population %(people)s", **values)
    return gettext("over the %(count)s areas of %(layer)s in %(where)s, population %(people)s",
                   **values)
