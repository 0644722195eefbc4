"""Speech recognition cutting a phrase or a step across two turns, Taiwan's 敝姓, enumerated
recaps and softened refusals (found by blind sets n, o and p, issue 12).

我也不 / 知到 (a phrase cut across two of the agent's turns, with the common 知到 for 知道) is
still 我不知道; 得我们理赔专 / 员跟您对接 still gives a transfer's reason; 敝姓陈 gives the
agent's name; 第一…第二…第三… before the closing question sums up; 这个恐怕没办法 (softened)
is a reviewer's call; a turn that only starts a word is not cut into a violation of its own.
"""

from __future__ import annotations

from typing import Any

from tests.support.calls import conversation, severities, transferred, verdicts

A, C = "agent", "customer"
OPEN: list[tuple[str, str] | dict[str, Any]] = [(A, "您好，这里是中国移动，我是客服王磊"), (C, "你好")]


def test_a_phrase_cut_across_two_agent_turns_is_found() -> None:
    turns = [
        *OPEN,
        (A, "这 个 包 为什么 第二 天 才 生效 我 也 不"),
        (A, "知到 系统 上 就 是 这么 显示 的"),
        (C, "啊"),
    ]
    assert severities(conversation(turns), "Q5") == {"fail"}
    # The same words in one turn, and a cut with a customer turn between: no phrase was cut.
    whole = [*OPEN, (A, "我也不知道系统为什么这样"), (C, "啊")]
    assert severities(conversation(whole), "Q5") == {"fail"}
    apart = [*OPEN, (A, "这个我也不"), (C, "嗯"), (A, "知道您说的是哪一笔"), (C, "啊")]
    assert severities(conversation(apart), "Q5") == set()


def test_a_transfer_reason_cut_across_two_turns_counts() -> None:
    turns = [
        *OPEN,
        (A, "定 损 理赔 这 块 得 我们 理赔 专"),
        (A, "员 跟 您 对接"),
        (A, "我 帮 您 转 一下 大概 三十 秒 左右 您 看 行 吗"),
        (C, "行"),
        *transferred("理赔专员"),
    ]
    assert severities(conversation(turns), "Q7") == set()


def test_taiwan_surname_introduction_names_the_agent() -> None:
    turns = [(A, "中華電信您好，敝姓黃，很高興為您服務"), (C, "你好")]
    opened = {"organisation": "中華電信", "agent_name": "黃詩涵"}
    assert severities(conversation(turns, opened=opened), "Q2") == set()
    turns = [(A, "中華電信您好，很高興為您服務"), (C, "你好")]
    assert {m for _, m in verdicts(conversation(turns, opened=opened), "Q2")} == {"agent_name"}


def test_an_enumerated_recap_is_a_summary() -> None:
    turns = [
        *OPEN,
        (A, "第一 运动鞋 从 三十七 码 换 成 三十八 码"),
        (A, "第二 收货 地址 改 成 了 新 地址"),
        (A, "第三 给您 补 了 一张 二十 元 券"),
        (A, "请问 还 有 其他 可以 帮 您 的 吗"),
        (C, "没有了"),
        (A, "感谢您的来电，再见"),
    ]
    assert verdicts(conversation(turns), "Q8") == []


def test_a_softened_cannot_followed_by_a_way_forward_is_for_review() -> None:
    turns = [*OPEN, (A, "十 间 全部 提前 入住 这个 恐怕 没 办法"), (C, "那怎么办")]
    assert severities(conversation(turns), "Q5") == {"review"}
    turns = [*OPEN, (A, "十 间 全部 提前 入住 没 办法"), (C, "那怎么办")]
    assert severities(conversation(turns), "Q5") == {"fail"}
