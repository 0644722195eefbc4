"""tierrules.Limits: documented, configurable bounds on one evaluation, refused with a clear EventError."""

from __future__ import annotations

import dataclasses
import datetime as dt
import doctest
from typing import Any

import pytest

import tierrules
from tierrules import limits as limits_module
from tierrules.limits import DEFAULT_LIMITS, Limits

NOW = dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00")
AT = "2026-11-24T10:00:00+08:00"


def complaint(i: int = 0, **fields: Any) -> dict[str, Any]:
    return {"type": "complaint_registered", "at": AT, "case_id": f"c{i}", **fields}


def turn(text: str, i: int = 0) -> dict[str, Any]:
    return {"type": "utterance", "at": AT, "case_id": "call", "speaker": "agent", "text": text, "id": f"t{i}"}


def test_docstring_example() -> None:
    result = doctest.testmod(limits_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_defaults_are_documented_values() -> None:
    assert Limits() == DEFAULT_LIMITS
    assert tierrules.Engine().limits == DEFAULT_LIMITS
    assert Limits().max_events == 10_000 and Limits().max_utterance_chars == 10_000


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_a_limit_must_be_a_positive_int_or_none(bad: Any) -> None:
    with pytest.raises(ValueError, match="positive int or None"):
        Limits(max_events=bad)


@pytest.mark.parametrize(
    ("limits", "events", "path", "needle"),
    [
        (Limits(max_events=3), [complaint(i) for i in range(4)], "$[3]", "Limits.max_events"),
        (
            Limits(max_utterance_chars=5),
            [turn("您好，请问"), turn("您好，请问有什么", 1)],
            "$[1].text",
            "max_utterance",
        ),
        (
            Limits(max_text_chars=12),
            [turn("您好，请问有什么", i) for i in range(3)],
            "$[1].text",
            "max_text_chars",
        ),
        (Limits(max_string_chars=10), [complaint(0, id="x" * 11)], "$[0].id", "max_string_chars"),
        (Limits(max_meta_bytes=20), [complaint(0, meta={"note": "x" * 20})], "$[0].meta", "max_meta_bytes"),
    ],
)
def test_each_limit_refuses_naming_the_event_and_field(
    limits: Limits, events: list[dict[str, Any]], path: str, needle: str
) -> None:
    engine = tierrules.Engine(limits=limits)
    with pytest.raises(tierrules.EventError, match=needle) as caught:
        engine.evaluate(events, NOW)
    assert caught.value.json_path == path
    lifted = dataclasses.replace(limits, **{f.name: None for f in dataclasses.fields(limits)})
    tierrules.Engine(limits=lifted).evaluate(events, NOW)  # the same input, limits lifted


def test_a_generator_is_read_only_up_to_the_limit() -> None:
    read = 0

    def endless() -> Any:
        nonlocal read
        while True:
            read += 1
            yield complaint(read)

    with pytest.raises(tierrules.EventError, match="more than 5 events"):
        tierrules.Engine(limits=Limits(max_events=5)).evaluate(endless(), NOW)
    assert read == 6


def test_parse_events_applies_the_defaults() -> None:
    with pytest.raises(tierrules.EventError, match="max_utterance_chars"):
        tierrules.parse_events([turn("好" * 10_001)])
    assert len(tierrules.parse_events([turn("好" * 10_000)])) == 1
