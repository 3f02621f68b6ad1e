"""The test servers themselves: each DynamoDB backend and moto KMS behave as the suite expects."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient


def test_endpoint_is_loopback(ddb_backend: str, ddb_endpoint: str, kms_endpoint: str) -> None:
    assert ddb_backend in {"ddblocal", "moto"}
    assert ddb_endpoint.startswith("http://127.0.0.1:")
    assert kms_endpoint.startswith("http://127.0.0.1:")
    if ddb_backend == "moto":
        assert ddb_endpoint == kms_endpoint
    else:
        assert ddb_endpoint != kms_endpoint


def test_put_get_and_transactions(
    dynamodb_client: DynamoDBClient, make_table: Callable[..., str]
) -> None:
    table = make_table(range_key=True)
    assert dynamodb_client.describe_table(TableName=table)["Table"]["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]

    key = {"pk": {"S": "item"}, "sk": {"N": "1"}}
    dynamodb_client.put_item(TableName=table, Item={**key, "v": {"N": "1"}, "b": {"B": b"\x00"}})
    got = dynamodb_client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert got == {**key, "v": {"N": "1"}, "b": {"B": b"\x00"}}

    # A transaction whose condition check fails applies none of its writes. (One item may
    # appear only once in a transaction, so the condition is on a third item.)
    other = {"pk": {"S": "other"}, "sk": {"N": "2"}}
    guard = {"pk": {"S": "guard"}, "sk": {"N": "3"}}
    dynamodb_client.put_item(TableName=table, Item={**guard, "v": {"N": "1"}})
    with pytest.raises(ClientError) as info:
        dynamodb_client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**other, "v": {"N": "9"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": key,
                        "UpdateExpression": "SET v = :new",
                        "ExpressionAttributeValues": {":new": {"N": "2"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": guard,
                        "ConditionExpression": "v = :expected",
                        "ExpressionAttributeValues": {":expected": {"N": "42"}},
                    }
                },
            ]
        )
    assert info.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r.get("Code") for r in info.value.response.get("CancellationReasons", [])]
    assert reasons == ["None", "None", "ConditionalCheckFailed"]
    assert "Item" not in dynamodb_client.get_item(TableName=table, Key=other, ConsistentRead=True)
    unchanged = dynamodb_client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert unchanged["v"] == {"N": "1"}

    # The same transaction with a true condition applies everything.
    dynamodb_client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {**other, "v": {"N": "9"}}}},
            {
                "Update": {
                    "TableName": table,
                    "Key": key,
                    "UpdateExpression": "SET v = :new",
                    "ConditionExpression": "v = :expected",
                    "ExpressionAttributeValues": {":new": {"N": "2"}, ":expected": {"N": "1"}},
                }
            },
        ]
    )
    assert dynamodb_client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]["v"] == {
        "N": "2"
    }
    assert "Item" in dynamodb_client.get_item(TableName=table, Key=other, ConsistentRead=True)

    # A conditional put that fails is a ConditionalCheckFailedException.
    with pytest.raises(ClientError) as info:
        dynamodb_client.put_item(
            TableName=table,
            Item={**key, "v": {"N": "3"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"


def test_table_name_is_unique(table_name: str, make_table: Callable[..., str]) -> None:
    assert make_table() == table_name
    assert table_name.startswith("pe_")


def test_kms_data_key_with_encryption_context(kms_client: KMSClient, kms_key_id: str) -> None:
    context = {"table": "t", "purpose": "test"}
    data_key = kms_client.generate_data_key(
        KeyId=kms_key_id, KeySpec="AES_256", EncryptionContext=context
    )
    assert len(data_key["Plaintext"]) == 32
    blob = data_key["CiphertextBlob"]
    assert data_key["Plaintext"] not in blob

    decrypted = kms_client.decrypt(CiphertextBlob=blob, EncryptionContext=context)
    assert decrypted["Plaintext"] == data_key["Plaintext"]

    for wrong in ({"table": "other", "purpose": "test"}, {"table": "t"}, {}):
        with pytest.raises(ClientError) as info:
            kms_client.decrypt(CiphertextBlob=blob, EncryptionContext=wrong)
        assert info.value.response["Error"]["Code"] == "InvalidCiphertextException"


def test_kms_keys_are_fresh(kms_key_id: str, kms_key_arn: str) -> None:
    assert kms_key_arn.endswith(f":key/{kms_key_id}")
    assert kms_key_arn.startswith("arn:aws:kms:us-east-1:")
