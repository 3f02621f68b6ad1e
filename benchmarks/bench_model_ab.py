"""A/B: EncryptedModel against plain PynamoDB only, alternating small batches on one server.

``bench_model.py`` times three contenders (plain, encrypted, reference) in rotating order; on
this 2-core machine the reference's allocations and DynamoDB Local's JIT and garbage collector
add noise that lands unevenly on the contenders. This script times just the two the 1.10x
target compares, alternating batches of ``--number`` calls (the order flips every round), with
the garbage collector left on as in an application, and prints medians and the ratio.

Usage::

    python benchmarks/bench_model_ab.py                   # starts DynamoDB Local
    python benchmarks/bench_model_ab.py --backend moto
    python benchmarks/bench_model_ab.py --endpoint-url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pynamodb_encryption as pe
from _common import MAC_KEY, WRAPPING_KEY, environment_line, render_table
from bench_model import build_models, endpoint, python_item


def _batch_us(func: Callable[[], Any], number: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(number):
        func()
    return (time.perf_counter_ns() - start) / number / 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint-url", help="use this DynamoDB endpoint (no server started)")
    parser.add_argument("--backend", choices=("ddblocal", "moto"), default="ddblocal")
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--number", type=int, default=20, help="calls per batch")
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args(argv)

    with endpoint(args) as (url, label):
        provider = pe.WrappedMaterialsProvider(
            wrapping_key=pe.SymmetricKey(WRAPPING_KEY, "AES"),
            signing_key=pe.SymmetricKey(MAC_KEY, "HmacSHA256"),
        )
        plain, enc = build_models(f"ab-{uuid.uuid4().hex[:8]}", url, provider)
        for model in (plain, enc):
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        item = python_item(False)
        key = (item["pk"], item["sk"])
        contenders: dict[str, dict[str, Callable[[], Any]]] = {}
        for name, model in (("plain PynamoDB", plain), ("EncryptedModel", enc)):
            instance = model(**item)
            contenders[name] = {
                "save()": instance.save,
                "get()": lambda model=model: model.get(*key),
            }
        for ops in contenders.values():
            for func in ops.values():
                for _ in range(args.warmup):
                    func()
        samples: dict[tuple[str, str], list[float]] = {
            (name, op): [] for name, ops in contenders.items() for op in ops
        }
        names = list(contenders)
        for index in range(args.rounds):
            order = names if index % 2 == 0 else names[::-1]
            for op in ("save()", "get()"):
                for name in order:
                    samples[name, op].append(_batch_us(contenders[name][op], args.number))

        print(environment_line())
        print(f"server: {label}")
        rows = []
        for op in ("save()", "get()"):
            base = statistics.median(samples[names[0], op])
            for name in names:
                median = statistics.median(samples[name, op])
                rows.append([f"{name} {op}", f"{median:,.1f}", f"{median / base:.2f}x"])
        print(render_table(["representative item, round trip", "median µs", "vs plain"], rows))
        for model in (plain, enc):
            model.delete_table()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
