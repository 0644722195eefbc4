"""``tierrules completion bash|zsh|fish``: each script loaded into the real shell, asked to complete.

bash: the completion function is called as bash calls it (COMP_WORDS, COMP_CWORD).
zsh: an interactive zsh under zpty with compinit, TAB typed (tests/support/zsh_complete.zsh).
fish: ``complete -C``, fish's own "what would TAB offer".
"""

from __future__ import annotations

import io
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tierrules.cli import COMMANDS, build_parser, main
from tierrules.cli.completion import commands

ROOT = Path(__file__).resolve().parents[1]
ZSH_COMPLETE = Path(__file__).resolve().parent / "support" / "zsh_complete.zsh"


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("completion")
    found = {}
    for shell in ("bash", "zsh", "fish"):
        out = io.StringIO()
        assert main(["completion", shell], out=out) == 0
        found[shell] = folder / f"tierrules.{shell}"
        found[shell].write_text(out.getvalue(), encoding="utf-8")
    return found


def bash(script: Path, line: str) -> set[str]:
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    program = (
        f"source {shlex.quote(str(script))}\n"
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        "_tierrules; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    proc = subprocess.run(["bash", "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def zsh(script: Path, line: str) -> set[str]:
    proc = subprocess.run(
        ["zsh", "-f", str(ZSH_COMPLETE), str(script), line],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def fish(script: Path, line: str) -> set[str]:
    program = f"source {shlex.quote(str(script))}; complete -C {shlex.quote(line)}"
    proc = subprocess.run(["fish", "-c", program], capture_output=True, text=True, cwd=ROOT, timeout=30)
    assert proc.returncode == 0, proc.stderr
    return {row.split("\t")[0] for row in proc.stdout.splitlines()}


SHELLS = {"bash": bash, "zsh": zsh, "fish": fish}


@pytest.mark.parametrize("shell", SHELLS)
def test_scripts_are_valid_for_their_shell(shell: str, scripts: dict[str, Path]) -> None:
    proc = subprocess.run([shell, "-n", str(scripts[shell])], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_commands_options_choices_and_files(shell: str, scripts: dict[str, Path]) -> None:
    complete = SHELLS[shell]
    script = scripts[shell]
    assert set(COMMANDS) <= complete(script, "tierrules ")
    assert complete(script, "tierrules ev") == {"evaluate"}
    assert complete(script, "tierrules evaluate --fo") == {"--format"}
    assert complete(script, "tierrules evaluate --format ") == {"json", "table"}
    assert complete(script, "tierrules evaluate --now ") == {"now"}
    assert complete(script, "tierrules completion ") == {"bash", "zsh", "fish"}
    assert complete(script, "tierrules diff --exit") == {"--exit-code"}
    assert {name.rstrip("/") for name in complete(script, "tierrules evaluate exam")} == {"examples"}


def test_every_option_of_every_command_is_in_every_script(scripts: dict[str, Path]) -> None:
    """The scripts come from the parser: a command added later is completed with no extra work."""
    _, found = commands(build_parser())
    assert [c.name for c in found] == list(COMMANDS)
    texts = {shell: path.read_text(encoding="utf-8") for shell, path in scripts.items()}
    for command in found:
        for option in command.options:
            for flag in option.flags:
                assert flag in texts["bash"] and flag in texts["zsh"], flag
                fish_flag = f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"
                assert fish_flag in texts["fish"], flag


def test_help_tells_how_to_enable_it() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tierrules", "completion", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert 'eval "$(tierrules completion bash)"' in proc.stdout
    assert "~/.config/fish/completions/tierrules.fish" in proc.stdout
