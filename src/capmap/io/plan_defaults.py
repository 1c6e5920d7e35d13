"""Per-file defaults for a plans import: values for the fields a row leaves blank.

A council's list of Locality Plans often gives only a name per area; the owner, council, period
and review date are the same for every row, and the title follows a pattern such as
"{name} Locality Plan". The template names columns of the file in braces, nothing else: no
attribute or index access and no format specs, so a template cannot reach into Python objects.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

from capmap.core.codes import check_code
from capmap.core.errors import ConfigError, ValidationError
from capmap.io.toml_files import read_toml
from capmap.io.validate import parse_date, text


@dataclass(frozen=True)
class PlanDefaults:
    """What a plan row gets where its own field is blank; None leaves the field blank."""

    owner: str | None = None
    council_code: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    review_due: date | None = None
    # e.g. "{name} Locality Plan": a title from the row's columns where its title is blank.
    title_template: str | None = None

    def template_fields(self) -> list[str]:
        """The column names the title template uses."""
        return template_fields(self.title_template) if self.title_template else []

    def title_for(self, row: dict) -> str:
        """The title the template makes from a row ('' without a template)."""
        if not self.title_template:
            return ""
        values = {name: text(row.get(name)) for name in self.template_fields()}
        return self.title_template.format_map(values).strip()


NO_DEFAULTS = PlanDefaults()
DATE_FIELDS = ("period_start", "period_end", "review_due")
NAMES = tuple(f.name for f in fields(PlanDefaults))
DEFAULT_NAMES = NAMES


def template_fields(template: str) -> list[str]:
    """The fields of a title template; refused unless each is a plain `{column}`."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValidationError(f"title template {template!r} is not valid ({exc}); write "
                              "columns in braces, e.g. \"{name} Locality Plan\"") from None
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if not name or spec or conversion or not name.replace("_", "").replace(" ", "").isalnum():
            raise ValidationError(f"title template {template!r}: {{{name}}} must name a column "
                                  "plainly, e.g. {name}; no positions, formats or attributes")
        names.append(name)
    if not names:
        raise ValidationError(f"title template {template!r} names no column; e.g. "
                              "\"{name} Locality Plan\"")
    return names


def make_plan_defaults(values: dict) -> PlanDefaults:
    """Checked defaults from CLI options, a TOML table or a form (blank values ignored)."""
    unknown = sorted(set(values) - set(NAMES))
    if unknown:
        raise ValidationError(f"unknown plan defaults {unknown}; known are {list(NAMES)}")
    clean = {k: v for k, v in values.items() if v is not None and text(v) != ""}
    for name in DATE_FIELDS:
        if name in clean:
            try:
                clean[name] = parse_date(clean[name])
            except ValueError:
                raise ValidationError(f"default {name} {clean[name]!r} is not a date "
                                      "(YYYY-MM-DD)") from None
    for name in ("owner", "council_code", "title_template"):
        if name in clean:
            clean[name] = text(clean[name])
    if "council_code" in clean:
        try:
            check_code(clean["council_code"], "default council_code")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None
    defaults = PlanDefaults(**clean)
    defaults.template_fields()  # refuses a bad template now, not row by row
    return defaults


@dataclass(frozen=True)
class PlanImportDef:
    """A plans import described in TOML: its file, how to read it and the per-file defaults."""

    source: str = ""
    plan_type: str | None = None
    area_layer: str | None = None
    crs: str | None = None
    file_layer: str | None = None
    fields: dict = field(default_factory=dict)
    defaults: PlanDefaults = NO_DEFAULTS
    aliases: dict = field(default_factory=dict)


_TOML_KEYS = {"source", "type", "area_layer", "crs", "file_layer", "fields", "defaults",
              "aliases"}


def load_plan_import(path: Path) -> PlanImportDef:
    """Read a plans import TOML; `source` is resolved relative to the TOML file's folder.

        source = "locality_plans.csv"
        type = "locality_plan"
        area_layer = "dz11"
        [fields]            # which column holds each plan field, where not the default name
        title = "plan_name"
        [defaults]          # values for fields a row leaves blank
        owner = "Glenarden CPP"
        title_template = "{name} Locality Plan"
        [aliases.plan_status]
        adopted = "current"
    """
    values = read_toml(path)
    unknown = sorted(set(values) - _TOML_KEYS)
    if unknown:
        raise ConfigError(f"{path.name}: unknown settings {unknown}; known are "
                          f"{sorted(_TOML_KEYS)}")
    for table in ("fields", "defaults", "aliases"):
        if not isinstance(values.get(table, {}), dict):
            raise ConfigError(f"{path.name}: [{table}] must be a table")
    try:
        defaults = make_plan_defaults(values.get("defaults", {}))
    except ValidationError as exc:
        raise ConfigError(f"{path.name}: {exc.message}") from exc
    source = str(values.get("source", ""))
    if source and not Path(source).is_absolute():
        source = str((path.parent / source).resolve())
    return PlanImportDef(source=source, plan_type=values.get("type"),
                         area_layer=values.get("area_layer"), crs=values.get("crs"),
                         file_layer=values.get("file_layer"), fields=values.get("fields", {}),
                         defaults=defaults, aliases=values.get("aliases", {}))
