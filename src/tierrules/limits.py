"""Resource limits: how much input one evaluation accepts before it refuses, rather than exhaust the machine.

Every limit has a documented default (docs/reliability.md) sized well above what a real
case needs, and every refusal is a :class:`~tierrules.EventError` naming the event and
field (or the whole input) and the limit, raised before any evaluation work is done::

    >>> import datetime as dt, tierrules
    >>> engine = tierrules.Engine(limits=tierrules.Limits(max_events=2))
    >>> events = [{"type": "complaint_registered", "at": "2026-11-24T10:00:00+08:00", "case_id": "c"}] * 3
    >>> engine.evaluate(events, now=dt.datetime.fromisoformat("2026-11-24T12:00:00+08:00"))
    Traceback (most recent call last):
    ...
    tierrules.errors.EventError: invalid event at index 2: $[2]: more than 2 events in one ...

Pass ``None`` for a limit to lift it (``Limits(max_events=None)``). Structural bounds that
protect the process itself (how deep ``meta`` may nest, the range of instants, integers
that fit the rule engine) are not limits: they are part of the event format.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

__all__ = ["DEFAULT_LIMITS", "Limits"]


@dataclass(frozen=True)
class Limits:
    """How much one evaluation accepts; ``None`` lifts a limit.

    Attributes:
        max_events: events in one ``evaluate()`` call (one case of a batch).
        max_utterance_chars: characters in one ``utterance``'s ``text``.
        max_text_chars: characters of all utterances of one evaluation together.
        max_string_chars: characters in any other string field (ids, names, reasons).
        max_meta_bytes: one event's ``meta``, as compact JSON (UTF-8 bytes).
        max_decision_bytes: one decision as compact JSON, where tierrules renders it (the
            CLI, :mod:`tierrules.batch`); a larger one is refused, not written.
        max_input_bytes: an events file or stdin read by the CLI.
    """

    max_events: int | None = 10_000
    max_utterance_chars: int | None = 10_000
    max_text_chars: int | None = 1_000_000
    max_string_chars: int | None = 1_000
    max_meta_bytes: int | None = 16_384
    max_decision_bytes: int | None = 64 * 1024 * 1024
    max_input_bytes: int | None = 256 * 1024 * 1024

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"Limits.{item.name} must be a positive int or None, got {value!r}")


DEFAULT_LIMITS = Limits()
"""The limits an :class:`~tierrules.Engine` uses unless given others."""
