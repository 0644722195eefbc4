"""Properties of normalisation and phrase matching on random text.

The central one: normalisation keeps spans pointing at the original characters, whatever
NFKC, case-folding, the punctuation map, OpenCC and whitespace squeezing did to lengths.
"""

from __future__ import annotations

import random
import unicodedata

import opencc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierrules import text as _text
from tierrules.evaluation.etiquette import default_matcher
from tierrules.ruleset.etiquette import default_phrases
from tierrules.text import Match, Normalized, PhraseMatcher, normalize

DEFAULT_FORBIDDEN = default_phrases()

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MATCHER = default_matcher()
KEYS = {spec.id: _text._key(spec.phrase) for spec in DEFAULT_FORBIDDEN}

# Characters where normalisation changes lengths or composes: ligatures, expansions, combining
# marks, half-width kana voicing, conjoining jamo, invisible format characters, astral chars.
TRICKY = [
    "ﬁ", "ﬀ", "ß", "İ", "…", "⋯", "\u0301", "\u0323", "e\u0301", "ｶ", "ﾞ", "\u1100", "\u1161", "\u11a8",
    "\u200b", "\u200d", "\ufeff", "\ufe0f", "😀", "👍🏻", "𠮷", "🀄", "\u3000", "\u00a0", " ", "\t", "\n",
    "，", "。", "！", "？", "、", "“", "”", "【", "】", "《", "》", "Ａ", "１", "Ⅻ", "㎏", "①", "\ud800",
    "x", "7", "  \t", " \u3000 ",
]  # fmt: skip

_S2T = opencc.OpenCC("s2t")
_S2TW = opencc.OpenCC("s2tw")


def _variants(text: str) -> list[str]:
    """The text and its traditional forms (OpenCC standard and Taiwan), all the same length."""
    forms = {text, _S2T.convert(text), _S2TW.convert(text)}
    return sorted(form for form in forms if len(form) == len(text))


FRAGMENTS = sorted(
    {
        form
        for spec in DEFAULT_FORBIDDEN
        for text in (spec.phrase, *spec.contexts())
        for form in _variants(text)
    }
    | {
        form
        for text in [
            "您好",
            "请问",
            "我们可以尝试",
            "让我为您查询",
            "谢谢您的耐心",
            "是的",
            "好的",
            "行",
            "不",
        ]
        for form in _variants(text)
    }
)
# Noise that can neither form nor complete a phrase: no Chinese characters, and nothing that
# composes with the character before it.
NOISE = st.lists(
    st.sampled_from([*"abcXYZ019 ,.!?", "😀", "👍🏻", "𠮷", "ﬁ", "…", "Ａ", "，", "。", "\u3000", "\u200b"]),
    max_size=6,
).map("".join)


def utterances() -> st.SearchStrategy[str]:
    """Text built from phrase fragments (simplified and traditional), noise and tricky chars."""
    part = st.one_of(st.sampled_from(FRAGMENTS), NOISE, st.sampled_from(TRICKY))
    return st.lists(part, max_size=12).map("".join)


def any_text() -> st.SearchStrategy[str]:
    return st.lists(
        st.one_of(st.text(max_size=8), st.sampled_from(TRICKY), st.sampled_from(FRAGMENTS)), max_size=10
    ).map("".join)


def assert_map_well_formed(n: Normalized) -> None:
    assert len(n.starts) == len(n.ends) == len(n.text)
    for k in range(len(n.text)):
        assert 0 <= n.starts[k] < n.ends[k] <= len(n.original)
        if k:
            # non-decreasing, and clusters never partly overlap: the same or disjoint
            assert n.starts[k - 1] <= n.starts[k] and n.ends[k - 1] <= n.ends[k]
            same = (n.starts[k - 1], n.ends[k - 1]) == (n.starts[k], n.ends[k])
            assert same or n.ends[k - 1] <= n.starts[k]


# --- normalisation ---------------------------------------------------------------------------


@SETTINGS
@given(any_text())
def test_offset_map_is_well_formed(text: str) -> None:
    n = normalize(text)
    assert n.original == text
    assert_map_well_formed(n)


@SETTINGS
@given(any_text())
def test_a_squeezed_space_stands_for_its_whole_run(text: str) -> None:
    n = normalize(text)
    for k in range(1, len(n.text) - 1):
        if n.text[k] == " ":
            before, after = text[n.ends[k - 1] : n.starts[k]], text[n.ends[k] : n.starts[k + 1]]
            assert not any(ch.isspace() for ch in before + after)
            # and only for whitespace (and invisibles), unless it shares a cluster with a neighbour
            shares = (n.starts[k], n.ends[k]) in {(n.starts[j], n.ends[j]) for j in (k - 1, k + 1)}
            assert shares or all(
                ch.isspace() or not normalize(ch).text for ch in text[n.starts[k] : n.ends[k]]
            )


@SETTINGS
@given(any_text(), st.data())
def test_every_span_maps_to_a_contiguous_original_span(text: str, data: st.DataObject) -> None:
    n = normalize(text)
    i = data.draw(st.integers(0, len(n.text)))
    j = data.draw(st.integers(i, len(n.text)))
    a, b = n.span(i, j)
    assert 0 <= a <= b <= len(text)
    if i < j:
        assert n.original_text(i, j) == text[a:b] != ""


def _no_han(ch: str) -> bool:
    return not any(_text._is_han(c) for c in unicodedata.normalize("NFKC", ch))


NO_HAN = st.lists(st.characters(codec=None).filter(_no_han) | st.sampled_from(TRICKY), max_size=30).map(
    "".join
)


@SETTINGS
@given(NO_HAN)
def test_each_character_comes_from_its_original_characters(text: str) -> None:
    """Normalising the original characters behind text[k] on their own gives text[k] back.

    Without Chinese characters, where OpenCC's phrase context could convert a character
    differently alone than in its phrase (乾 in 乾隆).
    """
    n = normalize(text)
    for k, ch in enumerate(n.text):
        alone = normalize(text[n.starts[k] : n.ends[k]]).text
        if ch == " ":
            assert any(c.isspace() for c in text[n.starts[k] : n.ends[k]])  # a squeezed run
        else:
            assert ch in alone


@SETTINGS
@given(NO_HAN)
def test_cluster_folding_equals_whole_text_folding(text: str) -> None:
    """Folding cluster by cluster (for the offset map) is folding the text at once (NFKC's meaning)."""
    whole = _text._fold(text)
    if not any(ch.isspace() for ch in whole):
        assert normalize(text).text == whole


@SETTINGS
@given(utterances())
def test_normalisation_is_idempotent_on_its_output(text: str) -> None:
    once = normalize(text).text
    assert normalize(once).text == once


# --- matching --------------------------------------------------------------------------------


@SETTINGS
@given(utterances())
def test_matches_point_at_the_original_characters(text: str) -> None:
    matches = MATCHER.find(text)
    end = 0
    for m in matches:
        assert m.text == text[m.start : m.end]
        assert KEYS[m.phrase_id] in normalize(m.text).text
        assert m.start >= end  # left to right, never overlapping
        end = m.end


@SETTINGS
@given(utterances(), NOISE, NOISE)
def test_noise_before_shifts_spans_by_its_length(text: str, noise: str, more: str) -> None:
    prefix = noise + more
    shifted = [
        Match(m.phrase_id, m.start + len(prefix), m.end + len(prefix), m.text) for m in MATCHER.find(text)
    ]
    assert MATCHER.find(prefix + text) == shifted


@SETTINGS
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8), st.sampled_from(["", " ", "，", "😀", "ab"]))
def test_traditional_and_simplified_match_alike(fragments: list[str], separator: str) -> None:
    simplified = separator.join(normalize(f).text for f in fragments)
    traditional = separator.join(fragments)
    assert len(simplified) == len(traditional)
    spans = [(m.phrase_id, m.start, m.end) for m in MATCHER.find(traditional)]
    assert spans == [(m.phrase_id, m.start, m.end) for m in MATCHER.find(simplified)]


@SETTINGS
@given(utterances(), st.randoms(use_true_random=False))
def test_matching_is_deterministic_and_independent_of_list_order(text: str, rnd: random.Random) -> None:
    first = MATCHER.find(text)
    assert MATCHER.find(text) == first
    assert MATCHER.find(normalize(text)) == first
    shuffled = list(DEFAULT_FORBIDDEN)
    rnd.shuffle(shuffled)
    assert PhraseMatcher(shuffled).find(text) == first


@SETTINGS
@given(utterances())
def test_a_phrase_found_is_found_again_in_its_evidence(text: str) -> None:
    for m in MATCHER.find(text):
        again = MATCHER.find(m.text)
        assert [a.phrase_id for a in again] == [m.phrase_id]
        assert (again[0].start, again[0].end) == (0, len(m.text))
