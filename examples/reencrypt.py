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
def recipe_static_key_replacement(
    client: DynamoDBClient, table: str, old: MaterialsProvider, new: MaterialsProvider
) -> Outcome:
    """Replace the keys of a static provider: every item so far has the old keys, no tag."""
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
    print(f"{preview.reencrypted} items to rewrite")  # a dry run writes nothing
    report = reencrypt_table(client, job)
    # 3. Once the report is clean, drop the old key: KeyRotationProvider(current=new,
    #    current_id="2"), then use previous={"2": new} at the next rotation.
    return job, report


# --8<-- [end:static]


# --8<-- [start:wrapped]
def recipe_wrapped_key_replacement(
    client: DynamoDBClient, table: str, old: WrappedMaterialsProvider
) -> Outcome:
    """Move a wrapped provider to a new wrapping key (here from AES to RSA) and HMAC key."""
    new = WrappedMaterialsProvider(
        wrapping_key=RsaPrivateKey.generate("RSA", 2048),
        signing_key=SymmetricKey.generate("HmacSHA256"),
    )
    rotation = KeyRotationProvider(current=new, current_id="rsa-1", untagged=old)
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=rotation),
        new=CryptoConfig(materials_provider=rotation),
    )
    return job, reencrypt_table(client, job, ReencryptOptions(segments=4))


# --8<-- [end:wrapped]


# --8<-- [start:most-recent]
def recipe_most_recent_new_version(client: DynamoDBClient, table: str, store: MetaStore) -> Outcome:
    """Create a new key version, then move every item to it (the items use version 0)."""
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
def recipe_kms_key_change(
    client: DynamoDBClient, table: str, kms: KMSClient, old_key: str, new_key: str
) -> Outcome:
    """Move every item's data key from one KMS key to another."""
    old = AwsKmsMaterialsProvider(key_id=old_key, kms_client=kms)
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
def recipe_reference_configuration_to_model(
    client: DynamoDBClient, table: str, provider: MaterialsProvider
) -> Outcome:
    """Items written by dynamodb-encryption-sdk (every attribute encrypted, its default) move
    to the actions of a model: only ``card`` encrypted, ``total`` signed, ``status`` plain."""
    reference_actions = AttributeActions(CryptoAction.ENCRYPT_AND_SIGN)  # the reference default

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
def recipe_encrypt_a_plain_attribute(
    client: DynamoDBClient, table: str, provider: MaterialsProvider
) -> Outcome:
    """``total`` was only signed; from now on it is encrypted too."""
    before = AttributeActions(attribute_actions={"total": CryptoAction.SIGN_ONLY})
    after = AttributeActions()  # everything but the keys encrypted
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
    provider = StaticMaterialsProvider(  # keys from your secret store
        encryption_key=SymmetricKey.generate("AES", 256),
        signing_key=SymmetricKey.generate("HmacSHA256", 256),
    )
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(),  # no provider: the items are plaintext
        new=CryptoConfig(materials_provider=provider),
        plaintext_policy=UnsignedItemPolicy.ADOPT,  # unsigned items are encrypted, not refused
    )
    return job, reencrypt_table(client, job)


# --8<-- [end:adopt]


# --8<-- [start:options]
def recipe_large_table_options(
    client: DynamoDBClient, table: str, old: MaterialsProvider, new: MaterialsProvider
) -> Outcome:
    """A long job: parallel segments, a capacity cap, a checkpoint, a progress callback."""
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

    def key() -> bytes:
        return secrets.token_bytes(32)

    def wrapped() -> WrappedMaterialsProvider:
        return WrappedMaterialsProvider(
            wrapping_key=SymmetricKey.generate("AES"),
            signing_key=SymmetricKey.generate("HmacSHA256"),
        )

    # Each recipe after seeding its table as the application wrote it before the change.
    def static(c: DynamoDBClient, t: str) -> Outcome:
        old = _static(key(), key())
        _seed(c, t, _encryptor(t, old))
        return recipe_static_key_replacement(c, t, old, _static(key(), key()))

    def wrapped_change(c: DynamoDBClient, t: str) -> Outcome:
        old = wrapped()
        _seed(c, t, _encryptor(t, old))
        return recipe_wrapped_key_replacement(c, t, old)

    def most_recent(c: DynamoDBClient, t: str) -> Outcome:
        MetaStore.create_table(c, f"{t}-keys")
        store = MetaStore(
            table_name=f"{t}-keys", materials_provider=meta_provider, dynamodb_client=c
        )
        writer = MostRecentProvider(meta_store=store, material_name="orders", ttl_seconds=60)
        _seed(c, t, _encryptor(t, writer))  # version 0 (created on first use)
        return recipe_most_recent_new_version(c, t, store)

    def kms_change(c: DynamoDBClient, t: str) -> Outcome:
        old_key = kms.create_key(Description="orders (old)")["KeyMetadata"]["KeyId"]
        new_key = kms.create_key(Description="orders (new)")["KeyMetadata"]["KeyId"]
        _seed(c, t, _encryptor(t, AwsKmsMaterialsProvider(key_id=old_key, kms_client=kms)))
        return recipe_kms_key_change(c, t, kms, old_key, new_key)

    def reference(c: DynamoDBClient, t: str) -> Outcome:
        provider = wrapped()
        _seed(c, t, _encryptor(t, provider, AttributeActions(CryptoAction.ENCRYPT_AND_SIGN)))
        return recipe_reference_configuration_to_model(c, t, provider)

    def encrypt_attribute(c: DynamoDBClient, t: str) -> Outcome:
        provider = wrapped()
        before = AttributeActions(attribute_actions={"total": CryptoAction.SIGN_ONLY})
        _seed(c, t, _encryptor(t, provider, before))
        return recipe_encrypt_a_plain_attribute(c, t, provider)

    def adopt(c: DynamoDBClient, t: str) -> Outcome:
        _seed(c, t, None)
        return recipe_adopt_plaintext_table(c, t)

    def options(c: DynamoDBClient, t: str) -> Outcome:
        old = _static(key(), key())
        _seed(c, t, _encryptor(t, old))
        return recipe_large_table_options(c, t, old, _static(key(), key()))

    recipes: dict[str, Any] = {
        "static": static,
        "wrapped": wrapped_change,
        "most-recent": most_recent,
        "kms": kms_change,
        "reference": reference,
        "encrypt-attribute": encrypt_attribute,
        "adopt": adopt,
        "options": options,
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
