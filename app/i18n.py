"""The interface's languages: English, the catalogues' source text, and Scottish Gaelic.

The language of a request is, first, ?lang= (a link can name it; it is also kept, like the
switch), then the language cookie set by the switch (POST /lang), then the browser's
Accept-Language, then English. Templates mark text with _(); Python marks it with gettext or,
for labels defined at import time, lazy_gettext (app/words.py). Catalogues live in
app/translations (README there); their compiled .mo files are committed beside the .po files.
"""

from __future__ import annotations

from datetime import date, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

from babel import dates, numbers
from flask import Blueprint, Flask, redirect, request
from flask_babel import Babel, get_locale, gettext

from app import messages, words
from capmap.core.errors import InputError

# Each language named in itself, for the switch.
LANGUAGES = {"en": "English", "gd": "Gàidhlig"}
DEFAULT = "en"
# What <html lang> says for each: the English text is British English.
HTML_LANG = {"en": "en-GB", "gd": "gd"}
COOKIE = "capmap_lang"
COOKIE_AGE_S = 365 * 24 * 3600
# Dates are written out per language. English keeps ISO 8601 (2025-04-01), as the CSV and JSON
# downloads do, so a date on a page reads the same as in the file beside it.
DATE_FORMATS = {"en": "yyyy-MM-dd", "gd": "d MMMM y"}
DATETIME_FORMATS = {"en": "yyyy-MM-dd HH:mm", "gd": "d MMMM y, HH:mm"}

babel = Babel()
bp = Blueprint("i18n", __name__)


def _asked() -> str | None:
    asked = request.args.get("lang", "")
    return asked if asked in LANGUAGES else None


def select_locale() -> str:
    """The language of this request (see the module's docstring)."""
    kept = request.cookies.get(COOKIE, "")
    if _asked():
        return _asked()
    if kept in LANGUAGES:
        return kept
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def language() -> str:
    """The code of the current request's language ('en' or 'gd')."""
    return str(get_locale() or DEFAULT).split("_")[0]


def safe_next(target: str | None) -> str:
    """`target` when it is a path on this site, without its ?lang= (which would outvote the
    choice just made); else the home page. Absolute URLs, scheme-relative //host paths and
    backslash tricks (browsers read /\\host as //host) are refused."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(c in target for c in "\\\r\n\t"):
        return "/"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if k != "lang"])
    return parts.path + (f"?{query}" if query else "")


def _keep(response, code: str):
    response.set_cookie(COOKIE, code, max_age=COOKIE_AGE_S, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    return response


@bp.post("/lang")
def switch():
    """Change the interface language (a form in every page's header) and go back to the page
    the form was on."""
    code = request.form.get("lang", "")
    if code not in LANGUAGES:
        raise InputError(gettext("lang was %(given)s; expected one of %(known)s",
                                 given=repr(code[:20]), known=", ".join(LANGUAGES)))
    return _keep(redirect(safe_next(request.form.get("next")), code=303), code)


def _keep_asked(response):
    """?lang= is kept like the switch, so the next page stays in that language."""
    code = _asked()
    if code and request.cookies.get(COOKIE) != code and response.mimetype == "text/html":
        _keep(response, code)
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def _locale() -> str:
    return str(get_locale() or DEFAULT)


def _day(value) -> date | datetime | None:
    if isinstance(value, (date, datetime)):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def day(value, empty: str = "") -> str:
    """A date (or an ISO date string) written for the language; `empty` for none, the text
    itself when it is not a date."""
    if value is None or value == "":
        return empty
    parsed = _day(value)
    if parsed is None:
        return str(value)
    if isinstance(parsed, datetime):
        parsed = parsed.date()
    return dates.format_date(parsed, DATE_FORMATS[language()], locale=_locale())


def moment(value) -> str:
    """A date and time (UTC; a datetime or an ISO string, as the store gives some) written for
    the language; the text itself when it is not a date and time."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        try:
            value = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    return dates.format_datetime(value, DATETIME_FORMATS[language()], locale=_locale())


def number(value, digits: int = 0, grouped: bool = True) -> str:
    """A number with `digits` decimals, grouped in thousands when `grouped`, in the language's
    symbols."""
    if value is None:
        return "–"
    pattern = ("#,##0" if grouped else "0") + ("." + "0" * digits if digits else "")
    return numbers.format_decimal(value, pattern, locale=_locale())


def percent(share, digits: int = 0) -> str:
    """A share (0.25) as a percentage ("25%") in the language's way."""
    if share is None:
        return "–"
    pattern = "0" + ("." + "0" * digits if digits else "") + "%"
    return numbers.format_percent(share, pattern, locale=_locale())


def _globals() -> dict:
    code = language()
    return {"languages": LANGUAGES, "language": code, "html_lang": HTML_LANG[code]}


def init_app(app: Flask) -> None:
    """Flask-Babel, the switch, the filters, and <html lang> for every page."""
    babel.init_app(app, locale_selector=select_locale)
    app.register_blueprint(bp)
    app.after_request(_keep_asked)
    app.context_processor(_globals)
    app.add_template_filter(day)
    app.add_template_filter(moment)
    app.add_template_filter(number)
    app.add_template_filter(percent)
    app.add_template_global(words.word, "word")
    app.add_template_filter(words.word, "word")
    app.add_template_global(words.plan_type, "plan_type")
    app.add_template_global(messages.public, "public_message")
    app.add_template_global(words.follow_status, "follow_status")
