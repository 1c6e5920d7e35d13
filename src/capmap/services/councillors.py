"""Councillors by ward, read from a CSV (ward_code, name, party, email) for the notification
list of a proposed Local Place Plan (capmap.services.lpp_notify).

A file is checked whole before anything is stored: a missing column is a 400 naming the columns
found; a row with an empty name, a ward code that no current ward layer holds or an email
address that is not one is a 422 naming each such row (its line in the file, the header being
line 1) and column. Stored, the file's councillors replace those of the wards it names.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterable
from pathlib import Path

from capmap.core.errors import InputError, ValidationError
from capmap.core.models import ImportReport
from capmap.services.access import in_scope
from capmap.storage import Store
from capmap.storage.councillors import COUNCILLOR_COLUMNS

REQUIRED = ("ward_code", "name")
MAX_ROWS = 20_000  # Scotland has about 1,200 councillors
MAX_CELL = 200
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
ERRORS_SHOWN = 20


def read_csv(text: str) -> list[dict[str, str]]:
    """The rows of a councillors CSV as COUNCILLOR_COLUMNS (party and email may be left out,
    other columns are ignored), each with its line in the file as `line`."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    found = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in found]
    if missing:
        raise InputError(f"councillors CSV: column {', '.join(missing)} not found; columns are "
                         f"{', '.join(found) or 'none'}; expected {', '.join(COUNCILLOR_COLUMNS)} "
                         "(party and email may be left out)")
    rows = []
    for number, row in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise InputError(f"councillors CSV: more than {MAX_ROWS:,} rows; expected one row "
                             "per councillor")
        cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()
                 if not isinstance(v, list)}
        rows.append({**{c: cells.get(c, "") for c in COUNCILLOR_COLUMNS}, "line": number})
    if not rows:
        raise InputError("councillors CSV: no rows after the header; expected one row per "
                         "councillor")
    return rows


def row_problems(rows: list[dict], wards: dict[str, str | None]) -> list[str]:
    """Each problem of the rows, as "row N, column C: what was given and what was expected";
    `wards` holds the known ward codes."""
    problems = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        at = f"row {row['line']}"
        key = (row["ward_code"], row["name"].casefold())
        if row["name"] and key in seen:
            problems.append(f"{at}, column name: {row['name'][:60]!r} is already listed for ward "
                            f"{row['ward_code']} on row {seen[key]}; expected each councillor once")
        seen.setdefault(key, row["line"])
        for column in COUNCILLOR_COLUMNS:
            if len(row[column]) > MAX_CELL:
                problems.append(f"{at}, column {column}: {len(row[column])} characters; "
                                f"expected at most {MAX_CELL}")
        if not row["name"]:
            problems.append(f"{at}, column name: empty; expected the councillor's name")
        if not row["ward_code"]:
            problems.append(f"{at}, column ward_code: empty; expected the code of a ward")
        elif row["ward_code"] not in wards:
            problems.append(f"{at}, column ward_code: {row['ward_code'][:40]!r} is not the code "
                            "of a ward in any current ward layer")
        if row["email"] and not EMAIL.fullmatch(row["email"]):
            problems.append(f"{at}, column email: {row['email'][:60]!r} is not an email address; "
                            "expected name@example.org or nothing")
    return problems


def import_councillors(store: Store, text: str, councils: Iterable[str] = ()) -> int:
    """Check a councillors CSV whole, then store it (replacing the councillors of the wards it
    names); the rows stored. `councils` limits an account: a ward of another council is a
    422 and nothing is stored."""
    rows = read_csv(text)
    wards = store.ward_councils(r["ward_code"] for r in rows)
    problems = row_problems(rows, wards)
    scope = frozenset(councils)
    problems += [f"row {r['line']}, column ward_code: ward {r['ward_code']} is in council "
                 f"{wards[r['ward_code']] or '(none recorded)'}, outside the councils of this "
                 f"account ({', '.join(sorted(scope))})"
                 for r in rows if r["ward_code"] in wards
                 and not in_scope(scope, wards[r["ward_code"]])]
    if problems:
        shown = problems[:ERRORS_SHOWN]
        more = len(problems) - len(shown)
        raise ValidationError(
            f"councillors CSV: {len(problems)} problem(s), nothing was stored; the first: "
            f"{problems[0]}", details=shown + ([f"... and {more} more"] if more else []))
    return store.replace_councillors([{c: r[c] for c in COUNCILLOR_COLUMNS} for r in rows])


def import_file(store: Store, path: Path) -> ImportReport:
    """import_councillors for a UTF-8 CSV file (the command line and the sample)."""
    started = time.perf_counter()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{Path(path).name}: not UTF-8 text; expected a UTF-8 CSV of "
                         "councillors") from None
    stored = import_councillors(store, text)
    return ImportReport(what=f"councillors from {Path(path).name}", read=stored, stored=stored,
                        seconds=time.perf_counter() - started)
