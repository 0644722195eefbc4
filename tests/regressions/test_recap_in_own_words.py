"""A recap in the agent's own words that no summary list holds (blind sets at-av: five of the
round's eight false alarms were short recaps said before the closing question). What the recap
repeats from the call decides between a reviewer's call and a missing summary."""

from __future__ import annotations

from tests.support.calls import conversation, verdicts

A, C = "agent", "customer"
OPEN = [
    (A, "您好，这里是招商银行，我是客服李明，请问有什么可以帮您？"),
    (C, "我想把信用卡的临时额度提到五万，下周去日本旅游"),
    (A, "好的王女士，我帮您查一下，您的卡可以提到五万，有效期三十天"),
    (C, "那就提吧"),
]


def _closed_with(words: str) -> list[tuple[str, str]]:
    return [*OPEN, (A, words + "请问还有其他问题吗？"), (C, "没了"), (A, "感谢您的来电，再见")]


def test_the_errands_specifics_repeated_before_the_close_are_for_review() -> None:
    said = _closed_with("好的，临时额度五万，三十天有效，日本刷卡没问题。")
    assert verdicts(conversation(said), "Q8") == [("review", "summary")]
    # Cut by speech recognition: the recap's first piece is in the turn before.
    cut = [
        *OPEN,
        (A, "好的 临时额度五万 三十天"),
        (A, "有效 请问还有其他问题吗"),
        (C, "没了"),
        (A, "感谢您的来电，再见"),
    ]
    assert verdicts(conversation(cut), "Q8") == [("review", "summary")]


def test_words_of_any_sentence_repeat_nothing() -> None:
    for words in ("好的，", "好的，祝您旅途愉快。", "嗯嗯好的好的，您稍等一下，"):
        assert verdicts(conversation(_closed_with(words)), "Q8") == [("fail", "summary")], words


def test_the_recaps_own_earlier_pieces_are_not_what_it_repeats() -> None:
    # The same breath, cut into pieces, is one saying: it cannot echo itself.
    said = [
        (A, "您好，这里是招商银行，我是客服李明，请问有什么可以帮您？"),
        (C, "随便问问"),
        (A, "好的 航班 延误"),
        (A, "航班 延误 保险 请问还有其他问题吗"),
        (C, "没了"),
        (A, "感谢您的来电，再见"),
    ]
    assert verdicts(conversation(said), "Q8") == [("fail", "summary")]
