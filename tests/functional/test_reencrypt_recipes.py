"""The rotation recipes of docs/how-to/rotate-keys.md, end to end on real servers.

Most-recent provider new version, KMS key change, moving items written by the reference
library to an ``EncryptedModel``. (Static/wrapped key replacement, a plain attribute becoming
encrypted and plaintext adoption are in test_reencrypt.py.)
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from test_reencrypt import (
    assert_all_readable,
    encryptor,
    plaintext_item,
    scan_all,
    seed_table,
)

from pynamodb_encryption import (
    AttributeActions,
    EncryptionContext,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.core import MATERIAL_DESCRIPTION_ATTRIBUTE
from pynamodb_encryption.core._md import MD_META_ID, decode_material_description
from pynamodb_encryption.maintenance import (
    CryptoConfig,
    KmsKeyCheck,
    ReencryptJob,
    job_for_model,
    reencrypt_table,
)
from pynamodb_encryption.providers import AwsKmsMaterialsProvider, MetaStore, MostRecentProvider


def descriptions(client: Any, table: str) -> list[dict[str, str]]:
    return [
        decode_material_description(item[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
        for item in scan_all(client, table)
    ]


@pytest.fixture
def meta_table(dynamodb_client: Any) -> Iterator[str]:
    name = f"pe_meta_{uuid.uuid4().hex[:12]}"
    MetaStore.create_table(dynamodb_client, name)
    yield name
    dynamodb_client.delete_table(TableName=name)


def test_most_recent_provider_new_version(
    dynamodb_client: Any, make_table: Any, meta_table: str
) -> None:
    table = make_table(range_key=True)
    meta = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey.generate("AES"), signing_key=SymmetricKey.generate("HmacSHA256")
    )

    def provider() -> MostRecentProvider:
        store = MetaStore(
            table_name=meta_table, materials_provider=meta, dynamodb_client=dynamodb_client
        )
        return MostRecentProvider(meta_store=store, material_name="orders", ttl_seconds=60)

    expected = seed_table(dynamodb_client, table, encryptor(table, provider()), count=40)
    assert {d[MD_META_ID] for d in descriptions(dynamodb_client, table)} == {"orders#0"}

    # Rotation: a new version in the meta store. Applications pick it up within their TTL;
    # the job moves the existing items to it (the same provider reads both versions).
    store = MetaStore(
        table_name=meta_table, materials_provider=meta, dynamodb_client=dynamodb_client
    )
    assert store.new_version("orders") == 1
    rotated = provider()
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=rotated),
        new=CryptoConfig(materials_provider=rotated),
    )
    report = reencrypt_table(dynamodb_client, job)

    assert report.ok
    assert report.reencrypted == 40
    assert {d[MD_META_ID] for d in descriptions(dynamodb_client, table)} == {"orders#1"}
    assert_all_readable(dynamodb_client, table, encryptor(table, rotated), expected)
    again = reencrypt_table(dynamodb_client, job)
    assert (again.reencrypted, again.already_current) == (0, 40)


def test_kms_key_change(
    dynamodb_client: Any, kms_client: Any, kms_key_id: str, make_table: Any
) -> None:
    table = make_table(range_key=True)
    new_key = kms_client.create_key(Description="rotation target")["KeyMetadata"]["KeyId"]
    old = AwsKmsMaterialsProvider(key_id=kms_key_id, kms_client=kms_client)
    new = AwsKmsMaterialsProvider(key_id=new_key, kms_client=kms_client)
    expected = seed_table(dynamodb_client, table, encryptor(table, old), count=15)

    # The new provider sends its own KeyId with Decrypt, so it cannot read old-key items: the
    # default check already sees them as not current.
    job = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=old),
        new=CryptoConfig(materials_provider=new),
    )
    report = reencrypt_table(dynamodb_client, job)
    assert report.ok
    assert report.reencrypted == 15
    assert_all_readable(dynamodb_client, table, encryptor(table, new), expected)
    # Every data key is now under the new key: KMS refuses it under the old KeyId.
    for item in scan_all(dynamodb_client, table):
        description = decode_material_description(item[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
        context = EncryptionContext(
            table_name=table,
            partition_key_name="pk",
            sort_key_name="sk",
            attributes={"pk": item["pk"], "sk": item["sk"]},
            material_description=description,
        )
        assert KmsKeyCheck(kms_client, new_key)(description, {}, context)
        assert not KmsKeyCheck(kms_client, kms_key_id)(description, {}, context)
    assert reencrypt_table(dynamodb_client, job).already_current == 15
    # KmsKeyCheck (for providers built with enforce_key_id=False) agrees.
    checked = ReencryptJob(
        table_name=table,
        old=CryptoConfig(materials_provider=old),
        new=CryptoConfig(materials_provider=new),
        current_check=KmsKeyCheck(kms_client, new_key),
    )
    assert reencrypt_table(dynamodb_client, checked).already_current == 15


def test_reference_library_items_move_to_a_model(
    dynamodb_client: Any, ddb_endpoint: str, make_table: Any
) -> None:
    pytest.importorskip("dynamodb_encryption_sdk")
    from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey
    from dynamodb_encryption_sdk.encrypted.client import EncryptedClient
    from dynamodb_encryption_sdk.identifiers import EncryptionKeyType, KeyEncodingType
    from dynamodb_encryption_sdk.material_providers.wrapped import (
        WrappedCryptographicMaterialsProvider,
    )
    from pynamodb.attributes import NumberAttribute, UnicodeAttribute

    from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

    table = make_table(range_key=True)
    aes, hmac = os.urandom(32), os.urandom(32)

    # 1. Items as an application using the reference library wrote them: every attribute
    #    encrypted (its default), keys signed.
    def jce(key: bytes, algorithm: str) -> Any:
        return JceNameLocalDelegatedKey(
            key=key,
            algorithm=algorithm,
            key_type=EncryptionKeyType.SYMMETRIC,
            key_encoding=KeyEncodingType.RAW,
        )

    reference = EncryptedClient(
        client=dynamodb_client,
        materials_provider=WrappedCryptographicMaterialsProvider(
            signing_key=jce(hmac, "HmacSHA256"),
            wrapping_key=jce(aes, "AES"),
            unwrapping_key=jce(aes, "AES"),
        ),
    )
    plain = []
    for i in range(12):
        item = plaintext_item(i)
        item = {
            "pk": item["pk"],
            "sk": item["sk"],
            "secret": item["secret"],
            "amount": item["amount"],
        }
        item["note"] = {"S": f"note {i}"}
        reference.put_item(TableName=table, Item=item)
        plain.append(item)

    # 2. The model the application moves to: only `secret` encrypted, `amount` signed,
    #    `note` left alone; same keys, this library's wrapped provider.
    provider = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey(aes, "AES"), signing_key=SymmetricKey(hmac, "HmacSHA256")
    )

    class Order(EncryptedModel):
        class Meta:
            table_name = table
            host = ddb_endpoint
            region = "us-east-1"
            materials_provider = provider

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        secret = EncryptedAttribute(UnicodeAttribute())
        amount = SignedAttribute(NumberAttribute())
        note = UnicodeAttribute(null=True)

    job = job_for_model(
        Order,
        old=CryptoConfig(materials_provider=provider, attribute_actions=AttributeActions()),
    )
    report = reencrypt_table(dynamodb_client, job)
    assert report.ok
    assert report.reencrypted == 12

    # 3. The model reads every item; stored layout follows the model.
    for item in plain:
        order = Order.get(item["pk"]["S"], int(item["sk"]["N"]))
        assert order.secret == item["secret"]["S"]
        assert order.amount == Decimal(item["amount"]["N"])
        assert order.note == item["note"]["S"]
    for stored in scan_all(dynamodb_client, table):
        assert "B" in stored["secret"]
        assert "N" in stored["amount"]
        assert "S" in stored["note"]
    assert reencrypt_table(dynamodb_client, job).already_current == 12
