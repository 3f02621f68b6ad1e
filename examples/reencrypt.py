"""Re-encryption recipes: rotate keys, change provider or actions, adopt a plaintext table.

Each ``recipe_*`` function is one how-to (docs/how-to/rotate-keys.md and reencrypt.md quote
them). Every recipe seeds a fresh table the way an application would have written it, runs
the job, and runs it again to show the second run has nothing to do.

Runs offline: ``python examples/reencrypt.py`` starts the embedded moto server (the ``demo``
extra) for DynamoDB and KMS. ``main(endpoint_url)`` uses a server you already run.
"""

# --8<-- [start:imports]
from __future__ import annotations

import secrets
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from pynamodb_encryption import (
    AttributeActions,
    AwsKmsMaterialsProvider,
    CryptoAction,
    ItemEncryptor,
    MaterialsProvider,
    MetaStore,
    MostRecentProvider,
    RsaPrivateKey,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.maintenance import (
    CryptoConfig,
    KeyRotationProvider,
    KmsKeyCheck,
    ReencryptJob,
    ReencryptOptions,
    ReencryptReport,
    UnsignedItemPolicy,
    reencrypt_table,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
# --8<-- [end:imports]

ITEMS = 50
#: What each recipe returns: the job (to run again) and its report.
Outcome = tuple[ReencryptJob, ReencryptReport]


def _client(service: str, endpoint_url: str) -> Any:
    # Dummy credentials: local servers accept anything. For AWS, leave out endpoint and keys.
    make: Any = boto3.client  # one helper for both services
    return make(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _create_table(client: DynamoDBClient, prefix: str) -> str:
    name = f"{prefix}-{secrets.token_hex(4)}"
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "customer", "KeyType": "HASH"},
            {"AttributeName": "order", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "customer", "AttributeType": "S"},
            {"AttributeName": "order", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1})
    return name


def _order(i: int) -> dict[str, Any]:
    return {
        "customer": {"S": f"customer-{i % 5}"},
        "order": {"N": str(i)},
        "card": {"S": f"4111-0000-0000-{i:04d}"},
        "total": {"N": str(10 * i)},
        "status": {"S": "shipped"},
    }


def _encryptor(
    table: str, provider: MaterialsProvider, actions: AttributeActions | None = None
) -> ItemEncryptor:
    return ItemEncryptor(
        table_name=table,
        partition_key_name="customer",
        sort_key_name="order",
        attribute_actions=actions or AttributeActions(),
        materials_provider=provider,
    )


def _seed(client: DynamoDBClient, table: str, writer: ItemEncryptor | None) -> None:
    """Write ITEMS orders as the application did before the change (None: in plaintext)."""
    for i in range(ITEMS):
        item = _order(i)
        client.put_item(TableName=table, Item=writer.encrypt(item) if writer else item)


def _static(aes: bytes, hmac: bytes) -> StaticMaterialsProvider:
    return StaticMaterialsProvider(
        encryption_key=SymmetricKey(aes, "AES"), signing_key=SymmetricKey(hmac, "HmacSHA256")
    )


# --8<-- [start:static]
def recipe_static_key_replacement(client: DynamoDBClient, table: str) -> Outcome:
    """Replace the keys of a static provider."""
    old = _static(secrets.token_bytes(32), secrets.token_bytes(32))  # from your secret store
    new = _static(secrets.token_bytes(32), secrets.token_bytes(32))
    _seed(client, table, _encryptor(table, old))  # every item so far: old keys, no tag

    # 1. Deploy the application with this provider: it writes with the new keys (tagging
    #    items "key-id: 2") and still reads the untagged items with the old ones.
    rotation = KeyRotationProvider(current=new, current_id="2", untagged=old)
    # 2. Rewrite every item; the same provider is the old and the new configuration.
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=rotation),
        new=CryptoConfig(materials_provider=rotation),
    )
    preview = reencrypt_table(client, job, ReencryptOptions(dry_run=True))
    assert preview.reencrypted == ITEMS  # what would change; nothing written yet
    report = reencrypt_table(client, job)
    # 3. Once the report is clean, drop the old key: KeyRotationProvider(current=new,
    #    current_id="2"), then use previous={"2": new} at the next rotation.
    return job, report


# --8<-- [end:static]


# --8<-- [start:wrapped]
def recipe_wrapped_key_replacement(client: DynamoDBClient, table: str) -> Outcome:
    """Move a wrapped provider to a new wrapping key (here from AES to RSA) and HMAC key."""
    old = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey.generate("AES"), signing_key=SymmetricKey.generate("HmacSHA256")
    )
    new = WrappedMaterialsProvider(
        wrapping_key=RsaPrivateKey.generate("RSA", 2048),
        signing_key=SymmetricKey.generate("HmacSHA256"),
    )
    _seed(client, table, _encryptor(table, old))
    rotation = KeyRotationProvider(current=new, current_id="rsa-1", untagged=old)
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=rotation),
        new=CryptoConfig(materials_provider=rotation),
    )
    return job, reencrypt_table(client, job, ReencryptOptions(segments=4))


# --8<-- [end:wrapped]


# --8<-- [start:most-recent]
def recipe_most_recent_new_version(
    client: DynamoDBClient, table: str, meta_provider: MaterialsProvider
) -> Outcome:
    """Create a new key version, then move every item to it."""
    meta_table = f"{table}-keys"
    MetaStore.create_table(client, meta_table)
    store = MetaStore(
        table_name=meta_table, materials_provider=meta_provider, dynamodb_client=client
    )
    app_provider = MostRecentProvider(meta_store=store, material_name="orders", ttl_seconds=60)
    _seed(client, table, _encryptor(table, app_provider))  # version 0 (created on first use)

    store.new_version("orders")  # or: pynamodb-encryption metastore new-version
    # A fresh provider sees version 1 at once (applications do within their TTL); it also
    # reads every older version, so it serves as both the old and the new configuration.
    rotated = MostRecentProvider(meta_store=store, material_name="orders", ttl_seconds=60)
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=rotated),
        new=CryptoConfig(materials_provider=rotated),
    )
    return job, reencrypt_table(client, job)


# --8<-- [end:most-recent]


# --8<-- [start:kms]
def recipe_kms_key_change(client: DynamoDBClient, table: str, kms: KMSClient) -> Outcome:
    """Move every item's data key from one KMS key to another."""
    old_key = kms.create_key(Description="orders (old)")["KeyMetadata"]["KeyId"]
    new_key = kms.create_key(Description="orders (new)")["KeyMetadata"]["KeyId"]
    old = AwsKmsMaterialsProvider(key_id=old_key, kms_client=kms)
    _seed(client, table, _encryptor(table, old))

    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=old),
        new=CryptoConfig(
            materials_provider=AwsKmsMaterialsProvider(key_id=new_key, kms_client=kms)
        ),
        # KMS decrypts old data keys with the new provider too: ask KMS which key made them.
        current_check=KmsKeyCheck(kms, new_key),
    )
    return job, reencrypt_table(client, job)


# --8<-- [end:kms]


# --8<-- [start:reference]
def recipe_reference_configuration_to_model(client: DynamoDBClient, table: str) -> Outcome:
    """Items written by dynamodb-encryption-sdk (every attribute encrypted, its default) move
    to the actions of a model: only ``card`` encrypted, ``total`` signed, ``status`` plain."""
    wrapping, signing = SymmetricKey.generate("AES"), SymmetricKey.generate("HmacSHA256")
    provider = WrappedMaterialsProvider(wrapping_key=wrapping, signing_key=signing)
    reference_actions = AttributeActions(CryptoAction.ENCRYPT_AND_SIGN)  # the reference default
    _seed(client, table, _encryptor(table, provider, reference_actions))

    # What an EncryptedModel declares (Model.get_attribute_actions(); or build the whole job
    # with job_for_model(Model, old=...)): unmarked fields untouched, keys always signed.
    model_actions = AttributeActions(
        CryptoAction.DO_NOTHING,
        {
            "card": CryptoAction.ENCRYPT_AND_SIGN,
            "total": CryptoAction.SIGN_ONLY,
            "customer": CryptoAction.SIGN_ONLY,
            "order": CryptoAction.SIGN_ONLY,
        },
    )
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=provider, attribute_actions=reference_actions),
        new=CryptoConfig(materials_provider=provider, attribute_actions=model_actions),
    )
    return job, reencrypt_table(client, job)


# --8<-- [end:reference]


# --8<-- [start:encrypt-attribute]
def recipe_encrypt_a_plain_attribute(client: DynamoDBClient, table: str) -> Outcome:
    """``total`` was only signed; from now on it is encrypted too."""
    provider = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey.generate("AES"), signing_key=SymmetricKey.generate("HmacSHA256")
    )
    before = AttributeActions(attribute_actions={"total": CryptoAction.SIGN_ONLY})
    after = AttributeActions()  # everything but the keys encrypted
    _seed(client, table, _encryptor(table, provider, before))
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=provider, attribute_actions=before),
        new=CryptoConfig(materials_provider=provider, attribute_actions=after),
    )
    return job, reencrypt_table(client, job)


# --8<-- [end:encrypt-attribute]


# --8<-- [start:adopt]
def recipe_adopt_plaintext_table(client: DynamoDBClient, table: str) -> Outcome:
    """Encrypt a table whose items were written without any encryption."""
    _seed(client, table, None)
    provider = _static(secrets.token_bytes(32), secrets.token_bytes(32))
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(),  # no provider: the items are plaintext
        new=CryptoConfig(materials_provider=provider),
        plaintext_policy=UnsignedItemPolicy.ADOPT,  # unsigned items are encrypted, not refused
    )
    return job, reencrypt_table(client, job)


# --8<-- [end:adopt]


# --8<-- [start:options]
def recipe_large_table_options(client: DynamoDBClient, table: str) -> Outcome:
    """A long job: parallel segments, a capacity cap, a checkpoint, a progress callback."""
    old = _static(secrets.token_bytes(32), secrets.token_bytes(32))
    new = _static(secrets.token_bytes(32), secrets.token_bytes(32))
    _seed(client, table, _encryptor(table, old))
    checkpoint = Path(tempfile.mkdtemp()) / f"{table}.checkpoint"

    def show(progress: Any) -> None:
        print(f"\r{progress.scanned} items, {progress.items_per_second:.0f}/s", end="")

    options = ReencryptOptions(
        segments=4,  # parallel scan segments, one thread each
        page_size=100,  # checkpoint granularity
        checkpoint_path=checkpoint,  # rerun with the same file to resume after a crash
        max_items_per_second=500,  # leave room for the application
        max_capacity_per_second=1000,  # consumed RCU+WCU per second
        progress=show,
    )
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=old),
        new=CryptoConfig(materials_provider=new),
    )
    report = reencrypt_table(client, job, options)
    print()
    for failure in report.failures:  # keys of the items that could not be rewritten
        print(failure.key, failure.error, failure.reason)
    return job, report


# --8<-- [end:options]


def main(endpoint_url: str, kms_endpoint_url: str | None = None) -> dict[str, tuple[int, int]]:
    """Run every recipe on fresh tables; returns ``{recipe: (rewritten, current on rerun)}``."""
    client: DynamoDBClient = _client("dynamodb", endpoint_url)
    kms: KMSClient = _client("kms", kms_endpoint_url or endpoint_url)
    meta_provider = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey.generate("AES"), signing_key=SymmetricKey.generate("HmacSHA256")
    )
    recipes: dict[str, Any] = {
        "static": recipe_static_key_replacement,
        "wrapped": recipe_wrapped_key_replacement,
        "most-recent": lambda c, t: recipe_most_recent_new_version(c, t, meta_provider),
        "kms": lambda c, t: recipe_kms_key_change(c, t, kms),
        "reference": recipe_reference_configuration_to_model,
        "encrypt-attribute": recipe_encrypt_a_plain_attribute,
        "adopt": recipe_adopt_plaintext_table,
        "options": recipe_large_table_options,
    }
    results: dict[str, tuple[int, int]] = {}
    for name, recipe in recipes.items():
        table = _create_table(client, f"orders-{name}")
        try:
            job, report = recipe(client, table)
            assert report.ok, report.to_dict()
            # Idempotent: a second run finds every item current and writes nothing.
            rerun = reencrypt_table(client, job)
            assert rerun.ok
            assert rerun.reencrypted == 0
            results[name] = (report.reencrypted, rerun.already_current)
        finally:
            client.delete_table(TableName=table)
            if name == "most-recent":
                client.delete_table(TableName=f"{table}-keys")
    return results


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
    else:
        from pynamodb_encryption._embedded_moto import EmbeddedMoto

        with EmbeddedMoto() as url:
            print(main(url))
