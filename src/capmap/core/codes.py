"""What an area code or a record's ref may hold: ASCII letters, digits and - _ . / only.

Codes are keys: a data zone's GSS code, a plan's ref, an action's plan_ref. A key that looks like
another but is not (a zero-width space inside S01006506, a right-to-left override that shows
1-SAL as LAS-1, a Cyrillic С standing for a Latin C) would be stored, matched and exported as a
different record from the one a person sees. Unicode normalisation (NFKC) does not help: it
leaves Cyrillic and Greek letters and most format characters as they are. So the rule is a short
list of characters that every GSS code, postcode part and ref in use already keeps to, and that
travels unchanged in URLs, CSV cells and file names; ',' and ';' separate codes in lists, so
they cannot be in one. Anything else is refused, naming the character.
"""

from __future__ import annotations

import re
import unicodedata

CODE_RULE = "codes are ASCII letters, digits and - _ . / only"
_ALLOWED = re.compile(r"[A-Za-z0-9_./-]+")


def code_problem(value: str, what: str = "code") -> str | None:
    """None for a good code; else why not, naming the first bad character."""
    if _ALLOWED.fullmatch(value):
        return None
    bad = next(c for c in value if not _ALLOWED.fullmatch(c))
    name = unicodedata.name(bad, "")
    point = f"U+{ord(bad):04X}{' ' + name if name else ''}"
    category = unicodedata.category(bad)
    if category == "Cf" or (category.startswith("Z") and bad != " ") or bad == "\u180e":
        kind = f"an invisible character {point}"
    elif category == "Cc":
        kind = f"a control character {point}"
    elif ord(bad) > 127:
        kind = f"the non-ASCII character {point}, which can pass for an ASCII one"
    else:
        kind = f"the character {bad!r} ({point})"
    return f"{what} {ascii(value)[:80]} holds {kind}; {CODE_RULE}"


def check_code(value: str, what: str = "code") -> str:
    """The code itself, or ValueError saying which character is not allowed."""
    problem = code_problem(value, what)
    if problem:
        raise ValueError(problem)
    return value


def code_reasons(values, what: str = "code") -> list[str | None]:
    """code_problem of each value ('' and None are fine: blank is checked elsewhere), computed
    once per distinct value."""
    seen: dict[str, str | None] = {}
    out = []
    for value in values:
        if value is None or value == "":
            out.append(None)
            continue
        if value not in seen:
            seen[value] = code_problem(str(value), what)
        out.append(seen[value])
    return out


def row_problems(values, what: str = "code", limit: int = 3) -> str | None:
    """The first `limit` bad values as "row N: ..." (rows counted from 1), and how many more
    rows there are; None when every value is good."""
    found = [f"row {i + 1}: {reason}" for i, reason in enumerate(code_reasons(values, what))
             if reason]
    if not found:
        return None
    more = f" (and {len(found) - limit} more rows)" if len(found) > limit else ""
    return "; ".join(found[:limit]) + more
