"""EncryptedClient against a real DynamoDB API (DynamoDB Local and moto)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    CryptoAction,
    DecryptionError,
    EncryptedClient,
    ItemEncryptor,
    SignatureVerificationError,
    StaticMaterialsProvider,
    SymmetricKey,
    UnsupportedOperationError,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.boto3 import TableIndex, TableInfo

ACTIONS = AttributeActions(
    default_action=CryptoAction.ENCRYPT_AND_SIGN,
    attribute_actions={
        "signed": CryptoAction.SIGN_ONLY,
        "hits": CryptoAction.DO_NOTHING,
        "note": CryptoAction.DO_NOTHING,
    },
)


def _providers() -> dict[str, Any]:
    aes = SymmetricKey(bytes(range(32)), "AES")
    hmac = SymmetricKey(bytes(range(32, 64)), "HmacSHA256")
    return {
        "static": StaticMaterialsProvider(
            encryption_key=aes, decryption_key=aes, signing_key=hmac, verification_key=hmac
        ),
        "wrapped": WrappedMaterialsProvider(
            wrapping_key=SymmetricKey(bytes(range(16)), "AES"), signing_key=hmac
        ),
    }


PROVIDERS = _providers()


@pytest.fixture(params=sorted(PROVIDERS))
def provider(request: pytest.FixtureRequest) -> Any:
    return PROVIDERS[request.param]


@pytest.fixture
def table(make_table: Callable[..., str]) -> str:
    return make_table(range_key=True)


@pytest.fixture
def client(dynamodb_client: Any, provider: Any) -> EncryptedClient:
    return EncryptedClient(
        client=dynamodb_client, materials_provider=provider, attribute_actions=ACTIONS
    )


def _item(pk: str = "p1", sk: int = 1, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": pk},
        "sk": {"N": str(sk)},
        "secret": {"S": "top secret"},
        "signed": {"S": "visible"},
        "hits": {"N": "0"},
        "blob": {"B": b"\x00\x01\xff"},
        "nested": {"M": {"a": {"L": [{"N": "1.5"}, {"BOOL": True}, {"NULL": True}]}}},
        "tags": {"SS": ["x", "y"]},
    }
    item.update(extra)
    return item


def _normalized(item: dict[str, Any]) -> dict[str, Any]:
    """Sets come back in any order."""
    out = copy.deepcopy(item)
    for value in out.values():
        for tag in ("SS", "NS", "BS"):
            if tag in value:
                value[tag] = sorted(value[tag])
    return out


def test_put_get_round_trip_and_stored_form(
    client: EncryptedClient, dynamodb_client: Any, table: str
) -> None:
    item = _item()
    before = copy.deepcopy(item)
    client.put_item(TableName=table, Item=item)
    assert item == before, "the caller's item must not be modified"

    raw = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": "p1"}, "sk": {"N": "1"}})[
        "Item"
    ]
    assert set(raw["secret"]) == {"B"}, "encrypted attributes are stored as binary"
    assert raw["signed"] == {"S": "visible"}
    assert raw["pk"] == {"S": "p1"}
    assert SIGNATURE_ATTRIBUTE in raw

    got = client.get_item(TableName=table, Key={"pk": {"S": "p1"}, "sk": {"N": "1"}})["Item"]
    assert _normalized(got) == _normalized(item)


def test_get_missing_item(client: EncryptedClient, table: str) -> None:
    response = client.get_item(TableName=table, Key={"pk": {"S": "nope"}, "sk": {"N": "1"}})
    assert "Item" not in response


def test_tampered_item_is_rejected(
    client: EncryptedClient, dynamodb_client: Any, table: str
) -> None:
    client.put_item(TableName=table, Item=_item())
    dynamodb_client.update_item(
        TableName=table,
        Key={"pk": {"S": "p1"}, "sk": {"N": "1"}},
        UpdateExpression="SET signed = :v",
        ExpressionAttributeValues={":v": {"S": "forged"}},
    )
    with pytest.raises(SignatureVerificationError):
        client.get_item(TableName=table, Key={"pk": {"S": "p1"}, "sk": {"N": "1"}})


def test_query_scan_and_paginators(client: EncryptedClient, table: str) -> None:
    items = [_item("q", n, secret={"S": f"s{n}"}) for n in range(7)]
    for item in items:
        client.put_item(TableName=table, Item=item)
    client.put_item(TableName=table, Item=_item("other", 1))

    response = client.query(
        TableName=table,
        KeyConditionExpression="pk = :p AND sk >= :s",
        FilterExpression="signed = :v",
        ExpressionAttributeValues={":p": {"S": "q"}, ":s": {"N": "2"}, ":v": {"S": "visible"}},
    )
    assert [i["secret"]["S"] for i in response["Items"]] == [f"s{n}" for n in range(2, 7)]

    scanned = client.scan(TableName=table)["Items"]
    assert len(scanned) == 8
    assert all(set(i["secret"]) == {"S"} for i in scanned)

    pages = list(
        client.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "q"}},
            PaginationConfig={"PageSize": 3},
        )
    )
    assert len(pages) >= 3
    secrets = [i["secret"]["S"] for page in pages for i in page["Items"]]
    assert secrets == [f"s{n}" for n in range(7)]

    scan_pages = list(client.get_paginator("scan").paginate(TableName=table, Limit=2))
    assert sum(len(p["Items"]) for p in scan_pages) == 8
    full = (
        client.get_paginator("query")
        .paginate(
            TableName=table,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "q"}},
            PaginationConfig={"PageSize": 3},
        )
        .build_full_result()
    )
    assert [i["secret"]["S"] for i in full["Items"]] == [f"s{n}" for n in range(7)]
    assert full["Count"] == 7
    found = client.get_paginator("scan").paginate(TableName=table).search("Items[].secret.S")
    assert sorted(found) == sorted([f"s{n}" for n in range(7)] + ["top secret"])
    assert client.get_paginator("list_tables") is not None


def test_batch_write_and_get(client: EncryptedClient, dynamodb_client: Any, table: str) -> None:
    requests = [{"PutRequest": {"Item": _item("b", n)}} for n in range(5)]
    response = client.batch_write_item(RequestItems={table: requests})
    assert not response.get("UnprocessedItems")
    raw = dynamodb_client.scan(TableName=table)["Items"]
    assert all(set(i["secret"]) == {"B"} for i in raw)

    keys = [{"pk": {"S": "b"}, "sk": {"N": str(n)}} for n in range(5)]
    got = client.batch_get_item(RequestItems={table: {"Keys": keys}})["Responses"][table]
    assert sorted(int(i["sk"]["N"]) for i in got) == list(range(5))
    assert all(i["secret"] == {"S": "top secret"} for i in got)

    client.batch_write_item(
        RequestItems={table: [{"DeleteRequest": {"Key": keys[0]}}]},
    )
    assert "Item" not in client.get_item(TableName=table, Key=keys[0])


def test_transactions(client: EncryptedClient, dynamodb_client: Any, table: str) -> None:
    client.put_item(TableName=table, Item=_item("t", 0))
    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": _item("t", 1, secret={"S": "tx"})}},
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": "t"}, "sk": {"N": "0"}},
                    "UpdateExpression": "SET hits = hits + :one",
                    "ConditionExpression": "signed = :v",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":v": {"S": "visible"}},
                }
            },
        ]
    )
    raw = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": "t"}, "sk": {"N": "1"}})
    assert set(raw["Item"]["secret"]) == {"B"}
    got = client.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": table, "Key": {"pk": {"S": "t"}, "sk": {"N": "1"}}}},
            {"Get": {"TableName": table, "Key": {"pk": {"S": "t"}, "sk": {"N": "0"}}}},
            {"Get": {"TableName": table, "Key": {"pk": {"S": "t"}, "sk": {"N": "9"}}}},
        ]
    )["Responses"]
    assert got[0]["Item"]["secret"] == {"S": "tx"}
    assert got[1]["Item"]["hits"] == {"N": "1"}
    assert got[1]["Item"]["secret"] == {"S": "top secret"}
    assert not got[2].get("Item")


def test_update_unsigned_attribute_passes_and_returns_plaintext(
    client: EncryptedClient, table: str
) -> None:
    client.put_item(TableName=table, Item=_item())
    key = {"pk": {"S": "p1"}, "sk": {"N": "1"}}
    response = client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET hits = hits + :one, #n = :note",
        ExpressionAttributeNames={"#n": "note"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":note": {"S": "hi"}},
        ReturnValues="ALL_NEW",
    )
    assert response["Attributes"]["secret"] == {"S": "top secret"}
    assert response["Attributes"]["hits"] == {"N": "1"}
    got = client.get_item(TableName=table, Key=key)["Item"]
    assert got["note"] == {"S": "hi"}


def test_return_values_are_plaintext(client: EncryptedClient, table: str) -> None:
    key = {"pk": {"S": "p1"}, "sk": {"N": "1"}}
    client.put_item(TableName=table, Item=_item())
    old = client.put_item(
        TableName=table, Item=_item(secret={"S": "second"}), ReturnValues="ALL_OLD"
    )["Attributes"]
    assert old["secret"] == {"S": "top secret"}
    deleted = client.delete_item(TableName=table, Key=key, ReturnValues="ALL_OLD")["Attributes"]
    assert deleted["secret"] == {"S": "second"}


def test_condition_failure_item_is_plaintext(client: EncryptedClient, table: str) -> None:
    client.put_item(TableName=table, Item=_item())
    with pytest.raises(ClientError) as caught:
        client.put_item(
            TableName=table,
            Item=_item(),
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert caught.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert caught.value.response["Item"]["secret"] == {"S": "top secret"}  # type: ignore[typeddict-item]


def test_refused_before_any_request(client: EncryptedClient, table: str) -> None:
    key = {"pk": {"S": "p1"}, "sk": {"N": "1"}}
    with pytest.raises(UnsupportedOperationError):
        client.execute_statement(Statement=f'SELECT * FROM "{table}"')
    with pytest.raises(UnsupportedOperationError) as caught:
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET secret = :v",
            ExpressionAttributeValues={":v": {"S": "x"}},
        )
    assert caught.value.attribute == "secret"
    with pytest.raises(UnsupportedOperationError):
        client.get_item(TableName=table, Key=key, ProjectionExpression="secret")
    with pytest.raises(UnsupportedOperationError):
        client.scan(
            TableName=table,
            FilterExpression="secret = :v",
            ExpressionAttributeValues={":v": {"S": "x"}},
        )
    with pytest.raises(UnsupportedOperationError):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item("never", 1)}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": key,
                        "ConditionExpression": "secret = :v",
                        "ExpressionAttributeValues": {":v": {"S": "x"}},
                    }
                },
            ]
        )
    assert "Item" not in client.get_item(
        TableName=table, Key={"pk": {"S": "never"}, "sk": {"N": "1"}}
    )


def test_explicit_table_info_needs_no_describe(
    dynamodb_client: Any, provider: Any, table: str
) -> None:
    calls: list[str] = []
    dynamodb_client.meta.events.register(
        "before-call.dynamodb.DescribeTable", lambda **_: calls.append("describe")
    )
    client = EncryptedClient(
        client=dynamodb_client,
        materials_provider=provider,
        attribute_actions=ACTIONS,
        auto_refresh_table_indexes=False,
        table_info=TableInfo(name=table, primary_index=TableIndex("pk", "sk")),
    )
    client.put_item(TableName=table, Item=_item())
    assert client.get_item(TableName=table, Key={"pk": {"S": "p1"}, "sk": {"N": "1"}})["Item"]
    assert calls == []

    described = EncryptedClient(
        client=dynamodb_client, materials_provider=provider, attribute_actions=ACTIONS
    )
    for _ in range(3):
        described.get_item(TableName=table, Key={"pk": {"S": "p1"}, "sk": {"N": "1"}})
    assert calls == ["describe"], "DescribeTable is called once and cached"


def test_secondary_index_keys_are_signed_not_encrypted(
    dynamodb_client: Any, provider: Any, table_name: str
) -> None:
    dynamodb_client.create_table(
        TableName=table_name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "email", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_email",
                "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        dynamodb_client.get_waiter("table_exists").wait(
            TableName=table_name, WaiterConfig={"Delay": 1}
        )
        client = EncryptedClient(client=dynamodb_client, materials_provider=provider)
        item = {"pk": {"S": "u1"}, "email": {"S": "a@example.com"}, "ssn": {"S": "123"}}
        client.put_item(TableName=table_name, Item=item)
        raw = dynamodb_client.get_item(TableName=table_name, Key={"pk": {"S": "u1"}})["Item"]
        assert raw["email"] == {"S": "a@example.com"}
        assert set(raw["ssn"]) == {"B"}
        found = client.query(
            TableName=table_name,
            IndexName="by_email",
            KeyConditionExpression="email = :e",
            ExpressionAttributeValues={":e": {"S": "a@example.com"}},
        )["Items"]
        assert found == [item]
    finally:
        dynamodb_client.delete_table(TableName=table_name)


def test_per_call_item_encryptor_and_actions(
    client: EncryptedClient, dynamodb_client: Any, provider: Any, table: str
) -> None:
    sign_only = AttributeActions(default_action=CryptoAction.SIGN_ONLY)
    client.put_item(TableName=table, Item=_item(), attribute_actions=sign_only)
    raw = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": "p1"}, "sk": {"N": "1"}})
    assert raw["Item"]["secret"] == {"S": "top secret"}
    with pytest.raises(DecryptionError):
        client.get_item(TableName=table, Key={"pk": {"S": "p1"}, "sk": {"N": "1"}})
    assert client.get_item(
        TableName=table, Key={"pk": {"S": "p1"}, "sk": {"N": "1"}}, attribute_actions=sign_only
    )["Item"]["secret"] == {"S": "top secret"}

    # A complete per-call configuration: here, signing under another table name.
    other = ItemEncryptor(
        table_name="LogicalName",
        partition_key_name="pk",
        sort_key_name="sk",
        attribute_actions=ACTIONS,
        materials_provider=provider,
    )
    client.put_item(TableName=table, Item=_item("ctx"), item_encryptor=other)
    key = {"pk": {"S": "ctx"}, "sk": {"N": "1"}}
    with pytest.raises(SignatureVerificationError):
        client.get_item(TableName=table, Key=key)
    assert client.get_item(TableName=table, Key=key, item_encryptor=other)["Item"]["secret"] == {
        "S": "top secret"
    }


_values = st.recursive(
    st.one_of(
        st.text(max_size=20).map(lambda s: {"S": s}),
        st.integers(-(10**20), 10**20).map(lambda n: {"N": str(n)}),
        st.binary(max_size=20).map(lambda b: {"B": b}),
        st.booleans().map(lambda b: {"BOOL": b}),
        st.just({"NULL": True}),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: {"L": v}),
        st.dictionaries(st.text(max_size=5), inner, max_size=3).map(lambda v: {"M": v}),
    ),
    max_leaves=6,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    attributes=st.dictionaries(
        st.text(st.characters(codec="utf-8", exclude_characters="*"), min_size=1, max_size=8),
        _values,
        max_size=5,
    )
)
def test_round_trip_any_item(
    client: EncryptedClient, table: str, attributes: dict[str, Any]
) -> None:
    item = {k: v for k, v in attributes.items() if k not in ("pk", "sk")}
    item.update({"pk": {"S": "h"}, "sk": {"N": "1"}})
    client.put_item(TableName=table, Item=item)
    got = client.get_item(TableName=table, Key={"pk": {"S": "h"}, "sk": {"N": "1"}})["Item"]
    assert got == item


def test_transaction_cancellation_items_are_plaintext(client: EncryptedClient, table: str) -> None:
    client.put_item(TableName=table, Item=_item("c", 1))
    key = {"pk": {"S": "c"}, "sk": {"N": "1"}}
    with pytest.raises(ClientError) as caught:
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": _item("c", 2)}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": key,
                        "ConditionExpression": "signed = :v",
                        "ExpressionAttributeValues": {":v": {"S": "something else"}},
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
            ]
        )
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = caught.value.response["CancellationReasons"]  # type: ignore[typeddict-item]
    assert "Item" not in reasons[0]
    assert reasons[1]["Item"]["secret"] == {"S": "top secret"}, "decrypted for the caller"
    # Nothing of the cancelled transaction was applied.
    assert "Item" not in client.get_item(TableName=table, Key={"pk": {"S": "c"}, "sk": {"N": "2"}})
