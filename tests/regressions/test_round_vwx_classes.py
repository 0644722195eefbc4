"""Classes found by blind sets v to av and by rewriting the corpus as raw speech recognition
(issue 12), each beside the bare form that must still fail. The sets were scored in rounds
(v-aa, z-aj, ak-am, an-ap, aq-as, at-av); each test names the set that found its class."""

from __future__ import annotations

from typing import Any

from tests.support.calls import conversation, severities, transferred, verdicts

A, C = "agent", "customer"
OPEN: list[tuple[str, str] | dict[str, Any]] = [(A, "您好，这里是招行，我是客服李明"), (C, "你好")]


def test_a_brush_off_promised_away_is_no_brush_off() -> None:
    # 不会让您自己去跟修理厂扯皮 (set w): the agent promises the customer will not be left to it.
    for said in ("不会让您自己去跟修理厂扯皮的，您放心", "您不用自己去跟商家联系，我们来处理"):
        assert severities(conversation([*OPEN, (A, said), (C, "好")]), "Q5") == set(), said
    for said in ("这个您自己去跟商家联系吧", "我们不管，您自己去问商家"):
        assert severities(conversation([*OPEN, (A, said), (C, "好")]), "Q5") == {"fail"}, said


def test_any_negation_before_the_word_is_no_complaint() -> None:
    # 我唔係要投訴 (set x): Cantonese, like 我不是要投诉; 我不得不投诉 still complains.
    for said in ("我唔係要投訴，只係想反映下", "我唔想投訴", "我不想客诉，就是问问"):
        assert verdicts(conversation([*OPEN, (C, said), (A, "好的")]), "Q9") == [], said
    for said in ("我要投诉你们", "我不得不投诉你们"):
        assert verdicts(conversation([*OPEN, (C, said), (A, "好的")]), "Q9") != [], said


def test_naming_what_the_customer_reported_reports_no_words() -> None:
    # 把您反映的情况复述一下 让我确认一下 (set x): the restatement is the agent's own.
    turns = [
        *OPEN,
        (C, "我要投诉你们装宽带的师傅"),
        (A, "那我先把您反映的情况复述一下 让我确认一下 没有漏的"),
        (A, "您约了两次 师傅都没来"),
        (A, "也没有通知您 是这样吗"),
        (C, "对"),
        (A, "非常抱歉，投诉单号是20261201，二十四小时内主管给您回电"),
    ]
    assert "restate" not in {m for _, m in verdicts(conversation(turns), "Q9")}
    # The customer's own word named that way is still theirs: 您说的不行 is no refusal.
    said = [*OPEN, (A, "您说的不行是指哪一步"), (C, "登录")]
    assert severities(conversation(said), "Q5") == set()


def test_a_wait_said_after_the_transfer_is_not_the_transfers() -> None:
    # 请稍等 / (transfer) / 您好，技术部…大概两分钟 (set x): the wait came from the next agent.
    turns = [
        *OPEN,
        (A, "这个要由网络技术部门来做远端测试，我帮您转接到技术部门好吗"),
        (C, "好"),
        (A, "好的请稍等"),
        *transferred("技术部"),
        (A, "您好我是技术部陈建宏，我这边帮您做线路测试，大概两分钟"),
        (C, "好"),
    ]
    assert {m for _, m in verdicts(conversation(turns), "Q7")} == {"wait"}


def test_cantonese_double_negative_of_cannot() -> None:
    # 唔係冇可能係房務部出錯 (set v) admits it may be so; 冇可能 alone still refuses.
    said = [*OPEN, (A, "唔係冇可能係房務部點數嗰陣出錯，我而家幫你刪咗"), (C, "好")]
    assert severities(conversation(said, channel="lobby"), "Q5") == set()
    bare = [*OPEN, (A, "冇可能幫你刪"), (C, "吓")]
    assert severities(conversation(bare, channel="lobby"), "Q5") == {"fail"}


def test_a_number_after_its_label_in_any_copula() -> None:
    # 編號係GC120855 (set v): Cantonese 係 for 是.
    turns = [
        *OPEN,
        (C, "我要投訴"),
        (A, "真係唔好意思。我確認一下先：你冇用過迷你吧，係咪咁？"),
        (C, "係"),
        (A, "我幫你開咗投訴個案，編號係GC120855，二十四小時之內回覆你，呢張係我嘅卡片"),
    ]
    assert verdicts(conversation(turns, channel="lobby"), "Q9") == []
    turns[-1] = (A, "我幫你開咗投訴個案，二十四小時之內回覆你，呢張係我嘅卡片")
    assert {m for _, m in verdicts(conversation(turns, channel="lobby"), "Q9")} == {"number"}


def test_cannot_last_long_is_a_reassurance() -> None:
    # 切换的时候家里网络也不可能断很久 (set v): about the outage, not a refusal.
    said = [*OPEN, (A, "切换的时候家里网络也不可能断很久，一般半小时以内"), (C, "好")]
    assert severities(conversation(said), "Q5") == set()
    assert severities(conversation([*OPEN, (A, "这个不可能"), (C, "啊")]), "Q5") == {"fail"}


def test_a_recap_split_over_many_turns_is_one_summary() -> None:
    # 那我再跟您确认一下今天办的 / 宽带… / 减免… / 回电… / 流量… (set v): speech recognition
    # cut one recap into five turns; the window counts the agent's runs, not the pieces.
    recap = [
        "那我再跟您 确认一下今天办的",
        "您的宽带故障 已经升级为加急工单",
        "三天的宽带费 申请减免",
        "明天中午十二点前 我主动回电",
        "手机上 加了七天的 二十G 免费流量",
    ]
    close = [(C, "嗯 对"), (A, "请问 还有其他 可以帮您的吗"), (C, "没了"), (A, "好的 感谢您的来电 再见")]
    turns = [*OPEN, (C, "宽带断了"), *[(A, t) for t in recap], *close]
    assert verdicts(conversation(turns), "Q8") == []
    # Five separate exchanges before the closing question are too far back.
    spread = [x for t in recap[1:] for x in ((A, t), (C, "嗯"))]
    turns = [*OPEN, (C, "宽带断了"), (A, recap[0]), (C, "嗯"), *spread, *close]
    assert {m for _, m in verdicts(conversation(turns), "Q8")} == {"summary"}


def test_saying_something_oneself_reports_nobody() -> None:
    # 我再跟您说一遍投诉编号是… / 跟您说一下今天办的…: the agent about to speak, like 说声抱歉
    # (found reviewing the markers after set x); 他说明天 and 您说明了… still report.
    turns = [
        *OPEN,
        (C, "我要投诉"),
        (A, "非常抱歉。让我确认一下，您等了两个小时，是吗"),
        (C, "是"),
        (A, "我再跟您说一遍投诉编号是T20261201，二十四小时内给您回电"),
    ]
    assert "number" not in {m for _, m in verdicts(conversation(turns), "Q9")}
    recap = [
        *OPEN,
        (A, "我跟您说一下今天办的，卡已经解锁，额度恢复了。请问还有其他可以帮您的吗"),
        (C, "没有"),
        (A, "感谢您的来电，再见"),
    ]
    assert verdicts(conversation(recap), "Q8") == []
    reported = [*OPEN, (A, "您说明了热线答复过 他回答这是规定没有例外 是这样吗"), (C, "对")]
    assert severities(conversation(reported), "Q5") == set()


def test_the_agent_reporting_themself_still_refuses() -> None:
    # 我跟您讲，这个不行 (found with the markers' review after set x): 跟您讲 reports speech,
    # but after 我 the words are the agent's own; the merchant's 跟您讲不行 is still reported.
    for said in ("我跟您讲，这个不行", "我跟你说，我不知道"):
        assert severities(conversation([*OPEN, (A, said), (C, "啊")]), "Q5") == {"fail"}, said
    reported = [*OPEN, (A, "商家跟您讲不行是吧"), (C, "对")]
    assert severities(conversation(reported), "Q5") == set()


def test_the_customers_last_word_on_complaining_decides() -> None:
    # 是不是得投诉这个商家啊 我不是要投诉 (set aa): asking, then saying it is no complaint.
    said = [*OPEN, (C, "那我是不是得投诉这个商家啊 我不是要投诉 我就是想把钱退了"), (A, "明白")]
    assert verdicts(conversation(said), "Q9") == []
    for turn in ("不投诉不行了，我要投诉", "我需要投诉你们的快递员"):
        assert verdicts(conversation([*OPEN, (C, turn), (A, "好的")]), "Q9") != [], turn


def test_who_does_it_for_the_customer_is_a_transfers_reason() -> None:
    # 由房贷部的专员帮您试算才会准确 (set aa).
    turns = [
        *OPEN,
        (A, "这部分要调合约细节，由房贷部的专员帮您试算才会准确。我帮您转到房贷部，大概一分钟，可以吗"),
        (C, "可以"),
        *transferred("房贷部"),
    ]
    assert verdicts(conversation(turns), "Q7") == []
    turns[2] = (A, "我帮您转接到房贷部，大概等一分钟，可以吗")
    assert {m for _, m in verdicts(conversation(turns), "Q7")} == {"reason"}


def test_reported_speech_without_punctuation() -> None:
    # Found by stripping the punctuation off the corpus (what speech recognition sends): 骑手说
    # 你总是这样催 and 回您 这是规定 report someone else; the agent's own 这个不行 still fails.
    for said in (
        "骑手说 你总是这样催 还说 你这样做不对 是这样吗",
        "柜员然后回您 这是规定 是这样吗",
        "柜员回了您一句 这个我不管 也没有给您替代办法 是吗",
        "您朋友说 不可能办成 那是早几年的情况了",
    ):
        assert severities(conversation([*OPEN, (A, said), (C, "对")]), "Q5") == set(), said
    assert severities(conversation([*OPEN, (A, "骑手那边我查了 这个不行"), (C, "啊")]), "Q5") == {"fail"}


def test_agreeing_or_explaining_reports_nothing() -> None:
    # 您说得对 感谢您的提醒 … 受理单号是… and 由我跟您说明调查结果 这是我的名片: without the full
    # stop the steps after them were taken for the customer's words.
    turns = [
        *OPEN,
        (C, "我要投诉，你们卖过期药"),
        (A, "实在抱歉。我先跟您核对一下 您买到的是过期的泡腾片 是吗"),
        (C, "是"),
        (A, "您说得对 感谢您的提醒 受理单号是HW2606 三个工作日内由我跟您说明调查结果 这是我的名片"),
    ]
    assert verdicts(conversation(turns, channel="lobby"), "Q9") == []


def test_a_particle_is_no_surname() -> None:
    # 三位是一起的吧 先生您好 (stripped: 的吧先生您好): 吧 addresses no one before the leader.
    turns = [
        (A, "晚上好 欢迎光临中国电信 三位是一起的吧 先生您好 请问怎么称呼您"),
        (C, "我姓邓"),
        (A, "邓先生您好 邓先生请坐"),
    ]
    opened = {"group_leader_name": "邓建华", "customer_name": "邓建华", "customer_gender": "male"}
    assert severities(conversation(turns, channel="lobby", opened=opened, hour=19), "Q4") == set()


def test_a_contact_given_as_call_me() -> None:
    # 上面有我的名字和电话 有任何情况您直接打给我 (set ac).
    turns = [
        *OPEN,
        (C, "我要投诉你们那个业务员"),
        (A, "我复述一下 您是说业务员销售误导 是吗"),
        (C, "对"),
        (A, "非常抱歉 投诉受理单号是PA2026 三个工作日内给您答复 上面有我的名字和电话 您直接打给我"),
    ]
    assert verdicts(conversation(turns, channel="lobby"), "Q9") == []
    turns[-1] = (A, "非常抱歉 投诉受理单号是PA2026 三个工作日内给您答复")
    assert {m for _, m in verdicts(conversation(turns, channel="lobby"), "Q9")} == {"contact"}


def test_cantonese_you_said_reports() -> None:
    # 你話個app不可能一日都冇更新 (set ad); 唔該你講一講身份證 still asks (no reported speech).
    said = [*OPEN, (A, "明白 你 話 個 app 不可能 一日 都 冇 更新 真係 唔好意思"), (C, "係呀")]
    assert severities(conversation(said), "Q5") == set()
    asks = [*OPEN, (A, "唔該 你 講 一講 身份證 頭四個 字"), (C, "A123")]
    assert severities(conversation(asks), "Q6") == {"fail"}


def test_cantonese_dont_worry_is_the_forbidden_phrase() -> None:
    # 你先唔好急 (set ad: a miss) is 您先别急 in Cantonese.
    said = [*OPEN, (A, "羅先生，你先唔好急，我即刻幫你跟進。"), (C, "點唔急呀")]
    assert severities(conversation(said), "Q5") == {"fail"}


def test_i_would_like_to_confirm_is_a_restatement() -> None:
    # 我想確認一下：…係咪咁？ (set ad).
    turns = [
        *OPEN,
        (C, "我想投訴！個煲凹咗！"),
        (A, "真係唔好意思。我想確認一下：你上星期攞嘅電飯煲，入面個煲身凹咗，係咪咁？"),
        (C, "係呀"),
        (A, "投訴單號係HK-PU-88213，兩個工作天內換新，可以打客服熱線3145 5555"),
    ]
    assert verdicts(conversation(turns, channel="lobby"), "Q9") == []


def test_a_title_before_sir_names_no_one() -> None:
    # 請問領隊先生貴姓？ (set z): 隊 is no surname, so the leader is not passed over.
    turns = [
        (A, "晚上好，歡迎光臨國泰！請問領隊先生貴姓？"),
        (C, "姓張，張志明。"),
        (A, "張先生您好，歡迎各位。何太太請慢慢來。張先生這邊請。"),
    ]
    opened = {"group_leader_name": "張志明", "group_leader_gender": "male", "customer_name": None}
    assert severities(conversation(turns, channel="lobby", opened=opened, hour=19), "Q4") == set()


def test_a_transfers_reason_as_who_answers_better_or_this_desk_cannot() -> None:
    # 這部分要請藥劑部的藥師來回答比較準確 / 我們掛號中心沒辦法給您準確的建議 (set z).
    for reason in ("這部分要請藥劑部的藥師來回答比較準確。", "用藥的問題我們掛號中心沒辦法給您準確的建議。"):
        turns = [
            *OPEN,
            (A, reason),
            (A, "我可以幫您轉接到藥劑部，大概要等一分鐘左右，您方便嗎？"),
            (C, "可以"),
            *transferred("藥劑部"),
        ]
        assert verdicts(conversation(turns), "Q7") == [], reason


def test_a_quotation_cut_across_two_turns() -> None:
    # Found by cutting the corpus's agent turns at a comma: 您是说柜员原话是“这是规定， /
    # 没有例外”，是吧？ — the second turn opens inside the customer's quoted words.
    turns = [
        *OPEN,
        (A, "嗯，您是说柜员原话是“这是规定，"),
        (A, "没有例外”，我把这句话也一起记进去。"),
        (C, "对"),
    ]
    assert severities(conversation(turns), "Q5") == set()
    own = [*OPEN, (A, "您是说柜员原话是“这是规定”，"), (A, "没有例外，我们也没办法。"), (C, "啊")]
    assert severities(conversation(own), "Q5") == {"fail"}


def test_a_rule_read_aloud_across_two_turns() -> None:
    # 条款第十二条规定， / 等待期内…没有例外情形 (cut at the comma): still a rule read aloud.
    turns = [
        *OPEN,
        (A, "條款第十二條規定，"),
        (A, "等待期內發生的疾病不在保障範圍內，沒有例外情形。"),
        (C, "哦"),
    ]
    assert severities(conversation(turns), "Q5") == {"review"}


def test_a_hong_kong_recap_in_english_words() -> None:
    # 咁我confirm返：… / 提早十五分鐘到五樓登記… / 請問仲有冇其他可以幫到你？ (cut at a comma).
    turns = [
        *OPEN,
        (A, "咁我confirm返：陳小姐，十一月五號星期四下晝三點，陳醫生骨科門診，"),
        (A, "提早十五分鐘到五樓登記，診金一千二百蚊。請問仲有冇其他可以幫到你？"),
        (C, "冇喇"),
        (A, "多謝你嘅來電，拜拜。"),
    ]
    assert verdicts(conversation(turns), "Q8") == []


def test_cantonese_told_you_reports() -> None:
    # 上次同事同你講 我不知道 (punctuation stripped off set ad); 我同你講 is the agent's own.
    said = [*OPEN, (A, "真係非常抱歉 上次同事同你講 我不知道 係我哋做得唔好"), (C, "係囉")]
    assert severities(conversation(said), "Q5") == set()
    own = [*OPEN, (A, "我同你講 我不知道"), (C, "吓")]
    assert severities(conversation(own), "Q5") == {"fail"}


def test_taiwan_words_for_personal_data_give_a_reason() -> None:
    # 理賠進度屬於您的個人資訊 (set q, turned into Taiwan wording): 資訊 is 信息 there.
    ask = "理賠進度屬於您的個人資訊，我先跟您核對一下，麻煩報一下身份證號的後四位。"
    said = [*OPEN, (A, ask), (C, "1234")]
    assert severities(conversation(said), "Q6") == set()


def test_a_long_recap_cut_mid_sentence_before_the_closing_question() -> None:
    # Words no summary list holds, cut at a comma: the recap's start is in the turn before, so
    # the missing summary is a reviewer's call; a finished sentence there is not part of it.
    close = [(C, "没有"), (A, "感谢您的来电，再见。")]
    cut = [
        *OPEN,
        (A, "好嘞 陈小姐 十一月五号星期四下午三点 陈医生骨科门诊，"),
        (A, "提前十五分钟到五楼登记。请问还有其他可以帮您的吗？"),
        *close,
    ]
    assert verdicts(conversation(cut), "Q8") == [("review", "summary")]
    done = [
        *OPEN,
        (A, "好的，我们这边记录一下，暂时没有工单号。"),
        (A, "请问还有其他可以帮您的吗？"),
        (C, "没有"),
        (A, "感谢您的来电，再见。"),
    ]
    assert verdicts(conversation(done), "Q8") == [("fail", "summary")]


def test_who_is_responsible_is_a_transfers_reason() -> None:
    # 行李追蹤同送遞安排是行李服務部負責的，他們可以即時查到 (set ae).
    turns = [
        *OPEN,
        (A, "行李追蹤同送遞安排是行李服務部負責的，他們可以即時查到行李現時在哪一個機場。"),
        (A, "我幫您轉接到行李服務部，轉接大約需要一分鐘，請問您同意嗎？"),
        (C, "可以"),
        *transferred("行李服務部"),
    ]
    assert verdicts(conversation(turns), "Q7") == []


def test_a_contact_as_the_number_to_ring() -> None:
    # 回复会打您挂号留的手机 您也可以打医院投诉电话 (set ag); 我先打电话问一下B超室 is no contact.
    steps = "您的投诉已经登记了 编号是MZ12220041 医务科会在三个工作日内给您回复"
    turns = [
        *OPEN,
        (C, "我要投诉你们B超室"),
        (A, "实在抱歉 我复述一下 您等了三个小时还没叫到 对吗"),
        (C, "对"),
        (A, steps + " 回复会打您挂号留的手机 您也可以打医院投诉电话88623310"),
    ]
    assert verdicts(conversation(turns, channel="lobby"), "Q9") == []
    turns[-1] = (A, "我先打电话问一下B超室 " + steps)
    assert {m for _, m in verdicts(conversation(turns, channel="lobby"), "Q9")} == {"contact"}


def test_a_time_in_the_restatement_is_no_deadline() -> None:
    # 樓上每日早上八點前開始鑽牆，係咪咁？ (set ad): the customer's situation, confirmed; the
    # agent's only promise was 盡快處理. Cantonese 打電話畀你 and 電話係2688 1234 are contacts.
    turns = [
        *OPEN,
        (C, "我要投訴樓上裝修"),
        (A, "唔好意思。等我確認一下：樓上每日早上八點前開始鑽牆，影響你休息，係咪咁？"),
        (C, "係"),
        (A, "我已經登記咗投訴，編號KY-C-05。我哋會盡快處理。有咩進展我會打電話畀你，管理處電話係2688 1234。"),
    ]
    assert {m for _, m in verdicts(conversation(turns, channel="lobby"), "Q9")} == {"deadline"}


def test_a_way_to_get_in_touch_in_other_words_is_for_review() -> None:
    # In person, 有事揾前台 (no contact the lists hold) beside 电话 said after the complaint: review.
    turns = [
        *OPEN,
        (C, "我要投诉"),
        (A, "非常抱歉，我确认一下，您等了两个小时，是吗"),
        (C, "是"),
        (A, "投诉编号是A123，三个工作日内处理，电话那边我们也会同步"),
    ]
    assert verdicts(conversation(turns, channel="lobby"), "Q9") == [("review", "contact")]
    turns[-1] = (A, "投诉编号是A123，三个工作日内处理")
    assert verdicts(conversation(turns, channel="lobby"), "Q9") == [("fail", "contact")]


def test_the_errand_named_before_the_reason_is_no_request() -> None:
    # 改预留手机号呢，为了保障您的账户安全，得核对一下您本人的身份证，您今天带了吗 (set af):
    # the data named as the errand; the asking comes after the reason. 请报一下 asks at once.
    said = "好嘞。改预留手机号呢，为了保障您的账户安全，得核对一下您本人的身份证，您今天带了吗？"
    assert severities(conversation([*OPEN, (A, said), (C, "带了")], channel="lobby"), "Q6") == set()
    asked = "请报一下身份证号，为了保障您的账户安全。"
    assert severities(conversation([*OPEN, (A, asked), (C, "好")]), "Q6") == {"fail"}


def test_this_desk_is_not_expert_and_consent_as_fang_bian_bu() -> None:
    # 得理财经理给您详细讲 我这边讲不专业 / 大概等三十秒 您看方便不 (set af).
    turns = [
        *OPEN,
        (A, "得理财经理给您详细讲 我这边讲不专业"),
        (A, "我给您转到理财经理专线 大概等三十秒 您看方便不"),
        (C, "方便 转吧"),
        *transferred("理财经理"),
    ]
    assert verdicts(conversation(turns), "Q7") == []


def test_an_agent_nickname_from_either_given_character() -> None:
    # 我是客服 小芳 for 林芳瑜 (set ai): 小 + the given name's first character.
    turns = [(A, "您好 這裡是 招商銀行"), (A, "我是客服 小芳 很高興為您服務"), (C, "你好")]
    opened = {"agent_name": "林芳瑜"}
    assert severities(conversation(turns, opened=opened), "Q2") == set()
    other = [(A, "您好 這裡是 招商銀行"), (A, "我是客服 小美 很高興為您服務"), (C, "你好")]
    assert severities(conversation(other, opened=opened), "Q2") == {"fail"}


# Found by rewriting the corpus as raw speech recognition: punctuation gone and each agent turn
# cut in two at a random word (what blind writers and hosts send).


def test_an_opening_cut_into_four_turns() -> None:
    # Pieces 3 s apart (a dict turn is 3 s after the one before): all within the 20 s window.
    pieces = ["您好", "这里是 招行 信用卡 中心", "我是", "客服 李明 很高兴 为您 服务"]
    turns: list[tuple[str, str] | dict[str, Any]] = [
        {"type": "utterance", "speaker": A, "text": t} for t in pieces
    ]
    assert severities(conversation([*turns, (C, "你好")]), "Q2") == set()


def test_reported_speech_going_on_into_the_next_turn() -> None:
    for first, second in (
        ("您是说卖场客服跟您讲", "不可能超过两天 对吧"),
        ("了解 您是說這筆", "不可能是您本人刷的 對嗎"),
    ):
        turns = [*OPEN, (A, first), (A, second), (C, "对")]
        assert severities(conversation(turns), "Q5") == set(), second
    own = [*OPEN, (A, "好的 明白了。"), (A, "不可能超过两天"), (C, "哦")]
    # Said by the agent, it reassures rather than refuses: a reviewer's call (fail_forms).
    assert severities(conversation(own), "Q5") == {"review"}
    own[-2] = (A, "这个不可能给您退")
    assert severities(conversation(own), "Q5") == {"fail"}


def test_a_rule_read_aloud_over_three_turns() -> None:
    turns = [
        *OPEN,
        (A, "根據孖展協議第九條規定"),
        (A, "追加保證金通知發出後"),
        (A, "須於兩個交易日內補足 沒有例外情形"),
        (C, "哦"),
    ]
    assert severities(conversation(turns), "Q5") == {"review"}


def test_a_harmless_context_begun_in_the_previous_turn() -> None:
    turns = [*OPEN, (A, "要是"), (A, "明天 早上 还 不行 我 给 您 派 个 师傅"), (C, "好")]
    assert severities(conversation(turns), "Q5") == set()
    assert severities(conversation([*OPEN, (A, "明天 早上 还 不行"), (C, "啊")]), "Q5") == {"fail"}


def test_complaint_steps_and_the_close_cut_across_turns() -> None:
    turns = [
        *OPEN,
        (C, "我要投诉 我等了四十分钟"),
        (A, "真的很抱歉 我"),
        (A, "确认一下 您是九点四十抽的号"),
        (A, "等了四十分钟 还没轮到"),
        (A, "是吗"),
        (C, "对"),
        (A, "投诉编号是CS1125 今天下午五点前 行长会给您回电"),
        (A, "我跟您确认一下 编号CS1125 今天下午五点前回电 请问还有"),
        (A, "其他可以帮您的吗"),
        (C, "没了"),
        (A, "好 感谢您的"),
        (A, "来电 再见"),
    ]
    events = conversation(turns)
    assert verdicts(events, "Q9") == [("review", "contact")] or verdicts(events, "Q9") == []
    assert verdicts(events, "Q8") == []


def test_a_familiar_address_before_the_leader_passes_the_leader_over() -> None:
    # 哎，钱姐，您又来啦 before 赵科长 (set ah: a miss); 伯伯早安 names no surname (伯伯).
    opened = {
        "group_leader_name": "赵建国",
        "group_leader_gender": "male",
        "customer_name": "赵建国",
        "customer_gender": "male",
    }
    turns = [
        (A, "早上好，欢迎光临！哎，钱姐，您又来啦"),
        (C, "这是我们赵科长"),
        (A, "赵科长早上好，赵科长这边请"),
    ]
    assert severities(conversation(turns, channel="lobby", opened=opened, hour=8), "Q4") == {"fail"}
    turns = [(A, "好的，伯伯早安，请问伯伯贵姓？"), (C, "我姓赵"), (A, "赵先生早，赵先生这边请")]
    assert severities(conversation(turns, channel="lobby", opened=opened, hour=8), "Q4") == set()


def test_who_must_do_it_is_a_transfers_reason() -> None:
    # 這種狀況要由司機所屬的營業所去調簽收照片 (set ah).
    turns = [
        *OPEN,
        (A, "瞭解 這種 狀況 要 由 司機 所屬 的 營業所 去 調 簽收 照片"),
        (A, "我 幫 您 轉 到 板橋 營業所 大約 四十秒 您 同意 嗎"),
        (C, "好"),
        *transferred("板橋營業所"),
    ]
    assert verdicts(conversation(turns), "Q7") == []


def test_an_identity_reason_cut_across_turns_but_not_across_a_transfer() -> None:
    # 好的 为了 / 确认 是 投保人 本人 申请 麻烦 您 出示 一下 身份证 (the corpus as raw ASR).
    turns = [*OPEN, (A, "好的 为了"), (A, "确认 是 投保人 本人 申请 麻烦 您 出示 一下 身份证"), (C, "给")]
    assert severities(conversation(turns, channel="lobby"), "Q6") == set()
    # The first agent's last words before a transfer are not the next agent's lead-in.
    handed = [
        *OPEN,
        (A, "这个要由反欺诈中心的同事处理 我这边帮您转接过去 大概四十秒 您看可以吗"),
        (C, "可以"),
        (A, "好的 您稍等 我等同事接起来"),
        *transferred("反欺诈中心"),
        (A, "您先报一下身份证号码"),
        (C, "好"),
    ]
    assert severities(conversation(handed), "Q6") == {"fail"}


def test_set_al_classes() -> None:
    # 所有定点医院药店都支持，没有例外: inclusive, like 大家都有.
    said = [*OPEN, (A, "电子社保卡现在就能用，所有定点医院药店都支持，没有例外。"), (C, "那还行")]
    assert severities(conversation(said), "Q5") == set()
    # 是社保中心在办，他们的系统能直接操作 / 按揭部同事可以即时帮您计清楚，所以我帮您转驳.
    for reason in (
        "挂失和补卡是社保中心在办，他们的系统能直接操作。",
        "罚息要看合约，按揭部同事可以即时帮您计清楚。",
    ):
        turns = [
            *OPEN,
            (A, reason),
            (A, "所以我帮您转过去，大约要等三十秒，您看可以吗？"),
            (C, "可以"),
            *transferred("按揭部"),
        ]
        assert verdicts(conversation(turns), "Q7") == [], reason
    # 二十四個鐘內 (Cantonese hours) is a deadline.
    turns = [
        *OPEN,
        (C, "我要投訴"),
        (A, "真係好抱歉 等我確認一下 送貨遲咗八個鐘 係咪咁樣"),
        (C, "係"),
        (A, "投訴編號係CS26122807 送貨部主管會喺二十四個鐘內打返俾你"),
    ]
    assert {m for _, m in verdicts(conversation(turns), "Q9")} <= {"contact"}


def test_a_greeting_and_a_name_cut_across_turns() -> None:
    # 晚上 / 好 这里是京东客服 and 请问是上官 / 女士吗 (the corpus as raw ASR).
    pieces = ["晚上", "好 这里是 招行", "我是 客服 李明 请问 是 上官", "女士 吗"]
    turns: list[tuple[str, str] | dict[str, Any]] = [
        {"type": "utterance", "speaker": A, "text": t} for t in pieces
    ]
    opened = {"customer_name": "上官婉", "customer_gender": "female"}
    events = conversation([*turns, (C, "是我"), (A, "上官女士您好")], opened=opened, hour=20)
    assert severities(events, "Q1") == set()
    assert severities(events, "Q4") == set()


def test_set_an_and_ap_classes() -> None:
    # 您朋友是觉得这个价位不可能是九十的含绒量对吗 (set an): a friend's view, reported.
    said = [*OPEN, (A, "您 朋友 是 觉得 这个 价位 不可能 是 九十 的 含绒量 对 吗"), (C, "对")]
    assert severities(conversation(said), "Q5") == set()
    # 您别慌，我马上帮您处理 (set ap): reviewers split on it: review; 您别着急 still fails.
    assert severities(conversation([*OPEN, (A, "好的，您别慌，我马上帮您处理。"), (C, "好")]), "Q5") == {
        "review"
    }
    assert severities(conversation([*OPEN, (A, "好的，您别着急，我马上帮您处理。"), (C, "好")]), "Q5") == {
        "fail"
    }


def test_who_else_might_handle_it_makes_a_missing_reason_a_review() -> None:
    # A reason in words no list holds, naming the department before the announcement: review;
    # the target named only in the announcement (我帮您转到技术支持) is no reason: fail.
    def transfer(before: str) -> list[tuple[str, str] | dict[str, Any]]:
        return [
            *OPEN,
            (A, before),
            (A, "我帮您转到技术支持，大概等一分钟，可以吗？"),
            (C, "可以"),
            *transferred("技术支持"),
        ]

    assert verdicts(conversation(transfer("技术部的同事昨天也碰到过这种情况。")), "Q7") == [
        ("review", "reason")
    ]
    assert verdicts(conversation(transfer("这个故障什么时候修好，系统上没有写。")), "Q7") == [
        ("fail", "reason")
    ]


def test_set_ar_classes() -> None:
    # 医生态度不好还对老人家说你这样做不对是吧 (set ar): the doctor's words, reported.
    said = [*OPEN, (A, "我 跟您 确认 一下 医生 态度 不好 还 对 老人家 说 你这样做不对 是吧"), (C, "对")]
    assert severities(conversation(said), "Q5") == set()
    # 呢個係公司規定嚟，冇例外㗎 (set ar: a miss) is 这是规定，没有例外 in Cantonese; 冇例外都會收到
    # (everyone gets it) is inclusive.
    refusal = [*OPEN, (A, "不過呢個係公司規定嚟，冇例外㗎。"), (C, "吓")]
    assert severities(conversation(refusal), "Q5") == {"fail"}
    inclusive = [*OPEN, (A, "同一架車嘅客人全部都會有五十蚊補償 冇例外 都會收到"), (C, "好")]
    assert severities(conversation(inclusive), "Q5") == set()


def test_set_at_and_av_classes() -> None:
    # 这个是信用卡中心那边专门处理的 / 我这边帮您转过去 (set at) and 得抢修班来处理 (set av).
    for reason in ("提前结清 这个 是信用卡中心 那边 专门处理的", "那 应该 是 线路 故障 得 抢修班 来 处理"):
        turns = [
            *OPEN,
            (A, reason),
            (A, "我这边 帮您 转过去 大概 等一分钟 左右 您看 可以吗"),
            (C, "可以"),
            *transferred("信用卡中心"),
        ]
        assert verdicts(conversation(turns), "Q7") == [], reason
    # Short recaps of today's work before the closing question (sets at, av); 都帮您安排好了
    # alone sums up nothing (set b) and still fails.
    for recap in (
        "今天帮您把限额从五万调到二十万。",
        "今天 帮您 催了 件 明天 中午 前 回复",
        "那个 确认 一下 开 公司 抬头 发票 三天 内 发 邮箱",
        "好 重設 好 了 幫您 解鎖 了",
    ):
        turns = [*OPEN, (A, recap + " 请问还有其他可以帮您的吗"), (C, "没了"), (A, "感谢您的来电，再见")]
        assert verdicts(conversation(turns), "Q8") == [], recap
    vague = [
        *OPEN,
        (A, "好的，都帮您安排好了。请问还有其他可以帮您的吗？"),
        (C, "没有"),
        (A, "感谢您的来电，再见"),
    ]
    assert verdicts(conversation(vague), "Q8") == [("fail", "summary")]
