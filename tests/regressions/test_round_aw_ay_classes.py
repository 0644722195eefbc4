"""Classes found by blind sets aw, ax and ay (issue 12), each beside the bare form that must
still fail; each test names the set that found its class."""

from __future__ import annotations

from typing import Any

from tests.support.calls import conversation, severities, transferred, verdicts

A, C = "agent", "customer"
OPEN: list[tuple[str, str] | dict[str, Any]] = [(A, "您好，这里是招行，我是客服李明"), (C, "你好")]
CLOSE: list[tuple[str, str] | dict[str, Any]] = [(C, "没了"), (A, "感谢您的来电，再见")]


def one_turn(said: str, reply: str) -> list[tuple[str, str] | dict[str, Any]]:
    """The opening, one agent turn and the customer's reply."""
    return [*OPEN, (A, said), (C, reply)]


def test_the_summary_comes_before_the_last_closing_question() -> None:
    # 还有别的地方受损吗 asked about the claim, then 我跟您总结一下…请问还有其他可以帮您的吗 (set ax):
    # the summary before the close was taken for one before the earlier question.
    turns = [
        *OPEN,
        (A, "车现在还能正常开吗？除了后门还有别的地方受损吗？"),
        (C, "就后门"),
        (A, "好的，报案已经受理了，明天到合作的4S店定损。"),
        (C, "明白了"),
        (A, "我跟您总结一下：报案已经受理，明天到4S店定损。请问还有其他可以帮您的吗？"),
        *CLOSE,
    ]
    assert verdicts(conversation(turns), "Q8") == []
    turns[-3] = (A, "请问还有其他可以帮您的吗？")
    assert verdicts(conversation(turns), "Q8") == [("fail", "summary")]


COMPLAINT: list[tuple[str, str] | dict[str, Any]] = [
    *OPEN,
    (C, "我要客诉 我在药局等了一个半小时 问一下还被凶"),
    (A, "真的很抱歉"),
]


def test_the_thing_the_customer_raised_is_named_not_reported() -> None:
    # 您反映的態度問題 我已經登記了 客訴單號是… (set ax, raw ASR): 您反映的 + a noun names the
    # complaint; it reported the whole turn, and the turns after it, as the customer's words.
    turns = [
        *COMPLAINT,
        (A, "如果我理解没错的话 您在一楼药局等了一个半小时 窗口同仁态度不好 对吗"),
        (C, "对"),
        (A, "您反映的态度问题 我已经登记了 客诉单号是NTUH1209031"),
        (A, "药局主管会在三个工作天内 打电话回复您处理结果"),
        (A, "没接到电话可以打服务台分机找我"),
    ]
    assert verdicts(conversation(turns, channel="lobby"), "Q9") == []
    # Without that turn, no number was given.
    del turns[6]
    assert {m for _, m in verdicts(conversation(turns, channel="lobby"), "Q9")} == {"number"}


def test_a_restatement_in_other_words() -> None:
    # 如果我理解沒錯的話 (set ax) and Cantonese 我确认返一次先 … 系咪咁 (set ay).
    for opener in ("如果我理解没错的话", "我确认返一次先", "要是我没听错"):
        turns = [
            *COMPLAINT,
            (A, opener + " 您在一楼药局等了一个半小时 窗口同仁态度不好"),
            (C, "对"),
            (A, "已经登记了 客诉单号是NT1209031 三个工作天内打电话回复您"),
        ]
        assert "restate" not in {m for _, m in verdicts(conversation(turns), "Q9")}, opener
    # Without it (the feedback at once), nothing was restated.
    del turns[4:6]
    assert {m for _, m in verdicts(conversation(turns), "Q9")} == {"restate"}


def test_reported_words_go_on_into_the_next_turn_only_when_cut_at_the_marker() -> None:
    # 三个工作天之内会有同事打返畀你 话你知处理结果 / 你可以打返嚟客户服务热线 (set ay): 话你知
    # + a clause is the agent telling; it does not report the next turn's 热线. 打返畀你 is a
    # Cantonese call-back.
    turns = [
        *COMPLAINT,
        (A, "我确认一下 您等了一个半小时 窗口态度不好 系咪咁"),
        (C, "系"),
        (A, "你嘅投诉编号系 C二六一零二零八八五"),
        (A, "三个工作天之内会有同事打返畀你 话你知处理结果"),
        (A, "如果到时未收到电话 你可以打返嚟客户服务热线"),
    ]
    assert verdicts(conversation(turns), "Q9") == []
    # Cut right after the marker, the next turn is the words reported (…跟您讲 / 这个不行).
    said = [*OPEN, (A, "您是说前台跟您讲"), (A, "这个不行"), (C, "对")]
    assert severities(conversation(said), "Q5") == set()
    for first in ("您反映的态度问题我已经登记了", "前台跟您讲要等三天才能办好"):
        own = [*OPEN, (A, first), (A, "这个不行"), (C, "啊")]
        assert severities(conversation(own), "Q5") == {"fail"}, first


def test_cantonese_can_or_cannot_is_a_question() -> None:
    # 補發新卡大概五至七個工作天寄到，得唔得？ (set ay) asks; 唔得 alone still refuses.
    asked = [*OPEN, (A, "补发新卡大概五至七个工作天寄到你登记住址，得唔得？"), (C, "得")]
    assert severities(conversation(asked), "Q5") == set()
    refused = [*OPEN, (A, "呢个唔得，冇得改"), (C, "吓")]
    assert severities(conversation(refused), "Q5") == {"fail"}


def test_asking_words_belong_to_the_requests_sentence() -> None:
    # 这边请坐。…我先跟您说一下，办副卡需要三位的身份证件 (set aw): the 请 of 请坐 and the
    # 说一下 of 跟您说一下 ask for nothing; the reason came with the swipe later.
    told = [
        *OPEN,
        (A, "黄先生这边请坐。我先跟您说一下，办副卡需要三位的身份证件。"),
        (C, "都带了"),
        (A, "为了确认是机主本人来办理，麻烦您刷一下身份证"),
    ]
    assert severities(conversation(told, channel="lobby"), "Q6") == set()
    asked = [*OPEN, (A, "黄先生这边坐。请出示三位的身份证件。"), (C, "给")]
    assert severities(conversation(asked, channel="lobby"), "Q6") == {"fail"}


def test_taiwan_words_for_permission_and_support() -> None:
    # Found by rewriting the corpus in Taiwan wording (OpenCC s2twp): 權限 is 許可權 there and
    # 支持 is 支援, so 我這邊沒有許可權 lost its transfer reason and 都支援，沒有例外 its inclusion.
    turns = [
        *OPEN,
        (A, "年費豁免這塊是信用卡中心審批的，我這邊沒有許可權直接免。"),
        (A, "我幫您轉到信用卡中心，大概等一分鐘，可以嗎？"),
        (C, "可以"),
        *transferred("信用卡中心"),
    ]
    assert verdicts(conversation(turns), "Q7") == []
    said = [*OPEN, (A, "電子社保卡現在就能用，所有定點醫院藥店都支援，沒有例外。"), (C, "好")]
    assert severities(conversation(said), "Q5") == set()


def test_set_az_and_ba_classes() -> None:
    # 不可能再让您白跑了 (set ba) promises; 您的密码我们职员是不可能看到的 (set az) reassures;
    # 不是您这样做不对，是我们页面没写清楚 (set az) denies the blame. The bare forms still fail.
    for said in (
        "这次我先帮您把材料全部核一遍 不可能再让您白跑了",
        "您的密码我们职员是不可能看到的，所以请您自己记好。",
        "不是您这样做不对，是我们这个页面的提示没写清楚。",
    ):
        assert severities(conversation(one_turn(said, "好")), "Q5") == set(), said
    for said in ("这个不可能再给您延期了", "不是，您这样做不对，要先勾选优惠券。"):
        assert severities(conversation(one_turn(said, "啊")), "Q5") == {"fail"}, said
    # 先说护照，孩子今年多大了？ (set ba) names the topic; 说一下护照号码 asks for the number.
    topic = [*OPEN, (A, "两件事我一件一件帮您看。先说护照，孩子今年多大了？"), (C, "十四岁")]
    assert severities(conversation(topic), "Q6") == set()
    asked = [*OPEN, (A, "先说一下孩子的护照号码。"), (C, "E123")]
    assert severities(conversation(asked), "Q6") == {"fail"}


def test_cannot_fails_only_where_it_refuses() -> None:
    # 不可能 said as a reassurance kept bringing false alarms (sets az, ba and earlier): it fails
    # in a refusal's shape only; in any other it is a reviewer's call.
    for said in ("那边的审核不可能这么快", "这个流程不可能超过两天"):
        assert severities(conversation(one_turn(said, "哦")), "Q5") == {"review"}, said
    for said in (
        "这个不可能。",
        "不可能给您退",
        "已经成交的单不可能取消喔",
        "不可能是我们的问题",
        "冇可能",
        "想都别想",
    ):
        assert severities(conversation(one_turn(said, "啊")), "Q5") == {"fail"}, said


def test_set_bd_classes() -> None:
    # 入住時同事出示身份證就可以了 (set bd) tells what to bring later; nothing is asked now.
    later = [*OPEN, (A, "訂房確認信我會發到您公司的電郵，入住時同事出示身份證就可以了。"), (C, "好")]
    assert severities(conversation(later), "Q6") == set()
    now = [*OPEN, (A, "麻煩您出示身份證。"), (C, "好")]
    assert severities(conversation(now), "Q6") == {"fail"}
    # 质量问题的鞋 要品牌方的售后来审核 (set bd): who must review it is the reason.
    turns = [
        *OPEN,
        (A, "质量问题的鞋 要品牌方的售后来审核"),
        (A, "我把您转到这个品牌的售后专员 大概等一分钟左右 您看可以吗"),
        (C, "可以"),
        *transferred("品牌售后"),
    ]
    assert verdicts(conversation(turns), "Q7") == []
    # 不行我就去投诉 (set bd) threatens; whether handling was owed is a reviewer's call, while
    # 我要投诉 complains.
    threat = [*OPEN, (C, "我就要退钱 不行我就去投诉"), (A, "理解理解 钱是可以退的")]
    assert {s for s, _ in verdicts(conversation(threat), "Q9")} == {"review"}
    threat[2] = (C, "我就要退钱 我要投诉")
    assert "fail" in {s for s, _ in verdicts(conversation(threat), "Q9")}


def test_set_bf_and_bh_classes() -> None:
    # 要地面服务的行李系统才看得到，我这边没这个权限 (set bh): only someone else can see it.
    turns = [
        *OPEN,
        (
            A,
            "行李现在在哪，要地面服务的行李系统才看得到，我这边没这个权限，我帮您转到行李查询专席，大概半分钟，转过去好吗？",
        ),
        (C, "好的"),
        *transferred("行李查询专席"),
    ]
    assert verdicts(conversation(turns), "Q7") == []
    turns[2] = (A, "我帮您转到行李查询专席，大概半分钟，转过去好吗？")
    assert {m for _, m in verdicts(conversation(turns), "Q7")} == {"reason"}
    # 查理赔进度 要保护您的个人信息 / 所以 麻烦您 报一下…身份证的后四位 (set bf).
    told = [
        *OPEN,
        (A, "查理赔进度 要保护您的个人信息"),
        (A, "所以 麻烦您 报一下 身份证的后四位"),
        (C, "0526"),
    ]
    assert severities(conversation(told), "Q6") == set()
    asked = [*OPEN, (A, "查理赔进度 麻烦您 报一下 身份证的后四位"), (C, "0526")]
    assert severities(conversation(asked), "Q6") == {"fail"}


def test_set_bg_classes() -> None:
    # 我不知道大家晚餐吃過了沒，如果還沒… (set bg) asks, politely; 我不知道 alone still fails.
    asked = [*OPEN, (A, "早餐六點開始。我不知道大家晚餐吃過了沒，如果還沒，一樓餐廳開到九點半。"), (C, "好")]
    assert severities(conversation(asked), "Q5") == set()
    assert severities(conversation(one_turn("这个我不知道", "啊")), "Q5") == {"fail"}
    # 我跟您对一下哈 您是说…对吧 (set bg, raw ASR): a restatement that begins with a reporting
    # marker is the agent's own; 请问您的订单编号是？ asks for a number, it gives none.
    turns = [
        *OPEN,
        (C, "我要投诉 快递员直接把件扔门口"),
        (A, "真不好意思 请问您的订单编号是"),
        (C, "8806"),
        (A, "我 跟 您 对 一下 哈 您 是说 快递员 没 联系 您 直接 放 门口 对 吧"),
        (C, "对"),
        (A, "网点主管会在明天中午十二点前给您回电话"),
    ]
    assert {m for _, m in verdicts(conversation(turns), "Q9")} == {"number"}


def test_a_title_the_customer_asked_for_is_someone_else() -> None:
    # 消化内科 刘医生 刘国栋 / 好的 刘医生开的 (set bh, a miss): the doctor, not the customer 刘晓梅;
    # said by the agent it is no mention of her. 刘医生 for a customer who is a doctor still counts.
    opened = {"customer_name": "刘晓梅", "customer_gender": "female"}
    turns = [
        (A, "您好 市三医院 我是罗静"),
        (C, "我的病理报告还查不到"),
        (A, "好的 刘女士是吧 您是哪位医生开的检查"),
        (C, "消化内科 刘医生 刘国栋"),
        (A, "好的 刘医生开的 病理 我帮您看一下"),
    ]
    assert severities(conversation(turns, opened=opened), "Q4") == {"fail"}
    turns[3] = (C, "我就是医生 叫我刘医生就行")
    assert severities(conversation(turns, opened=opened), "Q4") == set()


def test_set_bi_and_bj_classes() -> None:
    # Scored on the final commit of the session (sets bi, bj), fixed after.
    # 这个我不管最后是哪个部门处理，都会帮您盯到底 (set bi): 不管…都 is "no matter which".
    # 我不知道您之前有沒有用過… (set bi) asks politely. The bare forms still fail.
    for said in ("这个我不管最后是哪个部门处理，都会帮您盯到底", "我不知道您之前有沒有用過我們的App"):
        assert severities(conversation(one_turn(said, "好")), "Q5") == set(), said
    for said in ("这个我不管，您去找商家", "我不知道，您去问别人"):
        assert severities(conversation(one_turn(said, "啊")), "Q5") == {"fail"}, said
    # 您的號碼是二百三十六號 (set bj, a miss) is the queue ticket: no way to get in touch, so a
    # missing contact in person still fails.
    turns = [
        *OPEN,
        (C, "我已經等了五十分鐘了 我要投訴你們"),
        (A, "真的很抱歉。您的號碼是二百三十六號，我確認一下，您等了五十分鐘還沒叫號，對嗎？"),
        (C, "對"),
        (A, "您的陳情我已經登記了，案件編號是1131216042，三個工作天內會有處理結果。"),
    ]
    assert verdicts(conversation(turns, channel="lobby"), "Q9") == [("fail", "contact")]


def test_a_polite_question_after_i_dont_know_stays_in_its_clause() -> None:
    # Found by the hypothesis property on the session's last CI run: the polite-question form
    # 我不知道…行不行 reached across clause and sentence ends, so 我不知道。您看这样处理行不行？
    # (a flat "I don't know." and then a question) passed.
    for said in ("我不知道。您看这样处理行不行？", "我不知道，您去问别人吧，行不行"):
        assert severities(conversation(one_turn(said, "啊")), "Q5") == {"fail"}, said
    asked = [*OPEN, (A, "我不知道您周六上午方不方便？"), (C, "方便")]
    assert severities(conversation(asked), "Q5") == set()


def test_brush_offs_fail_only_in_a_brush_offs_shape() -> None:
    # Blind sets bg and bi each brought a harmless 我不知道 (a polite question) and bi a harmless
    # 这个我不管 ("no matter which"): like 不可能, both fail only in the shapes in which they push
    # the customer away (fail_forms); other shapes apologise or ask, and are a reviewer's call.
    for said in (
        "我不知道您已经跑了两趟了，真的很抱歉",
        "我不知道该怎么称呼您？",
        "有我不知道的情况您随时跟我说",
        "这个我不管是谁答应您的，我先帮您查一下记录",
    ):
        assert severities(conversation(one_turn(said, "好")), "Q5") == {"review"}, said
    assert (
        severities(conversation(one_turn("不是我不知道，是系统还没更新，我帮您催一下", "好")), "Q5") == set()
    )
    for said in (
        "这个我不知道",
        "我不知道啊 您去问商家吧",
        "我也不知道为什么会这样",
        "具体几点到我不知道",
        "我不知道什么时候能修好",
        "呢個我都唔知",
        "这个我们不管的您可以直接联系快递员",
        "这块不归我们管",
    ):
        assert severities(conversation(one_turn(said, "啊")), "Q5") == {"fail"}, said
    # A phrase cut across two turns is judged on its whole sentence (我 也 不 / 知道 耶).
    cut = [*OPEN, (A, "我 也 不"), (A, "知道 耶"), (C, "啊")]
    assert severities(conversation(cut), "Q5") == {"fail"}


def test_set_bl_bm_bn_classes() -> None:
    # Scored on bd26cf5, fixed after. 钟老先生 (set bl) and 马导 (set bn, a tour guide) name the
    # customer: an elderly man's honorific and a title by position.
    lobby = {"customer_name": "钟国庆", "customer_gender": "male", "group_leader_name": "钟国庆"}
    for first, second in (("钟老先生您好", "钟老先生，您先坐"), ("钟导早", "好的钟导")):
        turns = [(A, f"下午好，欢迎光临！{first}。"), (C, "你好"), (A, f"{second}。"), (C, "好")]
        assert severities(conversation(turns, channel="lobby", hour=15, opened=lobby), "Q4") == set()
    bare = [(A, "下午好，欢迎光临！钟老先生您好。"), (C, "你好"), (A, "您先坐。"), (C, "好")]
    assert severities(conversation(bare, channel="lobby", hour=15, opened=lobby), "Q4") == {"fail"}
    # 我是县医院骨科的刘医生 (set bm): the caller gives her own title; 骨科 before it does not make
    # her a doctor she asked for.
    opened = {"customer_name": "刘芳", "customer_gender": "female"}
    turns = [
        (A, "您好，这里是六院预约中心，我是陶欣"),
        (C, "你好，我是县中心医院骨科的刘医生，想给病人转诊"),
        (A, "刘医生您好，您是要办理转诊，对吗？"),
        (C, "对"),
        (A, "明白，刘医生。"),
    ]
    assert severities(conversation(turns, opened=opened), "Q4") == set()
    turns[1] = (C, "你好，我想挂骨科的刘医生，给病人转诊")
    assert severities(conversation(turns, opened=opened), "Q4") == {"fail"}
    # 转诊的审核是医务处负责的，我们预约中心只能挂普通号 (set bm): whose job it is is the reason.
    turns = [
        *OPEN,
        (A, "转诊的审核和床位协调是医务处负责的，我们预约中心只能挂普通门诊号。"),
        (A, "我帮您转接到医务处，大概等一分钟左右，您看可以吗？"),
        (C, "可以"),
        *transferred("医务处"),
    ]
    assert verdicts(conversation(turns), "Q7") == []
    turns[2] = (A, "好的。")
    assert {m for _, m in verdicts(conversation(turns), "Q7")} == {"reason"}


def test_a_reason_in_everyday_words_for_an_identity_check() -> None:
    # 补卡得先核一下身份，免得有人冒名把您的新卡领走 (set ag, cleared only by the length net):
    # the risk avoided is the reason. The request alone still fails.
    told = [*OPEN, (A, "补卡得先核一下身份，免得有人冒名领走，麻烦把身份证给我看一下。"), (C, "给")]
    assert severities(conversation(told, channel="lobby"), "Q6") == set()
    asked = [*OPEN, (A, "麻烦把身份证给我看一下。"), (C, "给")]
    assert severities(conversation(asked, channel="lobby"), "Q6") == {"fail"}


def test_a_long_explanation_of_something_else_is_no_reason() -> None:
    # Sets bo and bq (scored on 1ff1f84, two misses): the length net took an explanation of the
    # lock (连续错误五次系统就会自动锁定) and of the errand, said in the turn before (订单还没出库
    # 地址和电话都是可以改的), for a possible reason. Said about the check, it still is one.
    lock = (
        "好的，连续错误五次系统就会自动锁定，锁了以后要人工处理。"
        "我这边可以帮您解锁，请您提供身分证字号跟出生年月日。"
    )
    assert severities(conversation(one_turn(lock, "A223456789")), "Q6") == {"fail"}
    errand = [
        *OPEN,
        (A, "嗯嗯 明白 徐先生 您这个订单还没出库 地址和电话都是可以改的"),
        (A, "我这边给您手机发了一条验证码"),
        (A, "您把收到的六位数字报给我一下"),
        (C, "四七九二零三"),
    ]
    assert severities(conversation(errand), "Q6") == {"fail"}
    safety = (
        "解锁这一步系统要求必须是账户本人来操作，不然有被冒用的风险。我这边可以帮您解锁，请您提供身分证字号。"
    )
    assert severities(conversation(one_turn(safety, "A223456789")), "Q6") in ({"review"}, set())


def test_reported_words_cut_mid_clause_go_on_in_the_next_turn() -> None:
    # The raw-ASR rewrite of set bq: 您是说上次同事跟您讲 没有住址证明就 / 不行 是吗 — the cut
    # fell after 就, mid-clause, more than a few words after the marker, so 不行 was the agent's.
    # A turn that ends its clause still ends the reported words.
    cut = [
        *OPEN,
        (A, "您是说上次同事跟您讲 没有住址证明就"),
        (A, "不行 是吗 那时候可能是要同时更新记录"),
        (C, "对"),
    ]
    assert severities(conversation(cut), "Q5") == set()
    ended = [*OPEN, (A, "您是说上次同事跟您讲 没有住址证明的"), (A, "不行 您得先补材料"), (C, "啊")]
    assert severities(conversation(ended), "Q5") == {"fail"}


def test_always_like_this_said_as_praise() -> None:
    # 诸葛先生你总是这样，每次来都惦记着我们，太客气了 (set br, scored on 1a7e288): the customer
    # brought cakes; praise in the same sentence is no reproach.
    said = "哎呀，诸葛先生你总是这样，每次来都惦记着我们，太客气了，谢谢您！"
    assert severities(conversation(one_turn(said, "自己做的")), "Q5") == set()
    # Found by the hypothesis property on the fix: a bare 谢谢 after it is no praise.
    for said in ("你总是这样，说了多少遍了", "你总是这样。", "你总是这样，谢谢。"):
        assert severities(conversation(one_turn(said, "啊")), "Q5") == {"fail"}, said


def test_set_bv_and_bw_classes() -> None:
    # Scored on the commit after set br's fix. 这个 我也不知道 要看条款细则 (set bv, a miss): a rule
    # named after the words is not a rule read aloud; named before them it still is.
    slip = [*OPEN, (A, "這個 我也不知道 要看條款細則"), (C, "啊")]
    assert severities(conversation(slip), "Q5") == {"fail"}
    read = [*OPEN, (A, "我给您念一下条款：第八条，封闭期内不接受提前赎回，没有例外情形。"), (C, "哦")]
    assert severities(conversation(read), "Q5") == {"review"}
    # 四小时内上门 所有商户都一样 没有例外 (set bw, raw ASR) guarantees a benefit to everyone.
    benefit = [*OPEN, (A, "商户 宽带 故障 是 四 小时 内 上门 所有 商户 都 一样 没有 例外"), (C, "好")]
    assert severities(conversation(benefit), "Q5") == {"review"}
    # 张先生，没有例外 (said alone after an address; found by the hypothesis property) refuses.
    for said in (
        "定制商品不适用七天无理由，没有例外",
        "这个没有例外",
        "没有例外，都要交原件",
        "张先生，没有例外",
    ):
        assert severities(conversation(one_turn(said, "啊")), "Q5") == {"fail"}, said


def test_set_bu_and_bw_comments_on_rules_and_hurried_steps() -> None:
    # 我們的條款要求門診索償要交收據正本，這是公司規定，我也沒辦法 (set bw, a miss): 这是规定 is a
    # comment on a rule, never its text, so naming the rule first does not make it read aloud.
    said = "這個……我們的條款要求門診索償要交收據正本，這是公司規定，我也沒辦法。"
    assert severities(conversation(one_turn(said, "咁點算")), "Q5") == {"fail"}
    # 您别着急挂 (set bu): don't hurry to hang up, a step, not a feeling; 您别着急 still fails.
    assert severities(conversation(one_turn("您别着急挂 我帮您查一下", "好")), "Q5") == set()
    assert severities(conversation(one_turn("您先别着急，慢慢说", "好")), "Q5") == {"fail"}


def test_set_bz_classes() -> None:
    # Scored on dd3ce84 (sets bx, by: no disagreement), fixed after.
    # 麻煩您講一講身份證號碼 (set bz, a miss): 您讲一讲 asks the customer to tell; it reports
    # nobody's words, so the request was taken for reported speech and never seen.
    for said in ("麻煩您講一講身份證號碼嘅英文字母同埋頭四個數字。", "麻烦您讲下身份证号码"):
        assert verdicts(conversation(one_turn(said, "Z1234")), "Q6") == [("fail", "reason")]
    assert severities(conversation(one_turn("您说下午不行，是吗", "对")), "Q5") == set()
    # 您账户上预留的手机号是另一个号码，要不要顺便改成现在这个？ (set bz) reads the data out; the
    # question is about changing it. 预留的手机号是？ still asks.
    told = [
        *OPEN,
        (A, "另外我看您账户上预留的手机号是另一个号码，尾号3301，要不要顺便改成现在这个？"),
        (C, "改吧"),
    ]
    assert severities(conversation(told), "Q6") == set()
    asked = [*OPEN, (A, "请问您预留的手机号是？"), (C, "138")]
    assert severities(conversation(asked), "Q6") == {"fail"}
    # 唔係話一定唔得嘅 (set bz): it need not be refused.
    maybe = [*OPEN, (A, "唔係話一定唔得嘅 就算有部分唔賠 我哋都會寫信解釋原因"), (C, "好")]
    assert severities(conversation(maybe), "Q5") == set()
    # 我邻居上次还投诉你们抄表不准 (set bz): someone else's complaint, told in passing.
    told = [
        *OPEN,
        (C, "我邻居上次还投诉你们抄表不准，我还以为我家也抄错了"),
        (A, "您家是智能表，读数是自动传的"),
    ]
    assert severities(conversation(told, channel="lobby"), "Q9") == set()
    told[2] = (C, "我要投诉你们抄表不准")
    assert "fail" in severities(conversation(told, channel="lobby"), "Q9")


def test_cantonese_time_of_day_greetings() -> None:
    # 下晝好 歡迎嚟到入境處 at 15:20 (set cc, scored on eb6f685): Cantonese for 下午好. 早晨 at
    # 15:20 is still the wrong slot.
    for said, verdict in (("下晝好 歡迎嚟到入境處 有咩可以幫到你", set()), ("早晨 歡迎嚟到入境處", {"fail"})):
        visit = [(A, said), (C, "你好 我想續護照"), (A, "好的")]
        assert severities(conversation(visit, channel="lobby", hour=15), "Q1") == verdict, said


def test_what_the_rules_give_the_customer() -> None:
    # 航班取消免费改签，这是规定里写明的旅客权益 (set ce, scored on e9e3e4f): what the rules give
    # the customer, not rule-hiding. 这是规定里的，没办法 still fails.
    given = [*OPEN, (A, "航班取消免费改签，这是规定里写明的旅客权益，您放心。"), (C, "好")]
    assert severities(conversation(given), "Q5") == set()
    assert severities(conversation(one_turn("这是规定里的，没办法", "啊")), "Q5") == {"fail"}


def test_ushering_asks_for_no_data() -> None:
    # 马先生，这边请，修改预留手机号可以在智能柜台办 (set cd, scored on e9e3e4f): 这边请 ushers
    # the customer; the errand is named, nothing asked. 请报一下预留手机号 still asks.
    ushered = [*OPEN, (A, "马先生，这边请，修改预留手机号可以在智能柜台办，我陪您一起操作。"), (C, "好")]
    assert severities(conversation(ushered, channel="lobby"), "Q6") == set()
    asked = [*OPEN, (A, "马先生，请报一下预留手机号。"), (C, "138")]
    assert severities(conversation(asked, channel="lobby"), "Q6") == {"fail"}
