"""The function API's shared per-table state, and the large-value paths of the engine.

The function API (`encrypt_item` and friends) builds an encryptor per call; what it derives
from the table and the actions is cached so that it runs at `ItemEncryptor` speed. These tests
pin what that cache may and may not hold. Large values (at least ``LARGE_VALUE`` bytes) take
copy-free cipher and hashing paths whose output must be byte for byte the textbook one.
"""

from __future__ import annotations

import gc
import hashlib
import os
import struct
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding as sym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    AttributeActions,
    ConfigurationError,
    CryptoAction,
    DecryptionMaterials,
    EncryptionContext,
    EncryptionMaterials,
    ItemEncryptor,
    StaticMaterialsProvider,
    SymmetricKey,
    decrypt_item,
    encrypt_item,
)
from pynamodb_encryption.core import _encryptor
from pynamodb_encryption.core._codec import serialize
from pynamodb_encryption.core._keys import LARGE_VALUE

E = CryptoAction.ENCRYPT_AND_SIGN
AES = SymmetricKey(bytes(range(32)), "AES")
MAC = SymmetricKey(bytes(range(32, 64)), "HmacSHA256")


class WeakProvider:
    """A provider that can be weakly referenced (the library's own use slots)."""

    def __init__(self) -> None:
        self._inner = StaticMaterialsProvider(encryption_key=AES, signing_key=MAC)

    def encryption_materials(self, context: EncryptionContext) -> EncryptionMaterials:
        return self._inner.encryption_materials(context)

    def decryption_materials(self, context: EncryptionContext) -> DecryptionMaterials:
        return self._inner.decryption_materials(context)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    with _encryptor._schemas_lock:
        saved = dict(_encryptor._schemas)
        _encryptor._schemas.clear()
    yield
    with _encryptor._schemas_lock:
        _encryptor._schemas.clear()
        _encryptor._schemas.update(saved)


def _kwargs(provider: Any, table: str = "T", **extra: Any) -> dict[str, Any]:
    return {
        "table_name": table,
        "partition_key_name": "pk",
        "sort_key_name": None,
        "attribute_actions": AttributeActions(E),
        "materials_provider": provider,
        **extra,
    }


ITEM = {"pk": {"S": "k"}, "a": {"S": "secret"}, "n": {"N": "12"}}


def test_fresh_configurations_share_one_schema_with_the_class() -> None:
    provider = StaticMaterialsProvider(encryption_key=AES, signing_key=MAC)
    encryptor = ItemEncryptor(**_kwargs(provider))
    stored = encrypt_item(ITEM, **_kwargs(provider))
    assert decrypt_item(stored, **_kwargs(provider)) == encryptor.decrypt(stored) == ITEM
    assert len(_encryptor._schemas) == 1
    # The plan computed by the function API is the one the class uses.
    (schema,) = _encryptor._schemas.values()
    assert schema.plans is encryptor._plans
    assert tuple(ITEM) in schema.plans


def test_the_cache_keys_on_key_names_and_actions() -> None:
    provider = StaticMaterialsProvider(encryption_key=AES, signing_key=MAC)
    # Same actions, other partition key name: "pk" is now encrypted, "a" is the key.
    stored = encrypt_item(ITEM, **_kwargs(provider, partition_key_name="a"))
    assert stored["a"] == ITEM["a"]
    assert "B" in stored["pk"]
    plain = encrypt_item(
        ITEM,
        **_kwargs(provider, attribute_actions=AttributeActions(E, {"n": CryptoAction.DO_NOTHING})),
    )
    assert plain["n"] == ITEM["n"]
    assert "B" in encrypt_item(ITEM, **_kwargs(provider))["n"]
    assert len(_encryptor._schemas) == 3


def test_the_cache_holds_no_provider_and_no_key() -> None:
    provider = WeakProvider()
    ref = weakref.ref(provider)
    stored = encrypt_item(ITEM, **_kwargs(provider))
    assert decrypt_item(stored, **_kwargs(provider)) == ITEM
    del provider
    gc.collect()
    assert ref() is None
    referents = gc.get_referents(*_encryptor._schemas.values())
    assert not any(isinstance(r, (SymmetricKey, WeakProvider)) for r in referents)


def test_the_cache_is_a_bounded_lru() -> None:
    provider = StaticMaterialsProvider(encryption_key=AES, signing_key=MAC)
    size = _encryptor._SCHEMA_CACHE_SIZE
    encrypt_item(ITEM, **_kwargs(provider, table="kept"))
    for index in range(2 * size):
        encrypt_item(ITEM, **_kwargs(provider, table=f"t{index}"))
        encrypt_item(ITEM, **_kwargs(provider, table="kept"))  # recently used: never evicted
    assert len(_encryptor._schemas) == size
    tables = {key[0] for key in _encryptor._schemas}
    assert "kept" in tables
    assert "t0" not in tables


def test_invalid_configurations_fail_every_time_and_are_not_cached() -> None:
    provider = StaticMaterialsProvider(encryption_key=AES, signing_key=MAC)
    for _ in range(2):
        with pytest.raises(ConfigurationError):
            encrypt_item(ITEM, **_kwargs(provider, table="bad\ud800"))
        with pytest.raises(ConfigurationError):
            encrypt_item(
                ITEM,
                **_kwargs(
                    provider, attribute_actions=AttributeActions(E, {"*amzn-ddb-map-sig*": E})
                ),
            )
        with pytest.raises(ConfigurationError):
            encrypt_item(ITEM, **_kwargs(object()))
    assert not _encryptor._schemas


def test_equal_actions_are_equal_and_hash_alike() -> None:
    one = AttributeActions(E, {"a": CryptoAction.SIGN_ONLY})
    two = AttributeActions(E, {"a": CryptoAction.SIGN_ONLY})
    assert one == two
    assert hash(one) == hash(two)
    assert one != AttributeActions(E, {"a": CryptoAction.DO_NOTHING})
    assert one != AttributeActions(CryptoAction.SIGN_ONLY, {"a": CryptoAction.SIGN_ONLY})


# ---------------------------------------------------------------------------------------------
# Large values

SIZES = [
    LARGE_VALUE - 17,
    LARGE_VALUE - 1,
    LARGE_VALUE,
    LARGE_VALUE + 1,
    LARGE_VALUE + 15,
    LARGE_VALUE + 16,
    3 * LARGE_VALUE + 7,
]


def _textbook(material: bytes, iv: bytes, plaintext: bytes) -> bytes:
    padder = sym_padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(material), modes.CBC(iv)).encryptor()
    return iv + encryptor.update(padded) + encryptor.finalize()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from([*SIZES, 0, 5, 16, 200]), min_size=1, max_size=4))
def test_large_and_small_values_in_one_context_equal_textbook_cbc(sizes: list[int]) -> None:
    material = os.urandom(32)
    key = SymmetricKey(material, "AES")
    plaintexts = [os.urandom(size) for size in sizes]
    ivs = os.urandom(16 * len(plaintexts))
    blobs = key.cbc_encryptor().encrypt_all(plaintexts, ivs)
    for index, (plaintext, blob) in enumerate(zip(plaintexts, blobs, strict=True)):
        assert blob == _textbook(material, ivs[16 * index : 16 * index + 16], plaintext)
    assert key.cbc_decryptor().decrypt_all(blobs) == plaintexts


def test_large_blob_with_bad_padding_decrypts_to_none() -> None:
    material = os.urandom(32)
    key = SymmetricKey(material, "AES")
    # A whole-block plaintext ending in a zero byte, encrypted without padding: bad padding.
    data = os.urandom(LARGE_VALUE) + bytes(16)
    iv = os.urandom(16)
    raw = Cipher(algorithms.AES(material), modes.CBC(iv)).encryptor()
    blob = iv + raw.update(data) + raw.finalize()
    good = key.cbc_encryptor().encrypt(b"fine", os.urandom(16))
    assert key.cbc_decryptor().decrypt_all([good, blob]) == [b"fine", None]


@pytest.mark.parametrize("size", SIZES)
def test_large_binary_digest_is_the_framed_sha256(size: int) -> None:
    blob = os.urandom(size)
    framed = b"\x00b" + struct.pack(">I", size) + blob
    assert framed == serialize({"B": blob})
    assert _encryptor._blob_digest(blob) == hashlib.sha256(framed).digest()


def test_large_item_round_trip_and_tamper_detection() -> None:
    provider = StaticMaterialsProvider(encryption_key=AES, signing_key=MAC)
    item = {
        "pk": {"S": "k"},
        "blob": {"B": os.urandom(300 * 1024)},
        "text": {"S": "é" * (LARGE_VALUE // 2 + 3)},
        "small": {"N": "1"},
    }
    encryptor = ItemEncryptor(**_kwargs(provider))
    stored = encryptor.encrypt(item)
    assert encryptor.decrypt(stored) == item
    tampered = dict(stored)
    blob = bytearray(stored["blob"]["B"])
    blob[-1] ^= 1
    tampered["blob"] = {"B": bytes(blob)}
    with pytest.raises(Exception, match="signature"):
        encryptor.decrypt(tampered)


def test_large_values_of_every_shape_round_trip() -> None:
    provider = StaticMaterialsProvider(encryption_key=AES, signing_key=MAC)
    encryptor = ItemEncryptor(**_kwargs(provider))
    item = {
        "pk": {"S": "k"},
        "list": {"L": [{"B": os.urandom(1000)} for _ in range(40)]},
        "set": {"SS": sorted(f"member {i:06d}" for i in range(2000))},
        "map": {"M": {f"k{i}": {"N": str(i)} for i in range(2000)}},
        "ascii": {"S": "x" * (2 * LARGE_VALUE)},
    }
    assert encryptor.decrypt(encryptor.encrypt(item)) == item


def test_large_value_reader_checks_what_it_reads() -> None:
    from pynamodb_encryption.core._codec import CodecError

    good = serialize({"S": "é" * LARGE_VALUE})
    assert _encryptor._deserialize_large(memoryview(good)) == {"S": "é" * LARGE_VALUE}
    bad_text = good[:6] + b"\xff" + good[7:]
    with pytest.raises(CodecError) as info:
        _encryptor._deserialize_large(memoryview(bad_text))
    assert info.value.__context__ is None  # the decrypted bytes ride on no exception
    with pytest.raises(CodecError):  # the length says less than there is: trailing bytes
        _encryptor._deserialize_large(memoryview(good + b"\x00"))
    blob = serialize({"B": b"\x01" * LARGE_VALUE})
    assert _encryptor._deserialize_large(memoryview(blob)) == {"B": b"\x01" * LARGE_VALUE}
