"""Q4 titles and Cantonese honorifics, Q9's 'not a complaint' and a date that is no deadline
(found by blind sets h, i, j and g, issue 12).

王董 (like 王总), 梁生 (梁先生) and 陈太 (陈太太) are the customer's name; 我不是来投诉的 is not a
complaint; 十月二十九号在潮流前线旗舰店买的 gives no handling deadline (前线 is a shop's name).
"""

from __future__ import annotations

import pytest

from tests.support.calls import conversation, severities, verdicts

A, C = "agent", "customer"


@pytest.mark.parametrize(
    ("name", "gender", "said"),
    [("王建国", "male", "王董"), ("梁家豪", "male", "梁生"), ("陈美玲", "female", "陈太")],
)
def test_titles_and_cantonese_honorifics_count(name: str, gender: str, said: str) -> None:
    turns = [
        (A, "您好，这里是招行，我是客服李明"),
        (A, f"{said}您好"),
        (C, "你好"),
        (A, f"好的{said}，我帮您查一下"),
    ]
    events = conversation(turns, opened={"customer_name": name, "customer_gender": gender})
    assert severities(events, "Q4") == set()


def test_a_wrong_honorific_still_fails() -> None:
    turns = [(A, "您好，这里是招行，我是客服李明"), (A, "陈生您好"), (C, "你好"), (A, "好的陈生")]
    events = conversation(turns, opened={"customer_name": "陈美玲", "customer_gender": "female"})
    assert severities(events, "Q4") == {"fail"}


def test_not_here_to_complain_is_no_complaint() -> None:
    turns = [
        (A, "下午好，欢迎光临"),
        (C, "我不是来投诉的 就是反映一下电梯有异响"),
        (A, "好的，我登记报修，感谢您的光临"),
    ]
    assert severities(conversation(turns, channel="lobby"), "Q9") == set()


def test_a_date_before_a_shop_name_is_no_deadline() -> None:
    turns = [
        (A, "您好，天猫客服，我是婉婷"),
        (C, "我要投诉，买到假货了"),
        (A, "我跟您确认一下：您十月二十九号在潮流前线旗舰店买了一双球鞋，是吗？真的很抱歉"),
        (A, "投诉单号是TM2026，专员会尽快处理，会用0571开头的号码给您打电话"),
    ]
    assert {missing for _, missing in verdicts(conversation(turns), "Q9")} == {"deadline"}


def test_an_honorific_without_a_surname_addresses_no_one_before_the_leader() -> None:
    """Blind set l: 三位是一起的吧？先生您好，请问怎么称呼您？ — 先 is no surname (and 生 is an
    honorific since 梁生 counts), so the leader 邓先生 is still the first named."""
    turns = [
        (A, "晚上好，欢迎光临中国电信！三位是一起的吧？先生您好，请问怎么称呼您？"),
        (C, "我姓邓"),
        (A, "邓先生您好！这边请坐。这位女士您好。"),
        (A, "林女士您好。邓先生，这边请，林女士也请坐。"),
    ]
    opened = {"customer_name": "林芳", "group_leader_name": "邓建华", "group_leader_gender": "male"}
    assert severities(conversation(turns, channel="lobby", opened=opened), "Q4") == set()
    turns[2] = (A, "林女士您好！这边请坐。邓先生您好。")
    assert severities(conversation(turns, channel="lobby", opened=opened), "Q4") == {"fail"}
