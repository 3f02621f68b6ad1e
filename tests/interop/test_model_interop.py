"""EncryptedModel <-> the reference library's ``EncryptedTable``, both directions, on a real
server, for the static, wrapped, direct KMS and most-recent providers.

The reference table is configured with the attribute actions the model reports
(``Model.get_attribute_actions()``), translated to the reference's types.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from pynamodb.attributes import (
    BinaryAttribute,
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    VersionAttribute,
)

from pynamodb_encryption import (
    SIGNATURE_ATTRIBUTE,
    AwsKmsMaterialsProvider,
    MetaStore,
    MostRecentProvider,
    RsaPrivateKey,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)
from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel, SignedAttribute

pytest.importorskip("dynamodb_encryption_sdk")
from cryptography.hazmat.primitives import serialization
from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey
from dynamodb_encryption_sdk.encrypted.table import EncryptedTable
from dynamodb_encryption_sdk.identifiers import CryptoAction as RefAction
from dynamodb_encryption_sdk.identifiers import EncryptionKeyType, KeyEncodingType
from dynamodb_encryption_sdk.material_providers.aws_kms import (
    AwsKmsCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.material_providers.most_recent import (
    CachingMostRecentProvider,
)
from dynamodb_encryption_sdk.material_providers.static import (
    StaticCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.material_providers.store.meta import (
    MetaStore as RefMetaStore,
)
from dynamodb_encryption_sdk.material_providers.wrapped import (
    WrappedCryptographicMaterialsProvider,
)
from dynamodb_encryption_sdk.materials.raw import (
    RawDecryptionMaterials,
    RawEncryptionMaterials,
)
from dynamodb_encryption_sdk.structures import AttributeActions as RefActions

AES = bytes(range(32))
HMAC = bytes(range(32, 64))
RSA_KEY = RsaPrivateKey.generate("RSA", 2048)


def _jce(key: bytes, algorithm: str) -> Any:
    return JceNameLocalDelegatedKey(
        key=key,
        algorithm=algorithm,
        key_type=EncryptionKeyType.SYMMETRIC,
        key_encoding=KeyEncodingType.RAW,
    )


def _rsa_der() -> tuple[bytes, bytes]:
    private = RSA_KEY._key  # the cryptography key object
    return (
        private.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )


class Profile(MapAttribute[str, Any]):
    city = UnicodeAttribute()
    zip_code = NumberAttribute()


def build_model(table: str, host: str, provider: Any) -> Any:
    class Account(EncryptedModel):
        class Meta:
            table_name = table
            materials_provider = provider

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        secret = EncryptedAttribute(UnicodeAttribute())
        balance = EncryptedAttribute(NumberAttribute())
        avatar = EncryptedAttribute(BinaryAttribute(legacy_encoding=False))
        active = EncryptedAttribute(BooleanAttribute())
        tags = EncryptedAttribute(UnicodeSetAttribute())
        profile = EncryptedAttribute(Profile())
        history = EncryptedAttribute(ListAttribute[Any]())
        status = SignedAttribute(UnicodeAttribute())
        scores = SignedAttribute(NumberSetAttribute())
        note = UnicodeAttribute(null=True)
        version = VersionAttribute()

    Account.Meta.host = host
    Account._connection = None
    return Account


def ref_actions(model: Any) -> Any:
    ours = model.get_attribute_actions()
    return RefActions(
        default_action=RefAction[ours.default_action.name],
        attribute_actions={
            name: RefAction[action.name] for name, action in ours.attribute_actions.items()
        },
    )


# ---------------------------------------------------------------------------------------------
# Provider pairs: (ours, the reference's equivalent)


@pytest.fixture(params=["static", "wrapped-aes", "wrapped-rsa", "kms", "most-recent"])
def providers(
    request: pytest.FixtureRequest, ddb_endpoint: str, dynamodb_client: Any, table_name: str
) -> Iterator[tuple[Any, Any]]:
    kind = request.param
    if kind == "static":
        yield (
            StaticMaterialsProvider(
                encryption_key=SymmetricKey(AES, "AES"),
                signing_key=SymmetricKey(HMAC, "HmacSHA256"),
            ),
            StaticCryptographicMaterialsProvider(
                encryption_materials=RawEncryptionMaterials(
                    signing_key=_jce(HMAC, "HmacSHA256"), encryption_key=_jce(AES, "AES")
                ),
                decryption_materials=RawDecryptionMaterials(
                    verification_key=_jce(HMAC, "HmacSHA256"), decryption_key=_jce(AES, "AES")
                ),
            ),
        )
    elif kind == "wrapped-aes":
        yield (
            WrappedMaterialsProvider(
                wrapping_key=SymmetricKey(AES, "AES"),
                signing_key=SymmetricKey(HMAC, "HmacSHA256"),
            ),
            WrappedCryptographicMaterialsProvider(
                signing_key=_jce(HMAC, "HmacSHA256"),
                wrapping_key=_jce(AES, "AES"),
                unwrapping_key=_jce(AES, "AES"),
            ),
        )
    elif kind == "wrapped-rsa":
        private_der, public_der = _rsa_der()
        signer = RsaPrivateKey.from_der(private_der, "SHA256withRSA")
        wrapper = RsaPrivateKey.from_der(private_der, "RSA")

        def rsa(material: bytes, algorithm: str, key_type: Any) -> Any:
            return JceNameLocalDelegatedKey(
                key=material,
                algorithm=algorithm,
                key_type=key_type,
                key_encoding=KeyEncodingType.DER,
            )

        yield (
            WrappedMaterialsProvider(
                wrapping_key=wrapper.public_key(), unwrapping_key=wrapper, signing_key=signer
            ),
            WrappedCryptographicMaterialsProvider(
                signing_key=rsa(private_der, "SHA256withRSA", EncryptionKeyType.PRIVATE),
                wrapping_key=rsa(public_der, "RSA", EncryptionKeyType.PUBLIC),
                unwrapping_key=rsa(private_der, "RSA", EncryptionKeyType.PRIVATE),
            ),
        )
    elif kind == "kms":
        kms_client = request.getfixturevalue("kms_client")
        arn = request.getfixturevalue("kms_key_arn")
        yield (
            AwsKmsMaterialsProvider(key_id=arn, kms_client=kms_client),
            AwsKmsCryptographicMaterialsProvider(
                key_id=arn, regional_clients={"us-east-1": kms_client}
            ),
        )
    else:
        import boto3

        meta_table = table_name + "-meta"
        MetaStore.create_table(dynamodb_client, meta_table)
        ours = MetaStore(
            table_name=meta_table,
            materials_provider=WrappedMaterialsProvider(
                wrapping_key=SymmetricKey(AES, "AES"),
                signing_key=SymmetricKey(HMAC, "HmacSHA256"),
            ),
            dynamodb_client=dynamodb_client,
        )
        table = boto3.resource(
            "dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1"
        ).Table(meta_table)
        theirs = RefMetaStore(
            table,
            WrappedCryptographicMaterialsProvider(
                signing_key=_jce(HMAC, "HmacSHA256"),
                wrapping_key=_jce(AES, "AES"),
                unwrapping_key=_jce(AES, "AES"),
            ),
        )
        yield (
            MostRecentProvider(meta_store=ours, material_name="accounts", ttl_seconds=60),
            CachingMostRecentProvider(theirs, "accounts", 60.0),
        )
        with contextlib.suppress(Exception):
            dynamodb_client.delete_table(TableName=meta_table)


@pytest.fixture
def setup(
    providers: tuple[Any, Any], ddb_endpoint: str, table_name: str
) -> Iterator[tuple[Any, Any, Any]]:
    import boto3

    ours, theirs = providers
    model = build_model(table_name, ddb_endpoint, ours)
    model.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    resource = boto3.resource("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")
    table = resource.Table(table_name)
    encrypted = EncryptedTable(
        table=table, materials_provider=theirs, attribute_actions=ref_actions(model)
    )
    yield model, table, encrypted
    with contextlib.suppress(Exception):
        model.delete_table()


def test_model_item_decrypts_with_reference(setup: tuple[Any, Any, Any]) -> None:
    model, table, encrypted = setup
    model(
        "acct",
        7,
        secret="s3cr3t",
        balance=10.25,
        avatar=b"\x00\xff\x10",
        active=True,
        tags={"a", "b"},
        profile=Profile(city="Lyon", zip_code=69000),
        history=[1, "two", {"three": [3]}],
        status="open",
        scores={1, 2},
        note="unsigned",
    ).save()
    raw = table.get_item(Key={"pk": "acct", "sk": 7}, ConsistentRead=True)["Item"]
    assert SIGNATURE_ATTRIBUTE in raw
    assert "s3cr3t" not in repr(raw)
    item = encrypted.get_item(Key={"pk": "acct", "sk": 7}, ConsistentRead=True)["Item"]
    assert item["secret"] == "s3cr3t"
    assert item["balance"] == Decimal("10.25")
    assert bytes(item["avatar"].value) == b"\x00\xff\x10"
    assert item["active"] is True
    assert item["tags"] == {"a", "b"}
    assert item["profile"] == {"city": "Lyon", "zip_code": Decimal(69000)}
    assert item["history"] == [Decimal(1), "two", {"three": [Decimal(3)]}]
    assert item["status"] == "open"
    assert item["scores"] == {Decimal(1), Decimal(2)}
    assert item["note"] == "unsigned"
    assert item["version"] == Decimal(1)  # the bumped version is the signed one


def test_reference_item_loads_through_model(setup: tuple[Any, Any, Any]) -> None:
    model, _, encrypted = setup
    from boto3.dynamodb.types import Binary

    encrypted.put_item(
        Item={
            "pk": "ref",
            "sk": Decimal(3),
            "secret": "from the reference",
            "balance": Decimal("99.5"),
            "avatar": Binary(b"\x01\x02"),
            "active": False,
            "tags": {"x"},
            "profile": {"city": "Oslo", "zip_code": Decimal(150)},
            "history": ["h"],
            "status": "closed",
            "scores": {Decimal(5)},
            "note": "n",
            "version": Decimal(4),
        }
    )
    loaded = model.get("ref", 3, consistent_read=True)
    assert loaded.secret == "from the reference"
    assert loaded.balance == 99.5
    assert loaded.avatar == b"\x01\x02"
    assert loaded.active is False
    assert loaded.tags == {"x"}
    assert (loaded.profile.city, loaded.profile.zip_code) == ("Oslo", 150)
    assert loaded.history == ["h"]
    assert loaded.status == "closed"
    assert loaded.scores == {5}
    assert loaded.version == 4
    # And the model can write it back, which the reference then reads.
    loaded.secret = "round trip"
    loaded.save()
    item = encrypted.get_item(Key={"pk": "ref", "sk": 3}, ConsistentRead=True)["Item"]
    assert item["secret"] == "round trip"
    assert item["version"] == Decimal(5)
