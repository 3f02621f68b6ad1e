"""Every error the public API raises on purpose is in the library's tree (issue 9, point 11).

Each public constructor and function is called with valid arguments in which one argument at
a time is replaced by a wrong-typed or wrong-valued one; whatever happens, no exception but a
`PynamoDBEncryptionError` may come out (no ``TypeError``, ``AttributeError``...). No I/O:
clients are stubs that fail the test if called.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

import pynamodb_encryption as pe
from pynamodb_encryption import (
    AttributeActions,
    ConfigurationError,
    CryptoAction,
    ItemEncryptor,
    PynamoDBEncryptionError,
    RsaPrivateKey,
    RsaPublicKey,
    SymmetricKey,
)
from pynamodb_encryption.boto3 import TableIndex, TableInfo
from pynamodb_encryption.core._python_values import from_ddb_item

AES = SymmetricKey(bytes(range(32)), "AES")
HMAC = SymmetricKey(bytes(range(32, 64)), "HmacSHA256")
STATIC = pe.StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC)
ACTIONS = AttributeActions(CryptoAction.ENCRYPT_AND_SIGN)
ITEM = {"pk": {"S": "p"}, "secret": {"S": "x"}}


def _no_request(*_: Any, **__: Any) -> Any:
    raise AssertionError("no request expected")


class Unreachable:
    """A boto3 client stand-in: any request fails the test."""

    put_item = get_item = query = describe_table = batch_get_item = staticmethod(_no_request)


class FakeKms:
    generate_data_key = decrypt = staticmethod(_no_request)


class FakeTable:
    """A boto3 ``Table`` stand-in (name and client only)."""

    name = "T"

    put_item = staticmethod(_no_request)

    class meta:
        client = Unreachable()


BAD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1.5,
    math.nan,
    True,
    "",
    "x",
    "#",
    b"",
    b"x" * 3,
    [],
    [1],
    {},
    {"a": 1},
    {1: "a"},
    object(),
    Decimal("1"),
    ("t",),
    {"x"},
]


class FakeResource:
    """A boto3 service resource stand-in."""

    Table = staticmethod(_no_request)

    class meta:
        client = Unreachable()


RSA_KEY = RsaPrivateKey.generate("RSA", 2048)
RSA_PEM = RSA_KEY._key.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
)
RSA_PUBLIC_PEM = RSA_KEY._key.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def _meta_store() -> pe.MetaStore:
    return pe.MetaStore(table_name="meta", materials_provider=STATIC, dynamodb_client=Unreachable())  # type: ignore[arg-type]


#: name -> (callable, valid keyword arguments)
CALLS: dict[str, tuple[Callable[..., Any], dict[str, Any]]] = {
    "SymmetricKey": (SymmetricKey, {"material": bytes(32), "algorithm": "AES"}),
    "SymmetricKey.generate": (SymmetricKey.generate, {"algorithm": "HmacSHA256", "bits": 256}),
    "RsaPrivateKey.from_pem": (RsaPrivateKey.from_pem, {"pem": RSA_PEM, "algorithm": "RSA"}),
    "RsaPublicKey.from_pem": (
        RsaPublicKey.from_pem,
        {"pem": RSA_PUBLIC_PEM, "algorithm": "SHA256withRSA"},
    ),
    "AttributeActions": (
        AttributeActions,
        {
            "default_action": CryptoAction.ENCRYPT_AND_SIGN,
            "attribute_actions": {"a": CryptoAction.SIGN_ONLY},
        },
    ),
    "StaticMaterialsProvider": (
        pe.StaticMaterialsProvider,
        {"encryption_key": AES, "signing_key": HMAC, "material_description": {"a": "b"}},
    ),
    "WrappedMaterialsProvider": (
        pe.WrappedMaterialsProvider,
        {
            "wrapping_key": AES,
            "unwrapping_key": AES,
            "signing_key": HMAC,
            "material_description": {"a": "b"},
        },
    ),
    "AwsKmsMaterialsProvider": (
        pe.AwsKmsMaterialsProvider,
        {
            "key_id": "alias/app",
            "grant_tokens": ["t"],
            "material_description": {"amzn-ddb-env-alg": "AES/256"},
            "decrypt_cache": pe.KmsDecryptCache(),
            "enforce_key_id": True,
            "kms_client": FakeKms(),
        },
    ),
    "KmsDecryptCache": (
        pe.KmsDecryptCache,
        {"max_entries": 10, "ttl_seconds": 1.0, "max_uses": 3},
    ),
    "MetaStore": (
        pe.MetaStore,
        {"table_name": "meta", "materials_provider": STATIC, "dynamodb_client": Unreachable()},
    ),
    "MostRecentProvider": (
        pe.MostRecentProvider,
        {
            "meta_store": _meta_store(),
            "material_name": "m",
            "ttl_seconds": 1.0,
            "cache_size": 3,
            "outage_grace_seconds": 10.0,
            "outage_retry_seconds": 1.0,
        },
    ),
    "ItemEncryptor": (
        ItemEncryptor,
        {
            "table_name": "T",
            "partition_key_name": "pk",
            "sort_key_name": None,
            "attribute_actions": ACTIONS,
            "materials_provider": STATIC,
        },
    ),
    "TableIndex": (TableIndex, {"partition": "pk", "sort": "sk"}),
    "TableInfo": (
        TableInfo,
        {
            "name": "T",
            "primary_index": TableIndex(partition="pk"),
            "secondary_indexes": (TableIndex(partition="g"),),
        },
    ),
    "EncryptedClient": (
        pe.EncryptedClient,
        {
            "client": Unreachable(),
            "materials_provider": STATIC,
            "attribute_actions": ACTIONS,
            "table_info": TableInfo(name="T", primary_index=TableIndex(partition="pk")),
            "auto_refresh_table_indexes": False,
        },
    ),
    "EncryptedResource": (
        pe.EncryptedResource,
        {"resource": FakeResource(), "materials_provider": STATIC, "attribute_actions": ACTIONS},
    ),
    "EncryptedTable": (
        pe.EncryptedTable,
        {
            "table": FakeTable(),
            "materials_provider": STATIC,
            "attribute_actions": ACTIONS,
            "table_info": TableInfo(name="T", primary_index=TableIndex(partition="pk")),
        },
    ),
}
STORED = pe.encrypt_item(
    ITEM,
    table_name="T",
    partition_key_name="pk",
    attribute_actions=ACTIONS,
    materials_provider=STATIC,
)
_ITEMS = {
    pe.encrypt_item: ITEM,
    pe.decrypt_item: STORED,
    pe.encrypt_python_item: {"pk": "p", "secret": "x"},
    pe.decrypt_python_item: from_ddb_item(STORED),
}
for _function, _item in _ITEMS.items():
    CALLS[_function.__name__] = (
        _function,
        {
            "item": _item,
            "table_name": "T",
            "partition_key_name": "pk",
            "sort_key_name": None,
            "attribute_actions": ACTIONS,
            "materials_provider": STATIC,
        },
    )


def _cases() -> list[Any]:
    cases = []
    for name, (_, kwargs) in CALLS.items():
        for argument in kwargs:
            cases.append(pytest.param(name, argument, id=f"{name}-{argument}"))
    return cases


@pytest.mark.parametrize(("name", "argument"), _cases())
def test_wrong_arguments_raise_only_library_errors(name: str, argument: str) -> None:
    function, kwargs = CALLS[name]
    function(**kwargs)  # the valid call works
    for bad in BAD_VALUES:
        try:
            function(**{**kwargs, argument: bad})
        except PynamoDBEncryptionError:
            pass
        except Exception as exc:  # pragma: no cover - the failure being tested for
            pytest.fail(f"{name}({argument}={bad!r}) raised {type(exc).__name__}: {exc}")


ENCRYPTOR = ItemEncryptor(
    table_name="T", partition_key_name="pk", attribute_actions=ACTIONS, materials_provider=STATIC
)


@pytest.mark.parametrize(
    "method",
    [ENCRYPTOR.encrypt, ENCRYPTOR.decrypt, ENCRYPTOR.encrypt_python, ENCRYPTOR.decrypt_python],
    ids=["encrypt", "decrypt", "encrypt_python", "decrypt_python"],
)
def test_item_encryptor_methods_raise_only_library_errors(method: Any) -> None:
    items: list[Any] = [*BAD_VALUES, *({"pk": value} for value in BAD_VALUES)]
    items += [{"pk": {"S": "p"}, "secret": value} for value in BAD_VALUES]
    items += [{**ITEM, "*amzn-ddb-map-sig*": value} for value in BAD_VALUES]
    items += [{**ITEM, "*amzn-ddb-map-desc*": {"B": value}} for value in BAD_VALUES]
    for item in items:
        try:
            method(item)
        except PynamoDBEncryptionError:
            pass
        except Exception as exc:  # pragma: no cover - the failure being tested for
            pytest.fail(f"{method.__name__}({item!r}) raised {type(exc).__name__}: {exc}")


def test_wrong_clients_are_configuration_errors_on_first_use() -> None:
    kms = pe.AwsKmsMaterialsProvider(key_id="alias/app", kms_client=object())  # type: ignore[arg-type]
    context = pe.EncryptionContext(table_name="T", partition_key_name="pk", attributes=ITEM)
    with pytest.raises(ConfigurationError):
        kms.encryption_materials(context)
    store = pe.MetaStore(table_name="m", materials_provider=STATIC, dynamodb_client=object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError):
        store.max_version("m")
    provider = pe.MostRecentProvider(meta_store=store, material_name="m", ttl_seconds=1)
    with pytest.raises(ConfigurationError):
        provider.encryption_materials(context)


@pytest.mark.parametrize(
    "method", ["max_version", "versions", "new_version", "provider", "get_or_create_provider"]
)
def test_meta_store_methods_check_their_arguments_before_io(method: str) -> None:
    store = _meta_store()
    for bad in [v for v in BAD_VALUES if v != "x"]:
        arguments = [bad] if method in ("max_version", "versions", "new_version") else [bad, 0]
        with pytest.raises(ConfigurationError):
            getattr(store, method)(*arguments)
    if method in ("provider", "get_or_create_provider"):
        for bad in [v for v in BAD_VALUES if not (type(v) is int and v >= 0)]:
            with pytest.raises(ConfigurationError):
                getattr(store, method)("m", bad)


def test_item_encryptor_configuration_mistakes_are_configuration_errors() -> None:
    good: dict[str, Any] = {
        "table_name": "T",
        "partition_key_name": "pk",
        "attribute_actions": ACTIONS,
        "materials_provider": STATIC,
    }
    for argument, bad in [
        ("table_name", ""),
        ("table_name", 3),
        ("attribute_actions", {"a": CryptoAction.SIGN_ONLY}),
        ("materials_provider", object()),
        (
            "attribute_actions",
            AttributeActions(attribute_actions={"*amzn-ddb-map-sig*": CryptoAction.SIGN_ONLY}),
        ),
        ("partition_key_name", 5),
        ("sort_key_name", b"sk"),
    ]:
        with pytest.raises(ConfigurationError):
            ItemEncryptor(**{**good, argument: bad})


def test_provider_methods_check_their_context() -> None:
    providers: list[Any] = [
        STATIC,
        pe.WrappedMaterialsProvider(wrapping_key=AES, unwrapping_key=AES, signing_key=HMAC),
        pe.AwsKmsMaterialsProvider(key_id="alias/app", kms_client=FakeKms()),  # type: ignore[arg-type]
        pe.MostRecentProvider(meta_store=_meta_store(), material_name="m", ttl_seconds=1),
    ]
    for provider in providers:
        for bad in BAD_VALUES:
            for method in (provider.encryption_materials, provider.decryption_materials):
                with pytest.raises(ConfigurationError):
                    method(bad)
