"""Plain Python values <-> DynamoDB JSON (the resource-style item functions)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from _strategies import canonical_number, number_texts
from hypothesis import given
from hypothesis import strategies as st

from pynamodb_encryption.core._codec import CodecError
from pynamodb_encryption.core._python_values import from_ddb, from_ddb_item, to_ddb, to_ddb_item


@pytest.mark.parametrize(
    ("python", "ddb"),
    [
        (None, {"NULL": True}),
        (True, {"BOOL": True}),
        (False, {"BOOL": False}),
        ("text", {"S": "text"}),
        ("", {"S": ""}),
        (0, {"N": "0"}),
        (-17, {"N": "-17"}),
        (10**37, {"N": "1" + "0" * 37}),
        (Decimal("1.50"), {"N": "1.5"}),
        (Decimal("1E+3"), {"N": "1000"}),
        (Decimal("-0"), {"N": "0"}),
        (b"\x00\xff", {"B": b"\x00\xff"}),
        (bytearray(b"ab"), {"B": b"ab"}),
        ([1, "a"], {"L": [{"N": "1"}, {"S": "a"}]}),
        ((1,), {"L": [{"N": "1"}]}),
        ({"k": None}, {"M": {"k": {"NULL": True}}}),
        ({"a"}, {"SS": ["a"]}),
        ({b"a"}, {"BS": [b"a"]}),
        (frozenset({Decimal("2.0")}), {"NS": ["2"]}),
    ],
)
def test_to_ddb(python: Any, ddb: dict[str, Any]) -> None:
    assert to_ddb(python) == ddb


def test_bool_is_not_a_number() -> None:
    assert to_ddb(True) == {"BOOL": True}
    with pytest.raises(CodecError):
        to_ddb({True, 2})


@pytest.mark.parametrize(
    "value",
    [
        1.5,
        float("nan"),
        Decimal("NaN"),
        Decimal("Infinity"),
        set(),
        {"a", 1},
        {1, b"a"},
        object(),
        {1: "non-string key"},
        [1.0],
    ],
)
def test_unsupported_values(value: Any) -> None:
    with pytest.raises(CodecError):
        to_ddb(value)


def test_unsupported_item() -> None:
    with pytest.raises(CodecError):
        to_ddb_item([("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(CodecError):
        to_ddb_item({1: "x"})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("ddb", "python"),
    [
        ({"NULL": True}, None),
        ({"N": "1.50"}, Decimal("1.50")),
        ({"SS": ["a", "b"]}, {"a", "b"}),
        ({"NS": ["1", "2"]}, {Decimal(1), Decimal(2)}),
        ({"BS": [b"x"]}, {b"x"}),
        ({"L": [{"B": bytearray(b"x")}]}, [b"x"]),
        ({"M": {"a": {"BOOL": False}}}, {"a": False}),
    ],
)
def test_from_ddb(ddb: dict[str, Any], python: Any) -> None:
    assert from_ddb(ddb) == python


@pytest.mark.parametrize("value", [{}, {"X": 1}, {"S": "a", "N": "1"}, "S"])
def test_from_ddb_rejects_non_values(value: Any) -> None:
    with pytest.raises(CodecError):
        from_ddb(value)


python_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.text(max_size=8),
        st.integers(-(10**37), 10**37),
        number_texts().map(Decimal),
        st.binary(max_size=8),
        st.frozensets(st.text(max_size=4), min_size=1, max_size=3),
        st.frozensets(st.integers(-1000, 1000), min_size=1, max_size=3),
        st.frozensets(st.binary(max_size=4), min_size=1, max_size=3),
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=3), st.dictionaries(st.text(max_size=4), c, max_size=3)
    ),
    max_leaves=10,
)


@given(st.dictionaries(st.text(max_size=6), python_values, max_size=5))
def test_round_trip_keeps_every_value(item: dict[str, Any]) -> None:
    back = from_ddb_item(to_ddb_item(item))
    assert back == item  # Decimal == int, frozenset == set, exact digits


@given(number_texts())
def test_decimal_numbers_keep_all_digits(text: str) -> None:
    ddb = to_ddb(Decimal(text))
    assert ddb == {"N": canonical_number(text)}
    assert from_ddb(ddb) == Decimal(text)
