"""Non-plain YAML (unsafe or unknown tags) and values a tag cannot read are located RulesetErrors.

Reported by an operator (issue 14): ``!!python/name:...``, ``!!int abc`` and a bad
``!!timestamp`` in a ruleset file ended in a traceback (exit 1) instead of exit 2 naming
the file and line; tags on lists and mappings (``!!python/object/apply``) were not even
looked at. The reader now admits only the standard scalar tags, ``!!map`` and ``!!seq``,
and turns any failure to construct a scalar into a located problem. Policy test files use
the same reader.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tierrules
from tests.support.cli import assert_refused, run_cli

DEFAULT = Path(tierrules.default_ruleset_path())

CASES = [
    ("name: !!python/name:os.system\n", "'!!python/name:os.system' is not allowed"),
    ("name: !!python/object/apply:os.system [echo hi]\n", "is not allowed"),
    ("name: !!python/object/new:dict {}\n", "is not allowed"),
    ("name: !!binary aGk=\n", "'!!binary' is not allowed"),
    ("name: !!set {a}\n", "'!!set' is not allowed"),
    ("name: !!omap [a: 1]\n", "'!!omap' is not allowed"),
    ("name: !custom x\n", "'!custom' is not allowed"),
    ("name: !!int abc\n", "not a valid integer"),
    ("name: !!float abc\n", "not a valid number"),
    ("name: !!bool maybe\n", "not a valid boolean"),
    ("name: !!timestamp yesterday\n", "not a valid date or date-time"),
    ("name: !!timestamp 2026-13-01\n", "not a valid date or date-time"),
    ("name: 2026-02-30\n", "day is out of range"),
    ("name: " + "9" * 5000 + "\n", "Exceeds the limit"),
    ("name: !!int " + "9" * 5000 + "\n", "Exceeds the limit"),
    ('name: "a\\ud800"\n', "unpaired surrogate"),  # found by tests/fuzz: broke a phrase model later
]


@pytest.mark.parametrize(("text", "needle"), CASES)
def test_ruleset_file(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("version: '1'\n" + text, encoding="utf-8")
    with pytest.raises(tierrules.RulesetError, match=r"not allowed|not a valid|not valid Unicode") as caught:
        tierrules.load_ruleset(path)
    assert (caught.value.file, caught.value.line, caught.value.json_path) == (path, 2, "$.name")
    assert_refused(run_cli("validate", str(path), timeout=30), f"{path}:2: $.name", needle)


@pytest.mark.parametrize(("text", "needle"), CASES[::3])
def test_policy_test_file(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "t.test.yaml"
    path.write_text("cases: []\n" + "description:" + text.removeprefix("name:"), encoding="utf-8")
    assert_refused(run_cli("test", str(DEFAULT), "--tests", str(path), timeout=60), f"{path}:2", needle)


def test_plain_values_still_read(tmp_path: Path) -> None:
    from tierrules.ruleset.reader import SourceMap, read_yaml

    path = tmp_path / "ok.yaml"
    path.write_text("a: [1, 2.5, x, 2026-01-01, ~, true, !!str 10, !!int '7', =, 0x10]\n", encoding="utf-8")
    import datetime as dt

    assert read_yaml(path, SourceMap()) == {
        "a": [1, 2.5, "x", dt.date(2026, 1, 1), None, True, "10", 7, "=", 16]
    }
