"""A thread-safe token bucket: the job's cap on items or capacity units per second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ..errors import ConfigurationError

__all__ = ["TokenBucket"]


class TokenBucket:
    """Allows ``rate`` units per second on average, with bursts of up to ``burst`` units.

    `acquire` may take the bucket into debt (a page of capacity is only known after the
    request): later callers then wait until the debt is paid back, so the long-run rate holds
    whatever the size of each charge.

    Args:
        rate: units per second (> 0).
        burst: bucket size; defaults to ``rate`` (one second's worth).
        clock: monotonic clock in seconds (injectable for tests).
        sleep: how to wait (injectable for tests).
    """

    __slots__ = ("_burst", "_clock", "_last", "_lock", "_rate", "_sleep", "_tokens")

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ConfigurationError("a rate cap must be a positive number per second")
        self._rate = float(rate)
        self._burst = float(burst) if burst is not None else max(1.0, self._rate)
        if not self._burst > 0:
            raise ConfigurationError("a rate cap's burst must be positive")
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = self._burst
        self._last: float | None = None

    @property
    def rate(self) -> float:
        return self._rate

    def acquire(self, amount: float = 1.0) -> float:
        """Take ``amount`` units, sleeping as long as needed; returns the time slept."""
        if amount <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            if self._last is None:
                self._last = now
            self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
            self._last = now
            self._tokens -= amount
            wait = -self._tokens / self._rate if self._tokens < 0 else 0.0
        # Sleep outside the lock: the debt is already booked, so concurrent callers queue up
        # behind it instead of behind the lock.
        if wait > 0:
            self._sleep(wait)
        return wait
