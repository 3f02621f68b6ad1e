"""DB-ESDK keyrings: the branch key store and hierarchical keyring, AWS KMS, raw RSA, a
multi-keyring, and a keyring of AWS's material providers library through `MplKeyring`.

Runs offline: ``python examples/dbesdk_keyrings.py`` starts the embedded moto server (the
``demo`` extra) for KMS and DynamoDB. ``main(endpoint_url)`` uses a server you already run.
The `MplKeyring` part needs the ``mpl`` extra and is left out without it.
"""

# --8<-- [start:imports]
from __future__ import annotations

import sys
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

import boto3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pynamodb_encryption.dbesdk import (
    AwsKmsKeyring,
    CryptoAction,
    DbEsdkItemEncryptor,
    HierarchicalKeyring,
    Keyring,
    KeyStore,
    MplKeyring,
    MultiKeyring,
    RawRsaKeyring,
    RsaPadding,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
# --8<-- [end:imports]


def clients(
    endpoint_url: str, kms_endpoint_url: str | None = None
) -> tuple[KMSClient, DynamoDBClient]:
    # Dummy credentials: local servers accept anything. For AWS, leave out the endpoint and keys.
    options: dict[str, Any] = {
        "region_name": "us-east-1",
        "aws_access_key_id": "local",
        "aws_secret_access_key": "local",
    }
    kms = boto3.client("kms", endpoint_url=kms_endpoint_url or endpoint_url, **options)
    dynamodb = boto3.client("dynamodb", endpoint_url=endpoint_url, **options)
    return kms, dynamodb


def count_kms_calls(kms: KMSClient) -> Counter[str]:
    """Count the KMS operations this client sends (botocore ``before-call`` events)."""
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    kms.meta.events.register("before-call.kms.*", count)
    return calls


def create_orders_table(dynamodb: DynamoDBClient, table: str) -> None:
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "order_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "order_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.get_waiter("table_exists").wait(
        TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
    )


# --8<-- [start:orders]
def orders_encryptor(table: str, keyring: Keyring) -> DbEsdkItemEncryptor:
    return DbEsdkItemEncryptor(
        table_name=table,
        partition_key_name="order_id",
        attribute_actions={
            "order_id": CryptoAction.SIGN_ONLY,
            "card": CryptoAction.ENCRYPT_AND_SIGN,
            "total": CryptoAction.SIGN_ONLY,
        },
        keyring=keyring,
    )


def order(n: int) -> dict[str, Any]:
    return {
        "order_id": {"S": f"order-{n}"},
        "card": {"S": f"4111 1111 1111 {n:04d}"},
        "total": {"N": str(100 + n)},
    }


def read(dynamodb: DynamoDBClient, table: str, n: int) -> dict[str, Any]:
    key = {"order_id": {"S": f"order-{n}"}}
    return dict(dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"])


# --8<-- [end:orders]


# --8<-- [start:key-store]
def create_key_store(
    kms: KMSClient, dynamodb: DynamoDBClient, kms_key_arn: str, store_table: str
) -> tuple[KeyStore, str]:
    key_store = KeyStore(
        table_name=store_table,
        logical_key_store_name="orders-key-store",
        kms_key_id=kms_key_arn,  # the key's ARN: the store binds every key to it
        dynamodb_client=dynamodb,
        kms_client=kms,
    )
    key_store.create_key_store()  # once: creates the table if it does not exist
    branch_key_id = key_store.create_key()  # once per tenant (or once for the application)
    return key_store, branch_key_id


# --8<-- [end:key-store]


# --8<-- [start:hierarchical]
def write_orders(
    dynamodb: DynamoDBClient, table: str, key_store: KeyStore, branch_key_id: str
) -> None:
    keyring = HierarchicalKeyring(key_store=key_store, branch_key_id=branch_key_id)
    encryptor = orders_encryptor(table, keyring)
    for n in range(10):
        dynamodb.put_item(TableName=table, Item=encryptor.encrypt(order(n)))
    assert encryptor.decrypt(read(dynamodb, table, 0)) == order(0)


# --8<-- [end:hierarchical]


# --8<-- [start:rotate]
def rotate(key_store: KeyStore, branch_key_id: str) -> str:
    # Returns the new version. Keyrings pick it up within ttl_seconds; items written under the
    # old versions stay readable because the versions are kept.
    return key_store.version_key(branch_key_id)


# --8<-- [end:rotate]


def hierarchy(
    kms: KMSClient, dynamodb: DynamoDBClient, kms_key_arn: str, table: str, store_table: str
) -> dict[str, Any]:
    """Branch key store and hierarchical keyring: write, rotate, read everything back."""
    key_store, branch_key_id = create_key_store(kms, dynamodb, kms_key_arn, store_table)
    calls = count_kms_calls(kms)
    write_orders(dynamodb, table, key_store, branch_key_id)
    kms_calls_for_ten_items = sum(calls.values())

    new_version = rotate(key_store, branch_key_id)
    rotated = orders_encryptor(
        table, HierarchicalKeyring(key_store=key_store, branch_key_id=branch_key_id)
    )
    dynamodb.put_item(TableName=table, Item=rotated.encrypt(order(10)))
    readable = sum(rotated.decrypt(read(dynamodb, table, n)) == order(n) for n in range(11))
    active = key_store.get_active_branch_key(branch_key_id).branch_key_version
    return {
        "kms calls for 10 items": kms_calls_for_ten_items,
        "rotated to the new version": active == new_version,
        "items readable after rotation": readable,
    }


def rsa_key_pair() -> tuple[bytes, bytes]:
    """An RSA key pair as PEM (load yours from your secret store instead)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return public, private


# --8<-- [start:kms]
def aws_kms_keyring(kms: KMSClient, kms_key_arn: str) -> AwsKmsKeyring:
    return AwsKmsKeyring(kms_key_id=kms_key_arn, kms_client=kms)


# --8<-- [end:kms]


# --8<-- [start:rsa]
def rsa_escrow_keyring(public_pem: bytes) -> RawRsaKeyring:
    return RawRsaKeyring(
        key_namespace="orders-recovery",
        key_name="rsa-2026",
        public_key=public_pem,  # enough to write; the private key stays offline
        padding=RsaPadding.OAEP_SHA256,
    )


# --8<-- [end:rsa]


# --8<-- [start:recover]
def recover_order(
    dynamodb: DynamoDBClient, table: str, private_pem: bytes, n: int
) -> dict[str, Any]:
    recovery = RawRsaKeyring(
        key_namespace="orders-recovery", key_name="rsa-2026", private_key=private_pem
    )
    return orders_encryptor(table, recovery).decrypt(read(dynamodb, table, n))


# --8<-- [end:recover]


# --8<-- [start:multi]
def write_with_recovery_copy(
    dynamodb: DynamoDBClient, table: str, kms_keyring: Keyring, escrow: Keyring, n: int
) -> None:
    writer = orders_encryptor(table, MultiKeyring(generator=kms_keyring, children=[escrow]))
    dynamodb.put_item(TableName=table, Item=writer.encrypt(order(n)))


# --8<-- [end:multi]


def kms_with_rsa_escrow(
    kms: KMSClient, dynamodb: DynamoDBClient, kms_key_arn: str, table: str
) -> list[str]:
    """A multi-keyring: KMS for the application, an offline RSA key as a recovery copy."""
    public_pem, private_pem = rsa_key_pair()
    kms_keyring = aws_kms_keyring(kms, kms_key_arn)
    write_with_recovery_copy(dynamodb, table, kms_keyring, rsa_escrow_keyring(public_pem), 20)
    # Either copy opens the item on its own: KMS for the application, RSA offline.
    readers = {
        "kms": orders_encryptor(table, kms_keyring).decrypt(read(dynamodb, table, 20)),
        "rsa": recover_order(dynamodb, table, private_pem, 20),
    }
    return [name for name, item in readers.items() if item == order(20)]


# --8<-- [start:mpl]
def mpl_kms_encryptor(kms: KMSClient, kms_key_arn: str, table: str) -> DbEsdkItemEncryptor:
    # Needs the mpl extra: pip install 'pynamodb-encryption[mpl]'
    from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
    from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
    from aws_cryptographic_material_providers.mpl.models import CreateAwsKmsKeyringInput

    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    aws_keyring = mpl.create_aws_kms_keyring(
        CreateAwsKmsKeyringInput(kms_key_id=kms_key_arn, kms_client=kms)
    )
    return orders_encryptor(table, MplKeyring(aws_keyring))


# --8<-- [end:mpl]


def aws_material_providers(
    kms: KMSClient, dynamodb: DynamoDBClient, kms_key_arn: str, table: str
) -> bool:
    """A keyring of AWS's material providers library, used through `MplKeyring`."""
    encryptor = mpl_kms_encryptor(kms, kms_key_arn, table)
    dynamodb.put_item(TableName=table, Item=encryptor.encrypt(order(30)))
    # Same wire format: our own AwsKmsKeyring reads what AWS's keyring wrote.
    ours = orders_encryptor(table, aws_kms_keyring(kms, kms_key_arn))
    return bool(ours.decrypt(read(dynamodb, table, 30)) == order(30))


def main(
    endpoint_url: str,
    kms_endpoint_url: str | None = None,
    *,
    table: str = "orders",
    store_table: str = "orders-key-store",
) -> dict[str, Any]:
    """Run every part against a DynamoDB API and a KMS API; return what each part found."""
    kms, dynamodb = clients(endpoint_url, kms_endpoint_url)
    key = kms.create_key(Description="pynamodb-encryption DB-ESDK example")["KeyMetadata"]
    kms_key_arn = key["Arn"]
    create_orders_table(dynamodb, table)
    try:
        results = hierarchy(kms, dynamodb, kms_key_arn, table, store_table)
        results["multi-keyring readers"] = kms_with_rsa_escrow(kms, dynamodb, kms_key_arn, table)
        try:
            import aws_cryptographic_material_providers  # noqa: F401
        except ImportError:
            results["mpl keyring"] = "skipped: pip install 'pynamodb-encryption[mpl]'"
        else:
            results["mpl keyring"] = aws_material_providers(kms, dynamodb, kms_key_arn, table)
    finally:
        dynamodb.delete_table(TableName=table)
        dynamodb.delete_table(TableName=store_table)
    for name, value in results.items():
        print(f"{name}: {value}")
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(sys.argv[1])
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            main(url, table=f"orders-{uuid.uuid4().hex[:8]}")
