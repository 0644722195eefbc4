"""Q8: summaries in everyday words, a close made before the handover, and no close owed when
the recording ends with the handover (found by blind sets g, h, i and j, issue 12).

那我跟您再对一下 / 我再跟您说一下 / 给您捋一下 / 幫您整理一下 sum up; an agent who summarised and
asked 还有别的需要吗 before transferring has closed their part; a recording whose last words are
the agent briefing the other desk has no close to judge. A call that simply ends still fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.calls import conversation, transferred, verdicts

A, C = "agent", "customer"
OPEN: list[tuple[str, str] | dict[str, Any]] = [
    (A, "您好，这里是招行，我是客服李明"),
    (C, "你好，我想问下还款"),
]


def _q8(turns: list[tuple[str, str] | dict[str, Any]]) -> set[str | None]:
    return {missing for _, missing in verdicts(conversation([*OPEN, *turns]), "Q8")}


@pytest.mark.parametrize(
    "summary",
    [
        "那我跟您再对一下哈：您这笔房贷提前还二十万，选缩短年限，三个工作日内扣款。",
        "我再跟您说一下：明天上午带行驶证过来定损，维修两到三天。",
        "好的，给您捋一下：退款原路返回，三到五个工作日到账。",
        "幫您整理一下：六十天內辦理，帶出生證明和身分證。",
    ],
)
def test_a_summary_in_everyday_words(summary: str) -> None:
    turns = [(A, f"{summary}请问还有其他需要帮您的吗？"), (C, "没有了"), (A, "感谢您的来电，再见")]
    assert _q8(turns) == set()


def test_a_close_made_before_the_handover() -> None:
    turns: list[tuple[str, str] | dict[str, Any]] = [
        (A, "转过去之前我先跟您确认一下：周五上午九点骨科专家号。请问还有别的需要我帮您处理的吗？"),
        (C, "没有了"),
        (A, "好的，感谢您的来电，我现在为您转接，请不要挂机。"),
        *transferred("放射科"),
        (A, "王女士您好，我是放射科预约台，核磁要医生开了单子再约。"),
        (C, "好的，谢谢"),
        (A, "不客气，再见"),
    ]
    assert _q8(turns) == set()


def test_no_close_is_owed_when_the_recording_ends_with_the_handover() -> None:
    turns: list[tuple[str, str] | dict[str, Any]] = [
        (A, "这个得个贷中心调合同看，我帮您转过去，大约一分钟，可以吗"),
        (C, "行吧"),
        *transferred("个贷中心"),
        (A, "喂 个贷中心您好 我这边有位王女士咨询提前还款的违约金 麻烦您接一下"),
    ]
    assert _q8(turns) == set()


def test_a_call_that_just_ends_still_fails() -> None:
    assert _q8([(A, "好的，您打开App首页搜提前还款就可以了。"), (C, "行")]) >= {"question", "summary"}
