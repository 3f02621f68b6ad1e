"""Most recent provider: versioned keys in a meta table, protected by KMS, rotated by hand.

Runs offline: ``python examples/provider_most_recent.py`` starts the embedded moto server (the
``demo`` extra) for DynamoDB and KMS. ``main(endpoint_url)`` uses a server you already run.
"""

# --8<-- [start:imports]
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import boto3

from pynamodb_encryption import (
    AttributeActions,
    AwsKmsMaterialsProvider,
    CryptoAction,
    ItemEncryptor,
    MetaStore,
    MostRecentProvider,
    describe_item,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
# --8<-- [end:imports]

META_TABLE = "key-versions"


def clients(
    endpoint_url: str, kms_endpoint_url: str | None = None
) -> tuple[KMSClient, DynamoDBClient]:
    # Dummy credentials: local servers accept anything. For AWS, leave out the endpoint and keys.
    kms = boto3.client(
        "kms",
        endpoint_url=kms_endpoint_url or endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return kms, dynamodb


def meta_id(stored: dict[str, Any]) -> str:
    """The ``name#version`` an encrypted item records (read in the clear, for display only)."""
    described = describe_item(stored)
    assert described.provider_kind == "most-recent"
    return f"{described.material_name}#{described.material_version}"


# --8<-- [start:setup]
def most_recent_provider(
    dynamodb: DynamoDBClient, kms: KMSClient, key_id: str, meta_table: str = "key-versions"
) -> tuple[MetaStore, MostRecentProvider]:
    # Once: the meta table (N = material name, V = version), on-demand billing.
    MetaStore.create_table(dynamodb, meta_table)

    # The meta items hold the key material, so they are themselves encrypted: here with KMS.
    meta_store = MetaStore(
        table_name=meta_table,
        materials_provider=AwsKmsMaterialsProvider(key_id=key_id, kms_client=kms),
        dynamodb_client=dynamodb,
    )
    provider = MostRecentProvider(
        meta_store=meta_store,
        material_name="orders",  # any name without '#'
        ttl_seconds=300,  # writers look for a newer version at most every 5 minutes
    )
    return meta_store, provider


# --8<-- [end:setup]


# --8<-- [start:rotate]
def rotate(meta_store: MetaStore, provider: MostRecentProvider) -> int:
    new_version = meta_store.new_version("orders")  # highest + 1, with fresh keys
    provider.refresh()  # or wait up to ttl_seconds for writers to pick it up
    return new_version


# --8<-- [end:rotate]


def main(
    endpoint_url: str, kms_endpoint_url: str | None = None, *, meta_table: str = META_TABLE
) -> list[str]:
    """Run the example; returns the ``name#version`` of the items it wrote, in order."""
    kms, dynamodb = clients(endpoint_url, kms_endpoint_url)
    key_id = kms.create_key(Description="meta store key")["KeyMetadata"]["KeyId"]

    meta_store, provider = most_recent_provider(dynamodb, kms, key_id, meta_table)

    encryptor = ItemEncryptor(
        table_name="orders",
        partition_key_name="order_id",
        attribute_actions=AttributeActions(CryptoAction.ENCRYPT_AND_SIGN),
        materials_provider=provider,
    )
    try:
        first = encryptor.encrypt({"order_id": {"S": "o-1"}, "card": {"S": "4111"}})

        assert rotate(meta_store, provider) == 1
        second = encryptor.encrypt({"order_id": {"S": "o-2"}, "card": {"S": "5500"}})

        # Items of every version stay readable: each names its version.
        assert encryptor.decrypt(first)["card"] == {"S": "4111"}
        assert encryptor.decrypt(second)["card"] == {"S": "5500"}
        assert meta_store.versions("orders") == [0, 1]
        written = [meta_id(first), meta_id(second)]
    finally:
        dynamodb.delete_table(TableName=meta_table)
    print(f"items written with: {written}")
    return written


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            main(url)
