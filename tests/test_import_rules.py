"""Import rules: the library never imports Flask; the pure layers never import storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "capmap"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _modules(*parts: str) -> list[Path]:
    base = SRC.joinpath(*parts)
    return sorted(base.rglob("*.py")) if base.is_dir() else [base.with_suffix(".py")]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_capmap_never_imports_flask_or_app(path):
    bad = {n for n in _imports(path) if n.split(".")[0] in ("flask", "app", "werkzeug")}
    assert not bad, f"{path.name} imports {bad}"


PURE = [p for part in ("spatial", "io", "maps", "layers") for p in _modules(part)]


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(SRC)))
def test_pure_modules_never_import_storage(path):
    bad = {n for n in _imports(path) if n.startswith("capmap.storage")}
    assert not bad, f"{path.name} imports {bad}"

