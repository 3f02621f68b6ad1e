"""Terminal detection and the optional ``rich`` dependency (the ``cli`` extra).

``rich`` is imported here only, lazily, and only when a terminal is there to draw on: pipes,
files and ``--json`` get plain text, and the library's import path never imports it.
"""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["RICH_HINT", "hint_missing_rich", "is_terminal", "rich_available", "stdout_console"]

RICH_HINT = (
    "for tables in colour and a live progress bar install the 'cli' extra: "
    "pip install 'pynamodb-encryption[cli]'"
)

_hinted = False


def rich_available() -> bool:
    """Whether ``rich`` can be imported."""
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return True


def is_terminal(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


def hint_missing_rich() -> None:
    """Say once per run, on stderr, which extra brings rich."""
    global _hinted
    if not _hinted:
        _hinted = True
        sys.stderr.write(f"pynamodb-encryption: note: {RICH_HINT}\n")


def stdout_console(stream: IO[str], *, force: bool = False) -> Console | None:
    """A rich console on ``stream`` when it is a terminal (or ``force``) and rich is there.

    rich honours ``NO_COLOR`` and the terminal's width. Returns None for plain text.
    """
    if not force and not is_terminal(stream):
        return None
    if not rich_available():
        hint_missing_rich()
        return None
    from rich.console import Console

    return Console(file=stream, force_terminal=True if force else None)
