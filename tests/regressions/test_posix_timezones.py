"""A time zone that validates also loads: POSIX TZ strings and paths are refused at validation.

Reported by an operator (issue 14): ``timezone: UTC+8`` passed ``validate`` (dateutil reads
POSIX TZ strings) and then ``Engine()`` failed with ``ZoneInfoNotFoundError``; had it
loaded, ``UTC+8`` would have meant UTC-8 (POSIX counts offsets west of UTC). ``/etc/localtime``
validated too, making decisions depend on the machine. Zone names must now be known to both
``zoneinfo`` and ``dateutil``; the message says what a POSIX string means and what to write.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import tierrules
from tests.support.cli import assert_refused, run_cli


@pytest.fixture
def ruleset(tmp_path: Path) -> Path:
    copy = tmp_path / "rs"
    shutil.copytree(tierrules.default_ruleset_path(), copy)
    return copy


def set_zone(ruleset: Path, file: str, zone: str, occurrence: int = 0) -> int:
    """Replace the ``occurrence``-th ``timezone: Asia/Shanghai`` of a file; returns its line."""
    path = ruleset / file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    found = [i for i, line in enumerate(lines) if line.strip() == "timezone: Asia/Shanghai"]
    i = found[occurrence]
    lines[i] = lines[i].replace("Asia/Shanghai", repr(zone))
    path.write_text("".join(lines), encoding="utf-8")
    return i + 1


@pytest.mark.parametrize(
    ("zone", "needle"),
    [
        ("UTC+8", "it means UTC-08:00"),
        ("UTC-8", "it means UTC+08:00"),
        ("CST-8", "it means UTC+08:00"),
        ("GMT+5:30", "it means UTC-05:30"),
        (":Asia/Shanghai", "unknown time zone"),
        ("/etc/localtime", "unknown time zone"),
        ("../../etc/passwd", "unknown time zone"),
        ("Asia/shanghai", "unknown time zone"),
        (" ", "zone name like"),
    ],
)
@pytest.mark.parametrize(
    ("file", "path"), [("ruleset.yaml", "$.timezone"), ("calendars.yaml", "$.calendars.business.timezone")]
)
def test_refused_at_validation(ruleset: Path, zone: str, needle: str, file: str, path: str) -> None:
    line = set_zone(ruleset, file, zone)
    with pytest.raises(tierrules.RulesetError, match="time zone") as caught:
        tierrules.load_ruleset(ruleset)
    assert (caught.value.file, caught.value.line, caught.value.json_path) == (ruleset / file, line, path)
    assert_refused(run_cli("validate", str(ruleset)), f"{ruleset / file}:{line}: {path}", needle)


@pytest.mark.parametrize("zone", ["Etc/GMT-8", "UTC", "EST5EDT", "America/New_York"])
def test_iana_names_validate_and_load(ruleset: Path, zone: str) -> None:
    set_zone(ruleset, "ruleset.yaml", zone)
    set_zone(ruleset, "calendars.yaml", zone)
    engine = tierrules.Engine(tierrules.load_ruleset(ruleset))
    assert engine.ruleset.timezone == zone
