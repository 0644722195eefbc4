"""Q7: a transfer's reason said as who handles it, consent asked as 可以帮您转接吗, and the
wait and consent belonging to the transfer's own announcement (found by blind sets g, h, i).

The reason 得理赔组的同事来看 / 那边最清楚 / 要由外汇专员协助 needs no 因为. A wait or a 可以吗
said about something else earlier in the call is not the transfer's: 请稍等 alone still fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.calls import conversation, transferred, verdicts

A, C = "agent", "customer"
TRANSFER: list[tuple[str, str] | dict[str, Any]] = [
    *transferred("专席"),
]


def _missing(*before: tuple[str, str]) -> set[str | None]:
    turns: list[tuple[str, str] | dict[str, Any]] = [(A, "您好，这里是招行，我是客服李明"), (C, "你好")]
    turns += [*before, *TRANSFER, (A, "王女士您好，我是专席小周"), (C, "好的")]
    turns += [(A, "请问还有其他问题吗"), (C, "没有")]
    return {missing for _, missing in verdicts(conversation(turns), "Q7")}


@pytest.mark.parametrize(
    "reason",
    [
        "您这个是理赔审核的问题，得理赔组的同事来看",
        "检查预约的具体规则，放射科那边最清楚",
        "試算跟開立要由外匯專員協助",
        "国际票的税费明细，国际票务组可以逐项核算",
    ],
)
def test_a_reason_said_as_who_handles_it(reason: str) -> None:
    assert _missing((A, f"{reason}，我帮您转过去，大概等一分钟，可以吗？"), (C, "可以")) == set()


def test_consent_asked_as_a_question_about_the_transfer() -> None:
    turn = "因为有两笔交易您不认得，需要专员核实，大约需要一分钟，请问可以帮您转接吗？"
    assert _missing((A, turn), (C, "可以")) == set()


def test_a_wait_said_about_something_else_earlier_is_not_the_transfers() -> None:
    found = _missing(
        (A, "您先把光猫断电，等两分钟再开，可以吗？"),
        (C, "还是红灯"),
        (A, "这个需要技术人员帮您做线路测试"),
        (C, "那怎么办"),
        (A, "我帮您转接过去好吗"),
        (C, "好"),
        (A, "好的 请稍等"),
    )
    assert found == {"wait"}


def test_wait_and_consent_from_the_announcement_on() -> None:
    # Announced with wait and consent, then the agent closes her part before the transfer.
    found = _missing(
        (A, "放射科那边最清楚，我帮您转过去问一下，大概等一分钟，可以吗？"),
        (C, "可以"),
        (A, "转过去之前我先跟您确认一下挂号：周五上午九点。请问还有别的需要吗？"),
        (C, "没有了"),
        (A, "好的，感谢您的来电，我现在为您转接，请不要挂机。"),
    )
    assert found == set()
