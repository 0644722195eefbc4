"""Where the words cannot decide, review instead of fail (blind sets g-p, issue 12: each set
brought wordings no list held, and a false fail costs more than a missed one).

- a missing summary when the closing question's turn says 30 characters or more before it
  (a recap in words the lists do not hold) is for review;
- a missing reason when 30 characters or more are said before the identity request in its
  turn is for review.
The same checks still fail the bare forms.
"""

from __future__ import annotations

from tests.support.calls import conversation, severities

A, C = "agent", "customer"
OPEN = [(A, "您好，这里是招行，我是客服李明"), (C, "你好")]


def test_a_long_turn_before_the_closing_question_makes_a_missing_summary_a_review() -> None:
    recap = "您这张卡下午三点以后就能正常使用了，新密码请不要用生日，额度也没有变化，"
    turns = [*OPEN, (A, recap + "请问还有其他可以帮您的吗？"), (C, "没有了"), (A, "感谢您的来电，再见")]
    assert severities(conversation(turns), "Q8") == {"review"}
    turns = [*OPEN, (A, "好的。请问还有其他可以帮您的吗？"), (C, "没有了"), (A, "感谢您的来电，再见")]
    assert severities(conversation(turns), "Q8") == {"fail"}


def test_a_long_explanation_before_an_identity_request_makes_a_missing_reason_a_review() -> None:
    said = "挂号这边是跟就诊人的医保信息一一对上的，系统里要先把您本人的信息调出来，"
    turns = [*OPEN, (A, said + "麻烦您报一下身份证号码的后六位。"), (C, "好的")]
    assert severities(conversation(turns), "Q6") == {"review"}
    turns = [*OPEN, (A, "好的，麻烦您报一下身份证号码的后六位。"), (C, "好的")]
    assert severities(conversation(turns), "Q6") == {"fail"}
