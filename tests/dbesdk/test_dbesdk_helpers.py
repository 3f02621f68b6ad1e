"""DB-ESDK table configurations (AWS's shape) on the boto3 helpers (issue 11): every operation
on DynamoDB Local, the same fail-closed rules as the legacy configuration, and helpers and
models reading each other's items."""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import pytest
from _dbe_independent import decrypt as independent_decrypt
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from pynamodb_encryption import (
    ConfigurationError,
    DecryptionError,
    StaticMaterialsProvider,
    SymmetricKey,
    UnsupportedOperationError,
)
from pynamodb_encryption.boto3 import EncryptedClient, EncryptedResource, EncryptedTable
from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DynamoDbTableEncryptionConfig,
    DynamoDbTablesEncryptionConfig,
    LegacyOverride,
    LegacyPolicy,
    RawAesKeyring,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

WRAPPING_KEY = os.urandom(32)
KEYRING = RawAesKeyring(key_namespace="helpers", key_name="k", wrapping_key=WRAPPING_KEY)
ACTIONS = {
    "pk": CryptoAction.SIGN_ONLY,
    "sk": CryptoAction.SIGN_ONLY,
    "secret": CryptoAction.ENCRYPT_AND_SIGN,
    "status": CryptoAction.SIGN_ONLY,
    ":hits": CryptoAction.DO_NOTHING,
}


def _config(table: str, **extra: Any) -> DynamoDbTablesEncryptionConfig:
    return DynamoDbTablesEncryptionConfig(
        table_encryption_configs={
            table: DynamoDbTableEncryptionConfig(
                logical_table_name=table,
                partition_key_name="pk",
                sort_key_name="sk",
                attribute_actions_on_encrypt=ACTIONS,
                keyring=KEYRING,
                allowed_unsigned_attribute_prefix=":",
                **extra,
            )
        }
    )


def _item(sk: int, secret: str = "s") -> dict[str, Any]:
    return {
        "pk": {"S": "a"},
        "sk": {"N": str(sk)},
        "secret": {"S": secret},
        "status": {"S": "new"},
        ":hits": {"N": "0"},
    }


def test_client_operations(make_table: Callable[..., str], dynamodb_client: Any) -> None:
    table = make_table(range_key=True)
    client = EncryptedClient(client=dynamodb_client, encryption_config=_config(table))
    client.put_item(TableName=table, Item=_item(1, "one"))
    raw = dynamodb_client.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})
    assert "aws_dbe_head" in raw["Item"]
    assert "B" in raw["Item"]["secret"]
    # A decoder that shares no code with the library reads what the helper wrote.
    plain = independent_decrypt(
        raw["Item"],
        table=table,
        partition_key="pk",
        sort_key="sk",
        unsigned={":hits"},
        namespace="helpers",
        key_name="k",
        wrapping_key=WRAPPING_KEY,
    )
    assert plain["secret"] == {"S": "one"}
    key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert client.get_item(TableName=table, Key=key)["Item"] == _item(1, "one")
    client.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": _item(n, f"b{n}")}} for n in (2, 3)]}
    )
    got = client.batch_get_item(RequestItems={table: {"Keys": [key, {**key, "sk": {"N": "2"}}]}})
    assert sorted(i["secret"]["S"] for i in got["Responses"][table]) == ["b2", "one"]
    client.transact_write_items(TransactItems=[{"Put": {"TableName": table, "Item": _item(4)}}])
    got = client.transact_get_items(
        TransactItems=[{"Get": {"TableName": table, "Key": {**key, "sk": {"N": "4"}}}}]
    )
    assert got["Responses"][0]["Item"]["secret"] == {"S": "s"}
    pages = client.get_paginator("query").paginate(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "a"}},
        PaginationConfig={"PageSize": 2},
    )
    assert [i["sk"]["N"] for page in pages for i in page["Items"]] == ["1", "2", "3", "4"]
    scanned = client.scan(
        TableName=table,
        FilterExpression="#s = :v",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":v": {"S": "new"}},
    )
    assert len(scanned["Items"]) == 4
    # An unsigned attribute updates natively; the item still verifies.
    client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="ADD #h :one",
        ExpressionAttributeNames={"#h": ":hits"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert client.get_item(TableName=table, Key=key)["Item"][":hits"] == {"N": "1"}

    # Fail closed, before any request.
    with pytest.raises(UnsupportedOperationError):
        client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #s = :v",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":v": {"S": "x"}},
        )
    with pytest.raises(UnsupportedOperationError):
        client.update_item(
            TableName=table,
            Key={**key, "sk": {"N": "99"}},
            AttributeUpdates={":hits": {"Value": {"N": "1"}, "Action": "PUT"}},
        )
    with pytest.raises(UnsupportedOperationError):
        client.scan(TableName=table, ScanFilter={"status": {"ComparisonOperator": "NOT_NULL"}})
    with pytest.raises(UnsupportedOperationError):
        client.get_item(TableName=table, Key=key, ProjectionExpression="pk")
    with pytest.raises(UnsupportedOperationError):
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :p",
            FilterExpression="secret = :s",
            ExpressionAttributeValues={":p": {"S": "a"}, ":s": {"S": "one"}},
        )
    with pytest.raises(UnsupportedOperationError):
        client.execute_statement(Statement=f'SELECT * FROM "{table}"')
    with pytest.raises(ConfigurationError, match="DynamoDbTableEncryptionConfig"):
        client.get_item(TableName="another-table", Key=key)
    # The update guard: an UpdateItem never creates an unreadable (headerless) item.
    with pytest.raises(dynamodb_client.exceptions.ConditionalCheckFailedException):
        client.update_item(
            TableName=table,
            Key={**key, "sk": {"N": "99"}},
            UpdateExpression="SET #h = :one",
            ExpressionAttributeNames={"#h": ":hits"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )


def test_table_resource_and_model_read_each_other(
    make_table: Callable[..., str], ddb_endpoint: str, dynamodb_client: Any
) -> None:
    table = make_table(range_key=True)
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=ddb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    config = _config(table)
    encrypted = EncryptedTable(table=resource.Table(table), encryption_config=config)
    encrypted.put_item(Item={"pk": "a", "sk": 1, "secret": "from table", "status": "t"})
    via_resource = EncryptedResource(resource=resource, encryption_config=config).Table(table)
    got = via_resource.get_item(Key={"pk": "a", "sk": 1})["Item"]
    assert got["secret"] == "from table"
    assert got["sk"] == Decimal(1)

    class Item(EncryptedModel):
        class Meta:
            table_name = table
            host = ddb_endpoint
            keyring = KEYRING
            allowed_unsigned_attribute_prefix = ":"

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        secret = EncryptedAttribute(UnicodeAttribute(null=True))
        status = SignedAttribute(UnicodeAttribute(null=True))
        hits = NumberAttribute(null=True, attr_name=":hits")

    assert Item.get("a", 1).secret == "from table"
    Item("a", 2, secret="from model", status="m", hits=3).save()
    assert encrypted.get_item(Key={"pk": "a", "sk": 2})["Item"]["secret"] == "from model"
    client = EncryptedClient(client=dynamodb_client, encryption_config=config)
    assert len(client.scan(TableName=table)["Items"]) == 2


def test_legacy_override_on_a_helper(make_table: Callable[..., str], dynamodb_client: Any) -> None:
    table = make_table(range_key=True)
    provider = StaticMaterialsProvider(
        encryption_key=SymmetricKey.generate("AES", 256),
        signing_key=SymmetricKey.generate("HmacSHA256", 256),
    )
    # The legacy helper encrypts and signs every non-key attribute by default.
    legacy = EncryptedClient(dynamodb_client, provider)
    legacy.put_item(
        TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "0"}, "secret": {"S": "l"}}
    )
    override = LegacyOverride(
        policy=LegacyPolicy.FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT,
        encryptor=provider,
        attribute_actions_on_encrypt={"pk": CryptoAction.SIGN_ONLY, "sk": CryptoAction.SIGN_ONLY},
        default_attribute_flag=CryptoAction.ENCRYPT_AND_SIGN,
    )
    client = EncryptedClient(
        client=dynamodb_client, encryption_config=_config(table, legacy_override=override)
    )
    key = {"pk": {"S": "a"}, "sk": {"N": "0"}}
    assert client.get_item(TableName=table, Key=key)["Item"]["secret"] == {"S": "l"}
    client.put_item(TableName=table, Item=_item(1))
    formats = {
        i["sk"]["N"]: "aws_dbe_head" in i for i in dynamodb_client.scan(TableName=table)["Items"]
    }
    assert formats == {"0": False, "1": True}
    strict = EncryptedClient(client=dynamodb_client, encryption_config=_config(table))
    with pytest.raises(DecryptionError):
        strict.get_item(TableName=table, Key=key)


def test_configuration_errors(dynamodb_client: Any) -> None:
    with pytest.raises(ConfigurationError):
        DynamoDbTablesEncryptionConfig(table_encryption_configs={})
    with pytest.raises(ConfigurationError, match="DO_NOTHING"):
        EncryptedClient(
            client=dynamodb_client,
            encryption_config=DynamoDbTablesEncryptionConfig(
                table_encryption_configs={
                    "t": DynamoDbTableEncryptionConfig(
                        logical_table_name="t",
                        partition_key_name="pk",
                        attribute_actions_on_encrypt={
                            "pk": CryptoAction.SIGN_ONLY,
                            "x": CryptoAction.DO_NOTHING,
                        },
                        keyring=KEYRING,
                    )
                }
            ),
        )
    with pytest.raises(ConfigurationError, match="not both"):
        EncryptedClient(
            dynamodb_client,
            StaticMaterialsProvider(
                encryption_key=SymmetricKey.generate("AES", 256),
                signing_key=SymmetricKey.generate("HmacSHA256", 256),
            ),
            encryption_config=_config("t"),
        )
