"""Re-encryption job benchmark: items/s by scan segments, and peak memory by table size.

Loads N items (default 100,000, the representative item of ``_common``) encrypted with a
static provider into DynamoDB Local, then rotates the static keys with
``pynamodb_encryption.maintenance.reencrypt_table``: generation g -> g+1, so each run rewrites
the whole table without reloading it. Every job runs in a **fresh child process** so that its
peak RSS (``ru_maxrss``) is the job's own, not the loader's.

Memory: the job streams pages, so its peak RSS should not grow with the table. The benchmark
first measures a job on a smaller table (``--small``, default 10,000 items), then grows the
table to N and measures again.

Server: ``--endpoint-url URL`` uses a running server; otherwise DynamoDB Local is started
from ``node_modules`` (``npm ci``) with the test-suite launcher, falling back to the embedded
moto server (much slower: moto is single-threaded and serialized).

Run: ``python benchmarks/bench_reencrypt.py`` (``--items 20000 --small 5000`` for a short run;
``--help``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import _common  # noqa: F401 - puts src/ on sys.path
from _common import PARTITION_KEY, SORT_KEY, representative_item

ROOT = Path(__file__).resolve().parent.parent


def keys_for(generation: int) -> tuple[bytes, bytes]:
    """Deterministic key bytes per generation (a benchmark, not an application)."""
    aes = hashlib.sha256(f"bench-aes-{generation}".encode()).digest()
    mac = hashlib.sha256(f"bench-mac-{generation}".encode()).digest()
    return aes, mac


def provider_for(generation: int) -> Any:
    from pynamodb_encryption import StaticMaterialsProvider, SymmetricKey

    aes, mac = keys_for(generation)
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(aes, "AES"), signing_key=SymmetricKey(mac, "HmacSHA256")
    )


def client_for(endpoint: str, *, parameter_validation: bool = True) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(
            max_pool_connections=32,
            retries={"max_attempts": 5, "mode": "standard"},
            parameter_validation=parameter_validation,
        ),
    )


# ---------------------------------------------------------------------------------------------
# Loading


def create_table(client: Any, table: str) -> None:
    client.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": SORT_KEY, "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})


def load(client: Any, table: str, start: int, stop: int, generation: int, threads: int) -> float:
    """Write items [start, stop) encrypted under ``generation``; returns seconds taken."""
    from pynamodb_encryption import AttributeActions, ItemEncryptor

    encryptor = ItemEncryptor(
        table_name=table,
        partition_key_name=PARTITION_KEY,
        sort_key_name=SORT_KEY,
        attribute_actions=AttributeActions(),
        materials_provider=provider_for(generation),
    )
    base = representative_item()

    def worker(first: int) -> None:
        for chunk in range(first, stop, 25 * threads):
            batch = []
            for i in range(chunk, min(chunk + 25, stop)):
                item = dict(base)
                item[PARTITION_KEY] = {"S": f"customer#{i % 997:06d}"}
                item[SORT_KEY] = {"N": str(i)}
                batch.append({"PutRequest": {"Item": encryptor.encrypt(item)}})
            pending: dict[str, Any] = {table: batch}
            while pending:
                pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
                if pending:
                    time.sleep(0.05)

    started = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(start + 25 * n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# One job (child process)


def child(args: argparse.Namespace) -> int:
    from pynamodb_encryption.maintenance import (
        CryptoConfig,
        ReencryptJob,
        ReencryptOptions,
        reencrypt_table,
    )

    client = client_for(args.endpoint_url)
    job = ReencryptJob(
        table_name=args.table,
        old=CryptoConfig(materials_provider=provider_for(args.generation)),
        new=CryptoConfig(materials_provider=provider_for(args.generation + 1)),
    )
    client.describe_table(TableName=args.table)  # warm the connection and botocore models
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    report = reencrypt_table(
        client, job, ReencryptOptions(segments=args.segments, page_size=args.page_size)
    )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss_peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu_before
    result = {
        "segments": args.segments,
        "scanned": report.scanned,
        "reencrypted": report.reencrypted,
        "failed": report.failed,
        "seconds": report.elapsed_seconds,
        "items_per_second": report.items_per_second,
        "rss_before_kib": rss_before,
        "rss_peak_kib": rss_peak,
        # CPU of the job's own process: the rest of the wall time is the server's.
        "client_cpu_share": cpu / report.elapsed_seconds if report.elapsed_seconds else 0.0,
    }
    print(json.dumps(result))
    return 0 if report.ok else 1


def run_job(
    endpoint: str, table: str, generation: int, segments: int, page_size: int
) -> dict[str, Any]:
    argv = [
        sys.executable,
        __file__,
        "--child",
        "--endpoint-url", endpoint,
        "--table", table,
        "--generation", str(generation),
        "--segments", str(segments),
        "--page-size", str(page_size),
    ]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"job failed ({out.returncode}):\n{out.stderr[-2000:]}\n{out.stdout}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------------------------------------
# Driver


def start_server() -> tuple[str, Any]:
    """DynamoDB Local from node_modules (the test-suite launcher), else embedded moto."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from _servers import ddblocal_problem, start_dynamodb_local

        if ddblocal_problem() is None:
            server = start_dynamodb_local()
            return server.url, server.stop
    except ImportError:
        pass
    from pynamodb_encryption._embedded_moto import EmbeddedMoto

    moto = EmbeddedMoto()
    url = moto.start()
    print("DynamoDB Local not available: using the embedded moto server (slow)")
    return url, moto.stop


def row(label: str, r: dict[str, Any]) -> str:
    return (
        f"| {label} | {r['segments']} | {r['scanned']:,} | {r['seconds']:.1f} | "
        f"{r['items_per_second']:,.0f} | {r['rss_before_kib'] / 1024:.0f} | "
        f"{r['rss_peak_kib'] / 1024:.0f} | {r['client_cpu_share']:.0%} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000, help="table size (default 100k)")
    parser.add_argument("--small", type=int, default=10_000, help="first, smaller table size")
    parser.add_argument("--segments", default="1,2,4", help="segment counts to measure")
    parser.add_argument("--page-size", type=int, default=250)
    parser.add_argument("--load-threads", type=int, default=4)
    parser.add_argument("--endpoint-url", help="use this DynamoDB API instead of starting one")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--table", help=argparse.SUPPRESS)
    parser.add_argument("--generation", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local")):
        os.environ.setdefault(name, value)
    if args.child:
        args.segments = int(args.segments)
        return child(args)

    stop = None
    endpoint = args.endpoint_url
    if endpoint is None:
        endpoint, stop = start_server()
    try:
        client = client_for(endpoint)
        table = f"bench-reencrypt-{os.getpid()}"
        create_table(client, table)
        segment_counts = [int(s) for s in args.segments.split(",")]
        generation = 0
        results: list[tuple[str, dict[str, Any]]] = []

        small = min(args.small, args.items)
        seconds = load(client, table, 0, small, generation, args.load_threads)
        print(f"loaded {small:,} items in {seconds:.1f} s")
        result = run_job(endpoint, table, generation, 1, args.page_size)
        generation += 1
        results.append((f"{small:,} items", result))
        print(row(f"{small:,} items", result), flush=True)

        seconds = load(client, table, small, args.items, generation, args.load_threads)
        print(f"loaded {args.items - small:,} more items in {seconds:.1f} s")
        for segments in segment_counts:
            result = run_job(endpoint, table, generation, segments, args.page_size)
            generation += 1
            results.append((f"{args.items:,} items", result))
            print(row(f"{args.items:,} items", result), flush=True)

        print()
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpu(s), endpoint {endpoint}")
        print(
            "| table | segments | items | seconds | items/s | RSS before job MiB "
            "| peak RSS MiB | job CPU / wall |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for label, result in results:
            print(row(label, result))
        if args.json is not None:
            args.json.write_text(json.dumps([{"table": t, **r} for t, r in results], indent=2))
        client.delete_table(TableName=table)
    finally:
        if stop is not None:
            stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
