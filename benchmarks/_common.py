"""Shared helpers for the benchmarks: the representative item, keys, timing and the table.

Kept free of any benchmark logic so that every benchmark script times things the same way:
interleaved rounds (so machine noise hits every contender alike), a warm-up, per-call
figures from ``perf_counter_ns``, and medians / 95th percentiles over the rounds.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Running ``python benchmarks/bench_x.py`` from a checkout works without installing the package.
_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

TABLE_NAME = "BenchTable"
PARTITION_KEY = "pk"
SORT_KEY = "sk"

# Fixed key bytes: both libraries get exactly the same keys (random keys would work as well;
# fixed ones make a failing cross-check reproducible).
WRAPPING_KEY = bytes(range(32))
CONTENT_KEY = bytes(range(100, 132))
MAC_KEY = bytes(range(200, 232))


def representative_item() -> dict[str, Any]:
    """A typical item in DynamoDB JSON: partition S + sort N + 10 attributes of every common
    shape (strings, numbers, a 1 KiB binary, a bool, a list, a nested map, a string set)."""
    return {
        PARTITION_KEY: {"S": "customer#000123"},
        SORT_KEY: {"N": "1700000000123"},
        "name": {"S": "Ada Lovelace"},
        "email": {"S": "ada.lovelace@example.com"},
        "address": {"S": "12 St James's Square, London SW1Y 4JH"},
        "balance": {"N": "1234.56"},
        "age": {"N": "36"},
        "avatar": {"B": bytes((i * 7 + 3) % 256 for i in range(1024))},
        "active": {"BOOL": True},
        "history": {"L": [{"S": "signup"}, {"N": "3"}, {"S": "upgrade"}]},
        "profile": {
            "M": {
                "city": {"S": "London"},
                "zip": {"S": "SW1Y 4JH"},
                "score": {"N": "98.5"},
                "prefs": {"M": {"lang": {"S": "en-GB"}, "tz": {"S": "Europe/London"}}},
            }
        },
        "roles": {"SS": ["admin", "editor", "viewer"]},
    }


# ---------------------------------------------------------------------------------------------
# Timing


@dataclass
class Case:
    """One contender: a name, a zero-argument callable, and the per-call times measured."""

    name: str
    func: Callable[[], object]
    samples_ns: list[float] = field(default_factory=list)

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples_ns) / 1000

    @property
    def p95_us(self) -> float:
        return percentile(self.samples_ns, 95) / 1000


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (no interpolation: a p95 that was actually observed)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), -(-len(ordered) * pct // 100)))
    return ordered[int(rank) - 1]


CLOCKS: dict[str, Callable[[], int]] = {
    # Elapsed time, what a caller waits for. On a shared machine it also counts the time
    # other processes held the CPU.
    "wall": time.perf_counter_ns,
    # CPU time of this process only: steadier when other work competes for the cores.
    "cpu": time.process_time_ns,
}


def _time_batch(func: Callable[[], object], number: int, clock: Callable[[], int]) -> float:
    start = clock()
    for _ in range(number):
        func()
    return (clock() - start) / number


def measure(
    cases: Sequence[Case], *, number: int, rounds: int, warmup: int, clock: str = "wall"
) -> None:
    """Fill ``samples_ns`` of every case with ``rounds`` per-call figures.

    Each round times ``number`` back-to-back calls of each case in turn, so a burst of noise
    on the shared machine lands on all contenders of the round rather than on one of them.
    The garbage collector is paused while timing, as ``timeit`` does. ``clock`` is a key of
    :data:`CLOCKS`.
    """
    timer = CLOCKS[clock]
    for case in cases:
        for _ in range(warmup):
            case.func()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for case in cases:
                case.samples_ns.append(_time_batch(case.func, number, timer))
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()


# ---------------------------------------------------------------------------------------------
# Output


def environment_line() -> str:
    import cryptography

    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"cryptography {cryptography.__version__}, {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured Markdown table (readable in a terminal and pasteable into docs)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def fmt_us(value: float) -> str:
    return f"{value:,.1f}"


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}x"
