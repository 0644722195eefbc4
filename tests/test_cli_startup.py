"""Start-up: ``import tierrules`` and ``tierrules --help`` import no engine; the API stays whole.

What is imported is checked in a fresh interpreter; how long it takes is measured by
benchmarks/bench_startup.py (docs/performance.md), not here.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import tierrules

INIT = Path(tierrules.__file__)
HEAVY = ("pydantic", "durable", "yaml", "dateutil", "rich", "tierrules.evaluation", "tierrules.ruleset")


def modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    program = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.splitlines()[-1]))


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY or m.startswith(HEAVY))


def test_import_tierrules_imports_nothing_else_of_it() -> None:
    modules = modules_after("import tierrules")
    assert heavy(modules) == []
    assert sorted(m for m in modules if m.startswith("tierrules.")) == []


def test_help_imports_no_engine() -> None:
    for argv in (["--help"], ["evaluate", "--help"], ["diff", "--help"], ["--version"]):
        code = f"from tierrules.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"
        assert heavy(modules_after(code)) == [], argv


def test_first_use_of_a_name_imports_only_its_home() -> None:
    modules = modules_after("import tierrules\ntierrules.Problem")
    assert "tierrules.errors" in modules
    assert "tierrules.evaluation" not in modules


def test_every_public_name_is_the_object_of_its_home_module() -> None:
    homes = tierrules._HOMES
    assert set(homes) == set(tierrules.__all__) - {"__version__"}
    for name, home in homes.items():
        module = importlib.import_module(f"tierrules.{home}")
        assert getattr(tierrules, name) is getattr(module, name), name
    assert tierrules.__version__ == tierrules.__version__.strip() != ""


def test_type_checkers_see_the_same_names_from_the_same_homes() -> None:
    """The ``if TYPE_CHECKING:`` imports (what mypy and editors read) match ``_HOMES``."""
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    [block] = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    seen = {
        alias.name: (node.module or "")
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert seen == tierrules._HOMES


def test_star_import_dir_and_submodules() -> None:
    namespace: dict[str, object] = {}
    exec("from tierrules import *", namespace)
    assert set(tierrules.__all__) <= set(namespace)
    assert set(tierrules.__all__) <= set(dir(tierrules))
    modules = modules_after("import tierrules\ntierrules.events.CaseOpened")
    assert "tierrules.events" in modules
    proc = subprocess.run(
        [sys.executable, "-c", "import tierrules; tierrules.no_such_name"], capture_output=True, text=True
    )
    assert "AttributeError: module 'tierrules' has no attribute 'no_such_name'" in proc.stderr
