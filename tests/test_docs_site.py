"""The documentation site builds: ``mkdocs build --strict`` over docs/ with the API reference.

Strict mode fails on a broken link or anchor between pages, a page missing from the nav,
and a docstring reference the API reference cannot resolve. Needs the ``docs`` extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_griffe"))

from doctest_fences import fence_doctests  # noqa: E402


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    reference = (site / "reference" / "index.html").read_text(encoding="utf-8")
    assert 'id="tierrules.Engine"' in reference  # the API reference is generated
    assert 'id="tierrules.evaluate"' in reference
    policy = (site / "policy" / "index.html").read_text(encoding="utf-8")
    assert 'id="e2--complaint-reply-within-1-working-hour"' in policy  # GitHub's heading ids
    assert (site / "results" / "bench_evaluate-0c49d67.txt").is_file()


def test_doctest_examples_are_fenced_for_the_reference() -> None:
    text = "Example:\n\n>>> f()\n['a', 'b']\n\nAfter."
    assert fence_doctests(text) == "Example:\n\n```pycon\n>>> f()\n['a', 'b']\n```\n\nAfter."
