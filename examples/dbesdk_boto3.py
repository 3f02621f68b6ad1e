"""The boto3 helpers with a DB-ESDK table configuration in AWS's own shape: code written for
AWS's DB-ESDK Python API (``aws_dbesdk_dynamodb``) moves with renamed imports.

Runs offline: ``python examples/dbesdk_boto3.py`` starts the embedded moto server (the ``demo``
extra). ``main(endpoint_url)`` uses a DynamoDB server you already run.
"""

from __future__ import annotations

import os
import sys
import uuid

# --8<-- [start:imports]
from typing import Any

import boto3

# AWS: from aws_dbesdk_dynamodb.encrypted.client import EncryptedClient
#      from aws_dbesdk_dynamodb.structures.dynamodb import (DynamoDbTableEncryptionConfig, ...)
from pynamodb_encryption.boto3 import EncryptedClient
from pynamodb_encryption.dbesdk import (
    CryptoAction,
    DbeAlgorithmSuite,
    DynamoDbTableEncryptionConfig,
    DynamoDbTablesEncryptionConfig,
    RawAesKeyring,
)

# --8<-- [end:imports]


# --8<-- [start:config]
def encrypted_client(dynamodb: Any, table: str, wrapping_key: bytes) -> EncryptedClient:
    keyring = RawAesKeyring(key_namespace="app", key_name="key-1", wrapping_key=wrapping_key)
    table_config = DynamoDbTableEncryptionConfig(
        logical_table_name=table,
        partition_key_name="partition_key",
        sort_key_name="sort_key",
        attribute_actions_on_encrypt={
            "partition_key": CryptoAction.SIGN_ONLY,
            "sort_key": CryptoAction.SIGN_ONLY,
            "attribute1": CryptoAction.ENCRYPT_AND_SIGN,
            "attribute2": CryptoAction.SIGN_ONLY,
            ":attribute3": CryptoAction.DO_NOTHING,
        },
        keyring=keyring,
        allowed_unsigned_attribute_prefix=":",
        algorithm_suite_id=(
            DbeAlgorithmSuite.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384_SYMSIG_HMAC_SHA384
        ),
    )
    tables_config = DynamoDbTablesEncryptionConfig(table_encryption_configs={table: table_config})
    return EncryptedClient(client=dynamodb, encryption_config=tables_config)


# --8<-- [end:config]


# --8<-- [start:use]
def put_and_get(client: EncryptedClient, table: str) -> dict[str, Any]:
    item = {
        "partition_key": {"S": "BasicPutGetExample"},
        "sort_key": {"N": "0"},
        "attribute1": {"S": "encrypt and sign me!"},
        "attribute2": {"S": "sign me!"},
        ":attribute3": {"S": "ignore me!"},
    }
    client.put_item(TableName=table, Item=item)
    key = {"partition_key": {"S": "BasicPutGetExample"}, "sort_key": {"N": "0"}}
    got: dict[str, Any] = client.get_item(TableName=table, Key=key)["Item"]
    assert got == item
    return got


# --8<-- [end:use]


def main(endpoint_url: str, *, table: str = "app-items") -> dict[str, Any]:
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    dynamodb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "partition_key", "KeyType": "HASH"},
            {"AttributeName": "sort_key", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "partition_key", "AttributeType": "S"},
            {"AttributeName": "sort_key", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
    client = encrypted_client(dynamodb, table, os.urandom(32))
    item = put_and_get(client, table)
    key = {"partition_key": {"S": "BasicPutGetExample"}, "sort_key": {"N": "0"}}
    stored = dynamodb.get_item(TableName=table, Key=key)["Item"]
    return {
        "round trip": client.get_item(TableName=table, Key=key)["Item"] == item,
        "attribute1 stored as": sorted(stored["attribute1"]),
        "header": "aws_dbe_head" in stored,
    }


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(main(sys.argv[1]))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            print(main(url, table=f"app-items-{uuid.uuid4().hex[:8]}"))
