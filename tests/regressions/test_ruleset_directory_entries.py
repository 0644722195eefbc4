"""A ruleset directory never loads without one of its files.

Reported by an operator (issue 14): a dangling symlink, a directory or a FIFO named
``tiers.yaml`` or ``etiquette.yaml`` was skipped and ``validate`` printed "ok" for a
ruleset without tiers; a 0-byte ``deadlines.yaml`` loaded as no deadlines. Every
``*.yaml``/``*.yml`` entry of the directory (hidden names and policy tests aside) must now
be a readable regular file holding at least one section: an empty file is refused (write
``deadlines: []`` to have none), so a truncated copy cannot pass for a policy.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import tierrules
from tests.support.cli import assert_refused, run_cli


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "missing.yaml")


def _directory(path: Path) -> None:
    path.mkdir()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _comments_only(path: Path) -> None:
    path.write_text("# tiers are coming\n\n", encoding="utf-8")


@pytest.fixture
def ruleset(tmp_path: Path) -> Path:
    copy = tmp_path / "rs"
    shutil.copytree(tierrules.default_ruleset_path(), copy)
    return copy


@pytest.mark.parametrize("name", ["tiers.yaml", "etiquette.yaml", "deadlines.yaml"])
@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (_dangling, "a dangling symbolic link"),
        (_directory, "a directory"),
        (_fifo, "not a regular file"),
        (_empty, "empty file"),
        (_comments_only, "empty file"),
    ],
)
def test_a_section_file_that_cannot_be_read_is_refused(
    ruleset: Path, name: str, make: Callable[[Path], None], needle: str
) -> None:
    (ruleset / name).unlink()
    make(ruleset / name)
    with pytest.raises(tierrules.RulesetError, match=needle) as caught:
        tierrules.load_ruleset(ruleset)
    assert caught.value.file == ruleset / name
    proc = run_cli("validate", str(ruleset), timeout=30)  # a FIFO must not block it
    assert_refused(proc, str(ruleset / name), needle)
    assert "ok" not in proc.stdout


def test_an_explicitly_empty_section_loads(ruleset: Path) -> None:
    (ruleset / "deadlines.yaml").write_text("deadlines: []\n", encoding="utf-8")
    # the targets name deadline rules: without deadlines there is nothing to aim at
    (ruleset / "targets.yaml").write_text("targets: []\n", encoding="utf-8")
    assert tierrules.load_ruleset(ruleset).deadlines == []


def test_hidden_files_are_not_part_of_a_ruleset(ruleset: Path) -> None:
    (ruleset / ".#tiers.yaml").symlink_to("user@host.1234")  # an editor's lock file
    (ruleset / ".deadlines.yaml").write_text("this: is a backup\n", encoding="utf-8")
    assert tierrules.load_ruleset(ruleset).tiers is not None


def test_a_symlink_to_a_file_is_read(ruleset: Path, tmp_path: Path) -> None:
    target = tmp_path / "tiers-elsewhere.yaml"
    shutil.move(ruleset / "tiers.yaml", target)
    (ruleset / "tiers.yaml").symlink_to(target)
    assert tierrules.load_ruleset(ruleset).tiers is not None


def test_a_single_file_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    os.mkfifo(path)
    assert_refused(run_cli("validate", str(path), timeout=30), str(path), "not a regular file")
