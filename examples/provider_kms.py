"""Direct AWS KMS: one KMS data key per item, an optional decrypt cache, a per-tenant provider.

Runs offline: ``python examples/provider_kms.py`` starts the embedded moto server (the ``demo``
extra) for KMS and DynamoDB. ``main(endpoint_url)`` uses a server you already run instead.
"""

# --8<-- [start:imports]
from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3

from pynamodb_encryption import (
    AttributeActions,
    AwsKmsMaterialsProvider,
    ConfigurationError,
    CryptoAction,
    DecryptionError,
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    ItemEncryptor,
    KmsDecryptCache,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
# --8<-- [end:imports]

TABLE = "customers"


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


def count_kms_calls(kms: KMSClient) -> Counter[str]:
    """Count the KMS operations this client sends (botocore ``before-call`` events)."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    kms.meta.events.register("before-call.kms.*", count)
    return calls


def encryptor(provider: Any, table: str = TABLE) -> ItemEncryptor:
    return ItemEncryptor(
        table_name=table,
        partition_key_name="tenant_id",
        sort_key_name="customer_id",
        attribute_actions=AttributeActions(
            CryptoAction.ENCRYPT_AND_SIGN, {"plan": CryptoAction.SIGN_ONLY}
        ),
        materials_provider=provider,
    )


def create_table(dynamodb: DynamoDBClient, table: str) -> None:
    dynamodb.create_table(
        TableName=table,
        KeySchema=[
            {"AttributeName": "tenant_id", "KeyType": "HASH"},
            {"AttributeName": "customer_id", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "tenant_id", "AttributeType": "S"},
            {"AttributeName": "customer_id", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )


# --8<-- [start:cache]
def cached_kms_provider(key_id: str, kms: KMSClient) -> AwsKmsMaterialsProvider:
    # Off by default. Bounded by size, age and uses; holds derived keys in memory.
    cache = KmsDecryptCache(max_entries=1000, ttl_seconds=300, max_uses=1000)
    return AwsKmsMaterialsProvider(key_id=key_id, kms_client=kms, decrypt_cache=cache)


# --8<-- [end:cache]


def direct_kms(kms: KMSClient, dynamodb: DynamoDBClient, key_id: str, table: str) -> dict[str, int]:
    """Write items, then read them back 5 times, without and with the decrypt cache."""
    calls = count_kms_calls(kms)
    # --8<-- [start:kms]
    writer = encryptor(AwsKmsMaterialsProvider(key_id=key_id, kms_client=kms), table)
    for n in range(10):
        item = {"tenant_id": "acme", "customer_id": n, "email": f"c{n}@example.com", "plan": "pro"}
        dynamodb.put_item(TableName=table, Item=writer.encrypt(to_ddb(item)))
    # --8<-- [end:kms]
    assert calls["GenerateDataKey"] == 10  # one data key per written item

    cached_reader = encryptor(cached_kms_provider(key_id, kms), table)
    plain_reader = encryptor(AwsKmsMaterialsProvider(key_id=key_id, kms_client=kms), table)

    decrypt_calls: dict[str, int] = {}
    for label, reader in (("without cache", plain_reader), ("with cache", cached_reader)):
        calls.clear()
        for _ in range(5):
            page = dynamodb.query(
                TableName=table,
                KeyConditionExpression="tenant_id = :t",
                ExpressionAttributeValues={":t": {"S": "acme"}},
                ConsistentRead=True,
            )
            for stored in page["Items"]:
                assert reader.decrypt(stored)["email"]["S"].endswith("@example.com")
        decrypt_calls[label] = calls["Decrypt"]
    return decrypt_calls


def to_ddb(item: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in item.items():
        out[name] = {"N": str(value)} if isinstance(value, int) else {"S": str(value)}
    return out


# --8<-- [start:tenant]
class PerTenantKmsProvider:
    """A custom provider: each tenant's items under that tenant's own KMS key.

    The tenant comes from the item's partition key, which is signed and bound into the KMS
    encryption context, so an item moved to another tenant fails to decrypt.
    """

    def __init__(self, *, key_ids: Mapping[str, str], kms_client: KMSClient) -> None:
        self._providers = {
            tenant: AwsKmsMaterialsProvider(key_id=key_id, kms_client=kms_client)
            for tenant, key_id in key_ids.items()
        }

    def _for(self, context: EncryptionContext) -> AwsKmsMaterialsProvider:
        tenant = context.attributes.get("tenant_id", {}).get("S")
        provider = self._providers.get(tenant) if isinstance(tenant, str) else None
        if provider is None:
            raise ConfigurationError("no KMS key for this tenant", table=context.table_name)
        return provider

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        return self._for(context).encryption_materials(context)

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        return self._for(context).decryption_materials(context)


# --8<-- [end:tenant]


def per_tenant(kms: KMSClient) -> None:
    key_ids = {t: kms.create_key(Description=f"tenant {t}")["KeyMetadata"]["KeyId"] for t in "ab"}
    tenants = encryptor(PerTenantKmsProvider(key_ids=key_ids, kms_client=kms))
    for tenant in key_ids:
        item = to_ddb({"tenant_id": tenant, "customer_id": 1, "email": "x@example.com"})
        assert tenants.decrypt(tenants.encrypt(item)) == item
    stored = tenants.encrypt(to_ddb({"tenant_id": "a", "customer_id": 1, "email": "x"}))
    try:
        tenants.decrypt({**stored, "tenant_id": {"S": "b"}})
    except DecryptionError:  # KMS refuses: the encryption context names tenant a
        pass
    else:
        raise AssertionError("an item moved to another tenant must not decrypt")


def main(
    endpoint_url: str, kms_endpoint_url: str | None = None, *, table: str = TABLE
) -> dict[str, int]:
    """Run the example against a DynamoDB API and a KMS API (one moto server serves both).

    Returns the number of KMS ``Decrypt`` calls for the read loop, without and with the cache.
    """
    kms, dynamodb = clients(endpoint_url, kms_endpoint_url)
    create_table(dynamodb, table)
    try:
        key_id = kms.create_key(Description="pynamodb-encryption example")["KeyMetadata"]["KeyId"]
        decrypt_calls = direct_kms(kms, dynamodb, key_id, table)
        per_tenant(kms)
    finally:
        dynamodb.delete_table(TableName=table)
    print(f"KMS Decrypt calls for 5 reads of 10 items: {decrypt_calls}")
    return decrypt_calls


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            main(url)
