"""The condition evaluator that re-filters decrypted items agrees with DynamoDB Local.

Re-filtering is what keeps beacon false positives from the caller, so its semantics must be
DynamoDB's: each expression below is run as a Scan filter on DynamoDB Local over plaintext
items and evaluated locally; the matching keys must be the same.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from pynamodb_encryption.structured._expr import evaluate, parse, path_resolver

ITEMS: list[dict[str, Any]] = [
    {
        "pk": {"S": "a"},
        "s": {"S": "apple"},
        "n": {"N": "10"},
        "b": {"B": b"\x01\x02"},
        "ss": {"SS": ["x", "y"]},
        "ns": {"NS": ["1", "2.5"]},
        "l": {"L": [{"S": "x"}, {"N": "3"}]},
        "m": {"M": {"k": {"S": "v"}, "deep": {"L": [{"N": "1"}]}}},
        "t": {"BOOL": True},
    },
    {
        "pk": {"S": "b"},
        "s": {"S": "Äpfel"},
        "n": {"N": "-2.50"},
        "ss": {"SS": ["y"]},
        "z": {"NULL": True},
    },
    {"pk": {"S": "c"}, "s": {"S": "banana"}, "n": {"N": "10.0"}, "l": {"L": []}},
    {"pk": {"S": "d"}, "n": {"S": "10"}, "m": {"M": {"k": {"S": "w"}}}},
]
VALUES: dict[str, Any] = {
    ":s": {"S": "apple"},
    ":p": {"S": "ap"},
    ":z": {"S": "zzz"},
    ":ten": {"N": "10"},
    ":neg": {"N": "-3"},
    ":x": {"S": "x"},
    ":three": {"N": "3"},
    ":one": {"N": "1"},
    ":b": {"B": b"\x01"},
    ":t": {"BOOL": True},
    ":typeS": {"S": "S"},
    ":typeN": {"S": "N"},
    ":v": {"S": "v"},
    ":a": {"S": "A"},
}
EXPRESSIONS = [
    "s = :s",
    "s <> :s",
    "s < :z",
    "s >= :p",
    "s BETWEEN :p AND :z",
    "n = :ten",
    "n > :neg",
    "n BETWEEN :neg AND :ten",
    "n IN (:ten, :one)",
    "begins_with(s, :p)",
    "begins_with(b, :b)",
    "contains(s, :p)",
    "contains(ss, :x)",
    "contains(ns, :one)",
    "contains(l, :x)",
    "contains(l, :three)",
    "attribute_exists(z)",
    "attribute_not_exists(ss)",
    "attribute_type(n, :typeS)",
    "attribute_type(n, :typeN)",
    "size(s) > :three",
    "size(ss) = :one",
    "size(l) < :one",
    "m.k = :v",
    "m.deep[0] = :one",
    "l[1] = :three",
    "t = :t",
    "NOT s = :s",
    "s = :s OR n = :ten AND attribute_exists(b)",
    "(s = :s OR n = :ten) AND attribute_exists(b)",
    "NOT (contains(ss, :x) OR attribute_exists(z))",
    "s > :a",
]


@pytest.fixture
def table(dynamodb_client: Any, ddb_backend: str) -> str:
    if ddb_backend != "ddblocal":
        pytest.skip("the oracle is DynamoDB Local")
    name = f"pe_expr_{uuid.uuid4().hex}"
    dynamodb_client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for item in ITEMS:
        dynamodb_client.put_item(TableName=name, Item=item)
    return name


def test_evaluator_agrees_with_dynamodb_local(dynamodb_client: Any, table: str) -> None:
    for expression in EXPRESSIONS:
        node = parse(expression)
        used = {
            k: v for k, v in VALUES.items() if any(k == w.strip("(),") for w in expression.split())
        }
        extra = {"ExpressionAttributeValues": used} if used else {}
        got = dynamodb_client.scan(TableName=table, FilterExpression=expression, **extra)["Items"]
        want = sorted(i["pk"]["S"] for i in got)
        mine = sorted(i["pk"]["S"] for i in ITEMS if evaluate(node, path_resolver(i, {}), used))
        assert mine == want, expression
