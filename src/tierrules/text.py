"""The text layer of the etiquette checks: normalisation, phrase matching and pace counting.

Utterances are matched after :func:`normalize` (NFKC, case-folding, a Chinese punctuation map,
traditional → simplified with OpenCC, whitespace squeezing). Matching never looks at the text
as received, but every match reports the characters *as received* and their span in it: the
normalised text carries an offset map back to the original, exact even where normalisation
changes lengths ('ﬁ' → 'fi', '…' → '...', a base letter and its combining accent → one letter).
Offsets are Python ``str`` indices (code points), so emoji and other astral characters count
as one.

Forbidden phrases (Q5) are found by :class:`PhraseMatcher` with leftmost-longest semantics
(forward maximum matching, the classic dictionary segmentation for Chinese): allow-list
contexts (行不行 for 不行) and negated forms (并非不可能) are entries of the same dictionary as the
forbidden phrases, so the longest entry at a position wins and a context consumes the
phrase inside it. The matcher is speaker-agnostic: the Q5 check passes it agent turns only.

All matching is done here in Python: durable_rules' regex operator is broken (see
docs/durable_rules.md), so the rules only ever see the results.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "Match",
    "Normalized",
    "PhraseEntry",
    "PhraseMatcher",
    "char_count",
    "contains_any",
    "normalize",
]

# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

# Chinese punctuation NFKC leaves alone, mapped to the ASCII that NFKC gives its full-width
# cousins (，→ , ！→ ! ？→ ? ；→ ; ：→ : （）→ ()): one canonical form for both widths.
_PUNCT = str.maketrans(
    {
        "。": ".",
        "、": ",",
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "〝": '"',
        "〞": '"',
        "〟": '"',
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "【": "[",
        "】": "]",
        "〔": "[",
        "〕": "]",
        "〖": "[",
        "〗": "]",
        "〘": "[",
        "〙": "]",
        "〚": "[",
        "〛": "]",
        "《": "<",
        "》": ">",
        "〈": "<",
        "〉": ">",
        "⋯": "...",  # NFKC already turns … into ...
        "—": "-",
        "–": "-",
        "―": "-",
        "─": "-",
        "〜": "~",
    }
)

# Regional variants OpenCC's standard t2s keeps distinct. Taiwan and Hong Kong write 著急 and
# 衞 where the mainland writes 着急 and 卫; tw2s / hk2s would fold them, but tw2s also rewrites
# *simplified* text (isolated 么 → 幺, 这样行么 → 这样行幺), so we run t2s, which leaves
# simplified text untouched, and fold these few ourselves. The normalised text is a matching
# key, never shown, so folding 著 everywhere (显著 → 显着) costs nothing.
_VARIANTS = str.maketrans(
    {
        "著": "着",
        "衞": "卫",
        "衹": "只",
        "枱": "台",
        "敍": "叙",
        "粧": "妆",
        "糭": "粽",
        "痺": "痹",
        "睪": "睾",
        "簷": "檐",
    }
)

_VARIANT_CHARS = re.compile("[" + "".join(chr(code) for code in _VARIANTS) + "]")
_CACHE_LIMIT = 1 << 16  # distinct characters remembered; past it, folds are computed, not stored


def _is_cjk(ch: str) -> bool:
    """Han ideographs, kana and CJK symbols: scripts written without spaces between words."""
    return (
        "\u2e80" <= ch <= "\u9fff"
        or "\uf900" <= ch <= "\ufaff"
        or "\uff66" <= ch <= "\uff9f"
        or "\U00020000" <= ch <= "\U0003ffff"
    )


def _is_han(ch: str) -> bool:
    return (
        "\u3400" <= ch <= "\u4dbf"
        or "\u4e00" <= ch <= "\u9fff"
        or "\uf900" <= ch <= "\ufaff"
        or "\U00020000" <= ch <= "\U0003ffff"
        or ch == "〇"
    )


def _spaced(ch: str) -> bool:
    """A letter or digit of a script that separates words with spaces (Latin, digits, Hangul...)."""
    return ch.isalnum() and not _is_cjk(ch)


def _visible(ch: str) -> str:
    """The character, or nothing for an invisible format character; U+FFFD for a lone surrogate."""
    category = unicodedata.category(ch)
    if category == "Cf" or "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef":
        return ""  # zero-width spaces, joiners, BOM, bidi marks, variation selectors
    # A lone surrogate cannot be encoded for OpenCC; U+FFFD keeps the length.
    return "\ufffd" if category == "Cs" else ch


def _fold(chars: str) -> str:
    """Drop invisible format characters; NFKC, case-fold, the punctuation map."""
    if not chars.isascii():
        # Before NFKC, so that a base and its accent compose across a zero-width space.
        chars = "".join(map(_visible, chars))
    text = unicodedata.normalize("NFKC", chars)
    # casefold can leave text that is not NFKC ('İ' → 'i̇'), hence the second pass.
    return unicodedata.normalize("NFKC", text.casefold()).translate(_PUNCT)


def _joins(ch: str) -> bool:
    """Whether NFKC may combine this character with the one before it.

    True for combining marks (including the half-width kana voicing marks, whose NFKD is one)
    and for conjoining Hangul vowels and finals: every second member of a canonical
    composition is one of these.
    """
    first = unicodedata.normalize("NFKD", ch)[0]
    return (
        unicodedata.combining(first) != 0
        or unicodedata.category(first) in ("Mn", "Mc", "Me")
        or "\u1160" <= first <= "\u11ff"
        or "\ud7b0" <= first <= "\ud7ff"
    )


class _FoldTable(dict[int, str]):
    """``str.translate`` table folding every character, filled on first sight of each.

    ``text.translate(_FOLDS)`` folds a whole text in C; a miss computes the fold once and
    records whether the character is irregular (folds to other than one character) or is
    normalised together with the character before it (:func:`_joins`, or invisible), which is
    when the offset map needs the slow path. Dict reads and writes are atomic under the GIL,
    so the table is safe to share between threads.
    """

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        folded = _fold(ch)
        if len(folded) != 1:
            _IRREGULAR.add(ch)
        if _joins(ch) or not folded:
            # An invisible character joins the cluster before it too, so that an accent after
            # it still reaches its base ('a', ZWSP, U+0301 is 'á').
            _JOINERS.add(ch)
        if len(self) < _CACHE_LIMIT:
            self[code] = folded
        return folded


# Characters known to fold to exactly one character on their own, that never join the one
# before them (the test suite checks every one): most Chinese text is only these, and skips
# the per-character checks.
_REGULAR = re.compile(
    "[\t\n\r\x20-\x7e\u2013-\u2016\u2018-\u201f\u3000-\u3029\u3030-\u303f"
    "\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff60]*"
)
_IRREGULAR: set[str] = set()
_JOINERS: set[str] = set()
_FOLDS = _FoldTable()
_SPACES = re.compile(r"\s+")
_IDENTITY = tuple(range(4097))


def _identity(n: int) -> tuple[Sequence[int], Sequence[int]]:
    """The offset map of a text whose characters each folded to one: k came from k."""
    if n < len(_IDENTITY):
        return _IDENTITY[:n], _IDENTITY[1 : n + 1]
    return range(n), range(1, n + 1)


@functools.cache
def _t2s() -> Callable[[str], str]:
    """OpenCC's traditional → simplified converter, loaded on first use (~25 ms)."""
    import opencc

    try:
        converter = opencc.OpenCC("t2s.json")  # the .json name works on every OpenCC release
    except FileNotFoundError:
        # opencc-python-reimplemented, installed over the same module name, appends ".json"
        converter = opencc.OpenCC("t2s")

    def convert(text: str) -> str:
        return str(converter.convert(text))

    return convert


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised text and the map back to the text as received.

    ``text[k]`` came from ``original[starts[k]:ends[k]]``: one character, or the few that
    normalise together (a letter and its combining accent; a whitespace run squeezed to one
    space). Both tuples are non-decreasing, so a span of the normalised text maps to one
    contiguous span of the original (:meth:`span`).
    """

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of original characters that normalised text ``[start, end)`` came from."""
        if not 0 <= start <= end <= len(self.text):
            raise IndexError(f"span [{start}, {end}) outside a normalised text of length {len(self.text)}")
        if start == end:
            at = self.starts[start] if start < len(self.starts) else len(self.original)
            return at, at
        return self.starts[start], self.ends[end - 1]

    def original_text(self, start: int, end: int) -> str:
        """The original characters behind normalised text ``[start, end)``."""
        a, b = self.span(start, end)
        return self.original[a:b]


def normalize(text: str) -> Normalized:
    """Normalise an utterance for matching, keeping a map back to the original characters.

    In order: NFKC (full-width → half-width, ligatures and compatibility forms), case-folding,
    the punctuation map (。→ . 、→ , “”「」→ " ‘’→ ' 【】→ [] 《》→ <> — and …→ ... from NFKC),
    invisible format characters dropped, traditional → simplified (OpenCC t2s plus a few
    regional variants), and whitespace squeezed: a whitespace run becomes one space between
    two letters or digits of a spaced script ("call 10086") and disappears elsewhere — between
    Chinese characters ("不 可能" is 不可能: speech-to-text output often spaces words), next to
    punctuation, and at either end.
    """
    # First: folding a character not seen before records it in _IRREGULAR or _JOINERS.
    folded = text.translate(_FOLDS)
    starts: Sequence[int]
    ends: Sequence[int]
    if _REGULAR.fullmatch(text) or (_IRREGULAR.isdisjoint(text) and _JOINERS.isdisjoint(text)):
        # The common case: every character folds to exactly one, on its own.
        starts, ends = _identity(len(text))
    else:
        folded, starts, ends = _clustered(text)
    if _SPACES.search(folded):
        folded, starts, ends = _squeeze(folded, starts, ends)
    if not folded.isascii():
        folded, starts, ends = _simplified(folded, starts, ends)
    return Normalized(text, folded, tuple(starts), tuple(ends))


def _clustered(text: str) -> tuple[str, list[int], list[int]]:
    """Fold ``text`` whose characters may compose or fold to several: cluster by cluster."""
    bounds: list[tuple[int, int]] = []
    for i, ch in enumerate(text):
        if ch in _JOINERS and bounds:
            # It may compose with the character before it: normalise the two together, as
            # one cluster, so the map never points into the middle of a composition.
            bounds[-1] = (bounds[-1][0], i + 1)
        else:
            bounds.append((i, i + 1))
    pieces = [_FOLDS[ord(text[a])] if b - a == 1 else _fold(text[a:b]) for a, b in bounds]
    starts = [a for piece, (a, _) in zip(pieces, bounds, strict=True) for _ in piece]
    ends = [b for piece, (_, b) in zip(pieces, bounds, strict=True) for _ in piece]
    return "".join(pieces), starts, ends


def _simplified(
    folded: str, starts: Sequence[int], ends: Sequence[int]
) -> tuple[str, Sequence[int], Sequence[int]]:
    """Traditional to simplified, then the regional variants."""
    # Whole-text conversion keeps OpenCC's phrase context (乾隆 stays, 乾燥 → 干燥). OpenCC
    # replaces each dictionary segment by its value, and every t2s entry has a value of its
    # own length (the test suite checks the installed tables), so position k stays k.
    convert = _t2s()
    simplified = convert(folded)
    if len(simplified) == len(folded):
        folded = simplified
    else:  # a table that changes lengths: give up phrase context to keep the map exact
        folded, starts, ends = _per_character(folded, starts, ends, convert)
    if _VARIANT_CHARS.search(folded):
        folded = folded.translate(_VARIANTS)
    return folded, starts, ends


def _squeeze(folded: str, starts: Sequence[int], ends: Sequence[int]) -> tuple[str, list[int], list[int]]:
    """Squeeze whitespace: one space between two spaced-script words, none anywhere else."""
    parts: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    done = 0
    for m in _SPACES.finditer(folded):
        s, e = m.span()
        parts.append(folded[done:s])
        new_starts += starts[done:s]
        new_ends += ends[done:s]
        if s > 0 and e < len(folded) and _spaced(folded[s - 1]) and _spaced(folded[e]):
            parts.append(" ")  # one space for the whole run (see _run_span)
            first, last = _run_span(starts, ends, s, e)
            new_starts.append(first)
            new_ends.append(last)
        else:
            # Combining marks after a dropped run had only the space to sit on: drop them
            # too, rather than let them land on the character before the run.
            while e < len(folded) and unicodedata.category(folded[e])[0] == "M":
                e += 1
        done = e
    parts.append(folded[done:])
    new_starts += starts[done:]
    new_ends += ends[done:]
    return "".join(parts), new_starts, new_ends


def _run_span(starts: Sequence[int], ends: Sequence[int], s: int, e: int) -> tuple[int, int]:
    """The original span a space standing for the run ``[s, e)`` maps to: the whole run...

    ...except what shares a cluster with a neighbour (a tab and the Hangul vowel after it):
    there it stands for that whole cluster or none of it, never a part.
    """
    first, last = starts[s], ends[e - 1]
    if ends[s - 1] > first:
        first = ends[s - 1] if ends[s - 1] < last else starts[s - 1]
    if starts[e] < last:
        last = starts[e] if starts[e] > first else ends[e]
    return first, last


def _per_character(
    folded: str, starts: Sequence[int], ends: Sequence[int], convert: Callable[[str], str]
) -> tuple[str, list[int], list[int]]:
    """Convert character by character: what each character became maps back to it exactly."""
    pieces = [convert(ch) if ch >= "\u2e80" else ch for ch in folded]
    new_starts = [starts[k] for k, piece in enumerate(pieces) for _ in piece]
    new_ends = [ends[k] for k, piece in enumerate(pieces) for _ in piece]
    return "".join(pieces), new_starts, new_ends


# ---------------------------------------------------------------------------------------------
# Phrases and matching
# ---------------------------------------------------------------------------------------------

_ID = r"^[A-Za-z][A-Za-z0-9_.\-]*$"


@dataclass(frozen=True, slots=True)
class Match:
    """A phrase found in an utterance: ``text == utterance[start:end]``, as received."""

    phrase_id: str
    start: int
    end: int
    text: str

    @property
    def evidence(self) -> dict[str, Any]:
        """The offending text and its span in the text as received, for a violation."""
        return {"text": self.text, "start": self.start, "end": self.end}


@functools.lru_cache(maxsize=4096)
def _key(phrase: str) -> str:
    """A phrase's matching key: its normalised text."""
    return normalize(phrase).text


def _occurrences(needle: str, haystack: str) -> list[int]:
    found, at = [], haystack.find(needle)
    while at >= 0:
        found.append(at)
        at = haystack.find(needle, at + 1)
    return found


def _alternation(keys: Iterable[str]) -> re.Pattern[str]:
    """One regex over literal keys, longest first, so each match is the longest at its position.

    Python's ``re`` tries alternatives in order at the leftmost position where any matches,
    and ``finditer`` resumes after each match: with the keys longest first that is exactly
    leftmost-longest, non-overlapping matching, run in C. (A hand-written trie in Python was
    about five times slower on the ~50 default keys; Aho–Corasick buys nothing at this size.)
    """
    ordered = sorted(set(keys), key=lambda k: (-len(k), k))
    return re.compile("|".join(_bounded(k) for k in ordered))


# A letter or digit of a spaced script, as a regex class: the same characters as _spaced().
_WORD_CHAR = r"[^\W_\u2e80-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff]"


def _bounded(key: str) -> str:
    """The key as a regex; where it starts or ends with a Latin letter or digit, only as a whole word.

    Chinese has no word boundaries to respect (不行 in 我不行了 is 不行), but "li" must not match
    inside "click", nor "no way" inside "piano wayfarer".
    """
    pattern = re.escape(key)
    if _spaced(key[0]):
        pattern = f"(?<!{_WORD_CHAR}){pattern}"
    if _spaced(key[-1]):
        pattern = f"{pattern}(?!{_WORD_CHAR})"
    return pattern


class PhraseEntry(Protocol):
    """What the matcher needs of a phrase: its id, its text and the contexts that allow it."""

    @property
    def id(self) -> str: ...

    @property
    def phrase(self) -> str: ...

    def contexts(self) -> tuple[str, ...]: ...


class PhraseMatcher:
    """Finds phrases in utterances, with their allow-lists and negations.

    Built once (it normalises every phrase and context), then :meth:`find` is thread-safe.
    The list must be consistent (the ruleset checks it: ``phrase_problems``).
    """

    def __init__(self, phrases: Sequence[PhraseEntry]) -> None:
        self.ids: tuple[str, ...] = tuple(spec.id for spec in phrases)
        # normalised key -> the phrase id it reports, or None for an allow context
        self._entries: dict[str, str | None] = {}
        for spec in phrases:
            for context in spec.contexts():
                self._entries[_key(context)] = None
        for spec in phrases:
            self._entries[_key(spec.phrase)] = spec.id
        self._pattern = _alternation(self._entries) if self._entries else None

    def find(self, text: str | Normalized) -> list[Match]:
        """Every forbidden phrase in ``text``, left to right, spans into the text as received.

        At each position the longest entry wins, forbidden phrase or allow context alike, and
        consumes its characters: 这是规定的办理时限 hides 这是规定, 并非不可能 hides 不可能, and of
        overlapping forbidden phrases only the leftmost-longest is reported. Pass a
        :class:`Normalized` to reuse one normalisation across several checks.
        """
        norm = text if isinstance(text, Normalized) else normalize(text)
        return [
            Match(phrase_id, start, end, norm.original[start:end])
            for phrase_id, _, _, start, end in self._scan(norm)
        ]

    def spans(self, norm: Normalized) -> list[tuple[str, int, int]]:
        """Like :meth:`find`, as ``(phrase id, start, end)`` in the *normalised* text."""
        return [(phrase_id, a, b) for phrase_id, a, b, _, _ in self._scan(norm)]

    def _scan(self, norm: Normalized) -> Iterator[tuple[str, int, int, int, int]]:
        if self._pattern is None:
            return
        consumed = 0  # original characters up to here belong to an earlier entry
        for m in self._pattern.finditer(norm.text):
            start, end = norm.span(m.start(), m.end())
            if start < consumed:
                # Only when one original character expanded ('ﬁ' → 'fi') and two entries
                # split it: it was reported, or allowed, once already.
                continue
            consumed = end
            phrase_id = self._entries[m.group()]
            if phrase_id is not None:
                yield phrase_id, m.start(), m.end(), start, end


def contains_any(text: str | Normalized, phrases: Iterable[str]) -> Match | None:
    """The leftmost (then longest) of ``phrases`` in ``text``, after normalisation, or None.

    For the greeting, name and closing checks (Q1, Q2, Q4, Q6–Q9): 早上好，欢迎光临 is found in
    "早上好, 歡迎光臨". The match's ``phrase_id`` is the phrase as given.
    """
    by_key: dict[str, str] = {}
    for phrase in phrases:
        key = _key(phrase)
        if key:
            by_key.setdefault(key, phrase)
    if not by_key:
        return None
    norm = text if isinstance(text, Normalized) else normalize(text)
    m = _cached_alternation(tuple(sorted(by_key))).search(norm.text)
    if m is None:
        return None
    start, end = norm.span(m.start(), m.end())
    return Match(by_key[m.group()], start, end, norm.original[start:end])


@functools.lru_cache(maxsize=256)
def _cached_alternation(keys: tuple[str, ...]) -> re.Pattern[str]:
    return _alternation(keys)


# Latin (and other spaced-script) words: letters, joined by an apostrophe (don't, it's).
_NOT_A_LETTER = r"\W\d_\u2e80-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003ffff"
_COUNTED = re.compile(
    "[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003ffff〇\u3041-\u3096\u30a1-\u30fa]"  # after NFKC
    r"|\d"
    rf"|[^{_NOT_A_LETTER}]+(?:'[^{_NOT_A_LETTER}]+)*"
)


@functools.lru_cache(maxsize=65_536)
def char_count(text: str) -> int:
    """How many characters an utterance counts for the pace check (Q3: 160–180 per minute).

    Counted as spoken syllables are: each Chinese character (and kana) is one; each digit is
    one, since call-centre numbers (phone, account, case numbers) are read digit by digit; a
    word of Latin or another spaced script is one ("VIP" is 1, "don't" is 1). Punctuation,
    symbols, emoji and whitespace count nothing. Full-width letters and digits count as their
    ASCII forms (the text is normalised first).
    """
    return len(_COUNTED.findall(normalize(text).text))
