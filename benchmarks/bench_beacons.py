"""Beacons at scale: equality queries on beacon GSIs over a 10,000-item table.

Writes N patients (default 10,000) through `BeaconItemEncryptor` into a table with a GSI on
each of two beacons (SSN: every value distinct; ZIP code: a pool of Z values), then runs
equality queries on both indexes through `prepare_query` and `BeaconQuery.decrypt`, and checks
that each returns exactly the matching items. It reports how many items DynamoDB read per item
returned (the beacons' false positives), beside the expectation ``1 + (X - 1) / 2^N`` for X
distinct values and N bits, and the time per query.

    python benchmarks/bench_beacons.py                   # starts DynamoDB Local (npm jar + java)
    python benchmarks/bench_beacons.py --items 2000 --queries 20
    python benchmarks/bench_beacons.py --endpoint-url http://localhost:8000
    python benchmarks/bench_beacons.py --model           # also through a PynamoDB model

Lengths: ``--ssn-bits`` / ``--zip-bits`` (default 16 and 10). ``beacon_length_bounds`` gives
the privacy range; ``--zip-bits 7`` is the top of it for 500 ZIP codes.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pynamodb_encryption.dbesdk import (
    BeaconItemEncryptor,
    BeaconVersion,
    CryptoAction,
    DbEsdkItemEncryptor,
    RawAesKeyring,
    SingleBeaconKeySource,
    StandardBeacon,
    StaticKeyStore,
    beacon_length_bounds,
    beacon_table_schema,
    prepare_query,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def endpoint(url: str | None) -> Iterator[str]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if url:
        yield url
        return
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from _servers import start_dynamodb_local

    server = start_dynamodb_local()
    try:
        yield server.url
    finally:
        server.stop()


def build(ssn_bits: int, zip_bits: int) -> BeaconItemEncryptor:
    rng = random.Random(7)
    store = StaticKeyStore(
        branch_key_id="bench",
        branch_key_version=str(uuid.UUID(int=rng.getrandbits(128))),
        branch_key=rng.randbytes(32),
        beacon_key=rng.randbytes(32),
    )
    version = BeaconVersion(
        standard_beacons=(StandardBeacon("ssn", ssn_bits), StandardBeacon("zip", zip_bits)),
        key_source=SingleBeaconKeySource(key_store=store, beacon_key_id="bench"),
    )
    encryptor = DbEsdkItemEncryptor(
        table_name="patients",
        partition_key_name="patient_id",
        attribute_actions={
            "patient_id": CryptoAction.SIGN_ONLY,
            "ssn": CryptoAction.ENCRYPT_AND_SIGN,
            "zip": CryptoAction.ENCRYPT_AND_SIGN,
            "name": CryptoAction.ENCRYPT_AND_SIGN,
            "visits": CryptoAction.SIGN_ONLY,
        },
        keyring=RawAesKeyring(key_namespace="bench", key_name="k", wrapping_key=rng.randbytes(32)),
    )
    return BeaconItemEncryptor(encryptor, version)


def patients(n: int, zips: int) -> list[dict[str, Any]]:
    rng = random.Random(11)
    ssns = rng.sample(range(10**9), n)
    pool = [f"{z:05d}" for z in rng.sample(range(100_000), zips)]
    return [
        {
            "patient_id": {"S": f"p{i:06d}"},
            "ssn": {"S": f"{s:09d}"},
            "zip": {"S": pool[i % zips]},
            "name": {"S": f"patient {i}"},
            "visits": {"N": str(rng.randrange(50))},
        }
        for i, s in enumerate(ssns)
    ]


def create_table(client: Any, table: str, beacons: BeaconItemEncryptor) -> None:
    gsis = [
        {
            "IndexName": f"{name}-index",
            "KeySchema": [{"AttributeName": name, "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
        for name in ("ssn", "zip")
    ]
    request = beacon_table_schema(
        beacons,
        {
            "TableName": table,
            "KeySchema": [{"AttributeName": "patient_id", "KeyType": "HASH"}],
            "AttributeDefinitions": [
                {"AttributeName": "patient_id", "AttributeType": "S"},
                {"AttributeName": "ssn", "AttributeType": "S"},
                {"AttributeName": "zip", "AttributeType": "S"},
            ],
            "GlobalSecondaryIndexes": gsis,
            "BillingMode": "PAY_PER_REQUEST",
        },
    )
    client.create_table(**request)


def write(
    client: Any, table: str, beacons: BeaconItemEncryptor, items: list[dict[str, Any]]
) -> tuple[float, float, float]:
    keys = beacons.hmac_keys(None)
    info = beacons.search_info
    tb = time.perf_counter()
    for i in items:
        info.encrypted_beacons(i, keys)
    beacons_s = time.perf_counter() - tb
    t0 = time.perf_counter()
    stored = [beacons.encrypt(i) for i in items]
    t1 = time.perf_counter()
    for start in range(0, len(stored), 25):
        batch = [{"PutRequest": {"Item": s}} for s in stored[start : start + 25]]
        pending: dict[str, Any] = {table: batch}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    t2 = time.perf_counter()
    return beacons_s, t1 - t0, t2 - t1


def run_queries(
    client: Any,
    table: str,
    beacons: BeaconItemEncryptor,
    items: list[dict[str, Any]],
    field: str,
    values: list[str],
) -> dict[str, Any]:
    ratios: list[float] = []
    times: list[float] = []
    read_total = matched_total = 0
    for value in values:
        expected = sorted(i["patient_id"]["S"] for i in items if i[field]["S"] == value)
        t0 = time.perf_counter()
        query = prepare_query(
            beacons,
            {
                "TableName": table,
                "IndexName": f"{field}-index",
                "KeyConditionExpression": f"{field} = :v",
                "ExpressionAttributeValues": {":v": {"S": value}},
            },
        )
        found: list[dict[str, Any]] = []
        read = 0
        start = None
        while True:
            page = client.query(**query.request, **({"ExclusiveStartKey": start} if start else {}))
            read += page["ScannedCount"]
            found.extend(query.decrypt(page["Items"]))
            start = page.get("LastEvaluatedKey")
            if not start:
                break
        times.append(time.perf_counter() - t0)
        got = sorted(i["patient_id"]["S"] for i in found)
        if got != expected:
            raise AssertionError(f"query on {field} returned other items than the matching ones")
        ratios.append(read / len(expected))
        read_total += read
        matched_total += len(expected)
    return {
        "queries": len(values),
        "matched": matched_total,
        "read": read_total,
        "ratio_mean": read_total / matched_total,
        "ratio_median": statistics.median(ratios),
        "ratio_max": max(ratios),
        "ms_median": statistics.median(times) * 1000,
    }


def model_class(table: str, host: str, ssn_bits: int, zip_bits: int, store: Any) -> Any:
    """The same table as a PynamoDB model: two beacon fields, a GSI on each."""
    from pynamodb.attributes import UnicodeAttribute
    from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

    from pynamodb_encryption.dbesdk import HierarchicalKeyring
    from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

    class SsnIndex(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = "ssn-index"
            projection = AllProjection()

        ssn = UnicodeAttribute(hash_key=True)

    class ZipIndex(GlobalSecondaryIndex[Any]):
        class Meta:
            index_name = "zip-index"
            projection = AllProjection()

        zip_code = UnicodeAttribute(hash_key=True)

    class Patient(EncryptedModel):
        class Meta:
            table_name = table
            keyring = HierarchicalKeyring(key_store=store, branch_key_id="bench")
            billing_mode = "PAY_PER_REQUEST"

        patient_id = UnicodeAttribute(hash_key=True)
        ssn = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=ssn_bits))
        zip_code = EncryptedAttribute(UnicodeAttribute(), beacon=StandardBeacon(length=zip_bits))
        name = EncryptedAttribute(UnicodeAttribute())
        visits = SignedAttribute(UnicodeAttribute())
        ssn_index = SsnIndex()
        zip_index = ZipIndex()

    Patient.Meta.host = host  # type: ignore[attr-defined]
    return Patient


def run_model(url: str, args: argparse.Namespace, items: list[dict[str, Any]]) -> list[str]:
    """Models: write the items with batch_write(), query both beacon GSIs, count reads."""
    rng = random.Random(7)
    store = StaticKeyStore(
        branch_key_id="bench",
        branch_key_version=str(uuid.UUID(int=rng.getrandbits(128))),
        branch_key=rng.randbytes(32),
        beacon_key=rng.randbytes(32),
    )
    patient = model_class(
        f"bench_beacon_model_{uuid.uuid4().hex[:8]}", url, args.ssn_bits, args.zip_bits, store
    )
    patient.create_table(wait=True)
    t0 = time.perf_counter()
    with patient.batch_write() as batch:
        for i in items:
            batch.save(
                patient(
                    i["patient_id"]["S"],
                    ssn=i["ssn"]["S"],
                    zip_code=i["zip"]["S"],
                    name=i["name"]["S"],
                    visits=i["visits"]["N"],
                )
            )
    write_s = time.perf_counter() - t0
    read = [0]

    def count(parsed: Any = None, **_: Any) -> None:
        if isinstance(parsed, dict):
            read[0] += int(parsed.get("ScannedCount", 0))

    events = patient._get_connection().connection.client.meta.events
    events.register("after-call.dynamodb.Query", count)
    rows = []
    try:
        sample = random.Random(3).sample(items, min(args.queries, len(items)))
        for field, index, bits, distinct in (
            ("ssn", patient.ssn_index, args.ssn_bits, len(items)),
            ("zip", patient.zip_index, args.zip_bits, args.zips),
        ):
            ratios: list[float] = []
            times: list[float] = []
            read_total = matched_total = 0
            for value in sorted({i[field]["S"] for i in sample}):
                expected = sorted(i["patient_id"]["S"] for i in items if i[field]["S"] == value)
                read[0] = 0
                t1 = time.perf_counter()
                got = sorted(p.patient_id for p in index.query(value))
                times.append(time.perf_counter() - t1)
                if got != expected:
                    raise AssertionError(f"model query on {field} returned other items")
                ratios.append(read[0] / len(expected))
                read_total += read[0]
                matched_total += len(expected)
            low, high = beacon_length_bounds(distinct)
            rows.append(
                f"| model {field} | {distinct} | {bits} ({low}..{high}) | {len(ratios)} | "
                f"{matched_total} | {read_total} | {read_total / matched_total:.2f}x (median "
                f"{statistics.median(ratios):.2f}x, max {max(ratios):.2f}x) | "
                f"{1 + (distinct - 1) / 2**bits:.2f}x | {statistics.median(times) * 1000:.1f} |"
            )
    finally:
        events.unregister("after-call.dynamodb.Query", count)
        with contextlib.suppress(Exception):
            patient.delete_table()
    print(f"model batch_write(): {write_s * 1e6 / len(items):.0f} µs/item (encrypt + write)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--zips", type=int, default=500)
    parser.add_argument("--ssn-bits", type=int, default=16)
    parser.add_argument("--zip-bits", type=int, default=10)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--endpoint-url")
    parser.add_argument(
        "--model", action="store_true", help="also run the queries through a PynamoDB model"
    )
    args = parser.parse_args(argv)

    import boto3

    beacons = build(args.ssn_bits, args.zip_bits)
    items = patients(args.items, args.zips)
    with endpoint(args.endpoint_url) as url:
        client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1")
        table = f"bench_beacons_{uuid.uuid4().hex[:8]}"
        create_table(client, table, beacons)
        beacons_s, encrypt_s, put_s = write(client, table, beacons, items)
        rng = random.Random(3)
        sample = rng.sample(items, min(args.queries, len(items)))
        rows = []
        for field, bits, distinct in (
            ("ssn", args.ssn_bits, len(items)),
            ("zip", args.zip_bits, args.zips),
        ):
            values = sorted({i[field]["S"] for i in sample})
            r = run_queries(client, table, beacons, items, field, values)
            low, high = beacon_length_bounds(distinct)
            expected = 1 + (distinct - 1) / 2**bits
            rows.append(
                f"| {field} | {distinct} | {bits} ({low}..{high}) | {r['queries']} | "
                f"{r['matched']} | {r['read']} | {r['ratio_mean']:.2f}x (median "
                f"{r['ratio_median']:.2f}x, max {r['ratio_max']:.2f}x) | {expected:.2f}x | "
                f"{r['ms_median']:.1f} |"
            )
        with contextlib.suppress(Exception):
            client.delete_table(TableName=table)
        if args.model:
            rows += run_model(url, args, items)
    per = 1e6 / args.items
    print(
        f"{args.items} items: encrypt with beacons {encrypt_s * per:.0f} µs/item, of which "
        f"the two beacons {beacons_s * per:.0f} µs; batch write {put_s:.1f} s"
    )
    print()
    print(
        "| beacon | distinct values X | bits N (privacy range) | queries | items matched | "
        "items read | read / matched | expected 1+(X-1)/2^N | ms per query (median) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print("\nEvery query returned exactly the matching items.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
