"""Run the ``tierrules`` command with stdout and/or stderr on a real pseudo-terminal.

Each stream chosen gets its own pty (so what went to stdout and to stderr stays apart);
the others are pipes, as in a script. The environment is a clean terminal's: ``TERM`` set,
no ``NO_COLOR``/``FORCE_COLOR`` unless given, a fixed width.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# An SGR sequence that sets a colour (30-37, 90-97 foreground; 38;... extended), not bold or dim.
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;[0-9;]*)?m")

_INHERITED = ("PATH", "PYTHONPATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TIERRULES_MATCHER")


@dataclasses.dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    @property
    def plain_stdout(self) -> str:
        return ANSI.sub("", self.stdout).replace("\r\n", "\n")

    @property
    def plain_stderr(self) -> str:
        return ANSI.sub("", self.stderr).replace("\r\n", "\n")


def _pty(columns: int) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    return master, slave


def _drain(fds: dict[int, bytearray], proc: subprocess.Popen[bytes], deadline: float) -> None:
    open_fds = set(fds)
    while open_fds and time.monotonic() < deadline:
        ready, _, _ = select.select(list(open_fds), [], [], 0.1)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed its end of the pty
                chunk = b""
            if chunk:
                fds[fd] += chunk
            else:
                open_fds.discard(fd)
        if not ready and proc.poll() is not None and all(fd not in open_fds or _empty(fd) for fd in fds):
            break


def _empty(fd: int) -> bool:
    ready, _, _ = select.select([fd], [], [], 0)
    return not ready


def run_cli(
    *args: str,
    stdout_tty: bool = False,
    stderr_tty: bool = False,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    columns: int = 120,
    timeout: float = 120,
) -> Run:
    """``python -m tierrules ARGS`` with the chosen streams on a terminal."""
    environ = {k: os.environ[k] for k in _INHERITED if k in os.environ}
    environ.update({"TERM": "xterm-256color", "COLUMNS": str(columns), **(env or {})})
    masters: dict[str, int] = {}
    slaves: dict[str, int] = {}
    for name, wanted in (("stdout", stdout_tty), ("stderr", stderr_tty)):
        if wanted:
            masters[name], slaves[name] = _pty(columns)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tierrules", *args],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=slaves.get("stdout", subprocess.PIPE),
        stderr=slaves.get("stderr", subprocess.PIPE),
        env=environ,
    )
    for fd in slaves.values():
        os.close(fd)
    if stdin is not None and proc.stdin is not None:
        proc.stdin.write(stdin.encode("utf-8"))
        proc.stdin.close()
    pipes = {name: getattr(proc, name) for name in ("stdout", "stderr") if name not in masters}
    fds = {**masters, **{name: p.fileno() for name, p in pipes.items()}}
    buffers = {fd: bytearray() for fd in fds.values()}
    _drain(buffers, proc, time.monotonic() + timeout)
    proc.wait(timeout=10)
    for fd in masters.values():
        os.close(fd)
    for p in pipes.values():
        p.close()
    out, err = (bytes(buffers[fds[name]]).decode("utf-8", errors="replace") for name in ("stdout", "stderr"))
    return Run(proc.returncode, out, err)
