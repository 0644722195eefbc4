"""Inputs that are not a list of events, and event files that are not JSON text, are EventErrors.

Reported by an operator (issue 14): ``evaluate(None)`` raised a TypeError; non-UTF-8 or
deeply nested JSON event files, and ``meta`` nested 256+ levels deep, ended the CLI with a
traceback (exit 1). Unpaired surrogates (valid JSON escapes) reached the decision and broke
writing it (found by tests/fuzz).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import tierrules
from tests.support.cli import assert_refused, run_cli
from tierrules.events import MAX_META_DEPTH

NOW = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
EVENT = {"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c"}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


@pytest.mark.parametrize("events", [None, 5, 1.5, "events", b"x", {"type": "x"}, object()])
def test_not_a_list(events: Any) -> None:
    with pytest.raises(tierrules.EventError, match="events must be a list"):
        tierrules.Engine().evaluate(events, NOW)
    with pytest.raises(tierrules.EventError, match="events must be a list"):
        tierrules.evaluate(events, now=NOW)


def test_any_iterable_is_fine() -> None:
    assert tierrules.Engine().evaluate(iter([EVENT]), NOW).obligations
    assert tierrules.Engine().evaluate((e for e in [EVENT]), NOW).obligations


@pytest.mark.parametrize("depth", [MAX_META_DEPTH + 1, 256, 300, 100_000])
def test_deep_meta(depth: int) -> None:
    with pytest.raises(tierrules.EventError, match="nested more than") as caught:
        tierrules.Engine().evaluate([{**EVENT, "meta": nested(depth)}], NOW)
    assert (caught.value.index, caught.value.field) == (0, "meta")


def test_meta_up_to_the_limit() -> None:
    assert tierrules.Engine().evaluate([{**EVENT, "meta": nested(MAX_META_DEPTH)}], NOW).obligations


def test_cyclic_or_non_json_meta() -> None:
    cyclic: dict[str, Any] = {}
    cyclic["self"] = cyclic
    for meta in (cyclic, {"a": {1, 2}}, {"a": object()}, {1: "x"}):
        with pytest.raises(tierrules.EventError) as caught:
            tierrules.Engine().evaluate([{**EVENT, "meta": meta}], NOW)
        assert caught.value.field == "meta"


@pytest.mark.parametrize("where", ["case_id", "meta"])
def test_unpaired_surrogates(where: str) -> None:
    event = {**EVENT, "case_id": "c\ud800"} if where == "case_id" else {**EVENT, "meta": {"s": "\udfff"}}
    with pytest.raises(tierrules.EventError, match=r"unpaired surrogate|unicode string") as caught:
        tierrules.Engine().evaluate([event], NOW)
    assert caught.value.field == where


@pytest.mark.parametrize(
    ("data", "needles"),
    [
        (
            json.dumps(EVENT).encode() + b"\n" + b'{"type": "caf\xe9"}\n',
            ("not UTF-8 text: byte 0xe9", "line 2"),
        ),
        (b"\xff\xfe" + json.dumps(EVENT).encode("utf-16-le"), ("not UTF-8 text",)),
        (b"[" * 100_000 + b"]" * 100_000, ("nested too deeply",)),
        (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", ("nested too deeply", "line 1")),
        (json.dumps({**EVENT, "meta": nested(300)}).encode() + b"\n", ("$[0].meta", "nested more than 32")),
        (json.dumps({**EVENT, "case_id": "\ud800"}).encode() + b"\n", ("$[0].case_id", "unicode string")),
        (
            json.dumps({**EVENT, "meta": {"s": "\ud800"}}).encode() + b"\n",
            ("$[0].meta", "unpaired surrogate"),
        ),
    ],
    ids=["latin-1", "utf-16", "deep-array", "deep-line", "deep-meta", "surrogate-field", "surrogate-meta"],
)
def test_cli_files(tmp_path: Path, data: bytes, needles: tuple[str, ...]) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(data)
    assert_refused(run_cli("evaluate", str(path), "--now", NOW.isoformat()), *needles)
    assert_refused(run_cli("evaluate", "-", "--now", NOW.isoformat(), stdin=data), *needles)


def test_cli_directory_and_missing_file(tmp_path: Path) -> None:
    assert_refused(run_cli("evaluate", str(tmp_path), "--now", NOW.isoformat()), f"cannot read {tmp_path}")
    missing = tmp_path / "missing.jsonl"
    assert_refused(run_cli("evaluate", str(missing), "--now", NOW.isoformat()), f"cannot read {missing}")


def test_a_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(EVENT).encode() + b"\n")
    assert run_cli("evaluate", str(path), "--now", NOW.isoformat()).returncode == 0
