"""Reported speech that ends without punctuation, a reason that does not survive a transfer,
recaps that mention a verification code, married names and 生/太 as words (found by blind
sets q, r and s, issue 12).
"""

from __future__ import annotations

from typing import Any

from tests.support.calls import conversation, severities, transferred, verdicts

A, C = "agent", "customer"
OPEN: list[tuple[str, str] | dict[str, Any]] = [(A, "您好，这里是中国移动，我是客服王磊"), (C, "你好")]


def test_reported_speech_ends_where_the_agent_speaks_for_themself_again() -> None:
    # The restatement after the customer's reported words is the agent's own (Q9's restate).
    turns = [
        *OPEN,
        (C, "我要投诉你们 乱扣费"),
        (A, "您 说 我们 这样 做 不 对 这个 意见 我 先 记 下来 我 复述 一下 您 两 个 业务 没 订 过 对 不 对"),
        (C, "对"),
        (A, "真的很抱歉，工单号是1126，四十八小时内答复您，处理的同事会给您回电话"),
    ]
    assert {m for _, m in verdicts(conversation(turns), "Q9")} <= {"contact"}


def test_saying_sorry_reports_nobody() -> None:
    turns = [
        *OPEN,
        (C, "我要投诉七号窗口"),
        (A, "我先跟您说声抱歉"),
        (A, "跟您确认一下：您等了两个小时，是吗？"),
    ]
    found = {m for _, m in verdicts(conversation(turns, channel="lobby"), "Q9")}
    assert "apology" not in found


def test_a_reason_does_not_carry_over_a_transfer() -> None:
    turns = [
        *OPEN,
        (A, "因为涉及风险交易核查，需要反欺诈中心处理，我帮您转过去，大概四十秒，可以吗"),
        (C, "可以"),
        *transferred("反欺诈中心"),
        (A, "您好，反欺诈中心，您先报一下身份证号码"),
        (C, "好的"),
    ]
    assert severities(conversation(turns), "Q6") == {"fail"}


def test_a_recap_mentioning_a_verification_code_is_a_summary() -> None:
    recap = "那我跟您再确认一下，今天是新设备登录触发风控，已经通过验证码和刷脸帮您解开了。"
    turns = [*OPEN, (A, recap), (A, "请问还有别的需要帮您处理的吗"), (C, "没有"), (A, "感谢您的来电，再见")]
    assert verdicts(conversation(turns), "Q8") == []
    check = "我再跟您核对一下您的预留手机号。"
    turns = [*OPEN, (A, check), (A, "请问还有别的需要帮您处理的吗"), (C, "没有"), (A, "感谢您的来电，再见")]
    assert {m for _, m in verdicts(conversation(turns), "Q8")} == {"summary"}


def test_married_names_and_single_character_honorifics() -> None:
    turns = [(A, "早晨，歡迎光臨太平洋保險"), (A, "陳太你好"), (C, "你好"), (A, "陳太，呢邊請")]
    opened = {"customer_name": "陳李淑芬", "customer_gender": "female", "organisation": "太平洋保險"}
    assert severities(conversation(turns, channel="lobby", opened=opened), "Q4") == set()
    group = {"group_leader_name": "陳志強", "group_leader_gender": "male", "customer_name": "陳志強"}
    turns = [(A, "各位好，李太你好"), (A, "陳生你好"), (C, "你好"), (A, "陳生，呢邊請")]
    assert severities(conversation(turns, channel="lobby", opened=group), "Q4") == {"fail"}
