"""DynamoDB's nesting limit on every write path (issue 9, point 3): models and the boto3
helpers refuse an encrypted value nested deeper than DynamoDB allows before sending anything,
and read back the deepest value DynamoDB allows."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from pynamodb.attributes import ListAttribute, UnicodeAttribute

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    EncryptionError,
    StaticMaterialsProvider,
    SymmetricKey,
)
from pynamodb_encryption.boto3 import EncryptedClient, EncryptedTable
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel

SECRET = "s3cr3t-plaintext"
PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey(bytes(range(32)), "AES"),
    signing_key=SymmetricKey(bytes(range(32, 64)), "HmacSHA256"),
)
ACTIONS = AttributeActions(CryptoAction.ENCRYPT_AND_SIGN)
#: Lists a top-level value may nest: DynamoDB's "32 levels" count the item, and DynamoDB Local
#: refuses one more in the clear.
MAX_CONTAINERS = 31


def nested_list(containers: int) -> Any:
    value: Any = SECRET
    for _ in range(containers):
        value = [value]
    return value


def nested_ddb(containers: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": SECRET}
    for _ in range(containers):
        value = {"L": [value]}
    return value


def _count(dynamodb_client: Any, table: str) -> int:
    return int(dynamodb_client.scan(TableName=table, Select="COUNT")["Count"])


@pytest.fixture
def table(make_table: Callable[..., str]) -> str:
    return make_table()


@pytest.fixture
def model(ddb_endpoint: str, table: str) -> Iterator[Any]:
    class Deep(EncryptedModel):
        class Meta:
            table_name = table
            host = ddb_endpoint
            materials_provider = PROVIDER

        pk = UnicodeAttribute(hash_key=True)
        payload = EncryptedAttribute(ListAttribute[Any]())

    yield Deep
    with contextlib.suppress(Exception):
        Deep._connection = None


def test_model_refuses_too_deep_and_reads_back_the_deepest(
    model: Any, dynamodb_client: Any, table: str
) -> None:
    with pytest.raises(EncryptionError) as info:
        model(pk="deep", payload=nested_list(MAX_CONTAINERS + 1)).save()
    assert SECRET not in str(info.value)
    assert _count(dynamodb_client, table) == 0
    # payload is the top-level list: it and its contents make MAX_CONTAINERS lists.
    model(pk="ok", payload=nested_list(MAX_CONTAINERS)).save()
    assert model.get("ok").payload == nested_list(MAX_CONTAINERS)


def test_table_helper_refuses_too_deep(ddb_endpoint: str, dynamodb_client: Any, table: str) -> None:
    resource = boto3.resource("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")
    encrypted = EncryptedTable(
        table=resource.Table(table), materials_provider=PROVIDER, attribute_actions=ACTIONS
    )
    for depth in (MAX_CONTAINERS + 1, 3000):
        with pytest.raises(EncryptionError) as info:
            encrypted.put_item(Item={"pk": "deep", "payload": nested_list(depth)})
        assert SECRET not in str(info.value)
    assert _count(dynamodb_client, table) == 0
    encrypted.put_item(Item={"pk": "ok", "payload": nested_list(MAX_CONTAINERS)})
    got = encrypted.get_item(Key={"pk": "ok"}, ConsistentRead=True)["Item"]
    assert got["payload"] == nested_list(MAX_CONTAINERS)


def test_client_helper_refuses_too_deep(dynamodb_client: Any, table: str) -> None:
    client = EncryptedClient(
        client=dynamodb_client, materials_provider=PROVIDER, attribute_actions=ACTIONS
    )
    with pytest.raises(EncryptionError):
        client.put_item(
            TableName=table, Item={"pk": {"S": "deep"}, "payload": nested_ddb(MAX_CONTAINERS + 1)}
        )
    assert _count(dynamodb_client, table) == 0
    client.put_item(
        TableName=table, Item={"pk": {"S": "ok"}, "payload": nested_ddb(MAX_CONTAINERS)}
    )
    got = client.get_item(TableName=table, Key={"pk": {"S": "ok"}}, ConsistentRead=True)["Item"]
    assert got["payload"] == nested_ddb(MAX_CONTAINERS)


def test_helpers_refuse_an_encrypted_item_over_400_kb_before_sending(
    dynamodb_client: Any, table: str
) -> None:
    client = EncryptedClient(
        client=dynamodb_client, materials_provider=PROVIDER, attribute_actions=ACTIONS
    )
    with pytest.raises(EncryptionError) as info:
        client.put_item(
            TableName=table,
            Item={"pk": {"S": "big"}, "a": {"B": bytes(210_000)}, "b": {"B": bytes(210_000)}},
        )
    assert "400 KB" in str(info.value)
    assert _count(dynamodb_client, table) == 0
