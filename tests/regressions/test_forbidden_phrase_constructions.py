"""Q5: harmless constructions around a forbidden phrase (found by blind sets g-k, issue 12).

这是规定的+noun states a rule (这是規定的計算方法); 我不知道您…紧不紧 is a polite question;
也不是一定不行 is a double negative; 没有例外，大家都有 promises something to everyone; the agent
restating what a clerk 跟您讲 / 只说 is reported speech; a 'cannot' variant that explains in the
same breath (确实做不到，退款只能原路返回) is a reviewer's call. The flat forms still fail.
"""

from __future__ import annotations

import pytest

from tests.support.calls import conversation, severities

A, C = "agent", "customer"


def _q5(text: str) -> set[str]:
    turns = [(A, "您好，这里是招行，我是客服李明"), (C, "你好"), (A, text), (C, "好的")]
    return severities(conversation(turns), "Q5")


@pytest.mark.parametrize(
    "text",
    [
        "出生後六十天內要辦，這是規定的辦理期限，超過的話會罰款。",
        "這是規定的計算方法，我幫您試算一下。",
        "我不知道您今天时间紧不紧，如果赶时间，执照可以邮寄。",
        "也 不是 一定 不行 如果 公司 先 報 了 您 可以 用 影印本",
        "每 位 學員 都 會 拿 到 一 本 講義 沒有 例外 大家 都 有",
        "嗯 您是说 网点的 工作人员 跟您讲 这是规定 没有例外 是吧 真的 很抱歉",
        "我复述一下，柜台工作人员态度冷淡，只说这是规定没有例外，是这样吗",
    ],
)
def test_harmless_constructions_pass(text: str) -> None:
    assert _q5(text) == set()


@pytest.mark.parametrize(
    "text",
    ["这个确实做不到,退款只能原路返回。", "不过代办确实办不了 这个是为了保护您女儿的资金安全"],
)
def test_a_cannot_that_explains_is_for_review(text: str) -> None:
    assert _q5(text) == {"review"}


@pytest.mark.parametrize(
    "text",
    [
        "这个真办不了。",
        "今晚修好这根本办不到。",
        "这是规定，没有例外。",
        "这是规定的，没办法。",
        "这个我不知道。",
    ],
)
def test_the_flat_forms_still_fail(text: str) -> None:
    assert _q5(text) == {"fail"}
