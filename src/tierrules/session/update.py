"""What one append (or refresh) gives back: the decision, and what is new in it.

``new`` is what appeared since the previous update of the same case: escalations, newly
breached obligations, warnings, violations and tier changes -- what a host acts on once.
An item is recognised across updates by its ``id`` (every part of a decision has one),
or by a digest of its JSON when the id is empty. What a case's
updates reported is kept in the store with the case (:class:`ReportState`), so a restart or
another process does not report it again; each key remembers the event (its ``seq``) whose
update reported it first, so a duplicate delivery of that event reports it again -- a host
that lost the first reply still gets it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from ..decision import DeadlineWarning, Decision, Escalation, Obligation, TierAssignment, Violation
from ..events import EventBase

__all__ = ["New", "ReportState", "Update", "diff"]

Item = Escalation | Obligation | DeadlineWarning | Violation | TierAssignment
P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class New:
    """What appeared in a case's decision since its previous update; empty when nothing did.

    ``len(new)`` counts the items and ``iter(new)`` walks them (escalations, breaches,
    warnings, violations, tiers).
    """

    escalations: list[Escalation] = field(default_factory=list)
    breaches: list[Obligation] = field(default_factory=list)
    """Obligations now breached that no earlier update reported breached."""
    warnings: list[DeadlineWarning] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    tiers: list[TierAssignment] = field(default_factory=list)
    """Customers whose tier (or service class or level) differs from the previous update's."""

    def __iter__(self) -> Iterator[Item]:
        yield from self.escalations
        yield from self.breaches
        yield from self.warnings
        yield from self.violations
        yield from self.tiers

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def to_dict(self) -> dict[str, list[dict[str, Any]]]:
        """The JSON form: each list as the decision renders its items."""
        return {
            "escalations": _dump(self.escalations),
            "breaches": _dump(self.breaches),
            "warnings": _dump(self.warnings),
            "violations": _dump(self.violations),
            "tiers": _dump(self.tiers),
        }


def _dump(items: list[Any]) -> list[dict[str, Any]]:
    return [item.model_dump(mode="json") for item in items]


@dataclass(frozen=True)
class Update:
    """The result of :meth:`Session.append <tierrules.Session.append>` (or ``refresh``).

    ``decision`` is byte for byte what ``Engine.evaluate`` gives for the case's events and
    its customer's customer-level events at ``now`` (for a customer-level event without a
    ``case_id``: the customer's customer-level events alone).
    """

    case_id: str | None
    """The case the update is about; None for a customer-level event without a case."""
    customer_id: str | None
    """The customer, for a customer-level event (else None)."""
    now: dt.datetime
    decision: Decision
    new: New
    event: EventBase | None = None
    """The event appended (None for a refresh)."""
    seq: int | None = None
    """The event's arrival number within its case (1, 2, ...); None without a case."""
    duplicate: bool = False
    """The event's ``id`` was already stored with the same content: nothing was added."""
    cases: dict[str, Update] = field(default_factory=dict)
    """The other open cases of the event's customer that a customer-level event reached."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (what ``tierrules stream`` writes, one line per update)."""
        out: dict[str, Any] = {
            "case_id": self.case_id,
            "customer_id": self.customer_id,
            "seq": self.seq,
            "event_id": self.event.id if self.event is not None else None,
            "duplicate": self.duplicate,
            "now": self.now.isoformat(),
            "new": self.new.to_dict(),
            "decision": self.decision.model_dump(mode="json"),
        }
        if self.cases:
            out["cases"] = {case_id: update.to_dict() for case_id, update in sorted(self.cases.items())}
        return out

    def to_json(self, *, indent: int | None = None) -> str:
        """:meth:`to_dict` as JSON text (UTF-8, Chinese unescaped)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)


@dataclass
class ReportState:
    """What one case's (or customer's) updates have reported, as kept in the store.

    ``seen`` maps an item key to the ``seq`` of the event whose update reported it first
    (0 for a refresh); ``tiers`` maps a customer to the tier reported last and that ``seq``.
    """

    seen: dict[str, int] = field(default_factory=dict)
    tiers: dict[str, tuple[str, int]] = field(default_factory=dict)
    # dumps() of the state as it is: a case's row is written on every append, while what
    # it reported changes on few of them.
    _text: str | None = field(default=None, init=False, repr=False, compare=False)
    # Items of the last decision already seen, by identity: the engine hands the same models
    # back while they stand, and they need no key worked out again.
    _known: dict[int, BaseModel] = field(default_factory=dict, init=False, repr=False, compare=False)
    # The decision last diffed: the engine hands the same one back when nothing changed.
    _last: Decision | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def loads(cls, text: str) -> ReportState:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(dict(data["seen"]), {k: (v[0], v[1]) for k, v in data["tiers"].items()})

    def dumps(self) -> str:
        if self._text is None:
            self._text = json.dumps(
                {"seen": self.seen, "tiers": {k: list(v) for k, v in self.tiers.items()}},
                ensure_ascii=False,
                separators=(",", ":"),
            )
        return self._text

    def see(self, key: str, seq: int) -> None:
        """Record that the update of event ``seq`` reported ``key`` first."""
        self.seen[key] = seq
        self._text = None

    def see_tier(self, customer_id: str, value: str, seq: int) -> None:
        """Record the tier the update of event ``seq`` reported for ``customer_id``."""
        self.tiers[customer_id] = (value, seq)
        self._text = None


def _key(kind: str, item: BaseModel) -> str:
    """An item's identity across updates: its ``id`` when it has one, else a digest of its JSON.

    Read from the model's own dicts: ``getattr`` on a model without the field goes through
    pydantic's slow ``__getattr__``; the JSON is rendered in Rust, fields in their declared
    order (the same item always gives the same bytes).
    """
    ident = item.__dict__.get("id")
    if ident is None and item.__pydantic_extra__:
        ident = item.__pydantic_extra__.get("id")
    if isinstance(ident, str) and ident:  # "" is the default of a part built without one
        return f"{kind}:{ident}"
    return f"{kind}#{hashlib.blake2b(item.model_dump_json().encode(), digest_size=12).hexdigest()}"


class _Diff:
    """One diff's bookkeeping: what ``state`` has seen, recorded under ``seq``."""

    def __init__(self, state: ReportState, seq: int, replay: bool) -> None:
        self.state, self.seq, self.replay = state, seq, replay
        self.changed = False
        self.known: dict[int, BaseModel] = {}  # becomes state._known: this decision's seen items

    def fresh(self, key: str) -> bool:
        first = self.state.seen.get(key)
        if first is None:
            self.state.see(key, self.seq)
            self.changed = True
            return True
        return self.replay and first == self.seq

    def fresh_items(self, kind: str, items: list[P]) -> list[P]:
        out = []
        before = self.state._known
        for item in items:
            if not self.replay and before.get(id(item)) is item:
                self.known[id(item)] = item  # seen in the last decision: not new
                continue
            if self.fresh(_key(kind, item)):
                out.append(item)
            else:
                self.known[id(item)] = item
        return out

    def tier_changed(self, tier: TierAssignment) -> bool:
        value = f"{tier.tier}/{tier.service_class}/{tier.service_level}"
        last = self.state.tiers.get(tier.customer_id)
        if last is None or last[0] != value:
            self.state.see_tier(tier.customer_id, value, self.seq)
            self.changed = True
            return True
        return self.replay and last[1] == self.seq


def diff(decision: Decision, state: ReportState, seq: int, *, replay: bool = False) -> tuple[New, bool]:
    """What in ``decision`` is new for ``state``, recording it under ``seq``.

    With ``replay`` (a duplicate delivery of the event ``seq``), items first reported by that
    event count as new again. Returns the new items and whether ``state`` changed.
    """
    if not replay and decision is state._last:
        return New(), False
    d = _Diff(state, seq, replay)
    new = New(
        escalations=d.fresh_items("escalation", decision.escalations),
        breaches=[o for o in decision.obligations if o.status == "breached" and d.fresh(f"breach:{o.id}")],
        warnings=d.fresh_items("warning", decision.warnings),
        violations=d.fresh_items("violation", decision.violations),
        tiers=[t for t in decision.tiers if d.tier_changed(t)],
    )
    state._known, state._last = d.known, decision
    return new, d.changed
