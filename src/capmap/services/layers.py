"""Boundary layer definitions: one TOML file per layer and vintage in boundaries/."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from capmap.core.errors import ConfigError, ValidationError
from capmap.core.models import LAYER_KINDS, LayerDef
from capmap.io.indicators import parse_indicator_fields
from capmap.io.toml_files import read_toml

_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_KNOWN = {f.name for f in fields(LayerDef)}


def check_layer_id(layer_id: str) -> str:
    """Refuse a layer id that is not a short lower-case slug; it appears in URLs and filenames."""
    if not _ID.match(layer_id or ""):
        raise ValidationError(
            f"layer id {layer_id!r} is not allowed; expected lower-case letters, digits and "
            "underscores, starting with a letter, at most 40 characters (e.g. dz11)"
        )
    return layer_id


def check_kind(kind: str) -> str:
    """Refuse a layer kind that is not one of LAYER_KINDS."""
    if kind not in LAYER_KINDS:
        raise ValidationError(f"kind {kind!r} is not known; expected one of {', '.join(LAYER_KINDS)}")
    return kind


def make_layer_def(**values) -> LayerDef:
    """A checked LayerDef from keyword values (CLI options or a TOML table)."""
    unknown = sorted(set(values) - _KNOWN)
    if unknown:
        raise ValidationError(f"unknown layer settings {unknown}; known are {sorted(_KNOWN)}")
    clean = {k: v for k, v in values.items() if v is not None and v != ""}
    if "id" not in clean or "kind" not in clean:
        raise ValidationError("a layer needs at least an id and a kind, e.g. --layer dz11 "
                              "--kind neighbourhood")
    check_layer_id(clean["id"])
    check_kind(clean["kind"])
    clean["vintage"] = str(clean.get("vintage", "current"))
    clean["indicator_fields"] = parse_indicator_fields(clean.get("indicator_fields"))
    return LayerDef(**clean)


def load_layer_def(path: Path) -> LayerDef:
    """Read one boundaries/*.toml; `source` is resolved relative to the TOML file's folder."""
    values = read_toml(path)
    try:
        layer = make_layer_def(**values)
    except (ConfigError, ValidationError) as exc:
        raise ConfigError(f"{path.name}: {exc.message}") from exc
    if layer.source and not Path(layer.source).is_absolute():
        source = str((path.parent / layer.source).resolve())
        layer = LayerDef(**{**layer.__dict__, "source": source})
    return layer


def load_layer_defs(folder: Path) -> list[LayerDef]:
    """Every layer definition in a folder, sorted by file name."""
    return [load_layer_def(p) for p in sorted(folder.glob("*.toml"))]
