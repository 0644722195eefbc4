"""Progress bars for long work (``evaluate --batch``, ``diff``), on stderr and only on a terminal.

stdout carries the result (JSON or a table) and stays byte-identical; the bar goes to
stderr, and only when stderr is a terminal a person watches, so logs, pipes and CI output
get no control codes. ``rich`` draws it and honours ``NO_COLOR`` and ``TERM=dumb``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

__all__ = ["ProgressCallback", "accepts_progress", "add_no_progress", "counted", "progress_bar"]

T = TypeVar("T")

ProgressCallback = Callable[[int, int], None]
"""``callback(done, total)``: ``done`` of ``total`` items are finished."""


def _ignore(done: int, total: int) -> None:
    """The callback when no bar is shown."""


def accepts_progress(function: Callable[..., object]) -> bool:
    """Whether ``function`` takes a ``progress`` keyword (the batch API gained it in issue 15)."""
    import inspect  # here: --help does not need it

    try:
        return "progress" in inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False


def add_no_progress(parser: argparse.ArgumentParser) -> None:
    """``--no-progress``, for commands that draw a bar."""
    parser.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        help="no progress bar (it is drawn on stderr only when stderr is a terminal)",
    )


def _wanted(stream: TextIO, enabled: bool) -> bool:
    isatty = getattr(stream, "isatty", None)
    return enabled and callable(isatty) and bool(isatty())


@contextmanager
def progress_bar(
    description: str, total: int | None, *, enabled: bool = True, stream: TextIO | None = None
) -> Iterator[ProgressCallback]:
    """Show a bar on ``stream`` (default stderr) while the block runs; yields the callback.

    ``total=None`` shows an indeterminate bar (work whose size is unknown until it ends).
    When ``stream`` is not a terminal, or ``enabled`` is false, nothing is drawn and the
    callback does nothing. The bar is cleared when the block ends.
    """
    out = stream if stream is not None else sys.stderr
    if not _wanted(out, enabled):
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("{task.description}"), BarColumn()]
    if total is not None:
        columns += [MofNCompleteColumn(), TaskProgressColumn(), TimeRemainingColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=Console(file=out), transient=True) as bar:
        task = bar.add_task(description, total=total)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def counted(items: Iterable[T], total: int, progress: ProgressCallback) -> Iterator[T]:
    """``items``, reporting ``progress(done, total)`` as the consumer finishes each one."""
    progress(0, total)
    for done, item in enumerate(items, start=1):
        yield item  # the consumer works on it until it asks for the next one
        progress(done, total)
