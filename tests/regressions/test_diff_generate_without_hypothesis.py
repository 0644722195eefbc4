"""``tierrules diff --generate`` on a plain install (no hypothesis).

Issue 15: the case generator lived in a module that imported hypothesis at the top, so
``tierrules diff --generate 50`` ended in ``ModuleNotFoundError: hypothesis`` (exit 1) on an
install without the ``testing`` extra. The seeded generator needs no hypothesis; the
strategies say which extra they need when it is missing.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BLOCK = textwrap.dedent(
    """
    import sys
    class NoHypothesis:
        def find_spec(self, name, path=None, target=None):
            if name == "hypothesis" or name.startswith("hypothesis."):
                raise ImportError("hypothesis is not installed")
    sys.meta_path.insert(0, NoHypothesis())
    """
)


def test_diff_generates_cases_without_hypothesis() -> None:
    code = BLOCK + textwrap.dedent(
        """
        from tierrules.cli import main
        sys.exit(main(["diff", "rulesets/default", "rulesets/default", "--generate", "20", "--no-progress"]))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "20 cases" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_the_strategies_name_the_extra_they_need() -> None:
    code = (
        BLOCK
        + "from tierrules import testing\ntry:\n    testing.cases()\nexcept ImportError as e:\n    print(e)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert "pip install 'tierrules[testing]'" in proc.stdout
