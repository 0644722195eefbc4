"""Metamorphic tests on the labelled corpus: a call a reviewer passes still passes when it reaches
us as raw speech recognition (no punctuation, the agent's sentences cut across turns).

The rewrite keeps every label, so a ``fail`` verdict the original did not get is a false alarm
the rewrite caused. Rewriting the whole corpus this way found most of the raw-ASR classes of
issue 12 (before their fixes one case in ten gained a false fail); a few honest limits remain
(a "cannot" explained only in the next piece: a streamed verdict never waits for later turns),
so the bound is a rate, not zero. A deterministic sample of the corpus keeps the test quick.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

import tierrules
from tests.support.rewrites import as_raw_transcript, without_punctuation
from tierrules.agreement import LabelledCase, load_corpus

CORPUS = Path(__file__).parent / "corpus" / "etiquette"
SAMPLE_EVERY = 4


@pytest.fixture(scope="module")
def sample() -> list[LabelledCase]:
    cases = [c for d in sorted(p for p in CORPUS.iterdir() if p.is_dir()) for c in load_corpus(d)]
    return cases[::SAMPLE_EVERY]


@pytest.fixture(scope="module")
def engine() -> tierrules.Engine:
    return tierrules.Engine()


def _fails(
    engine: tierrules.Engine, events: list[dict[str, object]], case: LabelledCase
) -> set[tuple[str, str]]:
    """(clause, step or phrase) of every ``fail`` finding, Q3 aside (a cut turn has no duration)."""
    decision = engine.evaluate(events, case.now)
    found = set()
    for v in decision.violations:
        data = v.model_dump()
        clause = v.rule.split(".")[0]
        if v.severity == "fail" and clause != "Q3":
            found.add((clause, str(data.get("missing") or data.get("phrase"))))
    return found


def _gained(engine: tierrules.Engine, sample: list[LabelledCase], rewrite: str) -> list[str]:
    gained = []
    for case in sample:
        before = _fails(engine, case.events, case)
        seed = zlib.crc32(case.id.encode())
        events = (
            without_punctuation(case.events) if rewrite == "strip" else as_raw_transcript(case.events, seed)
        )
        after = _fails(engine, events, case)
        gained += [f"{case.id}: {clause} {what}" for clause, what in sorted(after - before)]
    return gained


def test_dropping_punctuation_adds_almost_no_false_alarm(
    engine: tierrules.Engine, sample: list[LabelledCase]
) -> None:
    gained = _gained(engine, sample, "strip")
    assert len(gained) <= len(sample) // 100 + 1, gained


def test_a_raw_transcript_adds_few_false_alarms(engine: tierrules.Engine, sample: list[LabelledCase]) -> None:
    gained = _gained(engine, sample, "asr")
    # Before the raw-ASR fixes of issue 12 about one case in ten gained a fail; now under 3%.
    assert len(gained) <= len(sample) * 3 // 100, gained
