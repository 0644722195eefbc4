"""pytest plugin: collect policy test files (``*.test.yaml``), one test item per case.

Registered as the ``tierrules`` pytest11 entry point, so ``pytest rulesets/mine/tests``
runs a team's policy tests in CI. A file's ruleset is its ``ruleset:`` key (relative to the
file) or else the nearest enclosing directory holding ruleset YAML (a ``tests/`` directory's
parent). Only ``*.test.yaml`` / ``*.test.yml`` files are touched; nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ENGINES: dict[Path, Any] = {}


def _engine(ruleset_dir: Path) -> Any:
    from .compiler.load import load_ruleset
    from .evaluation.engine import Engine

    key = ruleset_dir.resolve()
    if key not in _ENGINES:
        _ENGINES[key] = Engine(load_ruleset(key))
    return _ENGINES[key]


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect ``*.test.yaml`` files as policy test files."""
    if file_path.name.endswith((".test.yaml", ".test.yml")):
        return PolicyTestFile.from_parent(parent, path=file_path)
    return None


class PolicyTestFile(pytest.File):
    """A policy test file: one item per case."""

    def collect(self) -> Iterator[pytest.Item]:
        from .policytest import load_test_file, ruleset_dir_for

        cases, ruleset = load_test_file(self.path)
        ruleset_dir = ruleset or ruleset_dir_for(self.path)
        for case in cases:
            yield PolicyTestItem.from_parent(self, name=case.name, case=case, ruleset_dir=ruleset_dir)


class PolicyCaseFailedError(AssertionError):
    """A case's decision did not match its expectations."""


class PolicyTestItem(pytest.Item):
    """One case of a policy test file."""

    def __init__(self, *, case: Any, ruleset_dir: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case
        self.ruleset_dir = ruleset_dir

    def runtest(self) -> None:
        from .policytest import run_case

        result = run_case(_engine(self.ruleset_dir), self.case)
        if not result.passed:
            raise PolicyCaseFailedError("\n".join(result.failures))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PolicyCaseFailedError):
            return f"policy case {self.case.name!r} failed:\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, (self.case.line or 1) - 1, f"policy case: {self.name}"
