"""Regression guard: normalisation must map offsets right the first time a process meets a
zero-width or composed character.

Found in review of a refactor of ``text.normalize`` (never released): folding a character
records it as irregular or joining, and the fast path just after relies on those records;
moved after the test, the first sighting of such a character got a wrong offset map (a
forbidden phrase's evidence would point at the wrong characters). The suite had no test of a
first sighting: each case here runs in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SCRIPT = """
import json, sys
from tierrules.text import normalize
text = sys.argv[1]
norm = normalize(text)
at = norm.text.index("不可能")
start, end = norm.span(at, at + 3)
print(json.dumps(norm.original[start:end], ensure_ascii=False))
"""


@pytest.mark.parametrize(
    "text",
    [
        "您好\u200b，这个不可能",  # zero-width space
        "您好\u200d这个\ufeff不可能",  # zero-width joiner, BOM inside the text
        "ｆｉ\ufb01这个不可能",  # a ligature that folds to two characters
        "這個\u00ad不可能",  # soft hyphen, traditional script
    ],
)
def test_offsets_are_right_on_first_sighting(text: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, text], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(proc.stdout) == "不可能"
