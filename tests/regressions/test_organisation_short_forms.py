"""Q2: an organisation said in a short form no rule derives (found by blind sets g, h and i, issue 12).

六院 for 上海市第六人民医院, 华通大众 for 上汽大众华通4S店, 太保 for 中国太平洋财产保险: words in the
organisation's place that share its name's characters in order name it. Other words in that
place are for review (not a fail: the check cannot tell a short form it does not know from a
wrong name); no words there at all still fail.
"""

from __future__ import annotations

import pytest

from tests.support.calls import conversation, severities

A, C = "agent", "customer"


def _opening(first: str, organisation: str) -> set[str]:
    turns = [(A, first), (A, "我是客服李明，很高兴为您服务"), (C, "你好")]
    return severities(conversation(turns, opened={"organisation": organisation}), "Q2")


@pytest.mark.parametrize(
    ("said", "organisation"),
    [
        ("下午好，六院预约中心", "上海市第六人民医院"),
        ("您好 华通大众", "上汽大众华通4S店"),
        ("上午好 骏达丰田售后服务", "一汽丰田骏达4S店"),
        ("您好，太保车险报案中心", "中国太平洋财产保险"),
        ("大安戶政", "臺北市大安區戶政事務所"),
        ("晚上好国家电网95598", "国网上海市电力公司"),
        ("您好 滙豐", "香港上海滙豐銀行"),
    ],
)
def test_a_short_form_sharing_the_names_characters_names_it(said: str, organisation: str) -> None:
    assert _opening(said, organisation) == set()


def test_other_words_in_the_organisations_place_are_for_review() -> None:
    # Only words every bank has in common with 中国工商银行: not recognisably this one.
    assert _opening("您好，这里是中国银行", "中国工商银行") == {"review"}


def test_no_organisation_at_all_still_fails() -> None:
    assert _opening("您好", "上海市第六人民医院") == {"fail"}
    assert _opening("您好，很高兴为您服务", "招商银行") == {"fail"}
