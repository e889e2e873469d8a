"""The plan of rooms (DESIGN.md, Layout): modules are stacked on floors; a module imports only modules on
a lower floor; modules on the same floor do not import each other; no cycles. Imports inside functions
count too (a lazy import is still an import). Each module's public surface for the floors above is its
``services`` (and its ``models``, for the types and relationships of its tables) plus what its
``__init__`` declares."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

EXPO = Path(__file__).resolve().parent.parent / "expo"
FLOORS = {
    "extensions": 0, "config": 0,
    "core": 1,
    "visitors": 2, "exhibitors": 2,
    "leads": 3,
    "matchmaking": 4, "surveys": 4, "support": 4,
    "onsite": 5,
    "postshow": 6,
    "campaigns": 7,
    "__init__": 8, "cli": 8, "demo": 8, "celery_app": 8,
}
PUBLIC = {"services", "models", "__init__"}  # what a higher floor may import of a module


def _room(path: Path) -> str:
    parts = path.relative_to(EXPO).parts
    return parts[0].removesuffix(".py")


def _imports(path: Path):
    """(room, submodule) of every expo module imported by the file at ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = list(path.relative_to(EXPO.parent).with_suffix("").parts)
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
            else:
                target = node.module.split(".")
            if target[0] != "expo":
                continue
            names = [target + [alias.name] for alias in node.names] if len(target) <= 2 else [target]
            for name in names:
                yield name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "expo":
                    yield alias.name.split(".")


def _edges():
    for path in sorted(EXPO.rglob("*.py")):
        source = _room(path)
        for target in _imports(path):
            if len(target) < 2:
                continue
            room = target[1].removesuffix(".py")
            if room not in FLOORS or room == source:
                continue
            sub = target[2] if len(target) > 2 else "__init__"
            if not ((EXPO / room / f"{sub}.py").exists() or (EXPO / room / sub).is_dir()):
                sub = "__init__"  # a name the package's __init__ declares (a permission, the MODULE)
            yield path.relative_to(EXPO.parent), source, room, sub


def test_every_room_has_a_floor():
    rooms = {_room(p) for p in EXPO.rglob("*.py")} - {"translations"}
    assert rooms <= set(FLOORS), rooms - set(FLOORS)


def test_no_module_imports_upward_or_sideways():
    """(The shell — the app factory, the CLI, the demo — is one room on the top floor.)"""
    wrong = [f"{path}: {source} (floor {FLOORS[source]}) imports {room} (floor {FLOORS[room]})"
             for path, source, room, _sub in _edges()
             if FLOORS[room] > FLOORS[source] or (FLOORS[room] == FLOORS[source] < 8)]
    assert not wrong, "\n".join(wrong)


def test_lower_modules_are_used_through_their_public_surface():
    wrong = [f"{path}: imports {room}.{sub}" for path, source, room, sub in _edges()
             if FLOORS[source] < 8 and FLOORS[room] >= 1 and sub not in PUBLIC
             and not (room == "core" and FLOORS[source] >= 2)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("room", ["core"])
def test_core_names_no_feature_module(room):
    for path in (EXPO / room).rglob("*.py"):
        for target in _imports(path):
            assert len(target) < 2 or FLOORS.get(target[1].removesuffix(".py"), 0) <= 1, (path, target)
