"""The conversation stage on its own: how the etiquette checks read one case's talk.

evaluation/conversation.py turns a case's events into a :class:`Conversation`: its channel,
its turns (normalised once, with other people's words marked as quoted), the agent's opening,
and the searches the checks run over turns. These tests build conversations from a few
hand-written events and read them back, with no checks and no engine.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tierrules.evaluation.conversation import Conversation, Found, Turn, TurnCache, Words
from tierrules.events import EventBase, parse_events
from tierrules.ruleset.etiquette import Opening, Wording

from .conftest import at, ev

MARKERS = ("您是说", "您说", "对方说")


def events(*raw: dict[str, Any]) -> list[EventBase]:
    return parse_events(list(raw))


def say(speaker: str, when: str, text: str, **fields: Any) -> dict[str, Any]:
    return ev("utterance", when, speaker=speaker, text=text, **fields)


def talk(*raw: dict[str, Any], markers: tuple[str, ...] = MARKERS, **kwargs: Any) -> Conversation:
    return Conversation("c1", events(*raw), markers, **kwargs)


def texts(turns: list[Turn]) -> list[str]:
    return [t.text for t in turns]


# --- channel, start, end ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "channel"),
    [
        ([ev("call_answered", "2026-11-24 10:00", rings=2)], "phone"),
        ([ev("call_ended", "2026-11-24 10:00", hung_up_by="customer")], "phone"),
        ([ev("customer_arrived", "2026-11-24 10:00")], "lobby"),
        ([ev("customer_left", "2026-11-24 10:00")], "lobby"),
        ([ev("reception_completed", "2026-11-24 10:00")], "lobby"),
        ([ev("case_opened", "2026-11-24 10:00", channel="phone")], "phone"),
        ([ev("case_opened", "2026-11-24 10:00", channel="lobby")], "lobby"),
        ([ev("case_opened", "2026-11-24 10:00", channel="visit")], "lobby"),
        ([ev("case_opened", "2026-11-24 10:00", channel="online")], "lobby"),
        # A call wins over an arrival, and over a case opened in the lobby.
        (
            [
                ev("case_opened", "2026-11-24 10:00", channel="lobby"),
                ev("customer_arrived", "2026-11-24 10:00"),
                ev("call_answered", "2026-11-24 10:01", rings=1),
            ],
            "phone",
        ),
        ([say("agent", "2026-11-24 10:00", "您好")], "phone"),  # only words: judged as a call
        ([ev("complaint_registered", "2026-11-24 10:00")], None),
    ],
)
def test_channel(raw: list[dict[str, Any]], channel: str | None) -> None:
    assert talk(*raw).channel == channel


def test_start_is_the_answer_or_arrival_or_opening_or_first_event() -> None:
    opened = ev("case_opened", "2026-11-24 09:00", channel="phone")
    answered = ev("call_answered", "2026-11-24 09:05", rings=1)
    assert talk(opened, answered).start == at("2026-11-24 09:05")
    assert talk(opened).start == at("2026-11-24 09:00")
    assert talk(say("agent", "2026-11-24 09:07", "您好")).start == at("2026-11-24 09:07")
    assert Conversation("c1", []).start is None


def test_the_end_is_the_call_ending_on_the_phone_or_the_customer_leaving() -> None:
    phone = talk(
        ev("call_answered", "2026-11-24 10:00", rings=1),
        ev("customer_left", "2026-11-24 10:05"),
    )
    assert phone.ended is None
    lobby = talk(ev("customer_arrived", "2026-11-24 10:00"), ev("reception_completed", "2026-11-24 10:09"))
    assert lobby.ended is not None and lobby.ended.type == "reception_completed"


def test_offsets_come_from_the_call_or_from_the_start() -> None:
    call = talk(
        ev("call_answered", "2026-11-24 10:00", rings=1),
        say("agent", "2026-11-24 10:00", "您好", offset_seconds=3.5),
        say("customer", "2026-11-24 10:01", "你好"),
    )
    assert [t.offset for t in call.turns] == [3.5, 60.0]
    lobby = talk(
        ev("customer_arrived", "2026-11-24 10:00"),
        say("agent", "2026-11-24 10:00", "您好", offset_seconds=3.5),  # no call: the instant counts
    )
    assert [t.offset for t in lobby.turns] == [0.0]


def test_turns_are_split_by_speaker_and_linked_in_order() -> None:
    conv = talk(
        say("agent", "2026-11-24 10:00", "您好"),
        say("customer", "2026-11-24 10:01", "你好"),
        say("agent", "2026-11-24 10:02", "請問"),
    )
    assert texts(conv.agent) == ["您好", "请问"]
    assert texts(conv.customer) == ["你好"]
    assert conv.next_turn(conv.turns[0]) is conv.turns[1]
    assert conv.next_turn(conv.turns[2]) is None
    assert conv.is_conversation
    assert not talk(ev("customer_arrived", "2026-11-24 10:00")).is_conversation
    assert talk(ev("call_answered", "2026-11-24 10:00", rings=1)).is_conversation


def test_staff_come_from_the_case_opening_first() -> None:
    conv = talk(
        say("agent", "2026-11-24 10:00", "您好", agent_id="a2", team="t2"),
        ev("case_opened", "2026-11-24 10:01", channel="phone", agent_id="a1", team="t1"),
    )
    assert (conv.agent_id, conv.team) == ("a1", "t1")
    assert (talk(say("agent", "2026-11-24 10:00", "您好")).agent_id, conv.case_id) == (None, "c1")


# --- the opening --------------------------------------------------------------------------


def test_the_opening_is_what_the_agent_says_before_the_customer_replies() -> None:
    conv = talk(
        say("agent", "2026-11-24 10:00:00", "您好"),
        say("agent", "2026-11-24 10:00:03", "这里是客服中心"),
        say("customer", "2026-11-24 10:00:05", "你好"),
        say("agent", "2026-11-24 10:00:06", "请问有什么可以帮您"),
    )
    assert texts(conv.opening(Opening(seconds=20, turns=3))) == ["您好", "这里是客服中心"]


def test_the_opening_is_within_n_seconds_of_the_first_agent_turn() -> None:
    conv = talk(
        say("customer", "2026-11-24 09:59:50", "喂"),  # before the agent spoke: not a reply
        say("agent", "2026-11-24 10:00:00", "您好"),
        say("agent", "2026-11-24 10:00:10", "这里是客服中心"),
        say("agent", "2026-11-24 10:00:11", "请问"),
    )
    assert texts(conv.opening(Opening(seconds=10, turns=5))) == ["您好", "这里是客服中心"]
    assert texts(conv.opening(Opening(seconds=9, turns=5))) == ["您好"]


def test_the_opening_is_at_most_m_turns_and_at_least_one() -> None:
    conv = talk(*(say("agent", f"2026-11-24 10:00:0{k}", f"第{k}句") for k in range(5)))
    assert texts(conv.opening(Opening(seconds=60, turns=2))) == ["第0句", "第1句"]
    assert len(conv.opening(Opening(seconds=60, turns=20))) == 5
    late = talk(say("agent", "2026-11-24 10:00", "您好"), say("agent", "2026-11-24 10:05", "在吗"))
    assert texts(late.opening(Opening(seconds=1, turns=3))) == ["您好"]


def test_no_agent_turn_means_no_opening() -> None:
    assert talk(say("customer", "2026-11-24 10:00", "你好")).opening(Opening()) == []


def test_a_customer_turn_at_the_same_instant_is_not_a_reply() -> None:
    conv = talk(
        say("agent", "2026-11-24 10:00:00", "您好"),
        say("customer", "2026-11-24 10:00:00", "喂"),
        say("agent", "2026-11-24 10:00:01", "这里是客服中心"),
    )
    assert texts(conv.opening(Opening())) == ["您好", "这里是客服中心"]


def test_an_agent_turn_at_the_instant_of_the_reply_is_not_the_opening() -> None:
    conv = talk(
        say("agent", "2026-11-24 10:00:00", "您好"),
        say("customer", "2026-11-24 10:00:03", "你好"),
        say("agent", "2026-11-24 10:00:03", "这里是客服中心"),
    )
    assert texts(conv.opening(Opening())) == ["您好"]


# --- quoted spans -------------------------------------------------------------------------


def _quoted(text: str, speaker: str = "agent") -> tuple[str, list[tuple[int, int]]]:
    [turn] = talk(say(speaker, "2026-11-24 10:00", text)).turns
    return turn.text, turn.quoted


def test_text_in_quotation_marks_is_quoted() -> None:
    text, quoted = _quoted("他的原话是“不可能”，我们会处理。")
    assert [text[a:b] for a, b in quoted] == ['"不可能"']


def test_an_unclosed_quotation_mark_quotes_to_the_end_of_the_turn() -> None:
    # The quotation goes on in the speaker's next turn (speech recognition cut it there).
    text, quoted = _quoted("好的“不可能")
    assert [text[a:b] for a, b in quoted] == ['"不可能']


def test_reported_speech_runs_from_the_marker_to_the_clause_end() -> None:
    text, quoted = _quoted("您说不行,我理解。")
    assert [text[a:b] for a, b in quoted] == ["您说不行"]
    text, quoted = _quoted("我明白,对方说没办法")  # to the end of the text
    assert [text[a:b] for a, b in quoted] == ["对方说没办法"]


def test_reported_speech_after_a_colon_or_comma_runs_to_the_next_clause_end() -> None:
    text, quoted = _quoted("您说：不可能的事，我们来处理")
    assert [text[a:b] for a, b in quoted] == ["您说:不可能的事"]


def test_every_marker_occurrence_is_quoted() -> None:
    text, quoted = _quoted("您说不行,您说没空,好的")
    assert [text[a:b] for a, b in quoted] == ["您说不行", "您说没空"]


def test_customer_turns_have_no_quoted_spans() -> None:
    assert _quoted("您说“不可能”", speaker="customer")[1] == []


def test_own_is_false_only_inside_a_quoted_span() -> None:
    [turn] = talk(say("agent", "2026-11-24 10:00", "您说不可能,这不可能")).turns
    assert turn.quoted == [(0, 5)]
    assert not turn.own(Found(2, 5))  # the customer's 不可能
    assert turn.own(Found(7, 10))  # the agent's own
    assert turn.own(Found(4, 7))  # straddles the span's end: not wholly quoted
    assert not turn.own(Found(0, 5))


# --- Words --------------------------------------------------------------------------------


def test_search_finds_the_leftmost_match_and_the_longest_phrase_there() -> None:
    words = Words(Wording(phrases=("请稍等", "请稍等一下", "谢谢")))
    assert words.search("好的请稍等一下谢谢") == Found(2, 7)
    assert words.search("谢谢,请稍等") == Found(0, 2)
    assert words.search("没有") is None
    assert words.search("谢谢,请稍等", start=1) == Found(3, 6)


def test_phrases_are_normalised_and_patterns_are_searched_too() -> None:
    words = Words(Wording(phrases=("謝謝",), patterns=(r"工号\d+",)))
    assert words.search("感谢,谢谢") == Found(3, 5)
    assert words.search("我的工号123") == Found(2, 7)
    assert list(words.find_all("工号1谢谢工号22")) == [Found(0, 3), Found(3, 5), Found(5, 9)]


def test_an_empty_wording_finds_nothing() -> None:
    words = Words(Wording())
    assert words.search("anything") is None
    assert list(words.find_all("anything")) == []


def test_find_all_skips_empty_matches() -> None:
    words = Words(Wording(patterns=(r"a*",)))
    assert list(words.find_all("baab")) == [Found(1, 3)]


def test_cached_results_equal_fresh_ones() -> None:
    wording = Wording(phrases=("您好", "请稍等"), patterns=(r"\d{3}",))
    words = Words(wording)
    text = "您好,请稍等,工号123"
    first, again = words.search(text), words.search(text)
    assert first == again == Words(wording).search(text) == Found(0, 2)
    listed = list(words.find_all(text))
    assert list(words.find_all(text)) == listed == list(Words(wording).find_all(text))
    assert len(listed) == 3


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="您好请稍等12 ", max_size=12), min_size=1, max_size=6))
def test_cached_results_equal_fresh_ones_for_any_texts(samples: list[str]) -> None:
    wording = Wording(phrases=("您好", "请稍等", "好请"), patterns=(r"\d+",))
    shared = Words(wording)
    for text in [*samples, *samples]:  # the second round reads the cache
        fresh = Words(wording)
        assert shared.search(text) == fresh.search(text)
        assert list(shared.find_all(text)) == list(fresh.find_all(text))
        for start in range(len(text)):
            assert shared.search(text, start) == fresh.search(text, start)


# --- extend -------------------------------------------------------------------------------


def test_extend_adds_utterances() -> None:
    conv = talk(ev("call_answered", "2026-11-24 10:00", rings=1), say("agent", "2026-11-24 10:00", "您好"))
    first = conv.turns[0]
    more = events(say("customer", "2026-11-24 10:01", "你好"), say("agent", "2026-11-24 10:02", "请问"))
    assert conv.extend(more)
    assert texts(conv.turns) == ["您好", "你好", "请问"]
    assert texts(conv.agent) == ["您好", "请问"] and texts(conv.customer) == ["你好"]
    assert conv.next_turn(first) is conv.turns[1]
    assert conv.events[-2:] == more


def test_extend_gives_what_a_fresh_build_gives() -> None:
    raw = [
        ev("call_answered", "2026-11-24 10:00", rings=1),
        say("agent", "2026-11-24 10:00", "您说“不行”,好的"),
        say("customer", "2026-11-24 10:01", "嗯"),
        say("agent", "2026-11-24 10:02", "对方说没空,我再问"),
    ]
    grown = talk(*raw[:2])
    assert grown.extend(events(*raw[2:]))
    fresh = talk(*raw)
    assert [(t.text, t.offset, t.quoted, t.is_agent) for t in grown.turns] == [
        (t.text, t.offset, t.quoted, t.is_agent) for t in fresh.turns
    ]


def test_extend_refuses_other_events_and_leaves_the_conversation_alone() -> None:
    conv = talk(say("agent", "2026-11-24 10:00", "您好"))
    assert not conv.extend(
        events(
            say("customer", "2026-11-24 10:01", "你好"),
            ev("call_ended", "2026-11-24 10:02", hung_up_by="customer"),
        )
    )
    assert texts(conv.turns) == ["您好"] and len(conv.events) == 1


def test_extend_refuses_an_utterance_that_staffs_an_unstaffed_conversation() -> None:
    conv = talk(say("agent", "2026-11-24 10:00", "您好"))
    assert not conv.extend(events(say("agent", "2026-11-24 10:01", "请问", agent_id="a1")))
    assert len(conv.turns) == 1
    staffed = talk(say("agent", "2026-11-24 10:00", "您好", agent_id="a1"))
    assert staffed.extend(events(say("agent", "2026-11-24 10:01", "请问", agent_id="a2")))
    assert staffed.agent_id == "a1"


def test_extending_a_conversation_without_words_gives_what_a_fresh_build_gives() -> None:
    # Regression: extend() kept channel None when words came to a conversation that had none.
    raw = [ev("complaint_registered", "2026-11-24 10:00"), say("agent", "2026-11-24 10:01", "您好")]
    grown = talk(raw[0])
    assert grown.channel is None
    assert grown.extend(events(raw[1]))
    assert grown.channel == talk(*raw).channel == "phone"


def test_a_turn_cache_hands_back_the_same_turns() -> None:
    cache: TurnCache = {}
    raw = events(ev("call_answered", "2026-11-24 10:00", rings=1), say("agent", "2026-11-24 10:00", "您好"))
    first = Conversation("c1", raw, MARKERS, cache)
    again = Conversation("c1", raw, MARKERS, cache)
    assert again.turns[0] is first.turns[0]
    assert Conversation("c1", raw, MARKERS).turns[0] is not first.turns[0]


# --- search_on ----------------------------------------------------------------------------


PHRASE = Words(Wording(phrases=("先把您的身份证给我",)))


def test_search_on_finds_a_match_split_over_the_same_speakers_turns() -> None:
    conv = talk(
        say("agent", "2026-11-24 10:00:00", "好的先把您的"),
        say("agent", "2026-11-24 10:00:02", "身份证给我登记一下"),
    )
    first = conv.turns[0]
    assert conv.search_on(PHRASE, first) == Found(2, 6)  # the part in the first turn
    assert first.text[2:6] == "先把您的"
    assert conv.search_on(PHRASE, conv.turns[1]) is None  # the rest alone is no match


def test_search_on_does_not_join_different_speakers() -> None:
    conv = talk(
        say("agent", "2026-11-24 10:00:00", "好的先把您的"),
        say("customer", "2026-11-24 10:00:02", "身份证给我"),
    )
    assert conv.search_on(PHRASE, conv.turns[0]) is None


def test_search_on_prefers_a_match_inside_the_turn() -> None:
    conv = talk(
        say("agent", "2026-11-24 10:00:00", "请先把您的身份证给我"),
        say("agent", "2026-11-24 10:00:02", "先把您的身份证给我"),
    )
    assert conv.search_on(PHRASE, conv.turns[0]) == Found(1, 10)


def test_search_on_ignores_a_match_wholly_in_the_next_turn() -> None:
    conv = talk(
        say("agent", "2026-11-24 10:00:00", "好的"),
        say("agent", "2026-11-24 10:00:02", "先把您的身份证给我"),
    )
    assert conv.search_on(PHRASE, conv.turns[0]) is None
    assert conv.search_on(PHRASE, conv.turns[1]) == Found(0, 9)


def test_search_on_takes_only_a_joined_match_that_straddles_the_turns() -> None:
    # 好(?=的) matches in 你好 only with the next turn's 的: it does not cross into that turn.
    words = Words(Wording(patterns=("好(?=的)",)))
    conv = talk(say("agent", "2026-11-24 10:00:00", "你好"), say("agent", "2026-11-24 10:00:01", "的"))
    assert words.search(conv.turns[0].text + conv.turns[1].text) == Found(1, 2)
    assert conv.search_on(words, conv.turns[0]) is None


def test_the_last_turn_has_nothing_to_join() -> None:
    conv = talk(say("agent", "2026-11-24 10:00:00", "先把您的"))
    assert conv.search_on(PHRASE, conv.turns[0]) is None
