"""The attribute serialization: fixed bytes from the wire-format notes, normalization, round
trips, the Java/Python dialects and malformed input."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest
from _strategies import (
    any_number_texts,
    canonical,
    canonical_number,
    ddb_values,
    number_texts,
    texts,
    tricky_names,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from pynamodb_encryption.core._codec import (
    CodecError,
    Dialect,
    deserialize,
    dialect_sensitive,
    normalize_number,
    serialize,
    sort_names,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# -------------------------------------------------------------------------------------------
# Fixed bytes (wire-format notes §2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"NULL": True}, "0000"),
        ({"BOOL": True}, "003f01"),
        ({"BOOL": False}, "003f00"),
        ({"N": "55.00"}, "006e 00000002 3535"),
        ({"S": "hi"}, "0073 00000002 6869"),
        ({"S": ""}, "0073 00000000"),
        ({"B": b"\x00\x01"}, "0062 00000002 0001"),
        (
            {"BS": [b"an ascii byte string", b"\x00\x01\x02\x03"]},
            "0042 00000002 00000004 00010203 00000014" + b"an ascii byte string".hex(),
        ),
        (
            {"NS": ["55.2", "34", "35.0", "1.230"]},
            "004e 00000004 00000004"
            + b"1.23".hex()
            + "00000002"
            + b"34".hex()
            + "00000002"
            + b"35".hex()
            + "00000004"
            + b"55.2".hex(),
        ),
        ({"L": []}, "004c 00000000"),
        ({"M": {}}, "004d 00000000"),
        ({"SS": []}, "0053 00000000"),
    ],
)
def test_fixed_serializations(value: dict[str, Any], expected: str) -> None:
    assert serialize(value) == h(expected)


def test_map_example_from_the_notes() -> None:
    value = {
        "M": {
            "one thing": {"NULL": True},
            "maybe a bool?": {"BOOL": False},
            "and a list too": {
                "L": [{"N": "55.34"}, {"B": b"an ascii byte string"}, {"S": "test ascii string"}]
            },
        }
    }
    data = serialize(value)
    assert len(data) == 131
    assert data[:6] == h("004d 00000003")
    # Entries sorted by key: "and..." < "maybe..." < "one...".
    assert data.index(b"and a list too") < data.index(b"maybe a bool?") < data.index(b"one thing")
    assert deserialize(data) == value


def test_number_set_bytes_do_not_depend_on_input_order() -> None:
    members = ["55.2", "34", "35.0", "1.230", "-3", "-34.2", "0", "7.6"]
    expected = serialize({"NS": members})
    for seed in range(5):
        shuffled = members[:]
        random.Random(seed).shuffle(shuffled)
        assert serialize({"NS": shuffled}) == expected
    # Sorted as text after normalizing: "-3" < "-34.2" < "0" < ...
    decoded = deserialize(expected)["NS"]
    assert decoded == ["-3", "-34.2", "0", "1.23", "34", "35", "55.2", "7.6"]


# -------------------------------------------------------------------------------------------
# Numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1E+3", "1000"),
        ("-1.2300E-2", "-0.0123"),
        ("+5", "5"),
        (".5", "0.5"),
        ("5.", "5"),
        ("007", "7"),
        ("0.00", "0"),
        ("-0", "0"),
        ("-0.000", "0"),
        ("0E+10", "0"),
        ("1E-130", "0." + "0" * 129 + "1"),
        ("9.99E+125", "999" + "0" * 123),
        ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
        ("-1234567890123456789012345678901234567.8", "-1234567890123456789012345678901234567.8"),
        ("10000000000000000000000000000000000000000000", "1" + "0" * 43),
        ("1.000000000000000000000000000000000000000000", "1"),
    ],
)
def test_normalize_number(text: str, expected: str) -> None:
    assert normalize_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", " 1", "1 ", "NaN", "Infinity", "-inf", "1e", "e5", "1.2.3", "0x10", "--1", "1,5", "٣"],
)
def test_invalid_numbers_are_rejected(text: str) -> None:
    with pytest.raises(CodecError):
        normalize_number(text)
    with pytest.raises(CodecError):
        serialize({"N": text})


def test_more_than_38_significant_digits_is_rejected() -> None:
    with pytest.raises(CodecError, match="38"):
        normalize_number("1" * 39)
    with pytest.raises(CodecError):
        serialize({"NS": ["1", "1234567890123456789012345678901234567.89"]})


@pytest.mark.parametrize("value", [5, 5.0, Decimal(5), None, b"5"])
def test_non_text_numbers_are_codec_errors(value: object) -> None:
    with pytest.raises(CodecError):
        serialize({"N": value})
    with pytest.raises(CodecError):
        serialize({"NS": [value]})


@given(any_number_texts)
def test_normalize_matches_an_exact_decimal_oracle(text: str) -> None:
    normalized = normalize_number(text)
    assert normalized == canonical_number(text)
    assert Decimal(normalized) == Decimal(text)  # no digit lost, ever
    assert normalize_number(normalized) == normalized
    assert "E" not in normalized
    assert "e" not in normalized


@given(number_texts(max_digits=38))
def test_38_digit_numbers_survive_a_round_trip(text: str) -> None:
    decoded = deserialize(serialize({"N": text}))
    assert Decimal(decoded["N"]) == Decimal(text)


# -------------------------------------------------------------------------------------------
# Round trips


@given(ddb_values())
def test_serialize_deserialize_round_trip_is_canonical(value: dict[str, Any]) -> None:
    data = serialize(value)
    decoded = deserialize(data)
    assert decoded == canonical(value)
    # The canonical form is a fixed point: same bytes again.
    assert serialize(decoded) == data


@given(ddb_values(), st.randoms(use_true_random=False))
def test_serialization_ignores_set_and_map_order(value: dict[str, Any], rnd: random.Random) -> None:
    def shuffle(v: dict[str, Any]) -> dict[str, Any]:
        ((tag, inner),) = v.items()
        if tag in ("SS", "NS", "BS"):
            members = list(inner)
            rnd.shuffle(members)
            return {tag: members}
        if tag == "L":
            return {"L": [shuffle(x) for x in inner]}
        if tag == "M":
            entries = list(inner.items())
            rnd.shuffle(entries)
            return {"M": {k: shuffle(x) for k, x in entries}}
        return v

    assert serialize(shuffle(value)) == serialize(value)


@given(st.text(min_size=0, max_size=30))
def test_unicode_strings_round_trip(text: str) -> None:
    data = serialize({"S": text})
    assert data[6:] == text.encode("utf-8")
    assert deserialize(data) == {"S": text}


def test_serialize_accepts_bytearray_and_tuples() -> None:
    assert serialize({"B": bytearray(b"ab")}) == serialize({"B": b"ab"})
    assert serialize({"L": ({"S": "a"},)}) == serialize({"L": [{"S": "a"}]})
    assert serialize({"BS": {b"a", b"b"}}) == serialize({"BS": [b"b", b"a"]})


# -------------------------------------------------------------------------------------------
# Bad values


@pytest.mark.parametrize(
    "value",
    [
        {},
        {"S": "a", "N": "1"},
        {"X": "1"},
        {"S": 1},
        {"S": b"a"},
        {"S": "\ud800"},
        {"B": "text"},
        {"BOOL": 1},
        {"BOOL": None},
        {"NULL": False},
        {"L": "abc"},
        {"L": [{"S": 1}]},
        {"M": [("a", {"S": "b"})]},
        {"M": {1: {"S": "b"}}},
        {"SS": "abc"},
        {"SS": [1]},
        {"BS": [1]},
        {"BS": b"abc"},
        {"NS": {"N": "1"}},
        "S",
        None,
    ],
)
def test_invalid_values_are_codec_errors(value: Any) -> None:
    with pytest.raises(CodecError):
        serialize(value)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "00",
        "0073",
        "0073 000000",
        "0073 00000005 6869",
        "0073 00000002 6869 00",  # trailing byte
        "0078 00000000",  # unknown tag
        "003f",
        "003f 02",
        "006e 00000001 78",  # "x" is not a number
        "006e 00000002 c3a9",  # not ASCII
        "0073 00000001 ff",  # not UTF-8
        "0053 00000002 00000001 61",  # fewer members than the count
        "004c 00000001",
        "004c ffffffff",
        "004d 00000001 006e 00000001 31 0000",  # map key is not a string
        "004d 00000001 0073 00000001 61",  # map value missing
        "0042 ffffffff",
    ],
)
def test_malformed_bytes_are_rejected(data: str) -> None:
    with pytest.raises(CodecError):
        deserialize(h(data))


def test_deep_nesting_is_rejected() -> None:
    data = b""
    for _ in range(200):
        data += h("004c 00000001")
    data += h("0000")
    with pytest.raises(CodecError):
        deserialize(data)


# -------------------------------------------------------------------------------------------
# Dialects: what the Python reference and the Java library write


def test_python_legacy_refuses_to_round_and_keeps_negative_zero() -> None:
    """The reference rounds to 28 digits before signing; a fallback that did the same would
    leave digits past the 28th unprotected, so the legacy dialect refuses such numbers."""
    long = "12345678901234567890123456789012345678"
    with pytest.raises(CodecError):
        serialize({"N": long}, Dialect.PYTHON_LEGACY)
    with pytest.raises(CodecError):
        serialize({"NS": ["1", "1." + "0" * 27 + "1"]}, Dialect.PYTHON_LEGACY)
    assert serialize({"N": "1" * 28}, Dialect.PYTHON_LEGACY)[6:] == b"1" * 28
    assert serialize({"N": long})[6:] == long.encode()
    assert serialize({"N": long}, Dialect.JAVA)[6:] == long.encode()
    assert serialize({"N": "-0"}, Dialect.PYTHON_LEGACY)[6:] == b"-0"
    assert serialize({"N": "-0"}, Dialect.JAVA)[6:] == b"0"
    assert serialize({"N": "-0"})[6:] == b"0"


def test_java_orders_binary_sets_by_signed_bytes() -> None:
    value = {"BS": [b"\x01", b"\xff\x00", b"\x80"]}
    assert serialize(value) == h("0042 00000003 00000001 01 00000001 80 00000002 ff00")
    assert serialize(value, Dialect.JAVA) == h(
        "0042 00000003 00000001 80 00000002 ff00 00000001 01"
    )


def test_java_orders_strings_by_utf16_code_units() -> None:
    emoji, fullwidth = "\U0001f600", "\uff5e"
    canonical_bytes = serialize({"SS": [emoji, fullwidth]})
    java_bytes = serialize({"SS": [emoji, fullwidth]}, Dialect.JAVA)
    # Code points: U+FF5E < U+1F600. UTF-16: D83D (high surrogate) < FF5E.
    assert canonical_bytes.index(fullwidth.encode()) < canonical_bytes.index(emoji.encode())
    assert java_bytes.index(emoji.encode()) < java_bytes.index(fullwidth.encode())
    value = {"M": {emoji: {"NULL": True}, fullwidth: {"NULL": True}}}
    canonical_map = serialize(value)
    java_map = serialize(value, Dialect.JAVA)
    assert canonical_map.index(fullwidth.encode()) < canonical_map.index(emoji.encode())
    assert java_map.index(emoji.encode()) < java_map.index(fullwidth.encode())
    # Both read back to the same value.
    assert deserialize(canonical_map) == deserialize(java_map)
    assert sort_names([emoji, fullwidth], Dialect.CANONICAL) == [fullwidth, emoji]
    assert sort_names([emoji, fullwidth], Dialect.JAVA) == [emoji, fullwidth]


def _other(value: dict[str, Any], dialect: Dialect) -> bytes | None:
    """The dialect's bytes, or None where it refuses the value (legacy rounding)."""
    try:
        return serialize(value, dialect)
    except CodecError:
        return None


@given(ddb_values())
def test_dialect_screen_never_misses_a_difference(value: dict[str, Any]) -> None:
    """The verifier only retries other dialects when dialect_sensitive() says so: it must be
    true whenever some dialect gives other bytes."""
    canonical_bytes = serialize(value)
    differs = any(_other(value, d) not in (None, canonical_bytes) for d in Dialect)
    if differs:
        assert dialect_sensitive(value)


@given(
    st.recursive(
        st.one_of(
            st.lists(tricky_names, min_size=1, max_size=4, unique=True).map(lambda v: {"SS": v}),
            st.lists(st.binary(min_size=1, max_size=3), min_size=1, max_size=4, unique=True).map(
                lambda v: {"BS": v}
            ),
            st.sampled_from(["-0", "0", "1" * 30, "-0.0", "12"]).map(lambda n: {"N": n}),
        ),
        lambda c: st.dictionaries(tricky_names, c, max_size=3).map(lambda v: {"M": v}),
        max_leaves=6,
    )
)
def test_dialect_screen_on_values_built_to_differ(value: dict[str, Any]) -> None:
    canonical_bytes = serialize(value)
    if any(_other(value, d) not in (None, canonical_bytes) for d in Dialect):
        assert dialect_sensitive(value)
    # Every dialect's bytes read back to the same canonical value (up to legacy rounding).
    for dialect in (Dialect.CANONICAL, Dialect.JAVA):
        assert deserialize(serialize(value, dialect)) == deserialize(canonical_bytes)


@settings(max_examples=50)
@given(st.lists(texts, min_size=1, max_size=6, unique=True))
def test_sort_names_canonical_is_code_point_order(names: list[str]) -> None:
    assert sort_names(names, Dialect.CANONICAL) == sorted(names, key=lambda s: s.encode())
    assert sort_names(names, Dialect.JAVA) == sorted(
        names, key=lambda s: s.encode("utf-16-be", "surrogatepass")
    )


@pytest.mark.parametrize("text", ["1E999999999", "-1E-999999999", "1E126", "1E-131"])
def test_numbers_outside_dynamodb_range_are_refused_without_expanding(text: str) -> None:
    """A huge exponent must fail fast: verification serializes signed numbers before the
    signature can fail, so expanding 1E999999999 would be a denial of service."""
    with pytest.raises(CodecError):
        normalize_number(text)
    with pytest.raises(CodecError):
        serialize({"NS": ["1", text]})


def test_numbers_at_the_edges_of_dynamodb_range_are_kept() -> None:
    assert normalize_number("9.9999999999999999999999999999999999999E+125").startswith("99999")
    assert normalize_number("1E-130") == "0." + "0" * 129 + "1"
