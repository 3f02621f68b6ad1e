"""Re-encryption at scale: write modes, client CPU per item, processes and Spark local[2].

On one table of DynamoDB Local (the representative item of ``_common``, static keys rotated
generation g -> g+1 so every run rewrites every item), one run measures:

* **plain copy**: what any job must do without cryptography: scan, then one conditional
  ``PutItem`` per item (the same ``#sig = :sig`` condition), written back unchanged;
* **job, put**: ``reencrypt_table`` with ``WriteMode.PUT`` (one conditional put per item);
* **job, transact**: ``WriteMode.TRANSACT`` (100 conditional puts per ``TransactWriteItems``);

interleaved over ``--repeat`` rounds (medians reported): items/s, the client's CPU per item
(``time.process_time`` of this process; DynamoDB Local is another process), requests per item
and capacity units per item as DynamoDB Local reports them. Then items/s of
``reencrypt_table_processes`` with 1, 2 and 4 processes and of ``reencrypt_table_spark`` on
Spark ``local[2]`` (when pyspark is installed).

Run: ``python benchmarks/bench_scale.py`` (``--items 2000 --repeat 3`` is the default, a
couple of minutes; ``--help``).
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common
from bench_reencrypt import client_for, create_table, load, provider_for, start_server

ROOT = Path(__file__).resolve().parent.parent


def make_job(endpoint: str, table: str, generation: int) -> tuple[Any, Any]:
    """The job factory for worker processes and Spark tasks (module level: picklable)."""
    from pynamodb_encryption.maintenance import CryptoConfig, ReencryptJob

    return client_for(endpoint), ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=provider_for(generation)),
        new=CryptoConfig(materials_provider=provider_for(generation + 1)),
    )


class RequestCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, **kwargs: Any) -> None:
        self.count += 1


@dataclass
class Sample:
    items_per_second: list[float] = field(default_factory=list)
    cpu_ms_per_item: list[float] = field(default_factory=list)
    requests_per_item: list[float] = field(default_factory=list)
    capacity_per_item: list[float] = field(default_factory=list)

    def add(self, items: int, seconds: float, cpu: float, requests: int, capacity: float) -> None:
        self.items_per_second.append(items / seconds)
        self.cpu_ms_per_item.append(1000 * cpu / items)
        self.requests_per_item.append(requests / items)
        self.capacity_per_item.append(capacity / items)


def plain_copy(client: Any, table: str, counter: RequestCounter) -> tuple[int, float]:
    """Scan and conditionally put every item back as it is; returns (items, capacity)."""
    items = 0
    capacity = 0.0
    params: dict[str, Any] = {
        "TableName": table,
        "ConsistentRead": True,
        "Limit": 250,
        "ReturnConsumedCapacity": "TOTAL",
    }
    while True:
        page = client.scan(**params)
        capacity += page.get("ConsumedCapacity", {}).get("CapacityUnits", 0)
        for item in page.get("Items", []):
            response = client.put_item(
                TableName=table,
                Item=item,
                ConditionExpression="#sig = :sig",
                ExpressionAttributeNames={"#sig": "*amzn-ddb-map-sig*"},
                ExpressionAttributeValues={":sig": item["*amzn-ddb-map-sig*"]},
                ReturnConsumedCapacity="TOTAL",
            )
            capacity += response.get("ConsumedCapacity", {}).get("CapacityUnits", 0)
            items += 1
        if "LastEvaluatedKey" not in page:
            return items, capacity
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def run_job(client: Any, table: str, generation: int, mode: str) -> tuple[int, float]:
    from pynamodb_encryption.maintenance import (
        CryptoConfig,
        ReencryptJob,
        ReencryptOptions,
        WriteMode,
        reencrypt_table,
    )

    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=provider_for(generation)),
        new=CryptoConfig(materials_provider=provider_for(generation + 1)),
    )
    # A cap far above anything reachable: only so that consumed capacity is requested.
    options = ReencryptOptions(write_mode=WriteMode(mode), max_capacity_per_second=1e12)
    report = reencrypt_table(client, job, options)
    if not report.ok or report.reencrypted != report.scanned:
        raise SystemExit(f"job failed: {report.to_dict()}")
    return report.scanned, report.consumed_capacity


def measure_modes(
    endpoint: str, table: str, items: int, repeat: int, generation: int
) -> tuple[dict[str, Sample], int]:
    client = client_for(endpoint)
    counter = RequestCounter()
    client.meta.events.register("before-call.dynamodb", counter)
    # The job builds every request itself: botocore's parameter validation only costs CPU.
    quick = client_for(endpoint, parameter_validation=False)
    quick.meta.events.register("before-call.dynamodb", counter)
    samples = {
        "plain copy": Sample(),
        "job, put": Sample(),
        "job, transact": Sample(),
        "job, put, no botocore validation": Sample(),
        "job, transact, no botocore validation": Sample(),
    }
    for _ in range(repeat):
        for label, sample in samples.items():
            counter.count = 0
            cpu0, wall0 = time.process_time(), time.perf_counter()
            if label == "plain copy":
                done, capacity = plain_copy(client, table, counter)
            else:
                mode = label.split(", ")[1]
                job_client = quick if "validation" in label else client
                done, capacity = run_job(job_client, table, generation, mode)
                generation += 1
            wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
            if done != items:
                raise SystemExit(f"{label}: {done} items, expected {items}")
            sample.add(done, wall, cpu, counter.count, capacity)
            print(f"  {label}: {done / wall:,.0f} items/s, {1000 * cpu / done:.3f} ms CPU/item")
    return samples, generation


def measure_processes(
    endpoint: str, table: str, counts: list[int], generation: int, mode: str
) -> tuple[dict[int, float], int]:
    from pynamodb_encryption.maintenance import (
        ReencryptOptions,
        WriteMode,
        reencrypt_table_processes,
    )

    results = {}
    for processes in counts:
        factory = functools.partial(make_job, endpoint, table, generation)
        options = ReencryptOptions(segments=2 * processes, write_mode=WriteMode(mode))
        started = time.perf_counter()
        report = reencrypt_table_processes(factory, options, processes=processes)
        wall = time.perf_counter() - started
        if not report.ok or report.reencrypted != report.scanned:
            raise SystemExit(f"processes={processes} failed: {report.to_dict()}")
        generation += 1
        results[processes] = report.scanned / wall
        print(f"  {processes} process(es): {results[processes]:,.0f} items/s (incl. start-up)")
    return results, generation


def measure_spark(endpoint: str, table: str, generation: int, mode: str) -> float | None:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        print("  pyspark not installed: no Spark figure")
        return None
    from pynamodb_encryption.maintenance import ReencryptOptions, WriteMode, reencrypt_table_spark

    os.environ["PYSPARK_PYTHON"] = sys.executable
    # Executors import the library (and this script's modules) through PYTHONPATH.
    paths = [str(ROOT / "src"), str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("bench-reencrypt")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .getOrCreate()
    )
    try:
        factory = functools.partial(make_job, endpoint, table, generation)
        with tempfile.TemporaryDirectory() as folder:
            started = time.perf_counter()
            report = reencrypt_table_spark(
                spark,
                factory,
                ReencryptOptions(segments=4, write_mode=WriteMode(mode)),
                checkpoint_location=folder,
            )
            wall = time.perf_counter() - started
        if not report.ok or report.reencrypted != report.scanned:
            raise SystemExit(f"spark failed: {report.to_dict()}")
    finally:
        spark.stop()
    print(f"  Spark local[2]: {report.scanned / wall:,.0f} items/s")
    return report.scanned / wall


def median(values: list[float]) -> float:
    return statistics.median(values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the write-mode trio")
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--scale-mode", choices=["put", "transact"], default="put")
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--endpoint-url")
    args = parser.parse_args(argv)
    for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
        os.environ.setdefault(name, value)
    stop = None
    endpoint = args.endpoint_url
    if endpoint is None:
        endpoint, stop = start_server()
    try:
        client = client_for(endpoint)
        table = f"bench-scale-{os.getpid()}"
        create_table(client, table)
        print(f"loaded {args.items:,} items in {load(client, table, 0, args.items, 0, 4):.1f} s")
        samples, generation = measure_modes(endpoint, table, args.items, args.repeat, 0)
        counts = [int(n) for n in args.processes.split(",")]
        per_process, generation = measure_processes(
            endpoint, table, counts, generation, args.scale_mode
        )
        spark = (
            None if args.no_spark else measure_spark(endpoint, table, generation, args.scale_mode)
        )
        client.delete_table(TableName=table)
    finally:
        if stop is not None:
            stop()

    print()
    print(
        f"{_common.environment_line()}; DynamoDB Local on the same machine; {args.items:,} items; "
        f"medians of {args.repeat} rounds"
    )
    print()
    copy = samples["plain copy"]
    print(
        "| contender | items/s | vs plain copy | client CPU ms/item | requests/item "
        "| capacity units/item |"
    )
    print("|---|---|---|---|---|---|")
    for label, sample in samples.items():
        print(
            f"| {label} | {median(sample.items_per_second):,.0f} "
            f"| {median(sample.items_per_second) / median(copy.items_per_second):.2f}x "
            f"| {median(sample.cpu_ms_per_item):.3f} | {median(sample.requests_per_item):.3f} "
            f"| {median(sample.capacity_per_item):.2f} |"
        )
    print()
    print(f"| runner ({args.scale_mode} mode) | items/s | vs 1 process |")
    print("|---|---|---|")
    base = per_process.get(1) or next(iter(per_process.values()))
    for processes, rate in per_process.items():
        print(f"| {processes} process(es) | {rate:,.0f} | {rate / base:.2f}x |")
    if spark is not None:
        print(f"| Spark local[2], 4 tasks | {spark:,.0f} | {spark / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
