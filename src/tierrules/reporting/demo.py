"""A generated month of a 50-seat contact centre: the demo case log behind ``tierrules report``.

Five teams share the 50 seats: two hotline teams, a complaints desk (all on the phone) and
two lobby teams. Every case is one line of a case log (``{"name", "now", "events"}``, the
format :func:`tierrules.read_cases` reads): calls with feedback, complaints, back-office
requests and escalations, lobby visits with their waiting, reception and follow-ups,
scheduled guest visits, a few emergencies, and level-1 (VIP) customers with their profiles.
Quality assurance transcribes about a third of the calls (A5's spot checks), so those carry
``utterance`` events and get a scorecard.

Some teams are built to miss their targets: ``hotline-b`` answers feedback late and slips
on call etiquette, the ``complaints`` desk resolves too few complaints within 48 hours and
sometimes replies late, and ``lobby-west`` keeps customers waiting. ``hotline-a`` and
``lobby-east`` keep the policy.

The log is seeded: the same seed and month always give the same bytes.
``examples/demo-month.jsonl`` is ``python -m tierrules.reporting.demo -o examples/demo-month.jsonl``.

>>> from tierrules.reporting import demo
>>> cases = demo.generate(seed=7, scale=0.02)
>>> len(cases) > 10, cases == demo.generate(seed=7, scale=0.02)
(True, True)
>>> sorted({e["team"] for c in cases for e in c["events"] if "team" in e})
['complaints', 'hotline-a', 'hotline-b', 'lobby-east', 'lobby-west']
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..caselog import CaseRecord
from ..text import char_count

__all__ = [
    "DEFAULT_MONTH",
    "DEFAULT_SEED",
    "EXPORTED_AT",
    "TEAMS",
    "Team",
    "cases",
    "generate",
    "main",
    "write",
]

DEFAULT_SEED = 20261101
DEFAULT_MONTH = "2026-11"
CST = dt.timezone(dt.timedelta(hours=8))
EXPORTED_AT = dt.time(9, 0)  # the log is exported at 09:00 on the 1st of the next month
_SNAPSHOT_AFTER = dt.timedelta(days=8)  # a case's `now`: 8 days after its last event, or the export
_ORG = "星河银行"
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇晨欣怡浩然子涵博文思雨嘉"
_AGENT_NAMES = "晓雯丹琳倩颖瑶婷悦彤蕾薇娜佳琪慧敏萱"
_SLOTS = ((8 * 60, "早上好"), (11 * 60, "您好"), (13 * 60 + 30, "下午好"), (18 * 60, "晚上好"))


@dataclasses.dataclass(frozen=True)
class Team:
    """A team's seats and how well it keeps the policy (shares are probabilities)."""

    name: str
    prefix: str
    channel: str  # phone or lobby
    agents: int
    daily: float  # cases on a full weekday
    feedback_on_time: float  # E3: feedback answered within 24 h
    reply_in_24h: float  # E9: complaint replied to within 24 h
    resolve_in_48h: float  # E9: complaint resolved within 48 h
    slips: float  # chance of each etiquette slip on a transcribed call
    slow_waits: float  # lobby: share of customers kept waiting past 2 minutes
    follow_up: float  # lobby: follow-ups (E10, E11) on time


TEAMS: tuple[Team, ...] = (
    Team("hotline-a", "HA", "phone", 12, 42, 0.97, 1.0, 0.95, 0.01, 0, 0.95),
    Team("hotline-b", "HB", "phone", 12, 42, 0.82, 0.99, 0.92, 0.07, 0, 0.9),
    Team("complaints", "CP", "phone", 8, 16, 0.95, 0.97, 0.83, 0.03, 0, 0.9),
    Team("lobby-east", "LE", "lobby", 9, 20, 0.96, 1.0, 0.94, 0.02, 0.0, 0.95),
    Team("lobby-west", "LW", "lobby", 9, 22, 0.9, 0.99, 0.9, 0.04, 0.16, 0.84),
)

_PHONE_HOURS = {8: 3, 9: 7, 10: 9, 11: 8, 12: 5, 13: 4, 14: 6, 15: 8, 16: 8, 17: 6, 18: 3, 19: 2}
_LOBBY_HOURS = {9: 4, 10: 7, 11: 8, 12: 6, 13: 5, 14: 7, 15: 8, 16: 6, 17: 3}
_PHONE_DAY = (1.0, 1.0, 1.0, 1.0, 1.05, 0.6, 0.35)  # Monday first
_LOBBY_DAY = (1.0, 0.95, 0.95, 1.0, 1.1, 0.8, 0.0)  # the lobby is closed on Sundays


@dataclasses.dataclass(frozen=True)
class _Agent:
    agent_id: str
    name: str
    team: Team
    skill: float  # multiplies the team's slip and miss rates (a weak agent > 1)


@dataclasses.dataclass(frozen=True)
class _Customer:
    customer_id: str
    name: str
    gender: str
    vip: bool

    @property
    def honorific(self) -> str:
        return self.name[0] + ("先生" if self.gender == "male" else "女士")


class _Case:
    """One case's events as the host would log them."""

    def __init__(self, case_id: str, agent: _Agent, rng: random.Random) -> None:
        self.case_id = case_id
        self.agent = agent
        self.rng = rng
        self.events: list[dict[str, Any]] = []

    def add(self, type_: str, at: dt.datetime, *, staff: bool = False, **fields: Any) -> None:
        event: dict[str, Any] = {"type": type_, "at": at.isoformat(), "case_id": self.case_id}
        if staff:
            event["agent_id"] = self.agent.agent_id
            event["team"] = self.agent.team.name
        event.update({k: v for k, v in fields.items() if v is not None})
        self.events.append(event)

    def chance(self, share: float) -> bool:
        """True with probability ``share`` (a miss rate scaled by the agent's skill when < 1)."""
        miss = (1 - share) * self.agent.skill
        return self.rng.random() >= miss

    def minutes(self, low: float, high: float) -> dt.timedelta:
        return dt.timedelta(seconds=round(self.rng.uniform(low, high) * 60))

    def hours(self, low: float, high: float) -> dt.timedelta:
        return dt.timedelta(seconds=round(self.rng.uniform(low, high) * 3600))


# --- the people ------------------------------------------------------------------------------


def _agents(rng: random.Random) -> list[_Agent]:
    out = []
    for team in TEAMS:
        for n in range(1, team.agents + 1):
            name = "小" + rng.choice(_AGENT_NAMES)
            # One agent in four is noticeably weaker or stronger than the team.
            skill = rng.choice((0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.8, 2.5)) if n > 1 else 1.0
            out.append(_Agent(f"{team.prefix}{n:02d}", name, team, skill))
    return out


def _customers(rng: random.Random, count: int) -> list[_Customer]:
    out = []
    for n in range(1, count + 1):
        name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
        gender = rng.choice(("male", "female"))
        out.append(_Customer(f"CU{n:05d}", name, gender, vip=rng.random() < 0.06))
    return out


# --- when cases start ---------------------------------------------------------------------------


def _starts(team: Team, day: dt.date, rng: random.Random, scale: float) -> list[dt.datetime]:
    hours = _PHONE_HOURS if team.channel == "phone" else _LOBBY_HOURS
    factor = (_PHONE_DAY if team.channel == "phone" else _LOBBY_DAY)[day.weekday()]
    count = max(0, round(rng.gauss(team.daily * factor * scale, (team.daily * factor * scale) ** 0.5)))
    weights = list(hours.values())
    out = []
    for _ in range(count):
        hour = rng.choices(list(hours), weights)[0]
        at = dt.datetime.combine(day, dt.time(hour), CST) + dt.timedelta(seconds=rng.randrange(3600))
        out.append(at)
    return sorted(out)


# --- phone cases ---------------------------------------------------------------------------------


def _open(case: _Case, at: dt.datetime, customer: _Customer, channel: str, returning: bool) -> None:
    severity = case.rng.choices(("general", "important", "urgent", "critical"), (78, 15, 6, 1))[0]
    if customer.vip:
        case.add(
            "customer_profile",
            at - dt.timedelta(seconds=30),
            customer_id=customer.customer_id,
            spend_12m=case.rng.choice((420000, 650000, 1250000)),
            visits_12m=case.rng.randint(14, 40),
            tenure_months=case.rng.randint(14, 90),
        )
    case.add(
        "case_opened",
        at,
        staff=True,
        channel=channel,
        severity=severity,
        customer_id=customer.customer_id,
        customer_name=customer.name,
        customer_gender=customer.gender,
        agent_name=case.agent.name,
        organisation=_ORG,
        returning=True if returning else None,
    )


def _feedback(case: _Case, at: dt.datetime) -> dt.datetime:
    """Feedback (E3): answered, progress reported or resolved, mostly in time. Returns the end."""
    severity = case.rng.choices(("urgent", "important", "general"), (15, 30, 55))[0]
    case.add("feedback_received", at, severity=severity)
    on_time = case.chance(case.agent.team.feedback_on_time)
    if on_time or case.rng.random() < 0.8:  # a fifth of the late ones are never answered
        case.add("feedback_responded", at + (case.hours(0.3, 20) if on_time else case.hours(25, 60)))
    end = at + case.hours(1, 30)
    if severity != "general":
        # A late team is late with everything: any response meets E3's first 24 hours.
        end = at + (case.hours(2, 22) if on_time and case.chance(0.9) else case.hours(26, 50))
        case.add("progress_reported", end)
    else:
        end = at + (case.hours(20, 100) if case.chance(0.92) else case.hours(170, 200))
        case.add("feedback_resolved", end)
    return end


def _complaint(case: _Case, at: dt.datetime) -> dt.datetime:
    """A complaint (E2, E9, E1): replied, perhaps escalated and paused, resolved. Returns the end."""
    team = case.agent.team
    case.add("complaint_registered", at, staff=True)
    if case.rng.random() < 0.25:  # the agent cannot settle it alone (E1)
        need = at + case.minutes(1, 4)
        case.add("escalation_needed", need, agent_level=1)
        late = not case.chance(0.9)
        case.add("escalated", need + (case.minutes(12, 40) if late else case.minutes(2, 9)), to_level=2)
    if case.chance(team.reply_in_24h):
        reply = at + (case.minutes(10, 55) if case.chance(0.85) else case.hours(1.2, 20))
    else:
        reply = at + case.hours(25, 40)
    case.add("complaint_replied", reply)
    resolve = at + (case.hours(3, 40) if case.chance(team.resolve_in_48h) else case.hours(50, 120))
    if case.rng.random() < 0.1:  # waiting on the customer: the E9 resolution clock stands still
        pause = at + case.hours(1, 3)
        case.add("case_paused", pause, reason="awaiting customer documents")
        resumed = pause + case.hours(6, 30)
        case.add("case_resumed", resumed)
        resolve += resumed - pause
    if case.rng.random() < 0.98:
        case.add("complaint_resolved", resolve)
    return resolve


def _backoffice(case: _Case, at: dt.datetime) -> dt.datetime:
    severity = case.rng.choices(("critical", "urgent", "general"), (10, 30, 60))[0]
    case.add("backoffice_requested", at, staff=True, severity=severity)
    limit = {"critical": 1, "urgent": 5, "general": 10}[severity]
    done = at + (case.minutes(0.2, limit * 0.9) if case.chance(0.9) else case.minutes(limit + 1, limit + 20))
    case.add("backoffice_responded", done)
    return done + case.minutes(5, 40)


def _emergency(case: _Case, at: dt.datetime) -> dt.datetime:
    category = case.rng.choice(("personal_safety", "property", "service_interruption", "other"))
    case.add("emergency_reported", at, staff=True, category=category)
    case.add(
        "escalated", at + (case.minutes(1, 4.5) if case.chance(0.9) else case.minutes(6, 15)), to_level=4
    )
    review = at + (case.hours(4, 22) if case.chance(0.85) else case.hours(26, 40))
    case.add("incident_reviewed", review)
    return review


def _plan(case: _Case, at: dt.datetime) -> None:
    """A tailored plan for a level-1 (class A) customer (E6)."""
    case.add("plan_requested", at)
    case.add("plan_drafted", at + (case.minutes(8, 28) if case.chance(0.9) else case.minutes(35, 70)))
    case.add("plan_confirmed", at + (case.minutes(40, 115) if case.chance(0.9) else case.hours(2.2, 5)))


_PHONE_KINDS = {"enquiry": 60, "feedback": 22, "complaint": 9, "backoffice": 7, "emergency": 0.4}
_DESK_KINDS = {"complaint": 80, "feedback": 20}


def _phone(case: _Case, at: dt.datetime, customer: _Customer, returning: bool) -> None:
    kinds = _DESK_KINDS if case.agent.team.name == "complaints" else _PHONE_KINDS
    kind = case.rng.choices(list(kinds), list(kinds.values()))[0]
    _open(case, at, customer, "phone", returning)
    answered = at + dt.timedelta(seconds=case.rng.randint(3, 25))
    hung_up = answered + case.minutes(2.5, 9)
    if case.rng.random() < 0.33:  # quality assurance transcribes this call (A5 spot checks)
        hung_up = _transcript(case, answered, customer, returning, complaint=kind == "complaint")
    case.add("case_responded", answered + case.minutes(0.5, 3))
    work = answered + case.minutes(2, 4)
    end = {
        "enquiry": lambda: hung_up + case.minutes(1, 30),
        "feedback": lambda: _feedback(case, work),
        "complaint": lambda: _complaint(case, work),
        "backoffice": lambda: _backoffice(case, work),
        "emergency": lambda: _emergency(case, work),
    }[kind]()
    if customer.vip and case.rng.random() < 0.3:
        _plan(case, work + case.minutes(1, 5))
    case.add("case_resolved", max(end, hung_up) + case.minutes(1, 10))


# --- call transcripts (Q1-Q9) --------------------------------------------------------------------


def _slot(at: dt.datetime) -> str:
    minutes = at.hour * 60 + at.minute
    found = _SLOTS[-1][1]  # before 08:00 the evening greeting is expected
    for start, word in _SLOTS:
        if minutes >= start:
            found = word
    return found


def _opening(case: _Case, at: dt.datetime, customer: _Customer, returning: bool) -> str:
    slip = case.agent.team.slips * case.agent.skill
    name = "" if case.rng.random() < slip else f"我是客服{case.agent.name}，"
    if customer.vip:
        return f"尊敬的{customer.honorific}客户，欢迎您再次光临。这里是{_ORG}，{name}非常荣幸为您服务。"
    slot = _slot(at)
    if case.rng.random() < slip:
        slot = case.rng.choice([word for _, word in _SLOTS if word != slot])
    again = "很高兴再次为您服务。" if returning and case.rng.random() >= slip else "很高兴为您服务。"
    return f"{slot}，这里是{_ORG}，{name}{again}"


def _agent_turns(case: _Case, customer: _Customer, complaint: bool) -> Iterator[tuple[str, str]]:
    slip = case.agent.team.slips * case.agent.skill
    rng = case.rng
    reason = (
        "为了保障您的账户安全，请允许我核实您的身份信息。"
        if rng.random() >= slip
        else "请报一下您的身份证号。"
    )
    yield "agent", f"{customer.honorific}您好，{reason}"
    yield "customer", "好的，没问题。"
    yield "agent", ("好的，" if rng.random() < slip else f"好的{customer.honorific}，") + "我马上为您处理。"
    if rng.random() < slip * 0.6:
        yield (
            "agent",
            rng.choice(("这是规定，没有例外。", "请您别着急，我不知道具体原因。", "这个不行，您再等等。")),
        )
    if complaint:
        restate = "让我确认一下，您的主要不满是等待时间太长。" if rng.random() >= slip else "嗯，明白。"
        yield "agent", f"{restate}非常抱歉给您带来不便。"
        number = f"TS{rng.randrange(10**6):06d}"
        yield "agent", f"我们会在24小时内给您答复，您的投诉编号是{number}，联系电话是95588。"
    closing = (
        "我再跟您确认一下，今天已经为您处理好了。请问还有其他可以帮助您的吗？感谢您的来电，再见。"
        if rng.random() >= slip
        else "好的，再见。"
    )
    yield "customer", "没有了，谢谢。"
    yield "agent", closing


def _transcript(
    case: _Case, answered: dt.datetime, customer: _Customer, returning: bool, *, complaint: bool
) -> dt.datetime:
    """The call's rings, turns and hang-up (Q1-Q9). Returns when the call ended."""
    slip = case.agent.team.slips * case.agent.skill
    rings = case.rng.randint(4, 6) if case.rng.random() < slip else case.rng.randint(1, 3)
    case.add("call_answered", answered, rings=rings)
    turns = [("agent", _opening(case, answered, customer, returning))]
    turns.append(("customer", f"我是{customer.name}，我想咨询一下我的账户问题。"))
    turns += list(_agent_turns(case, customer, complaint))
    offset = 1.0
    for speaker, text in turns:
        pace = case.rng.uniform(163, 177) if case.rng.random() >= 0.05 else case.rng.choice((140, 200))
        seconds = round(char_count(text) / pace * 60, 1)
        case.add(
            "utterance",
            answered + dt.timedelta(seconds=round(offset)),
            speaker=speaker,
            text=text,
            offset_seconds=offset,
            duration_seconds=seconds if speaker == "agent" else None,
        )
        offset = round(offset + seconds + case.rng.uniform(1, 6), 1)
    ended = answered + dt.timedelta(seconds=round(offset))
    case.add("call_ended", ended, hung_up_by="agent" if case.rng.random() < slip else "customer")
    return ended


# --- lobby cases ---------------------------------------------------------------------------------


def _wait(case: _Case) -> dt.timedelta:
    """How long the customer waits to be served; lobby-west keeps a share waiting long."""
    if case.rng.random() < case.agent.team.slow_waits * case.agent.skill:
        return case.minutes(2.2, case.rng.choice((8, 14, 25, 50)))
    return case.minutes(0.3, 1.9)


def _amenities(case: _Case, arrived: dt.datetime, wait: dt.timedelta) -> None:
    """E8: water or tea after 5 minutes, reading after 15, progress after 30, a snack after 45."""
    for after, due, kind in (
        (5, 10, "tea"),
        (15, 15, "reading"),
        (30, 30, "progress_update"),
        (45, 45, "snack"),
    ):
        offered = arrived + case.minutes(after - 3 if after > 5 else after, due - 0.5)
        if wait > dt.timedelta(minutes=after) and offered < arrived + wait and case.chance(0.85):
            case.add("amenity_offered", offered, kind=kind)


def _follow_ups(case: _Case, done: dt.datetime) -> None:
    """E10/E11 after a reception: the call, the e-mail, initial and mid-term service, tracking."""
    share = case.agent.team.follow_up
    case.add(
        "follow_up_contacted",
        done + (case.hours(2, 22) if case.chance(share) else case.hours(26, 50)),
        channel="phone",
    )
    if case.rng.random() < 0.97:
        case.add(
            "follow_up_contacted",
            done + (case.hours(18, 46) if case.chance(share) else case.hours(50, 80)),
            channel="email",
        )
    initial = done + (case.hours(3, 22) if case.chance(share) else case.hours(25, 40))
    case.add("service_delivered", initial, stage="initial")
    case.add(
        "service_delivered",
        initial + (case.hours(20, 60) if case.chance(share) else case.hours(120, 150)),
        stage="tracking",
    )
    mid_term = done + (case.hours(60, 160) if case.chance(share) else case.hours(170, 200))
    case.add("service_delivered", mid_term, stage="mid_term")


def _lobby(case: _Case, arrived: dt.datetime, customer: _Customer, returning: bool) -> None:
    _open(case, arrived, customer, "lobby", returning)
    case.add("customer_arrived", arrived, vip=True if customer.vip else None)
    slow_greet = case.rng.random() < case.agent.team.slow_waits * case.agent.skill * 0.5
    case.add(
        "customer_greeted",
        arrived + dt.timedelta(seconds=case.rng.randint(11, 25) if slow_greet else case.rng.randint(2, 9)),
    )
    wait = _wait(case)
    _amenities(case, arrived, wait)
    served = arrived + wait
    case.add("customer_served", served, staff=True)
    case.add("case_responded", served + case.minutes(0.5, 2))
    done = served + case.minutes(6, 20)
    end = done
    if case.rng.random() < 0.08:  # a complaint at the desk
        end = max(done, _complaint(case, served + case.minutes(2, 6)))
    case.add("reception_completed", done)
    _follow_ups(case, done)  # they may run past the resolution: the case stays open for them
    case.add("case_resolved", end + case.minutes(1, 5))


def _visit(case: _Case, at: dt.datetime, customer: _Customer) -> None:
    """A scheduled guest visit (E12): the invitation a day ahead, staff in place before arrival."""
    _open(case, at, customer, "visit", returning=False)
    importance = case.rng.choice(("important", "regular"))
    expected = (at + dt.timedelta(days=case.rng.randint(2, 5))).replace(minute=0, second=0)
    case.add("visit_scheduled", at, expected_at=expected.isoformat(), importance=importance)
    case.add("case_responded", at + case.minutes(5, 60))
    sent = at + (case.hours(1, 20) if case.chance(0.92) else expected - at - case.hours(2, 20))
    case.add("invitation_sent", sent)
    ready = expected - (case.minutes(16, 40) if case.chance(0.9) else case.minutes(2, 9))
    case.add("staff_in_place", ready, staff=True)
    case.add("case_resolved", expected + case.hours(1, 2))


# --- the month -----------------------------------------------------------------------------------


def _month(month: str) -> tuple[dt.date, dt.date]:
    try:
        first = dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, got {month!r}") from None
    following = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return first, following


def _record(case: _Case, exported: dt.datetime) -> dict[str, Any] | None:
    """The case as the host exports it: events up to the export, ``now`` a snapshot after the last."""
    events = sorted(
        (e for e in case.events if dt.datetime.fromisoformat(e["at"]) <= exported), key=lambda e: e["at"]
    )
    if not events:
        return None
    last = max(dt.datetime.fromisoformat(e["at"]) for e in events)
    now = min(exported, last + _SNAPSHOT_AFTER)
    return {"name": case.case_id, "now": now.isoformat(), "events": events}


def _team_day(
    team: Team,
    day: dt.date,
    agents: Sequence[_Agent],
    customers: Sequence[_Customer],
    rng: random.Random,
    scale: float,
    seen: set[str],
    counter: Iterator[int],
) -> Iterator[_Case]:
    for at in _starts(team, day, rng, scale):
        case = _Case(f"C{day:%m%d}-{next(counter):05d}", rng.choice(agents), rng)
        customer = rng.choice(customers)
        returning = customer.customer_id in seen
        seen.add(customer.customer_id)
        if team.channel == "phone":
            _phone(case, at, customer, returning)
        elif rng.random() < 0.05:
            _visit(case, at, customer)
        else:
            _lobby(case, at, customer, returning)
        yield case


def generate(
    seed: int = DEFAULT_SEED, month: str = DEFAULT_MONTH, *, scale: float = 1.0
) -> list[dict[str, Any]]:
    """The month's case log records (``{"name", "now", "events"}``), in start order.

    ``scale`` multiplies the case volume (1.0: about 3,500 cases). Same arguments, same records.
    """
    first, following = _month(month)
    rng = random.Random(seed)
    agents = _agents(rng)
    customers = _customers(rng, 2400)
    exported = dt.datetime.combine(following, EXPORTED_AT, CST)
    seen: set[str] = set()
    counter = iter(range(1, 10**7))
    out = []
    day = first
    while day < following:
        for team in TEAMS:
            staff = [a for a in agents if a.team is team]
            for case in _team_day(team, day, staff, customers, rng, scale, seen, counter):
                record = _record(case, exported)
                if record is not None:
                    out.append(record)
        day += dt.timedelta(days=1)
    return out


def cases(seed: int = DEFAULT_SEED, month: str = DEFAULT_MONTH, *, scale: float = 1.0) -> list[CaseRecord]:
    """:func:`generate` as :class:`~tierrules.CaseRecord` s, ready for :func:`tierrules.report`."""
    return [
        CaseRecord(r["name"], r["events"], dt.datetime.fromisoformat(r["now"]))
        for r in generate(seed, month, scale=scale)
    ]


def write(
    path: str | Path, seed: int = DEFAULT_SEED, month: str = DEFAULT_MONTH, *, scale: float = 1.0
) -> int:
    """Write the month as a JSON Lines case log (UTF-8, one compact line per case); returns the count."""
    records = generate(seed, month, scale=scale)
    lines = (json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
    Path(path).write_text("".join(lines), encoding="utf-8")
    return len(records)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tierrules.reporting.demo [-o FILE] [--seed N] [--month YYYY-MM] [--scale X]``."""
    parser = argparse.ArgumentParser(
        prog="python -m tierrules.reporting.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument("-o", "--output", default="demo-month.jsonl", help="where to write the case log")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    parser.add_argument("--month", default=DEFAULT_MONTH, help=f"YYYY-MM (default {DEFAULT_MONTH})")
    parser.add_argument("--scale", type=float, default=1.0, help="case volume multiplier (default 1.0)")
    args = parser.parse_args(argv)
    try:
        count = write(args.output, args.seed, args.month, scale=args.scale)
    except ValueError as err:
        parser.error(str(err))
    print(f"wrote {count} cases to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
