"""Security review regressions (pure, no server).

Each test pins one property the library promises: no plaintext or key material in errors,
reprs or chained exceptions; the caller's arguments are never mutated; constructors do no I/O;
nothing fails open; every error raised on bad input is a PynamoDBEncryptionError. Tests marked
``xfail(strict=True)`` document problems in ``core/`` that are reported, not fixed here.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import os
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import pytest
from _strategies import ddb_items, rsa_key
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    MATERIAL_DESCRIPTION_ATTRIBUTE,
    SIGNATURE_ATTRIBUTE,
    AttributeActions,
    AwsKmsMaterialsProvider,
    ConfigurationError,
    CryptoAction,
    DecryptionError,
    DecryptionMaterials,
    EncryptedClient,
    EncryptedResource,
    EncryptedTable,
    EncryptionContext,
    EncryptionError,
    EncryptionMaterials,
    ItemEncryptor,
    KmsDecryptCache,
    MetaStore,
    MostRecentProvider,
    PynamoDBEncryptionError,
    StaticMaterialsProvider,
    SymmetricKey,
    TableIndex,
    TableInfo,
    UnsupportedOperationError,
    WrappedMaterialsProvider,
    decrypt_item,
    decrypt_python_item,
    encrypt_item,
    encrypt_python_item,
)
from pynamodb_encryption.core._md import (
    MD_CONTENT_KEY_ALGORITHM,
    MD_ENCRYPTED_KEY,
    MD_KEY_WRAP_ALGORITHM,
    MD_KMS_EC_ATTRIBUTES,
    MD_META_ID,
    MD_SIGNING_KEY_ALGORITHM,
    MD_SYMMETRIC_MODE,
    decode_material_description,
    encode_material_description,
)
from pynamodb_encryption.providers._cache import DerivedKeys, LruCache
from pynamodb_encryption.providers._common import check_description, parse_algorithm

SECRET = "hunter2-correct-horse-\u00e9"
AES_BYTES = bytes(range(100, 132))
HMAC_BYTES = bytes(range(160, 192))
AES = SymmetricKey(AES_BYTES, "AES")
HMAC = SymmetricKey(HMAC_BYTES, "HmacSHA256")
TABLE = "SecTable"


def _any(value: object) -> Any:
    """A test double where a boto3 client type is expected."""
    return value


def static_provider() -> StaticMaterialsProvider:
    return StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC)


def encryptor(provider: Any = None, actions: AttributeActions | None = None) -> ItemEncryptor:
    return ItemEncryptor(
        table_name=TABLE,
        partition_key_name="pk",
        sort_key_name=None,
        attribute_actions=actions or AttributeActions(),
        materials_provider=provider or static_provider(),
    )


def key_forms(material: bytes) -> list[str]:
    """Ways key bytes could show up in text."""
    return [
        material.hex(),
        material.hex().upper(),
        base64.b64encode(material).decode(),
        repr(material)[2:-1][:40],
    ]


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo.extend((current.__cause__, current.__context__))


def assert_no_secret_in_chain(exc: BaseException, secret: str | bytes) -> None:
    text_secret = secret if isinstance(secret, str) else secret.decode("latin-1")
    for current in exception_chain(exc):
        blobs = [str(current), repr(current), repr(current.args)]
        blobs += [repr(v) for v in vars(current).values()] if hasattr(current, "__dict__") else []
        for attr in ("object", "response"):
            if hasattr(current, attr):
                blobs.append(repr(getattr(current, attr)))
        for blob in blobs:
            assert text_secret not in blob, f"{type(current).__name__} carries the plaintext"
            if isinstance(secret, bytes):
                assert repr(secret)[2:-1] not in blob


# -------------------------------------------------------------------------------------------
# 4. md-driven algorithm choice: RSA PKCS#1 v1.5 unwrap must not be a padding oracle


def _tampered_rsa_item(wrapped: bytes, wrap_algorithm: str | None) -> tuple[Any, dict[str, Any]]:
    rsa = rsa_key("RSA")
    provider = WrappedMaterialsProvider(wrapping_key=rsa, signing_key=HMAC)
    enc = encryptor(provider)
    item = enc.encrypt({"pk": {"S": "a"}, "secret": {"S": SECRET}})
    md = decode_material_description(item[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
    md[MD_ENCRYPTED_KEY] = base64.b64encode(wrapped).decode()
    if wrap_algorithm is None:
        md.pop(MD_KEY_WRAP_ALGORITHM)
    else:
        md[MD_KEY_WRAP_ALGORITHM] = wrap_algorithm
    item[MATERIAL_DESCRIPTION_ATTRIBUTE] = {"B": encode_material_description(md)}
    return enc, item


def _outcome(enc: ItemEncryptor, item: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(PynamoDBEncryptionError) as info:
        enc.decrypt(item)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("wrap_algorithm", ["RSA/ECB/PKCS1Padding", "RSA", None])
def test_rsa_unwrap_failures_are_indistinguishable(wrap_algorithm: str | None) -> None:
    """The md (unsigned) picks PKCS#1 v1.5 and the wrapped bytes; the error must not tell a
    PKCS-conforming 32-byte key from bad padding or a bad length (Bleichenbacher oracle)."""
    public = rsa_key("RSA")._key.public_key()
    conforming = public.encrypt(os.urandom(32), padding.PKCS1v15())
    short = public.encrypt(os.urandom(5), padding.PKCS1v15())
    garbage = os.urandom(256)
    outcomes = {
        _outcome(*_tampered_rsa_item(blob, wrap_algorithm)) for blob in (conforming, short, garbage)
    }
    assert len(outcomes) == 1, outcomes
    ((kind, _),) = outcomes
    assert kind == "DecryptionError"


def test_rsa_unwrap_still_decrypts_genuine_items() -> None:
    rsa = rsa_key("RSA")
    for wrap in (None, "RSA/ECB/OAEPWithSHA-256AndMGF1Padding", "RSA/ECB/PKCS1Padding"):
        description = {} if wrap is None else {MD_KEY_WRAP_ALGORITHM: wrap}
        writer = WrappedMaterialsProvider(
            wrapping_key=rsa, signing_key=HMAC, material_description=description
        )
        enc = encryptor(writer)
        item = {"pk": {"S": "a"}, "secret": {"S": SECRET}}
        assert enc.decrypt(enc.encrypt(item)) == item


# -------------------------------------------------------------------------------------------
# 5. Bad configuration and md input: only PynamoDBEncryptionError


@pytest.mark.parametrize("text", ["AES/\u00b2", "AES/\u0663\u0662", "AES/", "AES/x"])
def test_parse_algorithm_rejects_non_ascii_digits(text: str) -> None:
    if text == "AES/":
        assert parse_algorithm(text) == ("AES", 256)
        return
    with pytest.raises(PynamoDBEncryptionError):
        parse_algorithm(text)


def test_provider_constructors_reject_odd_descriptions_with_our_errors() -> None:
    with pytest.raises(ConfigurationError):
        AwsKmsMaterialsProvider(
            key_id="k", material_description={MD_CONTENT_KEY_ALGORITHM: "AES/\u00b2"}
        )
    # The wrapped provider reports a bad content algorithm when it encrypts.
    wrapped = WrappedMaterialsProvider(
        wrapping_key=AES,
        signing_key=HMAC,
        material_description={MD_CONTENT_KEY_ALGORITHM: "AES/\u00b2"},
    )
    with pytest.raises(PynamoDBEncryptionError):
        wrapped.encryption_materials(EncryptionContext(table_name=TABLE))
    for bad in ([("a", "b")], "ab", 5):
        with pytest.raises(ConfigurationError):
            check_description(bad)  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError):
            StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC, material_description=bad)  # type: ignore[arg-type]


class _FakeKms:
    """A KMS stand-in: Decrypt succeeds only for the encryption context the blob was made with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._blobs: dict[bytes, tuple[bytes, dict[str, str]]] = {}

    def generate_data_key(self, **kwargs: Any) -> Any:
        self.calls.append(("generate_data_key", copy.deepcopy(kwargs)))
        plaintext = os.urandom(32)
        blob = os.urandom(40)
        self._blobs[blob] = (plaintext, dict(kwargs["EncryptionContext"]))
        return {"Plaintext": plaintext, "CiphertextBlob": blob, "KeyId": kwargs["KeyId"]}

    def decrypt(self, **kwargs: Any) -> Any:
        self.calls.append(("decrypt", copy.deepcopy(kwargs)))
        found = self._blobs.get(kwargs["CiphertextBlob"])
        if found is None or found[1] != kwargs.get("EncryptionContext"):
            raise ClientError(
                {"Error": {"Code": "InvalidCiphertextException", "Message": "no"}}, "Decrypt"
            )
        return {"Plaintext": found[0]}


MD_KEYS = [
    MD_CONTENT_KEY_ALGORITHM,
    MD_ENCRYPTED_KEY,
    MD_KEY_WRAP_ALGORITHM,
    MD_SIGNING_KEY_ALGORITHM,
    MD_KMS_EC_ATTRIBUTES,
    MD_META_ID,
    MD_SYMMETRIC_MODE,
]
MD_VALUES = st.one_of(
    st.sampled_from(
        [
            "AES",
            "AES/256",
            "AES/\u00b2",
            "AES/0",
            "AES/99999999999999999999",
            "HmacSHA256/256",
            "HmacSHA256/8",
            "HmacSHA256/0",
            "RSA",
            "RSA/ECB/PKCS1Padding",
            "AESWrap",
            "kms",
            "",
            "name#1",
            "name#\u00b2",
            "AAAA",
            "!!!",
            base64.b64encode(os.urandom(40)).decode(),
        ]
    ),
    st.text(max_size=20),
)
GARBAGE_MD = st.dictionaries(
    st.one_of(st.sampled_from(MD_KEYS), st.text(max_size=8)), MD_VALUES, max_size=6
)


def _providers() -> dict[str, Any]:
    rsa = rsa_key("RSA")
    return {
        "static": static_provider(),
        "wrapped-aes": WrappedMaterialsProvider(wrapping_key=AES, signing_key=HMAC),
        "wrapped-rsa": WrappedMaterialsProvider(wrapping_key=rsa, signing_key=HMAC),
        "kms": AwsKmsMaterialsProvider(key_id="alias/k", kms_client=_any(_FakeKms())),
        "kms-cached": AwsKmsMaterialsProvider(
            key_id="alias/k", kms_client=_any(_FakeKms()), decrypt_cache=KmsDecryptCache()
        ),
    }


PROVIDERS = _providers()


@pytest.mark.parametrize("name", sorted(PROVIDERS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(md=GARBAGE_MD, attributes=ddb_items())
@example(
    md={
        MD_ENCRYPTED_KEY: "AAAA",
        MD_KEY_WRAP_ALGORITHM: "AESWrap",
        MD_CONTENT_KEY_ALGORITHM: "AES/\u00b2",
        MD_SIGNING_KEY_ALGORITHM: "HmacSHA256/256",
    },
    attributes={},
)
def test_garbage_material_descriptions_raise_only_our_errors(
    name: str, md: dict[str, str], attributes: dict[str, Any]
) -> None:
    context = EncryptionContext(
        table_name=TABLE,
        partition_key_name="pk",
        attributes=attributes,
        material_description=md,
    )
    with contextlib.suppress(PynamoDBEncryptionError):
        PROVIDERS[name].decryption_materials(context)


@settings(max_examples=100, deadline=None)
@given(
    body=ddb_items(),
    signature=st.binary(max_size=40),
    md=st.one_of(st.binary(max_size=60), GARBAGE_MD.map(encode_material_description)),
    extra=st.dictionaries(
        st.sampled_from([SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE, "x"]),
        st.one_of(st.none(), st.integers(), st.text(), st.just({"S": "x"}), st.just({"B": "x"})),
        max_size=2,
    ),
)
def test_garbage_items_decrypt_raise_only_our_errors(
    body: dict[str, Any], signature: bytes, md: bytes, extra: dict[str, Any]
) -> None:
    item = dict(body)
    item[SIGNATURE_ATTRIBUTE] = {"B": signature}
    item[MATERIAL_DESCRIPTION_ATTRIBUTE] = {"B": md}
    item.update(extra)
    for provider in (PROVIDERS["static"], PROVIDERS["wrapped-aes"]):
        enc = encryptor(provider)
        with contextlib.suppress(PynamoDBEncryptionError):
            enc.decrypt(item)
        with contextlib.suppress(PynamoDBEncryptionError):
            enc.decrypt_python({k: v for k, v in item.items() if not isinstance(v, dict)})


@settings(max_examples=100, deadline=None)
@given(
    item=st.dictionaries(
        st.text(min_size=1, max_size=5),
        st.one_of(
            st.none(),
            st.integers(),
            st.floats(),
            st.text(),
            st.binary(),
            st.just({"S": 5}),
            st.just({"N": "abc"}),
            st.just({"Q": "x"}),
            st.just({"SS": []}),
            st.just({"M": {1: {"S": "x"}}}),
            st.just({"L": "notalist"}),
            st.just({"S": "lone\ud800"}),
            st.just({"S": "x", "N": "1"}),
        ),
        max_size=4,
    )
)
def test_garbage_items_encrypt_raise_only_our_errors(item: dict[str, Any]) -> None:
    enc = encryptor()
    for method in (enc.encrypt, enc.encrypt_python):
        with contextlib.suppress(PynamoDBEncryptionError):
            method(item)


# -------------------------------------------------------------------------------------------
# 1. Plaintext in exceptions and chained exceptions


def test_core_lone_surrogate_error_chain_holds_no_plaintext() -> None:
    with pytest.raises(EncryptionError) as info:
        encryptor().encrypt({"pk": {"S": "a"}, "secret": {"S": SECRET + "\ud800"}})
    assert_no_secret_in_chain(info.value, SECRET)


def _signed_item_with_raw_plaintext(raw_value: bytes) -> dict[str, Any]:
    """An item signed with the right keys whose encrypted value decrypts to ``raw_value``."""
    from pynamodb_encryption.core._encryptor import string_to_sign

    enc = encryptor()
    item = enc.encrypt({"pk": {"S": "a"}, "secret": {"S": "placeholder"}})
    item["secret"] = {"B": AES.encrypt_cbc(raw_value, os.urandom(16))}
    body = {
        k: v
        for k, v in item.items()
        if k not in (SIGNATURE_ATTRIBUTE, MATERIAL_DESCRIPTION_ATTRIBUTE)
    }
    item[SIGNATURE_ATTRIBUTE] = {"B": HMAC.sign(string_to_sign(body, TABLE, enc.attribute_actions))}
    return item


def test_core_invalid_utf8_plaintext_is_not_kept_in_the_chain() -> None:
    secret = SECRET.encode() + b"\xff"
    raw = b"\x00s" + len(secret).to_bytes(4, "big") + secret
    item = _signed_item_with_raw_plaintext(raw)
    with pytest.raises(DecryptionError) as info:
        encryptor().decrypt(item)
    assert_no_secret_in_chain(info.value, SECRET.encode())


def test_resource_shape_conversion_error_chain_holds_no_plaintext() -> None:
    client = _FakeDdb()
    table = EncryptedTable(_FakeTable(client), static_provider(), table_info=INFO)
    with pytest.raises(EncryptionError) as info:
        table.put_item(Item={"pk": "a", "secret": {SECRET, 1}})
    assert_no_secret_in_chain(info.value, SECRET)
    assert not client.calls


# -------------------------------------------------------------------------------------------
# 1. Reprs and strs


def _no_secrets(text: str, *materials: bytes) -> None:
    assert SECRET not in text
    for material in materials:
        for form in key_forms(material):
            assert form not in text, text


def test_reprs_hold_no_key_material_or_plaintext() -> None:
    rsa = rsa_key("SHA256withRSA")
    private_numbers = rsa._key.private_numbers()
    rsa_secret = private_numbers.d.to_bytes(256, "big")
    cache = KmsDecryptCache()
    keys = DerivedKeys(encryption_key=AES, mac_key=HMAC)
    cache.put(cache.make_key("k", b"blob", {"t": SECRET}), keys)
    lru: LruCache[str, Any] = LruCache(4)
    lru.put(SECRET, keys)
    context = EncryptionContext(
        table_name=TABLE, partition_key_name="pk", attributes={"secret": {"S": SECRET}}
    )
    meta_store = MetaStore(
        table_name="meta", materials_provider=static_provider(), dynamodb_client=_any(_FakeDdb())
    )
    objects: list[Any] = [
        AES,
        HMAC,
        rsa,
        rsa.public_key(),
        static_provider(),
        WrappedMaterialsProvider(wrapping_key=AES, signing_key=HMAC),
        WrappedMaterialsProvider(wrapping_key=rsa.with_algorithm("RSA"), signing_key=rsa),
        AwsKmsMaterialsProvider(key_id="k", decrypt_cache=cache, kms_client=_any(_FakeKms())),
        cache,
        cache.stats(),
        lru,
        keys,
        context,
        EncryptionMaterials(signing_key=HMAC, encryption_key=AES),
        DecryptionMaterials(verification_key=HMAC, decryption_key=AES),
        encryptor(),
        meta_store,
        MostRecentProvider(meta_store=meta_store, material_name="m", ttl_seconds=1),
        EncryptedClient(_FakeDdb(), static_provider(), table_info=INFO),
        EncryptedTable(_FakeTable(_FakeDdb()), static_provider(), table_info=INFO),
        EncryptedResource(_FakeResource(), static_provider(), table_info=INFO),
    ]
    for obj in objects:
        for text in (repr(obj), str(obj)):
            _no_secrets(text, AES_BYTES, HMAC_BYTES, rsa_secret)


# -------------------------------------------------------------------------------------------
# 2. The caller's items and arguments are never mutated


@settings(max_examples=50, deadline=None)
@given(item=ddb_items(min_size=1))
def test_item_functions_never_mutate_the_callers_item(item: dict[str, Any]) -> None:
    item = {"pk": {"S": "a"}, **item}
    options: dict[str, Any] = {
        "table_name": TABLE,
        "partition_key_name": "pk",
        "attribute_actions": AttributeActions(
            CryptoAction.ENCRYPT_AND_SIGN, {"x": CryptoAction.SIGN_ONLY}
        ),
        "materials_provider": static_provider(),
    }
    before = copy.deepcopy(item)
    stored = encrypt_item(item, **options)
    assert item == before
    stored_before = copy.deepcopy(stored)
    decrypt_item(stored, **options)
    assert stored == stored_before
    enc = encryptor(actions=options["attribute_actions"])
    again = enc.encrypt(item)
    again_before = copy.deepcopy(again)
    enc.decrypt(again)
    assert again == again_before
    assert item == before


def test_python_item_functions_never_mutate_the_callers_item() -> None:
    item = {"pk": "a", "secret": {"deep": [1, Decimal("2.5"), {b"x"}]}, "s": {"a", "b"}}
    options: dict[str, Any] = {
        "table_name": TABLE,
        "partition_key_name": "pk",
        "attribute_actions": AttributeActions(),
        "materials_provider": static_provider(),
    }
    before = copy.deepcopy(item)
    stored = encrypt_python_item(item, **options)
    assert item == before
    stored_before = copy.deepcopy(stored)
    decrypt_python_item(stored, **options)
    assert stored == stored_before


INFO = TableInfo(name=TABLE, primary_index=TableIndex(partition="pk"))


class _FakeDdb:
    """Records requests (deep copies) and answers like DynamoDB would for one table."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.stored: dict[str, Any] = {}
        self.unprocessed = False

    def _record(self, operation: str, kwargs: dict[str, Any]) -> None:
        self.calls.append((operation, copy.deepcopy(kwargs)))

    def describe_table(self, **kwargs: Any) -> Any:
        raise AssertionError("DescribeTable must not be needed")

    def put_item(self, **kwargs: Any) -> Any:
        self._record("put_item", kwargs)
        self.stored = kwargs["Item"]
        return {}

    def get_item(self, **kwargs: Any) -> Any:
        self._record("get_item", kwargs)
        return {"Item": copy.deepcopy(self.stored)} if self.stored else {}

    def batch_write_item(self, **kwargs: Any) -> Any:
        self._record("batch_write_item", kwargs)
        unprocessed = kwargs["RequestItems"] if self.unprocessed else {}
        return {"UnprocessedItems": copy.deepcopy(unprocessed)}

    def transact_write_items(self, **kwargs: Any) -> Any:
        self._record("transact_write_items", kwargs)
        return {}

    def query(self, **kwargs: Any) -> Any:
        self._record("query", kwargs)
        return {"Items": [copy.deepcopy(self.stored)] if self.stored else []}


class _FakeTable:
    def __init__(self, client: _FakeDdb) -> None:
        self.name = TABLE
        self._client = client

        class _Meta:
            pass

        self.meta = _Meta()
        self.meta.client = client  # type: ignore[attr-defined]

    def put_item(self, **kwargs: Any) -> Any:
        return self._client.put_item(**kwargs)

    def get_item(self, **kwargs: Any) -> Any:
        return self._client.get_item(**kwargs)


class _FakeResource:
    def __init__(self) -> None:
        self.client = _FakeDdb()

        class _Meta:
            pass

        self.meta = _Meta()
        self.meta.client = self.client  # type: ignore[attr-defined]

    def Table(self, name: str) -> _FakeTable:
        return _FakeTable(self.client)

    def batch_write_item(self, **kwargs: Any) -> Any:
        return self.client.batch_write_item(**kwargs)


def _check_unchanged(call: Any, kwargs: dict[str, Any]) -> Any:
    before = copy.deepcopy(kwargs)
    result = call(**kwargs)
    assert kwargs == before
    return result


def test_client_operations_never_mutate_the_callers_arguments() -> None:
    fake = _FakeDdb()
    client = EncryptedClient(fake, static_provider(), table_info=INFO)
    item = {"pk": {"S": "a"}, "secret": {"S": SECRET}, "m": {"M": {"x": {"L": [{"S": SECRET}]}}}}
    _check_unchanged(client.put_item, {"TableName": TABLE, "Item": item, "ReturnValues": "ALL_OLD"})
    stored_before = copy.deepcopy(fake.stored)
    _check_unchanged(client.get_item, {"TableName": TABLE, "Key": {"pk": {"S": "a"}}})
    assert fake.stored == stored_before
    fake.unprocessed = True
    response = _check_unchanged(
        client.batch_write_item,
        {
            "RequestItems": {
                TABLE: [
                    {"PutRequest": {"Item": item}},
                    {"DeleteRequest": {"Key": {"pk": {"S": "b"}}}},
                ]
            }
        },
    )
    # Unprocessed items come back as the caller's own plaintext entry, never ciphertext.
    assert response["UnprocessedItems"][TABLE][0]["PutRequest"]["Item"] == item
    _check_unchanged(
        client.transact_write_items,
        {
            "TransactItems": [
                {"Put": {"TableName": TABLE, "Item": item}},
                {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "b"}}}},
            ]
        },
    )
    sent = fake.calls[-1][1]["TransactItems"][0]["Put"]["Item"]
    assert SIGNATURE_ATTRIBUTE in sent
    assert sent["secret"] != item["secret"]


def test_table_and_resource_operations_never_mutate_the_callers_arguments() -> None:
    resource = _FakeResource()
    helper = EncryptedResource(resource, static_provider(), table_info=INFO)
    table = helper.Table(TABLE)
    item = {"pk": "a", "secret": SECRET, "n": Decimal("1.5"), "s": {"x", "y"}, "l": [{"k": SECRET}]}
    _check_unchanged(table.put_item, {"Item": item})
    _check_unchanged(table.get_item, {"Key": {"pk": "a"}})
    resource.client.unprocessed = True
    _check_unchanged(
        helper.batch_write_item, {"RequestItems": {TABLE: [{"PutRequest": {"Item": item}}]}}
    )
    before = copy.deepcopy(item)
    with table.batch_writer() as writer:
        writer.put_item(Item=item)
        resource.client.unprocessed = False
    assert item == before


# -------------------------------------------------------------------------------------------
# 3. No I/O and no key generation in constructors


class _Tripwire:
    """A boto3 client stand-in whose every operation fails the test."""

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError(f"{name} was called from a constructor")

        return call


def test_constructors_do_no_io_and_generate_no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    def no_boto3(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a boto3 client/resource was created in a constructor")

    def no_random(n: int) -> bytes:
        raise AssertionError("random bytes were drawn in a constructor")

    monkeypatch.setattr(boto3, "client", no_boto3)
    monkeypatch.setattr(boto3, "resource", no_boto3)
    monkeypatch.setattr(boto3, "Session", no_boto3)
    rsa = rsa_key("RSA")
    monkeypatch.setattr(os, "urandom", no_random)
    tripwire = _Tripwire()
    StaticMaterialsProvider(encryption_key=AES, signing_key=HMAC)
    WrappedMaterialsProvider(wrapping_key=AES, signing_key=HMAC)
    WrappedMaterialsProvider(wrapping_key=rsa, signing_key=HMAC)
    AwsKmsMaterialsProvider(key_id="arn:aws:kms:eu-west-1:111122223333:key/x")
    AwsKmsMaterialsProvider(key_id="k", kms_client=_any(tripwire), decrypt_cache=KmsDecryptCache())
    store = MetaStore(table_name="meta", materials_provider=static_provider())
    MetaStore(
        table_name="meta", materials_provider=static_provider(), dynamodb_client=_any(tripwire)
    )
    MostRecentProvider(meta_store=store, material_name="m", ttl_seconds=5)
    EncryptedClient(tripwire, static_provider())
    EncryptedResource(_FakeResourceTripwire(), static_provider())
    EncryptedTable(_FakeTableTripwire(), static_provider())
    encryptor()


class _FakeTableTripwire(_Tripwire):
    name = TABLE

    def __init__(self) -> None:
        class _Meta:
            client = _Tripwire()

        self.meta = _Meta()


class _FakeResourceTripwire(_Tripwire):
    def __init__(self) -> None:
        class _Meta:
            client = _Tripwire()

        self.meta = _Meta()


def test_model_class_definition_does_no_io() -> None:
    from pynamodb.attributes import UnicodeAttribute

    from pynamodb_encryption.orm import EncryptedAttribute, EncryptedModel

    calls: list[str] = []

    def factory() -> StaticMaterialsProvider:
        calls.append("provider")
        return static_provider()

    class Model(EncryptedModel):
        class Meta:
            table_name = TABLE
            materials_provider = factory
            host = "http://127.0.0.1:9"  # nothing listens: any request would fail

        pk = UnicodeAttribute(hash_key=True)
        secret = EncryptedAttribute(UnicodeAttribute())

    assert calls == []
    instance = Model("a", secret=SECRET)
    assert calls == []
    assert SECRET not in repr(instance)
    assert SECRET not in str(instance)
    stored = instance.serialize()  # encrypts locally, resolves the provider once
    assert calls == ["provider"]
    assert SECRET.encode() not in repr(stored).encode()


# -------------------------------------------------------------------------------------------
# 4. Fail-open checks


def test_every_client_operation_is_wrapped_passed_as_metadata_or_refused() -> None:
    import boto3
    from botocore import xform_name

    raw = boto3.client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    client = EncryptedClient(raw, static_provider(), table_info=INFO)
    metadata_only = {
        "create_table", "delete_table", "update_table", "tag_resource", "untag_resource",
        "update_time_to_live", "create_backup", "delete_backup", "create_global_table",
        "update_global_table", "update_global_table_settings", "update_continuous_backups",
        "update_contributor_insights", "update_table_replica_auto_scaling",
        "update_kinesis_streaming_destination", "enable_kinesis_streaming_destination",
        "disable_kinesis_streaming_destination", "restore_table_from_backup",
        "restore_table_to_point_in_time", "export_table_to_point_in_time",
        "get_resource_policy", "put_resource_policy", "delete_resource_policy",
    }  # fmt: skip
    for operation in raw.meta.service_model.operation_names:
        name = xform_name(operation)
        if name in type(client).__dict__:
            continue  # implemented (encrypting, decrypting or refusing) by the helper
        if name in metadata_only or name.startswith(("describe_", "list_")):
            assert getattr(client, name) == getattr(raw, name)
            continue
        with pytest.raises(UnsupportedOperationError):
            getattr(client, name)


def test_kms_decrypt_cache_never_serves_another_context() -> None:
    kms: Any = _FakeKms()
    cache = KmsDecryptCache()
    provider = AwsKmsMaterialsProvider(key_id="alias/k", kms_client=kms, decrypt_cache=cache)
    enc = ItemEncryptor(
        table_name=TABLE,
        partition_key_name="pk",
        attribute_actions=AttributeActions(),
        materials_provider=provider,
    )
    stored = enc.encrypt({"pk": {"S": "a"}, "secret": {"S": SECRET}})
    enc.decrypt(stored)
    enc.decrypt(stored)
    assert [op for op, _ in kms.calls].count("decrypt") == 1  # second read was a hit
    # The same blob under another key value (item moved) or another table: a miss, and KMS
    # refuses the mismatched context.
    moved = dict(stored, pk={"S": "b"})
    with pytest.raises(DecryptionError):
        enc.decrypt(moved)
    other_table = ItemEncryptor(
        table_name=TABLE + "2",
        partition_key_name="pk",
        attribute_actions=AttributeActions(),
        materials_provider=provider,
    )
    with pytest.raises(DecryptionError):
        other_table.decrypt(stored)
    # Another provider (another key id) sharing the cache does not get the cached keys.
    other = AwsKmsMaterialsProvider(
        key_id="alias/other", kms_client=_any(_FakeKms()), decrypt_cache=cache
    )
    other_enc = ItemEncryptor(
        table_name=TABLE,
        partition_key_name="pk",
        attribute_actions=AttributeActions(),
        materials_provider=other,
    )
    with pytest.raises(DecryptionError):
        other_enc.decrypt(stored)


def test_kms_md_cannot_choose_weaker_derived_keys() -> None:
    """The derived-key algorithms come from the unsigned md but are bound into the KMS
    encryption context: a changed signing algorithm makes KMS refuse the data key."""
    kms: Any = _FakeKms()
    provider = AwsKmsMaterialsProvider(key_id="alias/k", kms_client=kms)
    enc = encryptor(provider)
    stored = enc.encrypt({"pk": {"S": "a"}, "secret": {"S": SECRET}})
    for key, weak in (
        (MD_SIGNING_KEY_ALGORITHM, "HmacSHA256/8"),
        (MD_CONTENT_KEY_ALGORITHM, "AES/128"),
    ):
        md = decode_material_description(stored[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])
        md[key] = weak
        tampered = dict(stored)
        tampered[MATERIAL_DESCRIPTION_ATTRIBUTE] = {"B": encode_material_description(md)}
        with pytest.raises(DecryptionError):
            enc.decrypt(tampered)


def test_unsigned_item_is_never_accepted_when_something_is_signed() -> None:
    enc = encryptor(actions=AttributeActions(CryptoAction.SIGN_ONLY))
    from pynamodb_encryption import PlaintextItemError

    with pytest.raises(PlaintextItemError):
        enc.decrypt({"pk": {"S": "a"}, "x": {"S": SECRET}})
    stored = enc.encrypt({"pk": {"S": "a"}, "x": {"S": "v"}})
    for removed in (SIGNATURE_ATTRIBUTE, "x"):
        partial = {k: v for k, v in stored.items() if k != removed}
        with pytest.raises(DecryptionError):
            enc.decrypt(partial)


def test_signature_checks_are_constant_time() -> None:
    import inspect

    from pynamodb_encryption.core import _keys

    source = inspect.getsource(_keys.SymmetricKey.verify)
    assert "compare_digest" in source


def test_error_classes_are_one_tree() -> None:
    import pynamodb_encryption.errors as errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), PynamoDBEncryptionError)


def test_resource_shape_message_names_no_value() -> None:
    resource = _FakeResource()
    table = EncryptedResource(resource, static_provider(), table_info=INFO).Table(TABLE)
    with pytest.raises(EncryptionError) as info:
        table.put_item(Item={"pk": "a", "secret": [SECRET, 1.5]})
    assert SECRET not in str(info.value)
    assert info.value.attribute == "secret"


def _md_mapping(item: Mapping[str, Any]) -> dict[str, str]:
    return decode_material_description(item[MATERIAL_DESCRIPTION_ATTRIBUTE]["B"])


class _AcceptingDdb(_FakeDdb):
    """Accepts any request (a server would validate it); only our own checks can fail."""

    def update_item(self, **kwargs: Any) -> Any:
        return {}

    def delete_item(self, **kwargs: Any) -> Any:
        return {}

    def scan(self, **kwargs: Any) -> Any:
        return {}

    def batch_get_item(self, **kwargs: Any) -> Any:
        return {}

    def transact_get_items(self, **kwargs: Any) -> Any:
        return {}

    def batch_write_item(self, **kwargs: Any) -> Any:
        return {}


_JUNK = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=6),
    st.just([]),
    st.just([5]),
    st.just({}),
    st.just({"Item": 5}),
    st.just({"Item": {"pk": {"S": "a"}}}),
    st.just({"PutRequest": "x"}),
    st.just({"PutRequest": {}}),
    st.just([{"PutRequest": {}}]),
    st.just([{"PutRequest": {"Item": {"pk": {"S": "a"}, "x": "raw"}}}]),
    st.just("#a = :v"),
    st.just("SET #a = :v"),
    st.just({"#a": "secret"}),
)
_PARAMS = (
    "Item",
    "Key",
    "ConditionExpression",
    "UpdateExpression",
    "FilterExpression",
    "KeyConditionExpression",
    "ExpressionAttributeNames",
    "ProjectionExpression",
    "Expected",
    "AttributeUpdates",
    "RequestItems",
    "TransactItems",
    "Select",
)


@settings(max_examples=150, deadline=None)
@given(
    operation=st.sampled_from(
        [
            "put_item",
            "get_item",
            "delete_item",
            "update_item",
            "query",
            "scan",
            "batch_get_item",
            "batch_write_item",
            "transact_get_items",
            "transact_write_items",
        ]
    ),
    params=st.dictionaries(st.sampled_from(_PARAMS), _JUNK, max_size=4),
)
def test_garbage_client_requests_raise_only_our_errors(
    operation: str, params: dict[str, Any]
) -> None:
    client = EncryptedClient(_AcceptingDdb(), static_provider(), table_info=INFO)
    request = {"TableName": TABLE, **params}
    if "TransactItems" in request and isinstance(request["TransactItems"], list):
        request["TransactItems"] = [
            {"Put": {"TableName": TABLE, **e}} if isinstance(e, dict) else e
            for e in request["TransactItems"]
        ]
    if "RequestItems" in request:
        request["RequestItems"] = {TABLE: request["RequestItems"]}
    with contextlib.suppress(PynamoDBEncryptionError):
        getattr(client, operation)(**request)


@pytest.mark.parametrize(
    ("operation", "request_params"),
    [
        ("batch_write_item", {"RequestItems": {TABLE: [{"PutRequest": "x"}]}}),
        ("batch_write_item", {"RequestItems": {TABLE: [{"PutRequest": {}}]}}),
        ("batch_write_item", {"RequestItems": {TABLE: 5}}),
        (
            "update_item",
            {
                "TableName": TABLE,
                "Key": {"pk": {"S": "a"}},
                "UpdateExpression": "SET #a = :v",
                "ExpressionAttributeNames": 5,
            },
        ),
    ],
)
def test_malformed_requests_are_refused_with_our_errors(
    operation: str, request_params: dict[str, Any]
) -> None:
    fake = _AcceptingDdb()
    client = EncryptedClient(fake, static_provider(), table_info=INFO)
    with pytest.raises(PynamoDBEncryptionError):
        getattr(client, operation)(**request_params)
    assert not fake.calls


def test_non_string_select_is_left_to_botocore_validation() -> None:
    fake = _AcceptingDdb()
    client = EncryptedClient(fake, static_provider(), table_info=INFO)
    client.get_item(TableName=TABLE, Key={"pk": {"S": "a"}}, Select=[])  # no TypeError
    assert [op for op, _ in fake.calls] == ["get_item"]


@pytest.mark.parametrize("weak", ["HmacSHA256/8", "HmacSHA256/64", "HmacSHA512/120"])
def test_kms_provider_refuses_to_write_with_a_tiny_mac_key(weak: str) -> None:
    with pytest.raises(ConfigurationError):
        AwsKmsMaterialsProvider(key_id="k", material_description={MD_SIGNING_KEY_ALGORITHM: weak})
    AwsKmsMaterialsProvider(
        key_id="k", material_description={MD_SIGNING_KEY_ALGORITHM: "HmacSHA256/128"}
    )
