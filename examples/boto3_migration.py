"""Moving boto3 code from dynamodb-encryption-sdk to pynamodb-encryption.

The "before" half is the reference library's ``EncryptedTable`` with a wrapped provider; the
"after" half is the same code on this library: an import change and a provider rename. Both
halves use the same keys, so items written before the move read after it, and the other way.

Runs offline: ``python examples/boto3_migration.py`` starts the embedded moto server (the
``demo`` extra). ``main(endpoint_url)`` uses a DynamoDB API you already run instead. The
"before" half needs ``pip install dynamodb-encryption-sdk``; without it only "after" runs.
"""

# --8<-- [start:imports]
from __future__ import annotations

import sys
import uuid
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Attr, Key

# --8<-- [end:imports]

# --8<-- [start:keys]
# The keys: in real code they come from a key store, never from source code.
WRAPPING_KEY = bytes(range(32))  # AES-256 key-encryption key
SIGNING_KEY = bytes(range(32, 64))  # HMAC-SHA256 key
# --8<-- [end:keys]


def resource(endpoint_url: str) -> Any:
    # Dummy credentials: local servers accept anything. For AWS, leave out the endpoint and keys.
    return boto3.resource(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def create_table(ddb: Any, name: str) -> None:
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "customer_id", "KeyType": "HASH"},
            {"AttributeName": "order_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "customer_id", "AttributeType": "S"},
            {"AttributeName": "order_id", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    ).wait_until_exists()


# --8<-- [start:before]
def before(ddb: Any, table_name: str) -> Any:
    """The reference library (dynamodb-encryption-sdk): returns its EncryptedTable."""
    from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey
    from dynamodb_encryption_sdk.encrypted.table import EncryptedTable
    from dynamodb_encryption_sdk.identifiers import CryptoAction, EncryptionKeyType, KeyEncodingType
    from dynamodb_encryption_sdk.material_providers.wrapped import (
        WrappedCryptographicMaterialsProvider,
    )
    from dynamodb_encryption_sdk.structures import AttributeActions

    def jce_key(material: bytes, algorithm: str) -> Any:
        return JceNameLocalDelegatedKey(
            key=material,
            algorithm=algorithm,
            key_type=EncryptionKeyType.SYMMETRIC,
            key_encoding=KeyEncodingType.RAW,
        )

    provider = WrappedCryptographicMaterialsProvider(
        wrapping_key=jce_key(WRAPPING_KEY, "AES"),
        unwrapping_key=jce_key(WRAPPING_KEY, "AES"),
        signing_key=jce_key(SIGNING_KEY, "HmacSHA256"),
    )
    actions = AttributeActions(
        default_action=CryptoAction.ENCRYPT_AND_SIGN,
        attribute_actions={"status": CryptoAction.SIGN_ONLY},
    )
    table = EncryptedTable(
        table=ddb.Table(table_name), materials_provider=provider, attribute_actions=actions
    )
    table.put_item(Item={"customer_id": "c1", "order_id": 1, "card": "4111-1111", "status": "new"})
    return table


# --8<-- [end:before]


# --8<-- [start:after]
def after(ddb: Any, table_name: str) -> Any:
    """The same code on pynamodb-encryption: returns our EncryptedTable."""
    from pynamodb_encryption import (
        AttributeActions,
        CryptoAction,
        EncryptedTable,
        SymmetricKey,
        WrappedMaterialsProvider,
    )

    provider = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey(WRAPPING_KEY, "AES"),  # also the unwrapping key
        signing_key=SymmetricKey(SIGNING_KEY, "HmacSHA256"),
    )
    actions = AttributeActions(
        default_action=CryptoAction.ENCRYPT_AND_SIGN,
        attribute_actions={"status": CryptoAction.SIGN_ONLY},
    )
    table = EncryptedTable(
        table=ddb.Table(table_name), materials_provider=provider, attribute_actions=actions
    )
    table.put_item(Item={"customer_id": "c1", "order_id": 2, "card": "5500-0000", "status": "new"})
    return table


# --8<-- [end:after]


# --8<-- [start:fail-closed]
def fail_closed(table: Any) -> list[str]:
    """What the reference let through and this library refuses, before any request."""
    from pynamodb_encryption import UnsupportedOperationError

    refused = []
    try:  # a filter on an encrypted attribute would compare ciphertext
        table.scan(FilterExpression=Attr("card").begins_with("4111"))
    except UnsupportedOperationError as exc:
        refused.append(f"scan: {exc}")
    try:  # an update of a signed attribute would break the item signature
        table.update_item(
            Key={"customer_id": "c1", "order_id": 1},
            UpdateExpression="SET #s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": "shipped"},
        )
    except UnsupportedOperationError as exc:
        refused.append(f"update_item: {exc}")
    return refused


# --8<-- [end:fail-closed]


def main(endpoint_url: str, *, table_name: str | None = None) -> dict[str, Any]:
    """Run both halves against a DynamoDB API; returns what each side read."""
    ddb = resource(endpoint_url)
    name = table_name or f"orders-{uuid.uuid4().hex[:8]}"
    create_table(ddb, name)
    try:
        try:
            old: Any = before(ddb, name)
        except ImportError:
            old = None
            print("dynamodb-encryption-sdk is not installed: running the 'after' half only")
        new = after(ddb, name)
        query = Key("customer_id").eq("c1")
        read_by_new = new.query(KeyConditionExpression=query)["Items"]
        read_by_old = old.query(KeyConditionExpression=query)["Items"] if old else []
        stored = ddb.Table(name).get_item(Key={"customer_id": "c1", "order_id": 2})["Item"]
        refused = fail_closed(new)
    finally:
        ddb.Table(name).delete()
    result = {
        "read_by_new": read_by_new,
        "read_by_old": read_by_old,
        "stored_card_type": type(stored["card"]).__name__,
        "refused": refused,
    }
    for key, value in result.items():
        print(f"{key}: {value}")
    assert all(item["order_id"] in (Decimal(1), Decimal(2)) for item in read_by_new)
    return result


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            main(url)
