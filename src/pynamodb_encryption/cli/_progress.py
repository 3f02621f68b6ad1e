"""Progress of a ``reencrypt`` job on stderr, whatever stderr is.

- On a terminal: a live bar (rich, the ``cli`` extra) with elapsed time, rate and ETA,
  redrawn on a timer, so the clock moves even while a page is slow. Without rich, the same
  figures on one line redrawn with ``\\r``.
- Off a terminal (CI, Kubernetes, ``nohup``): a newline-terminated status line every
  ``interval`` seconds, so logs show that the job lives and how far it is.

Resume-aware: ``prior`` is what the checkpoint already holds; the count starts there and the
rate and ETA are computed from this run only.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any, Literal

from ..maintenance import ReencryptProgress

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

__all__ = ["JobProgress", "ProgressMode", "format_duration", "status_text"]

ProgressMode = Literal["bar", "line", "lines", "off"]


def format_duration(seconds: float | None) -> str:
    """``H:MM:SS`` (``-:--:--`` when unknown)."""
    if seconds is None or seconds != seconds or seconds < 0 or seconds > 99 * 3600:
        return "-:--:--"
    whole = int(seconds + 0.5)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _eta(done: int, total: int | None, rate: float) -> float | None:
    if not total or rate <= 0:
        return None
    return max(0.0, (total - done) / rate)


def status_text(
    table: str,
    latest: ReencryptProgress | None,
    *,
    prior: int,
    elapsed: float,
    final: bool = False,
) -> str:
    """One status line: count (of the estimate), rate, elapsed, ETA and outcomes."""
    scanned = latest.scanned if latest is not None else 0
    done = prior + scanned
    total = latest.estimated_total if latest is not None else None
    if total is not None:
        total = max(total, done)  # DynamoDB's ItemCount is refreshed every ~6 hours
    rate = scanned / elapsed if elapsed > 0 else 0.0
    count = f"{done:,} of ~{total:,} items ({done / total:.0%})" if total else f"{done:,} items"
    resumed = f", {prior:,} before this run" if prior else ""
    eta = "done" if final else f"ETA {format_duration(_eta(done, total, rate))}"
    text = (
        f"reencrypt {table}: {count}{resumed} | {rate:,.0f} items/s | "
        f"elapsed {format_duration(elapsed)} | {eta}"
    )
    if latest is not None:
        text += (
            f" | re-encrypted {latest.reencrypted:,}, current {latest.already_current:,}, "
            f"skipped {latest.skipped:,}, failed {latest.failed:,}"
        )
    return text


class JobProgress:
    """The job's progress callback, and the display that shows it.

    Args:
        table: the table's name, for the status lines.
        mode: ``"bar"`` (rich live bar), ``"line"`` (one ``\\r`` line), ``"lines"`` (status
            lines every ``interval`` seconds) or ``"off"``.
        prior: items the checkpoint already counts (a resumed job).
        interval: seconds between status lines (``"lines"``) or redraws (``"line"``).
        stream: where to write; stderr by default.
        force_terminal: draw the rich bar even if ``stream`` is not a terminal.
    """

    def __init__(
        self,
        *,
        table: str,
        mode: ProgressMode,
        prior: int = 0,
        interval: float = 30.0,
        stream: IO[str] | None = None,
        force_terminal: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._table = table
        self._mode = mode
        self._prior = prior
        self._interval = interval
        self._stream = stream if stream is not None else sys.stderr
        self._force = force_terminal
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: ReencryptProgress | None = None
        self._started = clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rich: RichProgress | None = None
        self._task: TaskID | None = None
        self._drawn = False

    @property
    def mode(self) -> ProgressMode:
        return self._mode

    def __enter__(self) -> JobProgress:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(final=exc[0] is None, emit=exc[0] is None)

    def __call__(self, progress: ReencryptProgress) -> None:
        """The job's callback (serialized by the job, from worker threads)."""
        with self._lock:
            self._latest = progress
        if self._rich is not None and self._task is not None:
            self._rich.update(self._task, **self._bar_fields(progress))

    def start(self) -> None:
        self._started = self._clock()
        if self._mode == "bar":
            self._start_rich()
        elif self._mode == "lines":
            # The first line after one interval: a job that fails while starting (no such
            # table) says so in one line, not after a status line.
            self._start_timer()
        elif self._mode == "line":
            self._start_timer()

    def status(self, *, final: bool) -> str:
        with self._lock:
            latest = self._latest
        return status_text(
            self._table,
            latest,
            prior=self._prior,
            elapsed=self._clock() - self._started,
            final=final,
        )

    def close(self, *, final: bool = True, emit: bool = True) -> None:
        """Stop the timer and draw the last state (the job's final figures).

        ``final``: the job finished (no ETA shown); ``emit=False``: the job failed, and its
        one error line is all the user needs (a drawn bar line is ended).
        """
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._rich is not None:
            self._rich.stop()
            self._rich = None
        elif self._mode == "lines" and emit:
            self._emit(self.status(final=final) + "\n")
        elif self._mode == "line":
            self._emit(("\r" + self.status(final=final) if emit else "") + "\n")

    # -- drawing ----------------------------------------------------------------------

    def _emit(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # the stream went away: progress is not worth dying for
            self._stop.set()

    def _start_timer(self) -> None:
        interval = self._interval if self._mode == "lines" else min(self._interval, 0.5)

        def tick() -> None:
            while not self._stop.wait(interval):
                if self._mode == "lines":
                    self._emit(self.status(final=False) + "\n")
                else:
                    self._emit("\r" + self.status(final=False))

        self._thread = threading.Thread(target=tick, name="reencrypt-progress", daemon=True)
        self._thread.start()

    def _bar_fields(self, progress: ReencryptProgress) -> dict[str, Any]:
        done = self._prior + progress.scanned
        total = progress.estimated_total
        return {
            "completed": done,
            "total": max(total, done) if total is not None else None,
            "outcomes": (
                f"re-encrypted {progress.reencrypted:,} · current {progress.already_current:,}"
                f" · skipped {progress.skipped:,} · failed {progress.failed:,}"
            ),
            "failed": progress.failed,
        }

    def _start_rich(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            ProgressColumn,
            TextColumn,
        )
        from rich.text import Text

        class Count(ProgressColumn):
            def render(self, task: Any) -> Text:
                total = f"/~{int(task.total):,}" if task.total is not None else ""
                return Text(f"{int(task.completed):,}{total}", style="progress.download")

        started = self._clock

        def rate_of(task: Any) -> float:
            # This run's items over this run's time: a resumed job's checkpoint does not
            # inflate the rate.
            elapsed = started() - task.fields["started"]
            scanned = task.completed - task.fields["prior"]
            return scanned / elapsed if elapsed > 0 else 0.0

        class Rate(ProgressColumn):
            def render(self, task: Any) -> Text:
                return Text(f"{rate_of(task):,.0f} items/s", style="magenta")

        class Elapsed(ProgressColumn):
            def render(self, task: Any) -> Text:
                elapsed = format_duration(started() - task.fields["started"])
                return Text(f"elapsed {elapsed}", style="progress.elapsed")

        class Eta(ProgressColumn):
            def render(self, task: Any) -> Text:
                total = int(task.total) if task.total is not None else None
                eta = _eta(int(task.completed), total, rate_of(task))
                return Text(f"ETA {format_duration(eta)}", style="progress.remaining")

        console = Console(file=self._stream, force_terminal=True if self._force else None)

        class Outcomes(ProgressColumn):
            def render(self, task: Any) -> Text:
                failed = task.fields.get("failed", 0)
                style = "red" if failed else "dim"
                if console.width < 170:  # keep the bar on one line of a narrow terminal
                    return Text(f"failed {failed:,}", style=style)
                return Text(task.fields.get("outcomes", ""), style=style)

        self._rich = Progress(
            TextColumn("[bold]reencrypt[/] {task.description}"),
            BarColumn(bar_width=30),
            TextColumn("{task.percentage:>3.0f}%"),
            Count(),
            Rate(),
            Elapsed(),
            Eta(),
            Outcomes(),
            console=console,
            refresh_per_second=4,
        )
        self._task = self._rich.add_task(
            self._table,
            total=None,
            completed=self._prior,
            prior=self._prior,
            started=self._clock(),
            outcomes="scanning...",
            failed=0,
        )
        self._rich.start()
        with self._lock:
            latest = self._latest
        if latest is not None:
            self._rich.update(self._task, **self._bar_fields(latest))
