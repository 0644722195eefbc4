"""The text layer: normalisation with its offset map, the Q5 phrase matcher, and its helpers."""

from __future__ import annotations

import json
import subprocess
import unicodedata
from pathlib import Path

import pydantic
import pytest

from tierrules import text as _text
from tierrules.evaluation.etiquette import default_matcher
from tierrules.ruleset.etiquette import PhraseSpec, default_phrases, phrase_problems
from tierrules.text import Match, PhraseMatcher, char_count, contains_any, normalize

DEFAULT_FORBIDDEN = default_phrases()

# docs/policy.md Q5, in its order.
POLICY_Q5 = [
    "不行",
    "不可能",
    "我不知道",
    "这个我不管",
    "你这样做不对",
    "这是规定",
    "没有例外",
    "我们规定如此",
    "您不了解我们的工作",
    "要么接受要么离开",
    "你总是这样",
    "你太不负责",
    "请您别着急",
]


def found(text: str) -> list[tuple[str, int, int, str]]:
    return [(m.phrase_id, m.start, m.end, m.text) for m in default_matcher().find(text)]


def ids(text: str) -> list[str]:
    return [m.phrase_id for m in default_matcher().find(text)]


# --- the default Q5 list ---------------------------------------------------------------------


def test_default_list_is_the_policy_list() -> None:
    assert [spec.phrase for spec in DEFAULT_FORBIDDEN] == POLICY_Q5
    assert all(spec.id.startswith("Q5.") for spec in DEFAULT_FORBIDDEN)
    assert len({spec.id for spec in DEFAULT_FORBIDDEN}) == len(DEFAULT_FORBIDDEN)
    assert phrase_problems(DEFAULT_FORBIDDEN) == []


@pytest.mark.parametrize("spec", DEFAULT_FORBIDDEN, ids=lambda s: s.id)
def test_each_default_phrase_is_found_alone(spec: PhraseSpec) -> None:
    assert found(spec.phrase) == [(spec.id, 0, len(spec.phrase), spec.phrase)]


@pytest.mark.parametrize(
    ("spec", "context"),
    [(spec, context) for spec in DEFAULT_FORBIDDEN for context in spec.contexts()],
    ids=lambda v: v if isinstance(v, str) else v.id,
)
def test_each_allow_context_hides_its_phrase(spec: PhraseSpec, context: str) -> None:
    assert spec.phrase in context
    assert ids(context) == []
    assert ids(f"您好，{context}。") == []


def test_suggested_replacements_from_the_sources() -> None:
    by_id = {spec.id: spec for spec in DEFAULT_FORBIDDEN}
    assert "我们可以尝试" in by_id["Q5.bu-xing"].suggest
    assert "我们可以尝试" in by_id["Q5.bu-ke-neng"].suggest
    assert "让我为您查询" in by_id["Q5.wo-bu-zhi-dao"].suggest
    assert by_id["Q5.qing-nin-bie-zhao-ji"].suggest == ("谢谢您的耐心",)


# --- the cases the issue names ---------------------------------------------------------------


def test_traditional_input_matched_with_the_original_characters_as_evidence() -> None:
    text = "您好，這是規定。"
    [m] = default_matcher().find(text)
    assert (m.phrase_id, m.start, m.end, m.text) == ("Q5.zhe-shi-gui-ding", 3, 7, "這是規定")
    assert text[m.start : m.end] == "這是規定"
    assert m.evidence == {"text": "這是規定", "start": 3, "end": 7}


def test_taiwan_form_of_qing_nin_bie_zhao_ji() -> None:
    # OpenCC's standard t2s keeps 著; the variant fold makes 著急 着急.
    assert found("請您別著急，馬上好") == [("Q5.qing-nin-bie-zhao-ji", 0, 5, "請您別著急")]


@pytest.mark.parametrize(
    "text",
    [
        "并非不可能",
        "並非不可能",
        "这并不是不可能的",
        "这也不是不可能",
        "绝非不可能",
        "不是说不可能",
        "我们不可能不管您",
    ],
)
def test_negated_bu_ke_neng_not_flagged(text: str) -> None:
    assert ids(text) == []


def test_bu_ke_neng_flagged() -> None:
    assert found("这不可能。") == [("Q5.bu-ke-neng", 1, 4, "不可能")]


def test_prescribed_time_limit_is_not_zhe_shi_gui_ding() -> None:
    assert ids("这是规定的办理时限，一般两个工作日") == []
    assert ids("這是規定的辦理時限") == []
    assert ids("这是规定。") == ["Q5.zhe-shi-gui-ding"]
    assert ids("这是规定的。") == ["Q5.zhe-shi-gui-ding"]  # sentence-final: still hiding behind the rule


@pytest.mark.parametrize(
    "text",
    ["行不行", "这样处理行不行？", "方案可行不行", "不行的话我们可以为您换货", "实在不行，我们给您换货"],
)
def test_bu_xing_in_questions_and_conditionals_not_flagged(text: str) -> None:
    assert ids(text) == []


def test_plain_bu_xing_flagged() -> None:
    assert found("不行") == [("Q5.bu-xing", 0, 2, "不行")]
    assert found("这个真的不行。") == [("Q5.bu-xing", 4, 6, "不行")]


def test_bu_xing_bu_xing_is_two_refusals() -> None:
    # Forward maximum matching: at 0 the longest entry is 不行, not the 行不行 starting at 1.
    assert found("不行不行") == [("Q5.bu-xing", 0, 2, "不行"), ("Q5.bu-xing", 2, 4, "不行")]


def test_wo_bu_zhi_dao() -> None:
    assert found("我不知道。") == [("Q5.wo-bu-zhi-dao", 0, 4, "我不知道")]
    assert ids("我不知道您是否方便接听") == []
    assert ids("我们不知道具体原因") == []  # other words: 我们 + 不知道


def test_zhe_ge_wo_bu_guan_versus_no_matter() -> None:
    assert ids("这个我不管。") == ["Q5.zhe-ge-wo-bu-guan"]
    assert ids("这个我不管怎样都会帮您处理") == []


def test_overlapping_default_phrases() -> None:
    # 这是规定 is not inside 我们规定如此; in 这是我们规定如此 only the second is there.
    assert found("这是我们规定如此") == [("Q5.wo-men-gui-ding-ru-ci", 2, 8, "我们规定如此")]


def test_overlapping_forbidden_phrases_reported_once() -> None:
    matcher = PhraseMatcher(
        [
            PhraseSpec(id="x.zhen-de-bu-xing", phrase="真的不行"),
            PhraseSpec(id="x.bu-xing", phrase="不行"),
            PhraseSpec(id="x.zhi-dao-le", phrase="知道了"),
            PhraseSpec(id="x.wo-bu-zhi-dao", phrase="我不知道"),
        ]
    )
    assert [(m.phrase_id, m.start, m.end) for m in matcher.find("真的不行")] == [("x.zhen-de-bu-xing", 0, 4)]
    # 我不知道 [0,4) and 知道了 [2,5) overlap: the leftmost is reported, once.
    assert [(m.phrase_id, m.start, m.end) for m in matcher.find("我不知道了")] == [("x.wo-bu-zhi-dao", 0, 4)]


def test_phrases_splitting_one_expanded_character_reported_once() -> None:
    # '…' normalises to '...': "不." and "..不" each need part of it, and it is reported once.
    matcher = PhraseMatcher([PhraseSpec(id="x.a", phrase="不."), PhraseSpec(id="x.b", phrase="..不")])
    assert normalize("不…不").text == "不...不"
    assert [(m.phrase_id, m.start, m.end, m.text) for m in matcher.find("不…不")] == [("x.a", 0, 2, "不…")]


def test_multiple_matches_with_spans() -> None:
    text = "不行，这是规定，没有例外。你太不负责任了"
    assert found(text) == [
        ("Q5.bu-xing", 0, 2, "不行"),
        ("Q5.zhe-shi-gui-ding", 3, 7, "这是规定"),
        ("Q5.mei-you-li-wai", 8, 12, "没有例外"),
        ("Q5.ni-tai-bu-fu-ze", 13, 18, "你太不负责"),
    ]
    for m in default_matcher().find(text):
        assert text[m.start : m.end] == m.text


# --- widths, spaces, punctuation -------------------------------------------------------------


@pytest.mark.parametrize("space", [" ", "\u3000", "\t", "  ", "\u00a0", "\n"])
def test_whitespace_inside_a_phrase_is_squeezed_away(space: str) -> None:
    text = f"不{space}可能！"
    assert found(text) == [("Q5.bu-ke-neng", 0, 3 + len(space), f"不{space}可能")]


def test_punctuation_inside_a_phrase_breaks_it() -> None:
    assert ids("不，可能") == []
    assert ids("不、行") == []
    assert ids("不,行") == []


def test_full_and_half_width_punctuation_normalise_alike() -> None:
    assert normalize("早上好，欢迎光临！").text == normalize("早上好,欢迎光临!").text == "早上好,欢迎光临!"
    assert normalize("“你好”【注意】《规定》、。…").text == '"你好"[注意]<规定>,....'
    assert normalize("「請稍候」").text == '"请稍候"'


def test_whitespace_squeezing() -> None:
    assert normalize("  不 可能  ").text == "不可能"
    assert normalize("call   10086 now").text == "call 10086 now"
    assert normalize("OK 不行").text == "ok不行"
    assert normalize("hello , world").text == "hello,world"
    n = normalize("call   10086")
    assert n.span(4, 5) == (4, 7)  # the one space stands for the whole run


def test_case_folding_and_full_width_latin() -> None:
    assert normalize("ＶＩＰ Customer").text == "vip customer"
    assert contains_any("Hello WORLD", ["hello world"]) == Match("hello world", 0, 11, "Hello WORLD")


# --- the offset map --------------------------------------------------------------------------


def test_astral_characters_before_a_match_count_as_one() -> None:
    assert found("😀🀄𠮷 不行") == [("Q5.bu-xing", 4, 6, "不行")]
    family = "👨\u200d👩\u200d👧"  # five code points, ZWJs dropped by normalisation
    assert found(family + "不行") == [("Q5.bu-xing", 5, 7, "不行")]
    assert found("👍🏻\ufe0f不行") == [("Q5.bu-xing", 3, 5, "不行")]


def test_expansions_before_a_match() -> None:
    assert normalize("ﬁ").text == "fi"
    assert found("ﬁ不行") == [("Q5.bu-xing", 1, 3, "不行")]
    assert found("…不行") == [("Q5.bu-xing", 1, 3, "不行")]
    assert found("Straße不行") == [("Q5.bu-xing", 6, 8, "不行")]


def test_expanded_character_maps_back_whole() -> None:
    n = normalize("aﬁb")
    assert n.text == "afib"
    assert n.span(1, 2) == n.span(2, 3) == n.span(1, 3) == (1, 2)
    assert n.original_text(0, 4) == "aﬁb"


def test_compositions_are_one_cluster() -> None:
    n = normalize("e\u0301不行")
    assert n.text == "é不行"
    assert n.span(0, 1) == (0, 2)
    assert found("e\u0301不行") == [("Q5.bu-xing", 2, 4, "不行")]
    assert normalize("ｶﾞ").text == "ガ" and normalize("ｶﾞ").span(0, 1) == (0, 2)
    assert normalize("\u1100\u1161").text == "가"  # conjoining Hangul jamo compose
    assert normalize("\u1100\u1161").span(0, 1) == (0, 2)
    assert normalize("a\u200b\u0301").text == "á"  # an accent reaches its base across a ZWSP
    assert normalize("a\u3000\u0301b").text == "ab"  # an accent on a dropped space goes with it


def test_invisible_characters_inside_a_phrase() -> None:
    assert found("不\u200b行") == [("Q5.bu-xing", 0, 3, "不\u200b行")]
    assert found("\ufeff不行") == [("Q5.bu-xing", 1, 3, "不行")]


def test_lone_surrogate_does_not_break_conversion() -> None:
    assert found("\ud800不行") == [("Q5.bu-xing", 1, 3, "不行")]


def test_empty_and_blank_text() -> None:
    assert normalize("").text == ""
    assert normalize("").span(0, 0) == (0, 0)
    assert normalize("   ").text == ""
    assert normalize("   ").span(0, 0) == (3, 3)
    assert default_matcher().find("") == []
    assert char_count("") == 0


def test_span_rejects_out_of_range() -> None:
    with pytest.raises(IndexError):
        normalize("不行").span(1, 3)
    with pytest.raises(IndexError):
        normalize("不行").span(2, 1)


def test_find_accepts_a_normalized_text() -> None:
    n = normalize("您好，這是規定")
    assert default_matcher().find(n) == default_matcher().find(n.original)


# --- traditional → simplified ----------------------------------------------------------------


def test_opencc_phrase_context_and_variants() -> None:
    assert normalize("乾燥").text == "干燥"
    assert normalize("乾隆").text == "乾隆"  # phrase-level: the name keeps 乾
    assert normalize("衞生").text == "卫生"  # Hong Kong variant
    assert normalize("瞭解").text == "了解"


def test_simplified_text_is_left_alone() -> None:
    # tw2s would turn 么 into 幺 here; t2s plus our variant fold does not.
    for text in ["这样行么", "要么接受要么离开", "后来面条里面只有一个", "请您别着急"]:
        assert normalize(text).text == text


def test_length_changing_conversion_falls_back_to_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    # No OpenCC t2s entry changes length (next test); this is the guard should one ever do.
    def convert(text: str) -> str:
        return text.replace("规定", "规矩定").replace("乙", "乙乙").replace("這", "这")

    monkeypatch.setattr(_text, "_t2s", lambda: convert)
    n = normalize("甲這是规定乙")
    assert n.text == "甲这是规定乙乙"  # character by character: the phrase rule no longer applies
    assert n.original_text(1, 2) == "這"
    assert n.original_text(6, 7) == n.original_text(5, 7) == "乙"
    assert n.original_text(3, 5) == "规定"


def test_opencc_t2s_tables_preserve_length(tmp_path: Path) -> None:
    """Every entry of the installed t2s tables has a value as long as its key.

    This is what makes the whole-text conversion's position k map to original position k.
    """
    import opencc

    clib = Path(opencc.__file__).parent / "clib"
    tool = clib / "bin" / "opencc_dict"
    # pyproject pins OpenCC 1.4.x, whose wheel ships the tool and the tables here; a build
    # without them is a change to look at, not a reason to skip.
    assert tool.exists() and (clib / "share" / "opencc" / "t2s.json").exists(), clib
    config = json.loads((clib / "share" / "opencc" / "t2s.json").read_text(encoding="utf-8"))
    files = [config["normalization"][0]["dict"]["file"]]
    files += [d["file"] for d in config["conversion_chain"][0]["dict"]["dicts"]]
    assert "TSPhrases.ocd2" in files
    for name in files:
        out = tmp_path / f"{name}.txt"
        subprocess.run(
            [
                str(tool),
                "-i",
                str(clib / "share" / "opencc" / name),
                "-o",
                str(out),
                "-f",
                "ocd2",
                "-t",
                "text",
            ],
            check=True,
            capture_output=True,
        )
        lines = out.read_text(encoding="utf-8").splitlines()
        assert lines, name
        for line in lines:
            key, _, values = line.partition("\t")
            assert all(len(value) == len(key) for value in values.split(" ")), (name, line)


# --- the fast path's claims, checked exhaustively ---------------------------------------------


def test_regular_characters_fold_to_one_and_join_nothing() -> None:
    ranges = [(0x09, 0x0D), (0x20, 0x7E), (0x2013, 0x201F), (0x3000, 0x303F), (0x3400, 0x4DBF)]
    ranges += [(0x4E00, 0x9FFF), (0xFF01, 0xFF60)]
    for lo, hi in ranges:
        for code in range(lo, hi + 1):
            ch = chr(code)
            if _text._REGULAR.fullmatch(ch):
                assert len(_text._fold(ch)) == 1, hex(code)
                assert not _text._joins(ch), hex(code)


def test_every_second_member_of_a_composition_joins() -> None:
    for code in range(0x30000):
        decomposition = unicodedata.decomposition(chr(code))
        if decomposition and not decomposition.startswith("<") and len(decomposition.split()) == 2:
            second = chr(int(decomposition.split()[1], 16))
            assert _text._joins(second), hex(ord(second))
    # Hangul syllables compose algorithmically: vowels and finals join.
    assert _text._joins("\u1161") and _text._joins("\u11a8")
    assert not _text._joins("\u1100")


# --- phrase specs and matcher construction ---------------------------------------------------


def test_phrase_spec_is_strict_and_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        PhraseSpec(id="Q5.x", phrase="不行", alow=["行不行"])  # type: ignore[call-arg]
    with pytest.raises(pydantic.ValidationError):
        PhraseSpec(id="Q5.x", phrase="  ")
    with pytest.raises(pydantic.ValidationError):
        PhraseSpec(id="5 bad", phrase="不行")
    with pytest.raises(pydantic.ValidationError):
        PhraseSpec(id="Q5.x", phrase="不行", allow=("",))
    spec = PhraseSpec.model_validate({"id": "Q5.x", "phrase": "不行", "allow": ["行不行"], "negations": []})
    assert spec.allow == ("行不行",)
    with pytest.raises(pydantic.ValidationError):
        spec.phrase = "不可能"
    assert hash(spec) == hash(spec.model_copy())


def test_contexts_are_allow_plus_negated_forms() -> None:
    spec = PhraseSpec(id="Q5.x", phrase="不可能", allow=("没有不可能",), negations=("并非",))
    assert spec.contexts() == ("没有不可能", "并非不可能")


def problem_paths(specs: list[PhraseSpec]) -> list[str]:
    return [p.json_path for p in phrase_problems(specs)]


def test_problems_are_located() -> None:
    assert problem_paths([PhraseSpec(id="a", phrase="不行"), PhraseSpec(id="a", phrase="不可能")]) == [
        "$[1].id"
    ]
    # the same phrase once simplified
    assert problem_paths([PhraseSpec(id="a", phrase="这是规定"), PhraseSpec(id="b", phrase="這是規定")]) == [
        "$[1].phrase"
    ]
    assert problem_paths([PhraseSpec(id="a", phrase="！")]) == []  # punctuation is a phrase too
    assert problem_paths([PhraseSpec(id="a", phrase="\u200b")]) == ["$[0].phrase"]  # normalises to nothing


def test_allow_context_must_contain_its_phrase_and_be_longer() -> None:
    assert problem_paths(
        [
            PhraseSpec(
                id="a",
                phrase="不行",
                allow=(
                    "可以",
                    "不 行",
                ),
            )
        ]
    ) == [
        "$[0].allow[0]",
        "$[0].allow[1]",
    ]


def test_allowed_text_cannot_be_forbidden_elsewhere() -> None:
    specs = [PhraseSpec(id="a", phrase="行", allow=("不行",)), PhraseSpec(id="b", phrase="不行")]
    [problem] = phrase_problems(specs)
    assert problem.json_path == "$[0].allow[0]" and "'b'" in problem.message


def test_allow_context_must_not_hide_another_phrase() -> None:
    specs = [PhraseSpec(id="a", phrase="不可能", allow=("不可能不行",)), PhraseSpec(id="b", phrase="不行")]
    [problem] = phrase_problems(specs)
    assert problem.json_path == "$[0].allow[0]" and "'b'" in problem.message
    # Hiding a phrase inside one's own is intended: 真的不行 allowed in 不是真的不行 hides its 不行.
    ok = [PhraseSpec(id="a", phrase="真的不行", negations=("不是",)), PhraseSpec(id="b", phrase="不行")]
    assert phrase_problems(ok) == []
    assert PhraseMatcher(ok).find("不是真的不行") == []


def test_problems_carry_a_path_prefix() -> None:
    specs = [PhraseSpec(id="a", phrase="不行"), PhraseSpec(id="a", phrase="不可能")]
    [problem] = phrase_problems(specs, ("etiquette", "forbidden"))
    assert problem.json_path == "$.etiquette.forbidden[1].id"


def test_empty_matcher_finds_nothing() -> None:
    assert PhraseMatcher([]).find("不行") == []


def test_latin_phrases_match_whole_words_only() -> None:
    assert contains_any("click here", ["li"]) is None
    assert contains_any("Kali", ["li"]) is None  # a word's end is no word's start
    assert contains_any("lid", ["li"]) is None
    assert contains_any("Mr Li, hello", ["li"]) == Match("li", 3, 5, "Li")
    assert contains_any("尊敬的VIP客户", ["vip"]) == Match("vip", 3, 6, "VIP")  # Chinese is no word
    assert contains_any("VIP2", ["vip"]) is None
    assert contains_any("我不行了", ["不行"]) == Match("不行", 1, 3, "不行")  # nor is there one in Chinese
    assert contains_any("piano wayfarer", ["no way"]) is None


def test_latin_phrases() -> None:
    matcher = PhraseMatcher([PhraseSpec(id="x.no-way", phrase="No way", allow=("no way to lose",))])
    assert [m.text for m in matcher.find("Well, NO   WAY!")] == ["NO   WAY"]
    assert matcher.find("there is no way to lose it") == []


# --- helpers for the other checks ------------------------------------------------------------


def test_contains_any_greeting() -> None:
    text = "早上好, 歡迎光臨某某銀行"
    m = contains_any(text, ["下午好，欢迎光临", "早上好，欢迎光临"])
    assert m == Match("早上好，欢迎光临", 0, 9, "早上好, 歡迎光臨")
    assert contains_any(text, ["晚上好"]) is None
    assert contains_any(text, []) is None
    assert contains_any(text, [" "]) is None  # normalises to nothing: never matches


def test_contains_any_leftmost_then_longest() -> None:
    m = contains_any("您好，这里是某某，我是客服小王", ["我是客服", "这里是", "这里是某某"])
    assert m is not None and (m.phrase_id, m.start, m.end) == ("这里是某某", 3, 8)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("您好", 2),
        ("您好，这里是XX，我是客服小王。", 12),  # XX is one word
        ("VIP客户", 3),
        ("工单号 20261124", 11),  # digits are read one by one
        ("ＶＩＰ　１２３", 4),  # full-width: as ASCII
        ("don't worry", 2),
        ("😀！？ ，…", 0),
        ("請稍候", 3),
    ],
)
def test_char_count(text: str, count: int) -> None:
    assert char_count(text) == count
