"""DynamoDB's limits on encrypted values (issue 9, point 3): the writer refuses what the reader
would refuse, so that whatever is written can be read back.

DynamoDB Local refuses a top-level value that nests 32 lists or maps and accepts 31 (what
``MAX_NESTING = 32`` levels means, the item counting as one); an encrypted value is opaque to
DynamoDB, so the writer has to check it itself.
"""

from __future__ import annotations

from typing import Any

import pytest
from _strategies import canonical, scalar_values
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption import (
    AttributeActions,
    CryptoAction,
    EncryptionError,
    ItemEncryptor,
    StaticMaterialsProvider,
    SymmetricKey,
    encrypt_python_item,
)
from pynamodb_encryption.core._codec import (
    MAX_ITEM_BYTES,
    MAX_NESTING,
    CodecError,
    deserialize,
    serialize,
)
from pynamodb_encryption.core._python_values import from_ddb

SECRET = "s3cr3t-plaintext"
PROVIDER = StaticMaterialsProvider(
    encryption_key=SymmetricKey(bytes(range(32)), "AES"),
    signing_key=SymmetricKey(bytes(range(32, 64)), "HmacSHA256"),
)
ACTIONS = AttributeActions(
    CryptoAction.ENCRYPT_AND_SIGN, attribute_actions={"signed": CryptoAction.SIGN_ONLY}
)
ENCRYPTOR = ItemEncryptor(
    table_name="T", partition_key_name="pk", attribute_actions=ACTIONS, materials_provider=PROVIDER
)
#: Lists or maps a top-level value may nest (DynamoDB Local: 31 accepted, 32 refused).
MAX_CONTAINERS = MAX_NESTING - 1


def nest(inner: dict[str, Any], containers: int, kinds: str = "M") -> dict[str, Any]:
    value = inner
    for index in range(containers):
        kind = kinds[index % len(kinds)]
        value = {"M": {"k": value}} if kind == "M" else {"L": [{"S": SECRET}, value]}
    return value


def nested_bytes(containers: int) -> bytes:
    """The serialization of ``containers`` nested one-element lists around a NULL, built by
    hand (what another writer could have stored)."""
    return bytes.fromhex("004c00000001") * containers + b"\x00\x00"


@pytest.mark.parametrize("kinds", ["M", "L", "ML"])
def test_codec_accepts_dynamodb_depth_and_refuses_one_more(kinds: str) -> None:
    deepest = nest({"S": SECRET}, MAX_CONTAINERS, kinds)
    assert deserialize(serialize(deepest)) == deepest
    for too_deep in (nest({"S": SECRET}, MAX_CONTAINERS + 1, kinds), nest({"M": {}}, 31, kinds)):
        with pytest.raises(CodecError) as info:
            serialize(too_deep)
        assert SECRET not in str(info.value)


def test_reader_enforces_the_same_depth() -> None:
    value = deserialize(nested_bytes(MAX_CONTAINERS))
    assert serialize(value) == nested_bytes(MAX_CONTAINERS)
    with pytest.raises(CodecError):
        deserialize(nested_bytes(MAX_CONTAINERS + 1))


def test_reader_refuses_a_value_larger_than_an_item() -> None:
    data = b"\x00b" + (MAX_ITEM_BYTES).to_bytes(4, "big") + bytes(MAX_ITEM_BYTES)
    with pytest.raises(CodecError):
        deserialize(data)
    fits = b"\x00b" + (MAX_ITEM_BYTES - 6).to_bytes(4, "big") + bytes(MAX_ITEM_BYTES - 6)
    assert deserialize(fits) == {"B": bytes(MAX_ITEM_BYTES - 6)}


@pytest.mark.parametrize("name", ["secret", "signed"])
def test_item_encryptor_refuses_too_deep_at_write_time(name: str) -> None:
    item = {"pk": {"S": "p"}, name: nest({"S": SECRET}, MAX_CONTAINERS + 1)}
    with pytest.raises(EncryptionError) as info:
        ENCRYPTOR.encrypt(item)
    assert info.value.attribute == name
    assert SECRET not in str(info.value)
    assert "32 levels" in str(info.value)


def test_item_encryptor_refuses_an_encrypted_item_over_400_kb() -> None:
    half = MAX_ITEM_BYTES // 2
    item = {"pk": {"S": "p"}, "a": {"B": bytes(half)}, "b": {"B": bytes(half)}}
    with pytest.raises(EncryptionError) as info:
        ENCRYPTOR.encrypt(item)
    assert "400 KB" in str(info.value)
    small = {"pk": {"S": "p"}, "a": {"B": bytes(half - 100)}, "b": {"B": bytes(half - 100)}}
    assert ENCRYPTOR.decrypt(ENCRYPTOR.encrypt(small)) == small


def test_plain_values_api_refuses_too_deep_without_recursion_error() -> None:
    for depth in (MAX_CONTAINERS + 1, 5000):
        value: Any = SECRET
        for _ in range(depth):
            value = [value]
        with pytest.raises(EncryptionError) as info:
            encrypt_python_item(
                {"pk": "p", "secret": value},
                table_name="T",
                partition_key_name="pk",
                attribute_actions=ACTIONS,
                materials_provider=PROVIDER,
            )
        assert SECRET not in str(info.value)
    value = SECRET
    for _ in range(MAX_CONTAINERS):
        value = [value]
    stored = ENCRYPTOR.encrypt_python({"pk": "p", "secret": value})
    assert ENCRYPTOR.decrypt_python(stored)["secret"] == value


@st.composite
def values_near_the_limits(draw: Any) -> dict[str, Any]:
    """A value nesting 28..33 lists or maps, with siblings at each level, or a binary
    within a few bytes of the item size limit."""
    if draw(st.booleans()):
        size = draw(st.integers(MAX_ITEM_BYTES - 40, MAX_ITEM_BYTES + 8))
        return {"B": bytes(size)}
    depth = draw(st.integers(MAX_CONTAINERS - 3, MAX_CONTAINERS + 2))
    value: dict[str, Any] = draw(st.one_of(scalar_values(), st.just({"M": {}}), st.just({"L": []})))
    for _ in range(depth):
        sibling = draw(scalar_values())
        if draw(st.booleans()):
            value = {"M": {"deeper": value, "other": sibling}}
        else:
            value = {"L": [sibling, value] if draw(st.booleans()) else [value]}
    return value


@settings(max_examples=40)
@given(value=values_near_the_limits())
def test_whatever_is_written_reads_back(value: dict[str, Any]) -> None:
    item = {"pk": {"S": "p"}, "secret": value}
    try:
        stored = ENCRYPTOR.encrypt(item)
    except EncryptionError:
        # Refused at write time only when the reader would refuse it too.
        with pytest.raises(CodecError):
            deserialize(_unchecked(value))
        return
    assert ENCRYPTOR.decrypt(stored) == {"pk": {"S": "p"}, "secret": canonical(value)}


@settings(max_examples=30)
@given(value=values_near_the_limits())
def test_whatever_the_plain_values_api_writes_reads_back(value: dict[str, Any]) -> None:
    python = from_ddb(value)
    try:
        stored = ENCRYPTOR.encrypt_python({"pk": "p", "secret": python})
    except EncryptionError:
        with pytest.raises(CodecError):
            deserialize(_unchecked(value))
        return
    assert ENCRYPTOR.decrypt_python(stored)["secret"] == from_ddb(canonical(value))


def _unchecked(value: dict[str, Any]) -> bytes:
    """What a writer without the checks would have serialized."""
    from pynamodb_encryption.core import _codec

    return _codec._serialize(value, _UNCHECKED_WRITERS)


def _unchecked_writers() -> dict[str, Any]:
    from pynamodb_encryption.core import _codec

    return {
        "S": _codec._write_s,
        "N": _codec._write_n,
        "B": _codec._write_b,
        "BOOL": _codec._write_bool,
        "NULL": _codec._write_null,
        "L": _codec._write_l,
        "M": _codec._write_m,
        "SS": _codec._write_ss,
        "NS": _codec._write_ns,
        "BS": _codec._write_bs,
    }


_UNCHECKED_WRITERS = _unchecked_writers()
