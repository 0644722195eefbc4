"""Properties of the etiquette checks on whole generated conversations (issue 12).

Hypothesis builds compliant phone calls and lobby visits from the policy's own wording
(varied greetings, names with compound surnames, titles, scripts, ASR spacing, punctuation
widths) and checks what must hold for any of them:

- a compliant conversation has no violation at all;
- adding a compliant agent turn never adds a violation;
- an agent quoting the customer's words (with a forbidden phrase in them) adds no Q5;
- a forbidden phrase split by speech-recognition spaces is still found;
- every evidence span points into the text as received.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import opencc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tierrules
from tierrules.ruleset.etiquette import default_phrases

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ENGINE = tierrules.Engine()
TZ = dt.timezone(dt.timedelta(hours=8))
_S2TW = opencc.OpenCC("s2tw")

# Time slots of docs/policy.md Q1 with a greeting that fits (hour range, greetings).
SLOTS = [
    ((8, 10), ("早上好", "上午好")),
    ((11, 12), ("您好", "中午好")),
    ((14, 17), ("下午好",)),
    ((18, 21), ("晚上好",)),
]
CUSTOMERS = [
    ("张伟", "male"), ("李娜", "female"), ("欧阳娜娜", "female"), ("司马光明", "male"),
    ("诸葛亮", "male"), ("上官婉", "female"), ("王芳", "female"), ("陈建国", "male"),
    ("慕容雪", "female"), ("刘洋", "unknown"),
]  # fmt: skip
ORGS = [("星河银行", "星河银行"), ("交通银行", "交行"), ("中国移动", "移动"), ("平安保险", "平安")]
AGENTS = ["李明", "王小红", "陈静", "赵磊"]
COMPOUND = ("欧阳", "司马", "诸葛", "上官", "慕容")

# Middle-of-the-call agent turns a reviewer passes, several with a listed word in a harmless
# construction (a question, a conditional, a double negative, a promise, a quotation).
NEUTRAL = [
    "好的，我这边帮您查询一下，请稍等。",
    "系统显示这笔业务已经在处理中了。",
    "这个不是不行，我们可以换一种方式来办理。",
    "如果今天不行的话，明天上午也可以为您安排。",
    "并非不可能，我们可以尝试帮您申请加急。",
    "您看这样处理行不行？",
    "不可能让您白跑一趟的，材料我都帮您备好。",
    "您刚才说客服告诉您“不可能退款”，我帮您再核实一下。",
    "按照合同第五条的约定，这种情况可以免费更换。",
    "我理解您的着急，我们尽快为您处理。",
    "谢谢您的耐心，马上就好。",
    "这张卡暂时不行驶任何交易限制，可以正常使用。",
    "我不知道您周六上午方不方便过来？",
]
CUSTOMER_LINES = ["好的。", "嗯，明白了。", "那麻烦你了。", "可以的。", "行，谢谢。"]


def _surname(name: str) -> str:
    return name[:2] if name.startswith(COMPOUND) or len(name) == 4 else name[:1]


def _address(name: str, gender: str, draw: Any) -> str:
    honorifics = {"male": ["先生"], "female": ["女士"], "unknown": ["老师"]}[gender] + ["老师", "经理"]
    return _surname(name) + draw(st.sampled_from(honorifics))


@st.composite
def calls(draw: Any) -> tuple[list[dict[str, Any]], dt.datetime]:
    """A compliant conversation (events) and when it is judged."""
    channel = draw(st.sampled_from(["phone", "lobby"]))
    (lo, hi), greetings = draw(st.sampled_from(SLOTS))
    day = dt.date(2026, 11, 2) + dt.timedelta(days=draw(st.integers(0, 20)))
    start = dt.datetime.combine(day, dt.time(draw(st.integers(lo, hi)), draw(st.integers(0, 50))), TZ)
    name, gender = draw(st.sampled_from(CUSTOMERS))
    org, short = draw(st.sampled_from(ORGS))
    agent = draw(st.sampled_from(AGENTS))
    traditional = draw(st.booleans())
    asr = draw(st.booleans())
    case = "P-1"
    address = _address(name, gender, draw)
    if channel == "phone":
        opening = [f"您好，这里是{short}，我是客服{agent}，很高兴为您服务。"]
    else:
        opening = [f"{draw(st.sampled_from(greetings))}，欢迎光临{short}。"]
    body = [
        f"{address}您好，请问有什么可以帮您？",
        f"好的{address}，这个业务我马上为您办理。",
        *draw(st.lists(st.sampled_from(NEUTRAL), max_size=3)),
    ]
    closing = [
        "我再跟您确认一下，今天已经为您办好了这笔业务。",
        "请问还有其他可以帮助您的吗？",
        "感谢您的来电，再见。" if channel == "phone" else "感谢您的光临，欢迎下次光临。",
    ]
    t = start
    events: list[dict[str, Any]] = [
        {"type": "case_opened", "at": t, "case_id": case, "channel": channel, "customer_name": name,
         "customer_gender": gender, "agent_name": agent, "organisation": org},
    ]  # fmt: skip
    t += dt.timedelta(seconds=3)
    if channel == "phone":
        events.append({"type": "call_answered", "at": t, "case_id": case, "rings": draw(st.integers(1, 3))})
    else:
        events.append({"type": "customer_arrived", "at": t, "case_id": case})

    def say(speaker: str, text: str, gap: int) -> None:
        nonlocal t
        t += dt.timedelta(seconds=gap)
        if traditional:
            text = _S2TW.convert(text)
        if asr:
            text = " ".join(text.replace("，", " ").replace("。", " ").split())
        events.append({"type": "utterance", "at": t, "case_id": case, "speaker": speaker, "text": text})

    for line in opening:
        say("agent", line, 1)
    say("customer", "你好，我想办理一下业务。", 5)
    for i, line in enumerate(body):
        say("agent", line, 6)
        if i < 2:
            say("customer", draw(st.sampled_from(CUSTOMER_LINES)), 4)
    for line in closing:
        say("agent", line, 8)
        if line.startswith("请问"):
            say("customer", "没有了，谢谢。", 3)
    t += dt.timedelta(seconds=5)
    if channel == "phone":
        events.append({"type": "call_ended", "at": t, "case_id": case, "hung_up_by": "customer"})
    else:
        events.append({"type": "customer_left", "at": t, "case_id": case})
    return [_iso(e) for e in events], t + dt.timedelta(minutes=5)


def _iso(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in event.items()}


def _violations(events: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    decision = json.loads(ENGINE.evaluate(events, now).model_dump_json())
    found: list[dict[str, Any]] = decision["violations"]
    return found


def _keys(violations: list[dict[str, Any]]) -> set[tuple[str, str | None]]:
    return {(v["rule"], v.get("missing") or v.get("phrase")) for v in violations}


def _agent_turns(events: list[dict[str, Any]]) -> list[int]:
    return [i for i, e in enumerate(events) if e["type"] == "utterance" and e["speaker"] == "agent"]


@SETTINGS
@given(calls())
def test_a_compliant_conversation_has_no_violation(call: tuple[list[dict[str, Any]], dt.datetime]) -> None:
    events, now = call
    assert _violations(events, now) == []


@SETTINGS
@given(calls(), st.data())
def test_adding_a_compliant_turn_never_adds_a_violation(
    call: tuple[list[dict[str, Any]], dt.datetime], data: st.DataObject
) -> None:
    events, now = call
    before = _keys(_violations(events, now))
    agent = _agent_turns(events)
    # anywhere after the opening turn and before the last event
    where = data.draw(st.integers(agent[0] + 1, len(events) - 1))
    prev, nxt = (dt.datetime.fromisoformat(events[i]["at"]) for i in (where - 1, where))
    text = data.draw(st.sampled_from(NEUTRAL))
    turn = {"type": "utterance", "at": (prev + (nxt - prev) / 2).isoformat(), "case_id": "P-1",
            "speaker": "agent", "text": text}  # fmt: skip
    after = _keys(_violations([*events[:where], turn, *events[where:]], now))
    assert after <= before


PHRASES = [spec.phrase for spec in default_phrases()]
QUOTES = [("“", "”"), ('"', '"'), ("「", "」"), ("『", "』")]
MARKERS = ["您刚才说", "您是说", "您说商家回复您", "客户反映柜员说", "您的意思是对方说"]


@SETTINGS
@given(calls(), st.sampled_from(PHRASES), st.sampled_from(QUOTES), st.sampled_from(MARKERS), st.data())
def test_quoting_the_customers_words_adds_no_q5(
    call: tuple[list[dict[str, Any]], dt.datetime],
    phrase: str,
    quote: tuple[str, str],
    marker: str,
    data: st.DataObject,
) -> None:
    events, now = call
    i = data.draw(st.sampled_from(_agent_turns(events)[1:]))
    quoted = f"{marker}{quote[0]}{phrase}{quote[1]}，我明白了。"
    events[i] = {**events[i], "text": quoted + events[i]["text"]}
    assert not [v for v in _violations(events, now) if v["rule"] == "Q5.forbidden-phrases"]


@SETTINGS
@given(calls(), st.sampled_from(PHRASES), st.data())
def test_a_forbidden_phrase_split_by_asr_spaces_is_still_found(
    call: tuple[list[dict[str, Any]], dt.datetime], phrase: str, data: st.DataObject
) -> None:
    events, now = call
    cuts = data.draw(st.sets(st.integers(1, len(phrase) - 1)))
    spaced = "".join(
        ch + (" " * data.draw(st.integers(1, 2)) if i + 1 in cuts else "") for i, ch in enumerate(phrase)
    )
    i = data.draw(st.sampled_from(_agent_turns(events)[1:]))
    # After the turn's own words: put before them, the phrase can open a harmless construction
    # that ends in them (嗯 我 不知道 那个 / 您看这样处理行不行？ asks, politely, found by this test).
    events[i] = {**events[i], "text": events[i]["text"] + f" 嗯 {spaced} 那个"}
    found = [v for v in _violations(events, now) if v["rule"] == "Q5.forbidden-phrases"]
    assert found, spaced
    evidence = found[0]["evidence"]
    assert evidence["text"].replace(" ", "") == phrase


@SETTINGS
@given(calls(), st.sampled_from(PHRASES), st.data())
def test_spans_point_into_the_text_as_received(
    call: tuple[list[dict[str, Any]], dt.datetime], phrase: str, data: st.DataObject
) -> None:
    events, now = call
    i = data.draw(st.sampled_from(_agent_turns(events)))
    noise = data.draw(st.sampled_from(["", "　", "，，", "ﬁ ", "😀", "１２３", "  \t"]))
    events[i] = {**events[i], "text": noise + events[i]["text"] + f"，{phrase}。"}
    texts = {e["at"]: e["text"] for e in events if e["type"] == "utterance"}
    violations = _violations(events, now)
    assert any(v["rule"] == "Q5.forbidden-phrases" for v in violations)
    for v in violations:
        evidence = v.get("evidence")
        if evidence and "start" in evidence:
            text = texts.get(v["at"])
            assert text is not None, v
            assert text[evidence["start"] : evidence["end"]] == evidence["text"], v
