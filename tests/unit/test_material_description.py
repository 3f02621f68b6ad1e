"""The material description: fixed bytes, any entry order on read, strict parsing."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pynamodb_encryption.core._md import (
    MaterialDescriptionError,
    decode_material_description,
    encode_material_description,
)

VECTOR = bytes.fromhex(
    "00000000"
    "00000001"
    + b"A".hex()
    + "00000007"
    + b"Field A".hex()
    + "00000001"
    + b"B".hex()
    + "00000007"
    + b"Field B".hex()
    + "00000001"
    + b"C".hex()
    + "00000003"
    + b"123".hex()
)


def lv(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">I", len(data)) + data


def test_vector_from_the_notes() -> None:
    md = {"C": "123", "A": "Field A", "B": "Field B"}
    assert encode_material_description(md) == VECTOR
    assert decode_material_description(VECTOR) == md


def test_empty_description() -> None:
    assert encode_material_description({}) == b"\x00\x00\x00\x00"
    assert decode_material_description(b"\x00\x00\x00\x00") == {}


def test_entries_in_any_order_are_accepted() -> None:
    # Java writes HashMap order.
    data = b"\x00\x00\x00\x00" + lv("b") + lv("2") + lv("a") + lv("1")
    assert decode_material_description(data) == {"a": "1", "b": "2"}
    from_bytearray = decode_material_description(bytearray(data))  # type: ignore[arg-type]
    assert from_bytearray == {"a": "1", "b": "2"}


def test_the_deterministic_vector_description() -> None:
    md = {"amzn-ddb-map-sym-mode": "/CBC/PKCS5Padding", "amzn-ddb-map-signingAlg": "HmacSHA256"}
    expected = (
        b"\x00\x00\x00\x00"
        + lv("amzn-ddb-map-signingAlg")
        + lv("HmacSHA256")
        + lv("amzn-ddb-map-sym-mode")
        + lv("/CBC/PKCS5Padding")
    )
    assert encode_material_description(md) == expected


@given(st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=8))
def test_round_trip(md: dict[str, str]) -> None:
    data = encode_material_description(md)
    assert decode_material_description(data) == md
    assert encode_material_description(dict(reversed(list(md.items())))) == data


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x00",
        b"\x00\x00\x00\x01",  # unknown version
        b"\x01\x00\x00\x00" + lv("a") + lv("b"),
        b"\x00\x00\x00\x00\x00",  # truncated length
        b"\x00\x00\x00\x00" + lv("a"),  # key without value
        b"\x00\x00\x00\x00" + lv("a") + b"\x00\x00\x00\x05ab",  # value shorter than its length
        b"\x00\x00\x00\x00" + lv("a") + lv("b")[:-1],
        b"\x00\x00\x00\x00\x00\x00\x00\x01\xff" + lv("x"),  # not UTF-8
        b"\x00\x00\x00\x00" + lv("a") + lv("1") + lv("a") + lv("2"),  # repeated key
    ],
)
def test_malformed_descriptions_are_rejected(data: bytes) -> None:
    with pytest.raises(MaterialDescriptionError):
        decode_material_description(data)


@pytest.mark.parametrize("data", ["AAAAAA==", None, 0])
def test_non_binary_is_rejected(data: object) -> None:
    with pytest.raises(MaterialDescriptionError):
        decode_material_description(data)  # type: ignore[arg-type]


@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise_anything_else(data: bytes) -> None:
    try:
        decoded = decode_material_description(data)
    except MaterialDescriptionError:
        return
    assert decode_material_description(encode_material_description(decoded)) == decoded
