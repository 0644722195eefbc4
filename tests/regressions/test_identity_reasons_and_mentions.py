"""Q6: reasons said as a requirement or a cause, and data named but not asked for (found by
blind sets g, h, j and k, issue 12).

挂号是实名制的, 这是国家的实名制要求, 因为改签涉及您的票款, 防止别人冒充, 為咗保障 (Cantonese) are
reasons; 看到您是用预留手机号打进来的 names the data without asking for it. A bare request, or
the reason only after it, still fails.
"""

from __future__ import annotations

import pytest

from tests.support.calls import conversation, severities

A, C = "agent", "customer"


def _q6(*agent: str) -> set[str]:
    turns: list[tuple[str, str] | dict[str, object]] = [(A, "您好，这里是招行，我是客服李明"), (C, "你好")]
    for text in agent:
        turns += [(A, text), (C, "好的")]
    return severities(conversation(turns), "Q6")


@pytest.mark.parametrize(
    "turn",
    [
        "好的。挂号是实名制的，需要跟就诊人的信息对上，麻烦您报一下身份证号码的后六位。",
        "办新号码要做实名登记，这是国家的实名制要求，麻烦您出示一下身份证。",
        "因为改签涉及您的票款，我这边先核对一下身份，麻烦报一下您身份证号码的后四位。",
        "补卡要做实名核验 防止别人冒充您补走号码 麻烦您把身份证给我",
        "為咗保障您帳戶嘅安全，要麻煩您出示一下身份證。",
    ],
)
def test_a_reason_by_requirement_or_cause_counts(turn: str) -> None:
    assert _q6(turn) == set()


def test_naming_the_data_without_asking_is_no_request() -> None:
    assert _q6("王女士您好，看到您是用预留手机号打进来的。我先帮您看一下贷款的情况。") == set()


def test_a_request_split_by_speech_recognition_is_still_a_request() -> None:
    turns = [
        (A, "您好，这里是招行，我是客服李明"),
        (C, "你好"),
        (A, "王女士 您好 先把您的身份证"),
        (A, "给我登记一下"),
    ]
    assert severities(conversation(turns), "Q6") == {"fail"}


@pytest.mark.parametrize(
    "turn",
    [
        "王女士，请您报一下身份证号码的后四位。",
        "请你讲一讲你嘅身份证号码，因为涉及你户口嘅资料，所以要先核实身份。",
    ],
)
def test_a_bare_request_or_the_reason_after_it_still_fails(turn: str) -> None:
    assert _q6(turn) == {"fail"}
