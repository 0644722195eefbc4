"""Call etiquette (Q1-Q9) and the per-call scorecard (A1), run through evaluate_etiquette directly."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import tierrules
from tierrules.evaluation.etiquette import evaluate_etiquette
from tierrules.events import Utterance
from tierrules.ruleset.etiquette import EtiquetteSpec, check

ROOT = Path(__file__).resolve().parents[1]
SECTION = ROOT / "rulesets" / "default" / "etiquette.yaml"
TZ = ZoneInfo("Asia/Shanghai")
CASE = "CALL-1"


def _raw_spec() -> dict[str, Any]:
    data = yaml.safe_load(SECTION.read_text(encoding="utf-8"))
    assert set(data) == {"etiquette"}
    section: dict[str, Any] = data["etiquette"]
    return section


SPEC = EtiquetteSpec.model_validate(_raw_spec())


def _at(seconds: float, hour: int = 9, minute: int = 0) -> str:
    base = dt.datetime(2026, 11, 24, hour, minute, tzinfo=TZ)
    return (base + dt.timedelta(seconds=seconds)).isoformat()


def call(
    turns: list[tuple[str, str]],
    *,
    hour: int = 9,
    minute: int = 0,
    rings: int = 2,
    hung_up_by: str | None = "customer",
    opened: dict[str, Any] | None = None,
    extra: list[dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """A call: case_opened, call_answered, one turn every 5 s (speaker, text), call_ended."""
    fields = {
        "customer_name": "张伟",
        "customer_gender": "male",
        "agent_name": "小李",
        "organisation": "星河银行",
    }
    fields.update(opened or {})
    events: list[dict[str, Any]] = [
        {"type": "case_opened", "at": _at(0, hour, minute), "case_id": CASE, "channel": "phone", **fields},
        {"type": "call_answered", "at": _at(1, hour, minute), "case_id": CASE, "rings": rings},
    ]
    for i, (speaker, text) in enumerate(turns):
        events.append(
            {
                "type": "utterance",
                "at": _at(2 + 5 * i, hour, minute),
                "case_id": CASE,
                "speaker": speaker,
                "text": text,
            }
        )
    events += extra or []
    if hung_up_by is not None:
        events.append(
            {
                "type": "call_ended",
                "at": _at(2 + 5 * len(turns), hour, minute),
                "case_id": CASE,
                "hung_up_by": hung_up_by,
            }
        )
    return events


def visit(
    turns: list[tuple[str, str]],
    *,
    hour: int = 9,
    minute: int = 0,
    opened: dict[str, Any] | None = None,
    extra: list[dict[str, Any]] | None = None,
    left: bool = True,
) -> list[dict[str, Any]]:
    """A lobby visit: the customer arrives, the turns, the customer leaves."""
    events: list[dict[str, Any]] = [
        {
            "type": "case_opened",
            "at": _at(0, hour, minute),
            "case_id": CASE,
            "channel": "lobby",
            **(opened or {}),
        },
        {"type": "customer_arrived", "at": _at(1, hour, minute), "case_id": CASE},
    ]
    for i, (speaker, text) in enumerate(turns):
        events.append(
            {
                "type": "utterance",
                "at": _at(2 + 5 * i, hour, minute),
                "case_id": CASE,
                "speaker": speaker,
                "text": text,
            }
        )
    events += extra or []
    if left:
        events.append({"type": "customer_left", "at": _at(2 + 5 * len(turns), hour, minute), "case_id": CASE})
    return events


def run(
    raw: list[dict[str, Any]], spec: EtiquetteSpec = SPEC, tier_level: Any = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    events = sorted(tierrules.parse_events(raw), key=lambda e: e.at)
    return evaluate_etiquette(spec, events, TZ, tier_level)


def rules(violations: list[dict[str, Any]], rule: str) -> list[dict[str, Any]]:
    return [v for v in violations if v["rule"] == rule]


GOOD = [
    ("agent", "早上好，这里是星河银行，我是客服小李，很高兴为您服务。"),
    ("customer", "你好，我的卡被锁了。"),
    ("agent", "张先生您好，为了保障您的账户安全，请允许我核实您的身份信息。"),
    ("customer", "好的。"),
    ("agent", "张先生，已经为您解锁。请问还有其他可以帮助您的吗？感谢您的来电，再见。"),
]


def _strict(spec: EtiquetteSpec) -> EtiquetteSpec:
    assert spec.greeting is not None
    return spec.model_copy(update={"greeting": spec.greeting.model_copy(update={"strict": True})})


STRICT = _strict(SPEC)


def test_shipped_ruleset_section_is_valid() -> None:
    assert check(SPEC) == []
    assert SPEC.scorecard is not None
    assert sum(item.weight for item in SPEC.scorecard.items) == 100


def test_a_good_call_has_no_violations_and_passes() -> None:
    violations, scores = run(call(GOOD))
    assert violations == []
    [score] = scores
    assert score["case_id"] == CASE
    assert score["passed"] is True
    assert score["score"] == score["max"] == 80  # transfer (10) and complaint (10) not applicable
    statuses = {i["id"]: i["status"] for i in score["items"]}
    assert statuses["transfer"] == statuses["complaint"] == "n/a"


# --- Q5 --------------------------------------------------------------------------------------


def test_q5_forbidden_phrase_in_agent_turn_is_a_fail_with_evidence_and_auto_fails() -> None:
    text = "张先生，这个不行，请您别着急。"
    violations, scores = run(call([*GOOD[:4], ("agent", text), *GOOD[4:]]))
    found = rules(violations, "Q5.forbidden-phrases")
    assert [v["evidence"]["text"] for v in found] == ["不行", "请您别着急"]
    for v in found:
        assert text[v["evidence"]["start"] : v["evidence"]["end"]] == v["evidence"]["text"]
        assert v["severity"] == "fail"
        assert v["source"] == "Q5"
        assert v["message"]["zh"] and v["message"]["en"]
        assert v["case_id"] == CASE
    assert "谢谢您的耐心" in found[1]["message"]["zh"]
    assert scores[0]["auto_failed"] is True
    assert scores[0]["score"] == 0
    assert scores[0]["passed"] is False


@pytest.mark.parametrize(
    "text", ["这并非不可能，我们可以尝试。", "这是规定的办理时限，三个工作日内办结。", "这样处理行不行？"]
)
def test_q5_false_positives_are_not_flagged(text: str) -> None:
    violations, _ = run(call([*GOOD, ("agent", text)]))
    assert rules(violations, "Q5.forbidden-phrases") == []


def test_q5_customer_turns_are_never_flagged() -> None:
    violations, _ = run(call([*GOOD, ("customer", "不行不行，你太不负责了，这是规定吗？")]))
    assert rules(violations, "Q5.forbidden-phrases") == []


def test_q5_traditional_script_evidence_is_the_original_text() -> None:
    text = "張先生，請您別著急，這是規定。"
    violations, _ = run(call([*GOOD, ("agent", text)]))
    found = rules(violations, "Q5.forbidden-phrases")
    assert [v["evidence"]["text"] for v in found] == ["請您別著急", "這是規定"]
    for v in found:
        assert text[v["evidence"]["start"] : v["evidence"]["end"]] == v["evidence"]["text"]


def test_q5_custom_phrase_list() -> None:
    raw = _raw_spec()
    raw["forbidden_phrases"]["phrases"] = [{"id": "Q5.mei-ban-fa", "phrase": "没办法"}]
    spec = EtiquetteSpec.model_validate(raw)
    assert check(spec) == []
    violations, _ = run(call([*GOOD, ("agent", "这个没办法，不行。")]), spec)
    assert [v["evidence"]["text"] for v in rules(violations, "Q5.forbidden-phrases")] == ["没办法"]


# --- Q2 --------------------------------------------------------------------------------------


def test_q2_more_than_three_rings() -> None:
    violations, _ = run(call(GOOD, rings=4))
    [v] = rules(violations, "Q2.phone-opening")
    assert v["rings"] == 4
    assert v["max_rings"] == 3
    assert "4" in v["message"]["zh"]
    assert rules(run(call(GOOD, rings=3))[0], "Q2.phone-opening") == []


def test_q2_level1_limit_uses_tier_level() -> None:
    raw = _raw_spec()
    raw["phone_opening"]["max_rings_level1"] = 2
    spec = EtiquetteSpec.model_validate(raw)
    seen: list[tuple[str | None, dt.datetime]] = []

    def level(customer: str | None, at: dt.datetime) -> int | None:
        seen.append((customer, at))
        return 1

    violations, _ = run(call(GOOD, rings=3, opened={"customer_id": "CUST-1"}), spec, level)
    assert [v["max_rings"] for v in rules(violations, "Q2.phone-opening")] == [2]
    assert seen[0][0] == "CUST-1"
    assert rules(run(call(GOOD, rings=3), spec, lambda c, a: 2)[0], "Q2.phone-opening") == []


def test_q2_first_turn_names_organisation_and_agent() -> None:
    turns = [("agent", "早上好，很高兴为您服务。"), *GOOD[1:]]
    violations, _ = run(call(turns))
    assert sorted(v["missing"] for v in rules(violations, "Q2.phone-opening")) == [
        "agent_name",
        "organisation",
    ]
    # Not checked when case_opened does not give them.
    violations, _ = run(call(turns, opened={"agent_name": None, "organisation": None}))
    assert rules(violations, "Q2.phone-opening") == []


# --- Q1 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [
        (8, 0, "早上好"),
        (10, 59, "早上好"),
        (11, 0, "您好"),
        (13, 29, "您好"),
        (13, 30, "下午好"),
        (18, 0, "晚上好"),
        (23, 0, "晚上好"),
        (4, 59, "晚上好"),
        # A centre open before 08:00 is still in the morning (regression: 早上好 at 07:45 failed)
        (5, 0, "早上好"),
        (7, 45, "早上好"),
    ],
)
def test_q1_greeting_by_hour(hour: int, minute: int, expected: str) -> None:
    turns = [("agent", f"{expected}，这里是星河银行，我是客服小李。"), *GOOD[1:]]
    assert rules(run(call(turns, hour=hour, minute=minute))[0], "Q1.greeting") == []


def test_q1_wrong_greeting_says_expected_and_heard() -> None:
    text = "早上好，这里是星河银行，我是客服小李。"
    [v] = rules(run(call([("agent", text), *GOOD[1:]], hour=14))[0], "Q1.greeting")
    assert v["expected"] == "下午好"
    assert v["heard"] == "早上好"
    assert text[v["evidence"]["start"] : v["evidence"]["end"]] == "早上好"
    assert "下午好" in v["message"]["zh"] and "早上好" in v["message"]["en"]


def test_q1_no_greeting_and_traditional_greeting() -> None:
    [v] = rules(run(call([("agent", "这里是星河银行，我是客服小李。"), *GOOD[1:]]))[0], "Q1.greeting")
    assert v["heard"] is None
    assert v["evidence"] is None
    traditional = [("agent", "下午好，這裏是星河銀行，我是客服小李。"), *GOOD[1:]]
    assert rules(run(call(traditional, hour=15))[0], "Q1.greeting") == []


def test_q1_regulars_addition_is_optional_unless_strict() -> None:
    """S2: 对于熟客,可在标准问候语后加上很高兴再次为您服务 — 可 (may): required only when strict."""
    returning = {"returning": True}
    assert rules(run(call(GOOD, opened=returning))[0], "Q1.greeting") == []
    [v] = rules(run(call(GOOD, opened=returning), STRICT)[0], "Q1.greeting")
    assert (v["expected"], v["regular"]) == ("很高兴再次为您服务", True)
    warm = [("agent", "早上好，这里是星河银行，我是客服小李，很高兴再次为您服务。"), *GOOD[1:]]
    assert rules(run(call(warm, opened=returning), STRICT)[0], "Q1.greeting") == []
    assert rules(run(call(GOOD), STRICT)[0], "Q1.greeting") == []  # not returning: nothing extra


# --- Q8 --------------------------------------------------------------------------------------


def test_q8_closing_missing_question_thanks_and_agent_hangs_up() -> None:
    turns = [*GOOD[:4], ("agent", "张先生，已经为您解锁，再见。")]
    violations, scores = run(call(turns, hung_up_by="agent"))
    found = rules(violations, "Q8.closing")
    assert sorted(v["missing"] for v in found) == ["customer_hangs_up_first", "question", "thanks"]
    assert {i["id"]: i["status"] for i in scores[0]["items"]}["closing"] == "fail"
    assert scores[0]["score"] == 70  # 80 applicable, closing (10) lost


def test_q8_variant_question_and_traditional_thanks() -> None:
    turns = [*GOOD[:4], ("agent", "張先生，已經為您解鎖。還有什麼可以幫您？謝謝您的來電。")]
    assert rules(run(call(turns))[0], "Q8.closing") == []


def test_q8_phone_close_needs_a_summary_before_the_question() -> None:
    """S2: 通话结束前应总结要点 — a call that ends on the question alone misses the summary."""
    turns = [*GOOD[:4], ("agent", "好的。请问还有其他可以帮助您的吗？感谢您的来电。")]
    [v] = rules(run(call(turns))[0], "Q8.closing")
    assert v["missing"] == "summary"
    recap = [
        *GOOD[:4],
        ("agent", "我再跟您确认一下，您的卡今天已经解锁了。请问还有其他可以帮助您的吗？感谢您的来电。"),
    ]
    assert rules(run(call(recap))[0], "Q8.closing") == []


def test_q8_not_applicable_before_the_call_ends() -> None:
    violations, scores = run(call(GOOD[:2], hung_up_by=None))
    assert rules(violations, "Q8.closing") == []
    assert {i["id"]: i["status"] for i in scores[0]["items"]}["closing"] == "n/a"


# --- Q4 --------------------------------------------------------------------------------------


def test_q4_name_once_is_not_enough() -> None:
    turns = [
        GOOD[0],
        GOOD[1],
        ("agent", "张先生，请问您需要办理什么业务？"),
        ("agent", "请问还有其他可以帮助您的吗？感谢您的来电。"),
    ]
    [v] = rules(run(call(turns))[0], "Q4.customer-name")
    assert v["mentions"] == 1


def test_q4_forms_full_name_honorifics_and_window() -> None:
    two = [("agent", "张伟先生您好。"), ("agent", "张总，请稍候。")]
    assert rules(run(call(two))[0], "Q4.customer-name") == []
    # Gender decides the honorific: 张女士 does not count for a male customer.
    wrong = [("agent", "张女士您好。"), ("agent", "张女士，请稍候。")]
    assert rules(run(call(wrong))[0], "Q4.customer-name") != []
    assert rules(run(call(wrong, opened={"customer_gender": "female"}))[0], "Q4.customer-name") == []


def test_q4_offset_seconds_window() -> None:
    """A mention is within the window when its offset_seconds or its time since the answer is:
    hosts count offsets from the first ring or from the answer (the answer is at 1 s here)."""
    raw = call([("agent", "张先生您好。")])
    mention = {"type": "utterance", "at": _at(70), "case_id": CASE, "speaker": "agent", "text": "张先生。"}
    raw.insert(3, {**mention, "offset_seconds": 75})
    assert rules(run(raw)[0], "Q4.customer-name") != []  # 69 s after the answer, offset 75
    raw[3] = {**mention, "offset_seconds": 59}
    assert rules(run(raw)[0], "Q4.customer-name") == []  # the offset says 59
    raw[3] = {**mention, "at": _at(55), "offset_seconds": 64}
    assert rules(run(raw)[0], "Q4.customer-name") == []  # 54 s after the answer


def test_q4_not_judged_while_the_window_is_open() -> None:
    raw = call([("agent", "张先生您好。")], hung_up_by=None)
    events = sorted(tierrules.parse_events(raw), key=lambda e: e.at)
    early = dt.datetime(2026, 11, 24, 9, 0, 30, tzinfo=TZ)
    late = dt.datetime(2026, 11, 24, 9, 1, 30, tzinfo=TZ)
    assert rules(evaluate_etiquette(SPEC, events, TZ, None, now=early)[0], "Q4.customer-name") == []
    [v] = rules(evaluate_etiquette(SPEC, events, TZ, None, now=late)[0], "Q4.customer-name")
    assert v["at"] == dt.datetime(2026, 11, 24, 9, 1, 1, tzinfo=TZ)


def test_q4_traditional_name() -> None:
    turns = [("agent", "張先生您好。"), ("agent", "張偉先生，請稍候。")]
    assert rules(run(call(turns, opened={"customer_name": "張偉"}))[0], "Q4.customer-name") == []


# --- Q3, Q6, Q7 ------------------------------------------------------------------------------


def test_q3_pace_review_near_the_range_fail_far_beyond() -> None:
    """S2: 每分钟控制在160-180字左右 — about: within 20% outside the range it is for review."""
    raw = call(GOOD)

    def turn(chars: int, seconds: float) -> dict[str, Any]:
        return {
            "type": "utterance",
            "at": _at(3),
            "case_id": CASE,
            "speaker": "agent",
            "text": "张" * chars,
            "duration_seconds": seconds,
        }

    violations, scores = run([*raw, turn(60, 10)])  # 360 a minute: far too fast
    [v] = rules(violations, "Q3.pace")
    assert (v["severity"], v["per_minute"]) == ("fail", 360)
    [v] = rules(run([*raw, turn(33, 10)])[0], "Q3.pace")  # 198 a minute: a little fast
    assert v["severity"] == "review"
    assert rules(run([*raw, turn(28, 10)])[0], "Q3.pace") == []  # 168 a minute
    assert rules(run([*raw, turn(60, 1)])[0], "Q3.pace") == []  # too short to judge
    assert scores[0]["passed"] is True  # pace is not on the scorecard


def test_q6_identity_request_without_reason() -> None:
    text = "请提供您的身份证号。"
    [v] = rules(run(call([*GOOD[:2], ("agent", text), *GOOD[3:]]))[0], "Q6.identity-check")
    assert text[v["evidence"]["start"] : v["evidence"]["end"]] == v["evidence"]["text"] == "提供您的身份证"
    # The reason in an earlier turn is enough.
    turns = [*GOOD[:2], ("agent", "为了您的账户安全，需要核对信息。"), ("agent", text), *GOOD[3:]]
    assert rules(run(call(turns))[0], "Q6.identity-check") == []


def _transfer(picked_up: bool | None) -> list[dict[str, Any]]:
    extra: list[dict[str, Any]] = [{"type": "transfer_requested", "at": _at(30), "case_id": CASE}]
    if picked_up is not None:
        extra.append({"type": "transfer_completed", "at": _at(40), "case_id": CASE, "picked_up": picked_up})
    return extra


def test_q7_transfer_with_reason_wait_consent_and_pickup() -> None:
    turns = [*GOOD[:4], ("agent", "由于需要专业同事处理，为您转接，大约30秒，可以吗？"), *GOOD[4:]]
    assert rules(run(call(turns, extra=_transfer(True)))[0], "Q7.transfer") == []


def test_q7_transfer_without_consent_and_left_before_pickup() -> None:
    turns = [*GOOD[:4], ("agent", "由于需要专业同事处理，为您转接。"), *GOOD[4:]]
    violations, scores = run(call(turns, extra=_transfer(False)))
    assert sorted(v["missing"] for v in rules(violations, "Q7.transfer")) == ["consent", "picked_up", "wait"]
    assert {i["id"]: i["status"] for i in scores[0]["items"]}["transfer"] == "fail"
    assert "picked_up" in {
        v["missing"] for v in rules(run(call(turns, extra=_transfer(None)))[0], "Q7.transfer")
    }


# --- validation ------------------------------------------------------------------------------


def test_weights_not_adding_to_100_are_refused_with_the_path() -> None:
    raw = _raw_spec()
    raw["scorecard"]["items"][0]["weight"] = 35  # 110, like A1's source table
    problems = check(EtiquetteSpec.model_validate(raw))
    assert [p.absolute_path for p in problems] == [("scorecard", "items")]
    assert "110" in problems[0].message


def test_unknown_check_id_and_duplicate_ids() -> None:
    raw = _raw_spec()
    raw["scorecard"]["items"][0]["checks"] = ["Q5.forbidden-phrase"]
    raw["closing"]["id"] = "Q1.greeting"
    problems = check(EtiquetteSpec.model_validate(raw))
    paths = {p.absolute_path: p for p in problems}
    assert paths[("scorecard", "items", 0, "checks", 0)].suggestion == "Q5.forbidden-phrases"
    assert ("closing", "id") in paths


def test_spec_is_strict() -> None:
    raw = _raw_spec()
    raw["greeting"]["slot"] = []
    with pytest.raises(ValueError, match="slot"):
        EtiquetteSpec.model_validate(raw)
    raw = _raw_spec()
    raw["greeting"]["slots"][1]["start"] = "04:00"
    assert [p.absolute_path for p in check(EtiquetteSpec.model_validate(raw))] == [
        ("greeting", "slots", 1, "start")
    ]


def test_cases_that_are_not_calls_are_skipped() -> None:
    raw = [{"type": "case_opened", "at": _at(0), "case_id": "X", "channel": "lobby"}]
    assert run(raw) == ([], [])


# --- the example files -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["call-simplified.jsonl", "call-traditional.jsonl"])
def test_examples(name: str) -> None:
    lines = (ROOT / "examples" / name).read_text(encoding="utf-8").splitlines()
    raw = [json.loads(line) for line in lines if line.strip()]
    violations, scores = run(raw)
    assert [(v["rule"], v["severity"]) for v in violations] == [("Q5.forbidden-phrases", "fail")]
    evidence = violations[0]["evidence"]
    texts = [e["text"] for e in raw if e["type"] == "utterance"]
    assert any(t[evidence["start"] : evidence["end"]] == evidence["text"] for t in texts)
    assert scores[0]["auto_failed"] is True


# --- properties ------------------------------------------------------------------------------

FORBIDDEN = ["不行", "不可能", "我不知道", "这是规定", "请您别着急", "請您別著急", "没有例外", "你总是这样"]
FILLER = ["", "张先生，", "好的，", "嗯 ", "這個"]


@settings(max_examples=60, deadline=None)
@given(
    base=st.lists(
        st.tuples(
            st.sampled_from(["agent", "customer"]),
            st.sampled_from([*(t for _, t in GOOD), "好的。", "不行吗"]),
        ),
        max_size=6,
    ),
    position=st.integers(min_value=0, max_value=6),
    before=st.sampled_from(FILLER),
    phrase=st.sampled_from(FORBIDDEN),
    after=st.sampled_from(["", "。", "，谢谢。"]),
)
def test_adding_a_forbidden_agent_turn_never_raises_the_score(
    base: list[tuple[str, str]], position: int, before: str, phrase: str, after: str
) -> None:
    _, [old] = run(call(base))
    turns = [*base]
    turns.insert(min(position, len(turns)), ("agent", before + phrase + after))
    violations, [new] = run(call(turns))
    assert new["score"] <= old["score"]
    assert new["percent"] <= old["percent"]
    assert new["passed"] is False
    assert rules(violations, "Q5.forbidden-phrases")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([*FILLER, "早上好，", "這裏是星河銀行，", "为了保障您的账户安全，"]),
            st.sampled_from([*FORBIDDEN, "并非不可能", "行不行", "身份证号", "下午好"]),
            st.sampled_from(["", "。", "！", " "]),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_evidence_is_a_span_of_the_original_text(parts: list[tuple[str, str, str]]) -> None:
    turns = [("agent", "".join(p)) for p in parts]
    raw = call(turns, hour=14)
    events = tierrules.parse_events(raw)
    texts = {e.at: e.text for e in events if isinstance(e, Utterance)}
    violations, _ = evaluate_etiquette(SPEC, sorted(events, key=lambda e: e.at), TZ, None)
    with_evidence = [v for v in violations if v["evidence"] is not None]
    for v in with_evidence:
        ev = v["evidence"]
        assert texts[v["at"]][ev["start"] : ev["end"]] == ev["text"]


# --- Through the engine: violations and scores in the decision ---------------------------------


def test_engine_reports_violations_and_scores_for_a_traditional_script_call() -> None:
    import json as _json
    import random as _random

    engine = tierrules.Engine(tierrules.load_ruleset())
    lines = (ROOT / "examples" / "call-traditional.jsonl").read_text(encoding="utf-8").splitlines()
    events = [_json.loads(line) for line in lines if line.strip()]
    now = max(dt.datetime.fromisoformat(e["at"]) for e in events) + dt.timedelta(minutes=5)
    decision = engine.evaluate(events, now=now)
    [violation] = [v for v in decision.violations if v.source == "Q5"]
    data = violation.model_dump(mode="json")
    utterance = next(
        e["text"] for e in events if e["type"] == "utterance" and data["evidence"]["text"] in e["text"]
    )
    assert utterance[data["evidence"]["start"] : data["evidence"]["end"]] == data["evidence"]["text"]
    assert data["severity"] == "fail"
    [score] = decision.scores
    assert score.passed is False
    shuffled = list(events)
    _random.Random(7).shuffle(shuffled)
    assert engine.evaluate(shuffled, now=now).to_json() == decision.to_json()


# --- Q9 complaint conversation -----------------------------------------------------------------

COMPLAINT_OPEN = [
    ("agent", "下午好，这里是星河银行，我是客服小李，很高兴为您服务。"),
    ("customer", "我要投诉，你们网点的柜员态度很差。"),
]
COMPLAINT_GOOD = [
    *COMPLAINT_OPEN,
    ("agent", "张先生，非常抱歉给您带来不便。让我确认一下：您是对昨天网点柜员的服务态度不满意，对吗？"),
    ("customer", "对。"),
    (
        "agent",
        "张先生，已为您登记，投诉编号是 TS20261124001，我们会在24小时内给您答复，"
        "您也可以拨打我们的客服热线查询进度。",
    ),
    ("agent", "请问还有其他可以帮助您的吗？感谢您的来电，再见。"),
]


def complaint_call(turns: list[tuple[str, str]], **kwargs: Any) -> list[dict[str, Any]]:
    complaint = {"type": "complaint_registered", "at": _at(20, 14), "case_id": CASE}
    return call(turns, hour=14, extra=[complaint], **kwargs)


def test_q9_a_complete_complaint_call_passes() -> None:
    violations, [score] = run(complaint_call(COMPLAINT_GOOD))
    assert violations == []
    assert {i["id"]: i["status"] for i in score["items"]}["complaint"] == "pass"
    assert score["passed"] is True


def test_q9_missing_steps_each_a_violation() -> None:
    turns = [
        *COMPLAINT_OPEN,
        ("agent", "张先生，好的，我们这边记录一下，暂时没有工单号。"),
        ("agent", "张先生，请问还有其他可以帮助您的吗？感谢您的来电，再见。"),
    ]
    violations, [score] = run(complaint_call(turns))
    assert {v["rule"] for v in violations} == {"Q9.complaint-conversation", "Q8.closing"}
    found = rules(violations, "Q9.complaint-conversation")
    assert [(v["missing"], v["severity"]) for v in found] == [
        ("restate", "fail"),
        ("deadline", "fail"),
        ("number", "fail"),  # 暂时没有工单号: negated, does not count
        ("contact", "review"),
        ("apology", "fail"),  # the closing's 感谢您的来电 is not the complaint's thanks
    ]
    for v in found:
        assert v["source"] == "Q9"
        assert v["message"]["zh"].startswith("投诉处理")
        assert v["message"]["en"].startswith("complaint handling")
        assert v["evidence"] is None
    items = {i["id"]: i for i in score["items"]}
    assert items["complaint"]["status"] == "fail"
    assert items["closing"]["status"] == "fail"  # no summary before the closing question
    assert (score["score"], score["max"]) == (60, 80)
    assert score["passed"] is False  # 75%: below the 80% pass mark


def test_q9_contact_missing_alone_is_review_and_costs_nothing() -> None:
    turns = [
        t if "投诉编号" not in t[1] else ("agent", "投诉编号是 TS001，我们会在3个工作日内给您答复。")
        for t in COMPLAINT_GOOD
    ]
    violations, [score] = run(complaint_call(turns))
    [v] = rules(violations, "Q9.complaint-conversation")
    assert (v["missing"], v["severity"]) == ("contact", "review")
    assert {i["id"]: i["status"] for i in score["items"]}["complaint"] == "pass"


def test_q9_traditional_script_and_variants() -> None:
    turns = [
        *COMPLAINT_OPEN,
        ("agent", "張先生，對不起。跟您確認一下，您是對櫃員的態度不滿意。"),
        ("agent", "工單號是 A-17，處理時限為兩個工作日內，聯繫電話是 95588。"),
        ("agent", "請問還有其他可以幫助您的嗎？感謝您的來電。"),
    ]
    violations, _ = run(complaint_call(turns))
    assert rules(violations, "Q9.complaint-conversation") == []


def test_q9_a_complaint_in_words_is_a_complaint() -> None:
    """The customer saying 我要投诉 is a complaint even without a complaint_registered event."""
    found = rules(run(call(COMPLAINT_OPEN, hour=14))[0], "Q9.complaint-conversation")
    assert {v["missing"] for v in found} == {"restate", "deadline", "number", "contact", "apology"}
    assert rules(run(call(COMPLAINT_GOOD, hour=14))[0], "Q9.complaint-conversation") == []
    not_one = [
        ("agent", "下午好，这里是星河银行，我是客服小李。"),
        ("customer", "我不是要投诉，就是问一下网点几点开门。"),
    ]
    assert rules(run(call(not_one, hour=14))[0], "Q9.complaint-conversation") == []


def test_q9_not_judged_without_a_complaint_or_before_the_call_ends() -> None:
    calm = [("agent", "下午好，这里是星河银行，我是客服小李。"), ("customer", "网点几点开门？")]
    assert rules(run(call(calm, hour=14))[0], "Q9.complaint-conversation") == []
    violations, [score] = run(complaint_call(COMPLAINT_OPEN, hung_up_by=None))
    assert rules(violations, "Q9.complaint-conversation") == []
    assert {i["id"]: i["status"] for i in score["items"]}["complaint"] == "n/a"


def test_q9_customer_turns_do_not_count() -> None:
    turns = [
        *COMPLAINT_OPEN,
        ("customer", "让我确认一下，工单号是多少？24小时内能答复吗？热线是多少？对不起。"),
        ("agent", "请问还有其他可以帮助您的吗？感谢您的来电，再见。"),
    ]
    found = rules(run(complaint_call(turns))[0], "Q9.complaint-conversation")
    assert [v["missing"] for v in found] == ["restate", "deadline", "number", "contact", "apology"]


def test_wording_patterns_that_do_not_compile_are_refused_with_the_path() -> None:
    raw = _raw_spec()
    raw["complaint_conversation"]["number"] = {"phrases": ["工单号"], "patterns": ["(工单"]}
    problems = check(EtiquetteSpec.model_validate(raw))
    assert [p.absolute_path for p in problems] == [("complaint_conversation", "number", "patterns", 0)]


# --- Q1 VIP greeting -------------------------------------------------------------------------

VIP_GREETING = "尊敬的张先生客户，欢迎您再次莅临，这里是星河银行，我是客服小李，非常荣幸为您服务。"


def test_q1_vip_form_is_optional_unless_strict_and_never_on_the_phone() -> None:
    """S2: 对于VIP客户,可使用…尊敬的XX客户,欢迎您再次莅临 — 可 (may), and 莅临 is coming in person."""
    level1 = lambda c, a: 1 if c == "CUST-1" else 2  # noqa: E731
    opened = {"customer_id": "CUST-1"}
    assert rules(run(call(GOOD, opened=opened), tier_level=level1)[0], "Q1.greeting") == []
    assert rules(run(call(GOOD, opened=opened), STRICT, tier_level=level1)[0], "Q1.greeting") == []  # phone
    [v] = rules(run(visit(GOOD, opened=opened), STRICT, tier_level=level1)[0], "Q1.greeting")
    assert v["vip"] is True
    vip_turns = [("agent", VIP_GREETING), *GOOD[1:]]
    assert rules(run(visit(vip_turns, opened=opened), STRICT, tier_level=level1)[0], "Q1.greeting") == []


@pytest.mark.parametrize(
    "text", ["尊敬的客户，您好，这里是星河银行。", "歡迎您再次蒞臨星河銀行。", "尊敬的白金客户，早上好。"]
)
def test_q1_vip_forms_accepted(text: str) -> None:
    violations, _ = run(
        visit([("agent", text)], opened={"customer_id": "C"}), STRICT, tier_level=lambda c, a: 1
    )
    assert rules(violations, "Q1.greeting") == []


def test_q1_vip_arrival_flag_without_tiers() -> None:
    arrived = {"type": "customer_arrived", "at": _at(0), "case_id": CASE, "vip": True}
    violations, _ = run(visit(GOOD, extra=[arrived]), STRICT)
    [v] = rules(violations, "Q1.greeting")
    assert v["vip"] is True
    assert "贵宾" in v["message"]["zh"] and "VIP" in v["message"]["en"]
    assert rules(run(visit(GOOD, extra=[arrived]))[0], "Q1.greeting") == []  # not strict


def test_q1_vip_address_gap_is_bounded() -> None:
    far = "早上好，尊敬的" + "很" * 11 + "客户"
    violations, _ = run(
        visit([("agent", far)], opened={"customer_id": "C"}), STRICT, tier_level=lambda c, a: 1
    )
    assert [v.get("vip") for v in rules(violations, "Q1.greeting")] == [True]


def test_engine_platinum_customer_needs_no_vip_greeting_by_default() -> None:
    engine = tierrules.Engine(tierrules.load_ruleset())
    profile = {
        "type": "customer_profile",
        "at": "2026-11-01T10:00:00+08:00",
        "customer_id": "CUST-P",
        "spend_12m": 420000,
        "visits_12m": 15,
        "tenure_months": 30,
    }
    now = dt.datetime(2026, 11, 24, 10, 0, tzinfo=TZ)
    for events in (
        call(GOOD, opened={"customer_id": "CUST-P"}),
        visit(GOOD, opened={"customer_id": "CUST-P"}),
    ):
        decision = engine.evaluate([profile, *events], now=now)
        assert [t.tier for t in decision.tiers if t.customer_id == "CUST-P"] == ["platinum"]
        assert [v for v in decision.violations if v.rule == "Q1.greeting"] == []


def test_engine_complaint_call_through_the_default_ruleset() -> None:
    engine = tierrules.Engine(tierrules.load_ruleset())
    now = dt.datetime(2026, 11, 24, 15, 0, tzinfo=TZ)
    decision = engine.evaluate(complaint_call(COMPLAINT_OPEN), now=now)
    missing = [v.model_dump(mode="json")["missing"] for v in decision.violations if v.source == "Q9"]
    assert missing == ["restate", "deadline", "number", "contact", "apology"]
    assert not [
        v for v in engine.evaluate(complaint_call(COMPLAINT_GOOD), now=now).violations if v.source == "Q9"
    ]


# --- policy-test coverage ----------------------------------------------------------------------


def test_policy_coverage_counts_etiquette_checks_and_matches_scores() -> None:
    from tierrules.policytest import check as check_expect
    from tierrules.policytest import rule_ids

    ruleset = tierrules.load_ruleset()
    ids = rule_ids(ruleset)
    assert ruleset.etiquette is not None
    for _, rule in ruleset.etiquette.checks():
        assert ids[rule.id] == rule.source
    assert ids["Q9.complaint-conversation"] == "Q9"
    decision = tierrules.Engine(ruleset).evaluate(call(GOOD), now=dt.datetime(2026, 11, 24, 9, 30, tzinfo=TZ))
    assert check_expect(decision, {"scores": [{"case_id": CASE, "score": 80, "passed": True}]}) == []
    [failure] = check_expect(decision, {"scores": [{"case_id": CASE, "score": 90}]})
    assert "scores[0] not found" in failure


# --- regressions found while documenting issue 12 ---------------------------------------------------


def test_a_generic_word_does_not_name_the_organisation() -> None:
    # 中国银行's forms included 银行 and 中国 alone, so "这里是银行" passed Q2's organisation check.
    events = [
        {"type": "case_opened", "at": "2026-11-24T09:00:00+08:00", "case_id": "G1", "channel": "phone",
         "agent_name": "李明", "organisation": "中国银行"},
        {"type": "call_answered", "at": "2026-11-24T09:00:01+08:00", "case_id": "G1", "rings": 1},
        {"type": "utterance", "at": "2026-11-24T09:00:02+08:00", "case_id": "G1", "speaker": "agent",
         "text": "您好，这里是银行，我是客服李明。"},
    ]  # fmt: skip
    now = dt.datetime.fromisoformat("2026-11-24T09:10:00+08:00")
    found = [v for v in tierrules.Engine().evaluate(events, now).violations if v.rule == "Q2.phone-opening"]
    assert [getattr(v, "missing", None) for v in found] == ["organisation"]
    events[2]["text"] = "您好，这里是中行，我是客服李明。"
    assert not [
        v for v in tierrules.Engine().evaluate(events, now).violations if v.rule == "Q2.phone-opening"
    ]


def test_a_transfer_still_under_way_is_not_yet_judged_for_pickup() -> None:
    # A transfer_requested without its transfer_completed was reported at once as left before
    # pickup, so a streaming host saw a violation that vanished when the colleague answered.
    events = [
        {"type": "utterance", "at": "2026-11-24T09:00:02+08:00", "case_id": "T1", "speaker": "agent",
         "text": "您好。您的问题需要专业部门处理，大约等待30秒，您看可以吗？"},
        {"type": "transfer_requested", "at": "2026-11-24T09:00:10+08:00", "case_id": "T1"},
    ]  # fmt: skip
    now = dt.datetime.fromisoformat("2026-11-24T09:00:20+08:00")
    assert not [v for v in tierrules.Engine().evaluate(events, now).violations if v.rule == "Q7.transfer"]
    ended = [
        *events,
        {"type": "call_ended", "at": "2026-11-24T09:00:30+08:00", "case_id": "T1", "hung_up_by": "customer"},
    ]
    found = [
        v
        for v in tierrules.Engine().evaluate(ended, now + dt.timedelta(seconds=20)).violations
        if v.rule == "Q7.transfer"
    ]
    assert [getattr(v, "missing", None) for v in found] == ["picked_up"]
