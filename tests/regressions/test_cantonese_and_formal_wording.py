"""Cantonese and formal written-style wording of the steps the checks look for, and a
paraphrase negated like its phrase (found by blind sets l and m, issue 12).

Consent 你方唔方便呀 / 你介唔介意呀; summaries 同你講返低, 謹此與您確認, 謹此為閣下總結; the
closing question 請問尚有其他可以協助閣下之處嗎; the complaint's contact 呢張係我卡片 and apology
唔好意思; 唔係唔得 (a double negative, like 也不是不行). The bare forms still fail.
"""

from __future__ import annotations

from typing import Any

from tests.support.calls import conversation, severities, transferred, verdicts

A, C = "agent", "customer"
OPEN: list[tuple[str, str] | dict[str, Any]] = [(A, "你好，數碼通，我係客服陳嘉欣"), (C, "你好")]


def test_cantonese_consent_to_a_transfer() -> None:
    for consent in ("你方唔方便呀？", "你介唔介意呀？"):
        turns = [
            *OPEN,
            (A, f"解除海外簽賬要由信用卡部嘅同事處理，我幫你轉駁過去，大約要等三十秒左右，{consent}"),
            (C, "好"),
            *transferred("信用卡部"),
        ]
        assert severities(conversation(turns), "Q7") == set()


def test_cantonese_and_formal_summaries_and_closing_questions() -> None:
    for summary, question in (
        ("同你講返低：張卡冇遺失，只係暫停咗海外簽賬。", "請問仲有冇其他嘢我可以幫到你？"),
        ("謹此與您確認：保單已完成地址變更。", "請問還有其他需要本人協助之處嗎？"),
        ("謹此為閣下總結：理賠文件已收妥。", "請問尚有其他可以協助閣下之處嗎？"),
    ):
        turns = [*OPEN, (A, summary + question), (C, "冇喇"), (A, "多謝你嘅來電，拜拜")]
        assert verdicts(conversation(turns), "Q8") == []


def test_cantonese_complaint_contact_and_apology() -> None:
    turns = [
        *OPEN,
        (C, "我要投訴你哋亂收漫遊費"),
        (A, "我同你確認一下：你一號至五號去韓國，每日都有買日費，但係一號同二號照收，係咪？"),
        (A, "投訴編號係 CS0457，三個工作天內覆你，呢張係我卡片，上面有門市電話。真係唔好意思。"),
    ]
    assert severities(conversation(turns, channel="lobby"), "Q9") == set()


def test_a_negated_paraphrase_is_no_violation() -> None:
    turns = [*OPEN, (C, "唔得啦咁樣"), (A, "明白 其實 唔係唔得嘅 我哋有幾個方法"), (C, "好")]
    assert severities(conversation(turns), "Q5") == set()
    turns = [*OPEN, (C, "可唔可以快啲"), (A, "唔得，要等三日"), (C, "好")]
    assert severities(conversation(turns), "Q5") == {"fail"}
