"""Conversation etiquette (docs/policy.md Q1-Q9) and the per-conversation scorecard (A1).

The ``etiquette`` section (:mod:`tierrules.ruleset.etiquette`) applied by
:class:`EtiquetteChecker`: pure Python over the validated, time-ordered events of every case
that is a conversation (:class:`~tierrules.evaluation.conversation.Conversation`). Text is
matched on normalised text (:mod:`tierrules.text`: traditional or simplified, either
punctuation width, no spaces between Chinese characters); every piece of evidence is a span
of the utterance *as received*: ``utterance.text[start:end] == evidence.text``.

Judgements follow what a careful reviewer decides (docs/etiquette.md has a table per clause):
each check decides by the construction, not by a list of tested sentences, and reports
``review`` rather than ``fail`` where the construction is ambiguous.

Scoring (A1): every scorecard item names the checks it covers. An item is *not applicable*
(left out of ``max``) when none of its checks applied to the case (no transfer: Q7 is N/A);
it fails when one of its checks produced a ``fail`` violation (``review`` violations are for
a person to judge and never cost points); an ``auto_fail`` item that fails sets the score to
0 and fails the case. ``passed`` needs ``score / max * 100 >= pass_percent``.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from ..events import CallAnswered, CaseOpened, EventBase, TransferCompleted, TransferRequested, Utterance
from ..ruleset.etiquette import (
    COMPLAINT_STEPS,
    Check,
    ClosingCheck,
    ComplaintConversationCheck,
    CustomerNameCheck,
    EtiquetteSpec,
    ForbiddenPhrasesCheck,
    GreetingCheck,
    GreetingSlot,
    IdentityCheck,
    PaceCheck,
    PhoneOpeningCheck,
    PhraseSpec,
    Scorecard,
    Severity,
    TransferCheck,
    VipGreeting,
    default_phrases,
)
from ..text import Match, Normalized, PhraseMatcher, char_count, normalize
from .conversation import Conversation, Found, Turn, TurnCache, Words, compiled

__all__ = ["EtiquetteChecker", "EtiquetteResult", "default_matcher", "evaluate_etiquette"]

TierLevel = Callable[[str | None, dt.datetime], int | None]


@functools.cache
def default_matcher() -> PhraseMatcher:
    """The matcher for the default forbidden phrases, built on first use."""
    return PhraseMatcher(default_phrases())


@dataclass(frozen=True)
class EtiquetteResult:
    """Violations and scores of every judged case, and when a case's verdict can change
    without a new event (a name window still open closes)."""

    violations: list[dict[str, Any]]
    scores: list[dict[str, Any]]
    next_checks: dict[str, dt.datetime]


def _anchor(event: EventBase | None, at: dt.datetime) -> str:
    """What a violation is about, stable as more events arrive: the host's event id, else the
    instant (UTC) of the event or of the judgement."""
    if event is not None and event.id is not None:
        return event.id
    when = event.at if event is not None else at
    return when.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def _evidence(turn: Turn, found: Found) -> Match:
    start, end = turn.norm.span(found.start, found.end)
    return Match("", start, end, turn.norm.original[start:end])


class _Out:
    """Collects violations and which checks applied, for one conversation."""

    def __init__(self, conv: Conversation) -> None:
        self.conv = conv
        self.violations: list[dict[str, Any]] = []
        self.applied: set[str] = set()
        self.next_check: dt.datetime | None = None
        self._ids: set[str] = set()

    def check_at(self, when: dt.datetime) -> None:
        """Ask again at ``when``: a verdict waits for a window that is still open."""
        if self.next_check is None or when < self.next_check:
            self.next_check = when

    def add(
        self,
        rule: Check,
        at: dt.datetime,
        zh: str,
        en: str,
        evidence: Match | None = None,
        severity: Severity | None = None,
        event: EventBase | None = None,
        **extra: Any,
    ) -> None:
        self.violations.append(self.make(rule, at, zh, en, evidence, severity, event, **extra))

    def make(
        self,
        rule: Check,
        at: dt.datetime,
        zh: str,
        en: str,
        evidence: Match | None = None,
        severity: Severity | None = None,
        event: EventBase | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A violation with its id (unique in the conversation), not yet added."""
        what = str(extra.get("missing") or extra.get("phrase") or extra.get("expected") or "")
        if evidence is not None:
            what = f"{what}@{evidence.start}"
        base = f"{self.conv.case_id}/{rule.id}/{_anchor(event, at)}" + (f"/{what}" if what else "")
        key, n = base, 1
        while key in self._ids:  # two findings of one kind in one event
            n += 1
            key = f"{base}/{n}"
        self._ids.add(key)
        return {
            "id": key,
            "rule": rule.id,
            "source": rule.source,
            "case_id": self.conv.case_id,
            "at": at,
            "severity": severity or rule.severity,
            "evidence": evidence.evidence if evidence is not None else None,
            "message": {"zh": zh, "en": en},
            "agent_id": self.conv.agent_id,
            "team": self.conv.team,
            "event_id": event.id if event is not None else None,
            **extra,
        }

    def part(self) -> _Out:
        """An empty output for one check of the same conversation (ids stay unique across)."""
        out = _Out(self.conv)
        out._ids = self._ids
        return out

    def merge(self, found: Sequence[dict[str, Any]], applied: set[str], check: dt.datetime | None) -> None:
        """Add one check's findings (:meth:`part`'s, or the same kept from an earlier call)."""
        self.keep(found)
        self.applied |= applied
        if check is not None:
            self.check_at(check)

    def keep(self, found: Iterable[dict[str, Any]]) -> None:
        """Add violations made before (kept in the conversation's memo), ids and all."""
        for v in found:
            self._ids.add(v["id"])
            self.violations.append(v)


def _first_in(turns: Sequence[Turn], find: Callable[[str], Found | None]) -> tuple[Turn, Found] | None:
    for turn in turns:
        found = find(turn.text)
        if found is not None:
            return turn, found
    return None


def _first_said(conv: Conversation, turns: Sequence[Turn], words: Words) -> tuple[Turn, Found] | None:
    """The first of ``turns`` that says ``words``, alone or run on into the speaker's next turn
    (speech recognition cut 请问还有 / 其他可以帮您的吗): the part in the turn."""
    for turn in turns:
        found = words.search(turn.text) or words.search(_with_next(conv, turn))
        if found is not None and found.start < len(turn.text):
            return turn, Found(found.start, min(found.end, len(turn.text)))
    return None


# --- Q1 greeting --------------------------------------------------------------------------------


def _slot_at(slots: Sequence[GreetingSlot], minute: int) -> int:
    """The index of the slot in force at a minute of the day (the last wraps past midnight)."""
    index = len(slots) - 1
    for i, start in enumerate(_starts(tuple(slots))):
        if start <= minute:
            index = i
    return index


@functools.lru_cache(maxsize=64)
def _starts(slots: tuple[GreetingSlot, ...]) -> tuple[int, ...]:
    return tuple(slot.minutes() for slot in slots)


def _fitting_slots(rule: GreetingCheck, local: dt.datetime) -> set[int]:
    """The slot in force, and a neighbour within ``boundary_minutes`` of a boundary."""
    minute = local.hour * 60 + local.minute
    day = 24 * 60
    found = {_slot_at(rule.slots, minute)}
    for shift in (-rule.boundary_minutes, rule.boundary_minutes):
        found.add(_slot_at(rule.slots, (minute + shift) % day))
    return found


_VIP = -1  # the VIP form: a greeting that fits any hour, strict or not


Slots = frozenset[int] | None  # the slots a greeting fits; None: any hour


def _greetings(rule: GreetingCheck) -> list[tuple[str, Slots]]:
    """(normalised greeting, the slots it fits; None for a generic one, {_VIP} for the VIP form),
    longest first. A greeting listed in two slots fits both (午安: midday and afternoon)."""
    found: dict[str, Slots] = {}
    for i, slot in enumerate(rule.slots):
        for g in slot.greetings:
            key = normalize(g).text
            found[key] = (found.get(key) or frozenset()) | {i}
    for g in rule.generic:
        found[normalize(g).text] = None
    for g in rule.vip.phrases if rule.vip is not None else ():
        found[normalize(g).text] = frozenset({_VIP})
    return sorted(found.items(), key=lambda kv: (-len(kv[0]), kv[0]))


def _greeting_pattern(rule: GreetingCheck) -> tuple[re.Pattern[str], dict[str, Slots]]:
    table = _greetings(rule)
    parts = [re.escape(k) for k, _ in table]
    if rule.vip is not None and rule.vip.address is not None:
        head, tail = (normalize(p).text for p in rule.vip.address)
        parts.append(f"(?P<vip>{re.escape(head)}.{{0,{rule.vip.max_gap}}}?{re.escape(tail)})")
    return re.compile("|".join(parts)), dict(table)


_greeting_pattern_of = functools.lru_cache(maxsize=64)(_greeting_pattern)


def _first_greeting(rule: GreetingCheck, opening: Sequence[Turn]) -> tuple[Turn, Found, Slots] | None:
    pattern, slots = _greeting_pattern_of(rule)
    # The opening's turns follow one another, so a greeting may run from one into the next
    # (晚上 / 好 这里是京东客服): the match counts where it starts.
    for turn, nxt in zip(opening, [*opening[1:], None], strict=True):
        m = pattern.search(turn.text + (nxt.text if nxt is not None else ""))
        if m is not None and m.start() < len(turn.text):
            slot = frozenset({_VIP}) if m.groupdict().get("vip") else slots[m.group()]
            return turn, Found(m.start(), min(m.end(), len(turn.text))), slot
    return None


# Complexity C: Q1's decision table (waiting opening, no greeting, wrong slot, generic in a strict
# lobby, VIP) kept in one place so the table in docs/etiquette.md can be read against it.
def _greeting(
    rule: GreetingCheck,
    conv: Conversation,
    spec: EtiquetteSpec,
    out: _Out,
    tz: dt.tzinfo,
    tier_level: TierLevel | None,
    now: dt.datetime | None,
) -> None:
    opening = conv.opening(spec.opening)
    if not opening or conv.channel not in rule.channels:
        return
    open_until = conv.opening_open_until(spec.opening, now)
    if open_until is not None:  # the greeting may be in the opening's next turn
        out.check_at(open_until)
        return
    out.applied.add(rule.id)
    first = opening[0]
    local = first.event.at.astimezone(tz)
    when = local.strftime("%H:%M")
    fitting = _fitting_slots(rule, local)
    expected = rule.slots[_slot_at(rule.slots, local.hour * 60 + local.minute)].greeting
    heard = _first_greeting(rule, opening)
    if heard is None:
        out.add(
            rule,
            first.event.at,
            f"{when} 开场未听到问候语（应为“{expected}”或“您好”）",
            f"no greeting in the opening at {when} (expected {expected!r} or 您好)",
            event=first.event,
            expected=expected,
            heard=None,
        )
        return
    turn, found, slot = heard
    evidence = _evidence(turn, found)
    strict_in_person = rule.strict and conv.channel == "lobby"
    vip = slot is not None and _VIP in slot
    if not vip and ((slot is None and strict_in_person) or (slot is not None and slot.isdisjoint(fitting))):
        out.add(
            rule,
            turn.event.at,
            f"{when} 应问候“{expected}”，实际说了“{evidence.text}”",
            f"at {when} the greeting should be {expected!r}; heard {evidence.text!r}",
            evidence,
            event=turn.event,
            expected=expected,
            heard=evidence.text,
        )
    if rule.strict:
        _strict_additions(rule, conv, opening, out, tier_level)


# Complexity C: the two strict-only additions side by side; both read the same opening text.
def _strict_additions(
    rule: GreetingCheck, conv: Conversation, opening: Sequence[Turn], out: _Out, tier_level: TierLevel | None
) -> None:
    """The strict reading: the regulars' addition, and the VIP form in person."""
    text = "".join(t.text for t in opening)
    first = opening[0]
    if rule.regular_phrases and conv.opened is not None and conv.opened.returning:
        keys = [normalize(p).text for p in rule.regular_phrases]
        if not any(k and k in text for k in keys):
            out.add(
                rule,
                first.event.at,
                f"老客户问候应加上“{rule.regular_phrases[0]}”",
                f"a returning customer's greeting should add {rule.regular_phrases[0]!r}",
                event=first.event,
                expected=rule.regular_phrases[0],
                regular=True,
            )
    if (
        rule.vip is not None
        and conv.channel == "lobby"
        and _is_vip(rule.vip, conv, first.event.at, tier_level)
        and not _vip_heard(rule.vip, text)
    ):
        out.add(
            rule,
            first.event.at,
            "贵宾客户应使用贵宾问候（如 尊敬的XX客户，欢迎您再次莅临）",
            "a VIP customer should hear the VIP greeting (e.g. 尊敬的XX客户，欢迎您再次莅临)",
            event=first.event,
            expected="VIP",
            vip=True,
        )


def _is_vip(vip: VipGreeting, conv: Conversation, at: dt.datetime, tier_level: TierLevel | None) -> bool:
    if conv.arrived is not None and conv.arrived.vip:
        return True
    customer = conv.opened.customer_id if conv.opened is not None else None
    return tier_level is not None and customer is not None and tier_level(customer, at) in vip.levels


def _vip_heard(vip: VipGreeting, text: str) -> bool:
    if any(normalize(p).text in text for p in vip.phrases):
        return True
    if vip.address is None:
        return False
    head, tail = (normalize(part).text for part in vip.address)
    return bool(
        head and tail and re.search(re.escape(head) + f".{{0,{vip.max_gap}}}?" + re.escape(tail), text)
    )


# --- Q2 phone opening ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def organisation_forms(name: str, aliases: tuple[str, ...], affixes: tuple[str, ...]) -> frozenset[str]:
    """The ways an agent names the organisation: its name, the given aliases, the name without
    a bracketed part or its affixes (中国, 有限公司...), and the usual two-character short forms
    of a longer name (交通银行 → 交行, 中国银行 → 中银 / 中行, 星河银行 → 星河)."""
    full = normalize(name).text
    bare = re.sub(r"\(.*?\)|\[.*?\]", "", full)
    forms = {full, bare, *(normalize(a).text for a in aliases)}
    for base in (bare, _strip_affixes(bare, affixes)):
        forms.add(base)
        if len(base) >= 4:
            forms |= {base[:2], base[0] + base[-1], base[0] + base[2]}
    # A word any organisation of the kind says (这里是银行) does not name this one.
    return frozenset(f for f in forms if len(f) >= 2 and f not in _GENERIC_NAMES)


_GENERIC_NAMES = frozenset(
    (
        "中国",
        "银行",
        "公司",
        "集团",
        "保险",
        "证券",
        "基金",
        "客服",
        "中心",
        "服务",
        "医院",
        "酒店",
        "快递",
        "物业",
    )
)


def _strip_affixes(name: str, affixes: Sequence[str]) -> str:
    core = name
    changed = True
    while changed:
        changed = False
        for affix in (normalize(a).text for a in affixes):
            if affix and core.startswith(affix) and len(core) > len(affix) + 1:
                core, changed = core[len(affix) :], True
            if affix and core.endswith(affix) and len(core) > len(affix) + 1:
                core, changed = core[: -len(affix)], True
    return core


def names_organisation(text: str, name: str, aliases: Iterable[str], affixes: Sequence[str]) -> bool:
    """Whether ``text`` names the organisation: one of its forms, or four characters or more of
    its name in a row (a name said without its city: 永达丰田浦东店 for 上海永达丰田浦东店)."""
    if any(form in text for form in organisation_forms(name, tuple(aliases), tuple(affixes))):
        return True
    full = re.sub(r"\(.*?\)", "", normalize(name).text)
    run = min(4, len(full))
    return any(full[i : i + run] in text for i in range(len(full) - run + 1))


# Characters any organisation of a kind has (银行, 公司, 中心...): sharing only these is no resemblance.
_GENERIC_CHARS = frozenset("".join(_GENERIC_NAMES) + "有限责任股份总分支店部")


def organisation_said(text: str, rule: PhoneOpeningCheck, greetings: Sequence[str]) -> str:
    """The words of a (normalised) opening in the organisation's place: after a lead-in
    (这里是), else before the agent introduces themselves (我是), without greetings and fillers."""
    cut = min(
        (i for w in rule.self_introductions if (i := text.find(normalize(w).text)) >= 0), default=len(text)
    )
    head = text[:cut]
    for lead in (normalize(w).text for w in rule.organisation_lead_ins):
        at = head.rfind(lead)
        if at >= 0:
            head = head[at + len(lead) :]
    for word in sorted(
        {normalize(w).text for w in (*greetings, *rule.opening_fillers)}, key=len, reverse=True
    ):
        if word:
            head = head.replace(word, " ")
    return "".join(re.findall(r"[\u4e00-\u9fff0-9a-z]+", head))


def resembles_organisation(said: str, name: str) -> bool:
    """Whether ``said`` shares two characters with the organisation's name, in the same order,
    at least one of them not a word every organisation of its kind has (六院 and 上海市第六人民医院)."""
    full = normalize(name).text
    shared: list[str] = []
    start = 0
    for ch in said:
        at = full.find(ch, start)
        if at >= 0:
            shared.append(ch)
            start = at + 1
    return len(shared) >= 2 and any(ch not in _GENERIC_CHARS for ch in shared)


@functools.lru_cache(maxsize=4096)
def agent_name_forms(name: str, prefixes: tuple[str, ...], compound: tuple[str, ...]) -> frozenset[str]:
    """The agent's full name, given name (two characters or more), 小/老 + surname or one of the
    given name's characters (林芳瑜: 小芳, 小瑜), and a given name's character doubled (芳芳)."""
    full = normalize(name).text
    surname = _surname(name, compound)
    given = full[len(surname) :]
    forms = {full, *(ch + ch for ch in given)}
    if len(given) >= 2:
        forms.add(given)
    for prefix in prefixes:
        forms.add(prefix + surname)
        forms.update(prefix + ch for ch in given)
    return frozenset(f for f in forms if len(f) >= 2)


def _phone_opening(
    rule: PhoneOpeningCheck,
    conv: Conversation,
    spec: EtiquetteSpec,
    out: _Out,
    tier_level: TierLevel | None,
    compound: tuple[str, ...],
    now: dt.datetime | None,
) -> None:
    if conv.channel != "phone" or (conv.answered is None and not conv.agent):
        return
    out.applied.add(rule.id)
    if conv.answered is not None:
        _rings(rule, conv, conv.answered, out, tier_level)
    opening = conv.opening(spec.opening)
    if not opening or conv.opened is None:
        return
    open_until = conv.opening_open_until(spec.opening, now)
    if open_until is not None:  # the names may be in the opening's next turn
        out.check_at(open_until)
        return
    _opening_names(rule, conv.opened, opening, out, compound, _greeting_words(spec.greeting))


def _greeting_words(rule: GreetingCheck | None) -> list[str]:
    """Every greeting Q1 knows (none without a greeting check)."""
    if rule is None:
        return []
    return [g for slot in rule.slots for g in slot.greetings] + list(rule.generic)


# Complexity C: organisation, then the agent's name (a staff number instead of it: review).
def _opening_names(
    rule: PhoneOpeningCheck,
    opened: CaseOpened,
    opening: Sequence[Turn],
    out: _Out,
    compound: tuple[str, ...],
    greetings: Sequence[str] = (),
) -> None:
    """Q2's words: the complete opening names the organisation and the agent."""
    text = "".join(t.text for t in opening)
    first = opening[0]
    if (
        rule.require_organisation
        and opened.organisation
        and not names_organisation(
            text, opened.organisation, opened.organisation_aliases, rule.organisation_affixes
        )
    ):
        # Words in the organisation's place that share its characters are a short form the
        # lists cannot derive (六院 for 上海市第六人民医院); other words there are for review.
        said = organisation_said(text, rule, greetings)
        if not said or not resembles_organisation(said, opened.organisation):
            out.add(
                rule,
                first.event.at,
                f"开场未报单位名称“{opened.organisation}”" + (f"（所报“{said}”与之不符）" if said else ""),
                f"the opening does not state the organisation {opened.organisation!r}"
                + (f" (it names {said!r})" if said else ""),
                severity="review" if said else None,
                event=first.event,
                missing="organisation",
            )
    if rule.require_agent_name and opened.agent_name:
        forms = agent_name_forms(opened.agent_name, rule.name_prefixes, compound) | {
            normalize(intro).text + _surname(opened.agent_name, compound)
            for intro in rule.surname_introductions
        }
        if not any(f in text for f in forms):
            number = compiled(rule.staff_number).search(text)
            out.add(
                rule,
                first.event.at,
                "开场只报了工号，未报本人姓名" if number else f"开场未报本人姓名“{opened.agent_name}”",
                "the opening gives a staff number, not the agent's name"
                if number
                else f"the opening does not state the agent's name {opened.agent_name!r}",
                severity="review" if number else None,
                event=first.event,
                missing="agent_name",
            )


def _rings(
    rule: PhoneOpeningCheck,
    conv: Conversation,
    answered: CallAnswered,
    out: _Out,
    tier_level: TierLevel | None,
) -> None:
    limit = rule.max_rings
    if rule.max_rings_level1 is not None and tier_level is not None:
        customer = conv.opened.customer_id if conv.opened is not None else None
        if tier_level(customer, answered.at) == 1:
            limit = rule.max_rings_level1
    if answered.rings > limit:
        out.add(
            rule,
            answered.at,
            f"电话响铃 {answered.rings} 声才接听，应在 {limit} 声内接听",
            f"answered after {answered.rings} rings; the limit is {limit}",
            event=answered,
            rings=answered.rings,
            max_rings=limit,
        )


# --- Q4 customer name ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _surname(name: str, compound: tuple[str, ...]) -> str:
    """The surname: a listed compound one, else two characters of a four-character name
    (given names have one or two: 张简雅婷 is 张简 + 雅婷), else the first character."""
    full = normalize(name).text
    for c in sorted(compound, key=len, reverse=True):
        key = normalize(c).text
        if full.startswith(key) and len(full) > len(key):
            return key
    return full[:2] if len(full) == 4 else full[:1]


@functools.lru_cache(maxsize=4096)
def _name_pattern(rule: CustomerNameCheck, name: str, gender: str | None) -> re.Pattern[str]:
    """The right ways to say one person's name: full name, or surname + a fitting honorific."""
    surname = _surname(name, rule.compound_surnames)
    full = normalize(name).text
    honorifics = list(rule.titles)
    if gender in (None, "unknown", "male"):
        honorifics += rule.male
    if gender in (None, "unknown", "female"):
        honorifics += rule.female
    keys = {full} | {surname + normalize(h).text for h in honorifics}
    if len(full) == 4 and len(surname) == 2 and gender != "male":
        # Or a married name, the husband's surname first (陈李淑芬): Mrs Chan is 陈太 / 陈太太.
        keys |= {full[:1] + normalize(h).text for h in rule.female if normalize(h).text.startswith("太")}
    ordered = sorted(keys, key=lambda k: (-len(k), k))
    return re.compile("|".join(re.escape(k) for k in ordered))


@functools.lru_cache(maxsize=64)
def _any_address(rule: CustomerNameCheck) -> re.Pattern[str]:
    """Anyone addressed by surname + honorific (for who is greeted first in a group)."""
    # 生 and 太 (梁生, 李太) address someone only as a word of their own: 光临太平洋 and 不太 do not.
    single = {normalize(h).text for h in (*rule.male, *rule.female)} - {
        normalize(h).text for h in (*rule.male, *rule.female) if len(normalize(h).text) > 1
    }
    named = (*rule.male, *rule.female, *rule.titles, *rule.familiar_addresses)
    honorifics = sorted({normalize(h).text for h in named} - single, key=len, reverse=True)
    alone = f"(?:{'|'.join(map(re.escape, sorted(single)))})(?=[^\u4e00-\u9fff]|$|您|你|好|请|这|早|午|晚)"
    compound = "|".join(re.escape(normalize(c).text) for c in rule.compound_surnames)
    # A character before an honorific is a surname unless it is a word that is not (请问先生, 这位女士).
    words = "|".join(map(re.escape, honorifics)) + (f"|{alone}" if single else "")
    return re.compile(f"(?:{compound}|(?![{_NOT_SURNAMES}])[\u4e00-\u9fff])(?:{words})")


_NOT_SURNAMES = (
    "问位这那个的好请各老您你我他她是和跟与及对给为向让叫称姓名了吗呢啊嗯女小大两三几每某该此本贵令先学医"
    # Particles: speech recognition drops the comma in 三位是一起的吧 先生您好.
    "吧呀哦啦嘛喔呗哇噢诶欸哎唉喂"
    # Familiar forms doubled or combined address no surname (伯伯早安, 叔叔, 姐姐).
    "伯叔姐哥婶姨妈爷"
)


# Complexity C: the window's gate (still open, ended, judged) and who is named; the count is
# _name_mentions, the group's leader _leader_first.
def _customer_name(rule: CustomerNameCheck, conv: Conversation, out: _Out, now: dt.datetime | None) -> None:
    opened = conv.opened
    if opened is None or not conv.agent or not (opened.customer_name or opened.group_leader_name):
        return
    window_start = conv.start or conv.agent[0].event.at
    window_end = window_start + dt.timedelta(seconds=rule.within_seconds)
    ended = conv.ended
    if now is not None and now < window_end and ended is None:
        out.check_at(window_end)  # the window is still open: judged when it closes
        return
    out.applied.add(rule.id)
    if opened.customer_name:
        at = window_end if ended is None else min(window_end, ended.at)
        _name_mentions(rule, conv, opened.customer_name, opened.customer_gender, at, out)
    if rule.group_leader_first and opened.group_leader_name:
        _leader_first(rule, conv, out)


def _name_mentions(
    rule: CustomerNameCheck, conv: Conversation, name: str, gender: str | None, at: dt.datetime, out: _Out
) -> None:
    """Q4's count: correct mentions in the turns said within the window, kept as the
    conversation grows (and the finding with them, id and all, while the count stands)."""
    memo: dict[str, Any] = conv.memo.setdefault(rule.id, {"turns": 0, "mentions": 0})
    new = conv.agent[memo["turns"] :]
    if new:
        pattern = _name_pattern(rule, name, gender)
        for t in new:
            if _within(t, conv, rule.within_seconds):
                said = [m.group() for m in pattern.finditer(t.text)]
                own = [m for m in said if not _named_by_customer(conv, t, m)]
                memo["mentions"] += len(own) + _cut_mentions(conv, t, pattern)
    memo["turns"] = len(conv.agent)
    mentions: int = memo["mentions"]
    if mentions >= rule.min_mentions:
        return
    held = memo.get("found")
    if held is not None and held[0] == (mentions, at):
        out.keep(held[1])
        return
    part = out.part()
    within, least = f"{rule.within_seconds:g}", rule.min_mentions
    part.add(
        rule,
        at,
        f"前 {within} 秒内正确称呼客户 {mentions} 次，应至少 {least} 次",
        f"the customer's name was said correctly {mentions} time(s) in the first "
        f"{within} s; at least {least} required",
        mentions=mentions,
    )
    memo["found"] = ((mentions, at), part.violations)
    out.keep(part.violations)


# Titles by position: the customer may hold one, and so may someone they ask for.
_POSITION = re.compile("(医生|医师|大夫|老师|经理|总|主任|律师|教授|院长|处长|科长|局长|董)$")
# The customer asking for someone by department or errand: 消化内科刘医生, 约骨科陈医生.
_ASKED_FOR = re.compile("(科|部|室|中心|门诊|找|约|挂|问)[^,.!?]{0,3}$")


def _named_by_customer(conv: Conversation, turn: Turn, form: str) -> bool:
    """Whether ``form`` is a title the customer used before ``turn`` for someone they asked for
    (消化内科 刘医生 / 好的 刘医生开的: the doctor, not the customer)."""
    if not _POSITION.search(form):
        return False
    for said in conv.customer:
        if said.event.at > turn.event.at:
            break
        at = said.text.find(form)
        if (
            at >= 0
            and _ASKED_FOR.search(said.text[:at])
            and not _INTRODUCES.search(_clause_before(said.text, at))
        ):
            return True
    return False


# The customer giving their own title: 我是县医院骨科的刘医生.
_INTRODUCES = re.compile("(我|本人)(就)?(是|系|叫)")


def _clause_before(text: str, at: int) -> str:
    return text[_start_of(text, at, ",.!?;") : at]


def _start_of(text: str, at: int, marks: str) -> int:
    """Where the clause or sentence holding ``at`` starts: after the last of ``marks`` before it."""
    return max(text.rfind(ch, 0, at) for ch in marks) + 1


def _around_cut(conv: Conversation, turn: Turn) -> tuple[str, int] | None:
    """The words either side of the cut between the speaker's previous turn and this one, and
    where the cut is; None when the previous turn is not the same breath."""
    before = conv.previous_turn(turn)
    if before is None or not _one_breath(conv, before, turn):
        return None
    tail = before.text[-_AROUND_CUT:]
    return tail + turn.text[:_AROUND_CUT], len(tail)


def _cut_mentions(conv: Conversation, turn: Turn, pattern: re.Pattern[str]) -> int:
    """Mentions speech recognition cut between the speaker's previous turn and this one
    (请问是上官 / 女士吗)."""
    around = _around_cut(conv, turn)
    if around is None:
        return 0
    text, cut = around
    return sum(1 for m in pattern.finditer(text) if m.start() < cut < m.end())


def _within(turn: Turn, conv: Conversation, seconds: float) -> bool:
    """Whether a turn was said in the first ``seconds``: by its ``offset_seconds`` or by its
    time since the call was answered, whichever is less (hosts count offsets from the first
    ring or from the answer; the name said 52 s after the answer is within the minute)."""
    start = conv.start
    since = (turn.event.at - start).total_seconds() if start is not None else turn.offset
    return min(turn.offset, since) <= seconds


def _leader_first(rule: CustomerNameCheck, conv: Conversation, out: _Out) -> None:
    assert conv.opened is not None and conv.opened.group_leader_name
    leader = _name_pattern(rule, conv.opened.group_leader_name, conv.opened.group_leader_gender)
    anyone = _any_address(rule)
    titles = tuple(t for t in (normalize(x).text for x in rule.titles) if len(t) > 1)
    for turn in conv.agent:
        first = _first_address(anyone, titles, turn.text)
        lead = leader.search(turn.text)
        if lead is not None and (first is None or lead.start() <= first.start()):
            return
        if first is not None:
            evidence = _evidence(turn, Found(first.start(), first.end()))
            out.add(
                rule,
                turn.event.at,
                f"团队接待应先问候负责人“{conv.opened.group_leader_name}”，实际先称呼了“{evidence.text}”",
                f"the group's leader {conv.opened.group_leader_name!r} should be greeted first; "
                f"{evidence.text!r} was addressed first",
                evidence,
                event=turn.event,
                missing="leader_first",
            )
            return


def _first_address(anyone: re.Pattern[str], titles: Sequence[str], text: str) -> re.Match[str] | None:
    """The first address of someone by surname: 领队先生 (a title before 先生) names no one."""
    for m in anyone.finditer(text):
        if not any(text.endswith(t, 0, m.start() + 1) for t in titles):
            return m
    return None


# --- Q3 pace --------------------------------------------------------------------------------------


# Complexity C: running sums kept in the memo, then the band: pass, review near it, fail far off.
def _pace(rule: PaceCheck, conv: Conversation, out: _Out, now: dt.datetime | None) -> None:
    # Sums over the agent's timed turns, kept as the conversation grows.
    memo: dict[str, Any] = conv.memo.setdefault(
        rule.id, {"turns": 0, "seconds": 0.0, "chars": 0, "last": None}
    )
    for t in conv.agent[memo["turns"] :]:
        if t.event.duration_seconds and t.event.duration_seconds >= rule.min_duration_seconds:
            memo["seconds"] += t.event.duration_seconds
            memo["chars"] += char_count(t.event.text)
            memo["last"] = t
    memo["turns"] = len(conv.agent)
    last: Turn | None = memo["last"]
    if last is None or (now is not None and conv.ended is None):
        return  # the pace of the call is known when it has ended
    out.applied.add(rule.id)
    seconds = memo["seconds"]
    rate = memo["chars"] / (seconds / 60)
    low, high = rule.min_per_minute, rule.max_per_minute
    if low <= rate <= high:
        return
    margin = rule.fail_margin
    far = margin is not None and (rate > high * (1 + margin) or rate < low * (1 - margin))
    word = ("过慢", "too slow") if rate < low else ("过快", "too fast")
    out.add(
        rule,
        last.event.at,
        f"语速{word[0]}：每分钟 {rate:.0f} 字，标准 {low:g}-{high:g} 字",
        f"pace {word[1]}: {rate:.0f} characters per minute over the call, standard {low:g}-{high:g}",
        severity="fail" if far else "review",
        event=last.event,
        per_minute=round(rate, 1),
    )


# --- Q5 forbidden phrases ----------------------------------------------------------------------------


_AROUND_CUT = 24  # characters each side of a turn boundary searched for a phrase cut there


# Complexity C (the class, summed): built once per ruleset; find() keeps findings by turn text.
@dataclass(frozen=True)
class _Phrases:
    """A forbidden-phrase list built once: the literal matcher, the variants, the allow contexts."""

    matcher: PhraseMatcher
    specs: dict[str, PhraseSpec]
    variants: tuple[tuple[str, re.Pattern[str]], ...]
    contexts: re.Pattern[str] | None
    negations: dict[str, tuple[str, ...]]  # by phrase id, normalised: they cancel a variant too
    # Findings by turn text (a session judges the same turns again as a call grows), before the
    # quoted words are taken out: the same words may be quoted in one turn and said in another.
    _found: dict[str, list[tuple[str, Found]]] = field(default_factory=dict, compare=False)

    # Complexity C: the literal matcher, the variants and the allowed contexts compiled once.
    @classmethod
    def build(cls, rule: ForbiddenPhrasesCheck) -> _Phrases:
        specs = rule.phrase_specs()
        matcher = default_matcher() if rule.phrases == "default" else PhraseMatcher(specs)
        variants = tuple((s.id, re.compile(v)) for s in specs for v in s.variants)
        keys = sorted({normalize(c).text for s in specs for c in s.contexts()} - {""}, key=len, reverse=True)
        parts = [re.escape(k) for k in keys] + [f"(?:{p})" for s in specs for p in s.allow_patterns]
        contexts = re.compile("|".join(parts)) if parts else None
        negations = {s.id: tuple(n for n in (normalize(x).text for x in s.negations) if n) for s in specs}
        return cls(matcher, {s.id: s for s in specs}, variants, contexts, negations)

    def find(self, turn: Turn) -> list[tuple[str, Found]]:
        """(phrase id, span) of every forbidden phrase in the turn's own words."""
        text = turn.text
        held = self._found.get(text)
        if held is None:
            held = self._find(turn)
            if len(self._found) >= 20_000:
                self._found.clear()
            self._found[text] = held
        return [f for f in held if turn.own(f[1])]

    # Literal hits, then paraphrase variants that overlap none, both outside the allowed
    # contexts and the quoted words: the order of precedence reads top to bottom.
    def _find(self, turn: Turn) -> list[tuple[str, Found]]:
        text = turn.text
        allowed = self.allowed(text)
        found = [
            (pid, Found(a, b)) for pid, a, b in self.matcher.spans(turn.norm) if not _inside(a, b, allowed)
        ]
        for phrase_id, a, b in self._variant_spans(text):
            if _inside(a, b, allowed) or any(s.start < b and a < s.end for _, s in found):
                continue
            found.append((phrase_id, Found(a, b)))
        return sorted(found, key=lambda f: f[1].start)

    def find_split(self, turn: Turn, nxt: Turn) -> list[tuple[str, Found]]:
        """Phrases speech recognition cut across two of the same speaker's turns (我也不 / 知道):
        (phrase id, the part in ``turn``)."""
        # Only the words around the cut: a phrase cut there lies within a few words of it.
        left = max(0, len(turn.text) - _AROUND_CUT)
        joined, cut = turn.text[left:] + nxt.text[:_AROUND_CUT], len(turn.text) - left
        norm = Normalized(joined, joined, tuple(range(len(joined))), tuple(range(1, len(joined) + 1)))
        allowed = self.allowed(joined)
        spans = [*self.matcher.spans(norm), *self._variant_spans(joined)]
        found = [
            (pid, Found(left + a, left + cut))
            for pid, a, b in spans
            if a < cut < b and not _inside(a, b, allowed)
        ]
        return [f for f in found if turn.own(f[1])]

    def allowed(self, text: str) -> list[tuple[int, int]]:
        """The spans of harmless contexts (allow lists, negations, allowed constructions)."""
        return [(m.start(), m.end()) for m in self.contexts.finditer(text)] if self.contexts else []

    def _variant_spans(self, text: str) -> Iterator[tuple[str, int, int]]:
        """Each variant's non-empty matches not right after one of its phrase's negations
        (唔系唔得, 并不是做不到: the variant negated, like the phrase)."""
        for phrase_id, pattern in self.variants:
            negations = self.negations.get(phrase_id, ())
            for m in pattern.finditer(text):
                if m.end() > m.start() and not any(text.endswith(n, 0, m.start()) for n in negations):
                    yield phrase_id, m.start(), m.end()


def _inside(a: int, b: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(x <= a and b <= y for x, y in spans)


def _sentence(text: str, found: Found) -> str:
    start, end = _sentence_bounds(text, found)
    return text[start:end]


def _sentence_bounds(text: str, found: Found) -> tuple[int, int]:
    start = _start_of(text, found.start, ".!?;")
    ends = [i for i in (text.find(ch, found.end) for ch in ".!?;") if i >= 0]
    return start, min(ends) if ends else len(text)


def _explained(spec: PhraseSpec, text: str, found: Found, lead_in: str = "") -> bool:
    """A variant (not the phrase itself) followed in its sentence by an explanation or a way
    forward the phrase lists (``review_after``): a reviewer's call, not a flat refusal.
    ``lead_in``: the sentence the speaker's previous turns began it with."""
    said = text[found.start : found.end]
    if said == normalize(spec.phrase).text:
        return False
    if any(re.match(p, said) for p in spec.review_forms):
        return True
    start, _ = _sentence_bounds(text, found)
    # Its sentence before it (制卡要七个工作日，今天拿不到，这个实在做不到 explains first) and the
    # rest of the turn after it (这个恐怕没办法。我们可以尝试…).
    rest = (lead_in if start == 0 else "") + text[start : found.start] + " " + text[found.end :]
    return any(re.search(p, rest) for p in spec.review_after)


_FOR_REVIEW: dict[str, tuple[str, str]] = {
    "reading": ("（宣读条款时，请人工复核）", " (read from a rule: for review)"),
    "explained": ("（随即说明原因或办法，请人工复核）", " (explained in the same breath: for review)"),
    "unsure": ("（不像直接拒绝，请人工复核）", " (not said as a refusal: for review)"),
}


def _forbidden(rule: ForbiddenPhrasesCheck, phrases: _Phrases, conv: Conversation, out: _Out) -> None:
    if not conv.agent:
        return
    out.applied.add(rule.id)
    reading = compiled(rule.policy_reading)
    # Each turn's findings are its own: kept per turn as the conversation grows.
    memo: dict[str, Any] = conv.memo.setdefault(rule.id, {"turns": 0, "found": []})
    for i in range(memo["turns"], len(conv.agent)):
        for turn, phrase_id, found in _phrases_said(phrases, conv, i):
            spec = phrases.specs[phrase_id]
            evidence = _evidence(turn, found)
            # A phrase cut across two turns (我也不 / 知道) goes on in the turn that brought it.
            trail = conv.agent[i].text if turn is not conv.agent[i] else ""
            why = _for_review(turn, found, spec, reading, _lead_in(conv, turn), trail)
            zh, en = _FOR_REVIEW[why] if why is not None else ("", "")
            instead_zh = f"，可改说“{spec.suggest[0]}”" if spec.suggest else ""
            instead_en = f"; say {spec.suggest[0]!r} instead" if spec.suggest else ""
            memo["found"].append(
                out.make(
                    rule,
                    turn.event.at,
                    f"服务禁语“{evidence.text}”{instead_zh}{zh}",
                    f"forbidden phrase {evidence.text!r} ({spec.phrase}){instead_en}{en}",
                    evidence,
                    severity="review" if why is not None else None,
                    event=turn.event,
                    phrase=phrase_id,
                )
            )
    memo["turns"] = len(conv.agent)
    out.keep(memo["found"])


# Complexity C: the cut-across phrases, the turn's own, and the harmless context begun before the
# cut, in the order they take precedence.
def _phrases_said(phrases: _Phrases, conv: Conversation, i: int) -> list[tuple[Turn, str, Found]]:
    """The forbidden phrases the agent's ``i``-th turn brings: one speech recognition cut across
    the previous agent turn and this one (我也不 / 知道: the previous turn's), then its own."""
    turn = conv.agent[i]
    before = conv.agent[i - 1] if i else None
    joined = before is not None and _one_breath(conv, before, turn)
    split = phrases.find_split(cast(Turn, before), turn) if joined else []
    own = phrases.find(turn)
    if joined:
        # A harmless context begun at the end of the previous turn (要是 / 明天早上还不行).
        tail = cast(Turn, before).text[-_AROUND_CUT:]
        allowed = [
            (a - len(tail), b - len(tail)) for a, b in phrases.allowed(tail + turn.text) if a < len(tail)
        ]
        own = [(pid, f) for pid, f in own if not _inside(f.start, f.end, allowed)]
    return [
        *((cast(Turn, before), pid, f) for pid, f in split),
        *((turn, pid, f) for pid, f in own),
    ]


def _lead_in(conv: Conversation, turn: Turn) -> str:
    """The unfinished sentence the agent's previous turn ended on, when speech recognition cut
    it there (条款第十二条规定， / 等待期内…没有例外情形): the start of this turn's sentence."""
    said: list[str] = []
    after, before = turn, conv.previous_turn(turn)
    # Back over up to three pieces (根据孖展协议第九条规定 / 追加保证金通知发出后 / 须于…没有例外).
    while before is not None and _one_breath(conv, before, after) and len(said) < 3:
        if before.text.endswith((".", "!", "?", ";")):
            break
        start, _ = _sentence_bounds(before.text, Found(len(before.text), len(before.text)))
        said.insert(0, before.text[start:])
        if start > 0:
            break
        after, before = before, conv.previous_turn(before)
    return "".join(said)


def _for_review(
    turn: Turn, found: Found, spec: PhraseSpec, reading: Words, lead_in: str = "", trail: str = ""
) -> str | None:
    """Why a finding is a reviewer's call, not a fail: a rule read aloud, a 'cannot' explained
    or regretted in the same breath, or words in none of the phrase's refusing shapes; None: a
    fail. ``lead_in``: the unfinished sentence the speaker's turns before ended on; ``trail``:
    the next turn, for a phrase cut across the two (a turn's verdict never waits for later
    turns: a streamed verdict is final)."""
    start, end = _sentence_bounds(turn.text, found)
    sentence = (lead_in if start == 0 else "") + _sentence(turn.text, found)
    at = (len(lead_in) if start == 0 else 0) + found.start - start
    # Read aloud: the rule's marker comes before the words (条款规定：…没有例外情形), not after
    # them (这个我也不知道 要看条款细则).
    if spec.in_rules and reading.search(sentence[:at]) is not None:
        return "reading"
    if _explained(spec, turn.text, found, lead_in):
        return "explained"
    if end == len(turn.text):
        sentence += _sentence(trail, Found(0, 0))
    if spec.fail_forms and not _refuses(spec, sentence, at, at + found.end - found.start):
        return "unsure"
    return None


def _refuses(spec: PhraseSpec, sentence: str, start: int, end: int) -> bool:
    """Whether one of the phrase's ``fail_forms`` overlaps its words (``start``-``end``) in the
    sentence."""
    return any(
        m.start() < end and start < m.end() for form in spec.fail_forms for m in re.finditer(form, sentence)
    )


# --- Q6 identity ------------------------------------------------------------------------------------


# One forward pass over the agent's turns with its memo (when a reason was last given, the first
# request's verdict once settled) so a growing call is read once.
def _identity(rule: IdentityCheck, conv: Conversation, out: _Out) -> None:
    """The first request for identity data decides: the reason came before it, or it did not.

    Kept as the conversation grows: turns already followed by another utterance are settled
    (a request split over two turns is found once the second arrives).
    """
    memo: dict[str, Any] = conv.memo.setdefault(rule.id, {"turns": 0, "reason_at": None, "decided": None})
    decided = memo["decided"]
    if decided is not None:
        out.applied.add(rule.id)
        if decided is not True:
            out.keep([decided])
        return
    reasons = compiled(rule.reason)
    reason_at: dt.datetime | None = memo["reason_at"]  # the last earlier turn giving a reason
    for i in range(memo["turns"], len(conv.agent)):
        turn = conv.agent[i]
        settled = conv.next_turn(turn) is not None
        request = _identity_request(rule, conv, turn)
        if request is not None:
            out.applied.add(rule.id)
            found = _unexplained(rule, conv, turn, request, reason_at, out)
            if found is not None:
                out.keep([found])
            if settled:  # nothing later can change the first request's verdict
                memo["decided"] = found if found is not None else True
            return
        if reasons.search(turn.text) is not None:
            reason_at = turn.event.at
        if settled:
            memo["turns"], memo["reason_at"] = i + 1, reason_at


def _identity_request(rule: IdentityCheck, conv: Conversation, turn: Turn) -> Found | None:
    """The identity data the turn asks for in its own words (a request split by speech
    recognition included); a turn that only names the data asks for nothing."""
    request = conv.search_on(compiled(rule.request), turn)
    if request is None or not turn.own(request):
        return None
    # The words that ask are in the request's sentence (这边请坐。办副卡需要身份证件 asks for
    # nothing), or, when the request ends the turn (先把您的身份证 / 给我登记一下), in the rest
    # of the sentence speech recognition split off.
    start, end = _sentence_bounds(turn.text, request)
    ends_turn = request.end >= len(turn.text) - 2
    asked = _with_next(conv, turn)[start:] if ends_turn else turn.text[start : end + 1]
    if rule.asking is not None and compiled(rule.asking).search(asked) is None:
        return None  # named, not asked for: 您是用预留手机号打进来的
    if compiled(rule.later).search(turn.text[start : request.end]) is not None:
        return None  # for a later visit: 入住时同事出示身份证就可以了
    if _STATED.match(turn.text, request.end):
        return None  # the data read out, the question about something else: 预留的手机号是另一个号码
    return request


# The data said to be something (您账户上预留的手机号是另一个号码，要不要改): stated, not asked
# for; 身份证号是？ / 是多少 still asks.
_STATED = re.compile(r"(是|为|係|系)(?!多少|什么|啥|哪|几|不是|吗|否|么|[?,.!;]|$)")


def _unexplained(
    rule: IdentityCheck,
    conv: Conversation,
    turn: Turn,
    request: Found,
    reason_at: dt.datetime | None,
    out: _Out,
) -> dict[str, Any] | None:
    """The violation of a request made without a reason first (None: the reason came first)."""
    reasons = compiled(rule.reason)
    reason = reasons.search(turn.text)
    # A reason the previous agent gave before handing the call over is not this agent's.
    earlier = reason_at is not None and not _handed_over_between(conv, reason_at, turn)
    if earlier or (reason is not None and reason.start < _asked_at(rule, turn.text, request)):
        return None
    lead_in = _lead_in(conv, turn)
    # A reason speech recognition cut between the previous turn and this one (为了 / 确认是本人).
    if lead_in and _cut_before(conv, turn, reasons):
        return None
    # Said at length before the request, in words the lists do not hold: maybe a reason. The
    # request's own sentence always counts; the sentences and unfinished turn before it only
    # when they talk about what a reason would (连续错误五次系统就会自动锁定 explains the lock).
    start, _ = _sentence_bounds(turn.text, request)
    own, before = turn.text[start : request.start], lead_in + turn.text[:start]
    hints = rule.explanation_hints
    if (hints.phrases or hints.patterns) and compiled(hints).search(before) is None:
        before = ""
    limit = rule.explanation_review_chars
    explained = limit is not None and char_count(before + own) >= limit
    return out.make(
        rule,
        turn.event.at,
        "核实身份前未说明原因（如“为了保障您的账户安全”）",
        "identity data requested before giving the reason (e.g. 为了保障您的账户安全)",
        _evidence(turn, request),
        severity="review" if explained else None,
        event=turn.event,
        missing="reason",
    )


def _asked_at(rule: IdentityCheck, text: str, request: Found) -> int:
    """Where the turn asks for the data: at the request when asking words come before it in
    its clause (请报一下身份证号), else at the first asking words after it: 改预留手机号呢，为了
    保障您的账户安全，得核对一下您的身份证，带了吗 names the errand, then asks after the reason."""
    if rule.asking is None:
        return request.start
    asks = [f.start for f in compiled(rule.asking).find_all(text)]
    clause = _start_of(text, request.start, ",.!?;:")
    before = [a for a in asks if clause <= a < request.start]
    after = [a for a in asks if a >= request.start]
    return request.start if before or not after else after[0]


def _handed_over_between(conv: Conversation, since: dt.datetime | None, turn: Turn) -> bool:
    """Whether a transfer was picked up after ``since`` and before ``turn``."""
    return since is not None and any(
        isinstance(e, TransferCompleted) and e.picked_up and since < e.at <= turn.event.at
        for e in conv.transfers
    )


def _one_breath(conv: Conversation, first: Turn, then: Turn | None) -> bool:
    """Whether ``then`` goes on from ``first``: the same speaker, nobody between, and no transfer
    between (after one the next "agent" is someone else: 请稍等 / 您好，技术部…大概两分钟)."""
    return (
        then is not None
        and then.event.speaker == first.event.speaker
        and conv.next_turn(first) is then
        and not any(first.event.at <= e.at <= then.event.at for e in conv.transfers)
    )


def _with_next(conv: Conversation, turn: Turn) -> str:
    """The turn's words and, when speech recognition split the sentence, the same speaker's next turn's."""
    nxt = conv.next_turn(turn)
    return turn.text + nxt.text if nxt is not None and _one_breath(conv, turn, nxt) else turn.text


# --- Q7 transfer -------------------------------------------------------------------------------------


# Complexity C: Q7's steps (reason, wait, consent) per transfer request, each its own finding.
def _transfer(rule: TransferCheck, conv: Conversation, out: _Out) -> None:
    requests = [e for e in conv.transfers if isinstance(e, TransferRequested)]
    if not requests:
        return
    out.applied.add(rule.id)
    previous: dt.datetime | None = None
    for request in requests:
        said = [
            t for t in conv.agent if t.event.at <= request.at and (previous is None or t.event.at > previous)
        ]
        near = _announced(rule, said)
        for wording, turns, key, zh, en in (
            (rule.reason, said, "reason", "转接前未说明转接原因", "giving the reason"),
            (rule.wait, near, "wait", "转接前未说明预计等待时间", "stating the expected wait"),
            (rule.consent, near, "consent", "转接前未征得客户同意", "asking the customer's consent"),
        ):
            words = compiled(wording)
            # A sentence speech recognition split over two turns (得我们理赔专 / 员跟您对接) is one.
            if not any(words.search(_with_next(conv, t)) is not None for t in turns):
                review = key == "reason" and _reason_hinted(rule, said)
                out.add(
                    rule,
                    request.at,
                    zh,
                    f"transfer without {en} first",
                    severity="review" if review else None,
                    event=request,
                    missing=key,
                )
        previous = request.at
        if rule.stay_until_picked_up:
            _stayed(conv, request, out, rule)


def _reason_hinted(rule: TransferCheck, said: Sequence[Turn]) -> bool:
    """Whether the agent's last turns before the announcement name who else might handle it
    (按揭部同事…, 药剂部的药师…): a reason the lists do not hold may be there. The target named
    in the announcement itself (我帮您转到技术支持) is no reason."""
    hints = compiled(rule.reason_hints)
    announce = compiled(rule.announcement) if rule.announcement is not None else None
    # The announcement's turn and the one before it (not merely the last two: 请您稍等 may follow).
    at = next(
        (i for i, t in enumerate(said) if announce is not None and announce.search(t.text)), len(said) - 1
    )
    for turn in said[max(0, at - 1) : at + 1]:
        said_first = announce.search(turn.text) if announce is not None else None
        before = turn.text[: said_first.start] if said_first is not None else turn.text
        if hints.search(before) is not None:
            return True
        if said_first is not None:
            return False
    return False


def _announced(rule: TransferCheck, said: Sequence[Turn]) -> Sequence[Turn]:
    """The turns a transfer's wait and consent belong to: from the agent's first words about
    transferring (我帮您转过去) on, else the last ``window_turns``; all without a window."""
    if rule.window_turns is None:
        return said
    if rule.announcement is not None:
        words = compiled(rule.announcement)
        first = next((i for i, t in enumerate(said) if words.search(t.text) is not None), None)
        if first is not None:
            return said[first:]
    return said[-rule.window_turns :]


# Complexity C: Q7's last step: completed, the call ended first, or still under way (no verdict).
def _stayed(conv: Conversation, request: TransferRequested, out: _Out, rule: TransferCheck) -> None:
    done = next((e for e in conv.transfers if isinstance(e, TransferCompleted) and e.at >= request.at), None)
    ended = conv.ended
    if done is None and ended is None:
        return  # the transfer is still under way: nothing to judge yet
    if done is None or not done.picked_up:
        at = done.at if done is not None else (ended.at if ended is not None else request.at)
        out.add(
            rule,
            at,
            "转接未等到对方接听即离开",
            "the agent left the transfer before it was picked up",
            event=done or request,
            missing="picked_up",
        )


# --- Q8 closing -------------------------------------------------------------------------------------


def _closing(
    rule: ClosingCheck, conv: Conversation, out: _Out, identity: IdentityCheck | None = None
) -> None:
    ended = conv.ended
    if ended is None or not conv.agent or _handed_over(conv):
        return
    out.applied.add(rule.id)
    at = ended.at
    # The last closing_turns agent turns, a run of turns nobody spoke between counted as one.
    tail = conv.agent[_runs_back(conv, len(conv.agent) - 1, rule.closing_turns - 1) :]
    question = _first_said(conv, tail, compiled(rule.question)) or _closed_before_transfer(rule, conv)
    # The summary comes before the last of them: 还有别的地方受损吗 asks about the errand, and
    # the close that follows (我跟您总结一下…请问还有其他可以帮您的吗) is the one to sum up before.
    last = _first_said(conv, tail[::-1], compiled(rule.question)) or question
    if question is None:
        out.add(
            rule,
            at,
            "结束前未询问客户是否还有其他需要",
            "no closing question (anything else?)",
            event=ended,
            missing="question",
        )
    # Thanks belong to the close: from the closing question on (else the last two turns).
    closing = conv.agent[conv.agent.index(question[0]) :] if question is not None else conv.agent[-2:]
    if conv.channel == "phone":
        _phone_close(rule, conv, closing, last, out, at, ended, identity)
    elif _first_said(conv, closing, compiled(rule.lobby_thanks)) is None:
        out.add(
            rule, at, "送客时未致谢", "no thanks when seeing the customer off", event=ended, missing="thanks"
        )


def _asks_identity(identity: IdentityCheck | None, text: str) -> bool:
    """Whether a turn asks for identity data (a request phrase, and words that ask)."""
    request = compiled(identity.request).search(text) if identity is not None else None
    if identity is None or request is None:
        return False
    if identity.asking is None or compiled(identity.asking).search(text) is not None:
        return True
    # 跟您核对一下预留手机号 checks; 确认一下：…已经通过验证码帮您解开了 recaps.
    return _CHECKING.search(text[max(0, request.start - 8) : request.end]) is not None


_CHECKING = re.compile("核对|核实|确认")


def _handed_over(conv: Conversation) -> bool:
    """The call went to another desk and the recording ends with the handover: the customer
    says nothing after the pickup, so the close is the other desk's, not in this transcript."""
    done = next((e for e in reversed(conv.transfers) if isinstance(e, TransferCompleted)), None)
    return done is not None and done.picked_up and not any(t.event.at > done.at for t in conv.customer)


def _closed_before_transfer(rule: ClosingCheck, conv: Conversation) -> tuple[Turn, Found] | None:
    """The closing question of an agent who closed their part before handing the call over
    (我先跟您确认一下…还有别的需要吗 … 我现在为您转接): in the turns before the last transfer."""
    last = next((e for e in reversed(conv.transfers) if isinstance(e, TransferRequested)), None)
    if last is None:
        return None
    before = [t for t in conv.agent if t.event.at <= last.at][-rule.closing_turns :]
    return _first_in(before, compiled(rule.question).search)


# Complexity C: S2's closing script step by step (summary, question, thanks, who hung up), one
# branch per step so each finding maps to one sentence of the script.
def _phone_close(
    rule: ClosingCheck,
    conv: Conversation,
    closing: Sequence[Turn],
    question: tuple[Turn, Found] | None,
    out: _Out,
    at: dt.datetime,
    ended: EventBase,
    identity: IdentityCheck | None,
) -> None:
    if _first_said(conv, closing, compiled(rule.thanks)) is None:
        out.add(
            rule,
            at,
            "结束前未致谢（如“感谢您的来电”）",
            "no thanks at the close (e.g. 感谢您的来电)",
            event=ended,
            missing="thanks",
        )
    # The summary comes before the closing question: the agent's turns up to it, near the end.
    last = conv.agent.index(question[0]) if question is not None else len(conv.agent) - 1
    before = conv.agent[_runs_back(conv, last, rule.summary_turns) : last + 1]
    # 跟您核对一下手机号 checks identity; it does not sum anything up (已经通过验证码解开了 does).
    recaps = [t for t in before if not _asks_identity(identity, t.text)]
    summed = _first_said(conv, recaps, compiled(rule.summary)) is not None
    if not summed and last >= 0:
        attached = [conv.agent[last]]
        if last > 0 and conv.next_turn(conv.agent[last - 1]) is conv.agent[last]:
            attached.insert(0, conv.agent[last - 1])
        summed = _first_in(attached, compiled(rule.completion).search) is not None
    if not summed:
        # The recap may start in the turn before the question's, cut mid-sentence by speech
        # recognition (咁我confirm返：陈小姐…， / 提早十五分钟…请问仲有冇…).
        recap = _lead_in(conv, question[0]) + question[0].text[: question[1].start] if question else ""
        limit = rule.summary_review_chars
        long_recap = limit is not None and char_count(recap) >= limit
        echo = rule.summary_review_echo
        if question is not None and echo is not None and not long_recap:
            long_recap = len(_echoed(conv, question[0], recap, rule.echo_ignores)) >= echo
        out.add(
            rule,
            at,
            "结束前未总结要点（如“我们今天讨论的主要内容是……”）",
            "no summary before the closing question (S2: 通话结束前应总结要点)",
            severity="review" if long_recap else rule.summary_severity,
            event=ended,
            missing="summary",
        )
    hung_up = getattr(ended, "hung_up_by", None)
    if rule.customer_hangs_up_first and hung_up is not None and hung_up != "customer":
        out.add(
            rule,
            at,
            "坐席先挂断电话，应让客户先挂机",
            "the agent hung up first; let the customer hang up first",
            event=ended,
            missing="customer_hangs_up_first",
        )


_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")


@functools.lru_cache(maxsize=64)
def _ignored(chars: str) -> frozenset[str]:
    # Matched like every other list: after the same normalisation as the turns (係 is 系).
    return frozenset(normalize(chars).text)


def _terms(text: str, ignores: str) -> set[str]:
    """The two-character Han terms of ``text`` with no character of ``ignores``."""
    skip = _ignored(ignores)
    return {
        text[i : i + 2]
        for i in range(len(text) - 1)
        if all(_HAN.match(ch) and ch not in skip for ch in text[i : i + 2])
    }


def _echoed(conv: Conversation, turn: Turn, said: str, ignores: str) -> set[str]:
    """The terms of ``said`` (ending in ``turn``) heard earlier in the conversation, before the
    breath ``said`` began in: what a recap in the agent's own words repeats."""
    first = turn
    while (before := conv.previous_turn(first)) is not None and _one_breath(conv, before, first):
        first = before
    earlier = conv.turns[: conv.turns.index(first)]
    heard = set().union(*(_terms(t.text, ignores) for t in earlier))
    return _terms(said, ignores) & heard


def _runs_back(conv: Conversation, last: int, runs: int) -> int:
    """Index of the first agent turn ``runs`` turns back from ``conv.agent[last]``, where turns
    said one after another with nobody between count as one: speech recognition splits a
    recap (那我再跟您确认一下今天办的 / 宽带故障… / 三天的宽带费…) into several."""
    i, counted = last, 0
    while i > 0 and counted < runs:
        if conv.next_turn(conv.agent[i - 1]) is not conv.agent[i]:
            counted += 1
        i -= 1
    # The run the window reached is taken whole.
    while i > 0 and conv.next_turn(conv.agent[i - 1]) is conv.agent[i]:
        i -= 1
    return i


# --- Q9 complaint ------------------------------------------------------------------------------------


_STEP_TEXT: dict[str, tuple[str, str]] = {
    "restate": (
        "未复述确认客户诉求（如“让我确认一下”）",
        "no restatement of the complaint (e.g. 让我确认一下)",
    ),
    "deadline": (
        "未告知处理时限（如“会在24小时内给您答复”）",
        "no handling deadline given (e.g. 会在24小时内给您答复)",
    ),
    "number": ("未告知投诉编号或工单号", "no complaint or ticket number given (投诉编号 / 工单号)"),
    "contact": ("未告知后续联系方式", "no contact for follow-up given (联系电话 / 热线)"),
    "apology": (
        "未致歉或致谢（如“非常抱歉”“感谢您的反馈”）",
        "no apology or thanks (e.g. 非常抱歉, 感谢您的反馈)",
    ),
}


def _complaint_said(rule: ComplaintConversationCheck, conv: Conversation) -> Turn | None:
    """The customer's turn that complains in words (我要投诉), not one that says it is not a
    complaint. The turn's last word for it decides: 是不是得投诉这个商家啊 我不是要投诉 is
    none, 不投诉不行了，我要投诉 is one."""
    words, not_words = compiled(rule.complaint_words), compiled(rule.not_a_complaint)
    for turn in conv.customer:
        negated = list(not_words.find_all(turn.text))
        said = list(words.find_all(turn.text))
        if said and not any(
            n.start <= said[-1].start < n.end or n.start <= said[-1].end - 1 < n.end for n in negated
        ):
            return turn
    return None


# Complexity C: one scan per turn — each match's negation and ownership, then the cut-across form.
def _step_turns(
    wording: Any, negations: Sequence[str], turns: Iterable[Turn], conv: Conversation | None = None
) -> Iterator[Turn]:
    """The agent turns that say a step in their own words, not right after a negation; with
    ``conv``, also a step speech recognition cut between the speaker's previous turn and this
    one (我 / 确认一下您是…)."""
    words = compiled(wording)
    keys = [normalize(n).text for n in negations]
    for turn in turns:
        for found in words.find_all(turn.text):
            before = turn.text[: found.start]
            # A step that begins with a reporting marker is the agent's own words (您是说…对吧
            # restates; without punctuation the reported words run to the turn's end).
            own = turn.own(found) or any(a == found.start for a, _ in turn.quoted)
            if not any(k and before.endswith(k) for k in keys) and own:
                yield turn
                break
        else:
            if conv is not None and _cut_before(conv, turn, words):
                yield turn


def _cut_before(conv: Conversation, turn: Turn, words: Words) -> bool:
    """Whether a step's words run from the end of the speaker's previous turn into this one."""
    around = _around_cut(conv, turn)
    if around is None:
        return False
    text, cut = around
    return any(f.start < cut < f.end for f in words.find_all(text))


def _restated(rule: ComplaintConversationCheck, conv: Conversation, raised: Turn | None) -> bool:
    """A restatement that asks for confirmation, or one between the complaint and the feedback."""
    since = raised.offset if raised is not None else -1.0
    after = [t for t in conv.agent if t.offset >= since]
    feedback = [
        t.offset
        for step in ("deadline", "number")
        for t in _step_turns(rule.step(step), rule.negations, after, conv)
    ]
    first_feedback = min(feedback, default=float("inf"))
    confirm = compiled(rule.confirm)
    # The same turn may restate and give the feedback; the confirming question may be in the
    # turn speech recognition split off (…按标准资费产生了费用 / 您认为…是这样吗).
    return any(
        confirm.search(_run_from(conv, turn)) is not None or since <= turn.offset <= first_feedback
        for turn in _step_turns(rule.restate, rule.negations, conv.agent, conv)
    )


def _run_from(conv: Conversation, turn: Turn) -> str:
    """The turn's words and those of the same speaker's turns right after it, nobody between
    (a restatement speech recognition cut into three: 我确认一下 / 您是… / …是这样吗)."""
    said, last, nxt = [turn.text], turn, conv.next_turn(turn)
    while nxt is not None and _one_breath(conv, last, nxt) and len(said) < 6:
        said.append(nxt.text)
        last, nxt = nxt, conv.next_turn(nxt)
    return "".join(said)


# Complexity C: one test per Q9 step (restate, deadline, number, contact, apology) with its
# channel exception, in the order a reviewer reads them; split, the steps' shared state would travel.
def _complaint(rule: ComplaintConversationCheck, conv: Conversation, out: _Out) -> None:
    ended = conv.ended
    if ended is None or not conv.turns:
        return
    said = _complaint_said(rule, conv) if conv.complaint is None else None
    if conv.complaint is None and said is None:
        return
    out.applied.add(rule.id)
    for step in COMPLAINT_STEPS:
        if step == "restate":
            if _restated(rule, conv, said if said is not None else _complaint_said(rule, conv)):
                continue
        elif (
            next(_step_turns(rule.step(step), rule.negations, _promising(rule, conv, step), conv), None)
            is not None
        ):
            continue
        review = (
            step in rule.review_steps
            or (step == "contact" and _contact_unclear(rule, conv, said))
            or (said is not None and _only_threatened(rule, conv))
        )
        zh, en = _STEP_TEXT[step]
        out.add(
            rule,
            ended.at,
            f"投诉处理：{zh}",
            f"complaint handling: {en}",
            severity="review" if review else rule.severity,
            event=ended,
            missing=step,
        )


def _only_threatened(rule: ComplaintConversationCheck, conv: Conversation) -> bool:
    """Whether every complaint word the customer said is inside a threat (不行我就去投诉)."""
    words, threats = compiled(rule.complaint_words), compiled(rule.threats)
    said = [(t, f) for t in conv.customer for f in words.find_all(t.text)]
    return bool(said) and all(
        any(m.start <= f.start and f.end <= m.end for m in threats.find_all(t.text)) for t, f in said
    )


def _promising(rule: ComplaintConversationCheck, conv: Conversation, step: str) -> list[Turn]:
    """The agent turns a step may be in. A deadline is a promise: not a time in the restatement
    the agent asks the customer to confirm (樓上每日早上八點前開始鑽牆，係咪咁？)."""
    if step != "deadline":
        return conv.agent
    confirm = compiled(rule.confirm)
    return [t for t in conv.agent if confirm.search(t.text[-8:]) is None]


def _contact_unclear(rule: ComplaintConversationCheck, conv: Conversation, said: Turn | None) -> bool:
    """Whether a missing contact is a reviewer's call: on the phone (the caller has the number
    they rang), or when the agent named a way to get in touch in words the lists do not hold."""
    if rule.contact_review_on_phone and conv.channel == "phone":
        return True
    since = said.offset if said is not None else -1.0
    hints = compiled(rule.contact_hints)
    return any(t.offset >= since and hints.search(t.text) is not None for t in conv.agent)


def _opening_key(conv: Conversation, spec: EtiquetteSpec, tier_level: TierLevel | None) -> object:
    """What the opening checks' verdict rests on besides the settled opening: the customer's
    level at the first turn and at the answer. None while the opening is not settled."""
    if not conv.settled_opening(spec.opening):
        return None
    if tier_level is None or conv.opened is None:
        return ("settled",)
    customer = conv.opened.customer_id
    answered = conv.answered.at if conv.answered is not None else None
    return (
        "settled",
        tier_level(customer, conv.agent[0].event.at),
        tier_level(customer, answered) if answered is not None else None,
    )


def _kept(out: _Out, rule_id: str, key: object, check: Callable[[_Out], None]) -> None:
    """Run ``check`` into ``out``, or add what it found last time for the same ``key``
    (None: run it, keep nothing)."""
    memo = out.conv.memo
    held = memo.get(f"verdict:{rule_id}")
    if key is not None and held is not None and held[0] == key:
        out.merge(*held[1:])
        return
    part = out.part()
    check(part)
    out.merge(part.violations, part.applied, part.next_check)
    if key is not None:
        memo[f"verdict:{rule_id}"] = (key, part.violations, part.applied, part.next_check)


# --- scoring ----------------------------------------------------------------------------------------


def _score(card: Scorecard, conv: Conversation, out: _Out) -> dict[str, Any]:
    failed_rules = frozenset(v["rule"] for v in out.violations if v["severity"] == "fail")
    # The score rests on which checks applied and which failed: kept while they stay.
    key = (failed_rules, frozenset(out.applied))
    held = conv.memo.get("score")
    if held is not None and held[0] == key:
        return cast(dict[str, Any], held[1])
    found = _scored(card, conv, out, failed_rules)
    conv.memo["score"] = (key, found)
    return found


# Complexity C: the scorecard's rule per item (n/a, fail with auto-fail, pass), then the total.
def _scored(card: Scorecard, conv: Conversation, out: _Out, failed_rules: frozenset[str]) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    score = 0.0
    total = 0.0
    auto_failed = False
    for item in card.items:
        if not any(ref in out.applied for ref in item.checks):
            items.append({"id": item.id, "weight": item.weight, "status": "n/a", "earned": 0.0})
            continue
        failed = sorted(ref for ref in item.checks if ref in failed_rules)
        total += item.weight
        if failed:
            auto_failed = auto_failed or item.auto_fail
            items.append(
                {"id": item.id, "weight": item.weight, "status": "fail", "earned": 0.0, "failed": failed}
            )
        else:
            score += item.weight
            items.append({"id": item.id, "weight": item.weight, "status": "pass", "earned": item.weight})
    if auto_failed:
        score = 0.0
    percent = 100.0 if total == 0 else round(score / total * 100, 2)
    passed = not auto_failed and percent >= card.pass_percent
    return {
        "case_id": conv.case_id,
        "score": score,
        "max": total,
        "percent": percent,
        "passed": passed,
        "auto_failed": auto_failed,
        "items": items,
        "agent_id": conv.agent_id,
        "team": conv.team,
        "message": {
            "zh": f"得分 {score:g}/{total:g}（{percent:g}%），" + ("合格" if passed else "不合格"),
            "en": f"scored {score:g} of {total:g} ({percent:g}%): " + ("passed" if passed else "failed"),
        },
    }


class EtiquetteChecker:
    """An etiquette section with its phrase matchers built once, for every evaluation."""

    def __init__(self, spec: EtiquetteSpec) -> None:
        self.spec = spec
        fp = spec.forbidden_phrases
        self._phrases = _Phrases.build(fp) if fp is not None else None
        self._markers = tuple(normalize(m).text for m in fp.markers()) if fp is not None else ()
        self._ends = tuple(normalize(e).text for e in fp.quote_ends) if fp is not None else ()
        self._compound = spec.customer_name.compound_surnames if spec.customer_name is not None else ()

    def evaluate(
        self,
        events_sorted: Iterable[EventBase],
        tz: dt.tzinfo,
        tier_level: TierLevel | None = None,
        now: dt.datetime | None = None,
        turns: TurnCache | None = None,
        conversations: dict[str, Conversation] | None = None,
    ) -> EtiquetteResult:
        """See :func:`evaluate_etiquette`. ``turns`` and ``conversations`` keep the normalised
        turns and each case's conversation (with what the checks worked out over it) between
        calls on a growing list of events: a conversation that only gained later words is
        extended, anything else is built again."""
        by_case: dict[str, list[EventBase]] = defaultdict(list)
        for event in events_sorted:
            if event.case_id is not None:
                by_case[event.case_id].append(event)
        return self.evaluate_cases(by_case, tz, tier_level, now, turns, conversations)

    def evaluate_cases(
        self,
        by_case: Mapping[str, Sequence[EventBase]],
        tz: dt.tzinfo,
        tier_level: TierLevel | None = None,
        now: dt.datetime | None = None,
        turns: TurnCache | None = None,
        conversations: dict[str, Conversation] | None = None,
    ) -> EtiquetteResult:
        """:meth:`evaluate` with the events already grouped by case (each case's in time order).

        With ``conversations``, a kept conversation's events must be the start of its case's
        events now (the engine, which keeps both, makes sure): it is extended, not rebuilt.
        """
        violations: list[dict[str, Any]] = []
        scores: list[dict[str, Any]] = []
        next_checks: dict[str, dt.datetime] = {}
        for case_id in sorted(by_case):
            conv = self._conversation(case_id, by_case[case_id], turns, conversations)
            if conv is None or not conv.is_conversation:
                continue
            out = self._judge(conv, tz, tier_level, now)
            violations += out.violations
            if out.next_check is not None:
                next_checks[case_id] = out.next_check
            if self.spec.scorecard is not None:
                scores.append(_score(self.spec.scorecard, conv, out))
        return EtiquetteResult(violations, scores, next_checks)

    def _conversation(
        self,
        case_id: str,
        events: Sequence[EventBase],
        turns: TurnCache | None,
        kept: dict[str, Conversation] | None,
    ) -> Conversation | None:
        conv = kept.get(case_id) if kept is not None else None
        if conv is not None and len(conv.events) <= len(events) and conv.extend(events[len(conv.events) :]):
            return conv
        # Only conversations are judged: a call answered, or words said.
        if not any(isinstance(e, CallAnswered | Utterance) for e in events):
            return None
        conv = Conversation(case_id, events, self._markers, turns, self._ends)
        if kept is not None:
            kept[case_id] = conv
        return conv

    # Complexity C: one guarded call per check of the section, in the documented order.
    def _judge(
        self, conv: Conversation, tz: dt.tzinfo, tier_level: TierLevel | None, now: dt.datetime | None
    ) -> _Out:
        spec, out = self.spec, _Out(conv)
        # The opening checks read the opening, the case's events and the customer's level at
        # the first turn: once the opening is settled their verdict is kept (a conversation
        # is rebuilt whenever anything but a later utterance arrives).
        key = _opening_key(conv, spec, tier_level)
        if (greeting := spec.greeting) is not None:
            _kept(out, greeting.id, key, lambda o: _greeting(greeting, conv, spec, o, tz, tier_level, now))
        if (opening := spec.phone_opening) is not None:
            _kept(
                out,
                opening.id,
                key,
                lambda o: _phone_opening(opening, conv, spec, o, tier_level, self._compound, now),
            )
        if spec.pace is not None:
            _pace(spec.pace, conv, out, now)
        if spec.customer_name is not None:
            _customer_name(spec.customer_name, conv, out, now)
        if spec.forbidden_phrases is not None and self._phrases is not None:
            _forbidden(spec.forbidden_phrases, self._phrases, conv, out)
        if spec.identity_check is not None:
            _identity(spec.identity_check, conv, out)
        if spec.transfer is not None:
            _transfer(spec.transfer, conv, out)
        if spec.closing is not None:
            _closing(spec.closing, conv, out, spec.identity_check)
        if spec.complaint_conversation is not None:
            _complaint(spec.complaint_conversation, conv, out)
        return out


def evaluate_etiquette(
    spec: EtiquetteSpec,
    events_sorted: Iterable[EventBase],
    tz: dt.tzinfo,
    tier_level: TierLevel | None = None,
    now: dt.datetime | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Etiquette violations and per-case scores for the time-ordered events of all cases.

    Only cases that are conversations (a ``call_answered`` or an ``utterance``) are judged.
    Returns ``(violations, scores)``: violations in case order then check order then time; one
    score per judged case when the section has a scorecard. ``tier_level(customer_id, at)``
    gives the customer's service level (T3) for Q2's stricter level-1 ring limit and the VIP
    greeting. With ``now``, Q4 is not judged while its window is still open on a conversation
    that has not ended. Builds the matchers on every call: the engine keeps an
    :class:`EtiquetteChecker` instead.
    """
    found = EtiquetteChecker(spec).evaluate(events_sorted, tz, tier_level, now)
    return found.violations, found.scores
