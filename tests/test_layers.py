"""The package layout is the architecture: each layer of src/capmap imports only from layers below it.

core (records, errors, CRS, settings, rules) < spatial, io, sample < storage < services < present <
publish < cli; the web app (app/) sits on top and nothing in capmap imports it or Flask. The README's
"Layout" section draws the same ladder.
"""

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "capmap"
RANKS = {"core": 0, "spatial": 1, "io": 1, "sample": 1, "storage": 2, "services": 3, "present": 4,
         "publish": 5, "cli": 6}


def layer_of(module: str) -> str | None:
    """The layer of a dotted module name inside capmap ('capmap.services.pins' -> 'services')."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "capmap" else None


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, module) for every absolute import in a file; `from capmap import x` counts as capmap.x."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "capmap":
                found += [(node.lineno, f"capmap.{a.name}") for a in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def source_files():
    return sorted(p for p in SRC.rglob("*.py") if p.parent != SRC)


def test_every_module_lives_in_a_layer():
    """The top of the package holds only its __init__; a new flat module must choose its layer."""
    flat = sorted(p.name for p in SRC.glob("*.py") if p.name != "__init__.py")
    unknown = sorted(p.name for p in SRC.iterdir() if p.is_dir() and p.name not in RANKS
                     and p.name != "__pycache__")
    assert flat == [] and unknown == []


def upward_imports(path: Path, own: str) -> list[str]:
    """The imports of a file in layer `own` that reach above it, or into the web app."""
    wrong = []
    for line, module in imports_of(path):
        if module.split(".")[0] in ("app", "flask", "werkzeug"):
            wrong.append(f"line {line}: {module} (the web app)")
        target = layer_of(module)
        if target in RANKS and RANKS[target] > RANKS[own]:
            wrong.append(f"line {line}: {module} ({target} is above {own})")
    return wrong


@pytest.mark.parametrize("path", source_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down_the_layers(path):
    assert upward_imports(path, path.relative_to(SRC).parts[0]) == []


# Pure functions of frames and files, whatever their layer: they are handed records, never a Store.
PURE = sorted([*SRC.joinpath("present", "maps").rglob("*.py"), SRC / "services" / "layers.py"])


@pytest.mark.parametrize("path", PURE, ids=lambda p: str(p.relative_to(SRC)))
def test_pure_modules_never_import_storage(path):
    assert [m for _, m in imports_of(path) if m.startswith("capmap.storage")] == []


def test_the_check_sees_a_wrong_import(tmp_path):
    """The checker itself: upward and web-app imports in a core file are reported, downward ones not."""
    bad = tmp_path / "bad.py"
    bad.write_text("from capmap.services import pins\nimport capmap.core.errors\n"
                   "from capmap import storage\nfrom app.errors import json_error\n")
    assert upward_imports(bad, "core") == [
        "line 1: capmap.services (services is above core)",
        "line 3: capmap.storage (storage is above core)",
        "line 4: app.errors (the web app)"]
    assert upward_imports(bad, "cli") == ["line 4: app.errors (the web app)"]
