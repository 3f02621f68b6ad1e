"""Telemetry overhead: ``ItemEncryptor.encrypt/decrypt`` called directly vs through the hooks
the models and boto3 helpers use (``pynamodb_encryption._telemetry``).

Three modes, each in its own process (OpenTelemetry is resolved once per process):

* ``off``: ``PYNAMODB_ENCRYPTION_OTEL=off``, the same code path as without the ``otel`` extra;
* ``api``: ``opentelemetry-api`` installed, no SDK configured (the API's no-op tracer/meter);
* ``sdk``: the SDK with a span processor that drops spans and an in-memory metric reader.

The hook's own cost is timed on a stub encryptor (direct and hooked calls alternating, the
least disturbed round), then set against the median time of a real encrypt/decrypt: the ratio
is (item time + hook cost) / item time. Timing the real calls twice instead would drown a
sub-microsecond cost in this machine's noise.

Run: ``python benchmarks/bench_telemetry.py`` (``--rounds``, ``--number``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _measure(mode: str, rounds: int, number: int) -> str:
    import pynamodb_encryption as pe
    from _common import MAC_KEY, WRAPPING_KEY
    from pynamodb_encryption import _telemetry

    if mode == "sdk":
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider

        tracer = TracerProvider().get_tracer("bench")  # no processor: spans are dropped
        meter = MeterProvider(metric_readers=[InMemoryMetricReader()]).get_meter("bench")
        _telemetry.use(tracer, meter)
    encryptor = pe.ItemEncryptor(
        table_name="bench",
        partition_key_name="pk",
        attribute_actions=pe.AttributeActions(pe.CryptoAction.ENCRYPT_AND_SIGN),
        materials_provider=pe.WrappedMaterialsProvider(
            wrapping_key=pe.SymmetricKey(WRAPPING_KEY, "AES"),
            unwrapping_key=pe.SymmetricKey(WRAPPING_KEY, "AES"),
            signing_key=pe.SymmetricKey(MAC_KEY, "HmacSHA256"),
        ),
    )
    item = {"pk": {"S": "p"}, "a": {"S": "x" * 40}, "b": {"N": "12"}, "c": {"B": b"\x00" * 32}}
    stored = encryptor.encrypt(item)

    class Stub:
        """An encryptor that does nothing: isolates the cost of the hook itself."""

        table_name = "bench"

        def encrypt(self, x: object) -> object:
            return x

        decrypt = encrypt

    stub = Stub()

    def batch(func: object, argument: object, count: int) -> float:
        start = time.perf_counter_ns()
        for _ in range(count):
            func(argument)  # type: ignore[operator]
        return (time.perf_counter_ns() - start) / count / 1000

    lines = []
    for name in ("encrypt", "decrypt"):
        real = getattr(encryptor, name)
        argument = item if name == "encrypt" else stored
        hook = getattr(_telemetry, name)
        direct_stub = getattr(stub, name)

        def hooked_stub(x: object, hook: object = hook) -> object:
            return hook(stub, x)  # type: ignore[operator]

        for _ in range(50):
            real(argument)
        # The hook's own cost: stub calls are ~0.1 us, so many per batch, minimum of rounds
        # (the least disturbed), direct vs hooked alternating.
        plain: list[float] = []
        wrapped: list[float] = []
        for i in range(rounds):
            pair = [(plain, direct_stub), (wrapped, hooked_stub)]
            for target, func in pair if i % 2 == 0 else reversed(pair):
                target.append(batch(func, argument, number * 20))
        overhead = min(wrapped) - min(plain)
        work = statistics.median(batch(real, argument, number) for _ in range(rounds))
        lines.append(
            f"{mode:4} {name}: hook overhead {overhead * 1000:6.0f} ns per item; "
            f"{name} median {work:6.1f} us; ratio {(work + overhead) / work:.3f}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--mode", choices=("off", "api", "sdk"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:
        print(_measure(args.mode, args.rounds, args.number))
        return 0
    for mode in ("off", "api", "sdk"):
        env = dict(os.environ, PYNAMODB_ENCRYPTION_OTEL="off" if mode == "off" else "")
        command = [sys.executable, __file__, "--mode", mode]
        command += ["--rounds", str(args.rounds), "--number", str(args.number)]
        subprocess.run(command, env=env, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
