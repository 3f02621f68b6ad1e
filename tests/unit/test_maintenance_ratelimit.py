"""The job's token bucket, with a fake clock (no real sleeping, no timing assertions)."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption import ConfigurationError
from pynamodb_encryption.maintenance import TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def bucket(rate: float, burst: float | None = None) -> tuple[TokenBucket, FakeTime]:
    fake = FakeTime()
    return TokenBucket(rate, burst=burst, clock=fake.clock, sleep=fake.sleep), fake


def test_burst_is_free_then_the_rate_holds() -> None:
    limiter, fake = bucket(10)
    for _ in range(10):
        assert limiter.acquire() == 0
    assert limiter.acquire() == pytest.approx(0.1)
    assert limiter.acquire() == pytest.approx(0.1)
    assert fake.now == pytest.approx(0.2)


def test_large_charges_go_into_debt_and_later_callers_pay_it() -> None:
    limiter, _ = bucket(100, burst=100)
    assert limiter.acquire(350) == pytest.approx(2.5)  # 250 units of debt at 100/s
    assert limiter.acquire(1) == pytest.approx(0.01)


def test_idle_time_refills_up_to_the_burst_only() -> None:
    limiter, fake = bucket(5, burst=5)
    for _ in range(5):
        limiter.acquire()
    fake.now += 100  # a long pause does not bank more than one burst
    for _ in range(5):
        assert limiter.acquire() == 0
    assert limiter.acquire() > 0


@settings(max_examples=50, deadline=None)
@given(
    rate=st.floats(min_value=0.5, max_value=5000),
    charges=st.lists(st.floats(min_value=0.01, max_value=50), min_size=1, max_size=200),
)
def test_long_run_rate_never_exceeds_the_cap(rate: float, charges: list[float]) -> None:
    limiter, fake = bucket(rate)
    for amount in charges:
        limiter.acquire(amount)
    burst = max(1.0, rate)
    # Everything beyond the initial burst was paid for in elapsed time.
    assert sum(charges) <= burst + rate * fake.now + 1e-6 * sum(charges)


def test_zero_and_negative_amounts_are_free() -> None:
    limiter, fake = bucket(1)
    assert limiter.acquire(0) == 0
    assert limiter.acquire(-3) == 0
    assert fake.slept == []


@pytest.mark.parametrize("rate", [0, -1, float("nan")])
def test_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ConfigurationError):
        TokenBucket(rate)


def test_thread_safe_accounting() -> None:
    limiter, _ = bucket(1000, burst=1000)
    lock = threading.Lock()
    waits: list[float] = []

    def worker() -> None:
        for _ in range(100):
            w = limiter.acquire()
            with lock:
                waits.append(w)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(waits) == 400
    assert all(w == 0 for w in waits)  # 400 units within a 1000-unit burst
