"""Every command works on an install without Dask (``dask[distributed]`` is the ``batch`` extra).

Reported by operators (issues 14, 15): Dask was a core dependency for one feature, 20 of
35 packages of an install. It is now the ``batch`` extra: ``evaluate --batch`` runs in this
process without it, and asking for workers says what to install (exit 1, no traceback).
Dask is hidden from a child interpreter by a meta-path finder that refuses to import it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tierrules
from tests.support.cli import child_env

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = Path(tierrules.default_ruleset_path())
EXAMPLE = ROOT / "examples" / "complaint.jsonl"
NOW = "2026-11-24T18:30:00+08:00"

BLOCKER = """
import importlib.abc, sys

class NoDask(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("dask", "distributed"):
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)", name=name)
        return None

sys.meta_path.insert(0, NoDask())
from tierrules.cli import main
code = main(sys.argv[1:])
assert "distributed" not in sys.modules and "dask" not in sys.modules
sys.exit(code)
"""


def run_without_dask(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKER, *argv],
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env(),
        check=False,
    )


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    events = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    path = tmp_path_factory.mktemp("log") / "cases.jsonl"
    path.write_text(
        "".join(json.dumps({"name": f"c{i}", "now": NOW, "events": events}) + "\n" for i in range(3)),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    "argv",
    [
        ["--version"],
        ["evaluate", str(EXAMPLE), "--now", NOW],
        ["validate", str(DEFAULT)],
        ["schema"],
        ["test", str(DEFAULT)],
        ["diff", str(DEFAULT), str(DEFAULT), "--cases", "LOG"],
        ["diff", str(DEFAULT), str(DEFAULT), "--cases", "LOG", "--workers", "0"],
        ["evaluate", "--batch", "LOG"],
        ["evaluate", "--batch", "LOG", "--workers", "0"],
        ["report", "LOG", "--format", "json"],
        ["stream", str(EXAMPLE), "--now", NOW],
        ["init", "NEW"],
        ["completion", "bash"],
    ],
    ids=lambda argv: " ".join(a for a in argv if "/" not in a),
)
def test_commands_work(argv: list[str], log: Path, tmp_path: Path) -> None:
    places = {"LOG": str(log), "NEW": str(tmp_path / "new-ruleset")}
    proc = run_without_dask(*[places.get(a, a) for a in argv])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr


def test_batch_output_is_the_one_with_dask(log: Path) -> None:
    without = run_without_dask("evaluate", "--batch", str(log))
    with_dask = subprocess.run(
        [sys.executable, "-m", "tierrules", "evaluate", "--batch", str(log), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=300,
        env=child_env(),
        check=False,
    )
    assert with_dask.returncode == 0, with_dask.stderr
    assert without.stdout == with_dask.stdout


@pytest.mark.parametrize(
    "argv",
    [
        ["evaluate", "--batch", "LOG", "--workers", "2"],
        ["evaluate", "--batch", "LOG", "--scheduler", "tcp://127.0.0.1:1"],
        ["diff", str(DEFAULT), str(DEFAULT), "--cases", "LOG", "--workers", "2"],
        ["report", "LOG", "--format", "json", "--workers", "2"],
    ],
    ids=["workers", "scheduler", "diff-workers", "report-workers"],
)
def test_asking_for_workers_says_what_to_install(argv: list[str], log: Path) -> None:
    proc = run_without_dask(*[str(log) if a == "LOG" else a for a in argv])
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.startswith("tierrules: ") and "Traceback" not in proc.stderr
    assert "pip install 'tierrules[batch]'" in proc.stderr


def test_the_api_without_dask(log: Path) -> None:
    script = BLOCKER.split("from tierrules.cli")[0] + (
        "import tierrules\n"
        "from tierrules import batch\n"
        f"results = batch.evaluate_log({str(log)!r})\n"
        "assert len(results) == 3 and not batch.dask_available()\n"
        "try:\n"
        f"    batch.evaluate_log({str(log)!r}, workers=1)\n"
        "except tierrules.EngineError as err:\n"
        "    assert 'tierrules[batch]' in str(err)\n"
        "else:\n"
        "    raise AssertionError('workers=1 ran without Dask')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=child_env()
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
