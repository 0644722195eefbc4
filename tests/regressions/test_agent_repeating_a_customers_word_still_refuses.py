"""An agent answering 不行吗 with 不行 refuses (found by the hypothesis property "adding a
forbidden agent turn never raises the score", after a rule made every echo of the customer's
words a review; the rule was removed, issue 12)."""

from __future__ import annotations

from tests.support.calls import conversation, severities

A, C = "agent", "customer"


def test_saying_the_customers_word_back_as_an_answer_is_a_refusal() -> None:
    turns = [(A, "您好，这里是招行，我是客服李明"), (C, "不行吗"), (A, "不行"), (C, "好吧")]
    assert severities(conversation(turns), "Q5") == {"fail"}
