"""AWS's beacon query vectors on DynamoDB Local (``data.json``, ``configs.json``,
``records.json``, ``large_records.json``; see tests/vectors/dbesdk/README.md).

As AWS's runner does: every query of ``data.json`` runs on a plaintext table first (the
expected results, from DynamoDB itself), then on a table written under each search
configuration of ``configs.json``, and must return the same items; the ``Complex`` queries
must include and exclude the records they name; the partition queries over 100 records of
``large_records.json``'s ``partition_encrypt`` must find every record exactly once across the
partitions and refuse partitions beyond the number of queries.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from _beacon_driver import Driver
from _dbe_vectors import comparable_item, load, short_value

from pynamodb_encryption.dbesdk import number_of_queries
from pynamodb_encryption.errors import ConfigurationError

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _only_ddblocal(ddb_backend: str) -> None:
    if ddb_backend != "ddblocal":
        pytest.skip("AWS's query vectors run against DynamoDB Local")


def _table(client: Any, *, gsis: list[list[str]] = ()) -> str:  # type: ignore[assignment]
    name = f"pe_beacons_{uuid.uuid4().hex}"
    definitions = {"RecNum": "N"}
    indexes = []
    for gsi in gsis:
        index, *keys = gsi
        for k in keys:
            definitions[k] = "S"
        schema = [{"AttributeName": keys[0], "KeyType": "HASH"}]
        if len(keys) > 1:
            schema.append({"AttributeName": keys[1], "KeyType": "RANGE"})
        indexes.append(
            {"IndexName": index, "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}
        )
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "RecNum", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": k, "AttributeType": t} for k, t in definitions.items()
        ],
        BillingMode="PAY_PER_REQUEST",
        **({"GlobalSecondaryIndexes": indexes} if indexes else {}),
    )
    return name


def _request(query: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    text = " ".join(v for k, v in query.items() if k in ("Key", "Filter"))
    tokens = set(re.findall(r":[A-Za-z0-9_]+", text))
    used = {k: short_value(v) for k, v in values.items() if k in tokens}
    request: dict[str, Any] = {}
    if "Key" in query:
        request["KeyConditionExpression"] = query["Key"]
    if "Filter" in query:
        request["FilterExpression"] = query["Filter"]
    if used:
        request["ExpressionAttributeValues"] = used
    return request


def _records() -> list[dict[str, Any]]:
    return [{k: short_value(v) for k, v in r.items()} for r in load("records.json")["Records"]]


def _run(driver: Driver, request: dict[str, Any]) -> list[Any] | str:
    try:
        items, _ = driver.search(request)
    except Exception as exc:  # DynamoDB's own refusal is an expected result too
        return f"error: {type(exc).__name__}"
    return sorted((comparable_item(i) for i in items), key=lambda i: str(sorted(i.items())))


def test_basic_queries_match_plaintext_results(dynamodb_client: Any, ddb_backend: str) -> None:
    _only_ddblocal(ddb_backend)
    data = load("data.json")
    configs = load("configs.json")["tableEncryptionConfigs"]
    records = _records()
    plain = Driver(dynamodb_client, _table(dynamodb_client), {})
    for r in records:
        plain.put(r)
    requests = [_request(q, data["Values"]) for q in data["Queries"]]
    expected = [_run(plain, r) for r in requests]
    # The vectors exercise real matches, not only empty results.
    assert sum(1 for e in expected if isinstance(e, list) and e) >= 10
    checked = 0
    for name in sorted(configs):
        driver = Driver(dynamodb_client, _table(dynamodb_client), configs[name])
        for r in records:
            driver.put(r)
        for query, request, want in zip(data["Queries"], requests, expected, strict=True):
            if name in query.get("Fail", ()):
                # Conditions on encrypted fields of a table without beacons: DB-ESDK refuses
                # them (AWS's runner skips them); so do we, before sending anything.
                with pytest.raises(ConfigurationError, match="without a beacon"):
                    driver.search(request)
                continue
            assert _run(driver, request) == want, (name, query)
            checked += 1
    assert checked >= 6 * len(requests) - 7


def test_complex_compound_queries(dynamodb_client: Any, ddb_backend: str) -> None:
    _only_ddblocal(ddb_backend)
    data = load("data.json")
    configs = load("configs.json")["tableEncryptionConfigs"]
    for test in data["Complex"]:
        driver = Driver(dynamodb_client, _table(dynamodb_client), configs[test["Config"]])
        for r in _records():
            driver.put(r)
        for q in test["Queries"]:
            request = _request({"Filter": q["Query"]}, data["Values"])
            items, _ = driver.search(request)
            found = {i["RecNum"]["N"] for i in items}
            for n in q.get("Pass", ()):
                assert str(n) in found, q
            for n in q.get("Fail", ()):
                assert str(n) not in found, q


PARTITION_VALUES = {
    "Attr1": "AAAA",
    "Attr2": "BBBB",
    "Attr3": "CCCC",
    "Attr4": "DDDD",
    "Attr5": "EEEE",
    "Attr6": "FFFF",
    "Attr7": "GGGG",
}
PARTITION_QUERIES = [
    # (index, key condition, filter, expected number of queries): AWS's PartitionTest1.
    ("ATTR_INDEX5", "Attr5 = :attr5", None, 5),
    ("ATTR_INDEX4", "Attr4 = :attr4", None, 4),
    ("ATTR_INDEX3", "Attr3 = :attr3", None, 3),
    ("ATTR_INDEX2", "Attr2 = :attr2", None, 2),
    ("ATTR_INDEX1", "Attr1 = :attr1", None, 1),
    ("ATTR_INDEX15", "Attr1 = :attr1 and Attr5 = :attr5", None, 5),
    ("ATTR_INDEX51", "Attr5 = :attr5 and Attr1 = :attr1", None, 5),
    ("ATTR_INDEX23", "Attr2 = :attr2 and Attr3 = :attr3", None, 5),
    ("ATTR_INDEX1", "Attr1 = :attr1", "Attr5 = :attr5", 1),
    ("ATTR_INDEX2", "Attr2 = :attr2", "Attr5 = :attr5", 2),
    ("ATTR_INDEX3", "Attr3 = :attr3", "Attr5 = :attr5", 3),
    ("ATTR_INDEX4", "Attr4 = :attr4", "Attr5 = :attr5", 4),
]


def test_partitioned_queries_find_every_record_once(dynamodb_client: Any, ddb_backend: str) -> None:
    _only_ddblocal(ddb_backend)
    large = load("large_records.json")
    config = large["largeEncryptionConfigs"]["partition_encrypt"]
    gsis = [g for g in large["GSI"] if not any(k.startswith("aws_dbe_b_Comp") for k in g[1:])]
    driver = Driver(dynamodb_client, _table(dynamodb_client, gsis=gsis), config)
    assert driver.beacons is not None
    for n in range(100):
        driver.put(
            {
                "RecNum": {"N": str(n)},
                **{k: {"S": v} for k, v in PARTITION_VALUES.items()},
                "PreferredPartition": {"N": str(n % 5)},
            }
        )
    for index, key, filt, queries in PARTITION_QUERIES:
        names = {w for w in (key + " " + (filt or "")).split() if w.startswith(":")}
        values = {v: {"S": PARTITION_VALUES["Attr" + v[-1]]} for v in names}
        request: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": key,
            "ExpressionAttributeValues": values,
            **({"FilterExpression": filt} if filt else {}),
        }
        assert number_of_queries(driver.beacons, request) == queries, key
        counts = [0] * 100
        for p in range(queries):
            partitioned = {
                **request,
                "ExpressionAttributeValues": {**values, ":aws_dbe_partition": {"N": str(p)}},
            }
            items, _ = driver.search(partitioned)
            assert items, (key, p)
            for i in items:
                counts[int(i["RecNum"]["N"])] += 1
        assert counts == [1] * 100, (key, filt)
        for p in range(queries, 5):
            with pytest.raises(ConfigurationError, match="number of queries"):
                driver.search(
                    {
                        **request,
                        "ExpressionAttributeValues": {
                            **values,
                            ":aws_dbe_partition": {"N": str(p)},
                        },
                    }
                )
        with pytest.raises(ConfigurationError, match=":aws_dbe_partition"):
            driver.search(request)
    # Scans OR-expand the filter over every partition: each record once (AWS's
    # GetPartitionScan1/2/3, a sample of the attribute combinations).
    for attrs in ((1,), (2,), (4,), (5,), (6,), (2, 3), (6, 2), (3, 4), (2, 3, 4), (1, 4, 5)):
        _scan_finds_every_record_once(driver, attrs)


def _scan_finds_every_record_once(driver: Driver, attrs: tuple[int, ...]) -> None:
    filt = " and ".join(f"Attr{a} = :attr{a}" for a in attrs)
    values = {f":attr{a}": {"S": PARTITION_VALUES[f"Attr{a}"]} for a in attrs}
    items, _ = driver.search({"FilterExpression": filt, "ExpressionAttributeValues": values})
    assert sorted(int(i["RecNum"]["N"]) for i in items) == list(range(100)), filt


def test_compound_beacons_with_partitions(dynamodb_client: Any, ddb_backend: str) -> None:
    # AWS's PartitionTest4: compound beacons whose encrypted parts have 1, 2 and 4 partitions.
    _only_ddblocal(ddb_backend)
    large = load("large_records.json")
    config = large["largeEncryptionConfigs"]["complex_partition_encrypt"]
    gsis = [g for g in large["GSI"] if g[0] in ("ATTR_INDEX2671", "ATTR_INDEX1472")]
    driver = Driver(dynamodb_client, _table(dynamodb_client, gsis=gsis), config)
    assert driver.beacons is not None
    for n in range(100):
        driver.put(
            {
                "RecNum": {"N": str(n)},
                **{k: {"S": v} for k, v in PARTITION_VALUES.items()},
                "PreferredPartition": {"N": str(n % 5)},
            }
        )
    for index, name, value, queries in (
        ("ATTR_INDEX2671", "Comp2671", "2_BBBB.6_FFFF.7_GGGG.1_AAAA", 2),
        ("ATTR_INDEX1472", "Comp1472", "1_AAAA.4_DDDD.7_GGGG.2_BBBB", 4),
    ):
        values = {":v": {"S": value}}
        request = {
            "IndexName": index,
            "KeyConditionExpression": f"{name} = :v",
            "ExpressionAttributeValues": values,
        }
        assert number_of_queries(driver.beacons, request) == queries
        counts = [0] * 100
        for p in range(queries):
            partition = {**values, ":aws_dbe_partition": {"N": str(p)}}
            items, _ = driver.search({**request, "ExpressionAttributeValues": partition})
            assert items, (name, p)
            for i in items:
                counts[int(i["RecNum"]["N"])] += 1
        assert counts == [1] * 100, name
        scan = {"FilterExpression": f"{name} = :v", "ExpressionAttributeValues": values}
        items, _ = driver.search(scan)
        assert sorted(int(i["RecNum"]["N"]) for i in items) == list(range(100)), name
