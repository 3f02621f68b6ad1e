"""Each boto3 helper against the reference's helper of the same name, both directions.

Same table on the same server (DynamoDB Local and moto), same keys and attribute actions on
both sides, for every provider: static, wrapped AES, wrapped RSA, direct KMS (moto KMS) and
most recent over one shared meta table.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import Binary
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pynamodb_encryption import (
    AttributeActions,
    AwsKmsMaterialsProvider,
    CryptoAction,
    EncryptedClient,
    EncryptedResource,
    EncryptedTable,
    MetaStore,
    MostRecentProvider,
    RsaPrivateKey,
    RsaPublicKey,
    StaticMaterialsProvider,
    SymmetricKey,
    WrappedMaterialsProvider,
)

pytest.importorskip("dynamodb_encryption_sdk")
from dynamodb_encryption_sdk.delegated_keys.jce import JceNameLocalDelegatedKey
from dynamodb_encryption_sdk.encrypted.client import EncryptedClient as RefClient
from dynamodb_encryption_sdk.encrypted.resource import (
    EncryptedResource as RefResource,
)
from dynamodb_encryption_sdk.encrypted.table import EncryptedTable as RefTable
from dynamodb_encryption_sdk.identifiers import CryptoAction as RefAction
from dynamodb_encryption_sdk.identifiers import (
    EncryptionKeyType,
    KeyEncodingType,
)
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
KEK = bytes(range(16))


def _rsa_der() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


WRAP_RSA = _rsa_der()
SIGN_RSA = _rsa_der()


def _jce(key: bytes, algorithm: str, kind: Any = EncryptionKeyType.SYMMETRIC) -> Any:
    encoding = KeyEncodingType.RAW if kind is EncryptionKeyType.SYMMETRIC else KeyEncodingType.DER
    return JceNameLocalDelegatedKey(
        key=key, algorithm=algorithm, key_type=kind, key_encoding=encoding
    )


OUR_ACTIONS = AttributeActions(
    CryptoAction.ENCRYPT_AND_SIGN,
    {"signed": CryptoAction.SIGN_ONLY, "hits": CryptoAction.DO_NOTHING},
)


def _ref_actions() -> Any:
    return RefActions(
        default_action=RefAction.ENCRYPT_AND_SIGN,
        attribute_actions={"signed": RefAction.SIGN_ONLY, "hits": RefAction.DO_NOTHING},
    )


@dataclass
class Pair:
    ours: Any
    theirs: Any


def _static() -> Pair:
    ours = StaticMaterialsProvider(
        encryption_key=SymmetricKey(AES, "AES"),
        decryption_key=SymmetricKey(AES, "AES"),
        signing_key=SymmetricKey(HMAC, "HmacSHA256"),
        verification_key=SymmetricKey(HMAC, "HmacSHA256"),
    )
    theirs = StaticCryptographicMaterialsProvider(
        encryption_materials=RawEncryptionMaterials(
            signing_key=_jce(HMAC, "HmacSHA256"), encryption_key=_jce(AES, "AES")
        ),
        decryption_materials=RawDecryptionMaterials(
            verification_key=_jce(HMAC, "HmacSHA256"), decryption_key=_jce(AES, "AES")
        ),
    )
    return Pair(ours, theirs)


def _wrapped_aes() -> Pair:
    ours = WrappedMaterialsProvider(
        wrapping_key=SymmetricKey(KEK, "AES"), signing_key=SymmetricKey(HMAC, "HmacSHA256")
    )
    theirs = WrappedCryptographicMaterialsProvider(
        signing_key=_jce(HMAC, "HmacSHA256"),
        wrapping_key=_jce(KEK, "AES"),
        unwrapping_key=_jce(KEK, "AES"),
    )
    return Pair(ours, theirs)


def _wrapped_rsa() -> Pair:
    ours = WrappedMaterialsProvider(
        wrapping_key=RsaPublicKey.from_der(WRAP_RSA[1], "RSA"),
        unwrapping_key=RsaPrivateKey.from_der(WRAP_RSA[0], "RSA"),
        signing_key=RsaPrivateKey.from_der(SIGN_RSA[0], "SHA256withRSA"),
    )
    theirs = WrappedCryptographicMaterialsProvider(
        signing_key=_jce(SIGN_RSA[0], "SHA256withRSA", EncryptionKeyType.PRIVATE),
        wrapping_key=_jce(WRAP_RSA[1], "RSA", EncryptionKeyType.PUBLIC),
        unwrapping_key=_jce(WRAP_RSA[0], "RSA", EncryptionKeyType.PRIVATE),
    )
    return Pair(ours, theirs)


PROVIDERS = ["static", "wrapped-aes", "wrapped-rsa", "kms", "most-recent"]


@pytest.fixture(params=PROVIDERS)
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    name = request.param
    if name == "static":
        yield _static()
    elif name == "wrapped-aes":
        yield _wrapped_aes()
    elif name == "wrapped-rsa":
        yield _wrapped_rsa()
    elif name == "kms":
        kms_client = request.getfixturevalue("kms_client")
        arn = request.getfixturevalue("kms_key_arn")
        yield Pair(
            AwsKmsMaterialsProvider(key_id=arn, kms_client=kms_client),
            AwsKmsCryptographicMaterialsProvider(
                key_id=arn, regional_clients={"us-east-1": kms_client}
            ),
        )
    else:
        client = request.getfixturevalue("dynamodb_client")
        endpoint = request.getfixturevalue("ddb_endpoint")
        meta = request.getfixturevalue("table_name") + "_meta"
        MetaStore.create_table(client, meta)
        try:
            wrapped = _wrapped_aes()
            store = MetaStore(
                table_name=meta, materials_provider=wrapped.ours, dynamodb_client=client
            )
            ref_table = boto3.resource(
                "dynamodb", endpoint_url=endpoint, region_name="us-east-1"
            ).Table(meta)
            ref_store = RefMetaStore(ref_table, wrapped.theirs)
            store.new_version("shared")  # version 0, used by both sides
            yield Pair(
                MostRecentProvider(meta_store=store, material_name="shared", ttl_seconds=60),
                CachingMostRecentProvider(ref_store, "shared", 60.0),
            )
        finally:
            with contextlib.suppress(Exception):
                client.delete_table(TableName=meta)


@pytest.fixture
def resource(ddb_endpoint: str) -> Any:
    return boto3.resource("dynamodb", endpoint_url=ddb_endpoint, region_name="us-east-1")


@pytest.fixture
def table(make_table: Callable[..., str]) -> str:
    return make_table(range_key=True)


PY_ITEM: dict[str, Any] = {
    "pk": "tenant",
    "sk": Decimal(1),
    "secret": "the plaintext",
    "signed": Decimal("42.5"),
    "hits": Decimal(3),
    "blob": Binary(b"\x00\x01\xff"),
    "tags": {"a", "b"},
    "doc": {"l": [Decimal(1), "x", None, True], "m": {"k": Binary(b"v")}},
}
DDB_ITEM: dict[str, Any] = {
    "pk": {"S": "tenant"},
    "sk": {"N": "1"},
    "secret": {"S": "the plaintext"},
    "signed": {"N": "42.5"},
    "hits": {"N": "3"},
    "blob": {"B": b"\x00\x01\xff"},
    "tags": {"SS": ["a", "b"]},
    "doc": {"M": {"l": {"L": [{"N": "1"}, {"S": "x"}, {"NULL": True}, {"BOOL": True}]}}},
}


def _py(pk: str) -> dict[str, Any]:
    return {**PY_ITEM, "pk": pk}


def _ddb(pk: str) -> dict[str, Any]:
    return {**DDB_ITEM, "pk": {"S": pk}}


def _sorted_sets(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: ({"SS": sorted(v["SS"])} if isinstance(v, dict) and "SS" in v else v)
        for k, v in item.items()
    }


def _assert_stored_encrypted(resource: Any, table: str, pk: str) -> None:
    raw = resource.Table(table).get_item(Key={"pk": pk, "sk": 1})["Item"]
    assert isinstance(raw["secret"], Binary)
    assert raw["signed"] == Decimal("42.5")
    assert "*amzn-ddb-map-sig*" in raw


def test_encrypted_table(pair: Pair, resource: Any, table: str) -> None:
    ours = EncryptedTable(
        table=resource.Table(table), materials_provider=pair.ours, attribute_actions=OUR_ACTIONS
    )
    theirs = RefTable(
        table=resource.Table(table),
        materials_provider=pair.theirs,
        attribute_actions=_ref_actions(),
    )
    ours.put_item(Item=_py("from-ours"))
    _assert_stored_encrypted(resource, table, "from-ours")
    assert theirs.get_item(Key={"pk": "from-ours", "sk": 1})["Item"] == _py("from-ours")
    theirs.put_item(Item=_py("from-ref"))
    assert ours.get_item(Key={"pk": "from-ref", "sk": 1})["Item"] == _py("from-ref")
    # Reads of many items, and the batch writer, both ways.
    with ours.batch_writer() as writer:
        writer.put_item(Item={**_py("batch"), "sk": Decimal(2)})
    assert sorted(i["pk"] for i in theirs.scan()["Items"]) == ["batch", "from-ours", "from-ref"]
    assert sorted(i["pk"] for i in ours.scan()["Items"]) == ["batch", "from-ours", "from-ref"]


def test_encrypted_client(pair: Pair, dynamodb_client: Any, resource: Any, table: str) -> None:
    ours = EncryptedClient(
        client=dynamodb_client, materials_provider=pair.ours, attribute_actions=OUR_ACTIONS
    )
    theirs = RefClient(
        client=dynamodb_client, materials_provider=pair.theirs, attribute_actions=_ref_actions()
    )
    ours.put_item(TableName=table, Item=_ddb("from-ours"))
    _assert_stored_encrypted(resource, table, "from-ours")
    key = {"pk": {"S": "from-ours"}, "sk": {"N": "1"}}
    got = theirs.get_item(TableName=table, Key=key)["Item"]
    assert _sorted_sets(got) == _ddb("from-ours")
    theirs.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": _ddb("from-ref")}}]},
    )
    key = {"pk": {"S": "from-ref"}, "sk": {"N": "1"}}
    assert _sorted_sets(ours.get_item(TableName=table, Key=key)["Item"]) == _ddb("from-ref")
    ours.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": _ddb("batch")}}]})
    pages = list(theirs.get_paginator("scan").paginate(TableName=table))
    assert sorted(i["pk"]["S"] for p in pages for i in p["Items"]) == [
        "batch",
        "from-ours",
        "from-ref",
    ]
    queried = ours.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "from-ref"}},
    )["Items"]
    assert [_sorted_sets(i) for i in queried] == [_ddb("from-ref")]


def test_encrypted_resource(pair: Pair, resource: Any, table: str) -> None:
    ours = EncryptedResource(
        resource=resource, materials_provider=pair.ours, attribute_actions=OUR_ACTIONS
    )
    theirs = RefResource(
        resource=resource, materials_provider=pair.theirs, attribute_actions=_ref_actions()
    )
    ours.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": _py("from-ours")}}]})
    _assert_stored_encrypted(resource, table, "from-ours")
    theirs.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": _py("from-ref")}}]})
    keys = [{"pk": pk, "sk": 1} for pk in ("from-ours", "from-ref")]
    for reader in (ours, theirs):
        items = reader.batch_get_item(RequestItems={table: {"Keys": keys}})["Responses"][table]
        assert sorted(items, key=lambda i: i["pk"]) == [_py("from-ours"), _py("from-ref")]
    ours.Table(table).put_item(Item=_py("table-ours"))
    assert theirs.Table(table).get_item(Key={"pk": "table-ours", "sk": 1})["Item"] == _py(
        "table-ours"
    )
