"""The layout stays a pipeline: no import cycle, no private names across modules, a typed public API.

Read from the source with ``ast``, so a lazy import inside a function counts as much as a
top-level one: a cycle hidden in a function is still a cycle.
"""

from __future__ import annotations

import ast
import importlib
import typing
from collections.abc import Iterator
from pathlib import Path

import pydantic
import pytest

import tierrules

SRC = Path(tierrules.__file__).resolve().parent
PACKAGE = "tierrules"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in SRC.rglob("*.py")}


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports(module: str, path: Path) -> Iterator[tuple[str, str, int]]:
    """(imported module, imported name or '', line) for every tierrules import in a module."""
    modules = _modules()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE):
                    yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node, path.name == "__init__.py")
            if not target.startswith(PACKAGE):
                continue
            for alias in node.names:
                # ``from . import text`` imports a module; ``from .x import name`` a name.
                sub = f"{target}.{alias.name}"
                yield (sub, "", node.lineno) if sub in modules else (target, alias.name, node.lineno)


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in _modules().items():
        edges = graph.setdefault(module, set())
        for target, _, _ in _imports(module, path):
            if target != module and target in _modules():
                edges.add(target)
    return graph


def test_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            # A package's __init__ re-exporting its own modules is not a cycle of the layout.
            if nxt.startswith(node + ".") or (node.startswith(nxt + ".") and nxt == PACKAGE):
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_module_imports_another_modules_private_names() -> None:
    offenders = []
    for module, path in _modules().items():
        for target, name, line in _imports(module, path):
            if name.startswith("_") and not name.startswith("__") and target != module:
                offenders.append(f"{module}:{line} imports {target}.{name}")
    assert offenders == []


def test_stages_only_import_downwards() -> None:
    """ruleset never reaches into compiler, matching or evaluation; compiler never into evaluation."""
    below = {
        "tierrules.ruleset": ("tierrules.compiler", "tierrules.matching", "tierrules.evaluation"),
        "tierrules.compiler": ("tierrules.matching", "tierrules.evaluation"),
        "tierrules.matching": ("tierrules.evaluation",),
    }
    offenders = []
    for module, path in _modules().items():
        for stage, forbidden in below.items():
            if module == stage or module.startswith(stage + "."):
                for target, _, line in _imports(module, path):
                    if target.startswith(forbidden):
                        offenders.append(f"{module}:{line} imports {target}")
    assert offenders == []


# Where the public types live: the package itself, and the modules the docs name.
PUBLIC_HOMES = ("tierrules", "tierrules.events", "tierrules.decision", "tierrules.ruleset")


def _published(cls: type) -> bool:
    return any(
        getattr(importlib.import_module(home), cls.__name__, None) is cls
        and (home == PACKAGE or cls.__name__ in importlib.import_module(home).__all__)
        for home in PUBLIC_HOMES
    )


def _private_types(annotation: object, seen: set[object] | None = None) -> Iterator[str]:
    """Every tierrules type reachable from ``annotation`` that no public home exports."""
    seen = set() if seen is None else seen
    if annotation in seen:
        return
    seen.add(annotation)
    origin = typing.get_origin(annotation)
    if origin is not None:
        for arg in typing.get_args(annotation):
            yield from _private_types(arg, seen)
        return
    if isinstance(annotation, type) and annotation.__module__.startswith(PACKAGE):
        if annotation.__name__.startswith("_") or not _published(annotation):
            yield f"{annotation.__module__}.{annotation.__name__}"
        if issubclass(annotation, pydantic.BaseModel):
            for info in annotation.model_fields.values():
                yield from _private_types(info.annotation, seen)


@pytest.mark.parametrize("name", tierrules.__all__)
def test_public_api_holds_no_private_types(name: str) -> None:
    obj = getattr(tierrules, name)
    found: list[str] = []
    if isinstance(obj, type) and issubclass(obj, pydantic.BaseModel):
        for info in obj.model_fields.values():
            found += _private_types(info.annotation)
    elif callable(obj) and not isinstance(obj, type):
        hints = typing.get_type_hints(obj)
        for hint in hints.values():
            found += _private_types(hint)
    assert found == []


def test_event_classes_are_public() -> None:
    events = importlib.import_module("tierrules.events")
    assert "Utterance" in events.__all__ and "CaseOpened" in events.__all__
    for name in events.__all__:
        assert not name.startswith("_")
