"""Running the ``tierrules`` command in a child process, and what a refusal must look like.

The child imports this checkout's tierrules (its ``src`` first on ``PYTHONPATH``), so the
tests drive the code under test, not whatever is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import tierrules

SRC = str(Path(tierrules.__file__).resolve().parents[1])


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a child Python that imports this checkout's tierrules."""
    env = {**os.environ, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))
    return env


def run_cli(
    *args: str,
    stdin: str | bytes | None = None,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
    python_args: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    """``python -m tierrules ARGS`` in a child process (stdout and stderr decoded leniently)."""
    proc = subprocess.run(
        [sys.executable, *python_args, "-m", "tierrules", *args],
        input=stdin.encode("utf-8") if isinstance(stdin, str) else stdin,
        capture_output=True,
        timeout=timeout,
        env=child_env(env),
        check=False,
    )
    return subprocess.CompletedProcess(
        proc.args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


def assert_refused(proc: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> None:
    """Exit ``code`` (2: bad input), a ``tierrules:`` message naming every needle, no traceback."""
    assert proc.returncode == code, (proc.returncode, proc.stderr[-3000:])
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.stderr.startswith("tierrules: "), proc.stderr[-3000:]
    for needle in needles:
        assert needle in proc.stderr, (needle, proc.stderr[-3000:])
