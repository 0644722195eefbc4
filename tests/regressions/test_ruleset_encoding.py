"""Ruleset and policy test files that are not UTF-8, or hold characters YAML forbids, are located errors.

Reported by an operator (issue 14): a Latin-1 ruleset file ended the CLI with a
``UnicodeDecodeError`` traceback (exit 1); a control character gave a raw ``ReaderError``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import tierrules
from tests.support.cli import assert_refused, run_cli

DEFAULT = Path(tierrules.default_ruleset_path())


@pytest.mark.parametrize(
    ("data", "line", "needle"),
    [
        (b"name: x\nversion: caf\xe9\n", 2, "not UTF-8 text: byte 0xe9"),
        ("name: x\nversion: 1\n".encode("utf-16"), 1, "not UTF-8 text"),
        (b"name: x\n\nversion: \x07\n", 3, "character U+0007 is not allowed"),
    ],
)
def test_bad_text(tmp_path: Path, data: bytes, line: int, needle: str) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(data)
    with pytest.raises(tierrules.RulesetError) as caught:
        tierrules.load_ruleset(path)
    assert (caught.value.file, caught.value.line) == (path, line)
    assert_refused(run_cli("validate", str(path), timeout=30), f"{path}:{line}", needle)
    tests = tmp_path / "t.test.yaml"
    tests.write_bytes(data)
    assert_refused(
        run_cli("test", str(DEFAULT), "--tests", str(tests), timeout=60), f"{tests}:{line}", needle
    )


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    from tierrules.ruleset.reader import SourceMap, read_yaml

    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: x\n")
    assert read_yaml(path, SourceMap()) == {"name": "x"}
