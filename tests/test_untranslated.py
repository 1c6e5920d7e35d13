"""Every piece of English on a page goes through the catalogues: no template text, no
attribute a reader hears (aria-label, title, alt, placeholder), and no English string constant
in an expression is left outside _().

The templates are read, not rendered, so a branch a test never reaches is checked as well."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from app import i18n

TEMPLATES = Path(__file__).resolve().parents[1] / "app" / "templates"
# Every template is checked, the staff pages' as well as the public ones.
TEMPLATE_NAMES = sorted(p.stem for p in TEMPLATES.glob("*.html"))
HEARD = ("aria-label", "title", "alt", "placeholder", "data-print")
# Text that is the same in every language: the site's name, standards' names, symbols.
NOT_TEXT = {"map pin-map"}  # constants that are no text (CSS classes)
SAME_EVERYWHERE = {"capmap", "OGC API", "km²", "m", "UTC", "JSON", "CSV", "GeoJSON", "GeoPackage",
                   "capmap OGC API", "OGC API - Features"}
HOLE = "\x00"  # where a {{ }} or {% %} stood (after a space, so that a hole inside a tag splits no name)
WORDS = re.compile(r"[^\W\d_]{2,}")
LOWER = re.compile(r"[a-z]{2}")  # a constant without (a postcode, "XS1 2AB") is not a sentence
TRANSLATORS = {"_", "gettext", "ngettext", "pgettext"}


def _env() -> Environment:
    return Environment(extensions=["jinja2.ext.i18n"])


class _Text(HTMLParser):
    """Text and heard attributes of the HTML left when every Jinja tag is a HOLE."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0  # inside <script> or <style>

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")
        self.found += [value for name, value in attrs if name in HEARD and value]

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def _untranslated_text(source: str) -> list[str]:
    parts, last = [], None
    for _, kind, value in _env().lex(source):
        if kind == "data":
            parts.append(value)
        elif last == "data" or last is None:
            parts.append(" " + HOLE)
        last = kind
    parser = _Text()
    parser.feed("".join(parts))
    parser.close()
    return [_clean(t) for t in parser.found if _is_english(t)]


def _clean(text: str) -> str:
    return " ".join(text.replace(HOLE, "…").split())


def _is_english(text: str) -> bool:
    for piece in text.split(HOLE):
        piece = piece.strip(" \n\t.,:;()–·?!“”\"'/")
        code = " " not in piece and any(c.isdigit() for c in piece)  # dz11:S01006506
        if piece and piece not in SAME_EVERYWHERE and not code and WORDS.search(piece):
            return True
    return False


def _translated_consts(tree) -> set[int]:
    """ids of the string constants handed to _() (and of those inside them)."""
    inside: set[int] = set()
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name in TRANSLATORS:
            inside |= {id(c) for arg in call.args for c in [arg, *arg.find_all(nodes.Const)]}
    return inside


def _untranslated_constants(source: str) -> list[str]:
    """English sentences in expressions ({{ x or 'Not recorded' }}), not codes ('in_progress')."""
    tree = _env().parse(source)
    inside = _translated_consts(tree)
    return [c.value for c in tree.find_all(nodes.Const)
            if isinstance(c.value, str) and id(c) not in inside and " " in c.value.strip()
            and c.value not in NOT_TEXT
            and LOWER.search(c.value) and not c.value.startswith(("%", "{", "<", "\">"))]


def _translated_variables(source: str) -> list[str]:
    """_() handed something other than literal text ({{ _(labels[code]) }}): no catalogue can
    hold what it will be, so the page would show it in English."""
    tree = _env().parse(source)
    return [type(call.args[0]).__name__ for call in tree.find_all(nodes.Call)
            if isinstance(call.node, nodes.Name) and call.node.name in TRANSLATORS
            and call.args and not isinstance(call.args[0], nodes.Const)]


@pytest.mark.parametrize("name", TEMPLATE_NAMES)
def test_a_template_holds_no_untranslated_text(name):
    source = (TEMPLATES / f"{name}.html").read_text(encoding="utf-8")
    left = _untranslated_text(source) + _untranslated_constants(source)
    assert not left, f"{name}.html: text outside _(): {left}"
    assert not _translated_variables(source), f"{name}.html: _() of a variable, not of text"


def test_the_check_finds_text_attributes_and_constants_outside_the_catalogues():
    """The checks themselves: each kind of miss is found, and marked text passes."""
    assert _untranslated_text("<p>Hello {{ name }}</p>") == ["Hello …"]
    assert _untranslated_text('<div aria-label="Map of plans"></div>') == ["Map of plans"]
    assert _untranslated_text("<p>{{ _('Hello') }} <b>{{ n }}</b> · capmap</p>") == []
    assert _untranslated_text("<script>var a = 'words here';</script>") == []
    assert _untranslated_constants("{{ owner or 'Not recorded' }}") == ["Not recorded"]
    assert _untranslated_constants("{{ owner or _('Not recorded') }}{{ x|replace('_', ' ') }}") == []
    assert _translated_variables("{{ _(labels[st]) }}{{ _(e.label) }}") == ["Getitem", "Getattr"]
    assert _translated_variables("{{ _('Now: %(s)s.', s=labels[st]) }}") == []


def test_every_language_has_its_html_lang():
    assert set(i18n.HTML_LANG) == set(i18n.LANGUAGES) == set(i18n.DATE_FORMATS)
