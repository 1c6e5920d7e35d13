"""The words pages show for the library's codes (plan types, statuses, pin categories, themes,
age bands, layer kinds) and for HTTP errors, marked for translation.

The library keeps codes ("in_progress") and English labels of its own (capmap.core.models, for the
CLI and the files); pages show these instead, in the request's language. The English text of
each is what pages showed before the catalogues: a code with its underscores as spaces, or the
library's label.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PLAN_TYPES = {
    "loip": _l("Local Outcomes Improvement Plan"),
    "locality_plan": _l("Locality Plan"),
    "community_action_plan": _l("Community-led action plan"),
    "local_place_plan": _l("Local Place Plan"),
    "service_plan": _l("Service plan"),
    "other": _l("Other plan"),
}
# The same types as short words in running text ("locality plan"), as pages wrote them.
PLAN_TYPE_WORDS = {
    "loip": _l("loip"),
    "locality_plan": _l("locality plan"),
    "community_action_plan": _l("community action plan"),
    "local_place_plan": _l("local place plan"),
    "service_plan": _l("service plan"),
    "other": _l("other"),
}
PLAN_STATUSES = {"adopted": _l("adopted"), "draft": _l("draft"), "under_review": _l("under review"),
                 "expired": _l("expired"),
                 # the other statuses that count a plan in force (capmap.services.gaprules)
                 "approved": _l("approved"), "current": _l("current"), "active": _l("active"),
                 "in_force": _l("in force")}
ACTION_STATUSES = {"not_started": _l("not started"), "in_progress": _l("in progress"),
                   "completed": _l("completed"), "stalled": _l("stalled"), "cancelled": _l("cancelled")}
PIN_STATUSES = {"pending": _l("pending"), "published": _l("published"), "hidden": _l("hidden"),
                "resolved": _l("resolved")}
# A Local Place Plan's stage in its council's register (capmap.services.lpp_register.LABELS).
LPP_STATUSES = {"proposed": _l("Proposed"), "submitted": _l("Submitted"),
                "validated": _l("Validated"), "registered": _l("Registered"),
                "not_registered": _l("Not registered"), "removed": _l("Removed from the register")}
# Where a pin stands, as its follow page and the emails to its follower say it.
FOLLOW_STATUSES = {"pending": _l("waiting for a moderator"), "published": _l("on the public map"),
                   "hidden": _l("not shown on the public map"), "resolved": _l("resolved")}
PIN_CATEGORIES = {
    "potholes_roads": _l("Potholes and roads"),
    "street_lighting": _l("Street lighting"),
    "litter_flytipping": _l("Litter and fly-tipping"),
    "antisocial_behaviour": _l("Antisocial behaviour"),
    "green_space": _l("Parks and green space"),
    "housing_repairs": _l("Housing repairs"),
    "transport": _l("Buses and transport"),
    "other": _l("Something else"),
}
THEMES = {
    "health": _l("health"), "housing": _l("housing"), "transport": _l("transport"),
    "employment": _l("employment"), "community_safety": _l("community safety"),
    "environment": _l("environment"), "children_young_people": _l("children young people"),
    "food": _l("food"), "greenspace": _l("greenspace"), "poverty": _l("poverty"),
}
# How a response was given (capmap.core.models.CHANNELS).
CHANNELS = {"online": _l("online"), "paper": _l("paper"), "event": _l("event"),
            "street_stall": _l("street stall")}
LEAD_TYPES = {"community": _l("community"), "public_body": _l("public body"),
              "third_sector": _l("third sector"), "partnership": _l("partnership")}
LAYER_KINDS = {"council": _l("council"), "neighbourhood": _l("neighbourhood"),
               "intermediate": _l("intermediate"), "ward": _l("ward"), "locality": _l("locality"),
               "community": _l("community")}
AGE_BANDS = {"16-24": _l("16-24"), "25-44": _l("25-44"), "45-64": _l("45-64"), "65+": _l("65+")}
# Why a plan's review falls when it does (capmap.services.gaprules.review_date).
REVIEW_BASES = {"review_due": _l("review due"), "period_end": _l("period end"),
                "unknown": _l("unknown"), "5 years after period_start": _l("5 years after period start")}
# Fields named on public pages (the SMART elements an action lacks, the fields of its history).
FIELDS = {"lead": _l("lead"), "measure": _l("measure"), "target_date": _l("target date"),
          "resources": _l("resources"), "status": _l("status"), "title": _l("title"),
          "progress_note": _l("progress note"), "percent_complete": _l("percent complete"),
          "theme": _l("theme"), "description": _l("description")}
RECORDS = {"plan": _l("plan"), "action": _l("action")}
# A moderator's decisions on a pin, as its history lists them.
DECISIONS = {"publish": _l("publish"), "resolve": _l("resolve"), "hide": _l("hide")}

# Staff accounts' roles (capmap.storage.users.ROLES).
ROLES = {"officer": _l("officer"), "moderator": _l("moderator"), "planner": _l("planner"),
         "admin": _l("admin")}
# What an uploaded file holds (capmap.services.uploads.KINDS).
IMPORT_KINDS = {"boundaries": _l("boundaries"), "plans": _l("plans"), "actions": _l("actions"),
                "responses": _l("responses"), "postcodes": _l("postcodes")}
# The labels of the edit forms' fields (capmap.services.editing.FIELDS, whose own labels are
# the English ones).
EDIT_FIELDS = {"title": _l("Title"), "summary": _l("Summary"), "status": _l("Status"),
               "review_due": _l("Review due"), "percent_complete": _l("Percentage complete"),
               "progress_note": _l("Progress note"), "target_date": _l("Target date"),
               "lead": _l("Lead"), "resources": _l("Resources")}
# The plan fields an import reads from a column (capmap.io.prepare.PlanFields), as the import
# form names them.
PLAN_COLUMNS = {"ref": _l("ref"), "title": _l("title"), "type": _l("type"), "owner": _l("owner"),
                "council_code": _l("council code"), "period_start": _l("period start"),
                "period_end": _l("period end"), "review_due": _l("review due"),
                "status": _l("status"), "themes": _l("themes"), "link": _l("link"),
                "summary": _l("summary")}

# Looked up in this order when a page does not say which kind of code it shows; a code of
# several kinds ("community", "transport", "other") reads the same in each in English.
_KINDS = (ACTION_STATUSES, PLAN_STATUSES, PIN_STATUSES, THEMES, LEAD_TYPES, PLAN_TYPE_WORDS,
          LAYER_KINDS, REVIEW_BASES, FIELDS, RECORDS, DECISIONS, CHANNELS)

HTTP_TITLES = {
    400: _l("Bad Request"), 401: _l("Unauthorized"), 403: _l("Forbidden"), 404: _l("Not Found"),
    405: _l("Method Not Allowed"), 413: _l("Request Entity Too Large"),
    415: _l("Unsupported Media Type"), 422: _l("Unprocessable Entity"), 429: _l("Too Many Requests"),
    500: _l("Internal Server Error"), 503: _l("Service Unavailable"), 507: _l("Insufficient Storage"),
}
# Werkzeug's own descriptions of the errors a resident meets, replaced when it gives its default.
HTTP_MESSAGES = {
    400: _l("The browser (or proxy) sent a request that this server could not understand."),
    403: _l("You don't have the permission to access the requested resource."),
    404: _l("The requested URL was not found on the server. If you entered the URL manually "
            "please check your spelling and try again."),
    405: _l("The method is not allowed for the requested URL."),
    413: _l("The data value transmitted exceeds the capacity limit."),
    429: _l("Too many requests have been sent in a given amount of time."),
}


def word(code, kind: dict | None = None, spaced: bool = True) -> str:
    """The words for a library code in the request's language: from `kind` when given, else
    from the first kind that has it; else the code itself, its underscores as spaces when
    `spaced` (as the page showed it before)."""
    text = "" if code is None else str(code)
    for table in (kind,) if kind is not None else _KINDS:
        if text in table:
            return str(table[text])
    return text.replace("_", " ") if spaced else text


def plan_type(code) -> str:
    """A plan type's full name ("Locality Plan")."""
    return word(code, PLAN_TYPES) if code in PLAN_TYPES else word(code)


def follow_status(code) -> str:
    """A pin's status as its follow page words it."""
    return word(code, FOLLOW_STATUSES)


def categories() -> dict[str, str]:
    """The pin categories' labels in the request's language, in the form's order."""
    return {code: str(label) for code, label in PIN_CATEGORIES.items()}


# The English labels the library puts in map descriptions (capmap.present.maps.spec and .style, and
# the dashboards' tip values, capmap.present.dashboards.TIP_VALUES), which app/maps.py swaps for these.
MAP_LABELS = {
    "Area": _l("Area"), "Code": _l("Code"), "Plan": _l("Plan"), "Owner": _l("Owner"),
    "Status": _l("Status"), "Exact point": _l("Exact point"), "Action": _l("Action"),
    "Responses": _l("Responses"), "Per 1,000": _l("Per 1,000"),
    **{"Local Outcomes Improvement Plan": PLAN_TYPES["loip"], "Locality Plan": PLAN_TYPES["locality_plan"],
       "Community-led action plan": PLAN_TYPES["community_action_plan"],
       "Local Place Plan": PLAN_TYPES["local_place_plan"], "Service plan": PLAN_TYPES["service_plan"],
       "Other plan": PLAN_TYPES["other"]},
}


def label(text):
    """A label of the library's map descriptions in the request's language (as it is when it is
    not one of MAP_LABELS: a layer's own title)."""
    if not isinstance(text, str):
        return str(text)  # a lazy_gettext label of the app's own
    found = MAP_LABELS.get(text)
    return str(found) if found is not None else text
