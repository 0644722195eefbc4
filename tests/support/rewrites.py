"""Label-preserving rewrites of a conversation: what speech recognition does to a call a
reviewer would judge the same way (tests/test_etiquette_rewrites.py)."""

from __future__ import annotations

import random
import re
from typing import Any

_PUNCTUATION = re.compile(r"[，。！？、；：,.!?;:…“”\"「」『』（）()]")


def without_punctuation(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every utterance with its punctuation turned into spaces, as a raw transcript has it."""
    out = []
    for event in events:
        event = dict(event)
        if event["type"] == "utterance":
            text = re.sub(r"\s+", " ", _PUNCTUATION.sub(" ", event["text"])).strip()
            event["text"] = text or event["text"]
        out.append(event)
    return out


def as_raw_transcript(events: list[dict[str, Any]], seed: int) -> list[dict[str, Any]]:
    """No punctuation, and each agent turn of three words or more cut in two at a random word
    (both pieces at the turn's time; a turn's duration no longer applies to either)."""
    rnd = random.Random(seed)
    out: list[dict[str, Any]] = []
    for event in without_punctuation(events):
        words = event["text"].split(" ") if event["type"] == "utterance" else []
        if event["type"] != "utterance" or event["speaker"] != "agent" or len(words) < 3:
            out.append(event)
            continue
        cut = rnd.randrange(1, len(words))
        head = {k: v for k, v in event.items() if k != "duration_seconds"}
        out += [{**head, "text": " ".join(words[:cut])}, {**head, "text": " ".join(words[cut:])}]
    return out
