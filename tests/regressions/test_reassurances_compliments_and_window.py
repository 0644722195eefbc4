"""Reassurances, compliments, reported messages and the name window (found by blind sets l
and m, issue 12).

同一个月扣两次月租那是不可能的 / 我们不可能无故扣您押金 / 不可能一直不到的 reassure; 您总是这么细心
compliments; 商家留言说这个我不管 reports; 您别急着挂电话 asks the customer to stay on; 不是说借了
就不行 corrects a misconception. The customer's name said 52 s after the call was answered
(61 s after the first ring, as the host's offsets count) is within the minute.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.support.calls import CASE, conversation, severities

A, C = "agent", "customer"


@pytest.mark.parametrize(
    "text",
    [
        "您放心，同一个月扣两次月租那是不可能的。",
        "我们不可能无故扣您押金的。",
        "您这笔退款不可能一直不到的，三个工作日内会到。",
        "王女士您总是这么细心，谢谢您。",
        "您稍等，商家留言说这个我不管找快递，是这样吗",
        "您别急着挂电话哦，我马上帮您改。",
        "不是说借了就不行，额度还够。",
    ],
)
def test_reassurances_compliments_and_reports_pass(text: str) -> None:
    turns = [(A, "您好，这里是招行，我是客服李明"), (C, "你好"), (A, text), (C, "好的")]
    assert severities(conversation(turns), "Q5") == set()


def test_a_mention_within_a_minute_of_the_answer_counts() -> None:
    events = conversation([(A, "您好，这里是招行，我是客服李明"), (C, "你好")], ended=False)
    start = dt.datetime.fromisoformat(events[0]["at"])
    events[1]["at"] = (start + dt.timedelta(seconds=9)).isoformat()  # answered after 9 s of ringing
    for offset, text in ((39, "王女士您好，为了确认是本人，先核对一下身份可以吗"), (61, "谢谢王女士")):
        events.append(
            {"type": "utterance", "at": (start + dt.timedelta(seconds=offset)).isoformat(), "case_id": CASE,
             "speaker": "agent", "text": text, "offset_seconds": offset}
        )  # fmt: skip
    end = (start + dt.timedelta(seconds=90)).isoformat()
    events.append({"type": "call_ended", "at": end, "case_id": CASE, "hung_up_by": "customer"})
    assert severities(events, "Q4") == set()
