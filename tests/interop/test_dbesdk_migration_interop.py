"""The migration path on models (issue 11): a table written by the reference library (legacy
format, its own EncryptedTable) is read and rewritten by a model in each legacy policy, and the
reference keeps reading what stage 1 writes."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from pynamodb_encryption import (
    DecryptionError,
    PlaintextItemError,
    StaticMaterialsProvider,
    SymmetricKey,
)
from pynamodb_encryption.dbesdk import LegacyPolicy, PlaintextOverride, RawAesKeyring
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

pytest.importorskip("dynamodb_encryption_sdk")
from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey
from dynamodb_encryption_sdk.encrypted.table import EncryptedTable
from dynamodb_encryption_sdk.identifiers import CryptoAction as RefAction
from dynamodb_encryption_sdk.identifiers import EncryptionKeyType, KeyEncodingType
from dynamodb_encryption_sdk.material_providers.static import (
    StaticCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.materials.raw import RawDecryptionMaterials, RawEncryptionMaterials
from dynamodb_encryption_sdk.structures import AttributeActions as RefActions

AES, HMAC = os.urandom(32), os.urandom(32)
PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey(AES, "AES"), signing_key=SymmetricKey(HMAC, "HmacSHA256")
)
KEYRING = RawAesKeyring(key_namespace="migration", key_name="k1", wrapping_key=os.urandom(32))


def _jce(key: bytes, algorithm: str) -> Any:
    return JceNameLocalDelegatedKey(
        key=key,
        algorithm=algorithm,
        key_type=EncryptionKeyType.SYMMETRIC,
        key_encoding=KeyEncodingType.RAW,
    )


def _reference_table(table: str, endpoint: str) -> Any:
    provider = StaticCryptographicMaterialsProvider(
        encryption_materials=RawEncryptionMaterials(
            signing_key=_jce(HMAC, "HmacSHA256"), encryption_key=_jce(AES, "AES")
        ),
        decryption_materials=RawDecryptionMaterials(
            verification_key=_jce(HMAC, "HmacSHA256"), decryption_key=_jce(AES, "AES")
        ),
    )
    resource = boto3.resource(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    actions = RefActions(
        default_action=RefAction.DO_NOTHING,
        attribute_actions={
            "pk": RefAction.SIGN_ONLY,
            "sk": RefAction.SIGN_ONLY,
            "secret": RefAction.ENCRYPT_AND_SIGN,
            "status": RefAction.SIGN_ONLY,
        },
    )
    return EncryptedTable(
        table=resource.Table(table), materials_provider=provider, attribute_actions=actions
    )


def _model(table: str, host: str, policy: LegacyPolicy | None, **meta: Any) -> Any:
    class Account(EncryptedModel):
        class Meta:
            table_name = table
            materials_provider = PROVIDER
            keyring = KEYRING
            legacy_policy = policy

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        secret = EncryptedAttribute(UnicodeAttribute(null=True))
        status = SignedAttribute(UnicodeAttribute(null=True))
        note = UnicodeAttribute(null=True)

    Account.Meta.host = host  # type: ignore[attr-defined]
    for key, value in meta.items():
        setattr(Account.Meta, key, value)
    return Account


@pytest.fixture
def legacy_table(ddb_endpoint: str, make_table: Callable[..., str]) -> tuple[str, Any]:
    table = make_table(range_key=True)
    reference = _reference_table(table, ddb_endpoint)
    for sk in range(4):
        reference.put_item(Item={"pk": "a", "sk": sk, "secret": f"s{sk}", "status": "old"})
    return table, reference


def _format(raw: dict[str, Any]) -> str:
    if "aws_dbe_head" in raw:
        return "dbesdk"
    return "legacy" if "*amzn-ddb-map-sig*" in raw else "plaintext"


def _formats(dynamodb_client: Any, table: str) -> list[str]:
    items = dynamodb_client.scan(TableName=table, ConsistentRead=True)["Items"]
    return [_format(i) for i in sorted(items, key=lambda i: int(i["sk"]["N"]))]


def test_stage1_force_legacy_writes_what_the_reference_reads(
    legacy_table: tuple[str, Any], ddb_endpoint: str, dynamodb_client: Any
) -> None:
    table, reference = legacy_table
    model = _model(table, ddb_endpoint, LegacyPolicy.FORCE_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT)
    item = model.get("a", 0, consistent_read=True)
    assert (item.secret, item.status) == ("s0", "old")
    item.update([model.status.set("stage1")])
    model("a", 9, secret="new", status="n").save()
    assert _formats(dynamodb_client, table).count("dbesdk") == 0
    # The reference still reads every item (what stage 1 exists for: roll back safely).
    assert reference.get_item(Key={"pk": "a", "sk": 0})["Item"]["status"] == "stage1"
    assert reference.get_item(Key={"pk": "a", "sk": 9})["Item"]["secret"] == "new"


def test_stage2_reads_both_and_rewrites_to_dbesdk(
    legacy_table: tuple[str, Any], ddb_endpoint: str, dynamodb_client: Any
) -> None:
    table, _ = legacy_table
    model = _model(table, ddb_endpoint, None)  # FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT
    assert model._pde_encryptor().legacy_policy is (
        LegacyPolicy.FORBID_LEGACY_ENCRYPT_ALLOW_LEGACY_DECRYPT
    )
    # A signed update turns a legacy item into a DB-ESDK one, removing the legacy attributes.
    model.get("a", 0, consistent_read=True).update([model.status.set("stage2")])
    # An update of an unsigned attribute only is native: the item stays legacy and readable.
    model.get("a", 1, consistent_read=True).update([model.note.set("n")])
    item = model.get("a", 2, consistent_read=True)
    item.secret = "rewritten"
    item.save()
    formats = _formats(dynamodb_client, table)
    assert formats == ["dbesdk", "legacy", "dbesdk", "legacy"]
    raw = dynamodb_client.get_item(
        TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "0"}}, ConsistentRead=True
    )["Item"]
    assert "*amzn-ddb-map-desc*" not in raw
    assert "*amzn-ddb-map-sig*" not in raw
    got = {i.sk: (i.secret, i.status, i.note) for i in model.query("a", consistent_read=True)}
    assert got == {
        0: ("s0", "stage2", None),
        1: ("s1", "old", "n"),
        2: ("rewritten", "old", None),
        3: ("s3", "old", None),
    }


def test_stage3_forbids_legacy(
    legacy_table: tuple[str, Any], ddb_endpoint: str, dynamodb_client: Any
) -> None:
    table, _ = legacy_table
    stage2 = _model(table, ddb_endpoint, None)
    stage2.get("a", 0, consistent_read=True).update([stage2.status.set("moved")])
    model = _model(table, ddb_endpoint, LegacyPolicy.FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT)
    assert model.get("a", 0, consistent_read=True).status == "moved"
    with pytest.raises(DecryptionError, match="FORBID_LEGACY_ENCRYPT_FORBID_LEGACY_DECRYPT"):
        model.get("a", 1, consistent_read=True)
    with pytest.raises(DecryptionError):
        model("a", 1).update([model.status.set("never")])
    assert _formats(dynamodb_client, table) == ["dbesdk", "legacy", "legacy", "legacy"]


def test_plaintext_overrides(
    ddb_endpoint: str, make_table: Callable[..., str], dynamodb_client: Any
) -> None:
    table = make_table(range_key=True)
    dynamodb_client.put_item(
        TableName=table, Item={"pk": {"S": "p"}, "sk": {"N": "0"}, "secret": {"S": "plain"}}
    )
    strict = _model(table, ddb_endpoint, None, materials_provider=None)
    with pytest.raises(PlaintextItemError):
        strict.get("p", 0)
    adopting = _model(
        table,
        ddb_endpoint,
        None,
        materials_provider=None,
        plaintext_policy=PlaintextOverride.FORBID_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ,
    )
    item = adopting.get("p", 0, consistent_read=True)
    assert item.secret == "plain"
    item.update([adopting.status.set("adopted")])
    assert _formats(dynamodb_client, table) == ["dbesdk"]
    assert strict.get("p", 0, consistent_read=True).status == "adopted"
    writing_plaintext = _model(
        table,
        ddb_endpoint,
        None,
        materials_provider=None,
        plaintext_policy=PlaintextOverride.FORCE_PLAINTEXT_WRITE_ALLOW_PLAINTEXT_READ,
    )
    writing_plaintext("p", 1, secret="still plain").save()
    assert _formats(dynamodb_client, table) == ["dbesdk", "plaintext"]
    assert writing_plaintext.get("p", 0, consistent_read=True).status == "adopted"
