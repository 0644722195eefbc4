"""One case's conversation, as the etiquette checks read it.

A conversation is a phone call (a ``call_answered``, or a case opened on the phone) or an
in-person visit (a ``customer_arrived``, or a case opened in the lobby or on a visit): its
turns in order, each normalised once, with the parts of an agent's turn that are someone
else's words (quotation marks, reported speech) marked so they are never judged as the
agent's own; when it started, when the agent's opening was, and whether it has ended.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ..events import (
    CallAnswered,
    CallEnded,
    CaseOpened,
    ComplaintRegistered,
    CustomerArrived,
    CustomerLeft,
    EventBase,
    ReceptionCompleted,
    TransferCompleted,
    TransferRequested,
    Utterance,
)
from ..ruleset.etiquette import Opening, Wording
from ..text import Normalized, normalize

__all__ = ["Conversation", "Found", "Turn", "TurnCache", "Words"]

Channel = Literal["phone", "lobby"]
# Where a clause ends in normalised text (NFKC and the punctuation map make these ASCII).
_CLAUSE_END = re.compile(r"[,.!?;:]|$")
# 跟您说声抱歉, 跟您说句实话, 我再跟您说一遍编号, 跟您说明一下: a marker's words followed by
# these are the agent about to speak for themself; they report nobody's words (他说明天 and
# 您说明了热线答复过 do). 麻烦您讲一讲 / 您讲下 ask the customer to tell (您说下午 reports).
_SAYING_ONE = re.compile(
    r"一?声|句|一下|一遍|一次|两句|明一?下|清楚一?下|一讲|一说|下(?![午次个面周去来班月礼星])"
)
# 您说得对 / 您说的没错: agreeing with the customer, no words of theirs reported.
_AGREEING = re.compile(r"[得的](对|没错|有道理|在理)")
# 跟您说明调查结果: the agent explaining to the customer (商家跟您说明天 reports a date).
_EXPLAINING = re.compile(r"明(?![天早晚年日儿])")
_TO_THE_CUSTOMER = re.compile(r"(跟|和|给|向|同|为|对)(您|你)说$")
# 把您反映的情况复述一下: the marker names a thing said (情况, 问题), it does not report words; but
# 您说的不行 does (the customer's 不行), so only these nouns.
# 我跟您讲，这个不行 / 我跟你说，我不知道: the agent is the one saying, so the words are theirs.
_AGENT_SAYING = re.compile(r"我(这边|先|再|就|来|要|得|也)?(跟|和|给|同|对|向)?$")
# 您反映的态度问题 / 您说的这个事情: a few words may qualify the thing.
_THING_SAID = re.compile(
    r"的([^,.!?;:]{0,4}?(情况|问题|事情|事|内容|意见|诉求|要求|困扰)|几点|几个|这些|这个|那些|那个)"
)


@dataclass(frozen=True, slots=True)
class Found:
    """A match in a turn's normalised text: ``[start, end)``."""

    start: int
    end: int


# Results kept per compiled wording, by text: a session re-judges a growing conversation on
# every event, and the same turns must not be searched again. Bounded: cleared when full.
_RESULTS_CAP = 20_000


class Words:
    """A :class:`Wording` compiled once: its phrases (normalised) and patterns as one search."""

    def __init__(self, wording: Wording) -> None:
        keys = sorted({normalize(p).text for p in wording.phrases} - {""}, key=lambda k: (-len(k), k))
        parts = [re.escape(k) for k in keys] + [f"(?:{p})" for p in wording.patterns]
        self._pattern = re.compile("|".join(parts)) if parts else None
        self._first: dict[str, Found | None] = {}
        self._all: dict[str, tuple[Found, ...]] = {}

    def search(self, text: str, start: int = 0) -> Found | None:
        """The leftmost match at or after ``start``."""
        if self._pattern is None:
            return None
        if start:
            m = self._pattern.search(text, start)
            return Found(m.start(), m.end()) if m else None
        try:
            return self._first[text]
        except KeyError:
            m = self._pattern.search(text)
            found = Found(m.start(), m.end()) if m else None
            if len(self._first) >= _RESULTS_CAP:
                self._first.clear()
            self._first[text] = found
            return found

    def find_all(self, text: str) -> Iterator[Found]:
        """Every non-empty match, left to right."""
        if self._pattern is None:
            return iter(())
        found = self._all.get(text)
        if found is None:
            found = tuple(
                Found(m.start(), m.end()) for m in self._pattern.finditer(text) if m.end() > m.start()
            )
            if len(self._all) >= _RESULTS_CAP:
                self._all.clear()
            self._all[text] = found
        return iter(found)


# By identity: a check asks for its wordings on every evaluation, and hashing a frozen model
# (every phrase) costs more than the lookup. The wording is kept so its id stays its own.
_COMPILED: dict[int, tuple[Wording, Words]] = {}
_COMPILED_KEPT = 1024


def compiled(wording: Wording) -> Words:
    """The compiled form of a wording (wordings are frozen, so shared between calls)."""
    held = _COMPILED.get(id(wording))
    if held is not None and held[0] is wording:
        return held[1]
    words = Words(wording)
    if len(_COMPILED) >= _COMPILED_KEPT:
        _COMPILED.clear()
    _COMPILED[id(wording)] = (wording, words)
    return words


@dataclass(eq=False)
class Turn:
    """One utterance: its event, its normalised text, and who spoke."""

    event: Utterance
    norm: Normalized
    offset: float  # seconds since the conversation started
    quoted: list[tuple[int, int]] = field(default_factory=list)  # others' words, in norm.text
    continued: bool = False  # a quotation the speaker's previous turn left open goes on here
    reports_on: bool = False  # the turn ends on a reporting marker: the words are in the next turn
    reported: bool = False  # the speaker's previous turn ended on a reporting marker

    @property
    def leaves_quote_open(self) -> bool:
        """Whether the turn ends inside a quotation (an odd number of quotation marks, or one
        continued and never closed)."""
        return (self.norm.text.count('"') + self.continued) % 2 == 1

    @property
    def text(self) -> str:
        return self.norm.text

    @property
    def is_agent(self) -> bool:
        return self.event.speaker == "agent"

    def own(self, found: Found) -> bool:
        """Whether a match lies outside every quoted span (it is the speaker's own words)."""
        return not any(a <= found.start and found.end <= b for a, b in self.quoted)


E = TypeVar("E", bound=EventBase)


def _first(events: Sequence[EventBase], kind: type[E]) -> E | None:
    """The first event of a kind."""
    return next((e for e in events if isinstance(e, kind)), None)


def _staff(events: Sequence[EventBase]) -> tuple[str | None, str | None]:
    """The agent and team: the case's opening names them, else the first event that does."""
    staffed = sorted(
        (e for e in events if e.agent_id is not None or e.team is not None),
        key=lambda e: not isinstance(e, CaseOpened),
    )
    return (staffed[0].agent_id, staffed[0].team) if staffed else (None, None)


TurnCache = dict[int, Turn]
"""Turns already built, by ``id`` of their utterance (checked to be the same object)."""


def _reported_from_before(text: str, ends: Sequence[str]) -> tuple[int, int]:
    """The words the previous turn's reporting marker introduced (您是说卖场客服跟您讲 /
    不可能超过两天 对吧): from the start to the clause end or the agent's own voice."""
    end = _CLAUSE_END.search(text)
    stop = end.start() if end is not None else len(text)
    back = [i for i in (text.find(e, 0, stop) for e in ends if e) if i >= 0]
    return 0, min([stop, *back])


def _ends_reporting(text: str, quoted: Sequence[tuple[int, int]]) -> bool:
    """Whether the turn ends inside reported speech with no clause end (…跟您讲 / …您是说这笔):
    speech recognition cut it, and the words go on in the speaker's next turn."""
    # A turn ending on punctuation ended its clause (…原话是“这是规定”，); only a colon
    # (他说：) leaves the words to come.
    if not text or text.endswith((",", ".", "!", "?", ";")):
        return False
    stripped = len(text.rstrip(": "))
    # Only a few words after the marker: a turn that already said a clause of reported words
    # ended where the speaker paused (…您反映的态度问题我已经登记了 does not go on reporting).
    # Longer reported words go on only when the turn stops on a word no clause ends with
    # (…同事跟您讲 没有住址证明就 / 不行 是吗).
    limit = _CUT_REPORT_DANGLING if text.rstrip(": ").endswith(_DANGLING) else _CUT_REPORT
    return any(b >= stripped and b - a <= limit and text[a : a + 1] != '"' for a, b in quoted)


_CUT_REPORT = 6  # characters from a reporting marker to a turn's end that may still be cut
_CUT_REPORT_DANGLING = 24  # the same, when the turn stops mid-clause
_DANGLING = (
    "就",
    "才",
    "要",
    "会",
    "能",
    "得",
    "是",
    "不",
    "没",
    "都",
    "也",
    "还",
    "再",
    "把",
    "被",
    "给",
    "跟",
    "和",
    "对",
    "在",
    "让",
    "很",
    "太",
    "可以",
    "的话",
    "如果",
    "要是",
    "但是",
    "所以",
    "因为",
)


# Complexity C: quotation marks paired, then each reported-speech marker up to its clause end.
def _quoted_spans(
    text: str, markers: Sequence[str], ends: Sequence[str] = (), continued: bool = False
) -> list[tuple[int, int]]:
    """Text in quotation marks, and reported speech after a marker up to the end of its clause
    or the agent's own voice coming back (``ends``: 我先, 我复述, 您看…), whichever is first.
    说声 / 说句 after a marker (跟您说声抱歉) report nothing. ``continued``: the turn before left
    a quotation open (speech recognition cut 他说“这是规定， / 没有例外”，是吧), so the words up
    to the first quotation mark are quoted too; one left open here runs to the end."""
    spans: list[tuple[int, int]] = []
    opened: int | None = 0 if continued else None
    for i, ch in enumerate(text):
        if ch == '"':
            if opened is None:
                opened = i
            else:
                spans.append((opened, i + 1))
                opened = None
    if opened is not None:
        spans.append((opened, len(text)))
    for m in _marker_pattern(tuple(markers)).finditer(text) if markers else ():
        at, after = m.start(), m.start() + len(m.group(1))
        if _reports_nothing(text, at, after):
            continue
        end = _CLAUSE_END.search(text, after)
        stop = end.start() if end is not None else len(text)
        if stop == after and end is not None and text[stop : stop + 1] in (":", ","):
            # 他说：“…” / 他说，不可能 — the words follow the colon or comma
            nxt = _CLAUSE_END.search(text, stop + 1)
            stop = nxt.start() if nxt is not None else len(text)
        back = [i for i in (text.find(e, after, stop) for e in ends if e) if i >= 0]
        spans.append((at, min([stop, *back])))
    return spans


def _reports_nothing(text: str, at: int, after: int) -> bool:
    """Whether the marker at ``at`` (ending at ``after``) is the agent about to speak, agreeing
    or explaining, or naming a thing said, rather than reporting someone's words."""
    return bool(
        _SAYING_ONE.match(text, after)
        or _THING_SAID.match(text, after)
        or _AGREEING.match(text, after)
        or _AGENT_SAYING.search(text, 0, at)
        or (_EXPLAINING.match(text, after) and _TO_THE_CUSTOMER.search(text, 0, after))
    )


@functools.lru_cache(maxsize=16)
def _marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    """Every position a marker starts at (the longest marker there), in one scan of the text."""
    words = sorted({m for m in markers if m}, key=len, reverse=True)
    return re.compile("(?=(" + "|".join(re.escape(w) for w in words) + "))")


class Conversation:
    """A case's conversation: its channel, turns, opening, end, transfers and complaint."""

    # Complexity C: every part a check reads (channel, turns, opening, end, transfers) found once,
    # here, so the checks never scan the events themselves.
    def __init__(
        self,
        case_id: str,
        events: Sequence[EventBase],
        markers: Sequence[str] = (),
        turns: TurnCache | None = None,
        quote_ends: Sequence[str] = (),
    ) -> None:
        self.case_id = case_id
        self.events = list(events)
        self.opened = _first(events, CaseOpened)
        self.answered = _first(events, CallAnswered)
        self.arrived = _first(events, CustomerArrived)
        self.call_ended = _first(events, CallEnded)
        self.left = _first(events, CustomerLeft) or _first(events, ReceptionCompleted)
        self.transfers = [e for e in events if isinstance(e, TransferRequested | TransferCompleted)]
        self.complaint = _first(events, ComplaintRegistered)
        self.channel = self._channel()
        first = self.answered or self.arrived or self.opened or (events[0] if events else None)
        self.start: dt.datetime | None = first.at if first is not None else None
        utterances = [e for e in events if isinstance(e, Utterance)]
        self._markers = markers
        self._ends = quote_ends
        self._cache = turns
        self.turns: list[Turn] = []
        for u in utterances:
            self.turns.append(self._turn(u, markers, turns))
        self.agent = [t for t in self.turns if t.is_agent]
        self._next = {id(a): b for a, b in zip(self.turns, self.turns[1:], strict=False)}
        self._previous = {id(b): a for a, b in zip(self.turns, self.turns[1:], strict=False)}
        self.customer = [t for t in self.turns if not t.is_agent]
        self.agent_id, self.team = _staff(events)
        self.memo: dict[str, Any] = {}
        """What checks worked out over the turns so far (:meth:`extend` keeps it)."""

    # Complexity C: only later utterances extend a conversation; each other case returns False so
    # the caller rebuilds it (a rebuilt conversation is always right, an extended one fast).
    def extend(self, events: Sequence[EventBase]) -> bool:
        """Add later utterances (in order) to the conversation; False if ``events`` are anything
        else, or change who is staffed: then the conversation must be built again."""
        if not all(isinstance(e, Utterance) for e in events):
            return False
        if (
            self.agent_id is None
            and self.team is None
            and any(e.agent_id is not None or e.team is not None for e in events)
        ):
            return False
        for event in events:
            assert isinstance(event, Utterance)
            turn = self._turn(event, self._markers, self._cache)
            if self.turns:
                self._next[id(self.turns[-1])] = turn
                self._previous[id(turn)] = self.turns[-1]
            self.turns.append(turn)
            (self.agent if turn.is_agent else self.customer).append(turn)
        self.events.extend(events)
        if self.channel is None:  # words make it a call (see _channel)
            self.channel = self._channel()
        return True

    @property
    def markers(self) -> Sequence[str]:
        return self._markers

    def _channel(self) -> Channel | None:
        if self.answered is not None or self.call_ended is not None:
            return "phone"
        if self.arrived is not None or self.left is not None:
            return "lobby"
        if self.opened is not None:
            return "phone" if self.opened.channel == "phone" else "lobby"
        # Only utterances: judged as a call (Q1's generic greeting fits either way).
        return "phone" if any(isinstance(e, Utterance) for e in self.events) else None

    # Complexity C: the cached turn reused only when its context (offset, quote, report) is the same.
    def _turn(self, event: Utterance, markers: Sequence[str], cache: TurnCache | None) -> Turn:
        offset = self._offset(event)
        last = self.turns[-1] if self.turns else None
        same = last is not None and last.event.speaker == event.speaker
        continued = same and last is not None and last.leaves_quote_open
        reported = same and last is not None and last.reports_on
        if cache is not None:
            held = cache.get(id(event))
            if (
                held is not None
                and held.event is event
                and held.offset == offset
                and held.continued == continued
                and held.reported == reported
            ):
                return held
        norm = normalize(event.text)
        agent = event.speaker == "agent"
        quoted = _quoted_spans(norm.text, markers, self._ends, continued) if agent else []
        if agent and reported:
            quoted.append(_reported_from_before(norm.text, self._ends))
        reports_on = agent and _ends_reporting(norm.text, quoted)
        turn = Turn(event, norm, offset, quoted, continued, reports_on, reported)
        if cache is not None:
            cache[id(event)] = turn
        return turn

    def _offset(self, event: Utterance) -> float:
        if event.offset_seconds is not None and self.answered is not None:
            return event.offset_seconds
        return (event.at - self.start).total_seconds() if self.start is not None else 0.0

    @property
    def is_conversation(self) -> bool:
        """Something to judge: a call, or words said."""
        return self.answered is not None or bool(self.turns)

    @property
    def ended(self) -> EventBase | None:
        """The event that ended it: the call, or the customer leaving."""
        return self.call_ended if self.channel == "phone" else (self.left or self.call_ended)

    def next_turn(self, turn: Turn) -> Turn | None:
        """The utterance after ``turn`` (anyone's), if any."""
        return self._next.get(id(turn))

    def previous_turn(self, turn: Turn) -> Turn | None:
        """The utterance before ``turn`` (anyone's), if any."""
        return self._previous.get(id(turn))

    def search_on(self, words: Words, turn: Turn) -> Found | None:
        """A match in ``turn``, or one that speech recognition split into the same speaker's next
        turn (先把您的身份证 / 给我登记一下): then the part in ``turn``."""
        found = words.search(turn.text)
        if found is not None:
            return found
        nxt = self._next.get(id(turn))
        if nxt is None or nxt.event.speaker != turn.event.speaker:
            return None
        joined = words.search(turn.text + nxt.text)
        if joined is not None and joined.start < len(turn.text) < joined.end:
            return Found(joined.start, len(turn.text))
        return None

    def opening_open_until(self, spec: Opening, now: dt.datetime | None) -> dt.datetime | None:
        """When the agent's opening window closes, if more of the opening may still come at
        ``now``; None once it is complete (or without ``now``: judge what there is).

        Complete: the conversation has ended, the customer has spoken after the agent's first
        turn, the agent has said ``spec.turns`` turns or spoken past the window, or ``now``
        has reached the window's end. Until then a missing greeting or name may yet be said.
        """
        if now is None or not self.agent or self.ended is not None:
            return None
        first = self.agent[0]
        end = first.event.at + dt.timedelta(seconds=spec.seconds)
        if now >= end or len(self.agent) >= spec.turns or self.agent[-1].event.at > end:
            return None
        if any(t.event.at > first.event.at for t in self.customer):
            return None
        return end

    def settled_opening(self, spec: Opening) -> bool:
        """Whether no later turn can join the opening: the customer has spoken after the
        agent's first turn, or the agent has said ``spec.turns`` turns or spoken past the window.

        Turns only ever join a conversation at its end (:meth:`extend`), so once settled the
        opening stays what it is, whatever ``now``.
        """
        if not self.agent:
            return False
        first = self.agent[0].event.at
        return (
            len(self.agent) >= spec.turns
            or self.agent[-1].event.at - first > dt.timedelta(seconds=spec.seconds)
            or any(t.event.at > first for t in self.customer)
        )

    def opening(self, spec: Opening) -> list[Turn]:
        """The agent's opening: what they say before the customer first speaks (at least their
        first turn), within ``spec.seconds`` of their first turn, at most ``spec.turns`` turns.

        Speech recognition splits one opening over several turns; a greeting said only after
        the customer has spoken is an answer, not the opening.
        """
        if not self.agent:
            return []
        first = self.agent[0]
        window = dt.timedelta(seconds=spec.seconds)
        replied = next((t.event.at for t in self.customer if t.event.at > first.event.at), None)
        found = []
        for t in self.agent:  # in time order: stop at the first turn past the opening
            if t.event.at - first.event.at > window or (replied is not None and t.event.at >= replied):
                break
            found.append(t)
            if len(found) == spec.turns:
                break
        return (found or [first])[: spec.turns]
