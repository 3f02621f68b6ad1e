"""``reencrypt`` progress: a live bar on a terminal, status lines elsewhere, resume-aware."""

from __future__ import annotations

import argparse
import io
import re
import time

import pytest

from pynamodb_encryption.cli import _term
from pynamodb_encryption.cli._main import build_parser
from pynamodb_encryption.cli._progress import JobProgress, format_duration, status_text
from pynamodb_encryption.cli._reencrypt import progress_mode
from pynamodb_encryption.maintenance import ReencryptProgress


def snapshot(scanned: int, total: int | None = 300, failed: int = 0) -> ReencryptProgress:
    return ReencryptProgress(
        scanned=scanned,
        reencrypted=scanned - failed,
        already_current=0,
        skipped=0,
        failed=failed,
        elapsed_seconds=1.0,
        estimated_total=total,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_durations() -> None:
    assert format_duration(0) == "0:00:00"
    assert format_duration(3725.4) == "1:02:05"
    assert format_duration(None) == "-:--:--"


def test_status_line_counts_the_checkpoint_but_rates_this_run_only() -> None:
    text = status_text("orders", snapshot(50), prior=100, elapsed=2.0)
    assert "150 of ~300 items (50%)" in text
    assert "100 before this run" in text
    assert "25 items/s" in text  # 50 items in 2 s, not 150
    assert "ETA 0:00:06" in text  # 150 left at 25/s
    assert "re-encrypted 50, current 0, skipped 0, failed 0" in text
    # A stale ItemCount never shows more than 100%.
    assert "400 of ~400 items (100%)" in status_text("t", snapshot(400), prior=0, elapsed=1.0)
    # Before the first page: no estimate yet.
    assert "0 items" in status_text("t", None, prior=0, elapsed=0.5)
    assert text.count("\n") == 0


def test_off_a_terminal_status_lines_come_on_a_timer() -> None:
    stream = io.StringIO()
    display = JobProgress(table="orders", mode="lines", interval=0.05, stream=stream)
    with display:
        display(snapshot(10))
        time.sleep(0.3)  # several ticks although no page finished meanwhile
        display(snapshot(300))
    text = stream.getvalue()
    lines = text.splitlines()
    assert text.endswith("\n")
    assert "\r" not in text
    assert len(lines) >= 4  # start, ticks, final
    assert all(line.startswith("reencrypt orders: ") for line in lines)
    assert "300 of ~300 items (100%)" in lines[-1]
    assert "| done |" in lines[-1]


def test_the_rich_bar_is_resume_aware_and_shows_rate_and_eta(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TERM", "xterm-256color")  # CI may say "dumb": rich ignores COLUMNS
    monkeypatch.setenv("COLUMNS", "200")
    stream = Terminal()
    clock = Clock()
    display = JobProgress(
        table="orders", mode="bar", prior=100, stream=stream, force_terminal=True, clock=clock
    )
    display.start()
    clock.now += 2.0
    display(snapshot(50))
    display.close()
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", stream.getvalue())
    final = text.split("\r")[-1]
    assert final.startswith("reencrypt orders ")
    assert "50%" in final
    assert "150/~300" in final
    assert "25 items/s" in final  # this run's 50 items over 2 s
    assert "elapsed 0:00:02" in final
    assert "ETA 0:00:06" in final  # 150 left at 25/s
    assert "re-encrypted 50" in final


def test_without_rich_a_terminal_gets_one_redrawn_line() -> None:
    stream = io.StringIO()
    display = JobProgress(table="orders", mode="line", interval=0.05, stream=stream)
    with display:
        display(snapshot(30))
        time.sleep(0.2)
    text = stream.getvalue()
    assert text.count("\r") >= 2
    assert text.count("\n") == 1
    assert text.endswith("\n")


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["reencrypt", "--table", "t", *argv])


def test_mode_follows_the_terminal_and_the_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", io.StringIO())
    assert progress_mode(_args()) == "lines"
    assert progress_mode(_args("--no-progress")) == "off"
    assert progress_mode(_args("-q")) == "off"
    assert progress_mode(_args("--progress")) == "bar"
    monkeypatch.setattr("sys.stderr", Terminal())
    assert progress_mode(_args()) == "bar"
    assert _args("--log-interval", "5").log_interval == 5.0


def test_without_rich_the_command_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setattr(_term, "rich_available", lambda: False)
    monkeypatch.setattr(_term, "_hinted", False)
    monkeypatch.setattr("pynamodb_encryption.cli._reencrypt.rich_available", lambda: False)
    assert progress_mode(_args()) == "line"
    assert "pip install 'pynamodb-encryption[cli]'" in terminal.getvalue()
    # Tables fall back to plain text, with the same hint once.
    assert _term.stdout_console(Terminal()) is None
    assert terminal.getvalue().count("[cli]") == 1
