"""The boto3 helpers' ``update_item`` never creates an unsigned item (Hardening 5).

An UpdateItem on a missing key creates the item; without a signature, the same helper then
refuses to read it. As ``EncryptedModel.update()`` does, the helpers add a condition that the
item exists and is signed, in every request form (expression string, boto3 condition object,
legacy ``AttributeUpdates``, transactions). Before the fix, each missing-key case below
created an unreadable item.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    EncryptedClient,
    EncryptedTable,
    StaticMaterialsProvider,
    SymmetricKey,
)

ACTIONS = AttributeActions(
    default_action=CryptoAction.ENCRYPT_AND_SIGN,
    attribute_actions={"hits": CryptoAction.DO_NOTHING},
)
PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey.generate("AES", 256),
    signing_key=SymmetricKey.generate("HmacSHA256", 256),
)


@pytest.fixture
def table(ddb_endpoint: str, make_table: Callable[..., str]) -> EncryptedTable:
    resource = boto3.resource("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")
    raw = resource.Table(make_table())
    return EncryptedTable(table=raw, materials_provider=PROVIDER, attribute_actions=ACTIONS)


@pytest.fixture
def client(dynamodb_client: Any) -> EncryptedClient:
    return EncryptedClient(
        client=dynamodb_client, materials_provider=PROVIDER, attribute_actions=ACTIONS
    )


def _code(exc: ClientError) -> str:
    return str(exc.response["Error"]["Code"])


def _missing(dynamodb_client: Any, table_name: str, key: str) -> bool:
    found = dynamodb_client.get_item(
        TableName=table_name, Key={"pk": {"S": key}}, ConsistentRead=True
    )
    return "Item" not in found


UPDATES: dict[str, dict[str, Any]] = {
    "expression": {
        "UpdateExpression": "ADD hits :one",
        "ExpressionAttributeValues": {":one": 1},
    },
    "expression-with-condition": {
        "UpdateExpression": "SET #h = :one",
        "ConditionExpression": "attribute_not_exists(#h) OR #h < :ten",
        "ExpressionAttributeNames": {"#h": "hits"},
        "ExpressionAttributeValues": {":one": 1, ":ten": 10},
    },
    "condition-object": {
        "UpdateExpression": "ADD hits :one",
        "ConditionExpression": Attr("hits").not_exists() | Attr("hits").lt(10),
        "ExpressionAttributeValues": {":one": 1},
    },
    "legacy": {"AttributeUpdates": {"hits": {"Action": "ADD", "Value": 1}}},
}


@pytest.mark.parametrize("form", sorted(UPDATES))
def test_table_update_item_never_creates_an_unsigned_item(
    table: EncryptedTable, dynamodb_client: Any, form: str
) -> None:
    with pytest.raises(ClientError) as raised:
        table.update_item(Key={"pk": "missing"}, **UPDATES[form])
    assert _code(raised.value) == "ConditionalCheckFailedException"
    assert _missing(dynamodb_client, table.name, "missing")
    # On an existing (signed) item the same update still works, and the item stays readable.
    table.put_item(Item={"pk": "there", "secret": "s"})
    table.update_item(Key={"pk": "there"}, **UPDATES[form])
    assert table.get_item(Key={"pk": "there"})["Item"] == {"pk": "there", "secret": "s", "hits": 1}


def test_client_update_item_never_creates_an_unsigned_item(
    client: EncryptedClient, table: EncryptedTable, dynamodb_client: Any
) -> None:
    with pytest.raises(ClientError) as raised:
        client.update_item(
            TableName=table.name,
            Key={"pk": {"S": "missing"}},
            UpdateExpression="ADD hits :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
    assert _code(raised.value) == "ConditionalCheckFailedException"
    assert _missing(dynamodb_client, table.name, "missing")


def test_transaction_update_never_creates_an_unsigned_item(
    client: EncryptedClient, table: EncryptedTable, dynamodb_client: Any
) -> None:
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table.name,
                        "Key": {"pk": {"S": "missing"}},
                        "UpdateExpression": "ADD hits :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                }
            ]
        )
    assert _code(raised.value) == "TransactionCanceledException"
    assert _missing(dynamodb_client, table.name, "missing")
