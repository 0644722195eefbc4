"""请 inside 申请 asks nothing, 今天就是给您登记了… sums up, and a regretful "cannot" (确实做不到)
is a reviewer's call while a blunt one (根本办不到) fails (found by blind sets t and u, issue 12).
"""

from __future__ import annotations

from tests.support.calls import conversation, severities, verdicts

A, C = "agent", "customer"
OPEN = [(A, "您好，这里是天猫客服，我是小周"), (C, "你好")]


def test_the_qing_inside_shenqing_asks_nothing() -> None:
    turns = [
        *OPEN,
        (A, "好的 好的 退款 的话 要 给 您 发 个 验证码"),
        (A, "为了 确认 是 您 本人 申请 的 退款"),
        (A, "麻烦 您 把 收到 的 六位 验证码 念 一下"),
        (C, "好的"),
    ]
    assert severities(conversation(turns), "Q6") == set()


def test_today_we_registered_is_a_summary() -> None:
    turns = [
        *OPEN,
        (A, "那 今天 就是 给 您 登记 了 件 滞留 的 投诉 和 加急 二十四 小时 内 回复"),
        (A, "请问 还有 其他 可以 帮 您 的 吗"),
        (C, "没有"),
        (A, "好的 感谢 您 的 来电 再见"),
    ]
    assert verdicts(conversation(turns), "Q8") == []


def test_a_regretful_cannot_is_for_review_and_a_blunt_one_fails() -> None:
    regret = [*OPEN, (A, "这个 系统 这边 确实 做不到"), (C, "那行吧")]
    assert severities(conversation(regret), "Q5") == {"review"}
    blunt = [*OPEN, (A, "这个 系统 这边 根本 做不到"), (C, "那行吧")]
    assert severities(conversation(blunt), "Q5") == {"fail"}
